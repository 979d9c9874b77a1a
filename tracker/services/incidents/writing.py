"""A new incident's rows written by Core statements, not the unit of work, and attached to the session as
loaded objects (a filing's answer and its caller read them without another statement).

On PostgreSQL the reference counter and the incident are one statement, and the timeline events and the
outbox rows another (data-modifying CTEs; the rows go as one JSON array per table). The statements are built once, so
that SQLAlchemy's compiled cache serves every filing. On SQLite each is a statement of its own. Nothing is
written but the rows themselves, in the caller's transaction (on its connection: Core statements need none
of the ORM's execution).
"""

from collections.abc import Callable
from datetime import datetime
from enum import Enum
from functools import cache
from typing import cast

from sqlalchemy import String, Table, TextClause, bindparam, func, insert, literal_column, select, text
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from ...models import ContactChannel, Incident, Notification, TimelineEvent, User, json_values
from ...models.base import stored_utc
from .references import ADVANCE, next_reference

_INCIDENTS = cast(Table, Incident.__table__)
_EVENTS = cast(Table, TimelineEvent.__table__)
_MESSAGES = cast(Table, Notification.__table__)
# What a new incident never has (its handling sets them later): left out of its INSERT, which keeps the
# statement under psycopg's 50 parameters, past which psycopg parses the statement again at every use.
_LATER = (
    "exercise_id",
    "watchdog_deadline_at",
    "decision_step",
    "decision_asked_at",
    "idle_check_at",
    "acknowledged_at",
    "acknowledged_by_id",
    "acknowledged_by_label",
    "resolved_at",
    "resolved_by_id",
    "resolution",
)
# A new incident has none of these yet: said so, its answer reads no empty list back.
_EMPTY = ("events", "notifications", "calls", "exchanges")


def insert_incident(session: Session, given: dict, prefix: str, year: int) -> Incident:
    """Insert the incident whose columns given holds (those left out take their defaults; id and reference
    are drawn) under the next reference of prefix and year; return it as a loaded object of the session,
    with its collections empty."""
    values = complete(_INCIDENTS, given)
    if later := [name for name in _LATER if values[name] is not None]:
        raise ValueError(f"a new incident is inserted without {', '.join(later)}")
    counter = f"{prefix}-{year}"
    parameters = {name: value for name, value in values.items() if name not in _LATER}  # psycopg counts them all
    if _postgresql(session):
        row = (
            session.connection()
            .execute(_counted_insert(), {**parameters, "counter": counter, "prefix": f"{counter}-"})
            .one()
        )
        new_id, reference = row.id, row.reference
    else:
        reference = next_reference(session, prefix, year)
        new_id = session.connection().execute(_plain_insert(), {**parameters, "reference": reference}).scalar_one()
    incident = _loaded(session, Incident(id=new_id, reference=reference, **values))
    for name in _EMPTY:
        set_committed_value(incident, name, [])
    return incident


def insert_rows(session: Session, incident: Incident, events: list[dict], messages: list[dict]) -> None:
    """Insert the incident's first timeline events and outbox rows (plain rows, in order) and set them as its
    events and notifications."""
    events = [complete(_EVENTS, row) for row in events]
    messages = [complete(_MESSAGES, row) for row in messages]
    if _postgresql(session):
        event_ids, message_ids = _insert_both(session, events, messages)
    else:
        event_ids, message_ids = _insert(session, _EVENTS, events), _insert(session, _MESSAGES, messages)
    loaded_events = [_loaded(session, TimelineEvent(id=i, **row)) for i, row in zip(event_ids, events, strict=True)]
    loaded_messages = [
        _loaded(session, Notification(id=i, **row)) for i, row in zip(message_ids, messages, strict=True)
    ]
    for message in loaded_messages:
        # Its channel or user is in the session already (notify read them): no statement.
        set_committed_value(
            message, "channel", session.get(ContactChannel, message.channel_id) if message.channel_id else None
        )
        set_committed_value(message, "user", session.get(User, message.user_id) if message.user_id else None)
    for row in (*loaded_events, *loaded_messages):
        set_committed_value(row, "incident", incident)
    set_committed_value(incident, "events", loaded_events)
    set_committed_value(incident, "notifications", loaded_messages)


