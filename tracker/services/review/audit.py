"""The audit chain: timeline events, and watch handovers once signed, are sealed after they commit,
one seal chained to the next (handovers: handover_seals).

Appending an event takes no lock and computes no hash. The sweep (or `flask --app wsgi audit seal`)
seals committed events afterwards, one sealer at a time, into a single chain in seal order: seal n
(audit_seals, insert-only) holds the SHA-256 of its event's content and of seal n - 1's hash. An
edited event no longer matches its seal, a deleted event leaves its seal pointing at nothing, a
deleted seal leaves a gap in seq. A seal names the incident its event belonged to when sealed, so one
incident's seals are found even after its event was moved to another incident (whose id the hash covers).
Not shown from inside the database: events not yet sealed, seals
cut off the end of the chain (an older copy of the database: a file copied without its -wal file, a
restore of an older backup), and a rewrite of the whole chain by someone who recomputes every hash.
Against those two the chain head is kept outside the database after each commit of new seals (the
anchor, tracker.backup.anchor): verify finds the anchor's seal in the database with the anchor's hash.
"""

import hashlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import SimpleNamespace

from sqlalchemy import BigInteger, Row, cast, column, func, literal, or_, select, table, type_coerce
from sqlalchemy.dialects.postgresql import REGCLASS
from sqlalchemy.orm import Session, aliased
from sqlalchemy.types import NullType

from ...models import AuditSeal, Counter, Handover, Incident, TimelineEvent
from ...models.bulk import insert_rows
from ...timeutil import utcnow
from . import handover_seals, sealed_logs
from .hashing import UNREADABLE, as_stored, canonical_json, format_at, read_back

GENESIS = "0" * 64
BATCH_SIZE = 1000
# The problems a seal can have, in the order they are checked; then those the anchor shows.
GAP, LINK, MISSING, CONTENT = "gap", "link", "missing", "content"
# CONTENT of an event that now names another incident than the one it was sealed under.
MOVED = "moved"
CUT, REWRITTEN = "cut", "rewritten"
# An event no seal will ever hold: its id is at or below the watermark, yet it has none.
INSERTED = "inserted"
# The one PostgreSQL advisory lock of the audit chain ("audt"): taken by the sealer only, never on the hot path.
SEALER_LOCK = 0x61756474
# counters row: every event with an id up to this is sealed, and no event with such an id can still appear.
WATERMARK = "audit.sealed_through"

SessionOpener = Callable[[], AbstractContextManager[Session]]


def canonical(prev_hash: str, event_id: int, incident_id: int, kind, actor: str, at: datetime, details: dict) -> bytes:
    """Serialize an event's content the same way however it was read (UTF-8 JSON, sorted keys).

    The event's own id is part of it, so content moved from one row to another does not match.
    """
    # Round-trip details through JSON first: that is what the database gives back (tuples become
    # lists, integer keys strings), and it lets keys of mixed types sort.
    stored = as_stored(details or {})
    content = [prev_hash, event_id, incident_id, getattr(kind, "value", kind), actor, format_at(at), stored]
    return canonical_json(content)


def event_hash(prev_hash: str, event_id: int, incident_id: int, kind, actor: str, at: datetime, details: dict) -> str:
    """Return the hex SHA-256 of an event's canonical serialization."""
    return hashlib.sha256(canonical(prev_hash, event_id, incident_id, kind, actor, at, details)).hexdigest()


def hash_of(prev_hash: str, event) -> str:
    """The hash of a seal of event (a TimelineEvent or a row of EVENT) after a seal hashing to prev_hash."""
    return event_hash(prev_hash, event.id, event.incident_id, event.kind, event.actor, event.at, event.details)


EVENT = (
    TimelineEvent.id,
    TimelineEvent.incident_id,
    TimelineEvent.kind,
    TimelineEvent.actor,
    TimelineEvent.at,
    TimelineEvent.details,
)


def _unsealed():
    return ~select(AuditSeal.seq).where(AuditSeal.event_id == TimelineEvent.id).exists()


