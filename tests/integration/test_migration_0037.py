"""Migration 0037 gives each live scheduler the fingerprint of the key it signs links with: a runner beating at the
upgrade keeps its row and knows none (NULL) until its next beat, and going back drops the column only."""

from datetime import datetime

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import create_engine

from tracker import migrate

pytestmark = pytest.mark.both_databases  # a column added to a table SQLite copies and PostgreSQL alters

BEAT = datetime(2026, 12, 7, 5, 30)


def runners(engine) -> tuple[list[str], list[tuple]]:
    """The runners table's columns, and its rows without the times (each engine reads those back its own way)."""
    table = sa.Table("runners", sa.MetaData(), autoload_with=engine)
    kept = [column for column in table.c if column.name not in ("started_at", "last_beat_at")]
    with engine.connect() as connection:
        rows = connection.execute(sa.select(*kept).order_by(table.c.name))
        return [column.name for column in table.c], [tuple(row) for row in rows]


def test_a_runner_beating_at_the_upgrade_keeps_its_row_and_signs_with_none_known(database_at):
    url = database_at("0036")
    engine = create_engine(url)
    try:
        table = sa.Table("runners", sa.MetaData(), autoload_with=engine)
        with engine.begin() as connection:
            connection.execute(table.insert().values(name="host-a:1", started_at=BEAT, last_beat_at=BEAT))
        migrate.upgrade(url, "0037")
        assert runners(engine) == (["name", "started_at", "last_beat_at", "signs_with"], [("host-a:1", None)])
        command.downgrade(migrate.alembic_config(url), "0036")
        assert runners(engine) == (["name", "started_at", "last_beat_at"], [("host-a:1",)])
    finally:
        engine.dispose()
