"""The base of every form of the pages: Flask-WTF's, with the text rule of the API's fields.

Each text field (StringField and its kinds: text areas, hidden, password and e-mail fields) gets
one more validator when the form is built, so a NUL or a lone surrogate is refused beside the field
it was typed in, as the API refuses it by name (tracker.text, http.fields.Text); so are a text area's
bidirectional controls, which would show its lines reordered. A one-line field (every text field but a
text area or a password) also refuses control characters, as the API's names do (http.fields.Name): a
browser's one-line input holds no line break, so one there came from a crafted request or a paste, and
would break a mail header. A password is never shown: it keeps whatever can be stored.
A field shows a value as it is kept, bidirectional controls too (written as character references, which the
pages' markers leave be); its refusal names each control and where it stands, since the field hides them. A
field sent back as it is kept is held to no rule (as_kept): the amend form holds only the fields changed to it.
Its tabs are read as spaces: cells pasted from a spreadsheet arrive tab-separated (a NameField's are refused).
A menu (SelectField) is held to the one-line rule too: a menu whose choices are not checked (the officer of
a watch, a sector) passes on what the request sent, and a NUL there reached PostgreSQL (a 500).
WTForms' hook for this is Meta.bind_field, which sees every field of the form as it is built. A row
of a form (a FormField's form: a platform, an agreed action, a ladder step) is built with its own Meta,
not its parent's, so it is a SubForm, which has the same hook.
"""

import re
from collections.abc import Callable
from typing import cast