def complete(table: Table, given: dict) -> dict:
    """Every column of table but the drawn ones (id, reference): given's value, else the column's default,
    else None; so that the object made of the row has nothing left to load."""
    return {key: given[key] if key in given else default() for key, default in _columns(table)}


@cache
def _columns(table: Table) -> tuple[tuple[str, Callable[[], object]], ...]:
    return tuple((column.key, _default_of(column)) for column in table.columns if column.key not in ("id", "reference"))


def _default_of(column) -> Callable[[], object]:
    default = column.default
    if default is None:
        return lambda: None
    if default.is_callable:
        return lambda: default.arg(None)  # SQLAlchemy's wrapper of a default taking no argument
    return lambda: default.arg


def _insert_both(session: Session, events: list[dict], messages: list[dict]) -> tuple[list[int], list[int]]:
    """PostgreSQL: both tables' rows in one statement, each list one JSON parameter; their ids in order."""
    parameters = {"events": json_values.dumps(events, _plain), "messages": json_values.dumps(messages, _plain)}
    rows = session.connection().execute(_both_statement(), parameters).all()
    return [r.id for r in rows if r.part == 0], [r.id for r in rows if r.part == 1]


def _plain(value: object) -> object:
    """A column's value as json_populate_record reads it back into the column's type."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return stored_utc(value).isoformat()  # what UTCDateTime binds
    raise TypeError(f"{type(value).__name__} is not a column value")


@cache
def _both_statement() -> TextClause:
    """Each table's rows from a JSON array, inserted in the array's order (ids are drawn in it, as
    SQLAlchemy's own sorted insertmanyvalues has them), with the ids returned in that order."""

    def inserted(table: Table, parameter: str) -> str:
        columns = ", ".join(c.key for c in table.columns if c.key != "id")
        return (
            f"INSERT INTO {table.name} ({columns}) SELECT {', '.join(f'r.{c}' for c in columns.split(', '))} "
            f"FROM json_array_elements(CAST(:{parameter} AS JSON)) WITH ORDINALITY AS a(doc, n), "
            f"json_populate_record(NULL::{table.name}, a.doc) AS r ORDER BY a.n RETURNING id"
        )

    return text(
        f"WITH noted AS ({inserted(_EVENTS, 'events')}), queued AS ({inserted(_MESSAGES, 'messages')}) "
        "SELECT 0 AS part, id FROM noted UNION ALL SELECT 1 AS part, id FROM queued ORDER BY part, id"
    )


def _insert(session: Session, table: Table, rows: list[dict]) -> list[int]:
    """The ids of rows inserted in one statement (insertmanyvalues), in the order of rows."""
    if not rows:
        return []
    return list(session.connection().execute(_returning_ids(table), rows).scalars())


@cache
def _returning_ids(table: Table):
    return insert(table).returning(table.c.id, sort_by_parameter_order=True)


@cache
def _plain_insert():
    """INSERT of every column of an incident from parameters of the columns' names (a statement built once,
    so that SQLAlchemy's compiled cache serves every filing)."""
    return insert(_INCIDENTS).values(_column_parameters("id")).returning(_INCIDENTS.c.id)


@cache
def _counted_insert():
    """_plain_insert with the counter (parameter "counter") advanced in the same statement and the reference
    made of it after "prefix" (references.next_number's upsert and next_reference's {:05d})."""
    bumped = ADVANCE.cte("bumped")
    number = sql_cast(bumped.c.value, String)
    reference = select(
        bindparam("prefix", type_=String)
        + func.lpad(number, func.greatest(literal_column("5"), func.length(number)), literal_column("'0'"))
    )
    return (
        insert(_INCIDENTS)
        .values({**_column_parameters("id", "reference"), "reference": reference.scalar_subquery()})
        .add_cte(bumped)
        .returning(_INCIDENTS.c.id, _INCIDENTS.c.reference)
    )


def _column_parameters(*drawn: str) -> dict:
    """An incident column -> a parameter of its name, but for the columns drawn by the statement and those a new
    incident never has (NULL)."""
    return {c.key: bindparam(c.key, type_=c.type) for c in _INCIDENTS.columns if c.key not in (*drawn, *_LATER)}


def _loaded(session: Session, instance):
    """instance, whose row was just inserted with every column it has set, as a clean object of the session."""
    make_transient_to_detached(instance)
    session.add(instance)
    return instance


def _postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"
