"""What the API answers of an incident: its facts, closest approach and addenda, timeline, messages, ladder,
exchanges and calls in brief, and a page of incidents; the OpenAPI document is generated from them."""

from apiflask import Schema, fields
from flask import current_app, g

from ..db import get_session
from ..http.fields import (
    UTC,
    EventDetails,
)
from ..models import (
    Domain,
    EscalationRisk,
    ExchangeState,
    IncidentStatus,
    Precedence,
    SafetyRisk,
)
from ..services.exchanges import calls, moves
from ..services.incidents import amendment_record, filing, measures
from .schemas import AgreementCode, EffectiveReleasability, MarkingLine


class CpaOut(Schema):
    """A closest point of approach as reported: the value in its unit, and the words shown."""

    value = fields.Float()
    unit = fields.String(metadata={"description": "m, ft or nm horizontally; ft or m vertically"})
    text = fields.String(metadata={"examples": ["0.3 NM (556 m)"]})


class GivenCpa(fields.Nested):
    """The incident's closest point of approach one way, as reported (null: not known)."""

    def __init__(self, read, **kwargs):
        super().__init__(CpaOut, dump_only=True, allow_none=True, **kwargs)
        self.read = read

    def get_value(self, obj, attr, accessor=None, default=None):
        return self.read(obj)


class CpaText(fields.String):
    """Both ways in words: "0.3 NM (556 m) horizontally, 200 ft vertically" ("" when not known)."""

    def __init__(self, **kwargs):
        super().__init__(dump_only=True, **kwargs)

    def get_value(self, obj, attr, accessor=None, default=None):
        return measures.cpa_text(obj)


class AddendumOut(Schema):
    at = UTC()
    by = fields.String()
    text = fields.String()


class Addenda(fields.List):
    """The narrative's addenda, from the incident's amendments, first first (the narrative stays as filed)."""

    def __init__(self, **kwargs):
        super().__init__(fields.Nested(AddendumOut), dump_only=True, **kwargs)

    def get_value(self, obj, attr, accessor=None, default=None):
        return amendment_record.addenda(obj)


class TimelineEventOut(Schema):
    id = fields.Integer()
    kind = fields.String(attribute="kind.value")
    actor = fields.String()
    at = UTC()
    details = EventDetails()


class NotificationOut(Schema):
    id = fields.Integer()
    kind = fields.String(attribute="kind.value")
    step = fields.Integer()
    loop = fields.Integer()
    channel = fields.String(attribute="channel_name", allow_none=True)
    user = fields.String(attribute="user_name", allow_none=True)
    status = fields.String(attribute="status.value")
    subject = fields.String()
    attempts = fields.Integer()
    created_at = UTC()
    sent_at = UTC(allow_none=True)
    last_error = fields.String(allow_none=True)


class LadderStepOut(Schema):
    number = fields.Integer()
    ack_seconds = fields.Integer()
    channels = fields.List(fields.Dict())
    by_decision = fields.Boolean(
        dump_default=False, metadata={"description": "entered only when a supervisor confirms it"}
    )


class LadderOut(Schema):
    rule_id = fields.Integer(allow_none=True)
    rule_name = fields.String()
    policy_id = fields.Integer(allow_none=True)
    policy_name = fields.String()
    repeat = fields.Integer()
    steps = fields.List(fields.Nested(LadderStepOut))


class ExerciseRefOut(Schema):
    """The notified exercise an incident lies in; GET /exercises/{id} has the rest."""

    id = fields.Integer()
    name = fields.String()


