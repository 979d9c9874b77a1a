"""`flask --app wsgi ...` commands: init-db, user, token, demo, sweep, scheduler, audit, backup, restore."""

import functools
import gc
import logging
import re
import signal
import sys
import time
from pathlib import Path
from typing import cast

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from werkzeug.local import LocalProxy

from . import logs
from .db import plan_for_tables_as_they_are, session_scope
from .errors import TrackerError
from .models import Role
from .numbers import read_whole


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
        _ensure_migrated(current_app)
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


user_cli = SchemaGroup("user", help="Create and manage users.")
token_cli = SchemaGroup("token", help="Issue and revoke API tokens.")
channel_cli = SchemaGroup("channel", help="Look after the lines of communication.")
audit_cli = SchemaGroup("audit", help="Seal and check the timeline's audit chain.")


def init_app(app: Flask) -> None:
    for command in (init_db, demo, sweep, scheduler, backup, restore):
        app.cli.add_command(command)
    app.cli.add_command(user_cli)
    app.cli.add_command(token_cli)
    app.cli.add_command(channel_cli)
    app.cli.add_command(audit_cli)
    from .cli_exercises import exercise_cli

    app.cli.add_command(exercise_cli)


def _fail(error: TrackerError):
    """Exit with the error's message and details as plain text (no Python reprs, no traceback)."""
    details = "; ".join(f"{key}: {_plain(value)}" for key, value in error.details.items())
    raise click.ClickException(f"{error.message} ({details})" if details else error.message)


def _real_app() -> Flask:
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


def _ensure_migrated(app: Flask, *, newest: bool = True) -> None:
    """Refuse a database without the schema, or (newest) at another revision than this tracker's: after
    an upgrade of the code without init-db, commands failed on missing columns with SQL tracebacks, and a
    scheduler ran on, logging one at every sweep."""
    from . import migrate

    problem = migrate.schema_problem(_revision(app.config["DATABASE_URL"]), newest)
    if problem:
        raise click.ClickException(problem)


def _revision(url: str) -> str | None:
    """The database's schema revision; one line, not a traceback, when the database cannot be opened."""
    from sqlalchemy.exc import OperationalError

    from . import migrate

    try:
        return migrate.current(url)
    except OperationalError as error:  # no server there, no such database or folder, a refused login
        reason = str(error.orig or error).strip().splitlines()[0]
        raise click.ClickException(
            f"cannot open the database {_redact(url)}: {reason} (check DATABASE_URL, and that the database exists)"
        ) from None


@click.command("init-db")
@verbose_option
@with_appcontext
def init_db():
    """Create or upgrade the schema with the Alembic migrations (safe to run again).

    \b
    Example:
      flask --app wsgi init-db
      TRACKER_DATABASE_URL=postgresql://tracker@db:5432/tracker flask --app wsgi init-db --verbose
    """
    from . import migrate

    url = current_app.config["DATABASE_URL"]
    revision = _revision(url)
    if newer := migrate.newer_problem(revision):  # Alembic would end in "Can't locate revision"
        raise click.ClickException(newer)
    if revision is None:  # a new database: an anchor left by an older one is not its chain's
        from .backup import anchor

        anchor.remove(anchor.path_for(current_app.config, current_app.instance_path))
    migrate.upgrade(url)
    _writable_for(current_app, ("deliver", "sweep"))  # the upgrade step says it, before a scheduler restarts on it
    click.echo(f"database at revision {migrate.current(url)}: {_redact(url)}")


def _writable(directory: str | Path, setting: str, what: str = "", elsewhere: str = "one") -> None:
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


def _redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@user_cli.command("create")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]), help="What the user may do.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input instead of a prompt.")
@click.option("--full-name", default="", help="Name shown on the timeline and pages.")
@click.option("--email", default=None, help="Where messages to this user go.")
@with_appcontext
def create_user(name, role, password_stdin, full_name, email):
    """Create a user NAME with a role (duty_officer, liaison, supervisor, admin).

    \b
    Example:
      flask --app wsgi user create alice --role liaison --full-name 'Alice Smith' --email alice@example.org
      flask --app wsgi user create bob --role duty_officer --password-stdin < bob.password
    """
    from .services.accounts import people

    password = _read_password(password_stdin)
    try:
        with session_scope(current_app) as session:
            people.create_user(session, name, password, role, full_name, email, by=None)
    except TrackerError as error:
        _fail(error)
    click.echo(f"created {role} {name}")


