"""Schemas of the watch log and handovers (a module of their own to keep schemas.py readable)."""

from apiflask import Schema, fields
from apiflask.validators import Length, Range
from flask import current_app
from sqlalchemy.orm import object_session

from ..http.fields import UTC, Name, Pattern, Query, RecentMoment, Text
from ..models import Watch
from ..services.watches import handover, log
from ..timeutil import isoformat

USERNAME = Length(min=1, max=64)
WHEN = (
    "ISO 8601 with a zone, a DTG, or a Zulu time alone (0027Z) or with its day (060027Z): the latest such moment;"
    " back-timing within the watch is fine, the future is not"
)
# The brief's times are stored as ISO 8601 strings already (String fields; allow_none adds the null).
TIME = {"format": "date-time"}


class WatchStartIn(Schema):
    desk = Name(
        validate=Length(max=log.DESK_MAX_LENGTH),
        metadata={"description": f"default “{log.DESK}”; one open watch per desk", "examples": ["Duty desk"]},
    )
    officer = Text(
        validate=USERNAME,
        metadata={"description": "who keeps it: yourself by default; someone else takes a supervisor or an admin"},
    )


class WatchQuery(Query):
    desk = Name(validate=Length(max=log.DESK_MAX_LENGTH))
    open = fields.Boolean(metadata={"description": "true: open watches only; false: ended ones only; omit: all"})


class WatchEntryIn(Schema):
    text = Text(
        required=True,
        validate=Length(min=1, max=log.ENTRY_MAX_LENGTH),
        metadata={"examples": ["Hotline test with Eastland MoD: clear both ways"]},
    )
    at = RecentMoment(metadata={"description": f"default now; {WHEN}"})
    incident = Text(
        allow_none=True,
        validate=Length(max=20),
        metadata={"description": "the reference of an incident the line is about (422 if there is none)"},
    )


class WatchEntryOut(Schema):
    id = fields.Integer()
    watch_id = fields.Integer()
    at = UTC()
    author = fields.String()
    text = fields.String()
    incident = fields.Function(
        lambda e: e.incident.reference if e.incident else None, metadata={"type": ["string", "null"]}
    )


class WatchLogEntryOut(WatchEntryOut):
    """WatchEntryOut as nested in WatchDetailOut (see schemas.TimelineEntryOut for why)."""


def _handover_id(watch: Watch, which: str) -> int | None:
    found = handover.handovers_of(object_session(watch), watch)[which]  # type: ignore[arg-type]
    return found.id if found is not None else None


class WatchOut(Schema):
    id = fields.Integer()
    desk = fields.String()
    officer = fields.String(attribute="officer.username")
    starts_at = UTC()
    ends_at = UTC(allow_none=True, metadata={"description": "set when the incoming officer signed the handover"})
    open = fields.Function(lambda w: w.ends_at is None, metadata={"type": "boolean"})
    relief_due_at = fields.Function(
        lambda w: isoformat(log.relief_due_at(w, current_app.config["WATCH_HOURS"])),
        metadata={
            "type": ["string", "null"],
            "format": "date-time",
            "description": "when an open watch is due to be relieved (WATCH_HOURS after it began); null once ended",
        },
    )


class WatchDetailOut(WatchOut):
    entries = fields.List(fields.Nested(WatchLogEntryOut), metadata={"description": "the watch log, in time order"})
    received_by_handover = fields.Function(
        lambda w: _handover_id(w, "received"),
        metadata={"type": ["integer", "null"], "description": "the handover whose signature started the watch"},
    )
    handover = fields.Function(
        lambda w: _handover_id(w, "given"),
        metadata={"type": ["integer", "null"], "description": "the handover of this watch: waiting or signed"},
    )


class HandoverIn(Schema):
    incoming = Text(required=True, validate=USERNAME, metadata={"description": "the officer taking over"})
    notes = Text(validate=Length(max=handover.NOTES_MAX_LENGTH), metadata={"description": "the outgoing notes"})


class HandoverRegenerateIn(Schema):
    incoming = Text(
        validate=USERNAME, metadata={"description": "another officer to take over (the outgoing side only)"}
    )


class HandoverNotesIn(Schema):
    notes = Text(required=True, validate=Length(max=handover.NOTES_MAX_LENGTH))


class HandoverSignIn(Schema):
    digest = Text(
        validate=Pattern(r"^[0-9a-f]{16}$", error="the handover's digest: 16 hexadecimal digits"),
        metadata={"description": "the digest of the handover you read: 409 if the brief or notes changed since"},
    )


# -- the brief (a stored snapshot: times are already ISO 8601 strings) ---------------------


