"""Request and response schemas; the OpenAPI document is generated from them."""

from apiflask import Schema, fields
from apiflask.validators import Length, OneOf, Range
from flask import current_app
from marshmallow import ValidationError as MarshmallowError
from marshmallow import validates_schema

from ..db import get_session
from ..http.fields import (
    UTC,
    Bound,
    Coordinate,
    Count,
    DomainAndCategory,
    Flag,
    Name,
    Number,
    Pattern,
    Query,
    Text,
    Window,
    Word,
)
from ..models import Domain, EscalationRisk, IncidentStatus, Precedence, all_categories
from ..services.exchanges import releasability
from ..services.incidents import filing, marking, measures
from ..services.incidents.routing import category_problem

NAME = Length(min=1, max=120)
# Ids are 32-bit INTEGER columns; a larger number would make the database raise (a 500), not find nothing.
ID = Range(min=1, max=2**31 - 1)


def version_read() -> fields.Integer:
    """A line's, policy's, rule's or agreement's version, as a change names the one it read."""
    description = "on a change: the version read; 409 when another change was saved since"
    return fields.Integer(strict=True, validate=ID, metadata={"description": description})


def version_count() -> fields.Integer:
    """Their version as an answer gives it."""
    return fields.Integer(metadata={"description": "counts the saves; name it when changing this"})


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
    unit = Word(measures.HORIZONTAL, required=True, metadata={"description": "m, ft or nm, in any case (NM is nm)"})


class CpaVerticalIn(Schema):
    """A vertical closest point of approach as reported: kept in whole feet, shown in its unit."""

    value = Number(required=True, validate=Range(0, 10_000_000), metadata={"examples": [200]})
    unit = Word(measures.VERTICAL, required=True, metadata={"description": "ft or m, in any case (FT is ft)"})


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


class RouteFields(Schema):
    """What routing reads of an incident (RouteAttributes, IncidentIn)."""

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


class RouteAttributes(RouteFields):
    @validates_schema(skip_on_field_errors=False)
    def _category_of_the_domain(self, data, **kwargs):
        """A category of another domain is told with the other fields' problems, in routing's words: left to
        routing.check_query, it was told only once every other field was right, in a second 422. (A filing's is
        told by filing, with its other problems: IncidentIn.handle_error.)"""
        if "domain" in data and "category" in data and (problem := category_problem(data["domain"], data["category"])):
            raise MarshmallowError(problem, "category")

    def handle_error(self, error: MarshmallowError, data, *, many: bool, **kwargs) -> None:
        """A sector nobody names is told with the schema's problems (filing.sector_problem, the preview's own check
        and words): the preview checks it only once these are mended, so it waited for a second 422. Only on a
        refusal: a valid preview's sector is read once, by the preview."""
        told = error.messages if isinstance(error.messages, dict) else {}
        sector = error.valid_data.get("sector") if isinstance(error.valid_data, dict) else None
        if sector is None or "sector" in told:
            return
        region = current_app.extensions["tracker.region"]
        if problem := filing.sector_problem(get_session(), region, sector):
            raise MarshmallowError({**told, "sector": problem}, data=error.data, valid_data=error.valid_data)


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
    per_page = Count(
        validate=Range(min=1, max=200),
        metadata={"description": "rows a page; none given: PAGE_SIZE_DEFAULT (50 unless configured)", "default": 50},
    )


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


class LinkIn(Schema):
    token = Text(required=True, validate=Length(min=10, max=2000), metadata={"description": "from the message"})


class LinkOut(Schema):
    purpose = fields.String(metadata={"description": "ack or check"})
    reference = fields.String(allow_none=True)
    status = fields.String(metadata={"description": "the incident's status, or the check's outcome"})
    acknowledged_by = fields.String(allow_none=True)


class HealthOut(Schema):
    status = fields.String(
        metadata={
            "description": "ok; degraded when the sweep or the delivery is stale, failing or never ran, link_keys "
            "is mismatch, or no active supervisor is left to tell; down (503) without a database"
        }
    )
    database = fields.String(metadata={"description": "ok or down"})
    sweep = fields.String(metadata={"description": "ok, failing (its last run failed a stage), stale or never ran"})
    delivery = fields.String(
        metadata={
            "description": "the delivery job (the outbox): ok, failing (its last run failed), stale (none in "
            "SWEEP_STALE_INTERVALS delivery intervals, or sweep intervals if longer) or never ran; unknown without "
            "a database"
        }
    )
    last_delivery_at = UTC(allow_none=True)
    last_sweep_at = UTC(allow_none=True)
    last_sweep_runner = fields.String(allow_none=True)
    last_sweep_error = fields.String(
        allow_none=True, metadata={"description": "the stages its last run failed (the scheduler's log has why)"}
    )
    supervisors = fields.String(
        metadata={
            "description": "whom the supervisors' messages (an exhausted incident, a decision asked, a dead letter) "
            "reach: ok (an active supervisor); admins (none is active: the active admins are told instead); nobody; "
            "unknown without a database"
        }
    )
    link_keys = fields.String(
        metadata={
            "description": "ok when every live scheduler signs links with this host's SECRET_KEY; rotating when one "
            "still signs with a key of its SECRET_KEY_FALLBACKS; mismatch when one signs with a key it does not hold "
            "(its links are refused here); unknown without a database"
        }
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
