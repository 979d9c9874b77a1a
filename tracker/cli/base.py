"""What every command shares: refusing to run on a database without this tracker's schema, plain
errors, ids typed in ASCII digits, and the folders a command writes."""

import functools
from pathlib import Path
from typing import cast

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from werkzeug.local import LocalProxy

from .. import logs
from ..errors import TrackerError
from ..numbers import read_whole


class SchemaGroup(AppGroup):
    """Commands that refuse to run before init-db with a message, not a SQL traceback. The check is the
    command's own, not the group's: a group's callback runs before `--help` is read, so on a new machine
    `flask --app wsgi user create --help` answered "run init-db first" instead of the help."""

    def command(self, *args, **kwargs):
        decorate = super().command(*args, **kwargs)
        return lambda f: decorate(_after_schema_check(f))


def _after_schema_check(f):
    @functools.wraps(f)
    def checked(*args, **kwargs):
        ensure_migrated(current_app)
        return f(*args, **kwargs)

    return checked


class WholeRange(click.IntRange):
    """click's IntRange read with int(), which takes every script's digits ("١٢" was token 12) and "1_2":
    an id is typed in ASCII digits (tracker.numbers), then held to the range."""

    def convert(self, value, param, ctx):
        if isinstance(value, str):
            try:
                value = read_whole(value)
            except ValueError as error:
                self.fail(str(error), param, ctx)
        return super().convert(value, param, ctx)


def fail(error: TrackerError):
    """Exit with the error's message and details as plain text (no Python reprs, no traceback)."""
    details = "; ".join(f"{key}: {_plain(value)}" for key, value in error.details.items())
    raise click.ClickException(f"{error.message} ({details})" if details else error.message)


def real_app() -> Flask:
    """The app behind the current_app proxy, for work that runs outside this app context."""
    return cast("LocalProxy[Flask]", current_app)._get_current_object()


def _plain(value) -> str:
    if isinstance(value, bool):  # a fact the API answers as JSON's true/false: in words, not Python's
        return "yes" if value else "no"
    return ", ".join(map(_plain, value)) if isinstance(value, list | tuple) else str(value)


def _show_migrations(_context: click.Context, _param: click.Parameter, verbose: bool) -> None:
    if verbose:
        logs.show_migrations()


# Alembic's lines (which migrations ran, on what) are for whoever asks: a first run stays readable.
verbose_option = click.option(
    "--verbose",
    "-v",
    is_flag=True,
    expose_value=False,
    callback=_show_migrations,
    help="Also print the migration log (Alembic's lines).",
)


def ensure_migrated(app: Flask, *, newest: bool = True) -> None:
    """Refuse a database without the schema, or (newest) at another revision than this tracker's: after
    an upgrade of the code without init-db, commands failed on missing columns with SQL tracebacks, and a
    scheduler ran on, logging one at every sweep."""
    from .. import migrate

    problem = migrate.schema_problem(schema_revision(app.config["DATABASE_URL"]), newest)
    if problem:
        raise click.ClickException(problem)


def schema_revision(url: str) -> str | None:
    """The database's schema revision; one line, not a traceback, when the database cannot be opened."""
    from sqlalchemy.exc import DatabaseError

    from .. import migrate

    try:
        return migrate.current(url)
    # No server there, no such database or folder, a refused login; and (not an OperationalError, so they
    # ended in a traceback) a file that is no SQLite database, or a URL option the driver refuses.
    except DatabaseError as error:
        reason = str(error.orig or error).strip().splitlines()[0]
        folder = _missing_folder(url)
        check = (
            f"the folder {folder} does not exist: make it"
            if folder
            else "check DATABASE_URL, and that the database exists"
        )
        raise click.ClickException(f"cannot open the database {redact(url)}: {reason} ({check})") from None


def _missing_folder(url: str) -> str | None:
    """The folder a SQLite file's URL names, when it does not exist (SQLite says only "unable to open database
    file", which sent the operator looking for a database rather than making a folder)."""
    from .. import migrate

    database = migrate.sqlite_file(url)
    if database is None or database.parent.is_dir():
        return None
    return str(database.parent)


def writable(directory: str | Path, setting: str, what: str = "", elsewhere: str = "one") -> None:
    """Make directory if it is missing and write a file in it, or stop in one line naming the setting: an
    OUTBOX_DIR that is a file, or read-only (the systemd units' ProtectSystem=strict outside ReadWritePaths),
    ended init-db in a traceback, and a scheduler ran on, failing every message of the outbox transport (the
    supervisors' among them) until it was dead-lettered, and every sweep's audit anchor."""
    import tempfile

    path = Path(directory)
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as error:
        raise click.ClickException(
            f"{what or setting} {str(path)!r} cannot be written ({error.strerror or error}): make it a directory this "
            f"user may write (under systemd: in ReadWritePaths), or set {setting} to {elsewhere}"
        ) from None


def redact(url: str) -> str:
    """DATABASE_URL as it may be shown (init-db, backup, the scheduler's first log line): its password hidden,
    the one before the host and one given as a query parameter (libpq takes ?password= and ?sslpassword=)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    hidden = {name: "***" for name in parsed.query if "password" in name.lower()}
    # render_as_string quotes query values: the mark is put back as it reads before the host.
    return parsed.update_query_dict(hidden).render_as_string(hide_password=True).replace("=%2A%2A%2A", "=***")


def writable_for(app: Flask, roles: tuple[str, ...]) -> None:
    """What a scheduler's jobs write outside the database: the delivery the outbox transport's files, the
    sweep the audit chain's anchor."""
    from ..backup import anchor

    if "deliver" in roles:
        writable(app.config["OUTBOX_DIR"], "OUTBOX_DIR")
    if "sweep" in roles and (kept := anchor.path_for(app.config, app.instance_path)) is not None:
        writable(kept.parent, "AUDIT_ANCHOR_FILE", "the audit anchor's folder", "a file in one")