@dataclass(frozen=True)
class ChainHead:
    """The chain's last seal: its seq, its hash and the event (or the handover) it seals."""

    seq: int
    hash: str
    event_id: int | None
    handover_id: int | None = None


def head(session: Session, handovers: bool = True) -> ChainHead | None:
    """The chain's last seal, or None before the first. handovers=False: on a schema before 0031, whose
    seals seal events only (a backup is taken before the upgrade)."""
    columns = (AuditSeal.seq, AuditSeal.hash, AuditSeal.event_id, *([AuditSeal.handover_id] if handovers else []))
    last = session.execute(select(*columns).order_by(AuditSeal.seq.desc()).limit(1)).first()
    return None if last is None else ChainHead(*last)


def seal(session: Session, limit: int = BATCH_SIZE, wait: bool = True) -> int:
    """Seal up to limit unsealed events, lowest id first, then signed handovers, onto the end of the chain;
    return how many.

    Without wait, return 0 at once when another sealer holds the lock (it is sealing them already).
    """
    return _seal(session, limit, wait)[0]


def _seal(session: Session, limit: int, wait: bool) -> tuple[int, ChainHead | None]:
    """seal(), and the chain's new head when it sealed any."""
    if not _lock_sealer(session, wait):
        return 0, None
    mark = session.get(Counter, WATERMARK) or Counter(name=WATERMARK, value=0)
    settled = _settled_through(session)  # before reading the events: see there
    last = session.execute(select(AuditSeal.seq, AuditSeal.hash).order_by(AuditSeal.seq.desc()).limit(1)).first()
    # Above the watermark only, so the scan stays short: late commits sit above it, by its definition.
    events = session.execute(
        select(*EVENT).where(TimelineEvent.id > mark.value, _unsealed()).order_by(TimelineEvent.id).limit(limit)
    ).all()
    handovers = handover_seals.to_seal(session, limit - len(events))
    logs = sealed_logs.logs_to_seal(session, {handover.from_watch_id for handover in handovers})
    seq, head = last or (0, GENESIS)
    now, seals = utcnow(), []
    for event in events:
        seq, digest = seq + 1, hash_of(head, event)
        sealed = {"event_id": event.id, "handover_id": None, "incident_id": event.incident_id, "watch_log": None}
        seals.append({"seq": seq, **sealed, "prev_hash": head, "hash": digest, "sealed_at": now})
        head = digest
    for handover in handovers:
        log = logs[handover.from_watch_id]
        seq, digest = seq + 1, handover_seals.handover_hash(head, handover, log)
        sealed = {"event_id": None, "handover_id": handover.id, "incident_id": None, "watch_log": log}
        seals.append({"seq": seq, **sealed, "prev_hash": head, "hash": digest, "sealed_at": now})
        head = digest
    insert_rows(session, AuditSeal, seals)
    if settled is not None:
        # Every event up to settled is committed or gone; those read are sealed now (all when not cut by limit).
        reached = settled if len(events) < limit else min(settled, events[-1].id)
        if reached > mark.value:
            mark.value = reached
            session.add(mark)
    if not seals:
        return 0, None
    last_seal = seals[-1]
    return len(seals), ChainHead(last_seal["seq"], head, last_seal["event_id"], last_seal["handover_id"])


def seal_all(
    open_session: SessionOpener,
    size: int = BATCH_SIZE,
    wait: bool = True,
    on_sealed: Callable[[ChainHead], None] | None = None,
) -> int:
    """Seal every unsealed event, one short transaction per batch; return how many. on_sealed is given
    the chain's new head after each batch has committed (to keep it outside the database)."""
    total = 0
    while True:
        with open_session() as session:
            sealed, new_head = _seal(session, size, wait)
        if new_head is not None and on_sealed is not None:
            on_sealed(new_head)
        total += sealed
        if sealed < size:
            return total


