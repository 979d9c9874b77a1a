"""Migration 0026 (0026_vienna_calendar_at) records when the annual calendar listing an exercise came
(exercises.calendar_at) and each change made to an exercise (exercises.changes): existing exercises keep NULL
(no calendar on record, no change recorded), and a downgrade drops both."""

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect

from tracker import migrate

pytestmark = pytest.mark.both_databases  # each engine alters the table its own way (SQLite: batch mode)


def _columns(url: str) -> dict[str, dict]:
    engine = create_engine(url)
    try:
        return {column["name"]: column for column in inspect(engine).get_columns("exercises")}
    finally:
        engine.dispose()


def test_the_calendar_and_changes_columns_come_nullable_and_go_with_a_downgrade(database_at):
    url = database_at("0025")
    assert "calendar_at" not in _columns(url)
    migrate.upgrade(url, "0026")
    columns = _columns(url)
    for name in ("calendar_at", "changes"):
        assert name in columns and columns[name]["nullable"], columns.get(name)
    command.downgrade(migrate.alembic_config(url), "0025")
    assert not {"calendar_at", "changes"} & set(_columns(url))
    assert migrate.current(url) == "0025"
