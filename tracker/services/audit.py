"""The timeline's audit chain: each event hashes its content and its predecessor's hash.

Each incident has a chain of its own (its events in id order), so incidents never contend.
An edited row no longer matches its own hash; a deleted or inserted row breaks the link of the
event after it. Truncating an incident's newest events leaves no trace in the chain itself.
"""

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from sqlalchemy import Row, and_, or_, select
from sqlalchemy.orm import Session

from ..models import Incident, TimelineEvent

GENESIS = "0" * 64
BATCH_SIZE = 1000
CONTENT = "content"
LINK = "link"


def canonical(prev_hash: str, incident_id: int, kind, actor: str, at: datetime, details: dict) -> bytes:
    """Serialize an event's content the same way however it was read (UTF-8 JSON, sorted keys)."""
    # Round-trip details through JSON first: that is what the database gives back (tuples become
    # lists, integer keys strings), and it lets keys of mixed types sort.
    stored = json.loads(json.dumps(details or {}))
    content = [prev_hash, incident_id, getattr(kind, "value", kind), actor, format_at(at), stored]
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8", "surrogatepass")  # a lone surrogate from a JSON body must not fail the insert


def format_at(at: datetime) -> str:
    """ISO 8601 in UTC, always with microseconds (SQLite and PostgreSQL both keep them)."""
    if at.tzinfo is None:
        raise ValueError("naive datetime given; timeline times are aware UTC")
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_hash(prev_hash: str, incident_id: int, kind, actor: str, at: datetime, details: dict) -> str:
    """Return the hex SHA-256 of an event's canonical serialization."""
    return hashlib.sha256(canonical(prev_hash, incident_id, kind, actor, at, details)).hexdigest()


def hash_of(event) -> str:
    """The hash an event (a TimelineEvent or a row of STORED) should carry."""
    return event_hash(event.prev_hash, event.incident_id, event.kind, event.actor, event.at, event.details)


@dataclass(frozen=True)
class Break:
    """The first event whose chain does not hold."""

    event_id: int
    incident_id: int
    kind: str
    problem: str  # CONTENT: the row changed after it was written; LINK: a row before it went or came
    expected: str
    found: str
    reference: str | None = None

    def describe(self) -> str:
        where = f"event {self.event_id} of {self.reference or f'incident {self.incident_id}'} ({self.kind})"
        if self.problem == CONTENT:
            return (
                f"audit chain broken at {where}: its content changed after it was recorded "
                f"(stored hash {self.found}, content hashes to {self.expected})"
            )
        return (
            f"audit chain broken at {where}: the link to the previous event is broken, an event "
            f"before it was deleted or inserted (it names {self.found} as previous, the chain before "
            f"it ends in {self.expected})"
        )


@dataclass
class Verdict:
    """What a walk along the chains found: counts, and the first break if any."""

    events: int = 0
    incidents: int = 0
    broken: Break | None = None
    _incident_id: int | None = field(default=None, repr=False)
    _head: str = field(default=GENESIS, repr=False)

    @property
    def intact(self) -> bool:
        return self.broken is None

    def check(self, event) -> bool:
        """Check the next event (in incident, then id order); return False at the first break."""
        if event.incident_id != self._incident_id:
            self._incident_id, self._head = event.incident_id, GENESIS
            self.incidents += 1
        kind = getattr(event.kind, "value", event.kind)
        content = hash_of(event)
        if content != event.hash:
            self.broken = Break(event.id, event.incident_id, kind, CONTENT, content, event.hash)
        elif event.prev_hash != self._head:
            self.broken = Break(event.id, event.incident_id, kind, LINK, self._head, event.prev_hash)
        else:
            self.events += 1
            self._head = event.hash
        return self.broken is None


STORED = (
    TimelineEvent.id,
    TimelineEvent.incident_id,
    TimelineEvent.kind,
    TimelineEvent.actor,
    TimelineEvent.at,
    TimelineEvent.details,
    TimelineEvent.prev_hash,
    TimelineEvent.hash,
)


def events_after(session: Session, after: tuple[int, int], limit: int, incident_id: int | None = None) -> list[Row]:
    """The next limit events in (incident, id) order after the (incident_id, id) cursor."""
    last_incident, last_id = after
    query = (
        select(*STORED)
        .where(
            or_(
                TimelineEvent.incident_id > last_incident,
                and_(TimelineEvent.incident_id == last_incident, TimelineEvent.id > last_id),
            )
        )
        .order_by(TimelineEvent.incident_id, TimelineEvent.id)
        .limit(limit)
    )
    if incident_id is not None:
        query = query.where(TimelineEvent.incident_id == incident_id)
    return list(session.execute(query))


SessionOpener = Callable[[], AbstractContextManager[Session]]


def stored_events(open_session: SessionOpener, incident_id: int | None = None, size: int = BATCH_SIZE) -> Iterator[Row]:
    """Stream the timeline in (incident, id) order, one short transaction per batch.

    Short transactions because SQLite's sessions take the write lock at BEGIN: one long read
    would hold up the scheduler for the whole walk.
    """
    after = (0, 0)
    while True:
        with open_session() as session:
            rows = events_after(session, after, size, incident_id)
        yield from rows
        if len(rows) < size:
            return
        after = (rows[-1].incident_id, rows[-1].id)


def walk(events: Iterable) -> Verdict:
    """Check events given in (incident, id) order; stop at the first break."""
    verdict = Verdict()
    for event in events:
        if not verdict.check(event):
            break
    return verdict


def verify(open_session: SessionOpener, incident_id: int | None = None, size: int = BATCH_SIZE) -> Verdict:
    """Walk every incident's chain (or one incident's) and name the first broken link."""
    verdict = walk(stored_events(open_session, incident_id, size))
    if verdict.broken is not None:
        with open_session() as session:
            reference = session.scalar(select(Incident.reference).where(Incident.id == verdict.broken.incident_id))
        verdict.broken = replace(verdict.broken, reference=reference)
    return verdict