def _lock_sealer(session: Session, wait: bool) -> bool:
    """Make this transaction the only sealer until it ends.

    SQLite: BEGIN IMMEDIATE already gave it the database's only write lock (tracker.db).
    """
    if session.get_bind().dialect.name != "postgresql":
        return True
    key = cast(SEALER_LOCK, BigInteger)
    if wait:
        session.execute(select(func.pg_advisory_xact_lock(key)))
        return True
    return bool(session.scalar(select(func.pg_try_advisory_xact_lock(key))))


PG_LOCKS = table("pg_locks", column("database"), column("relation"), column("mode"), column("pid"))
PG_DATABASE = table("pg_database", column("oid"), column("datname"))


def _settled_through(session: Session) -> int | None:
    """The highest event id such that no event with an id up to it can still appear; None when unknown.

    A transaction may draw an event id, let later ids commit and be sealed, and commit after them:
    that event has to be found by a later seal. On SQLite no one else is half-way through a write
    while this transaction holds the write lock, so every id drawn so far is committed or rolled back.
    On PostgreSQL an INSERT takes ROW EXCLUSIVE on timeline_events before it draws its id and keeps
    it until its transaction ends: read the id sequence first, then look for such a lock held by
    another transaction; if there is none, every id up to the sequence's value is settled. (The
    sequence hands out ids in order: serial's default cache of 1.) The events must be read after this.
    """
    if session.get_bind().dialect.name != "postgresql":
        return session.scalar(select(func.coalesce(func.max(TimelineEvent.id), 0)))
    events = cast(literal(TimelineEvent.__tablename__), REGCLASS)
    sequence = cast(func.pg_get_serial_sequence(TimelineEvent.__tablename__, "id"), REGCLASS)
    this_database = select(PG_DATABASE.c.oid).where(PG_DATABASE.c.datname == func.current_database()).scalar_subquery()
    drawn = session.scalar(select(func.coalesce(func.pg_sequence_last_value(sequence), 0)))
    inserting = session.scalar(
        select(func.count())
        .select_from(PG_LOCKS)
        .where(
            PG_LOCKS.c.database == this_database,
            PG_LOCKS.c.relation == events,
            PG_LOCKS.c.mode == "RowExclusiveLock",
            PG_LOCKS.c.pid.is_distinct_from(func.pg_backend_pid()),  # a prepared transaction has none
        )
    )
    return drawn if inserting == 0 else None


