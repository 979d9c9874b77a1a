"""Marshmallow fields for the tracker's own formats."""

from apiflask import fields
from marshmallow import ValidationError

from ..timeutil import isoformat, parse_moment


class Text(fields.String):
    """A string without NUL characters: PostgreSQL cannot store them in text (SQLite can), so
    they are refused here, as a 422 naming the field, rather than by the database as a 500."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if "\x00" in text:
            raise ValidationError("must not contain NUL characters")
        return text


class Moment(fields.String):
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
        except (ValueError, OverflowError) as exc:  # OverflowError: an offset pushes it past year 1 or 9999
            raise ValidationError(str(exc)) from None


class UTC(fields.DateTime):
    """An aware datetime written as ISO 8601 in UTC with a Z."""

    def _serialize(self, value, attr, obj, **kwargs):
        return isoformat(value)