def _read_password(from_stdin: bool, prompt: str = "Password") -> str:
    """A password typed twice at a hidden prompt, or the first line of standard input."""
    try:
        if from_stdin:  # a file written on Windows ends its line with CR LF: the CR is no part of it
            password = sys.stdin.readline().rstrip("\r\n")
        else:
            password = click.prompt(prompt, hide_input=True, confirmation_prompt=True)
        password.encode("utf-8")  # bytes that are not UTF-8 are read as lone surrogates, no password to type
    except UnicodeError:
        raise click.ClickException("the password is not UTF-8 text: give it as UTF-8") from None
    return password


@user_cli.command("set-password")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the new password from standard input instead of a prompt.")
@with_appcontext
def set_password(name, password_stdin):
    """Give NAME a new password (at least 8 characters), e.g. the last admin's, forgotten: their web sessions
    end and their failed sign-ins are forgotten; their API tokens stay. Their security log says reset, from the
    command line.

    \b
    Example:
      flask --app wsgi user set-password alice
      flask --app wsgi user set-password alice --password-stdin < alice.password
    """
    from .services.accounts import people

    try:
        with session_scope(current_app) as session:
            people.find_user(session, name)  # an unknown name is refused before a password is asked
    except TrackerError as error:
        _fail(error)
    password = _read_password(password_stdin, "New password")
    try:
        with session_scope(current_app) as session:
            user = people.find_user(session, name)
            people.set_password(session, user, password, by=None)
            active = user.active
    except TrackerError as error:
        _fail(error)
    click.echo(f"new password set for {name}: their web sessions ended; they sign in with it")
    if not active:
        click.echo(f"{name} is inactive: `flask --app wsgi user activate {name}` lets them sign in", err=True)


@user_cli.command("list")
@with_appcontext
def list_users():
    """List users with their roles and whether they are active.

    \b
    Example:
      flask --app wsgi user list
    """
    from sqlalchemy import select

    from .models import User

    with session_scope(current_app) as session:
        users = session.scalars(select(User).order_by(User.username)).all()
        for user in users:
            click.echo(f"{user.username:20} {user.role.value:13} {'active' if user.active else 'inactive'}")
    if not users:  # said on stderr: a script reading the list still reads an empty one
        click.echo("no users yet: create one with `flask --app wsgi user create NAME --role admin`", err=True)


@user_cli.command("deactivate")
@click.argument("name")
@with_appcontext
def deactivate_user(name):
    """Deactivate NAME: their web sessions end and their API tokens and calendar feed links are revoked
    at once, for good (an admin can activate the account again on its page; new tokens are then needed).

    \b
    Example:
      flask --app wsgi user deactivate alice
    """
    from .services.accounts import people

    try:
        with session_scope(current_app) as session:
            revoked = people.deactivate(session, people.find_user(session, name), by=None)
    except TrackerError as error:
        _fail(error)
    click.echo(f"deactivated {name}: web sessions ended, {revoked} API token(s) and their calendar feed links revoked")


@user_cli.command("activate")
@click.argument("name")
@with_appcontext
def activate_user(name):
    """Activate NAME again after a deactivation: they sign in with their password; their old API tokens
    and calendar feed links stay revoked (issue new ones with `token create`).

    \b
    Example:
      flask --app wsgi user activate alice && flask --app wsgi token create alice
    """
    from .services.accounts import people

    try:
        with session_scope(current_app) as session:
            user = people.find_user(session, name)
            was_active = user.active
            people.reactivate(session, user, by=None)
    except TrackerError as error:
        _fail(error)
    if was_active:
        click.echo(f"{name} is already active")
    else:
        click.echo(f"activated {name}: they sign in with their password; old API tokens and feed links stay revoked")


