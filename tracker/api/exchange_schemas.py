"""Schemas of the exchange with the other side (a module of their own to keep schemas.py readable)."""

from apiflask import Schema, fields
from apiflask.validators import Length, Regexp

from ..http.fields import UTC, Text
from ..models import ExchangeState, MessageDirection, Precedence
from ..services.exchanges.exchanges import KIND, TEXT_MAX_LENGTH, next_states, seconds_left
from ..timeutil import utcnow
from .schemas import ID

TEXT = Length(max=TEXT_MAX_LENGTH)
TEXT_NOTE = f"up to {TEXT_MAX_LENGTH} characters; checked against what may be released to the other side"


class ExchangeOpenIn(Schema):
    channel_id = fields.Integer(
        strict=True, required=True, validate=ID, metadata={"description": "an active counterpart line"}
    )
    text = Text(
        allow_none=True,
        validate=TEXT,
        metadata={"description": f"the notice sent to the other side at once; {TEXT_NOTE}"},
    )


class ExchangeTransitionIn(Schema):
    state = fields.Enum(
        ExchangeState,
        by_value=True,
        required=True,
        metadata={"description": "the next state; overdue is set by the engine only"},
    )
    text = Text(
        allow_none=True,
        validate=TEXT,
        metadata={
            "description": "required when we send (explanation_requested, meeting_requested); what the other "
            "side said for receipt_confirmed, reply_received, refused, meeting_held; a note otherwise. " + TEXT_NOTE
        },
    )
    version = fields.Integer(
        strict=True, validate=ID, metadata={"description": "the version you read: 409 if the exchange changed since"}
    )


class ExchangeMessageIn(Schema):
    direction = fields.Enum(
        MessageDirection, by_value=True, required=True, metadata={"description": "out: sent to them; in: from them"}
    )
    kind = Text(
        load_default="message",
        validate=Regexp(KIND.pattern, error="letters and _ only, up to 32"),
        metadata={"examples": ["message", "reply"]},
    )
    text = Text(required=True, validate=Length(min=1, max=TEXT_MAX_LENGTH), metadata={"description": TEXT_NOTE})


class ExchangeQuery(Schema):
    open = fields.Boolean(metadata={"description": "true: open exchanges only; false: closed only; omit: all"})


class ExchangeMessageOut(Schema):
    id = fields.Integer()
    direction = fields.Enum(MessageDirection, by_value=True)
    kind = fields.String()
    text = fields.String()
    text_second = fields.String(allow_none=True, metadata={"description": "the same text in the line's language"})
    language = fields.String(allow_none=True)
    at = UTC()
    channel = fields.Function(lambda m: m.channel.name, metadata={"type": "string"})
    recorded_by = fields.String()


class ExchangeMessageEntryOut(ExchangeMessageOut):
    """ExchangeMessageOut as nested in ExchangeDetailOut (see schemas.TimelineEntryOut for why)."""


class ExchangeOut(Schema):
    id = fields.Integer()
    incident = fields.String(attribute="incident.reference", metadata={"examples": ["INC-2026-00042"]})
    precedence = fields.Enum(Precedence, by_value=True, attribute="incident.precedence")
    channel_id = fields.Integer()
    channel = fields.String(attribute="channel_name")
    counterpart = fields.String(attribute="channel.counterpart")
    state = fields.Enum(ExchangeState, by_value=True)
    version = fields.Integer()
    opened_at = UTC()
    opened_by = fields.Function(
        lambda x: x.opened_by.username if x.opened_by else None, metadata={"type": ["string", "null"]}
    )
    state_changed_at = UTC()
    reply_seconds = fields.Integer(metadata={"description": "deadline of a reply, copied from the line"})
    meeting_seconds = fields.Integer(metadata={"description": "deadline of a meeting, copied from the line"})
    language = fields.String(allow_none=True)
    deadline_at = UTC(allow_none=True, metadata={"description": "when the running clock runs out"})
    deadline_kind = fields.String(allow_none=True, metadata={"description": "reply or meeting"})
    seconds_left = fields.Function(
        lambda x: seconds_left(x, utcnow()),
        metadata={"type": ["integer", "null"], "description": "until the clock runs out (negative: due)"},
    )
    overdue_count = fields.Integer(metadata={"description": "how often the other side let a deadline pass"})
    closed_at = UTC(allow_none=True)
    outcome = fields.String(allow_none=True)
    next_states = fields.Function(
        lambda x: [s.value for s in next_states(x)],
        metadata={"type": "array", "items": {"type": "string"}, "description": "what a person may choose now"},
    )


class ExchangeDetailOut(ExchangeOut):
    messages = fields.List(fields.Nested(ExchangeMessageEntryOut), metadata={"description": "oldest first"})
