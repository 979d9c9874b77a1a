"""Signed watch handovers in the audit chain: what a handover's seal covers, which wait for one, and
how a sealed handover is read back for verify.

A handover is sealed once signed, never before: until then the outgoing side may still change its notes,
its brief and who takes over (services/watches/handover.py); after, nothing in the tracker changes it.
Since migration 0034 its seal covers the log of the watch handed over too (sealed_logs); a seal made before
keeps no log (audit_seals.watch_log NULL) and is hashed as it was.
"""

from types import SimpleNamespace

from sqlalchemy import Row, func, select, type_coerce
from sqlalchemy.orm import Session
from sqlalchemy.types import NullType

from ...models import AuditSeal, Handover
from . import sealed_logs
from .hashing import as_stored, format_at, sha256_of

# What a seal covers, beside its id: who handed which watch to whom, the brief and notes signed for, and when.
COVERED = ("from_watch_id", "to_watch_id", "outgoing_officer_id", "incoming_officer_id", "notes")
TIMES = ("prepared_at", "since", "signed_at")
HANDOVER = (Handover.id, *(Handover.__table__.c[name] for name in (*COVERED, *TIMES, "brief")))
# As seals_after reads them beside a seal: labelled apart from the event's, the times and the brief raw
# (decoded row by row by the reader, as the event's are), and the log the seal keeps.
READ = {f"handover_{name}": Handover.__table__.c[name] for name in COVERED}
RAW = {f"handover_{name}": Handover.__table__.c[name] for name in (*TIMES, "brief")}
RAW["watch_log"] = AuditSeal.__table__.c.watch_log  # the seal's own: JSON, which SQLite keeps as any text
FOUND = "found_handover_id"


def handover_hash(prev_hash: str, handover, watch_log: list | None) -> str:
    """The hash of a seal of handover (a Handover or a row of HANDOVER) after a seal hashing to prev_hash,
    covering watch_log, its watch's log as the seal keeps it (None: a seal made before 0034, which covers none).

    "handover" opens the content, so no event's content can hash the same; a log, even an empty one, adds an
    element, so a seal's log set to NULL (or one given to a seal of before) no longer matches its hash.
    """
    content = [prev_hash, "handover", handover.id, *(getattr(handover, name) for name in COVERED)]
    content += [format_at(getattr(handover, name)) for name in TIMES] + [as_stored(handover.brief or {})]
    if watch_log is not None:
        content.append(as_stored(watch_log))
    return sha256_of(content)


def _unsealed():
    return ~select(AuditSeal.seq).where(AuditSeal.handover_id == Handover.id).exists()


def to_seal(session: Session, limit: int) -> list[Row]:
    """Up to limit signed handovers without a seal, lowest id first."""
    if limit <= 0:
        return []
    query = select(*HANDOVER).where(Handover.signed_at.is_not(None), _unsealed())
    return list(session.execute(query.order_by(Handover.id).limit(limit)))


def count_unsealed(session: Session) -> int:
    """How many signed handovers have no seal yet."""
    query = select(func.count()).select_from(Handover).where(Handover.signed_at.is_not(None), _unsealed())
    return session.scalars(query).one()


def columns() -> list:
    """The handover's columns for seals_after's select (its outer join on the seal's handover_id)."""
    plain = [column.label(label) for label, column in READ.items()]
    raw = [type_coerce(column, NullType()).label(label) for label, column in RAW.items()]
    return [Handover.id.label(FOUND), *plain, *raw]


def as_read(row) -> SimpleNamespace:
    """The sealed handover of a row of seals_after, as handover_hash takes it."""
    values = {name: getattr(row, f"handover_{name}") for name in (*COVERED, *TIMES, "brief")}
    return SimpleNamespace(id=getattr(row, FOUND), **values)


def with_logs_now(session: Session, rows: list[SimpleNamespace]) -> list[SimpleNamespace]:
    """rows of seals_after, each handover's sealed with its log (since 0034) given its watch's log as it is
    now (log_now: entry id -> digest); None for the others."""
    logged = [row for row in rows if row.handover_id is not None and row.watch_log is not None]
    logs = sealed_logs.logs_now(session, {row.handover_from_watch_id for row in logged} - {None})
    for row in rows:
        row.log_now = None
    for row in logged:
        row.log_now = logs.get(row.handover_from_watch_id, {})
    return rows