from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import (
    Field,
    FieldList,
    FileField,
    FloatField,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.meta import DefaultMeta
from wtforms.validators import Length, NumberRange, StopValidation, ValidationError

from .. import text
from ..http import bodies
from ..numbers import decimal_text, read_decimal, read_whole
from ..services.incidents.filing import too_long


class WholeNumberField(IntegerField):
    """An IntegerField read as numbers.read_whole reads: ASCII digits and a sign. WTForms reads with int(), which
    takes "٣٠٠" or "３００" for 300 and "1_000" for 1000. Every whole number of a page is one of these
    (tests/functional/test_form_numbers.py holds them to it)."""

    def process_formdata(self, valuelist):
        if valuelist:
            try:
                self.data = read_whole(valuelist[0])
            except ValueError as exc:
                self.data = None  # type: ignore[assignment]  # as WTForms leaves it: no number read
                raise ValueError(str(exc)) from None


class NumberField(FloatField):
    """A FloatField read as numbers.read_decimal reads: ASCII digits, a sign and a decimal point. WTForms reads
    with float(), which also takes "nan", "inf", "1e3" and the digits of other scripts."""

    def process_formdata(self, valuelist):
        if valuelist:
            try:
                self.data = read_decimal(valuelist[0])
            except ValueError as exc:
                self.data = None  # type: ignore[assignment]  # as WTForms leaves it: no number read
                raise ValueError(str(exc)) from None

    def _value(self) -> str:
        """As typed when the form comes back, else the number as it was given: FloatField wrote str(), so a
        vertical approach filed as 200 ft stood on the amend form as "200.0"."""
        if self.raw_data:
            return self.raw_data[0]
        number = cast("float | None", self.data)  # None when nothing was given
        return "" if number is None else decimal_text(number)


class NameField(StringField):
    """A one-line name whose tab is refused beside the field, as the API's names refuse it (http.fields.Name), not
    read as a space as another one-line field's is (a cell pasted from a spreadsheet): a watch's desk is found by
    its name, and "Duty<tab>desk" read as "Duty desk" started a watch at a desk the officer had not typed."""


class VersionField(HiddenField):
    """The version of the row the form was drawn from (an admin's edit names it: 409 when someone saved in
    between); none on a form that makes a row. A value that is no whole number is version 0, which no row has:
    refused as a stale form, never taken for "no version named", which would save over whatever is there."""

    def process_formdata(self, valuelist):
        if valuelist:
            try:
                self.data = read_whole(valuelist[0]) if valuelist[0].strip() else None
            except ValueError:
                self.data = 0

    def _value(self) -> str:
        return "" if self.data is None else str(self.data)


def whole_choice(value) -> int:
    """A select's value (or a choice's) as a whole number, as WholeNumberField reads one: coerce=int also read
    "١" as 1, so a select took another spelling of its choice."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if not isinstance(value, str):
        raise ValueError(f"not a whole number: {value!r}")
    return read_whole(value)


def rule_of(field: Field) -> Callable[[str], str | None] | None:
    """The text rule a field is held to: the one-line rule for a one-line field (any text field but a text
    area or a password, and a menu: what it sends is one line of the request's, whatever its choices), the
    text rule for a text area, the rule of what is never shown for a password, none for a field that holds
    no text."""
    if isinstance(field, PasswordField):
        return text.secret_problem
    if isinstance(field, TextAreaField):
        return text.problem
    if isinstance(field, StringField | SelectField):
        return text.name_problem
    return None


def keeps_to_its_rule(_form, field: Field) -> None:
    """Refuse what the field's text rule refuses (a WTForms validator)."""
    rule = rule_of(field)
    if rule is not None and isinstance(field.data, str) and (found := rule(field.data)):
        raise ValidationError(f"This {found}.")


def as_kept(field: Field) -> None:
    """Hold a field, and each field of its rows, to no text rule: for a value sent back as it is kept, which is no
    new text and is not written again (an amend form's field left as shown: a text kept before bidirectional
    controls were refused stopped the amendment of every other fact)."""
    if isinstance(field, FieldList | FormField):
        for inner in field:
            as_kept(inner)
        return
    field.validators = [check for check in field.validators if check is not keeps_to_its_rule]


def tabs_as_spaces(value):
    """A one-line field's tabs as spaces (a WTForms filter): cells copied from a spreadsheet arrive
    tab-separated ("54.412<tab>22.871"), and in one line a tab is only a wider space."""
    return value.replace("\t", " ") if isinstance(value, str) else value


def breaks_read(value):
    """A text field's line breaks as other programs write them (Word's VT, FF, NEL) as line feeds (a WTForms
    filter): a narrative pasted from a report keeps its lines. A browser sends each line break of a text area
    as CR LF, yet counts it as one character against the box's maxlength (HTML's form submission): kept as
    two, a text that filled the box over several lines was refused as too long, here and by the services."""
    return text.breaks_read(value.replace("\r\n", "\n")) if isinstance(value, str) else value


class RowList(FieldList):
    """A FieldList (policy steps, platforms, agreed actions) whose rows are numbered in ASCII digits only.

    WTForms reads a row's number from the field names with str.isdigit(), which also takes "²" and
    "①", and then int() refuses them: "steps-²-ack_seconds" in a request was a 500. Such a name is
    no row of ours, as "steps-x-ack_seconds" is none; it is left out the same way.
    """

    def _extract_indices(self, prefix, formdata):
        offset, separator = len(prefix) + 1, self._field_separator
        ours = (name for name in formdata if not name.startswith(prefix) or name[offset:].split(separator)[0].isascii())
        return super()._extract_indices(prefix, ours)


# How a time of the last days may be typed (timeutil.parse_recent reads them all): the hint of every field that
# takes one, the watch log's, a call's start and end, a message from them, a receipt.
PAST_WHEN = "UTC: 0027Z, 060027Z, a DTG such as 271405ZNOV26 or ISO 8601"

# A record's version as a hidden field carries it back: ASCII digits only (str.isdigit() also takes "²",
# which int() refuses), short enough for the database's integer.
VERSION = re.compile(r"[0-9]{1,18}")


def version_of(field: Field) -> int | None:
    """The version a form's hidden field carried back, or None when what came is no version at all (an
    altered or cut-short form): never a ValueError, whatever the request holds."""
    return int(field.data) if isinstance(field.data, str) and VERSION.fullmatch(field.data) else None


# What an id column can hold (32-bit): a larger number names no row, and SQLite refuses to even compare it.
ID_MAX = 2**31 - 1


def id_of(value: object) -> int | None:
    """The row id a form field or query value carried (a hidden exchange id, ?exchange=), or None when it
    names none a row could have: never a ValueError or a database overflow, whatever the request holds."""
    if not isinstance(value, str) or not VERSION.fullmatch(value):
        return None
    number = int(value)
    return number if 0 < number <= ID_MAX else None


def refusal(field: Field) -> str | None:
    """What the field's text rule said about it, if it refused it, or how much too long it is (for a page that
    flashes it)."""
    rule = rule_of(field) or text.problem
    if isinstance(field.data, str) and (found := rule(field.data)):
        return f"{field.label.text}: this {found}."
    for check in field.validators:
        if isinstance(check, CountedLength) and isinstance(field.data, str) and len(field.data) > check.max >= 0:
            return f"{field.label.text}: {too_long(field.data, check.max)}."
    return None


def readable(_form, field: Field) -> None:
    """Stop at what could not be read (1e3 in a whole-number field): the rules after it would judge no value
    and say so as well, wrongly ("Number must be between 0 and 10000000.", "This field is required.")."""
    typed = field.raw_data and isinstance(field.raw_data[0], str) and field.raw_data[0].strip()
    if field.process_errors and typed:  # nothing typed: Optional() clears the error, DataRequired() says so
        raise StopValidation()


# An integer of more bits reaches 2**1023: above every range a field has, and near what a float cannot
# hold at all (sys.float_info.max is just under 2**1024).
FLOAT_BITS = 1023


def comparable(_form, field: Field) -> None:
    """Stop at a whole number too large for a float (400 digits typed into a count): WTForms' NumberRange
    compares it with math.isnan, whose OverflowError was a 500 on the filing, amending and admin forms.
    Said as the range rule would say it, beside the field."""
    data = field.data
    if isinstance(data, int) and not isinstance(data, bool) and data.bit_length() > FLOAT_BITS:
        ranges = [v for v in field.validators if isinstance(v, NumberRange)]
        low, high = (ranges[0].min, ranges[0].max) if ranges else (None, None)
        within = f" between {low} and {high}" if low is not None and high is not None else " smaller"
        raise StopValidation(f"Number must be{within}.")


class CountedLength(Length):
    """A text area's Length, drawn without maxlength and said by how much: the box's maxlength cut a paste of a
    longer report at the limit, without a word, and the end of it was filed lost; now the box takes it all and
    the refusal beside it says how many characters are too many (as the narrative's does)."""

    def __init__(self, min: int = -1, max: int = -1, message: str | None = None) -> None:  # noqa: A002  # as Length
        super().__init__(min, max, message)
        self.field_flags.pop("maxlength", None)

    def __call__(self, form, field) -> None:
        data = field.data if isinstance(field.data, str) else ""
        if self.max != -1 and len(data) > self.max and self.message is None:
            raise ValidationError(f"{too_long(data, self.max).capitalize()}.")
        super().__call__(form, field)


def counted(validators: list) -> list:
    """A text area's validators with each Length as a CountedLength."""
    return [CountedLength(v.min, v.max, v.message) if type(v) is Length else v for v in validators]


class TextRules(DefaultMeta):
    """The Meta that holds every text field of a form to the text rule (the validators and filter above), and
    takes a file only where the form has a file field."""

    def wrap_formdata(self, form, formdata):
        """The request's form (Flask-WTF's reading), refused (400) when it holds a file for a field that takes text
        (http.bodies.refuse_files_but). Form data a page hands over itself is read as given."""
        if isinstance(form, FlaskForm) and formdata is not None and not hasattr(formdata, "getlist"):
            if form.is_submitted():
                bodies.refuse_files_but({name for name, field in form._fields.items() if isinstance(field, FileField)})
        return super().wrap_formdata(form, formdata)

    def bind_field(self, form, unbound_field, options):
        field = super().bind_field(form, unbound_field, options)
        field.validators = [readable, comparable, *field.validators]
        if isinstance(field, TextAreaField):  # the field's flags were read from its validators as it was built
            field.validators = counted(field.validators)
            field.flags.__dict__.pop("maxlength", None)
        rule = rule_of(field)
        if rule is not None:
            field.validators = [*field.validators, keeps_to_its_rule]
        if rule is not None and not isinstance(field, SelectField):  # a menu's value is a choice, as sent
            field.filters = (*field.filters, breaks_read)
            if rule is text.name_problem and not isinstance(field, NameField):  # one line
                field.filters = (*field.filters, tabs_as_spaces)
        return field

    def render_field(self, field, render_kw):
        """Draw a hidden field (the CSRF token, a version, a one-time key) without an id, unless one is asked for:
        nothing labels or focuses it, and a page of several forms (the incident page, a call, a watch) repeated
        id="csrf_token" once a form, which HTML forbids (an id is a page's once). A field typed in (a name, a
        text area) is laid out by its own text (dir="auto": Arabic from the right) unless it names its language's."""
        if isinstance(field, HiddenField) and "id" not in (field.render_kw or {}):
            render_kw = {"id": False, **render_kw}
        elif _typed(field) and "dir" not in (field.render_kw or {}):
            render_kw = {"dir": "auto", **render_kw}
        drawn = super().render_field(field, render_kw)
        if isinstance(field, SelectField):  # a menu's words are read, not sent back: they get the pages' markers
            return drawn
        # A value kept before bidirectional controls were refused comes back as kept, not with the pages' visible
        # markers (tracker.text.shown), which sent back would replace the controls with their marker's letters.
        return Markup(text.as_references(drawn))


def _typed(field: Field) -> bool:
    """Whether a field is text a person types and reads back (a one-line field or a text area), not a password."""
    return isinstance(field, StringField) and not isinstance(field, HiddenField | PasswordField)


class TrackerForm(FlaskForm):
    """A Flask-WTF form (CSRF token and all) whose text fields keep only keepable text, and whose fields
    say only what could not be read when that is all there is to say."""

    class Meta(TextRules):
        pass


class SubForm(Form):
    """A row of a TrackerForm (the form of a FormField), held to the same rules; the form it is part of
    carries the CSRF token. A plain wtforms Form here kept a platform's callsign or an agreed action with
    a NUL, a line break or a terminal escape in it, which its parent's rules never saw."""

    class Meta(TextRules):
        pass