class IncidentOut(Schema):
    reference = fields.String(metadata={"examples": ["INC-2026-00042"]})
    status = fields.Enum(IncidentStatus, by_value=True)
    version = fields.Integer()
    occurred_at = UTC()
    occurred_dtg = fields.String(metadata={"examples": ["061620ZDEC17"]})
    reported_at = UTC()
    reporting_unit = fields.String()
    domain = fields.Enum(Domain, by_value=True)
    category = fields.String()
    latitude = fields.Float(allow_none=True)
    longitude = fields.Float(allow_none=True)
    position_text = fields.String(allow_none=True)
    sector = fields.String(allow_none=True)
    sector_given = fields.Boolean(
        allow_none=True,
        metadata={
            "description": "true: the sector was given by hand and stays when the position is amended; false: "
            "derived from the position, it follows it; null: filed before this was recorded (then inferred)"
        },
    )
    border_distance_km = fields.Float(allow_none=True, metadata={"description": "to the nearest border line"})
    border_basis = fields.String(
        allow_none=True,
        metadata={
            "description": "what the distance is measured on (null: no position, so no distance)",
            "enum": ["natural_earth_10m", "region_file", "fictional", None],
        },
    )
    warnings = fields.Function(
        lambda incident: [str(w) for w in filing.position_warnings(incident, current_app.extensions["tracker.region"])],
        metadata={"type": "array", "items": {"type": "string"}, "description": "e.g. a position outside every sector"},
    )
    checks_pending = fields.Function(
        lambda i: i.checks_due_at is not None,
        metadata={
            "type": "boolean",
            "description": "the related-incident search and the exercise link are still to run (within one sweep)",
        },
    )
    exercise = fields.Nested(
        ExerciseRefOut, allow_none=True, metadata={"description": "the notified exercise whose area and time hold it"}
    )
    no_notice = fields.Boolean(
        metadata={"description": "unusual activity near the border that no notified exercise holds"}
    )
    precedence = fields.Enum(Precedence, by_value=True)
    safety_risk = fields.Enum(SafetyRisk, by_value=True, allow_none=True)
    escalation_risk = fields.Enum(EscalationRisk, by_value=True)
    narrative = fields.String()
    actions_taken = fields.String()
    cpa_horizontal_m = fields.Integer(allow_none=True)
    cpa_vertical_ft = fields.Integer(allow_none=True)
    cpa_horizontal = GivenCpa(measures.horizontal, metadata={"description": "as reported, in its unit"})
    cpa_vertical = GivenCpa(measures.vertical, metadata={"description": "as reported, in its unit"})
    cpa = CpaText()
    observed_forces = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        allow_none=True,
        metadata={"description": "what our report saw of an exercise (troops, battle_tanks, ...)"},
    )
    platforms = fields.List(fields.Dict())
    releasability = EffectiveReleasability(metadata={"description": "field -> may go to the other side"})
    classification = fields.String()
    releasable_to = fields.List(fields.String())
    marking = MarkingLine(metadata={"examples": ["RESTRICTED // REL TO EASTLAND"]})
    counterpart_state = fields.String(allow_none=True, metadata={"description": "the other State"})
    agreement = AgreementCode(metadata={"description": "the code of the agreement it is handled under"})
    ladder = fields.Nested(LadderOut)
    current_step = fields.Integer()
    loop = fields.Integer()
    next_escalation_at = UTC(allow_none=True)
    decision_step = fields.Integer(
        allow_none=True,
        metadata={"description": "a step reached by decision, waiting for a supervisor's confirmation"},
    )
    decision_asked_at = UTC(allow_none=True, metadata={"description": "when the question was first put"})
    decision_asks = fields.Integer(metadata={"description": "how many times it has been put"})
    idle_check_at = UTC(
        allow_none=True,
        metadata={"description": "acknowledged: when the acknowledgement timeout is next looked at"},
    )
    idle_stage = fields.Integer(metadata={"description": "0: not reminded yet; 1: reminded, re-escalates next"})
    filed_by = fields.String(attribute="filed_by_name", allow_none=True)
    acknowledged_at = UTC(allow_none=True)
    acknowledged_by = fields.String(attribute="acknowledged_by_name", allow_none=True)
    resolved_at = UTC(allow_none=True)
    resolved_by = fields.String(attribute="resolved_by_name", allow_none=True)
    resolution = fields.String(allow_none=True)


class TimelineEntryOut(TimelineEventOut):
    """TimelineEventOut as nested in IncidentDetailOut. A class of its own because apiflask names a
    route's schema without seeing apispec's nested registrations: one class used both ways ends up
    in the spec twice (TimelineEventOut1) with a UserWarning."""


