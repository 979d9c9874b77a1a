"""The claim pattern shared by the escalation sweep, the delivery job and the clocks of the other side."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, any_, func, or_, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from ...models import Incident, IncidentStatus
from ...models.bulk import any_of


@dataclass
class SetAside:
    """What one batch of a sweep stage passes over, and what it claimed: rows the sweep set aside after
    each failed a batch of its own (jobs.py, stages), and the ids the batch took, for the sweep to set
    aside the one row of a batch of one that fails."""

    ids: frozenset[int] = frozenset()
    claimed: list[int] = field(default_factory=list)

    def excluded(self, candidates: Select, column: InstrumentedAttribute) -> Select:
        """The candidates without the rows set aside (the query is unchanged when there are none)."""
        return candidates.where(column.not_in(self.ids)) if self.ids else candidates

    def took(self, ids: list[int]) -> list[int]:
        self.claimed.extend(ids)
        return ids


def claimable(session: Session, candidates: Select) -> Select:
    """Wrap a SELECT of candidate ids so a conditional UPDATE can claim exactly those rows.

    On PostgreSQL the candidates are locked FOR UPDATE SKIP LOCKED inside a MATERIALIZED CTE:
    as a plain IN (subquery) the planner may rescan the subquery, and a rescan skips the rows
    this statement just updated and hands out the next ones, so LIMIT would not hold. On
    SQLite the transaction already holds the write lock (BEGIN IMMEDIATE) and the IN list is
    built once.
    """
    if session.get_bind().dialect.name != "postgresql":
        return candidates
    locked = candidates.with_for_update(skip_locked=True).cte("candidates").prefix_with("MATERIALIZED")
    return select(locked.c.id)


def among_claimable(session: Session, column: InstrumentedAttribute, candidates: Select) -> ColumnElement[bool]:
    """The condition of a claim's UPDATE: column is one of the candidates' ids (see claimable), and only
    that. The candidates' own conditions are not repeated: on PostgreSQL locking a candidate checks it
    again as last committed (a row another transaction changed so that it no longer matches is left
    out, one it holds is skipped), and on SQLite the statement runs under the database's write lock.

    On PostgreSQL the locked ids are handed over as one array (column = ANY (ARRAY(SELECT id ...))),
    so the UPDATE finds each row by its primary key whatever the planner believes of the table. As
    IN (subquery) with the conditions repeated, the plan followed the table's statistics, and a table
    filled in a burst faster than autovacuum analyzes it (the outbox while 10,000 escalations are
    queued) was believed to hold one deliverable row: the claim compared each candidate with each
    deliverable row, 70-110 ms of the server's CPU for 500 messages instead of a few."""
    ids = claimable(session, candidates)
    if session.get_bind().dialect.name != "postgresql":
        return column.in_(ids.scalar_subquery())
    return column == any_(func.array(ids.scalar_subquery()))


def claim_incidents(
    session: Session,
    status: IncidentStatus,
    clock: InstrumentedAttribute,
    now: datetime,
    limit: int,
    aside: SetAside | None = None,
) -> list[int]:
    """Claim up to limit incidents in status whose clock (a deadline column) has come, passing over those
    set aside; return their ids.

    One UPDATE ... RETURNING of the candidates that bumps the version: a row changed (acknowledged,
    resolved, or claimed by another scheduler) before this statement no longer matches. On
    PostgreSQL the candidates are locked FOR UPDATE SKIP LOCKED, which checks each again as last
    committed, so a second scheduler takes other rows instead of waiting; on SQLite the transaction
    already holds the write lock (BEGIN IMMEDIATE), so the UPDATE itself is the claim."""
    due = select(Incident.id).where(Incident.status == status, clock <= now).order_by(clock, Incident.id).limit(limit)
    aside = aside or SetAside()
    claim = (
        update(Incident)
        .where(among_claimable(session, Incident.id, aside.excluded(due, Incident.id)))
        .values(version=Incident.version + 1)
        .returning(Incident.id)
    )
    return aside.took(list(session.execute(claim, execution_options={"synchronize_session": False}).scalars()))


def load_claimed(session: Session, model, ids: list[int], *options) -> list:
    """The claimed rows, fresh from the database (the claim's UPDATE bypassed the identity map)."""
    query = select(model).where(any_of(session, model.id, ids)).order_by(model.id).options(*options)
    return list(session.scalars(query.execution_options(populate_existing=True)))


def act_on_claimed(session: Session, model, ids: list[int], act: Callable[[Any], None], *options) -> int:
    """Load the claimed rows and act on each (nothing flushed between them), then flush; return how
    many. The one loop of every sweep that claims due rows (exchange clocks, receipts, agreed actions)."""
    rows = load_claimed(session, model, ids, *options)
    with session.no_autoflush:
        for row in rows:
            act(row)
    session.flush()
    return len(rows)


def claim_untold(
    session: Session,
    model: Any,
    stamps: tuple[InstrumentedAttribute, InstrumentedAttribute],
    conditions: tuple,
    order: tuple,
    now: datetime,
    lapse: timedelta,
    load: Any,
    limit: int = 50,
) -> list:
    """Claim up to limit rows of model whose alert to the supervisors is due (conditions) and not sent:
    unclaimed, or claimed longer than lapse ago (its sender died or failed). stamps: the row's columns of
    the claim and of the sending (line_alerts, relief_alerts). Returned in order, load's relations loaded."""
    claimed_at, sent_at = stamps
    due = (
        select(model.id)
        .where(*conditions, sent_at.is_(None), or_(claimed_at.is_(None), claimed_at <= now - lapse))
        .order_by(*order)
        .limit(limit)
    )
    taken = update(model).where(among_claimable(session, model.id, due)).values({claimed_at: now}).returning(model.id)
    ids = list(session.execute(taken, execution_options={"synchronize_session": False}).scalars())
    query = select(model).where(model.id.in_(ids)).order_by(*order).options(load)
    return list(session.scalars(query.execution_options(populate_existing=True)))
