"""Marshmallow fields for the tracker's own formats."""

from apiflask import fields
from marshmallow import ValidationError

from ..text import problem
from ..timeutil import isoformat, parse_moment


class Text(fields.String):
    """A string the database can keep: no NUL (PostgreSQL cannot store it) and no lone surrogate
    (neither engine can; in a JSON column it would break every page that shows it), refused here
    as a 422 naming the field rather than by the database as a 500. Every string of a request
    schema is a Text (tests/functional/test_input_validity.py holds them to it)."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if found := problem(text):
            raise ValidationError(found)
        return text


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


class Number(fields.Float):
    """A number in a JSON body, written as JSON writes one: a string ("54.1") is refused (422) rather than
    read as a number, as the strict integers of the request schemas refuse "3" (booleans never pass).
    Every float and integer a JSON body carries is held to it (tests/functional/test_input_validity.py)."""

    def _validated(self, value):
        if isinstance(value, str):
            raise self.make_error("invalid", input=value)
        return super()._validated(value)


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
