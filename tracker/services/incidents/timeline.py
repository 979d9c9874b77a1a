"""Append events to an incident's timeline (the sweep seals them afterwards: services.audit)."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy.orm import Session

from ...geo import plain_values
from ...models import EventKind, Incident, Notification, TimelineEvent
from ...models.bulk import insert_rows
from ...timeutil import isoformat

# session.info key of the rows a sweep batch writes in bulk (written_in_bulk).
_BULK = "tracker.rows_in_bulk"


def record(
    session: Session, incident: Incident, kind: EventKind, actor: str, at: datetime, /, **details
) -> TimelineEvent:
    """Append one event; datetimes in details are stored as ISO 8601 UTC strings. The leading
    arguments are positional only, so details may have keys of the same names (kind, at)."""
    event = TimelineEvent(incident=incident, kind=kind, actor=actor, at=at, details=_clean(details))
    session.add(event)
    return event


def note(session: Session, incident: Incident, kind: EventKind, actor: str, at: datetime, /, **details) -> None:
    """Append one event as record does; inside written_in_bulk, as a plain row written with the batch's
    others (an incident already stored only: a new one has no id to name)."""
    rows = bulk_rows(session, TimelineEvent)
    if rows is None or incident.id is None:
        record(session, incident, kind, actor, at, **details)
        return
    rows.append({"incident_id": incident.id, "kind": kind, "actor": actor, "at": at, "details": _clean(details)})


@contextmanager
def written_in_bulk(session: Session) -> Iterator[None]:
    """Within: the timeline events note appends and the outbox rows notify queues are kept as plain rows
    and written when the block ends, one COPY (or INSERT) per table (models.bulk): a sweep batch writes
    thousands, and an ORM object each costs more than the rest of advancing an incident. Nothing is
    written if the block raises; the caller's transaction rolls back as ever."""
    with gathered(session) as rows:
        yield
    for model, values in rows.items():
        insert_rows(session, model, values)


@contextmanager
def gathered(session: Session) -> Iterator[dict[type, list[dict]]]:
    """Within: note and notify keep their rows as written_in_bulk has them, in the lists yielded (by model:
    TimelineEvent, Notification), for the caller to write (a filing: services.incidents.writing)."""
    rows: dict[type, list[dict]] = {TimelineEvent: [], Notification: []}
    session.info[_BULK] = rows
    try:
        yield rows
    finally:
        del session.info[_BULK]


def bulk_rows(session: Session, model: type) -> list[dict] | None:
    """The rows of model being gathered by written_in_bulk, or None outside it."""
    gathering = session.info.get(_BULK)
    return gathering[model] if gathering is not None else None


def _clean(details: dict) -> dict:
    """The details as stored: datetimes as ISO 8601 UTC, no -0.0 (geo.plain_values), which the pages show as 0."""
    return {k: isoformat(v) if isinstance(v, datetime) else plain_values(v) for k, v in details.items()}