@token_cli.command("create")
@click.argument("name")
@click.option("--label", default="cli", help="What the token is for, e.g. the desk or script using it.")
@with_appcontext
def create_token(name, label):
    """Issue an API token for user NAME and print it (it is shown only this once).

    \b
    Example:
      flask --app wsgi token create alice --label 'hotline desk script' > alice.token
    """
    from .services.accounts import people

    try:
        with session_scope(current_app) as session:
            token, text = people.create_token(session, people.find_user(session, name), label, by=None)
            token_id = token.id
    except TrackerError as error:
        _fail(error)
    click.echo(f"token {token_id} for {name} (store it now, it is not shown again):", err=True)
    click.echo(text)


@token_cli.command("revoke")
@click.argument("token_id", type=WholeRange(1, 2**31 - 1))
@with_appcontext
def revoke_token(token_id):
    """Revoke token TOKEN_ID (see `token list`).

    \b
    Example:
      flask --app wsgi token list alice
      flask --app wsgi token revoke 12
    """
    from .services.accounts import people
    from .timeutil import utcnow

    now = utcnow()
    try:
        with session_scope(current_app) as session:
            revoked_at = people.revoke_token(session, token_id, by=None, now=now).revoked_at
    except TrackerError as error:
        _fail(error)
    if revoked_at is not None and revoked_at != now:  # revoked before: nothing changed now
        click.echo(f"token {token_id} was revoked already, on {revoked_at:%Y-%m-%d %H:%MZ}")
    else:
        click.echo(f"revoked token {token_id}")


@token_cli.command("list")
@click.argument("name")
@with_appcontext
def list_tokens(name):
    """List the tokens of user NAME (never the token text).

    \b
    Example:
      flask --app wsgi token list alice
    """
    from .services.accounts import people

    try:
        with session_scope(current_app) as session:
            tokens = people.find_user(session, name).tokens
            for token in tokens:
                state = f"revoked {token.revoked_at:%Y-%m-%d %H:%MZ}" if token.revoked_at else "active"
                click.echo(f"{token.id:5} {token.prefix}...  {token.name:30} {state}")
    except TrackerError as error:
        _fail(error)
    if not tokens:
        click.echo(f"{name} has no API tokens: issue one with `flask --app wsgi token create {name}`", err=True)


@click.command("demo")
@click.option("--fresh", is_flag=True, help="Issue new demo API tokens and revoke the old ones.")
@with_appcontext
def demo(fresh):
    """Load the fictional Northmark-Eastland region and print the demo logins and API tokens.

    The tokens of the last run (instance/demo-credentials.txt) are kept while they work. A database holding
    accounts the demo did not make is refused: the demo's passwords are published.

    \b
    Example:
      flask --app wsgi demo --fresh
    """
    from . import demo as demo_data
    from .http.wiring import ack_links, filing_limits
    from .timeutil import utcnow

    _ensure_migrated(current_app)
    path = Path(current_app.instance_path) / "demo-credentials.txt"
    known = {} if fresh or not path.exists() else dict(_DEMO_LINE.findall(path.read_text()))
    try:
        with session_scope(current_app) as session:
            transports = current_app.extensions["tracker.transports"]
            tokens = demo_data.load(session, filing_limits(), utcnow(), transports, ack_links(), known)
    except TrackerError as error:
        _fail(error)
    lines = [f"{name:11} password {demo_data.PASSWORD.format(name):26} token {token}" for name, token in tokens.items()]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o600)
    click.echo("Demo region loaded (Northmark / Eastland). Logins and API tokens:")
    click.echo("\n".join(lines))
    click.echo(f"(also written to {path})")


_DEMO_LINE = re.compile(r"^(\w+)\s+password \S+\s+token (\S+)$", re.MULTILINE)


@click.command("sweep")
@with_appcontext
def sweep():
    """Run one escalation sweep and one delivery pass now, then exit.

    \b
    Example:
      flask --app wsgi sweep
    """
    from . import jobs

    _ensure_migrated(current_app)
    click.echo(f"escalated {jobs.sweep(current_app)} incidents, sent {jobs.deliver(current_app)} messages")


