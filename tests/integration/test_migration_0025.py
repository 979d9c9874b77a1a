"""Migration 0025 records how an incident's sector came (incidents.sector_given): existing incidents keep NULL
(inferred when the position is amended: tests/functional/test_amendment_position.py), and a downgrade drops it."""

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect

from tracker import migrate

pytestmark = pytest.mark.both_databases  # each engine alters the table its own way (SQLite: batch mode)


def _columns(url: str) -> dict[str, dict]:
    engine = create_engine(url)
    try:
        return {column["name"]: column for column in inspect(engine).get_columns("incidents")}
    finally:
        engine.dispose()


def test_the_sector_given_column_comes_nullable_and_goes_with_a_downgrade(database_at):
    url = database_at("0024")
    assert "sector_given" not in _columns(url)
    migrate.upgrade(url)
    column = _columns(url).get("sector_given")
    assert column is not None and column["nullable"], column
    command.downgrade(migrate.alembic_config(url), "0024")
    assert "sector_given" not in _columns(url)
    assert migrate.current(url) == "0024"
