"""A scheduler's connections have PostgreSQL plan each statement for the tables as they are
(db.plan_for_tables_as_they_are): a plan kept from when a table was nearly empty must not read the
whole table at every foreign key check once a burst has filled it."""

import pytest
from sqlalchemy import select, text

from tests.support import file_incident
from tracker.db import engine_of, plan_for_tables_as_they_are, session_scope
from tracker.models import Notification

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
