"""File an incident: validate, assign a reference, route, snapshot the ladder, queue step 1; the
related-incident search and the exercise link follow within one sweep (checks.py)."""

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from ...errors import ValidationError
from ...models import (
    Agreement,
    ContactChannel,
    Domain,
    EscalationRisk,
    EventKind,
    Incident,
    IncidentStatus,
    Notification,
    NotificationKind,
    Precedence,
    SafetyRisk,
    TimelineEvent,
    User,
)
from ...sentences import Sentence
from ...timeutil import format_dtg, isoformat
from ..engine import notify
from ..engine.links import AckLinks
from ..exchanges import releasability
from . import checks, marking, measures, route_table, timeline, writing
from .routing import RouteQuery, category_problem, locate


@dataclass
class IncidentDraft:
    """What a duty officer reports, already parsed into types (the API or a form does that)."""

    occurred_at: datetime
    reporting_unit: str
    domain: Domain
    category: str
    precedence: Precedence
    escalation_risk: EscalationRisk
    latitude: float | None = None
    longitude: float | None = None
    position_text: str | None = None
    sector: str | None = None
    safety_risk: SafetyRisk | None = None
    narrative: str = ""
    actions_taken: str = ""
    cpa_horizontal_m: int | None = None
    cpa_vertical_ft: int | None = None
    # The units the closest point of approach was given in (measures.cpa_columns makes all four columns).
    cpa_horizontal_unit: str | None = None
    cpa_vertical_unit: str | None = None
    # What our report saw of an exercise (measures.OBSERVED_FORCES), or None.
    observed_forces: dict | None = None
    platforms: list[dict] = field(default_factory=list)
    # Overrides of what may go to the other side ({"narrative": true}); see services.releasability.
    releasability: dict[str, bool] = field(default_factory=dict)
    # The marking (None: the lowest classification; releasable to every configured counterpart, the
    # per-field releasability still deciding what goes out; [] is "not releasable"), and the other State
    # and the agreement (by its code) it is handled under; left out, the routing rule's apply.
    classification: str | None = None
    releasable_to: list[str] | None = None
    counterpart_state: str | None = None
    agreement: str | None = None

    def route_query(self) -> RouteQuery:
        return RouteQuery(
            self.domain,
            self.category,
            self.precedence,
            self.escalation_risk,
            self.sector,
            self.latitude,
            self.longitude,
        )


@dataclass(frozen=True)
class FilingLimits:
    narrative_max_length: int
    max_future_skew_seconds: int
    reference_prefix: str = "INC"
    region: object = None  # tracker.region.Region: derives sector and distance to the border
    # Incidents of the same category this close in space and time are suggested as related.
    related_distance_km: float = 50.0
    related_window_hours: float = 72.0
    # Unusual activity this close to the border with no exercise notice is flagged (services.exercises).
    no_notice_border_km: float = 50.0
    # The deployment's classifications and counterparts (CLASSIFICATIONS, RELEASABLE_TO).
    markings: marking.Markings = field(default_factory=marking.Markings)


# Domains whose incidents involve no aircraft or ship that could collide: the airprox classes do not apply.
NO_COLLISION_RISK = frozenset({Domain.LAND})


def occurred_problem(occurred_at: datetime, limits: FilingLimits, now: datetime) -> str | None:
    """What is wrong with a time of occurrence (one in the future, beyond the clocks' allowed skew), else None."""
    if occurred_at > now + timedelta(seconds=limits.max_future_skew_seconds):
        return f"{isoformat(occurred_at)} is in the future"
    return None


INVALID = "the incident report is not valid"


def too_long(text: str, most: int) -> str:
    """Why a text is too long, saying by how much (a desk shortening 6,000 characters to 4,000 knew only the
    limit)."""
    return f"longer than {most} characters ({len(text):,} given: {len(text) - most:,} too many)"


def check_draft(draft: IncidentDraft, limits: FilingLimits, now: datetime) -> None:
    """Raise ValidationError listing every rule of the catalogue or limits the draft breaks."""
    if problems := draft_problems(vars(draft), limits, now):
        raise ValidationError(INVALID, problems)


