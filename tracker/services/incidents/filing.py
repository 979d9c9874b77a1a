"""File an incident: validate, assign a reference, route, snapshot the ladder, queue step 1."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from ...errors import ValidationError
from ...models import (
    Domain,
    EscalationRisk,
    EventKind,
    Incident,
    IncidentStatus,
    NotificationKind,
    Precedence,
    SafetyRisk,
    User,
)
from ...timeutil import format_dtg
from ..engine import notify
from ..engine.links import AckLinks
from ..exchanges import releasability
from ..exercises import register
from . import related, timeline
from .references import next_reference
from .routing import RouteQuery, category_problem, choose_rule, locate, snapshot_ladder


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
    platforms: list[dict] = field(default_factory=list)
    # Overrides of what may go to the other side ({"narrative": true}); see services.releasability.
    releasability: dict[str, bool] = field(default_factory=dict)

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


def check_draft(draft: IncidentDraft, limits: FilingLimits, now: datetime) -> None:
    """Raise ValidationError listing every rule of the catalogue or limits the draft breaks."""
    problems: dict[str, str | dict] = {}  # releasability's are a dict by field
    wrong_category = category_problem(draft.domain, draft.category)
    if wrong_category:
        problems["category"] = wrong_category
    if draft.occurred_at > now + timedelta(seconds=limits.max_future_skew_seconds):
        problems["occurred_at"] = f"{draft.occurred_at.isoformat()} is in the future"
    if len(draft.narrative) > limits.narrative_max_length:
        problems["narrative"] = f"longer than {limits.narrative_max_length} characters"
    if (draft.latitude is None) != (draft.longitude is None):
        problems["latitude" if draft.latitude is None else "longitude"] = "give latitude and longitude together"
    if not draft.reporting_unit.strip():
        problems["reporting_unit"] = "must not be blank"
    try:
        releasability.check_overrides(draft.releasability)
    except ValidationError as error:
        problems["releasability"] = error.details
    if problems:
        raise ValidationError("the incident report is not valid", problems)


def file_incident(
    session: Session, draft: IncidentDraft, actor: User, limits: FilingLimits, now: datetime, links: AckLinks
) -> Incident:
    """Store a new incident routed to its policy, with step 1 queued (its calls to act carrying
    acknowledge links made with links), in the caller's transaction."""
    check_draft(draft, limits, now)
    query = locate(draft.route_query(), limits.region)
    rule = choose_rule(session, query)
    ladder = snapshot_ladder(rule, draft.precedence)
    incident = Incident(
        reference=next_reference(session, limits.reference_prefix, now.year),
        reported_at=now,
        status=IncidentStatus.OPEN,
        ladder=ladder,
        routing_rule_id=rule.id,
        policy_id=rule.policy_id,
        current_step=1,
        loop=0,
        filed_by=actor,
        **{**vars(draft), "sector": query.sector},
        border_distance_km=query.border_distance_km,
    )
    session.add(incident)
    timeline.record(
        session,
        incident,
        EventKind.FILED,
        actor.username,
        now,
        occurred_at=draft.occurred_at,
        occurred_dtg=format_dtg(draft.occurred_at),
        precedence=draft.precedence.value,
        category=draft.category,
    )
    channels = notify.enter_step(
        session, incident, NotificationKind.NOTIFIED, now, notify.Recipients.for_step(session, incident.step), links
    )
    timeline.record(
        session,
        incident,
        EventKind.ROUTED,
        "router",
        now,
        rule=rule.name,
        policy=ladder["policy_name"],
        steps=len(ladder["steps"]),
        channels=[c.name for c in channels],
        next_escalation_at=incident.next_escalation_at,
    )
    register.link_incident(session, incident, now, limits.no_notice_border_km)
    related.suggest_for(session, incident, now, limits.related_distance_km, limits.related_window_hours)
    session.flush()
    return incident
