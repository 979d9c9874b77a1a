"""Schemas of the exchange with the other side (a module of their own to keep schemas.py readable)."""

from apiflask import Schema, fields
from apiflask.validators import Length, OneOf

from ..http.fields import RECENT, UTC, Pattern, Query, RecentMoment, Text
from ..models import ExchangeState, MessageDirection, OutgoingStatus, Precedence
from ..services.exchanges.counterpart import needs_approval
from ..services.exchanges.exchanges import KIND, TEXT_MAX_LENGTH, next_states, seconds_left
from ..services.exchanges.receipts import LOGGED_VIA
from ..timeutil import utcnow
from .incident_out import exchange_reference, moved_by_call
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
        metadata={
            "description": "the notice to the other side, drafted: it goes out once a second person approved it "
            f"and someone sent it (POST /exchange-messages/<id>/approve, /send); {TEXT_NOTE}"
        },
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
            "description": "required when we send (explanation_requested, meeting_requested: drafted, and the "
            "exchange moves when it is approved and sent); what the other side said for receipt_confirmed, "
            "reply_received, refused, meeting_held; a note otherwise. " + TEXT_NOTE
        },
    )
    version = fields.Integer(
        strict=True, validate=ID, metadata={"description": "the version you read: 409 if the exchange changed since"}
    )
    via = Text(
        validate=OneOf(LOGGED_VIA),
        metadata={
            "description": "receipt_confirmed only: how they confirmed receipt ("
            + ", ".join(LOGGED_VIA)
            + "); left out, message when a text is given, else not said (receipt_via null)"
        },
    )


class ExchangeMessageIn(Schema):
    direction = fields.Enum(
        MessageDirection, by_value=True, required=True, metadata={"description": "out: sent to them; in: from them"}
    )
    kind = Text(
        load_default="message",
        validate=Pattern(KIND.pattern, error="letters and _ only, up to 32"),
        metadata={"examples": ["message", "reply"]},
    )
    text = Text(required=True, validate=Length(min=1, max=TEXT_MAX_LENGTH), metadata={"description": TEXT_NOTE})
    received_at = RecentMoment(
        metadata={
            "description": f"direction in only: when the other side's message was received, {RECENT}; not in the "
            "future nor before the incident occurred (default: now); it becomes the message's time, recorded_at "
            "says when it was typed in"
        }
    )


class ExchangeMessageEditIn(Schema):
    text = Text(validate=Length(min=1, max=TEXT_MAX_LENGTH), metadata={"description": "the new wording; " + TEXT_NOTE})
    text_second = Text(
        allow_none=True,
        validate=Length(min=1, max=TEXT_MAX_LENGTH),
        metadata={
            "description": "the same in the line's second language (lines with one only); null removes the "
            "translation (their part then gives the English as written, said to be so; 422 when there is none)"
        },
    )
    version = fields.Integer(
        strict=True, required=True, validate=ID, metadata={"description": "the message's version as you read it"}
    )


class ExchangeMessageApproveIn(Schema):
    version = fields.Integer(
        strict=True,
        required=True,
        validate=ID,
        metadata={"description": "the version whose wording you read: 409 if it changed since"},
    )


class ExchangeMessageSendIn(Schema):
    version = fields.Integer(
        strict=True, validate=ID, metadata={"description": "the version you read: 409 if it changed since"}
    )


class ExchangeQuery(Query):
    open = fields.Boolean(metadata={"description": "true: open exchanges only; false: closed only; omit: all"})
    reference = Text(
        validate=Length(min=1, max=40),
        metadata={
            "description": "the reference the other side quotes (NM-2026-0007): that exchange only, any case",
            "examples": ["NM-2026-0007"],
        },
    )


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
    recorded_at = UTC(allow_none=True, metadata={"description": "when it was put on record (at: sent or received)"})
    serial = fields.Integer(allow_none=True, metadata={"description": "per line and year, ours once sent"})
    serial_year = fields.Integer(allow_none=True)
    receipt_due_at = UTC(allow_none=True, metadata={"description": "when the other side's receipt is due"})
    receipt_at = UTC(allow_none=True, metadata={"description": "when they confirmed receipt"})
    receipt_by = fields.String(allow_none=True, metadata={"description": "who confirmed (a name or the line)"})
    receipt_via = fields.String(
        allow_none=True,
        metadata={"description": "link, call, message or voice; null with a receipt_at: how it came was not said"},
    )
    receipt_overdue_at = UTC(allow_none=True, metadata={"description": "when the receipt clock ran out"})
    # four eyes (ours): drafted, approved by a second person, sent
    exchange_id = fields.Integer()
    status = fields.Enum(
        OutgoingStatus, by_value=True, metadata={"description": "ours: draft, approved, sent; theirs: received"}
    )
    needs_approval = fields.Function(
        needs_approval,
        metadata={
            "type": "boolean",
            "description": "a draft, or approved on incident facts that changed since: a second person must approve",
        },
    )
    version = fields.Integer(metadata={"description": "name it to edit or approve (409 if it changed since)"})
    drafted_by = fields.String(allow_none=True)
    edited_by = fields.String(allow_none=True, metadata={"description": "who last reworded it (an author too)"})
    approved_by = fields.String(allow_none=True, metadata={"description": "a second person, never an author"})
    approved_at = UTC(allow_none=True)
    pending_state = fields.Enum(
        ExchangeState,
        by_value=True,
        allow_none=True,
        metadata={"description": "the state the exchange moves to once this message is sent"},
    )


class ReceiptIn(Schema):
    at = RecentMoment(metadata={"description": f"when they confirmed: {RECENT}; not in the future; default now"})
    by = Text(required=True, validate=Length(min=1, max=120), metadata={"examples": ["Lt Col Orlov, duty officer"]})
    via = Text(
        required=True,
        validate=OneOf(LOGGED_VIA),
        metadata={"description": "how it reached us: " + ", ".join(LOGGED_VIA)},
    )


class OurReceiptIn(Schema):
    message_id = fields.Integer(
        strict=True,
        required=True,
        validate=ID,
        metadata={"description": "the message the other side sent (direction in) whose receipt we confirm"},
    )


class ExchangeMessageEntryOut(ExchangeMessageOut):
    """ExchangeMessageOut as nested in ExchangeDetailOut (see schemas.TimelineEntryOut for why)."""


class ExchangeOut(Schema):
    id = fields.Integer()
    incident = fields.String(attribute="incident.reference", metadata={"examples": ["INC-2026-00042"]})
    reference = exchange_reference()
    precedence = fields.Enum(Precedence, by_value=True, attribute="incident.precedence")
    channel_id = fields.Integer()
    channel = fields.String(attribute="channel_name")
    counterpart = fields.String(attribute="channel.counterpart")
    state = fields.Enum(ExchangeState, by_value=True)
    moved_by_call = moved_by_call()
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
    deadline_kind = fields.String(
        allow_none=True,
        metadata={"description": "reply or meeting: the running clock's, or while overdue the one that ran out"},
    )
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
