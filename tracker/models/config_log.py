"""The record of the routing configuration's changes: who added, changed or deleted a line, a policy, a
routing rule or an agreement, when, and each fact before and after.

What routing and the ladders do follows from these (an incident keeps the ladder it was filed under, but
which line a new filing calls is whatever the configuration said then), so "who took L1 off the ladder,
and when" must have an answer. Written by the ORM itself as the change is flushed, in the same transaction,
whichever door it came through (the API, the admin pages, the demo); the actor is who the request
acted for (session.info["actor"], set by http.access.requires), else "system". A line's own working state
(its health, its checks' times) is the scheduler's, not a change of configuration, and is not recorded; nor
is a secret (a webhook's signing secret, a hook's address holding one): only that it changed.
"""

from datetime import datetime
from itertools import chain
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import JSON, Integer, String, delete, event, insert, inspect, select, update
from sqlalchemy.orm import NO_VALUE, Mapped, Session, mapped_column, object_session

from ..timeutil import duration, isoformat, utcnow
from .agreement import Agreement
from .base import Base
from .ladder import ContactChannel, EscalationPolicy, PolicyStep, RoutingRule

ACTOR = "actor"  # session.info key: the username the request acts for
SYSTEM = "system"


class ConfigChange(Base):
    """One line, policy, routing rule or agreement added, changed or deleted: by whom, when, what."""

    __tablename__ = "config_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(16))  # created, changed, deleted
    subject: Mapped[str] = mapped_column(String(16))  # line, policy, rule, agreement
    subject_id: Mapped[int | None] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    # Each fact that changed: {"fact": {"before": ..., "after": ...}}; a created or deleted one's facts whole.
    changes: Mapped[dict] = mapped_column(JSON, default=dict)


SUBJECTS: dict[type, str] = {
    ContactChannel: "line",
    EscalationPolicy: "policy",
    RoutingRule: "rule",
    Agreement: "agreement",
}
# Not configuration: bookkeeping, and a line's working state, which its checks change.
_NOT_RECORDED = {
    "id",
    "created_at",
    "updated_at",
    "version",
    "next_check_at",
    "health",
    "consecutive_failures",
    "last_check_at",
    "last_check_ok_at",
}
WITHHELD = "(withheld)"


def _plain(value: Any) -> Any:
    """A value as JSON holds it: times in ISO 8601, enums by value."""
    if isinstance(value, datetime):
        return isoformat(value)
    return getattr(value, "value", value)


def _secret(instance: object, key: str, before: bool = False, value: Any = None) -> bool:
    """Whether the fact is a credential: a webhook's secret, the address of a hook or an Apprise URL (as the
    line stands, or, before, as it stood: a line moved off a webhook had its credential in its old address).
    Any address that is a URL counts, whatever the transport: one moved in an earlier flush of the transaction
    is no longer seen here as it was."""
    if key == "secret":
        return True
    if key != "address" or not isinstance(instance, ContactChannel):
        return False
    if isinstance(value, str) and "://" in value:
        return True
    return (_committed(instance, "transport") if before else instance.transport) in ("webhook", "apprise")


def _committed(instance: object, key: str) -> Any:
    """The value the database holds for the attribute (its value before this flush's change)."""
    history = inspect(instance, raiseerr=True).attrs[key].history
    return next(iter(history.deleted), None) if history.has_changes() else getattr(instance, key)


def _stored(instance: object) -> dict:
    """What the database holds of the facts set while they were not loaded (expired, as a savepoint rolled back
    leaves what it changed, or by session.expire): the ORM keeps no value before for them, and the record would
    say None. Read before the flush writes them."""
    state = inspect(instance, raiseerr=True)
    keys = [key for key, was in state.committed_state.items() if was is NO_VALUE and key in state.mapper.column_attrs]
    session = object_session(instance)
    if not keys or session is None or state.identity is None:
        return {}
    where = [column == value for column, value in zip(state.mapper.primary_key, state.identity, strict=True)]
    row = session.execute(select(*(getattr(type(instance), key) for key in keys)).where(*where)).one_or_none()
    return dict(zip(keys, row, strict=True)) if row is not None else {}


