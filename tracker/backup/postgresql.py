"""PostgreSQL: pg_dump in custom format from one exported snapshot, restored with pg_restore and psql
in one transaction.

The client tools (Debian package postgresql-client, of the server's major version or newer) must be
on the PATH. The password never appears on a command line (where `ps` would show it): the tools get
the URL without it as --dbname and the password in PGPASSWORD.
"""

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Connection, NullPool, create_engine, text
from sqlalchemy.engine import make_url

from . import BackupError

# Everything in the public schema the tracker's migrations make: tables (with their sequences,
# indexes and triggers), other sequences, views, and the trigger functions.
OBJECTS = """
    SELECT 'TABLE', format('%I.%I', schemaname, tablename) FROM pg_catalog.pg_tables WHERE schemaname = 'public'
    UNION ALL SELECT 'VIEW', format('%I.%I', schemaname, viewname) FROM pg_catalog.pg_views WHERE schemaname = 'public'
    UNION ALL SELECT 'SEQUENCE', format('%I.%I', schemaname, sequencename) FROM pg_catalog.pg_sequences
        WHERE schemaname = 'public'
    UNION ALL SELECT 'FUNCTION', p.oid::pg_catalog.regprocedure::text FROM pg_catalog.pg_proc p
        JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'
"""
ORDER = ("VIEW", "TABLE", "SEQUENCE", "FUNCTION")


def tool(name: str) -> str:
    """The path of a client tool, or a one-line error naming it and its package."""
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} not found: install the PostgreSQL client tools (Debian package postgresql-client, "
            "of the server's major version or newer)"
        )
    return found


def libpq(url: str) -> tuple[str, dict[str, str]]:
    """The URL as libpq reads it, without its password, and the environment that carries the password (given
    before the host or as ?password=: the URL is on the tools' command line, which every user of the host reads)."""
    parts = make_url(url)
    env = dict(os.environ)
    given = parts.query.get("password")
    if given is not None:
        env["PGPASSWORD"] = given if isinstance(given, str) else given[-1]
        parts = parts.difference_update_query(["password"])
    if parts.password is not None:
        env["PGPASSWORD"] = str(parts.password)
    # URL.set ignores None: replace the field itself.
    return parts.set(drivername="postgresql")._replace(password=None).render_as_string(hide_password=False), env


def dump(url: str, target: Path, read_facts: Callable[[Connection], dict]) -> dict:
    """Dump the database into target (custom format) and return read_facts of the very same snapshot."""
    pg_dump = tool("pg_dump")
    dsn, env = libpq(url)
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect().execution_options(isolation_level="REPEATABLE READ") as connection:
            snapshot = connection.scalar(text("SELECT pg_export_snapshot()"))
            facts = read_facts(connection)
            # The snapshot stays exported while this transaction is open: pg_dump sees what facts saw.
            command = [pg_dump, "--format=custom", f"--snapshot={snapshot}", "--no-password"]
            _run([*command, f"--file={target}", f"--dbname={dsn}"], env, url)
            connection.rollback()
    finally:
        engine.dispose()
    return facts


def load(url: str, dump_file: Path) -> None:
    """Replace everything in the database's public schema by the dump's, in one transaction: drop
    what is there, then run the dump's script (pg_restore), all through one psql --single-transaction,
    so a failure leaves the database as it was."""
    pg_restore, psql = tool("pg_restore"), tool("psql")
    dsn, env = libpq(url)
    prelude = "SET client_min_messages = warning;\n" + "".join(f"{s};\n" for s in _drops(url))
    with tempfile.TemporaryFile() as restore_errors, tempfile.TemporaryFile() as psql_errors:
        script = subprocess.Popen(
            [pg_restore, "--no-owner", "--no-privileges", "--file=-", str(dump_file)],
            stdout=subprocess.PIPE,
            stderr=restore_errors,
        )
        applying = subprocess.Popen(
            [psql, "--no-psqlrc", "--quiet", "--single-transaction", "--set=ON_ERROR_STOP=1", "--no-password"]
            + [f"--dbname={dsn}", "--file=-"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=psql_errors,
            env=env,
        )
        assert script.stdout is not None and applying.stdin is not None
        try:
            applying.stdin.write(prelude.encode())
            shutil.copyfileobj(script.stdout, applying.stdin)
        except BrokenPipeError:  # psql stopped at an error: its message follows
            pass
        finally:
            applying.stdin.close()
            script.stdout.close()
        failed = [
            (name, errors)
            for name, code, errors in (
                ("pg_restore", script.wait(), restore_errors),
                ("psql", applying.wait(), psql_errors),
            )
            if code != 0
        ]
        if failed:
            name, errors = failed[-1]
            errors.seek(0)
            raise BackupError(f"{name} failed: {_last_line(errors.read().decode(errors='replace'), url)}")


def _drops(url: str) -> list[str]:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("SET LOCAL search_path TO ''")  # names come out schema-qualified
            found = connection.execute(text(OBJECTS)).all()
    finally:
        engine.dispose()
    return [f"DROP {kind} IF EXISTS {name} CASCADE" for kind in ORDER for k, name in found if k == kind]


def _run(command: list[str], env: dict[str, str], url: str) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True, errors="replace")
    if result.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed: {_last_line(result.stderr, url)}")


def _last_line(output: str, url: str) -> str:
    """The tool's first error line (else its first line), never with the password in it."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    errors = [line for line in lines if "error" in line.lower() or "fatal" in line.lower()]
    line = (errors or lines or ["no message"])[0]
    password = make_url(url).password
    return line.replace(str(password), "***") if password else line
