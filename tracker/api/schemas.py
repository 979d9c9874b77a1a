"""Request and response schemas; the OpenAPI document is generated from them."""

from apiflask import Schema, fields
from apiflask.validators import Length, OneOf, Range
from flask import current_app, g
from marshmallow import ValidationError as MarshmallowError
from marshmallow import post_load, validates_schema

from ..db import get_session
from ..geo import Position, agrees, parse_position, parse_position_beside
from ..http.fields import (
    UTC,
    Bound,
    Coordinate,
    Count,
    DomainAndCategory,
    Flag,
    Moment,
    Name,
    Number,
    Pattern,
    Query,
    Text,
    Window,
)
from ..models import (
    Domain,
    EscalationRisk,
    ExchangeState,
    IncidentStatus,
    Precedence,
    SafetyRisk,
    all_categories,
)
from ..services.exchanges import calls, moves, releasability
from ..services.incidents import amendment_record, filing, marking, measures

NAME = Length(min=1, max=120)
# Ids are 32-bit INTEGER columns; a larger number would make the database raise (a 500), not find nothing.
ID = Range(min=1, max=2**31 - 1)


class Platform(Schema):
    kind = Name(validate=Length(max=40), metadata={"examples": ["fighter aircraft"]})
    nationality = Name(validate=Length(max=40))
    type = Name(validate=Length(max=60))
    callsign = Name(validate=Length(max=60), metadata={"description": "callsign or hull number"})
    transponder_on = Flag(allow_none=True)
    radio_contact = Flag(allow_none=True)


class CpaHorizontalIn(Schema):
    """A horizontal closest point of approach as reported: kept in whole metres, shown in its unit."""

    value = Number(required=True, validate=Range(0, 10_000_000), metadata={"examples": [0.3]})
    unit = Text(required=True, validate=OneOf(list(measures.HORIZONTAL)), metadata={"description": "m, ft or nm"})


class CpaVerticalIn(Schema):
    """A vertical closest point of approach as reported: kept in whole feet, shown in its unit."""

    value = Number(required=True, validate=Range(0, 10_000_000), metadata={"examples": [200]})
    unit = Text(required=True, validate=OneOf(list(measures.VERTICAL)), metadata={"description": "ft or m"})


def _count(what: str):
    return fields.Integer(strict=True, validate=Range(0, measures.FORCE_MAX), metadata={"description": what})


class ObservedForcesIn(Schema):
    """What our report saw of an exercise, in the Vienna Document's counts; a count left out was not seen."""

    troops = _count("troops")
    battle_tanks = _count("battle tanks")
    armoured_combat_vehicles = _count("armoured combat vehicles")
    artillery_pieces = _count("artillery pieces of 100 mm and above")
    airborne_troops = _count("airborne or amphibious troops")
    aircraft_sorties = _count("combat aircraft sorties")


class RouteAttributes(Schema):
    domain = fields.Enum(Domain, by_value=True, required=True)
    category = Text(required=True, validate=OneOf(all_categories()))
    precedence = fields.Enum(
        Precedence,
        by_value=True,
        required=True,
        metadata={"description": "Z FLASH, O IMMEDIATE, P PRIORITY, R ROUTINE"},
    )
    escalation_risk = fields.Enum(EscalationRisk, by_value=True, required=True)
    sector = Text(
        allow_none=True,
        validate=Length(max=120),
        metadata={
            "description": "omit: from the position (it then follows the position when that is amended); a sector "
            "given here stays when the position is amended"
        },
    )
    latitude = Coordinate(allow_none=True, validate=Range(-90, 90))
    longitude = Coordinate(allow_none=True, validate=Range(-180, 180))


def _releasable(what: str):
    default = "releasable" if releasability.DEFAULTS[what] else "withheld"
    return Flag(metadata={"description": f"may go to the other side (default: {default})"})


class ReleasabilityIn(Schema):
    """Which incident fields may go to the other side; a field left out keeps its setting (or default)."""

    occurred_at = _releasable("occurred_at")
    domain = _releasable("domain")
    category = _releasable("category")
    position = _releasable("position")
    sector = _releasable("sector")
    border_distance_km = _releasable("border_distance_km")
    cpa = _releasable("cpa")
    platforms = _releasable("platforms")
    reporting_unit = _releasable("reporting_unit")
    actions_taken = _releasable("actions_taken")
    narrative = _releasable("narrative")
    safety_risk = _releasable("safety_risk")
    escalation_risk = _releasable("escalation_risk")
    precedence = _releasable("precedence")


class EffectiveReleasability(fields.Dict):
    """Every field's releasability for the incident: its overrides over the defaults."""

    def __init__(self, **kwargs):
        super().__init__(keys=fields.String(), values=fields.Boolean(), dump_only=True, **kwargs)

    def get_value(self, obj, attr, accessor=None, default=None):
        return releasability.effective(obj)


