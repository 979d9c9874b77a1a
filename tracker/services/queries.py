"""Read incidents for the board and the API."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import Incident


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
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.scalars(
        query.order_by(Incident.reported_at.desc(), Incident.id.desc()).offset((page - 1) * per_page).limit(per_page)
    ).all()
    return list(rows), total
