"""Run the Alembic migrations that create and upgrade the schema (never create_all)."""

import contextlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # Alembic is imported when a migration is asked for, not by every process that imports this
    from alembic.config import Config

SCRIPTS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> "Config":
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at url up to revision (default: the newest); a SQLite file not made yet is made for its
    owner only (owner_only)."""
    from alembic import command

    owner_only(url)
    command.upgrade(alembic_config(url), revision)


def sqlite_file(url: str) -> Path | None:
    """The file a SQLite URL names, or None: another engine's URL, an in-memory database, a file: URI."""
    if not url.startswith("sqlite"):
        return None
    from sqlalchemy.engine import make_url

    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def owner_only(url: str) -> None:
    """Make a SQLite database file that does not exist yet, readable and writable by its owner only: it holds the
    password and token hashes and the sign-in key, and made by the first connection it took the umask's 0644,
    readable by every account on the machine (SQLite gives its -wal and -shm files the database's mode). A file
    that exists keeps its mode; a folder that does not exist is left for the connection to name."""
    database = sqlite_file(url)
    if database is None:
        return
    try:
        os.close(os.open(database, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        # Empty, it holds nothing yet: made by a connection that only looked (a command run before init-db, a
        # server started before it), with the umask's mode, which init-db then kept.
        with contextlib.suppress(OSError):
            if database.stat().st_size == 0:
                database.chmod(0o600)
    except (FileNotFoundError, NotADirectoryError):
        return


def current(url: str) -> str | None:
    """Return the database's current revision, or None when it was never migrated."""
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine

    if (database := sqlite_file(url)) is not None and database.parent.is_dir() and not database.exists():
        return None  # never migrated, and not made by looking (a connection would make it, with the umask's mode)
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def tables_in_the_way(url: str) -> list[str]:
    """The tables of the database's default schema that the tracker's migrations would make themselves (another
    application's, under a DATABASE_URL one letter off): none for a SQLite file not made yet. Others (an
    extension's, as PostGIS's spatial_ref_sys; alembic_version, which a full downgrade leaves) are no obstacle."""
    from sqlalchemy import create_engine, inspect

    from .models import Base

    if (database := sqlite_file(url)) is not None and not database.exists():
        return []
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return sorted(set(inspect(connection).get_table_names()) & set(Base.metadata.tables))
    finally:
        engine.dispose()


def head() -> str | None:
    """Return the newest revision the code knows (None only if it knew none)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def schema_problem(revision: str | None, newest: bool = True) -> str | None:
    """What stops this tracker working on a database at revision, said for its operator (None: nothing).
    newest: only the revision this code ends at will do (a backup takes an older one: the copy to make
    before upgrading it)."""
    if revision is None:
        return "the database has no schema yet: run `flask --app wsgi init-db` first"
    if not newest or revision == head():
        return None
    return newer_problem(revision) or (
        f"the database is at schema revision {revision}, this tracker needs {head()}: back it up "
        "(`flask --app wsgi backup PATH`), then run `flask --app wsgi init-db` to upgrade it"
    )


def newer_problem(revision: str | None) -> str | None:
    """Said of a database a newer tracker made (None: there is no schema, or this code knows its revision)."""
    if revision is None or revision in known_revisions():
        return None
    return (
        f"the database is at schema revision {revision}, which this tracker does not know: a newer version "
        "of the tracker made it; run that version"
    )


def known_revisions() -> set[str]:
    """Every revision the code knows: a database at another one was made by a newer tracker."""
    return set(revisions())


def revisions() -> list[str]:
    """Every revision the code knows, oldest first."""
    from alembic.script import ScriptDirectory

    newest_first = ScriptDirectory.from_config(alembic_config("sqlite://")).walk_revisions()
    return [script.revision for script in newest_first][::-1]