def draft_problems(report: Mapping[str, Any], limits: FilingLimits, now: datetime) -> dict[str, str | dict]:
    """Every rule of the catalogue or limits a report breaks, by field (releasability's a dict by field). The
    report holds an IncidentDraft's fields, or those a form or schema read before it refused the others: a rule
    is held to the fields it reads, and one left out is as a draft leaves it (an optional field's default breaks
    no rule; a rule reading a required field left out is passed over)."""
    problems: dict[str, str | dict] = {}
    domain, category = report.get("domain"), report.get("category")
    if domain is not None and category is not None and (wrong_category := category_problem(domain, category)):
        problems["category"] = wrong_category
    if report.get("safety_risk") is not None and domain in NO_COLLISION_RISK:
        problems["safety_risk"] = (
            f"a safety risk class (airprox A-E) rates a risk of collision between craft; "
            f"a {domain.value} incident has none: leave it out"
        )
    occurred = report.get("occurred_at")
    if occurred is not None and (wrong_time := occurred_problem(occurred, limits, now)):
        problems["occurred_at"] = wrong_time
    if len(report.get("narrative", "")) > limits.narrative_max_length:
        problems["narrative"] = too_long(report["narrative"], limits.narrative_max_length)
    latitude, longitude = report.get("latitude"), report.get("longitude")
    if (latitude is None) != (longitude is None):
        problems["latitude" if latitude is None else "longitude"] = "give latitude and longitude together"
    if (unit := report.get("reporting_unit")) is not None and not unit.strip():
        problems["reporting_unit"] = "must not be blank"
    try:
        measures.forces(report.get("observed_forces"))
    except ValidationError as error:
        problems.update(error.details)
    try:
        releasability.check_overrides(report.get("releasability", {}))
    except ValidationError as error:
        problems["releasability"] = error.details
    try:
        classification = report.get("classification")
        classification = limits.markings.lowest if classification is None else classification
        marking.check(limits.markings, classification, _releasable_to(report.get("releasable_to"), limits))
    except ValidationError as error:
        problems.update(error.details)
    return problems


def report_problems(
    session: Session, report: Mapping[str, Any], limits: FilingLimits, now: datetime
) -> dict[str, str | dict]:
    """Every problem filing finds in a report (draft_problems' report), by field: its rules', and a sector or an
    agreement nobody names, which are looked up. What a refusal tells at once, so that a duty officer mends all
    in one go: filing when one of them fails, and the filing form or the API's schema when its own checks fail,
    on what it read (never for a report they pass: filing then checks it once)."""
    problems = draft_problems(report, limits, now)
    if report.get("sector") is not None and (wrong_sector := sector_problem(session, limits.region, report["sector"])):
        problems["sector"] = wrong_sector
    if report.get("agreement"):
        try:
            agreement_in_force(session, report["agreement"])
        except ValidationError as error:
            problems.update(error.details)
    return problems


