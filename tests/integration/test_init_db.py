"""init-db on SQLite: a migration stopped half-way leaves the database at the revision before it, whole (each
migration runs in a transaction of its own with its revision stamp, as PostgreSQL's always did: Alembic ran SQLite's
without one, so an init-db stopped by Ctrl-C or a power cut left a migration's first tables behind under the revision
before it, and every later init-db failed on them); and the file it makes is its owner's only."""

import os
import sqlite3
import stat
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


def run(tmp_path: Path, path: Path, *commands: list[str], outbox: str = "outbox", umask: int = 0o022) -> list:
    """Each command's result, run in turn by one app on the SQLite file at path, under umask."""
    from tests.conftest import app_config
    from tracker import create_app
    from tracker.db import engine_of

    old = os.umask(umask)
    try:
        app = create_app(app_config(tmp_path / outbox, DATABASE_URL=f"sqlite:///{path}"))
        try:
            return [app.test_cli_runner().invoke(args=command) for command in commands]
        finally:
            engine_of(app).dispose()
    finally:
        os.umask(old)


def owners_only(folder: Path) -> None:
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in folder.iterdir()}
    assert modes and set(modes.values()) == {0o600}, modes


def test_init_db_makes_a_sqlite_file_its_owners_only(tmp_path):
    """The file holds the password and token hashes and the sign-in key: made with the umask's 0644, every account
    on the machine could read it. One that exists keeps its mode."""
    path = tmp_path / "new" / "tracker.db"
    path.parent.mkdir()
    [result] = run(tmp_path, path, ["init-db"])
    assert result.exit_code == 0, result.output
    owners_only(path.parent)


@pytest.mark.parametrize("first", [["scheduler", "--jobs", "sweep"], ["user", "list"]])
def test_a_command_run_before_init_db_leaves_no_file_readable_by_all(tmp_path, first):
    """The command looked for the schema, and the look made the file (empty, the umask's 0644); init-db then kept
    that mode: the password and token hashes were readable by every account on the machine. Now the look makes no
    file, and init-db's first step (migrate.owner_only) tightens an empty one a server left."""
    path = tmp_path / "new" / "tracker.db"
    path.parent.mkdir()
    [early] = run(tmp_path, path, first)
    assert early.exit_code != 0 and "run `flask --app wsgi init-db` first" in early.output, early.output
    assert not path.exists(), "looking made no file"
    path.touch()  # as a server started before init-db leaves it: empty, 0644
    path.chmod(0o644)
    migrate.owner_only(f"sqlite:///{path}")
    owners_only(path.parent)


def with_tables(path: Path, *tables_made: str) -> Path:
    """A SQLite file at path holding these tables ("name (columns)") and nothing else."""
    connection = sqlite3.connect(path)
    try:
        for made in tables_made:
            connection.execute(f"CREATE TABLE {made}")
        connection.commit()
    finally:
        connection.close()
    return path


def test_init_db_on_another_applications_database_changes_nothing_and_says_so(tmp_path):
    """A DATABASE_URL one letter off named another application's database: init-db ended in a traceback
    (DuplicateTable), and on SQLite left the tracker's first tables among theirs at revision 0004."""
    path = with_tables(tmp_path / "other.db", "exercises (id INTEGER)", "payroll (id INTEGER)")
    [result] = run(tmp_path, path, ["init-db"])
    assert result.exit_code == 1, result.output
    assert "holds tables of the names the tracker makes (exercises), not made by it" in result.output, result.output
    assert result.output.rstrip().endswith("nothing was changed") and "Traceback" not in result.output
    assert tables(path) == {"exercises", "payroll"}


def test_tables_the_tracker_does_not_make_are_in_no_init_dbs_way(tmp_path):
    """An extension's table (PostGIS's spatial_ref_sys) or the empty alembic_version a full downgrade leaves is
    no other application's schema: init-db makes its own beside them (only tables of its names stop it)."""
    tables_made = ("spatial_ref_sys (srid INTEGER)", "alembic_version (version_num VARCHAR(32) NOT NULL)")
    shared = with_tables(tmp_path / "shared.db", *tables_made)
    assert migrate.tables_in_the_way(f"sqlite:///{shared}") == []
    other = with_tables(tmp_path / "other.db", *tables_made, "exercises (id INTEGER)", "incidents (id INTEGER)")
    assert migrate.tables_in_the_way(f"sqlite:///{other}") == ["exercises", "incidents"]
    assert migrate.tables_in_the_way(f"sqlite:///{tmp_path / 'none.db'}") == [] and not (tmp_path / "none.db").exists()


def test_init_db_that_cannot_write_the_outbox_upgrades_nothing(tmp_path):
    """It upgraded the schema, then refused the outbox folder: the scheduler of the older version still running
    could not start again on the newer schema, and nothing said the upgrade had been made."""
    (tmp_path / "a-file").write_text("")
    path = tmp_path / "tracker.db"
    [result] = run(tmp_path, path, ["init-db"], outbox="a-file/outbox")
    assert result.exit_code == 1 and "OUTBOX_DIR" in result.output, result.output
    assert migrate.current(f"sqlite:///{path}") is None, "no schema made"