# How far (degrees, either axis; geo.agrees) the reported text may read from the coordinates given with it: the
# rounding of a position given to the minute (about 1 km), no more.
POSITION_AGREES = 0.01


class IncidentIn(RouteAttributes):
    occurred_at = Moment(required=True)
    reporting_unit = Name(required=True, validate=NAME)
    position_text = Name(
        allow_none=True,
        validate=Length(max=120),
        metadata={
            "description": "the position as reported: decimal degrees, DMS, DDM or MGRS, read as the filing form "
            "reads it (422 when it cannot be read, is ambiguous, or disagrees with latitude and longitude); "
            "it gives latitude and longitude when they are left out"
        },
    )
    safety_risk = fields.Enum(
        SafetyRisk,
        by_value=True,
        allow_none=True,
        metadata={"description": "ICAO airprox class A-E; not on a land incident (422)"},
    )
    narrative = Text(load_default="", metadata={"description": "limited to NARRATIVE_MAX_LENGTH characters"})
    actions_taken = Text(load_default="", validate=Length(max=4000))
    cpa_horizontal_m = fields.Integer(strict=True, allow_none=True, validate=Range(0, 1_000_000))
    cpa_vertical_ft = fields.Integer(strict=True, allow_none=True, validate=Range(0, 100_000))
    cpa_horizontal = fields.Nested(
        CpaHorizontalIn, allow_none=True, metadata={"description": "with its unit; instead of cpa_horizontal_m"}
    )
    cpa_vertical = fields.Nested(
        CpaVerticalIn, allow_none=True, metadata={"description": "with its unit; instead of cpa_vertical_ft"}
    )
    observed_forces = fields.Nested(ObservedForcesIn, allow_none=True)
    platforms = fields.List(fields.Nested(Platform), load_default=list, validate=Length(max=20))
    releasability = fields.Nested(ReleasabilityIn, load_default=dict)
    classification = Text(
        validate=Length(min=1, max=32),
        metadata={"description": "one of CLASSIFICATIONS (default: the first, e.g. UNCLASSIFIED)"},
    )
    releasable_to = fields.List(
        Text(validate=Length(min=1, max=80)),
        validate=Length(max=20),
        metadata={
            "description": "counterparts from RELEASABLE_TO it may be released to; left out: all of them (the "
            "per-field releasability still decides what goes out); empty: not releasable"
        },
    )
    counterpart_state = Name(
        allow_none=True, validate=Length(max=80), metadata={"description": "the other State; omit: the routing rule's"}
    )
    agreement = Text(
        allow_none=True,
        validate=Length(max=40),
        metadata={"description": "code of the agreement it is handled under; omit: the routing rule's"},
    )

    @validates_schema
    def _one_way_to_give_a_cpa(self, data, **kwargs):
        for given, stored in (("cpa_horizontal", "cpa_horizontal_m"), ("cpa_vertical", "cpa_vertical_ft")):
            if data.get(given) is not None and data.get(stored) is not None:
                raise MarshmallowError(f"give {given} or {stored}, not both", given)

    @post_load
    def _read_position(self, data, **kwargs):
        """Positions are never guessed: the reported text is read, or refused (geo.parse_position)."""
        typed = (data.get("position_text") or "").strip()
        latitude, longitude = data.get("latitude"), data.get("longitude")
        if not typed:
            return data
        if (latitude is None) != (longitude is None):
            read_reported(typed, None, None)  # the text is read all the same; filing refuses the lone coordinate
            return data
        where = read_reported(typed, latitude, longitude)
        data["latitude"], data["longitude"], data["position_text"] = where.latitude, where.longitude, where.text
        return data


def read_reported(typed: str, latitude: float | None, longitude: float | None) -> Position:
    """The position a report gives as text, with the latitude and longitude sent beside it (both or neither):
    the text read (geo.parse_position), the coordinates from it when left out, else held to agree with it.
    Filing and amending read it alike; a problem is raised as a 422 naming position_text."""
    try:
        if latitude is None or longitude is None:
            return parse_position(typed)
        where = parse_position_beside(typed, latitude, longitude, POSITION_AGREES)
    except ValueError as exc:
        raise MarshmallowError(str(exc), "position_text") from None
    if not agrees(where, latitude, longitude, POSITION_AGREES):
        raise MarshmallowError(
            f"reads as {where.decimal}, not the latitude and longitude given: correct one or leave them out",
            "position_text",
        )
    return Position(latitude, longitude, where.text)


class MarkingIn(Schema):
    """A new marking; a member left out keeps its value."""

    classification = Text(validate=Length(min=1, max=32), metadata={"examples": ["RESTRICTED"]})
    releasable_to = fields.List(
        Text(validate=Length(min=1, max=80)), validate=Length(max=20), metadata={"examples": [["Eastland"]]}
    )