@click.command("scheduler")
@click.option(
    "--jobs",
    "roles",
    type=click.Choice(["sweep", "deliver"]),
    multiple=True,
    help="Run only these jobs (repeat the option for both; default: both). `--jobs sweep`: escalations, the "
    "clocks of the other side, line checks, the watchdog; `--jobs deliver`: sending the outbox.",
)
@with_appcontext
def scheduler(roles: tuple[str, ...]):
    """Run the escalation and delivery jobs until stopped (run one or two per deployment; a busy one may run
    the sweep and the delivery in processes of their own, each once or twice).

    \b
    Example:
      flask --app wsgi scheduler
      flask --app wsgi scheduler --jobs sweep
    """
    from .scheduler import ROLES, build_scheduler

    roles = roles or ROLES

    app = _real_app()
    logs.configure(app.config["LOG_LEVEL"], app.config["LOG_FORMAT"])
    _ensure_migrated(current_app)
    _writable_for(app, roles)
    if port := app.config["SCHEDULER_METRICS_PORT"]:
        from prometheus_client import start_http_server

        address = app.config["SCHEDULER_METRICS_ADDRESS"]
        try:
            start_http_server(port, addr=address)
        except OSError as error:  # taken (by the other scheduler on this host?), or an address not of this host
            raise click.ClickException(
                f"SCHEDULER_METRICS_PORT {port} cannot be opened on {address} ({error.strerror or error}): "
                "give each scheduler on a host a port of its own, or 0 for none"
            ) from None
    doing = {
        "sweep": f"sweep every {app.config['SWEEP_INTERVAL_SECONDS']} s",
        "deliver": f"delivery every {app.config['DELIVERY_INTERVAL_SECONDS']} s",
    }
    jobs_run = ", ".join(doing[role] for role in ROLES if role in roles)
    from . import jobs

    # Its name in heartbeats and claims, as an operator looking at the runners table sees it.
    _tell(f"scheduler {jobs.runner_id()}: {jobs_run} on {_redact(app.config['DATABASE_URL'])}")

    plan_for_tables_as_they_are(app)
    running = build_scheduler(app, roles=roles)
    # What start-up made (the app, its libraries, the region's shapes) lives as long as the process: kept
    # out of the garbage collector's full passes, which otherwise walk it all again and again during a
    # large sweep (about a tenth of its CPU). gc.freeze() is CPython's own answer for such long-lived data.
    gc.freeze()
    # systemd's stop and Ctrl-C alike: shut down cleanly, even when started with SIGINT ignored (as a
    # background job of a shell, or a child of a process that ignores it), where Python raises no
    # KeyboardInterrupt and the scheduler would be killed later with its heartbeat left behind.
    signal.signal(signal.SIGTERM, _exit)
    signal.signal(signal.SIGINT, _exit)
    died = False
    try:
        # The scheduler's loop and its jobs run in threads of their own; this thread only waits for the
        # signal, so the signal's SystemExit lands here. Raised in the scheduler's own loop (run in this
        # thread before), it could land while a job was being handed to a worker thread, where the
        # scheduler caught it as a job it failed to submit and ran on until killed, heartbeat left behind.
        running.start()
        while running._thread.is_alive():  # its loop ends only with an error of APScheduler's own
            time.sleep(1)
        died = True
    except (KeyboardInterrupt, SystemExit):
        _tell("scheduler stopping: letting the running jobs finish")
    finally:
        try:
            if running.running:
                running.shutdown(wait=True)
        except Exception:  # stopped before its thread had started: nothing of its own to wait for
            logging.getLogger("tracker.scheduler").exception("the scheduler did not shut down cleanly")
        jobs.leave(app)  # after the jobs: a claim of ours may be taken over from now on
    if died:  # exit non-zero, so systemd (Restart=on-failure) or whatever runs it starts it again
        why = "the scheduler's loop stopped on an error (logged above); its jobs ran no more"
        if not logs.json_mode():
            raise click.ClickException(why)
        logging.getLogger("tracker.scheduler").error(why)
        raise click.exceptions.Exit(1)
    _tell("scheduler stopped")


def _writable_for(app: Flask, roles: tuple[str, ...]) -> None:
    """What a scheduler's jobs write outside the database: the delivery the outbox transport's files, the
    sweep the audit chain's anchor."""
    from .backup import anchor

    if "deliver" in roles:
        _writable(app.config["OUTBOX_DIR"], "OUTBOX_DIR")
    if "sweep" in roles and (kept := anchor.path_for(app.config, app.instance_path)) is not None:
        _writable(kept.parent, "AUDIT_ANCHOR_FILE", "the audit anchor's folder", "a file in one")


