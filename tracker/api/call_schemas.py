"""Schemas of the call log (a module of their own to keep schemas.py readable)."""

from apiflask import Schema, fields
from apiflask.validators import Length, OneOf

from ..http.fields import RECENT, UTC, DueMoment, Flag, Name, Pattern, RecentMoment, Text
from ..models import CallDirection, ExchangeState
from ..services.exchanges import calls
from ..timeutil import utcnow
from .schemas import ID

# An action's due time: full forms, or a Zulu time without its date placed from the call's start.
DUE = (
    "ISO 8601 with a zone (2026-11-27T18:00:00Z), a date-time group (271800ZNOV26), or a Zulu time alone (1800Z) or "
    "with its day (271800Z): the first such moment from the call's start; not before the call started"
)
# A call's start and end, as the call's pages take them: a time of the last days, short forms too.
PAST = f"{RECENT}; back-timing is fine, the future is not"
MOVED_WITHOUT_APPROVAL = {
    "type": "boolean",
    "description": "true when the call moved its exchange to a request of ours (explanation, meeting): said on "
    "the call, approved by no second person (a written request needs one); the timeline says so too",
}
LANGUAGE = Pattern(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$", error="a language code such as ru or en-GB")


def _name(field: str, example: str) -> Text:
    return Text(validate=Length(max=calls.NAMES[field]), metadata={"examples": [example]})


class ActionIn(Schema):
    text = Name(
        required=True,
        validate=Length(min=1, max=calls.ACTION_MAX_LENGTH),
        metadata={"examples": ["Eastland to send the flight data of the aircraft"]},
    )
    party = Text(load_default="us", validate=OneOf(calls.PARTIES), metadata={"description": "who does it: us or them"})
    due_at = DueMoment(required=True, metadata={"description": f"when it is due; {DUE}"})


class CallFieldsIn(Schema):
    """What a call records besides its line: times, people, what was said, actions, a state moved."""

    started_at = RecentMoment(metadata={"description": f"default now (the call starts as it is logged); {PAST}"})
    ended_at = RecentMoment(metadata={"description": f"none while the call goes on; {PAST}; not before started_at"})
    our_speaker = _name("our_speaker", "Maj Lind, duty liaison officer")
    their_name = _name("their_name", "Orlov")
    their_rank = _name("their_rank", "Lt Col")
    their_post = _name("their_post", "duty officer, Eastland MoD")
    interpreter = _name("interpreter", "Sgt Berg")
    language = Text(allow_none=True, validate=LANGUAGE, metadata={"description": "the line's language by default"})
    we_said = Text(validate=Length(max=calls.TEXT_MAX_LENGTH))
    they_said = Text(validate=Length(max=calls.TEXT_MAX_LENGTH))
    actions = fields.List(
        fields.Nested(ActionIn),
        validate=Length(max=calls.MAX_ACTIONS),
        metadata={"description": "actions agreed on the call; each is a clock, overdue tells the supervisors"},
    )
    moves_to = fields.Enum(
        ExchangeState,
        by_value=True,
        metadata={"description": "the exchange state the call moved (their receipt, their reply, ...): only "
        "one allowed from the exchange's current state; the call's exchange must be given or open on the line. "
        "A request of ours (explanation_requested, meeting_requested) said on a call moves the exchange and is "
        "recorded as by call, not approved (moved_without_approval)"},
    )  # fmt: skip


class CallIn(CallFieldsIn):
    direction = fields.Enum(CallDirection, by_value=True, required=True)
    channel_id = fields.Integer(
        strict=True,
        validate=ID,
        metadata={"description": "the counterpart line; the exchange's when exchange_id is given"},
    )
    exchange_id = fields.Integer(strict=True, validate=ID, metadata={"description": "an exchange of this incident"})


class CallPatchIn(CallFieldsIn):
    end = Flag(load_default=False, metadata={"description": "true: the call ended now (unless ended_at)"})
    version = fields.Integer(strict=True, validate=ID, metadata={"description": "the version you read: 409 if changed"})


class ActionDoneIn(Schema):
    version = fields.Integer(strict=True, validate=ID, metadata={"description": "the version you read: 409 if changed"})


class ActionOut(Schema):
    id = fields.Integer()
    call_id = fields.Integer()
    text = fields.String()
    party = fields.String(metadata={"description": "us or them"})
    due_at = UTC()
    done_at = UTC(allow_none=True)
    done_by = fields.String(allow_none=True)
    overdue_at = UTC(allow_none=True, metadata={"description": "when the sweep found it past due (supervisors told)"})
    state = fields.Function(
        lambda a: calls.action_state(a, utcnow()), metadata={"type": "string", "enum": ["open", "overdue", "done"]}
    )
    version = fields.Integer()


class ActionEntryOut(ActionOut):
    """ActionOut as nested in CallOut (see schemas.TimelineEntryOut for why)."""


class CallOut(Schema):
    id = fields.Integer()
    incident = fields.String(attribute="incident.reference")
    exchange_id = fields.Integer(allow_none=True)
    channel_id = fields.Integer()
    channel = fields.String(attribute="channel.name")
    direction = fields.Enum(CallDirection, by_value=True)
    started_at = UTC()
    ended_at = UTC(allow_none=True)
    in_progress = fields.Function(lambda c: c.ended_at is None, metadata={"type": "boolean"})
    our_speaker = fields.String()
    their_name = fields.String()
    their_rank = fields.String()
    their_post = fields.String()
    interpreter = fields.String()
    language = fields.String(allow_none=True)
    we_said = fields.String()
    they_said = fields.String()
    moved_to = fields.Enum(ExchangeState, by_value=True, allow_none=True)
    moved_without_approval = fields.Function(calls.moved_without_approval, metadata=MOVED_WITHOUT_APPROVAL)
    recorded_by = fields.String()
    recorded_at = UTC()
    version = fields.Integer()
    actions = fields.List(fields.Nested(ActionEntryOut))
