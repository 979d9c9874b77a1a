"""Read incidents for the board and the API."""

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import TypeVar

from sqlalchemy import ColumnElement, String, case, cast, func, literal, literal_column, select
from sqlalchemy.orm import Session, defer, selectinload

from ...models import (
    ChannelHealth,
    ContactChannel,
    Domain,
    Exchange,
    ExerciseNotice,
    Incident,
    IncidentStatus,
    Notification,
    NotificationStatus,
    Precedence,
    Role,
    User,
    channel_members,
)
from ...models.bulk import any_of
from . import handling


@dataclass(frozen=True)
class IncidentFilter:
    status: list[str] | None = None
    precedence: list[str] | None = None
    domain: str | None = None
    category: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    # Which time since/until bound: "occurred" (when it happened) or "reported" (when it was filed, as the
    # after-action report and the exports count), so the list can be reconciled with a report.
    by: str = "occurred"
    # The reference the other side quotes for one of the incident's exchanges (any case).
    exchange_reference: str | None = None


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
    if flt.exchange_reference:
        quoted = func.upper(Exchange.reference) == flt.exchange_reference.strip().upper()
        query = query.where(Incident.id.in_(select(Exchange.incident_id).where(quoted)))
    bound = Incident.reported_at if flt.by == "reported" else Incident.occurred_at
    if flt.since:
        query = query.where(bound >= flt.since)
    if flt.until:
        query = query.where(bound < flt.until)
    total = session.scalars(select(func.count()).select_from(query.subquery())).one()
    rows = session.scalars(
        query.order_by(Incident.reported_at.desc(), Incident.id.desc()).offset((page - 1) * per_page).limit(per_page)
    ).all()
    return list(rows), total


BOARD_STATUSES = ("open", "acknowledged", "exhausted")


@cache
def _row_only() -> tuple:
    """A board row shows none of these: leave them in the database (JSON decoding was a quarter of the
    board's time). Made on first use: the options set up every mapper, 0.1 s that listing commands skips."""
    columns = (Incident.platforms, Incident.releasability, Incident.narrative, Incident.actions_taken)
    return tuple(defer(column) for column in columns)


def _precedence_rank():
    return case({"Z": 0, "O": 1, "P": 2, "R": 3}, value=Incident.precedence, else_=4)


def _status_rank():
    """Within a precedence, whom nobody took first: exhausted (the ladder ran out), then open, then
    acknowledged (someone owns it); the handover brief ranks them alike."""
    return case({"exhausted": 0, "open": 1}, value=Incident.status, else_=2)


Row = TypeVar("Row", Incident, "BoardRow")
# The board shows this many rows a page (the most urgent first); the rest are a page away.
BOARD_PAGE = 200


@dataclass
class BoardRow:
    """What a board row shows of an incident, read as plain columns (no ladder, no ORM object)."""

    id: int
    reference: str
    precedence: Precedence
    status: IncidentStatus
    category: str
    domain: Domain
    sector: str | None
    position_text: str | None
    current_step: int
    loop: int
    step_count: int
    repeats: int | None
    next_by_decision: bool
    step_channels: list[str] | None
    acknowledged_by_label: str | None
    decision_step: int | None
    next_escalation_at: datetime | None
    no_notice: bool
    exercise_id: int | None
    exercise: ExerciseNotice | None = None
    dead_letter: bool = False


@dataclass
class BoardPage:
    rows: list[BoardRow]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def first(self) -> int:
        """The position of the page's first row (1-based; 0 when there is none)."""
        return (self.page - 1) * self.per_page + 1 if self.rows else 0


def _next_by_decision(dialect: str) -> ColumnElement[bool]:
    """Whether the step above the current one waits for a decision: the ladder's steps[current_step] (the
    current step is 1-based), read in SQL with the current step as the index."""
    if dialect == "postgresql":
        flag = Incident.ladder["steps"].op("->")(Incident.current_step).op("->>")(literal_column("'by_decision'"))
        return func.coalesce(flag == "true", False)
    path = literal("$.steps[", String) + cast(Incident.current_step, String) + "].by_decision"
    return func.coalesce(func.json_extract(Incident.ladder, path), 0) == 1