@dataclass(frozen=True)
class Break:
    """The first seal that does not hold."""

    seq: int
    event_id: int | None  # None: the seal is a handover's
    # GAP, LINK, MISSING, CONTENT or MOVED, a line of a handed-over watch's log (sealed_logs: ENTRY_CHANGED,
    # ENTRY_DELETED, ENTRY_ADDED), what the anchor shows: CUT, REWRITTEN; or INSERTED
    problem: str
    expected: str  # the hash the chain calls for
    found: str | None  # what is on record instead (None: nothing, the row is gone)
    incident_id: int | None = None  # None when the event is gone
    kind: str | None = None
    reference: str | None = None
    sealed_incident_id: int | None = None  # MOVED, MISSING: the incident the event was sealed under
    sealed_reference: str | None = None
    handover_id: int | None = None
    entry_id: int | None = None  # the line of the watch handed over, for sealed_logs' problems

    def describe(self) -> str:
        record = f"event {self.event_id}" if self.handover_id is None else f"handover {self.handover_id}"
        if self.problem == CUT:
            return (
                f"audit chain cut short: seal {self.seq} ({record}, hash {self.expected}) was committed "
                "and recorded outside the database, but this database has no such seal: it is an older copy "
                "missing the newest events (a file copied without its -wal file, or an older backup restored "
                "without `flask --app wsgi restore`)"
            )
        if self.problem == REWRITTEN:
            return (
                f"audit chain rewritten: seal {self.seq} hashed to {self.expected} when it was committed "
                f"(recorded outside the database), but this database's seal {self.seq} hashes to {self.found}: "
                "the chain was recomputed, or this is another database"
            )
        if self.problem == INSERTED:
            return (
                f"audit chain broken at event {self.event_id} of {self.reference or f'incident {self.incident_id}'} "
                f"({self.kind}): the event has no seal and will never have one, since every event up to "
                f"{self.found} was already committed and sealed when it appeared (the chain ends at seal "
                f"{self.seq}, hash {self.expected}): it was inserted into timeline_events behind the "
                "application's back, with an id of its choosing"
            )
        where = record
        if self.incident_id is not None:
            where += f" of {self.reference or f'incident {self.incident_id}'} ({self.kind})"
        text = f"audit chain broken at {where}, seal {self.seq}: "
        if self.entry_id is not None:
            return text + self._entry_text()
        if self.problem == GAP:
            return text + (
                f"seal {self.seq - 1} before it is missing, deleted from audit_seals "
                f"(seal {self.seq} names {self.expected} as previous)"
            )
        if self.problem == LINK:
            before = f"seal {self.seq - 1} hashes to" if self.seq > 1 else "the chain starts from"
            return text + (
                f"its link to the seal before it is broken (it names {self.found} as previous, "
                f"{before} {self.expected})"
            )
        if self.problem == MISSING:
            whose = ""
            if self.sealed_incident_id is not None:
                whose = f"an event of {self.sealed_reference or f'incident {self.sealed_incident_id}'}, "
            table = "timeline_events" if self.handover_id is None else "handovers"
            gone = f"the {record.split()[0]} is gone, deleted from {table}"
            return text + f"{gone} ({whose}its seal is {self.expected})"
        if self.problem == MOVED:
            sealed = self.sealed_reference or f"incident {self.sealed_incident_id}"
            return text + (
                f"it was sealed as an event of {sealed} and has been moved to another incident since (its "
                f"incident edited in the database; sealed hash {self.expected}, content now hashes to {self.found})"
            )
        if self.found is None:
            return text + (
                f"its content changed after it was sealed (sealed hash {self.expected}) into something that "
                "cannot be read: its time or its details are no time or no JSON"
            )
        return text + (
            f"its content changed after it was sealed (sealed hash {self.expected}, content now hashes to {self.found})"
        )

    def _entry_text(self) -> str:
        line = f"line {self.entry_id} of the log of the watch handed over"
        if self.problem == sealed_logs.ENTRY_DELETED:
            gone = "deleted from watch_entries or moved to another watch"
            return f"{line} is gone, {gone} (it was sealed as {self.expected})"
        if self.problem == sealed_logs.ENTRY_ADDED:
            return (
                f"{line} was not in it when the handover was sealed (it now hashes to {self.found}): the log closed "
                "when the handover was signed, so it was written into watch_entries behind the application's back, "
                "or moved there from another watch"
            )
        if self.found is None:
            return f"{line} changed after it was sealed (sealed as {self.expected}) into a time that cannot be read"
        return f"{line} changed after it was sealed (sealed as {self.expected}, it now hashes to {self.found})"


def check(row) -> Break | None:
    """Check one seal (a row of seals_after) against the seal before it and against its event."""

    def broken(problem: str, expected: str, found: str | None = None) -> Break:
        kind = getattr(row.kind, "value", row.kind)
        sealed = row.sealed_incident_id if problem in (MOVED, MISSING) else None
        return Break(
            row.seq,
            row.event_id,
            problem,
            expected,
            found,
            row.incident_id,
            kind,
            sealed_incident_id=sealed,
            handover_id=row.handover_id,
        )

    if row.seq > 1 and row.previous_hash is None:
        return broken(GAP, row.prev_hash)
    previous = GENESIS if row.seq == 1 else row.previous_hash
    if row.prev_hash != previous:
        return broken(LINK, previous, row.prev_hash)
    if row.handover_id is not None:
        return _check_handover(row, broken)
    if row.found_id is None:
        return broken(MISSING, row.hash)
    if row.at is UNREADABLE or row.details is UNREADABLE:
        return broken(CONTENT, row.hash)
    content = event_hash(row.prev_hash, row.found_id, row.incident_id, row.kind, row.actor, row.at, row.details)
    if content != row.hash:
        moved = row.sealed_incident_id is not None and row.sealed_incident_id != row.incident_id
        return broken(MOVED if moved else CONTENT, row.hash, content)
    return None