class MarkingLine(fields.String):
    """The incident's marking line, e.g. "RESTRICTED // REL TO EASTLAND"."""

    def __init__(self, **kwargs):
        super().__init__(dump_only=True, **kwargs)

    def get_value(self, obj, attr, accessor=None, default=None):
        return marking.of(obj)


class AgreementCode(fields.String):
    """The code of the row's agreement (an incident's, a line's, a rule's), or null."""

    def __init__(self, **kwargs):
        super().__init__(dump_only=True, allow_none=True, **kwargs)

    def get_value(self, obj, attr, accessor=None, default=None):
        agreement = getattr(obj, "agreement", None)
        return agreement.code if agreement is not None else None


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
    details = fields.Dict()


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
        lambda incident: filing.position_warnings(incident, current_app.extensions["tracker.region"]),
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


class IncidentQuery(Query, DomainAndCategory, Window):
    status = fields.List(fields.Enum(IncidentStatus, by_value=True))
    precedence = fields.List(fields.Enum(Precedence, by_value=True))
    domain = fields.Enum(Domain, by_value=True)
    category = Text(validate=OneOf(all_categories()))
    # Bounds as the reports take them (a date alone is its 00:00Z), so a desk gives both the same dates.
    since = Bound(metadata={"description": "at or after (the time `by` names); a date alone: its 00:00Z"})
    until = Bound(metadata={"description": "before (exclusive); a date alone: its 00:00Z"})
    by = Text(
        load_default="occurred",
        validate=OneOf(["occurred", "reported"]),
        metadata={
            "description": "which time since/until bound: occurred (default) or reported, as the after-action "
            "report and the exports count"
        },
    )
    exchange_reference = Text(
        validate=[Length(min=1, max=40), Pattern(r"[\s\S]*\S[\s\S]*", error="give the reference, not blanks")],
        metadata={
            "description": "the reference the other side quotes for an exchange (NM-2026-0007): the incident "
            "it is about; any case",
            "examples": ["NM-2026-0007"],
        },
    )
    page = Count(load_default=1, validate=ID)
    per_page = Count(validate=Range(min=1, max=200))


class IncidentPage(Schema):
    items = fields.List(fields.Nested(IncidentOut))
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()


class AcknowledgeIn(Schema):
    note = Text(load_default="", validate=Length(max=1000))


class CommentIn(Schema):
    text = Text(required=True, validate=Length(min=1, max=4000))


class ResolveIn(Schema):
    resolution = Text(required=True, validate=Length(min=1, max=4000))


class ConfirmStepIn(Schema):
    step = fields.Integer(
        strict=True,
        validate=Range(1, 50),
        metadata={"description": "the step asked about; another step's question is refused (409)"},
    )


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


class LinkIn(Schema):
    token = Text(required=True, validate=Length(min=10, max=2000), metadata={"description": "from the message"})


class LinkOut(Schema):
    purpose = fields.String(metadata={"description": "ack or check"})
    reference = fields.String(allow_none=True)
    status = fields.String(metadata={"description": "the incident's status, or the check's outcome"})
    acknowledged_by = fields.String(allow_none=True)


class HealthOut(Schema):
    status = fields.String(
        metadata={"description": "ok; degraded when the sweep is stale or failing; down (503) without a database"}
    )
    database = fields.String(metadata={"description": "ok or down"})
    sweep = fields.String(metadata={"description": "ok, failing (its last run failed a stage), stale or never ran"})
    last_sweep_at = UTC(allow_none=True)
    last_sweep_runner = fields.String(allow_none=True)
    last_sweep_error = fields.String(
        allow_none=True, metadata={"description": "the stages its last run failed (the scheduler's log has why)"}
    )


class CategoryOut(Schema):
    name = fields.String(metadata={"examples": ["fire_control_lock_on"]})
    label = fields.String(metadata={"description": "as pages show it", "examples": ["fire-control lock-on"]})
    domains = fields.List(fields.String(), metadata={"description": "the domains it may be filed in"})
    definition = fields.String(metadata={"description": "what it covers, in one line"})


class Catalogue(Schema):
    domains = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": "each domain's categories (a category may be in several)"},
    )
    categories = fields.List(fields.Nested(CategoryOut), metadata={"description": "every category once"})
    precedences = fields.Dict(keys=fields.String(), values=fields.Integer())
    safety_risks = fields.List(fields.String())
    escalation_risks = fields.List(fields.String())


class ErrorBody(Schema):
    code = fields.String(required=True, metadata={"examples": ["validation_error"]})
    message = fields.String(required=True)
    details = fields.Dict(
        required=True,
        metadata={
            "description": "offending fields, current state, hints; on a 422 each field's problems as a list "
            'of sentences ({"latitude": ["..."]}), nested fields the same'
        },
    )


class ErrorEnvelope(Schema):
    error = fields.Nested(ErrorBody, required=True)
