"""A migration stopped half-way leaves the database at the revision before it, whole: on SQLite each migration runs in
a transaction of its own with its revision stamp (PostgreSQL's always did). Alembic ran SQLite's without one, so an
init-db stopped by Ctrl-C or a power cut left a migration's first tables behind under the revision before it, and every
later init-db failed ("table exercises already exists") while every other command said to run init-db."""

import sqlite3
from pathlib import Path

import pytest
from alembic.ddl.impl import DefaultImpl

from tracker import migrate


def tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as connection:
        return {name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def test_a_migration_stopped_half_way_leaves_its_first_tables_out_and_init_db_goes_on(tmp_path, monkeypatch):
    path = tmp_path / "tracker.db"
    url = f"sqlite:///{path}"
    made = DefaultImpl.create_table

    def stopped_at_the_second_table_of_0005(self, table, **kw):
        if table.name == "exchanges":  # 0005 made exercises just before
            raise KeyboardInterrupt
        return made(self, table, **kw)

    monkeypatch.setattr(DefaultImpl, "create_table", stopped_at_the_second_table_of_0005)
    with pytest.raises(KeyboardInterrupt):
        migrate.upgrade(url)
    assert migrate.current(url) == "0004", "the migrations before it stand"
    assert "exercises" not in tables(path), "none of the stopped migration's tables is left behind"

    monkeypatch.setattr(DefaultImpl, "create_table", made)
    migrate.upgrade(url)
    assert migrate.current(url) == migrate.head()
    assert {"exercises", "exchanges"} <= tables(path)