def _check_handover(row, broken: Callable[..., Break]) -> Break | None:
    """Check a handover's seal against the handover."""
    if getattr(row, handover_seals.FOUND) is None:
        return broken(MISSING, row.hash)
    handover = handover_seals.as_read(row)
    if any(getattr(handover, name) is UNREADABLE for name in (*handover_seals.TIMES, "brief")):
        return broken(CONTENT, row.hash)
    if row.watch_log is UNREADABLE or not sealed_logs.well_formed(row.watch_log):  # the seal's own log edited
        return broken(CONTENT, row.hash)
    content = handover_seals.handover_hash(row.prev_hash, handover, row.watch_log)
    if content != row.hash:
        return broken(CONTENT, row.hash, content)
    # The log the seal keeps is the one its hash covers: each line on record now is checked against it.
    changed = None if row.watch_log is None else sealed_logs.first_change(row.watch_log, row.log_now)
    if changed is None:
        return None
    problem, entry_id, sealed, now = changed
    return replace(broken(problem, sealed or row.hash, now), entry_id=entry_id)


@dataclass
class Verdict:
    """What a walk along the chain found: counts, the last seal that holds, and the first break if any."""

    seals: int = 0
    unsealed: int = 0
    last_seq: int | None = None
    last_hash: str | None = None
    broken: Break | None = None
    incident_ids: set[int] = field(default_factory=set, repr=False)

    @property
    def intact(self) -> bool:
        return self.broken is None

    @property
    def incidents(self) -> int:
        return len(self.incident_ids)


def walk(rows: Iterable) -> Verdict:
    """Check seals given in seq order; stop at the first break."""
    verdict = Verdict()
    for row in rows:
        verdict.broken = check(row)
        if verdict.broken is not None:
            break
        verdict.seals += 1
        verdict.last_seq, verdict.last_hash = row.seq, row.hash
        if row.incident_id is not None:  # a handover's seal is no incident's
            verdict.incident_ids.add(row.incident_id)
    return verdict


# An event's time and details as the driver gives them, decoded one row at a time (_decoded, hashing.read_back).
# A handover's times and brief likewise (handover_seals.RAW).
RAW = {name: TimelineEvent.__table__.c[name] for name in ("at", "details")} | handover_seals.RAW


def _decoded(row: Row, dialect) -> SimpleNamespace:
    """row with its raw times and JSON decoded as their columns' types would, UNREADABLE where they fail."""
    values = row._asdict()
    for name, raw in RAW.items():
        values[name] = read_back(raw, values[name], dialect)
    return SimpleNamespace(**values)


def seals_after(session: Session, after: int, limit: int, incident_id: int | None = None) -> list[SimpleNamespace]:
    """The next limit seals after seq after, each with the hash of the seal before it and its event (or
    handover).

    incident_id: only the seals of that incident's events, and of events sealed as that incident's (seals
    before migration 0030 name the incident their event had then), so an event moved off it is still seen.
    """
    previous = aliased(AuditSeal)
    query = (
        select(
            AuditSeal.seq,
            AuditSeal.event_id,
            AuditSeal.handover_id,
            AuditSeal.prev_hash,
            AuditSeal.hash,
            AuditSeal.incident_id.label("sealed_incident_id"),
            previous.hash.label("previous_hash"),
            TimelineEvent.id.label("found_id"),
            TimelineEvent.incident_id,
            TimelineEvent.kind,
            TimelineEvent.actor,
            *(type_coerce(RAW[name], NullType()).label(name) for name in ("at", "details")),
            *handover_seals.columns(),
        )
        .select_from(AuditSeal)
        .outerjoin(previous, previous.seq == AuditSeal.seq - 1)
        .outerjoin(TimelineEvent, TimelineEvent.id == AuditSeal.event_id)
        .outerjoin(Handover, Handover.id == AuditSeal.handover_id)
        .where(AuditSeal.seq > after)
        .order_by(AuditSeal.seq)
        .limit(limit)
    )
    if incident_id is not None:
        query = query.where(or_(AuditSeal.incident_id == incident_id, TimelineEvent.incident_id == incident_id))
    dialect = session.get_bind().dialect
    return handover_seals.with_logs_now(session, [_decoded(row, dialect) for row in session.execute(query)])


