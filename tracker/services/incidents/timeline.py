"""Append events to an incident's timeline (the sweep seals them afterwards: services.audit)."""

from datetime import datetime

from sqlalchemy.orm import Session

from ...models import EventKind, Incident, TimelineEvent
from ...timeutil import isoformat


def record(
    session: Session, incident: Incident, kind: EventKind, actor: str, at: datetime, /, **details
) -> TimelineEvent:
    """Append one event; datetimes in details are stored as ISO 8601 UTC strings. The leading
    arguments are positional only, so details may have keys of the same names (kind, at)."""
    clean = {k: isoformat(v) if isinstance(v, datetime) else v for k, v in details.items()}
    event = TimelineEvent(incident=incident, kind=kind, actor=actor, at=at, details=clean)
    session.add(event)
    return event