def _step_words(step: PolicyStep, committed: bool) -> str:
    """A policy step in words, as it stands (or stood, committed) : its lines, time, fallback, decision."""
    state = inspect(step, raiseerr=True)

    def value(key: str) -> Any:
        history = state.attrs[key].history
        if committed and history.has_changes():
            return (
                (list(history.unchanged) + list(history.deleted))
                if key == "channels"
                else next(iter(history.deleted), None)
            )
        return getattr(step, key)

    lines = ", ".join(channel.name for channel in value("channels") or []) or "no line"
    said = [lines]
    if value("ack_seconds"):
        said.append(duration(value("ack_seconds")))
    if value("fallback_channel") is not None:
        said.append(f"fallback {value('fallback_channel').name}")
    if value("by_decision"):
        said.append("by decision")
    return "; ".join(said)


def _facts(instance: object, changed_only: bool) -> dict:
    """The instance's facts: those that changed, before and after; or (created, deleted) all of them."""
    state = inspect(instance, raiseerr=True)
    facts: dict[str, Any] = {}
    stored = _stored(instance) if changed_only else {}
    for column in state.mapper.column_attrs:
        key = column.key
        if key in _NOT_RECORDED:
            continue
        history = state.attrs[key].history
        if changed_only:
            if not history.has_changes():
                continue
            before = stored[key] if key in stored else next(iter(history.deleted), None)
            after = getattr(instance, key)
            if before == after:
                continue
            facts[key] = {  # a secret set or cleared says so; its value never stands here
                "before": WITHHELD if before is not None and _secret(instance, key, True, before) else _plain(before),
                "after": WITHHELD if after is not None and _secret(instance, key, False, after) else _plain(after),
            }
        else:
            value = getattr(instance, key)
            facts[key] = WITHHELD if value is not None and _secret(instance, key, False, value) else _plain(value)
    if isinstance(instance, ContactChannel):
        members = state.attrs["members"].history
        if not changed_only:
            facts["members"] = [user.username for user in instance.members]
        elif members.has_changes():
            facts["members"] = {
                "before": sorted(u.username for u in chain(members.unchanged, members.deleted)),
                "after": sorted(u.username for u in instance.members),
            }
    if isinstance(instance, EscalationPolicy):
        steps = state.attrs["steps"].history
        now = [_step_words(step, False) for step in instance.steps]
        if not changed_only:
            facts["steps"] = now
        elif steps.has_changes() or any(inspect(step, raiseerr=True).modified for step in instance.steps):
            old = sorted(chain(steps.unchanged, steps.deleted), key=lambda step: _committed(step, "position"))
            before = [_step_words(step, True) for step in old]
            if before != now:
                facts["steps"] = {"before": before, "after": now}
    return facts


_PENDING = "tracker.config_changes"  # session.info key: what before_flush found, for after_flush to write


@event.listens_for(Session, "before_flush")
def _note_config_changes(session: Session, _context, _instances) -> None:
    """What the flush changes or deletes, read while the database still holds it as it was (a deleted
    policy step's lines); what it creates, to be written once it has its id (after_flush)."""
    actor = str(session.info.get(ACTOR) or SYSTEM)
    rows = [
        _row(instance, "deleted", actor, _facts(instance, changed_only=False))
        for instance in session.deleted
        if type(instance) in SUBJECTS
    ]
    # The type first: a sweep's flush holds thousands of dirty incidents.
    dirty = [o for o in session.dirty if type(o) in SUBJECTS or type(o) is PolicyStep]
    policies = {step.policy for step in dirty if isinstance(step, PolicyStep) and step.policy is not None}
    for instance in {*(o for o in dirty if type(o) is not PolicyStep), *policies}:
        if instance not in session.new and instance not in session.deleted and (facts := _facts(instance, True)):
            rows.append(_row(instance, "changed", actor, facts))
    created = [instance for instance in session.new if type(instance) in SUBJECTS]
    session.info[_PENDING] = (rows, created, actor) if rows or created else None