def stored_seals(
    open_session: SessionOpener, incident_id: int | None = None, size: int = BATCH_SIZE
) -> Iterator[SimpleNamespace]:
    """Stream the seals in seq order, one short transaction per batch.

    Short transactions because SQLite's sessions take the write lock at BEGIN: one long read
    would hold up the scheduler for the whole walk.
    """
    after = 0
    while True:
        with open_session() as session:
            rows = seals_after(session, after, size, incident_id)
        yield from rows
        if len(rows) < size:
            return
        after = rows[-1].seq


def count_unsealed(session: Session, incident_id: int | None = None) -> int:
    """How many events (of one incident; or all, and signed handovers) have no seal yet."""
    query = select(func.count()).select_from(TimelineEvent).where(_unsealed())
    if incident_id is not None:
        return session.scalars(query.where(TimelineEvent.incident_id == incident_id)).one()
    return session.scalars(query).one() + handover_seals.count_unsealed(session)


def inserted_below(session: Session, incident_id: int | None = None) -> Break | None:
    """The lowest event without a seal whose id is at or below the watermark, as a break; None if none.

    The sealer only looks above the watermark, for no event with an id up to it can still appear
    (_settled_through): one there was written with an id chosen by hand, e.g. back-dated between
    sealed ones, and would otherwise wait "not yet sealed" for ever.
    """
    mark = session.scalar(select(Counter.value).where(Counter.name == WATERMARK))
    if mark is None:
        return None
    query = select(TimelineEvent.id, TimelineEvent.incident_id, TimelineEvent.kind).where(
        TimelineEvent.id <= mark, _unsealed()
    )
    if incident_id is not None:
        query = query.where(TimelineEvent.incident_id == incident_id)
    event = session.execute(query.order_by(TimelineEvent.id).limit(1)).first()
    if event is None:
        return None
    last = head(session) or ChainHead(0, GENESIS, 0)
    kind = getattr(event.kind, "value", event.kind)
    return Break(last.seq, event.id, INSERTED, last.hash, str(mark), event.incident_id, kind)


def against_anchor(session: Session, anchor: ChainHead) -> Break | None:
    """Check that the database holds the seal the anchor recorded, with the same hash."""
    found = session.scalar(select(AuditSeal.hash).where(AuditSeal.seq == anchor.seq))
    if found == anchor.hash:
        return None
    problem = CUT if found is None else REWRITTEN
    return Break(anchor.seq, anchor.event_id, problem, anchor.hash, found, handover_id=anchor.handover_id)


def verify(
    open_session: SessionOpener, incident_id: int | None = None, size: int = BATCH_SIZE, anchor: ChainHead | None = None
) -> Verdict:
    """Walk the chain (or only one incident's seals, those of events sealed as its own included, each
    still checked against the seal before it),
    name the first broken link, check the database against the anchor (the chain head recorded
    outside it, if any), find events no seal will ever hold, and count the events not yet sealed."""
    verdict = walk(stored_seals(open_session, incident_id, size))
    with open_session() as session:
        if verdict.broken is None and anchor is not None:
            verdict.broken = against_anchor(session, anchor)
        if verdict.broken is None:
            verdict.broken = inserted_below(session, incident_id)
        verdict.unsealed = count_unsealed(session, incident_id)
        broken = verdict.broken
        if broken is not None:
            verdict.broken = replace(
                broken,
                reference=_reference(session, broken.incident_id),
                sealed_reference=_reference(session, broken.sealed_incident_id),
            )
    return verdict


def _reference(session: Session, incident_id: int | None) -> str | None:
    if incident_id is None:
        return None
    return session.scalar(select(Incident.reference).where(Incident.id == incident_id))
