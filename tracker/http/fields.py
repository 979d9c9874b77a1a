"""Marshmallow fields for the tracker's own formats, and the base of every query string's schema."""

import re
from datetime import datetime

from apiflask import Schema, fields
from marshmallow import ValidationError, pre_load, validates_schema
from marshmallow.validate import Regexp, Validator

from ..geo import plain, plain_values
from ..numbers import read_whole
from ..services.incidents.routing import category_problem
from ..text import breaks_read, masked_in, name_problem, problem
from ..timeutil import in_range, isoformat, parse_due, parse_moment, parse_recent, utcnow

# ASCII digits only (\d also matches other scripts' digits): the rest goes on to Moment, which names them.
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")


class Text(fields.String):
    """A string the database can keep: no NUL (PostgreSQL cannot store it) and no lone surrogate
    (neither engine can; in a JSON column it would break every page that shows it), refused here
    as a 422 naming the field rather than by the database as a 500; nor a control character other than
    a line break or tab, nor a bidirectional control, which shows a text reordered (tracker.text.problem).
    Every string of a request schema is a Text (tests/functional/test_input_validity.py holds them to it).
    as_kept: a fact an amendment may send back as it is kept, which may hold a bidirectional control kept before
    they were refused: the service refuses one only in a fact it changes (amended_columns)."""

    def __init__(self, *, as_kept: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.as_kept = as_kept

    def _deserialize(self, value, attr, data, **kwargs):
        text = breaks_read(super()._deserialize(value, attr, data, **kwargs))
        if found := problem(text, bidi=not self.as_kept):
            raise ValidationError(found)
        return text


class _AnyCaseOf(Validator):
    """One of the words, read after Word folded the case, refused as OneOf refuses; not OneOf, which apispec
    writes as an enum of the lower-case words only."""

    def __init__(self, words: tuple[str, ...]):
        self.words = words

    def __call__(self, value):
        if value not in self.words:
            raise ValidationError(f"Must be one of: {', '.join(self.words)}.")
        return value


class Word(Text):
    """One of a few lower-case words (a unit: m, ft, nm), read in any case and kept and answered as the word
    itself: "NM" is how ICAO and a pilot write nautical miles, and was refused where "nm" is the documented value.
    Only ASCII letters are folded, so no other script's letter reads as one of them. The OpenAPI document gives
    the words as a pattern in any case (an enum of the lower-case words made a client that validates against it
    refuse the README's own "NM")."""

    def __init__(self, words, **kwargs):
        self.words = tuple(words)
        kwargs.setdefault("validate", _AnyCaseOf(self.words))
        either = "|".join(
            "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else re.escape(c) for c in w) for w in self.words
        )
        kwargs.setdefault("metadata", {})
        kwargs["metadata"].setdefault("pattern", f"^(?:{either})$")
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        return text.lower() if text.isascii() and text.lower() in self.words else text


class Pattern(Regexp):
    """A regular expression the whole value must match. Marshmallow's Regexp looks for a match at the
    start, and `$` also matches before a final line break: "reply\\n" passed for a kind of message and
    "ru\\n" for a language, and were kept. The pattern stays as written for the OpenAPI document."""

    def __call__(self, value):  # typed as Regexp's (overloads: str -> str, bytes -> bytes)
        if self.regex.fullmatch(value) is None:
            raise ValidationError(self._format_error(value))
        return value


class Name(Text):
    """A Text that is one line, as a name, unit, nationality or state is: no control characters (line
    breaks, tabs) nor bidirectional controls, which would break a mail header or a log line, or show
    the name reversed on a page (tracker.text.name_problem)."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if found := name_problem(text, bidi=not self.as_kept):
            raise ValidationError(found)
        return text


# How a RecentMoment may be written, for the API's documentation.
RECENT = (
    "ISO 8601 with a zone (2017-12-06T16:20:00Z), a date-time group (061620ZDEC17), or a Zulu time alone (1620Z) "
    "or with its day (061620Z): the latest such moment"
)


class Moment(Text):
    """A time given as ISO 8601 with a zone or as a military date-time group; an aware UTC datetime."""

    def __init__(self, **kwargs):
        kwargs.setdefault("metadata", {})
        kwargs["metadata"].setdefault(
            "description", "ISO 8601 with a zone (2017-12-06T16:20:00Z) or a date-time group (061620ZDEC17)"
        )
        kwargs["metadata"].setdefault("examples", ["2026-11-27T14:05:00Z", "271405ZNOV26"])
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return parse_moment(text)
        except ValueError as exc:  # not a time, or one outside what the tracker handles (timeutil.EARLIEST)
            raise ValidationError(str(exc)) from None


class RecentMoment(Moment):
    """A moment as Moment takes it, or a Zulu time alone (0027Z) or with its day (060027Z), read as the latest
    such moment by now (timeutil.parse_recent): a time of the last days, as the pages take one (a watch log line
    written later, when an incident occurred, a call's start and end, a message or a receipt received)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("metadata", {})
        kwargs["metadata"].setdefault("description", RECENT)
        kwargs["metadata"].setdefault("examples", ["2026-11-27T14:05:00Z", "271405ZNOV26", "1405Z", "271405Z"])
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = Text._deserialize(self, value, attr, data, **kwargs)
        try:
            return parse_recent(text, utcnow())
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


class DueMoment(Moment):
    """A moment as Moment takes it, or a Zulu time alone (1800Z) or with its day (071800Z), left for the service to
    place (timeutil.parse_due, ZuluTime): an action's due time said on a call is the first such moment from the
    call's start, which the field does not know."""

    def __init__(self, **kwargs):
        kwargs.setdefault("metadata", {})
        kwargs["metadata"].setdefault("examples", ["2026-11-27T18:00:00Z", "271800ZNOV26", "1800Z", "271800Z"])
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = Text._deserialize(self, value, attr, data, **kwargs)
        try:
            return parse_due(text)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


class Bound(Moment):
    """A moment (ISO 8601 with a zone, or a DTG), or a plain date meaning its 00:00Z: the bounds of the
    reports and of the incident list, so that a desk gives both the same dates."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str) and _DATE.match(value.strip()):
            try:
                return in_range(datetime.fromisoformat(f"{value.strip()}T00:00:00+00:00"))
            except ValueError as exc:
                raise ValidationError(f"not a date: {exc}") from None
        try:
            return super()._deserialize(value, attr, data, **kwargs)
        except ValidationError as error:  # the three forms a bound takes, the date first
            said = "; ".join(str(m) for m in error.messages) if isinstance(error.messages, list) else str(error)
            raise ValidationError(
                said.replace("expected ISO 8601", "expected a date (2026-11-27), ISO 8601", 1)
            ) from None


class Number(fields.Float):
    """A number in a JSON body, written as JSON writes one: a string ("54.1") is refused (422) rather than
    read as a number, as the strict integers of the request schemas refuse "3" (booleans never pass).
    Every float and integer a JSON body carries is held to it (tests/functional/test_input_validity.py)."""

    def _validated(self, value):
        if isinstance(value, str):
            raise self.make_error("invalid", input=value)
        return super()._validated(value)


class Coordinate(Number):
    """A latitude or longitude in a JSON body: a Number whose -0.0 is read as 0.0 (geo.plain), as a typed
    "-0" is, so no position is stored or shown as -0. Every coordinate a JSON body carries is one."""

    def _validated(self, value):
        number = super()._validated(value)
        return plain(number) if number is not None else None


class EventDetails(fields.Dict):
    """A timeline event's details with every -0.0 in them served as 0.0 (geo.plain_values) and every text masked
    (text.masked_in): events are never rewritten (the audit chain seals them as stored), one recorded before
    migration 0027 keeps a -0 position that the pages show as 0, and a dead letter recorded before a receiver's
    answer was masked keeps the signed link it quoted in its "error", which the pages show masked."""

    def _serialize(self, value, attr, obj, **kwargs):
        return super()._serialize(plain_values(masked_in(value)), attr, obj, **kwargs)


class Count(fields.Integer):
    """A whole number in a query string (a page, a year, an id): ASCII digits with an optional sign, as
    numbers.read_whole reads them. Marshmallow's Integer reads text with int(), which takes "٥" or "５" for
    5 and "1_0" for 10. Every integer a query string carries is a Count (tests/functional/test_input_validity.py)."""

    def _validated(self, value):
        if isinstance(value, str):
            try:
                value = read_whole(value)
            except ValueError as exc:
                raise ValidationError(str(exc)) from None
        return super()._validated(value)


class Flag(fields.Boolean):
    """A true or false in a JSON body, written as JSON writes one: "yes", "0", "off" or 1 is refused (422)
    rather than read as marshmallow reads them (a "false" typed as text is no false to guess from). Query
    strings and forms carry text and keep Boolean. Every boolean a JSON body carries is a Flag
    (tests/functional/test_input_validity.py)."""

    default_error_messages = {"invalid": "give true or false (JSON's own, not text or a number)"}

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class Whole(fields.Nested):
    """A nested object read whole even when its parent is read in part (a PATCH loads its schema with
    partial=True, which marshmallow passes on to nested schemas): a ladder step given in a PATCH is a
    step with its required parts and defaults, else 422 - never a step missing its channels (a 500)."""

    def _deserialize(self, value, attr, data, partial=None, **kwargs):
        return super()._deserialize(value, attr, data, partial=False, **kwargs)


class UTC(fields.DateTime):
    """An aware datetime written as ISO 8601 in UTC with a Z."""

    def _serialize(self, value, attr, obj, **kwargs):
        return isoformat(value)


class Query(Schema):
    """A query string's schema. A parameter that takes one value, given twice (?domain=air&domain=land),
    is refused (422 naming it), not read as its first value with the rest dropped unsaid; so is one the
    operation does not have (?stauts=open, ?Domain=air), not ignored: either way the sender would get a
    list, report or export filtered otherwise than they asked. Lists repeat (?status=...)."""

    @pre_load
    def _parameters_as_declared(self, data, **kwargs):
        given = getattr(data, "data", data)  # webargs hands the MultiDict in a proxy; a page, a plain dict
        if not hasattr(given, "getlist"):
            return data
        repeatable: set[str] = getattr(data, "multiple_keys", set())
        named = {field.data_key or name for name, field in self.load_fields.items()}
        twice = {key for key in given if key in named and key not in repeatable and len(given.getlist(key)) > 1}
        problems = {key: ["given more than once; this parameter takes one value"] for key in twice}
        problems |= {key: ["not a parameter of this operation"] for key in given if key not in named}
        if problems:
            raise ValidationError(problems)
        return data


class DomainAndCategory(Schema):
    """A filter by domain and category (the incident list, the reports): a category that is not one of
    the domain's is refused as filing refuses it (422 naming the category and what the domain allows),
    rather than answered with nothing, which reads as "no such incidents"."""

    @validates_schema
    def _category_of_the_domain(self, data, **kwargs):
        domain, category = data.get("domain"), data.get("category")
        if domain is not None and category is not None and (found := category_problem(domain, category)):
            raise ValidationError(found, "category")


class Window(Schema):
    """A query's since and until (the incident list, the exercise register): until is exclusive, as the
    reports' to, so a window that closes before it opens is a mistake to say, not an empty list. So is one
    that closes as it opens where what it bounds happens at a moment (an incident): it holds nothing, and
    "total": 0 for since=2026-11-27&until=2026-11-27 read as "none that day". Where it bounds things that
    last (spans: an exercise runs from its start to its end), since equal to until asks which were running
    at that moment: the register answers it (still running at since, started by until)."""

    spans = False

    @validates_schema
    def _since_before_until(self, data, **kwargs):
        since, until = data.get("since"), data.get("until")
        if since is None or until is None:
            return
        if since > until:
            raise ValidationError("must not be earlier than since", "until")
        if since == until and not self.spans:
            raise ValidationError("must be later than since: until is exclusive (for one day, the next day)", "until")
