"""What a filing leaves to the sweep: the related-incident search and the exercise link.

Neither changes where an incident is routed or who is called, so the duty officer's answer does not
wait for them: filing sets checks_due_at, and the next sweep claims those incidents (FOR UPDATE SKIP
LOCKED on PostgreSQL, so two schedulers never check one twice) and does both in the claim's own
transaction; a crash leaves the incident due again. The incident page says "being checked" meanwhile.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ...models import Incident
from ..engine.claims import SetAside, among_claimable, load_claimed
from ..exercises import register
from . import related


@dataclass(frozen=True)
class CheckLimits:
    related_distance_km: float = 50.0
    related_window_hours: float = 72.0
    no_notice_border_km: float | None = register.NO_NOTICE_BORDER_KM


def needs_checks(latitude: float | None, longitude: float | None) -> bool:
    """Only an incident with a position can be near another or inside an exercise's area."""
    return latitude is not None and longitude is not None


def claim_due(session: Session, now: datetime, limit: int, aside: SetAside | None = None) -> list[int]:
    """Claim up to limit incidents whose checks are due, passing over those set aside; return their ids
    (their checks_due_at cleared)."""
    due = (
        select(Incident.id)
        .where(Incident.checks_due_at <= now)
        .order_by(Incident.checks_due_at, Incident.id)
        .limit(limit)
    )
    aside = aside or SetAside()
    claim = (
        update(Incident)
        .where(among_claimable(session, Incident.id, aside.excluded(due, Incident.id)))
        .values(checks_due_at=None)
        .returning(Incident.id)
    )
    return aside.took(list(session.execute(claim, execution_options={"synchronize_session": False}).scalars()))


def check(session: Session, incident: Incident, now: datetime, limits: CheckLimits) -> None:
    """Link the incident to the exercise holding it (or flag no notice) and suggest its related incidents."""
    register.link_incident(session, incident, now, limits.no_notice_border_km)
    related.suggest_for(session, incident, now, limits.related_distance_km, limits.related_window_hours)


def check_batch(session: Session, now: datetime, limit: int, limits: CheckLimits, aside: SetAside | None = None) -> int:
    """Claim and check one batch of newly filed incidents, passing over those set aside; return how many."""
    ids = claim_due(session, now, limit, aside)
    for incident in load_claimed(session, Incident, ids):
        check(session, incident, now, limits)
    session.flush()
    return len(ids)