def _tell(line: str) -> None:
    """What the scheduler says of its start and stop: a plain line on a terminal (LOG_FORMAT text), a log
    record among the others in JSON mode (one JSON object per line, whatever reads the stream)."""
    if logs.json_mode():
        logging.getLogger("tracker.scheduler").info(line)
    else:
        click.echo(line, err=True)


def _exit(_signal, _frame):
    # One stop is enough: a second signal must not cut short the wait for running jobs and the heartbeat's
    # removal (SIGKILL abandons them; the claims are taken over once the heartbeat is silent).
    for stop in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop, signal.SIG_IGN)
    raise SystemExit(0)


@channel_cli.command("test")
@click.argument("name")
@with_appcontext
def test_channel(name):
    """Send a communications check on channel NAME now (confirm it from the message).

    \b
    Example:
      flask --app wsgi channel list
      flask --app wsgi channel test 'L1 National Operations Centre'
    """
    from sqlalchemy import select

    from . import dispatch
    from .models import ChannelCheck, ContactChannel

    with session_scope(current_app) as session:
        channel_id = session.scalar(select(ContactChannel.id).where(ContactChannel.name == name))
    if channel_id is None:
        raise click.ClickException(f"no channel {name!r} (see `flask --app wsgi channel list`)")
    try:
        check_id = dispatch.send_check(_real_app(), channel_id, "cli")
    except TrackerError as error:
        _fail(error)
    with session_scope(current_app) as session:
        check = session.get_one(ChannelCheck, check_id)
        state = check.outcome.value if check.detail is None else f"{check.outcome.value}: {check.detail}"
        click.echo(f"check {check.id} of {name}: {state}; confirm by {check.due_by:%Y-%m-%d %H:%MZ}")


@channel_cli.command("list")
@with_appcontext
def list_channels():
    """List the channels with their ladder level, transport, health and last good check.

    \b
    Example:
      flask --app wsgi channel list
    """
    from sqlalchemy import select

    from .models import ContactChannel

    with session_scope(current_app) as session:
        channels = session.scalars(select(ContactChannel).order_by(ContactChannel.level, ContactChannel.name)).all()
        for c in channels:
            last = f"{c.last_check_ok_at:%Y-%m-%d %H:%MZ}" if c.last_check_ok_at else "never"
            untested = c.last_check_at is None and c.health.value == "ok"  # never checked: not known to work
            state = "inactive" if not c.active else "untested" if untested else c.health.value
            click.echo(f"L{c.level} {c.name:40} {c.transport:8} {state:9} last good check {last}")
    if not channels:
        click.echo("no channels yet: an admin adds them on the Channels page (/admin/channels)", err=True)


@audit_cli.command("seal")
@with_appcontext
def seal_audit():
    """Seal every timeline event not yet sealed (the scheduler's sweep does this continuously).

    \b
    Example:
      flask --app wsgi audit seal
    """
    from .backup import anchor
    from .services.review import audit

    app = _real_app()
    keep = functools.partial(anchor.write, anchor.path_for(app.config, app.instance_path))
    click.echo(f"sealed {audit.seal_all(lambda: session_scope(app), on_sealed=keep)} events")


