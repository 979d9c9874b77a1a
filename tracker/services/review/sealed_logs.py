"""The watch log a handover's seal covers: the lines logged during the watch handed over, as they stood when
it was signed, and how verify finds one changed, deleted or added since.

A watch's log closes when its handover is signed: logging refuses a watch that has ended (services/watches/
log.py add_entry, which locks the watch's row as signing does), and a line logged late, for a time during
that watch, is written in the watch that followed it, whose own handover seals it. So every line of the watch
handed over is on record before the signature commits, and the sweep that seals the handover afterwards reads
the log as it stood at signing: a line of that watch that appears later was written behind the tracker's back.

The seal keeps each line's id and digest (audit_seals.watch_log) so verify can name the line; its hash covers
that list, so the list cannot be edited to match an edited line without breaking the seal.
"""

from types import SimpleNamespace

from sqlalchemy import select, type_coerce
from sqlalchemy.orm import Session
from sqlalchemy.types import NullType

from ...models import WatchEntry
from ...models.bulk import any_of
from .hashing import UNREADABLE, format_at, read_back, sha256_of

# What verify says of a line of the watch handed over (a Break's problem, beside its entry_id).
ENTRY_CHANGED, ENTRY_DELETED, ENTRY_ADDED = "entry_changed", "entry_deleted", "entry_added"
ENTRY = (
    WatchEntry.id,
    WatchEntry.watch_id,
    WatchEntry.at,
    WatchEntry.author,
    WatchEntry.text,
    WatchEntry.incident_id,
)


def entry_digest(entry) -> str:
    """The hex SHA-256 of a log line (a WatchEntry or a row of ENTRY): its id, time, author, text and incident.

    "watch entry" opens the content, so no seal's content can hash the same.
    """
    return sha256_of(["watch entry", entry.id, format_at(entry.at), entry.author, entry.text, entry.incident_id])


def logs_to_seal(session: Session, watch_ids: set[int]) -> dict[int, list[list]]:
    """Each watch's log as a seal keeps it: [[entry id, digest], ...] in id order (an empty list for none)."""
    logs: dict[int, list[list]] = {watch_id: [] for watch_id in watch_ids}
    if watch_ids:
        query = select(*ENTRY).where(any_of(session, WatchEntry.watch_id, watch_ids)).order_by(WatchEntry.id)
        for entry in session.execute(query):
            logs[entry.watch_id].append([entry.id, entry_digest(entry)])
    return logs


def logs_now(session: Session, watch_ids: set[int]) -> dict[int, dict[int, str | None]]:
    """Each watch's log as verify finds it: entry id -> digest, None for a line whose time cannot be read
    (read raw and decoded line by line, as the events are: hashing.read_back)."""
    logs: dict[int, dict[int, str | None]] = {watch_id: {} for watch_id in watch_ids}
    if not watch_ids:
        return logs
    at = WatchEntry.__table__.c.at
    columns = [column for column in ENTRY if column.key != "at"]
    query = select(*columns, type_coerce(at, NullType()).label("at")).where(
        any_of(session, WatchEntry.watch_id, watch_ids)
    )
    dialect = session.get_bind().dialect
    for row in session.execute(query):
        time = read_back(at, row.at, dialect)
        digest = None if time is UNREADABLE else entry_digest(SimpleNamespace(**(row._asdict() | {"at": time})))
        logs[row.watch_id][row.id] = digest
    return logs


def well_formed(watch_log) -> bool:
    """watch_log is what a seal keeps (None before 0034, or [[entry id, digest], ...]): anything else was written
    over it, and would fail first_change."""
    if watch_log is None:
        return True
    pairs = watch_log if isinstance(watch_log, list) else [None]
    return all(isinstance(p, list) and len(p) == 2 and isinstance(p[0], int) and isinstance(p[1], str) for p in pairs)


def first_change(sealed: list[list], now: dict[int, str | None]) -> tuple[str, int, str | None, str | None] | None:
    """The lowest line whose digest differs from the one sealed, as (problem, entry id, sealed, now); None if
    the log is as sealed."""
    was = {entry_id: digest for entry_id, digest in sealed}
    for entry_id in sorted(was.keys() | now.keys()):
        if entry_id not in now:
            return ENTRY_DELETED, entry_id, was[entry_id], None
        if entry_id not in was:
            return ENTRY_ADDED, entry_id, None, now[entry_id]
        if now[entry_id] != was[entry_id]:
            return ENTRY_CHANGED, entry_id, was[entry_id], now[entry_id]
    return None
