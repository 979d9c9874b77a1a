"""Read incidents for the board and the API."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, defer, selectinload

from ...models import Incident, Notification, NotificationStatus, User, channel_members


@dataclass(frozen=True)
class IncidentFilter:
    status: list[str] | None = None
    precedence: list[str] | None = None
    domain: str | None = None
    category: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def list_incidents(session: Session, flt: IncidentFilter, page: int, per_page: int) -> tuple[list[Incident], int]:
    """Return one page of incidents, newest report first, and the total that match."""
    query = select(Incident)
    if flt.status:
        query = query.where(Incident.status.in_(flt.status))
    if flt.precedence:
        query = query.where(Incident.precedence.in_(flt.precedence))
    if flt.domain:
        query = query.where(Incident.domain == flt.domain)
    if flt.category:
        query = query.where(Incident.category == flt.category)
    if flt.since:
        query = query.where(Incident.occurred_at >= flt.since)
    if flt.until:
        query = query.where(Incident.occurred_at < flt.until)
    total = session.scalars(select(func.count()).select_from(query.subquery())).one()
    rows = session.scalars(
        query.order_by(Incident.reported_at.desc(), Incident.id.desc()).offset((page - 1) * per_page).limit(per_page)
    ).all()
    return list(rows), total


BOARD_STATUSES = ("open", "acknowledged", "exhausted")
# A board row shows none of these: leave them in the database (JSON decoding was a quarter of the board's time).
ROW_ONLY = tuple(
    defer(column) for column in (Incident.platforms, Incident.releasability, Incident.narrative, Incident.actions_taken)
)


def _precedence_rank():
    return case({"Z": 0, "O": 1, "P": 2, "R": 3}, value=Incident.precedence, else_=4)


def board(session: Session, status: list[str] | None = None, precedence: list[str] | None = None) -> list[Incident]:
    """Incidents not yet resolved: most urgent precedence first, then the nearest deadline."""
    query = select(Incident).where(Incident.status.in_(status or BOARD_STATUSES))
    if precedence:
        query = query.where(Incident.precedence.in_(precedence))
    query = query.order_by(
        _precedence_rank(), Incident.next_escalation_at.is_(None), Incident.next_escalation_at, Incident.id
    )
    rows = session.scalars(query.options(selectinload(Incident.exercise), *ROW_ONLY).limit(500))
    return _mark_dead_letters(session, list(rows))


def _mark_dead_letters(session: Session, incidents: list[Incident]) -> list[Incident]:
    """Set incident.dead_letter on each (a message given up on), with one query for the whole list."""
    dead = set(
        session.scalars(
            select(Notification.incident_id)
            .where(
                Notification.incident_id.in_([i.id for i in incidents]),
                Notification.status == NotificationStatus.DEAD,
            )
            .distinct()
        )
    )
    for incident in incidents:
        incident.dead_letter = incident.id in dead
    return incidents


def queue(session: Session, user: User) -> list[Incident]:
    """Incidents awaiting acknowledgement on a channel the user belongs to, most urgent first."""
    mine = select(Notification.incident_id).where(
        Notification.channel_id.in_(select(channel_members.c.channel_id).where(channel_members.c.user_id == user.id))
    )
    query = (
        select(Incident)
        .where(Incident.status.in_(("open", "exhausted")), Incident.id.in_(mine))
        .order_by(_precedence_rank(), Incident.next_escalation_at.is_(None), Incident.next_escalation_at)
    )
    return _mark_dead_letters(session, list(session.scalars(query.options(selectinload(Incident.exercise), *ROW_ONLY))))
