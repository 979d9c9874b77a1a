"""models.bulk.insert_rows: COPY on PostgreSQL, an INSERT elsewhere, the same rows either way."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import event, insert, select

from tests.support import file_incident
from tracker.db import session_scope
from tracker.models import EventKind, Incident, TimelineEvent
from tracker.models.bulk import insert_rows

# What each column's type makes of a value (enum, zone, JSON) is the engine's business.
pytestmark = pytest.mark.both_databases

AWKWARD = {
    "text": "Ωmega \u2028 line\tand 'quotes' \\ back\\slash \"double\" and a\nnew line",
    "nested": {"list": [1, 2.5, None, True], "empty": {}},
    "none": None,
}


def rows(incident_id: int, by: str = "bulk") -> list[dict]:
    """Two events with values each column type converts: an enum, times in another zone, JSON."""
    east = timezone(timedelta(hours=3))
    return [
        {
            "incident_id": incident_id,
            "kind": EventKind.COMMENTED,
            "actor": f"{by} 1",
            "at": datetime(2026, 12, 4, 9, 30, 15, 123456, tzinfo=east),
            "details": AWKWARD,
        },
        {
            "incident_id": incident_id,
            "kind": EventKind.ESCALATED,
            "actor": f"{by} 2",
            "at": datetime(2026, 12, 4, 6, 31, tzinfo=UTC),
            "details": {},
        },
    ]


def stored(app, by: str = "bulk") -> list[tuple]:
    """The events written by rows(by), without their actor."""
    with session_scope(app) as session:
        events = session.scalars(
            select(TimelineEvent).where(TimelineEvent.actor.in_((f"{by} 1", f"{by} 2"))).order_by(TimelineEvent.actor)
        )
        return [(e.kind, e.at, e.details) for e in events]


def test_rows_written_in_bulk_read_back_as_an_insert_writes_them(app, client, world, backend):
    reference = file_incident(client, world)["reference"]
    statements: list[str] = []
    with session_scope(app) as session:
        incident_id = session.scalars(select(Incident.id).where(Incident.reference == reference)).one()
        engine = session.get_bind()
        seen = lambda _conn, _cursor, statement, *_: statements.append(statement)  # noqa: E731
        event.listen(engine, "before_cursor_execute", seen)
        try:
            insert_rows(session, TimelineEvent, rows(incident_id))
        finally:
            event.remove(engine, "before_cursor_execute", seen)
    # COPY goes round SQLAlchemy's statements: on PostgreSQL none is seen, elsewhere the one INSERT.
    assert [s.split()[0] for s in statements] == ([] if backend == "postgresql" else ["INSERT"]), statements
    with session_scope(app) as session:
        session.execute(insert(TimelineEvent), rows(incident_id, "insert"))
    bulk, inserted = stored(app), stored(app, "insert")
    assert bulk == inserted, f"COPY wrote {bulk}\nINSERT wrote {inserted}"
    assert bulk[0][0] is EventKind.COMMENTED and bulk[0][1] == datetime(2026, 12, 4, 6, 30, 15, 123456, tzinfo=UTC)
    assert bulk[0][2] == AWKWARD


def test_a_row_that_breaks_a_constraint_fails_the_whole_batch(app, client, world):
    reference = file_incident(client, world)["reference"]
    with session_scope(app) as session:
        incident_id = session.scalars(select(Incident.id).where(Incident.reference == reference)).one()
    batch = rows(incident_id)
    batch[1]["incident_id"] = incident_id + 10_000  # no such incident: the foreign key holds for COPY too
    with pytest.raises(Exception, match="(?i)foreign key"), session_scope(app) as session:
        insert_rows(session, TimelineEvent, batch)
    assert stored(app) == [], "nothing of a failed batch is kept"


def test_a_left_out_column_gets_the_models_default(app, client, world):
    reference = file_incident(client, world)["reference"]
    with session_scope(app) as session:
        incident_id = session.scalars(select(Incident.id).where(Incident.reference == reference)).one()
        # No "details": the model's default (an empty dict) fills it, as an INSERT of the ORM would.
        insert_rows(
            session, TimelineEvent, [{k: v for k, v in row.items() if k != "details"} for row in rows(incident_id)]
        )
    assert [details for _, _, details in stored(app)] == [{}, {}]


def test_json_that_orjson_refuses_is_written_and_read_as_the_standard_library_does(app, client, world):
    """A lone surrogate (which a value stored before the doors refused it may hold) and a key that is
    not a string: orjson refuses both, and the engine's JSON functions (tracker.db) fall back to json."""
    reference = file_incident(client, world)["reference"]
    refused = {"text": "RED\ud800", 7: "seven", "nested": [{"callsign": "\udfff"}]}
    with session_scope(app) as session:
        incident_id = session.scalars(select(Incident.id).where(Incident.reference == reference)).one()
        batch = rows(incident_id)
        batch[0]["details"] = refused
        insert_rows(session, TimelineEvent, batch)
        session.execute(insert(TimelineEvent), [{**batch[0], "actor": "insert 1"}])
    with session_scope(app) as session:
        read = session.scalars(
            select(TimelineEvent.details).where(TimelineEvent.actor.in_(("bulk 1", "insert 1")))
        ).all()
    expected = {"text": "RED\ud800", "7": "seven", "nested": [{"callsign": "\udfff"}]}
    assert read == [expected, expected], read