def file_incident(
    session: Session, draft: IncidentDraft, actor: User, limits: FilingLimits, now: datetime, links: AckLinks
) -> Incident:
    """Store a new incident routed to its policy, with step 1 queued (its calls to act carrying
    acknowledge links made with links), in the caller's transaction."""
    try:
        check_draft(draft, limits, now)
        table = route_table.current(session)
        query = with_named_sector(draft.route_query(), limits.region, table, INVALID)
    except ValidationError:
        # Told with those found after it (a sector, an agreement), not in a second refusal once it is mended.
        raise ValidationError(INVALID, report_problems(session, vars(draft), limits, now)) from None
    query, placed = locate_report(query, limits)
    rule = table.choose(query)
    ladder = rule.ladder(draft.precedence)
    reported = {name: value for name, value in vars(draft).items() if name != "agreement"}  # a code, not a column
    reported["observed_forces"] = measures.forces(draft.observed_forces)
    reported.update(
        measures.units(
            draft.cpa_horizontal_m, draft.cpa_horizontal_unit, draft.cpa_vertical_ft, draft.cpa_vertical_unit
        )
    )
    handled_under, agreement_code = _marking_and_counterpart(session, draft, rule, limits)
    recipients = table.recipients(session, ladder["steps"][0])
    incident = writing.insert_incident(
        session,
        {
            "reported_at": now,
            "status": IncidentStatus.OPEN,
            "version": 1,
            "ladder": ladder,
            "routing_rule_id": rule.id,
            "policy_id": rule.policy_id,
            "current_step": 1,
            "loop": 0,
            # What notify.enter_step sets below, stored with the INSERT (no UPDATE after it).
            "next_escalation_at": notify.step_deadline(ladder["steps"][0], recipients, now),
            "step_channels": [entry["name"] for entry in ladder["steps"][0]["channels"]],
            "filed_by_id": actor.id,
            # The related-incident search and the exercise link wait for the next sweep (checks.py).
            "checks_due_at": now if checks.needs_checks(draft.latitude, draft.longitude) else None,
            **reported,
            **placed,
            **handled_under,
        },
        limits.reference_prefix,
        now.year,
    )
    set_committed_value(incident, "filed_by", actor)
    set_committed_value(incident, "amendments", [])  # what its messages would otherwise read back
    # Its timeline events and messages are gathered as plain rows and written in one statement.
    with timeline.gathered(session) as rows:
        timeline.note(
            session,
            incident,
            EventKind.FILED,
            actor.username,
            now,
            occurred_at=draft.occurred_at,
            occurred_dtg=format_dtg(draft.occurred_at),
            precedence=draft.precedence.value,
            category=draft.category,
            marking=marking.of(incident),
        )
        channels = notify.enter_step(session, incident, NotificationKind.NOTIFIED, now, recipients, links)
        timeline.note(
            session,
            incident,
            EventKind.ROUTED,
            "router",
            now,
            rule=rule.name,
            policy=ladder["policy_name"],
            steps=len(ladder["steps"]),
            channels=[c.name for c in channels],
            agreement=agreement_code,
            counterpart_state=incident.counterpart_state,
            next_escalation_at=incident.next_escalation_at,
        )
    writing.insert_rows(session, incident, rows[TimelineEvent], rows[Notification])
    return incident


def locate_report(query: RouteQuery, limits: FilingLimits) -> tuple[RouteQuery, dict]:
    """Locate a report on the deployment's region, as filing and amending both do: the query with its
    sector (unless given) and distance to the border filled in, and the incident's columns that come
    from where it happened (sector_given: whether the query came with its sector)."""
    located = locate(query, limits.region)
    basis = getattr(limits.region, "border_basis", None) if located.border_distance_km is not None else None
    return located, {
        "sector": located.sector,
        "sector_given": query.sector is not None,
        "border_distance_km": located.border_distance_km,
        "border_basis": basis,
    }


def sector_was_given(incident: Incident, region) -> bool:
    """Whether the incident's sector was given by hand, which an amendment of its position leaves as it is (a
    derived one follows the position). As recorded since migration 0025; before, inferred: given when there is
    no position to derive it from, or it is not the sector the position lies in (region: tracker.region.Region)."""
    if incident.sector_given is not None:
        return incident.sector_given
    if incident.sector is None:
        return False
    if incident.latitude is None or incident.longitude is None or region is None:
        return True
    return incident.sector != region.sector_of(incident.latitude, incident.longitude)


def sector_names(region, table: route_table.RouteTable) -> dict[str, str]:
    """The sectors a report may name, by their folded form (routing compares sectors without case): the
    region's (tracker.region.Region), then those only a routing rule names (the demo's DRILL)."""
    names = {rule.sector.casefold(): rule.sector for rule in table.rules if rule.sector}
    names.update({name.casefold(): name for name, _ in getattr(region, "sectors", ())})
    return names


def with_named_sector(query: RouteQuery, region, table: route_table.RouteTable, refusal: str) -> RouteQuery:
    """The query with its sector (if given) in the spelling named_sector reads it, as filing routes it and the
    route previews must too; ValidationError (refusal, on sector) for a sector neither the region nor a rule names."""
    if query.sector is None:
        return query
    try:
        return replace(query, sector=named_sector(query.sector, sector_names(region, table)))
    except ValueError as exc:
        raise ValidationError(refusal, {"sector": str(exc)}) from None