def _board_columns(dialect: str) -> tuple:
    return (
        Incident.id,
        Incident.reference,
        Incident.precedence,
        Incident.status,
        Incident.category,
        Incident.domain,
        Incident.sector,
        Incident.position_text,
        Incident.current_step,
        Incident.loop,
        func.json_array_length(Incident.ladder["steps"]).label("step_count"),
        Incident.ladder["repeat"].as_integer().label("repeats"),
        _next_by_decision(dialect).label("next_by_decision"),
        Incident.step_channels,
        Incident.acknowledged_by_label,
        Incident.decision_step,
        Incident.next_escalation_at,
        Incident.no_notice,
        Incident.exercise_id,
    )


def board(
    session: Session,
    status: list[str] | None = None,
    precedence: list[str] | None = None,
    page: int = 1,
    per_page: int | None = None,
) -> BoardPage:
    """Incidents not yet resolved, one page (of BOARD_PAGE rows unless told): most urgent precedence first,
    then the nearest deadline. A count, one query of the columns a row shows, one for the page's exercises
    and one for its dead letters."""
    per_page = per_page or BOARD_PAGE
    where = [Incident.status.in_(status or BOARD_STATUSES)]
    if precedence:
        where.append(Incident.precedence.in_(precedence))
    total = session.scalar(select(func.count()).select_from(Incident).where(*where)) or 0
    page = max(1, min(page, -(-total // per_page) or 1))
    query = (
        select(*_board_columns(session.get_bind().dialect.name))
        .where(*where)
        .order_by(
            _precedence_rank(),
            _status_rank(),
            Incident.next_escalation_at.is_(None),
            Incident.next_escalation_at,
            Incident.id,
        )
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    rows = [BoardRow(**row._mapping) for row in session.execute(query)]
    exercise_ids = {row.exercise_id for row in rows if row.exercise_id is not None}
    if exercise_ids:
        found = {e.id: e for e in session.scalars(select(ExerciseNotice).where(ExerciseNotice.id.in_(exercise_ids)))}
        for row in rows:
            row.exercise = found.get(row.exercise_id) if row.exercise_id is not None else None
    return BoardPage(_mark_dead_letters(session, rows), total, page, per_page)


def _mark_dead_letters(session: Session, incidents: list[Row]) -> list[Row]:
    """Set incident.dead_letter on each (a message given up on), with one query for the whole list."""
    dead = set(
        session.scalars(
            select(Notification.incident_id)
            .where(
                any_of(session, Notification.incident_id, [i.id for i in incidents]),
                Notification.status == NotificationStatus.DEAD,
            )
            .distinct()
        )
    )
    for incident in incidents:
        incident.dead_letter = incident.id in dead
    return incidents


def queue(session: Session, user: User) -> list[Incident]:
    """Incidents awaiting acknowledgement on a channel the user belongs to, most urgent first."""
    query = (
        select(Incident)
        .where(Incident.status.in_(("open", "exhausted")), Incident.id.in_(handling.routed_to_lines_of(user)))
        .order_by(
            _precedence_rank(), _status_rank(), Incident.next_escalation_at.is_(None), Incident.next_escalation_at
        )
    )
    return _mark_dead_letters(
        session, list(session.scalars(query.options(selectinload(Incident.exercise), *_row_only())))
    )


def lines_not_working(session: Session) -> list[ContactChannel]:
    """Active lines degraded or down by their checks, down first, then by name."""
    return list(
        session.scalars(
            select(ContactChannel)
            .where(ContactChannel.active.is_(True), ContactChannel.health != ChannelHealth.OK)
            .order_by(case({"down": 0}, value=ContactChannel.health, else_=1), ContactChannel.name)
        )
    )


def lines_served(session: Session, user: User) -> list[int] | None:
    """The lines whose open items are the user's to see in My queue: a liaison officer's own; every
    line for a supervisor or an admin (None); none for others."""
    if user.role in (Role.SUPERVISOR, Role.ADMIN):
        return None
    return list(session.scalars(select(channel_members.c.channel_id).where(channel_members.c.user_id == user.id)))
