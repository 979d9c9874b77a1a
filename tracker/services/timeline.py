"""Append events to an incident's timeline, each chained to the incident's previous event."""

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Connection, Integer, cast, event, func, select
from sqlalchemy.orm import Session, object_session

from ..models import EventKind, Incident, TimelineEvent
from ..timeutil import isoformat, utcnow
from . import audit

# session.info key: incident id -> hash of its newest event, for the session's current transaction.
HEADS = "tracker.timeline.heads"
# First key of the PostgreSQL advisory locks that serialize appends to one incident ("tlch").
CHAIN_LOCK = 0x746C6368


def record(
    session: Session, incident: Incident, kind: EventKind, actor: str, at: datetime, /, **details
) -> TimelineEvent:
    """Append one event; datetimes in details are stored as ISO 8601 UTC strings. The leading
    arguments are positional only, so details may have keys of the same names (kind, at)."""
    clean = {k: isoformat(v) if isinstance(v, datetime) else v for k, v in details.items()}
    event = TimelineEvent(incident=incident, kind=kind, actor=actor, at=at, details=clean)
    session.add(event)
    return event


@event.listens_for(TimelineEvent, "before_insert")
def _link(_mapper, connection: Connection, row: TimelineEvent) -> None:
    """Chain the row to its incident's newest event as it is inserted.

    At insert, not in record(): a new incident has no id before the flush, and the hash then
    covers exactly what is written. Rows of one table are inserted in the order they were added,
    so id order is chain order.
    """
    if row.at is None:
        row.at = utcnow()
    if row.details is None:
        row.details = {}
    if row.incident_id is None:
        return  # no incident: the NOT NULL constraint refuses the row
    session = object_session(row)
    heads = session.info.setdefault(HEADS, {})
    if row.incident_id not in heads:
        pending = {o.incident_id for o in session.new if isinstance(o, TimelineEvent)}
        _read_heads(connection, heads, (pending | {row.incident_id}) - heads.keys() - {None})
    row.prev_hash = heads[row.incident_id]
    row.hash = audit.hash_of(row)
    heads[row.incident_id] = row.hash


def _read_heads(connection: Connection, heads: dict[int, str], incident_ids: Iterable[int]) -> None:
    """Lock the incidents' chains for this transaction, then read the hash of each one's newest event.

    On PostgreSQL a transaction-scoped advisory lock per incident, taken in id order, makes a second
    writer wait until the first commits; a row lock on the incident would do that too, but it would
    also make the sweep's FOR UPDATE SKIP LOCKED pass over an incident someone is commenting on. On
    SQLite every transaction already holds the write lock (BEGIN IMMEDIATE).
    """
    ids = sorted(incident_ids)
    if connection.dialect.name == "postgresql":
        for incident_id in ids:
            connection.execute(
                select(func.pg_advisory_xact_lock(cast(CHAIN_LOCK, Integer), cast(incident_id, Integer)))
            )
    newest = (
        select(func.max(TimelineEvent.id)).where(TimelineEvent.incident_id.in_(ids)).group_by(TimelineEvent.incident_id)
    )
    found = dict(
        connection.execute(
            select(TimelineEvent.incident_id, TimelineEvent.hash).where(TimelineEvent.id.in_(newest))
        ).all()
    )
    heads.update({incident_id: found.get(incident_id, audit.GENESIS) for incident_id in ids})


@event.listens_for(Session, "after_transaction_end")
def _forget_heads(session: Session, transaction) -> None:
    """After a commit, a rollback or a savepoint's end the database is the truth again (not a flush's end)."""
    if transaction.parent is None or transaction.nested:
        session.info.pop(HEADS, None)