def sector_problem(session: Session, region, sector: str) -> str | None:
    """What is wrong with a sector a report or a route preview gives (one neither the region nor a routing rule
    names), in with_named_sector's words, else None."""
    try:
        named_sector(sector, sector_names(region, route_table.current(session)))
    except ValueError as exc:
        return str(exc)
    return None


def named_sector(sector: str | None, names: dict[str, str]) -> str | None:
    """A sector as given, in the spelling the region or its routing rule gives it; None for none given.
    ValueError for one neither names: a typo would silently change the route."""
    given = (sector or "").strip()
    if not given:
        return None
    known = names.get(given.casefold())
    if known is None:
        offered = ", ".join(sorted(names.values())) or "none: leave the sector to the position"
        raise ValueError(f"no sector {given!r} in the region or the routing rules (known: {offered})")
    return known


OUTSIDE_SECTORS = "The position lies outside every sector of the region: check it."


def position_warnings(incident: Incident, region) -> list[Sentence]:
    """What staff should know about where the incident is placed (region: tracker.region.Region): outside
    every sector, in another of the region's sectors than the one the report names (a sector only a
    routing rule names, such as a drill's, contradicts no position), or beyond a border line in a
    sector's part on the other side (the Coast sector's waters beyond the maritime boundary). Each a Sentence
    with the sectors' names apart: the API says it plain (str), the incident page isolates each name."""
    latitude, longitude = incident.latitude, incident.longitude
    if region is None or latitude is None or longitude is None or not region.sectors:
        return []
    lies_in = region.sector_of(latitude, longitude)
    if lies_in is None:
        return [Sentence(OUTSIDE_SECTORS)]
    named = incident.sector
    if named and named != lies_in and any(named == name for name, _ in region.sectors):
        said = "The position lies in sector {lies_in}, not in {named} as the report says: check them."
        return [Sentence(said, {"lies_in": lies_in, "named": named})]
    if region.beyond_border_at(latitude, longitude):
        said = "The position lies beyond the border line, in the other side's part of sector {lies_in}: check it."
        return [Sentence(said, {"lies_in": lies_in})]
    return []


def _releasable_to(given: list[str] | None, limits: FilingLimits) -> list[str]:
    return list(limits.markings.releasable_to) if given is None else given


def _marking_and_counterpart(
    session: Session, draft: IncidentDraft, rule: route_table.CompiledRule, limits: FilingLimits
) -> tuple[dict, str | None]:
    """The incident's marking in the deployment's spelling, and its agreement and other State: its own
    when the report gives them, else the routing rule's; and the agreement's code."""
    classification = limits.markings.lowest if draft.classification is None else draft.classification
    classification, names = marking.check(limits.markings, classification, _releasable_to(draft.releasable_to, limits))
    agreement_id, code = rule.agreement_id, rule.agreement_code
    if draft.agreement:
        agreement = agreement_in_force(session, draft.agreement)
        agreement_id, code = agreement.id, agreement.code
    state = (draft.counterpart_state or "").strip() or rule.counterpart_state or None
    columns = {
        "classification": classification,
        "releasable_to": names,
        "counterpart_state": state,
        "agreement_id": agreement_id,
    }
    return columns, code


def agreement_in_force(session: Session, code: str) -> Agreement:
    """The agreement a report names by its code; ValidationError (on agreement) for none, or one no longer in
    force, which no new incident cites."""
    agreement = session.scalar(select(Agreement).where(Agreement.code == code.strip()))
    if agreement is None or not agreement.active:
        said = "no agreement" if agreement is None else "no agreement in force (inactive):"
        raise ValidationError(INVALID, {"agreement": f"{said} {code!r}"})
    return agreement


def lines_called(session: Session, incident: Incident) -> list[str]:
    """The lines a call to act was queued for at filing, by name, in order (a line down was skipped:
    it is not among them)."""
    names = session.scalars(
        select(ContactChannel.name)
        .join(Notification, Notification.channel_id == ContactChannel.id)
        .where(Notification.incident_id == incident.id, Notification.kind == NotificationKind.NOTIFIED)
        .order_by(Notification.id)
    )
    return list(dict.fromkeys(names))
