"""PostgreSQL: pg_dump in custom format from one exported snapshot, restored with pg_restore and psql
in one transaction.

The client tools (Debian package postgresql-client, of the server's major version or newer) must be
on the PATH. The password never appears on a command line (where `ps` would show it): the tools get
the URL without it as --dbname and the password in PGPASSWORD.
"""

import contextlib
import os
import re
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


# Raised by the check at the end of a restore's transaction when what was loaded is not what the manifest says.
MISMATCH = "tracker: the loaded database is not the one its manifest describes"
# What the check compares, as one text: the schema revision, the number of incidents and the audit chain's head
# (each of its fields the manifest records, in order; none on a chain not begun). As read_facts and anchor.body
# read them; a field a schema before 0031 lacks reads as absent, as its manifest leaves it out.
# Every name qualified: the dump's script empties the search path.
_LOADED = """pg_catalog.concat_ws('|', (SELECT version_num FROM public.alembic_version),
    (SELECT pg_catalog.count(*) FROM public.incidents),
    (SELECT pg_catalog.concat_ws(',', j->>'seq', j->>'hash', j->>'event_id', j->>'handover_id')
       FROM (SELECT pg_catalog.to_jsonb(s) AS j FROM public.audit_seals s ORDER BY seq DESC LIMIT 1) head))"""


def expected(manifest: dict) -> str:
    """What the check at the end of a restore must find, from the backup's manifest: as _LOADED reads it."""
    chain = manifest.get("chain")
    head = [chain.get(key) for key in ("seq", "hash", "event_id", "handover_id")] if chain else []
    parts = [manifest["revision"], str(manifest["incidents"])]
    if chain:
        parts.append(",".join(str(value) for value in head if value is not None))
    return "|".join(parts)


def _check(wanted: str) -> str:
    """The statement that ends a restore's script: it fails the transaction, so nothing is replaced, unless the
    database loaded is the one the manifest describes."""
    literal = "'" + wanted.replace("'", "''") + "'"
    return (
        "DO $tracker_check$ DECLARE found text; BEGIN\n"
        f"  SELECT {_LOADED} INTO found;\n"
        f"  IF found IS DISTINCT FROM {literal} THEN RAISE EXCEPTION '{MISMATCH}: %', found; END IF;\n"
        "END $tracker_check$;\n"
    )


def load(url: str, dump_file: Path, wanted: str | None = None, committing: Callable[[], None] = lambda: None) -> None:
    """Replace everything in the database's public schema by the dump's, in one transaction: drop
    what is there, then run the dump's script (pg_restore), all through one psql --single-transaction,
    so a failure leaves the database as it was. wanted (expected()): the transaction ends with a check that
    what it loaded is what the manifest describes, else fails, and nothing is replaced. committing is called
    just before psql is let commit (its input ends): stopped before it (an exception, Ctrl-C), psql is killed
    with its transaction open, and nothing is replaced."""
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
        damaged = False
        try:
            applying.stdin.write(prelude.encode())
            shutil.copyfileobj(script.stdout, applying.stdin)
            if script.wait() != 0:  # a damaged archive, read to where it broke: psql commits none of it
                damaged = True
                applying.kill()
            else:
                if wanted is not None:
                    applying.stdin.write(_check(wanted).encode())
                committing()
        except BrokenPipeError:  # psql stopped at an error: its message follows
            pass
        except BaseException:  # stopped before the end of its input: psql never commits
            for process in (applying, script):
                process.kill()
                process.wait()
            raise
        finally:
            with contextlib.suppress(BrokenPipeError):  # psql killed, or gone at an error
                applying.stdin.close()
            script.stdout.close()
        if damaged:
            applying.wait()
            restore_errors.seek(0)
            said = restore_errors.read().decode(errors="replace")
            raise BackupError(f"the archive is damaged or not a dump (pg_restore failed: {_last_line(said, url)})")
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
            said = errors.read().decode(errors="replace")
            if MISMATCH in said:
                found = said.split(MISMATCH, 1)[1].lstrip(": ").splitlines()[0].strip()
                raise Mismatch(found)
            raise BackupError(f"{name} failed: {_last_line(said, url)}")


class Mismatch(BackupError):
    """The database loaded is not the one the manifest describes: the transaction failed, nothing was replaced.
    found: what was loaded, as _LOADED reads it."""

    def __init__(self, found: str):
        super().__init__(found)
        self.found = found


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
    line = line.replace(str(password), "***") if password else line
    # What it quotes may be a row's data it could not load (a narrative, a signed link: 'invalid input syntax ...:
    # "..."', 'value "..." is out of range', 'malformed array literal: "..."'): never said on a terminal or in a
    # log. The name of a database, role, schema or table is said.
    return _QUOTED.sub(lambda quoted: quoted[0] if quoted[1] else '"..."', line)


_QUOTED = re.compile(r'(\b(?:database|role|user|schema|relation|table|extension)\s+)?"[^"]*"', re.IGNORECASE)