def exchange_reference() -> fields.String:
    """An exchange's reference, as every schema that shows an exchange gives it."""
    return fields.String(
        allow_none=True,
        metadata={
            "description": "the reference the other side knows the exchange by and quotes (given with our first "
            "message sent; never our incident number); null before",
            "examples": ["NM-2026-0007"],
        },
    )


def moved_by_call() -> fields.Function:
    """Whether a call moved the exchange to the state it is in, as every schema that shows an exchange gives it."""
    return fields.Function(
        lambda x: moves.moved_by_call(get_session(), x, g.setdefault("exchange_moves", {})),
        metadata={
            "type": ["object", "null"],
            "properties": {
                "call": {"type": "integer", "description": "the call (GET /calls/{id})"},
                "approval": {"type": "string", "enum": ["not_approved", "not_needed"]},
            },
            "description": "the call that moved the exchange to the state it is in, when one did (the panel's "
            '"by call 3, not approved"): approval not_approved for a request of ours said on the call (an '
            "explanation or a meeting: no text went and no second person approved it), not_needed for the other "
            "side's act logged from a call; null when the state came otherwise (a message of ours approved and "
            "sent, a reply or receipt recorded, the engine)",
            "examples": [{"call": 3, "approval": "not_approved"}],
        },
    )


class ExchangeBriefOut(Schema):
    """An exchange with the other side as the incident shows it; GET /exchanges/{id} has the rest."""

    id = fields.Integer()
    channel = fields.String(attribute="channel_name")
    state = fields.Enum(ExchangeState, by_value=True)
    deadline_at = UTC(allow_none=True, metadata={"description": "when the running clock runs out"})
    deadline_kind = fields.String(allow_none=True, metadata={"description": "reply or meeting"})
    reference = exchange_reference()
    moved_by_call = moved_by_call()


class CallBriefOut(Schema):
    """A call with the other side as the incident shows it; GET /calls/{id} has the rest."""

    id = fields.Integer()
    exchange_id = fields.Integer(allow_none=True)
    channel = fields.String(attribute="channel.name")
    direction = fields.String(attribute="direction.value", metadata={"enum": ["we_called", "they_called"]})
    started_at = UTC()
    ended_at = UTC(allow_none=True, metadata={"description": "none while the call goes on"})
    moved_to = fields.Function(
        lambda c: c.moved_to.value if c.moved_to else None,
        metadata={"type": ["string", "null"], "description": "the exchange state the call moved, if any"},
    )
    moved_without_approval = fields.Function(
        calls.moved_without_approval,
        metadata={"type": "boolean", "description": "a request of ours said on the call: by call, not approved"},
    )
    actions_open = fields.Function(
        lambda c: sum(a.done_at is None for a in c.actions), metadata={"type": "integer", "description": "not done"}
    )
    actions_overdue = fields.Function(
        lambda c: sum(a.done_at is None and a.overdue_at is not None for a in c.actions), metadata={"type": "integer"}
    )


class IncidentDetailOut(IncidentOut):
    addenda = Addenda(metadata={"description": "added to the narrative by amendments, first first"})
    timeline = fields.List(fields.Nested(TimelineEntryOut), attribute="events")
    notifications = fields.List(fields.Nested(NotificationOut))
    calls = fields.List(fields.Nested(CallBriefOut), metadata={"description": "calls with the other side, first first"})
    exchanges = fields.List(fields.Nested(ExchangeBriefOut), metadata={"description": "with the other side"})


class IncidentPage(Schema):
    items = fields.List(fields.Nested(IncidentOut))
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()


class RoutePreviewOut(Schema):
    rule = fields.Dict(metadata={"description": "id and name of the matching rule"})
    policy = fields.Dict(metadata={"description": "id and name of its policy"})
    ladder = fields.Nested(LadderOut)
    sector = fields.String(allow_none=True, metadata={"description": "given, or derived from the position"})
    border_distance_km = fields.Float(allow_none=True)
    agreement = fields.String(
        allow_none=True, metadata={"description": "code of the agreement the rule sets on the incidents it routes"}
    )
    counterpart_state = fields.String(allow_none=True, metadata={"description": "the other State the rule sets"})
