"""A scheduler's connections have PostgreSQL plan each statement for the tables as they are
(db.plan_for_tables_as_they_are): a plan kept from when a table was nearly empty must not read the
whole table at every foreign key check once a burst has filled it. Nor may a claim follow statistics
taken before the burst (claims.among_claimable)."""

import json

import pytest
from sqlalchemy import event, select, text

from tests.support import file_incident
from tracker import dispatch
from tracker.db import engine_of, plan_for_tables_as_they_are, session_scope
from tracker.models import Incident, Notification
from tracker.services.engine import delivery
from tracker.timeutil import utcnow

POLICY = delivery.RetryPolicy(max_attempts=3, base_seconds=10, claim_seconds=60)

pytestmark = pytest.mark.both_databases  # a PostgreSQL setting; SQLite has nothing to set


def plan_cache_mode(app) -> str | None:
    with engine_of(app).connect() as connection:
        if connection.dialect.name != "postgresql":
            return None
        return connection.execute(text("SHOW plan_cache_mode")).scalar_one()


def test_a_schedulers_connections_plan_each_statement_and_a_web_workers_keep_the_default(make_app, backend):
    scheduler, web = make_app(), make_app()
    plan_for_tables_as_they_are(scheduler)
    if backend == "postgresql":
        assert plan_cache_mode(scheduler) == "force_custom_plan"
        assert plan_cache_mode(web) == "auto", "web workers keep PostgreSQL's default"
    else:
        assert plan_cache_mode(scheduler) is None


def test_the_setting_outlives_each_transaction_and_the_work_goes_on(make_app, world, backend):
    app = make_app()
    plan_for_tables_as_they_are(app)
    file_incident(app.test_client(), world)
    for _ in range(3):  # pooled connections come back with it after commits and rollbacks
        with session_scope(app) as session:
            assert session.scalars(select(Notification)).first() is not None
        with pytest.raises(ZeroDivisionError), session_scope(app):
            raise ZeroDivisionError
    if backend == "postgresql":
        assert plan_cache_mode(app) == "force_custom_plan"


def _scans(plan: dict):
    """Every node of an EXPLAIN (FORMAT JSON) plan, depth first."""
    yield plan
    for child in plan.get("Plans", []):
        yield from _scans(child)


def test_a_delivery_claim_reads_only_the_rows_it_claims_while_the_statistics_say_the_outbox_is_empty(
    app, client, world, backend
):
    """A burst fills the outbox faster than autovacuum analyzes it: the claim must find its rows by their
    key (claims.among_claimable), not compare each candidate with each deliverable row as the planner
    chose when it believed one row deliverable (100 ms of the server's CPU per 500 messages)."""
    file_incident(client, world)
    series = "(WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < {}) SELECT n FROM c) AS copies"
    incident = [c.name for c in Incident.__table__.columns if c.name not in ("id", "reference")]
    message = [c.name for c in Notification.__table__.columns if c.name not in ("id", "loop")]
    with engine_of(app).begin() as connection:
        connection.exec_driver_sql(  # 4,000 open incidents on the board (what the planner weighs the claim by)
            f"INSERT INTO incidents (reference, {', '.join(incident)}) SELECT 'COPY-' || n, {', '.join(incident)} "
            f"FROM incidents, {series.format(4000)}"
        )
        if backend == "postgresql":
            connection.exec_driver_sql("ANALYZE incidents, notifications")  # statistics of a one-row outbox
        connection.exec_driver_sql(  # then 2,000 copies of its row, as if of later loops
            f"INSERT INTO notifications ({', '.join(message)}, loop) SELECT {', '.join(message)}, n "
            f"FROM notifications, {series.format(2000)}"
        )
    statements = []

    def keep(connection, cursor, statement, parameters, context, executemany):
        if "UPDATE notifications" in statement and "candidates" in statement:
            statements.append((statement, parameters))

    event.listen(engine_of(app), "before_cursor_execute", keep)
    try:
        with session_scope(app) as session:
            claimed = delivery.claim_messages(session, utcnow(), 500, POLICY, dispatch.composer(app))
            session.rollback()
    finally:
        event.remove(engine_of(app), "before_cursor_execute", keep)
    assert len(claimed) == 500
    if backend != "postgresql":
        return
    [(statement, parameters)] = statements
    with engine_of(app).connect() as connection, connection.begin():
        [[[explained]]] = connection.exec_driver_sql("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters).all()
        connection.rollback()
    update = explained["Plan"]
    read = [node for node in _scans(update) if node is not update and node.get("Alias") == "notifications"]
    plan = json.dumps(explained, indent=1)
    assert update["Actual Rows"] == 500, plan
    # The UPDATE reaches the outbox by the key of each locked row, all at once, and reads no other row:
    # no plan that the statistics could tip into comparing candidates with deliverable rows.
    [scan] = read
    by_key = scan if scan["Node Type"] == "Index Scan" else scan.get("Plans", [{}])[0]  # or a bitmap of it
    assert by_key.get("Index Name") == "pk_notifications" and "ANY" in by_key["Index Cond"], plan
    assert scan["Actual Rows"] == 500, plan
    assert not any("Join Filter" in node for node in _scans(update)), plan