@audit_cli.command("verify")
@click.option("--incident", "reference", default=None, help="Check only this incident's seals (its reference).")
@with_appcontext
def verify_audit(reference):
    """Walk the audit chain seal by seal, and check that the database still holds the chain head kept
    outside it (the anchor: after each seal, beside a SQLite file or in the instance folder), so that a
    copy missing its newest commits is found; name the first broken link and exit 1.

    \b
    Example:
      flask --app wsgi audit verify
      flask --app wsgi audit verify --incident INC-2026-00001
    """
    from .backup import anchor
    from .services.incidents import handling
    from .services.review import audit

    app = _real_app()
    anchor_path = anchor.path_for(app.config, app.instance_path)
    try:
        head = anchor.read(anchor_path)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    incident_id = None
    if reference is not None:
        try:
            with session_scope(app) as session:
                incident_id = handling.get_incident(session, reference).id
        except TrackerError as error:
            raise click.BadParameter(error.message, param_hint="--incident") from None
    verdict = audit.verify(lambda: session_scope(app), incident_id, anchor=head)
    if verdict.broken is not None:
        click.echo(verdict.broken.describe())
        click.echo(f"({verdict.seals} seals checked intact before it)")
        sys.exit(1)
    click.echo(
        f"audit chain intact: {verdict.seals} seals over {verdict.incidents} incidents, "
        f"{verdict.unsealed} events not yet sealed"
    )
    if verdict.last_seq is not None:
        click.echo(f"latest seal {verdict.last_seq}: {verdict.last_hash}")
    if head is None and verdict.last_seq is not None:
        click.echo(f"no anchor at {anchor_path}: whether newer seals were cut off the end cannot be told")


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace PATH if it already exists.")
@with_appcontext
def backup(path, force):
    """Back up the database and its secret key into the new file PATH (a .tar.gz).

    Safe while the tracker runs: SQLite is copied with its online backup API, PostgreSQL with
    pg_dump -Fc (the client tools, Debian package postgresql-client, must be installed), each from
    one snapshot, so the copy holds every transaction committed before it began, and none half done.
    The file also holds instance/secret_key (or the configured SECRET_KEY), which signs links and
    sessions: keep it as safe as the database. Its manifest.json says when it was made, the schema
    revision, how many incidents it holds and the audit chain's head.

    Put it back with `flask --app wsgi restore PATH`.

    \b
    Example:
      flask --app wsgi backup /var/backups/tracker/tracker-$(date -u +%Y%m%dT%H%MZ).tar.gz
    """
    from . import backup as backups

    app = _real_app()
    _ensure_migrated(app, newest=False)  # the backup to make before init-db upgrades an older schema
    try:
        manifest = backups.create(app.config["DATABASE_URL"], path, app.config["SECRET_KEY"], force)
    except backups.BackupError as error:
        raise click.ClickException(str(error)) from None
    chain = manifest["chain"]
    click.echo(
        f"backed up {manifest['incidents']} incidents ({manifest['engine']}, revision {manifest['revision']}, "
        f"{manifest['messages_in_flight']} messages to send, audit chain at seal {chain['seq'] if chain else 0}) "
        f"and the secret key to {path}"
    )


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--force", is_flag=True, help="Replace a database that holds data (stop the web workers and schedulers first)."
)
@verbose_option
@with_appcontext
def restore(path, force):
    """Restore the backup file PATH (made by `flask --app wsgi backup`) into DATABASE_URL.

    The database must hold no data unless --force is given (on PostgreSQL it must exist: createdb).
    The secret key goes back into instance/secret_key, so links and sessions signed before the backup
    verify again; a backup of an older version is migrated to this one; the audit anchor is set to
    the backup's chain head, so `flask --app wsgi audit verify` checks the restored chain.

    What happened after the backup was made is not in it. Messages that were waiting to be sent go
    out again, with the Message-ID and Idempotency-Key they had: receivers drop those they already have.

    \b
    Example:
      flask --app wsgi restore /var/backups/tracker/tracker-20261205T1700Z.tar.gz
    """
    from . import backup as backups
    from .backup import anchor
    from .db import engine_of

    app = _real_app()
    url, config = app.config["DATABASE_URL"], app.config
    instance = backups.Instance(
        Path(app.instance_path) / "secret_key",
        config["SECRET_KEY"],
        anchor.path_for(config, app.instance_path),
        config["RUNNER_DEAD_INTERVALS"] * config["SWEEP_INTERVAL_SECONDS"],
    )
    engine_of(app).dispose()  # nothing of this process holds the database while it is replaced
    try:
        restored = backups.restore(url, path, instance, force)
    except backups.BackupError as error:
        raise click.ClickException(str(error)) from None
    finally:
        engine_of(app).dispose()
    manifest = restored.manifest
    migrated = "" if restored.revision == manifest["revision"] else f", migrated to revision {restored.revision}"
    click.echo(
        f"restored the backup of {manifest['created_at']}: {manifest['incidents']} incidents "
        f"(revision {manifest['revision']}{migrated}) into {_redact(url)}"
    )
    for note in restored.notes:
        click.echo(note)