class BriefIncidentOut(Schema):
    reference = fields.String()
    precedence = fields.String(metadata={"description": "Z, O, P or R"})
    precedence_name = fields.String(metadata={"examples": ["FLASH"]})
    status = fields.String(metadata={"enum": ["open", "exhausted", "acknowledged"]})
    domain = fields.String()
    category = fields.String()
    sector = fields.String(allow_none=True)
    occurred_at = fields.String(metadata=TIME)
    step = fields.Integer()
    steps = fields.Integer()
    step_channels = fields.List(fields.String())
    acknowledged_by = fields.String(allow_none=True)
    deadline_at = fields.String(allow_none=True, metadata=TIME)
    deadline = fields.String(allow_none=True, metadata={"description": "what happens at deadline_at"})


class BriefClockOut(Schema):
    at = fields.String(metadata=TIME)
    kind = fields.String(
        metadata={"enum": ["escalation", "decision", "acknowledgement_timeout", "agreed_action", "exchange", "receipt"]}
    )
    incident = fields.String(allow_none=True)
    what = fields.String()


class BriefLineOut(Schema):
    id = fields.Integer()
    name = fields.String()
    level = fields.Integer()
    counterpart_line = fields.Boolean()
    health = fields.String()
    problem = fields.String(metadata={"enum": ["down", "degraded", "never checked"]})
    last_check_at = fields.String(allow_none=True, metadata=TIME)
    last_check_ok_at = fields.String(allow_none=True, metadata=TIME)


class BriefExerciseOut(Schema):
    id = fields.Integer()
    name = fields.String()
    states = fields.List(fields.String())
    starts_at = fields.String(metadata=TIME)
    ends_at = fields.String(metadata=TIME)
    running = fields.Boolean()
    notified_via = fields.String()
    notified_at = fields.String(
        allow_none=True,
        metadata={
            **TIME,
            "description": "when the other side was told (ours: our first briefing); null: not on record",
        },
    )
    ours = fields.Boolean()


class BriefChangeOut(Schema):
    at = fields.String(metadata=TIME)
    incident = fields.String()
    kind = fields.String()
    actor = fields.String()
    said = fields.String()


class BriefChangesOut(Schema):
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(), metadata={"description": "events by kind"})
    events = fields.List(fields.Nested(BriefChangeOut), metadata={"description": "the latest, in time order"})
    more = fields.Integer(metadata={"description": "earlier events not listed"})


class BriefLogLineOut(Schema):
    id = fields.Integer()
    at = fields.String(metadata=TIME)
    author = fields.String()
    text = fields.String()
    incident = fields.String(allow_none=True)


class BriefOut(Schema):
    marking = fields.String(metadata={"description": "the highest marking of the incidents it names"})
    desk = fields.String()
    generated_at = fields.String(metadata=TIME)
    since = fields.String(metadata={**TIME, "description": "what changed is counted from here"})
    until = fields.String(metadata={**TIME, "description": "the end of the clocks' window"})
    window_hours = fields.Float()
    exercise_days = fields.Float()
    incidents = fields.List(fields.Nested(BriefIncidentOut), metadata={"description": "FLASH first"})
    clocks = fields.List(fields.Nested(BriefClockOut), metadata={"description": "the earliest first"})
    lines = fields.List(fields.Nested(BriefLineOut), metadata={"description": "down, degraded, never checked"})
    exercises = fields.List(fields.Nested(BriefExerciseOut))
    changes = fields.Nested(BriefChangesOut)
    log = fields.List(fields.Nested(BriefLogLineOut), metadata={"description": "the outgoing watch's log"})


class HandoverBriefOut(BriefOut):
    """BriefOut as nested in HandoverOut (see schemas.TimelineEntryOut for why)."""


class HandoverOut(Schema):
    id = fields.Integer()
    desk = fields.String(attribute="from_watch.desk")
    from_watch_id = fields.Integer()
    to_watch_id = fields.Integer(allow_none=True, metadata={"description": "the watch the signature started"})
    outgoing = fields.String(attribute="outgoing_officer.username")
    incoming = fields.String(attribute="incoming_officer.username")
    prepared_at = UTC(metadata={"description": "when the brief was taken"})
    since = UTC()
    notes = fields.String()
    signed_at = UTC(allow_none=True)
    digest = fields.Function(handover.digest, metadata={"type": "string", "description": "send it when signing"})
    brief = fields.Nested(HandoverBriefOut)


# -- the desk-centred spellings: the current watch, a handover named by its desk -----------


class CurrentWatchQuery(Query):
    desk = Name(validate=Length(max=log.DESK_MAX_LENGTH), metadata={"description": f"default “{log.DESK}”"})


class HandoverCreateIn(HandoverIn):
    watch_id = fields.Integer(
        strict=True,
        validate=Range(min=1, max=2**31 - 1),
        metadata={
            "description": "the watch handed over; default: the open watch at `desk` (both given: the same desk, "
            "else 422)"
        },
    )
    desk = Name(
        validate=Length(max=log.DESK_MAX_LENGTH),
        metadata={"description": f"the desk whose open watch is handed over (default “{log.DESK}”)"},
    )