_WRITTEN = "tracker.config_rows"  # session.info key: this transaction's rows, by subject, to merge into
_SAVEPOINTS = "tracker.config_savepoints"  # session.info key: those rows as they stood when each savepoint began


def _written(session: Session) -> dict:
    """The rows the session's transaction wrote, by subject: (row id, the instance it created or None, changes)."""
    transaction = session.get_transaction()
    written = session.info.get(_WRITTEN)
    if written is None or written[0] is not transaction:
        written = session.info[_WRITTEN] = (transaction, {})
    return written[1]


@event.listens_for(Session, "after_transaction_create")
def _note_savepoint(session: Session, transaction) -> None:
    """Keep, for a savepoint, the transaction's rows as they stand: rolled back, it takes the rows it wrote or
    merged into with it, and what is written after must not merge into a row that is gone (a change lost) or
    into one holding the facts it rolled back (a change that never was)."""
    if transaction.nested:
        savepoints = session.info.setdefault(_SAVEPOINTS, WeakKeyDictionary())
        savepoints[transaction] = dict(_written(session))


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back(session: Session, previous) -> None:
    """Take the transaction's rows back to what they were when the savepoint just rolled back began."""
    kept = session.info.get(_SAVEPOINTS, {}).pop(previous, None) if previous.nested else None
    if kept is not None:
        session.info[_WRITTEN] = (session.get_transaction(), kept)


@event.listens_for(Session, "after_flush")
def _write_config_changes(session: Session, _context) -> None:
    """Write what before_flush found. A change that takes several flushes (a service's query autoflushes
    half of it: a line's facts, then its members; a policy's old steps deleted, then its new ones added) is
    one record: merged into the transaction's row of the same subject (each fact's first before and last
    after; a subject created in the transaction keeps its facts as they end; the row takes the subject's last
    name; a change whose every fact came back to what it was is no row at all)."""
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    rows, created, actor = pending
    earlier = _written(session)
    connection = session.connection()
    for instance in created:
        row = _row(instance, "created", actor, _facts(instance, changed_only=False))
        row_id = connection.execute(insert(ConfigChange).values(**row).returning(ConfigChange.id)).scalar_one()
        earlier[(row["subject"], row["subject_id"])] = (row_id, instance, row["changes"])
    for row in rows:
        key = (row["subject"], row["subject_id"])
        before = earlier.get(key)
        if before is not None and row["action"] == "changed":
            row_id, made, changes = before
            merged = _facts(made, changed_only=False) if made is not None else _merged(changes, row["changes"])
            if made is None and not merged:  # every fact came back to what it was: there is no change to record
                connection.execute(delete(ConfigChange).where(ConfigChange.id == row_id))
                del earlier[key]
                continue
            # The name as the subject now has it, as its facts say (a rename in a later flush).
            connection.execute(
                update(ConfigChange).where(ConfigChange.id == row_id).values(changes=merged, name=row["name"])
            )
            earlier[key] = (row_id, made, merged)
            continue
        row_id = connection.execute(insert(ConfigChange).values(**row).returning(ConfigChange.id)).scalar_one()
        earlier[key] = (row_id, None, row["changes"])


def _merged(earlier: dict, later: dict) -> dict:
    """Two flushes' changes of one subject as one: each fact's first before and last after; a fact that
    came back to what it was is no change."""
    merged = dict(earlier)
    for fact, change in later.items():
        merged[fact] = {"before": earlier[fact]["before"], "after": change["after"]} if fact in earlier else change
    return {
        fact: change
        for fact, change in merged.items()
        if change["before"] != change["after"] or WITHHELD in (change["before"], change["after"])  # unseen secrets
    }


def _row(instance: Any, action: str, actor: str, facts: dict) -> dict:
    name = getattr(instance, "name", None) or getattr(instance, "code", None) or "?"
    return {
        "at": utcnow(),
        "actor": actor,
        "action": action,
        "subject": SUBJECTS[type(instance)],
        "subject_id": instance.id,
        "name": str(name)[:200],
        "changes": facts,
    }
