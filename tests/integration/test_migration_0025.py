"""Migration 0025 records how an incident's sector came (incidents.sector_given): existing incidents keep NULL
(inferred when the position is amended: tests/functional/test_amendment_position.py), and a downgrade drops it."""

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect

from tests.databases import migrate_to
from tracker import migrate

pytestmark = pytest.mark.both_databases  # each engine alters the table its own way (SQLite: batch mode)


def _columns(url: str) -> dict[str, dict]:
    engine = create_engine(url)
    try:
        return {column["name"]: column for column in inspect(engine).get_columns("incidents")}
    finally:
        engine.dispose()


def test_the_sector_given_column_comes_nullable_and_goes_with_a_downgrade(fresh_database_url):
    migrate_to(fresh_database_url, "0024")
    assert "sector_given" not in _columns(fresh_database_url)
    migrate.upgrade(fresh_database_url)
    column = _columns(fresh_database_url).get("sector_given")
    assert column is not None and column["nullable"], column
    command.downgrade(migrate.alembic_config(fresh_database_url), "0024")
    assert "sector_given" not in _columns(fresh_database_url)
    assert migrate.current(fresh_database_url) == "0024"
