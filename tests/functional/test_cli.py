"""The `flask --app wsgi ...` commands: users, tokens, demo data, a sweep, and init-db."""

import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import click
import pytest
from sqlalchemy import select

from tests.conftest import app_config
from tests.databases import migrate_to
from tests.exchange_support import add_counterpart_line
from tests.support import assert_reset_keeps_the_failures_on_record, count, sign_in
from tracker import create_app, logs
from tracker import scheduler as scheduler_module
from tracker.db import engine_of, session_scope
from tracker.migrate import head
from tracker.models import (
    AccountEvent,
    ApiToken,
    ContactChannel,
    EscalationPolicy,
    Incident,
    JobRun,
    Notification,
    NotificationStatus,
    RoutingRule,
    User,
)
from tracker.services.accounts import people

ROOT = Path(__file__).resolve().parents[2]
DEMO_USERS = ["admin", "attache", "duty", "liaison", "supervisor"]


@pytest.fixture
def runner(app, tmp_path, monkeypatch):
    # The demo writes its credentials under the instance folder: keep them out of the repository
    # (and the shared app's instance folder as it was for the next test).
    monkeypatch.setattr(app, "instance_path", str(tmp_path / "instance"))
    return app.test_cli_runner()


def create_user(runner, name="alice", role="liaison", password="long-enough-pw"):
    return runner.invoke(args=["user", "create", name, "--role", role, "--password-stdin"], input=f"{password}\n")


def issue_token(runner, name) -> tuple[int, str]:
    result = runner.invoke(args=["token", "create", name])
    assert result.exit_code == 0, result.output
    token_id = int(re.search(r"token (\d+) for", result.stderr).group(1))
    return token_id, result.stdout.strip()


def test_created_user_is_listed(runner):
    result = create_user(runner)
    assert result.exit_code == 0, result.output
    assert "created liaison alice" in result.output

    listed = runner.invoke(args=["user", "list"])
    assert listed.exit_code == 0, listed.output
    assert re.search(r"^alice\s+liaison\s+active$", listed.output, re.MULTILINE), listed.output


def test_a_user_whose_e_mail_address_is_none_is_not_created(runner):
    """The supervisors' messages go to that address: a typo was taken and every message to it failed later."""
    result = runner.invoke(
        args=["user", "create", "erin", "--role", "supervisor", "--email", "erin at hq", "--password-stdin"],
        input="long-enough-pw\n",
    )
    assert result.exit_code == 1, result.output
    assert result.stderr == (
        "Error: 'erin at hq' is not an e-mail address (email: an e-mail address such as desk@example.org)\n"
    )
    assert runner.invoke(args=["user", "list"]).stdout == ""


@pytest.mark.parametrize(
    ("args", "hint"),
    [
        (("user", "list"), "no users yet: create one with `flask --app wsgi user create NAME --role admin`"),
        (("channel", "list"), "no channels yet: an admin adds them on the Channels page (/admin/channels)"),
        (("exercise", "list"), "no exercises current; `--when all` lists every one"),
        (("exercise", "list", "--when", "all"), "no exercises"),
        (("token", "list", "alice"), "alice has no API tokens: issue one with `flask --app wsgi token create alice`"),
    ],
)
def test_an_empty_list_says_so_and_what_to_do_on_stderr_only(runner, args, hint):
    """A new operator's first `user list` printed nothing at all; a script reading the list still reads none."""
    if args[0] == "token":
        assert create_user(runner).exit_code == 0
    result = runner.invoke(args=list(args))
    assert result.exit_code == 0, result.output
    assert (result.stdout, result.stderr.strip()) == ("", hint)


@pytest.mark.parametrize(
    ("setup", "name", "password", "complaint"),
    [
        (False, "alice", "short", "password must be at least 8 characters"),
        (True, "alice", "another-long-pw", "user 'alice' exists"),
    ],
)
def test_refused_user_exits_with_a_message_and_no_traceback(runner, app, setup, name, password, complaint):
    if setup:
        assert create_user(runner).exit_code == 0
    result = create_user(runner, name, password=password)
    assert result.exit_code != 0
    assert result.stderr.startswith(f"Error: {complaint}")
    assert "Traceback" not in result.output and "{'" not in result.output
    assert isinstance(result.exception, SystemExit)
    assert count(app, User) == (1 if setup else 0)


def test_a_password_that_is_not_utf8_is_refused_in_one_line(runner, app):
    result = runner.invoke(
        args=["user", "create", "xavier", "--role", "liaison", "--password-stdin"], input=b"pass\xffword-long\n"
    )
    assert result.exit_code == 1, result.output
    assert result.stderr == "Error: the password is not UTF-8 text: give it as UTF-8\n"
    assert isinstance(result.exception, SystemExit), result.exception
    assert count(app, User) == 0


def test_cli_token_works_until_revoked(runner, client):
    assert create_user(runner, "dora", role="duty_officer").exit_code == 0
    token_id, token = issue_token(runner, "dora")
    assert token.startswith("trk_") and "\n" not in token
    headers = {"Authorization": f"Bearer {token}"}

    assert client.get("/api/v1/incidents", headers=headers).status_code == 200

    listed = runner.invoke(args=["token", "list", "dora"])
    assert listed.exit_code == 0 and token not in listed.output
    assert re.search(rf"^\s*{token_id}\s+{token[:10]}\.\.\.\s+cli\s+active$", listed.output, re.MULTILINE), (
        listed.output
    )

    revoked = runner.invoke(args=["token", "revoke", str(token_id)])
    assert revoked.exit_code == 0, revoked.output
    assert f"revoked token {token_id}" in revoked.output
    again = runner.invoke(args=["token", "revoke", str(token_id)])
    assert again.exit_code == 0, again.output
    assert re.fullmatch(rf"token {token_id} was revoked already, on \d{{4}}-\d\d-\d\d \d\d:\d\dZ\n", again.stdout)

    response = client.get("/api/v1/incidents", headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


def test_a_user_deactivated_on_the_command_line_is_activated_there_again(runner, app, client):
    """Deactivation had a command and activation only the admin page: a desk without a browser at hand
    could cut an officer off and not let them back in."""
    assert create_user(runner, "erin", role="liaison").exit_code == 0
    _token_id, token = issue_token(runner, "erin")
    assert runner.invoke(args=["user", "deactivate", "erin"]).exit_code == 0
    assert client.get("/api/v1/incidents", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    # Done twice (a script run again), as activate says, not "deactivated erin: web sessions ended, 0 API tokens".
    twice = runner.invoke(args=["user", "deactivate", "erin"])
    assert twice.exit_code == 0 and twice.output == "erin is already inactive\n", twice.output

    activated = runner.invoke(args=["user", "activate", "erin"])
    assert activated.exit_code == 0, activated.output
    assert "activated erin" in activated.output and "stay revoked" in activated.output
    assert re.search(r"^erin\s+liaison\s+active$", runner.invoke(args=["user", "list"]).output, re.MULTILINE)
    again = runner.invoke(args=["user", "activate", "erin"])
    assert again.exit_code == 0 and "erin is already active" in again.output, again.output
    assert client.get("/api/v1/incidents", headers={"Authorization": f"Bearer {token}"}).status_code == 401

    with session_scope(app) as session:
        erin = session.scalar(select(User.id).where(User.username == "erin"))
        log = session.execute(
            select(AccountEvent.kind, AccountEvent.details)
            .where(AccountEvent.user_id == erin)
            .order_by(AccountEvent.id)
        ).all()
    assert [(kind, details) for kind, details in log] == [
        ("created", {"via": "the command line", "role": "liaison"}),
        ("token_issued", {"via": "the command line", "token": token[:10], "name": "cli"}),
        ("deactivated", {"via": "the command line", "tokens_revoked": 1}),
        ("reactivated", {"via": "the command line"}),
    ], "said to be done on the command line (via), never by someone of that name"


def test_a_forgotten_password_is_set_anew_on_the_command_line(runner, app, client):
    """The last admin's password forgotten, nobody could reset it but through the database. The new password
    ends their web sessions and not their API tokens; the security log says reset, on the command line."""
    assert create_user(runner, "gina", role="admin", password="old-password-1").exit_code == 0
    _token_id, token = issue_token(runner, "gina")
    assert sign_in(client, "gina", "old-password-1").status_code == 302
    assert client.get("/admin/users").status_code == 200, "signed in"

    short = runner.invoke(args=["user", "set-password", "gina", "--password-stdin"], input="short\n")
    assert short.exit_code == 1 and "password must be at least 8 characters" in short.stderr, short.output
    done = runner.invoke(args=["user", "set-password", "gina", "--password-stdin"], input="new-password-2\r\n")
    assert done.exit_code == 0, done.output
    assert done.stdout == f"new password set for gina: {people.RESET_SAID}\n"

    assert client.get("/admin/users").status_code == 302, "the web session ended"
    assert sign_in(client, "gina", "old-password-1").status_code != 302, "the old password is refused"
    assert sign_in(client, "gina", "new-password-2").status_code == 302, "the new one (its CR was no part of it)"
    assert client.get("/api/v1/incidents", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    with session_scope(app) as session:
        gina = session.scalar(select(User.id).where(User.username == "gina"))
        kinds = session.execute(select(AccountEvent.kind, AccountEvent.details).where(AccountEvent.user_id == gina))
        assert ("password_reset", {"via": "the command line", "failed_before": 0}) in [tuple(row) for row in kinds]

    assert runner.invoke(args=["user", "deactivate", "gina"]).exit_code == 0
    inactive = runner.invoke(args=["user", "set-password", "gina", "--password-stdin"], input="third-password\n")
    assert inactive.exit_code == 0 and "gina is inactive: `flask --app wsgi user activate gina`" in inactive.stderr


def test_a_password_set_anew_is_not_held_back_by_the_tries_to_remember_the_old_one(runner, app, client):
    """Wrong guesses at a forgotten password slow the account down (429); the new password set on the command
    line lets its owner in at once, as the command says."""
    assert create_user(runner, "gina", role="admin", password="old-password-1").exit_code == 0
    tries = [sign_in(client, "gina", f"wrong-password-{n}").status_code for n in range(6)]
    assert 429 in tries, tries
    done = runner.invoke(args=["user", "set-password", "gina", "--password-stdin"], input="new-password-2\n")
    assert done.exit_code == 0, done.output
    assert_reset_keeps_the_failures_on_record(app, client, "gina", "new-password-2", tries.count(401))


def test_no_token_is_issued_to_a_deactivated_user(runner, app):
    """It printed a token that every request refused, and that began to work on a later reactivation
    (which promises the old tokens stay revoked)."""
    assert create_user(runner, "fred", role="liaison").exit_code == 0
    assert runner.invoke(args=["user", "deactivate", "fred"]).exit_code == 0
    result = runner.invoke(args=["token", "create", "fred"])
    assert result.exit_code == 1, result.output
    assert result.stdout == "", "no token text"
    assert result.stderr == "Error: user 'fred' is deactivated: activate them first, then issue the token\n"
    assert count(app, ApiToken) == 0


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["token", "create", "nobody"], "no user 'nobody'"),
        (["token", "revoke", "999"], "no token 999"),
        (["user", "deactivate", "nobody"], "no user 'nobody'"),
        (["user", "activate", "nobody"], "no user 'nobody'"),
        (["user", "set-password", "nobody"], "no user 'nobody'"),  # refused before a password is asked
    ],
)
def test_unknown_user_or_token_exits_with_a_message(runner, args, complaint):
    result = runner.invoke(args=args)
    assert result.exit_code != 0
    assert complaint in result.stderr
    assert "Traceback" not in result.output


def demo_tokens(output: str) -> dict[str, str]:
    return dict(re.findall(r"^(\w+)\s+password \S+\s+token (trk_\S+)$", output, re.MULTILINE))


def demo_counts(app) -> dict[str, int]:
    models = (User, ContactChannel, EscalationPolicy, RoutingRule, Incident, Notification)
    return {model.__name__: count(app, model) for model in models}


def test_demo_loads_the_region_once_and_issues_fresh_tokens(runner, app, client):
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    tokens = demo_tokens(first.output)
    assert sorted(tokens) == DEMO_USERS

    loaded = demo_counts(app)
    assert loaded == {
        "User": 5,
        "ContactChannel": 7,  # five desks of ours on the ladder, two lines to the other side
        "EscalationPolicy": 3,
        "RoutingRule": 4,
        "Incident": 5,  # three examples, and two earlier intercepts related to the first
        "Notification": 6,
    }
    with session_scope(app) as session:
        ladder = select(ContactChannel).where(ContactChannel.counterpart_line.is_(False))
        levels = session.scalars(ladder.with_only_columns(ContactChannel.level).order_by(ContactChannel.level)).all()
        names = session.scalars(ladder.with_only_columns(ContactChannel.name).order_by(ContactChannel.level)).all()
        other_side = [
            (c.name, c.language, c.reply_deadline_seconds, c.agreement.code)
            for c in session.scalars(select(ContactChannel).where(ContactChannel.counterpart_line.is_(True)))
        ]
    assert levels == [1, 2, 3, 4, 5]
    assert [n[:2] for n in names] == ["L1", "L2", "L3", "L4", "L5"]
    assert sorted(other_side) == [
        ("Eastland Western Command hotline", "ru", 172800, "NM-EL-DMA"),
        ("Eastland liaison mission", "ru", 172800, "VD11-CH3"),
    ], "the demo has two lines to the other side, each under an agreement"

    credentials = Path(app.instance_path) / "demo-credentials.txt"
    assert demo_tokens(credentials.read_text()) == tokens
    assert credentials.stat().st_mode & 0o777 == 0o600

    body = client.get("/api/v1/incidents", headers={"Authorization": f"Bearer {tokens['supervisor']}"}).get_json()
    assert body["total"] == 5

    second = runner.invoke(args=["demo"])
    assert second.exit_code == 0, second.output
    assert demo_tokens(second.output) == tokens, "a second run reuses the tokens that still work"
    assert demo_counts(app) == loaded
    assert count(app, ApiToken) == len(DEMO_USERS)

    fresh_run = runner.invoke(args=["demo", "--fresh"])
    assert fresh_run.exit_code == 0, fresh_run.output
    fresh = demo_tokens(fresh_run.output)
    assert sorted(fresh) == DEMO_USERS
    assert all(fresh[name] != tokens[name] for name in DEMO_USERS)
    assert demo_tokens(credentials.read_text()) == fresh
    assert client.get("/api/v1/incidents", headers={"Authorization": f"Bearer {fresh['duty']}"}).status_code == 200
    stale = client.get("/api/v1/incidents", headers={"Authorization": f"Bearer {tokens['duty']}"})
    assert stale.status_code == 401, "--fresh revokes the demo tokens it replaces"


@pytest.mark.parametrize("own_admin", ["root", "admin"])
def test_demo_refuses_a_database_with_accounts_of_its_own(runner, app, own_admin):
    # Run against a deployment's database, `demo` gave it the demo's accounts, whose passwords the README
    # publishes (an admin among them); where its admin was named "admin", it ended in a traceback.
    assert create_user(runner, own_admin, "admin").exit_code == 0

    result = runner.invoke(args=["demo"])

    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert "holds accounts the demo did not make" in result.stderr
    assert demo_tokens(result.output) == {}
    assert count(app, User) == 1 and count(app, ContactChannel) == 0
    assert not (Path(app.instance_path) / "demo-credentials.txt").exists()


def test_the_demo_tokens_are_listed_with_the_time_they_were_issued_in_utc(runner, app):
    # `token list duty` read "demo 2026-12-05 21:59": a time without its zone, where every other time the
    # commands print carries its Z.
    assert runner.invoke(args=["demo"]).exit_code == 0
    listed = runner.invoke(args=["token", "list", "duty"])
    assert listed.exit_code == 0, listed.output
    assert re.search(r"\sdemo \d{4}-\d\d-\d\d \d\d:\d\dZ\s+active$", listed.output, re.MULTILINE), listed.output


def test_demo_flash_incident_takes_the_hotline_ladder(runner, app):
    assert runner.invoke(args=["demo"]).exit_code == 0
    with session_scope(app) as session:
        ladders = {i.category: i.ladder["policy_name"] for i in session.scalars(select(Incident))}
    assert ladders == {
        "unsafe_intercept": "Standard ladder",
        "gnss_jamming": "Standard ladder",
        "unintended_territory_entry": "Hotline ladder",
    }


def test_sweep_reports_what_it_escalated_and_sent(runner, app):
    assert runner.invoke(args=["demo"]).exit_code == 0

    result = runner.invoke(args=["sweep"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "escalated 0 incidents, sent 6 messages"
    with session_scope(app) as session:
        statuses = session.scalars(select(Notification.status)).all()
        beat = session.get(JobRun, "sweep")
    assert statuses == [NotificationStatus.SENT] * 6
    assert beat is not None and beat.last_finished_at is not None and beat.last_error is None

    again = runner.invoke(args=["sweep"])
    assert again.output.strip() == "escalated 0 incidents, sent 0 messages"


@pytest.mark.parametrize("failing", ["escalation", "delivery"])
def test_a_sweep_whose_stage_fails_exits_non_zero(runner, app, monkeypatch, failing):
    """A stage that fails is logged and the pass goes on to the next (a scheduler must keep escalating), so the
    command said "escalated 0 incidents, sent 0 messages" and exited 0 with a due incident left where it was: a
    cron job or a script running it learnt of nothing. It exits 1, saying the pass failed and where to read why."""
    from tracker import jobs

    def fails(*_args, **_kwargs):
        raise RuntimeError("the database refused this stage")

    if failing == "escalation":
        monkeypatch.setattr(jobs.escalation, "sweep_batch", fails)
    else:
        monkeypatch.setattr(jobs.delivery, "claim_messages", fails)
    result = runner.invoke(args=["sweep"])
    assert result.exit_code == 1, result.output
    assert result.output.startswith("escalated 0 incidents, sent 0 messages\n"), result.output
    assert "Error: the pass failed: 1 error logged above" in result.output, result.output
    assert "Traceback" not in result.output


def test_sweep_on_an_empty_database_reports_zero(runner):
    result = runner.invoke(args=["sweep"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "escalated 0 incidents, sent 0 messages"


def flask(
    tmp_path, *args, stdin: str = "", python: tuple[str, ...] = (), settings: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """Run `python PYTHON -m flask --app wsgi ARGS` on a SQLite file in tmp_path, as an operator would."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")} | (settings or {})
    env["TRACKER_DATABASE_URL"] = f"sqlite:///{tmp_path / 'fresh.db'}"
    env.setdefault("TRACKER_OUTBOX_DIR", str(tmp_path / "outbox"))
    return subprocess.run(
        [sys.executable, *python, "-m", "flask", "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_init_db_creates_the_schema_quietly(tmp_path):
    """As a first run shows it, in a process of its own as an operator runs it (the log's handler and levels are
    set up at start): one line, no migration log."""
    result = flask(tmp_path, "init-db")
    assert result.returncode == 0, result.stderr
    assert f"database at revision {head()}" in result.stdout
    assert "Traceback" not in result.stderr
    assert "alembic" not in result.stderr.lower(), f"migration log without --verbose:\n{result.stderr}"
    assert result.stdout.count("\n") == 1, result.stdout
    assert_schema_at_head(tmp_path / "fresh.db")
    assert (tmp_path / "outbox").is_dir()


def test_init_db_can_run_again_with_the_migration_log(tmp_path):
    """On a database already at the newest revision (migrated as init-db migrates it: tests/databases.py), a test
    of its own: from nothing the migrations take most of a process's time, and the two runs in one test kept an
    xdist worker 25 s in CI."""
    migrate_to(f"sqlite:///{tmp_path / 'fresh.db'}")
    result = flask(tmp_path, "init-db", "--verbose")
    assert result.returncode == 0, result.stderr
    assert f"database at revision {head()}" in result.stdout
    assert "Traceback" not in result.stderr
    assert "alembic.runtime.migration" in result.stderr, result.stderr
    assert_schema_at_head(tmp_path / "fresh.db")
    assert (tmp_path / "outbox").is_dir()


def assert_schema_at_head(path: Path) -> None:
    with sqlite3.connect(path) as connection:
        revisions = [row[0] for row in connection.execute("SELECT version_num FROM alembic_version")]
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert revisions == [head()]
    assert {"incidents", "users", "contact_channels", "escalation_policies", "routing_rules"} <= tables


# Imported where first used (a polygon drawn, a distance measured, a feed or a webhook sent), not with
# the app: with it they were about 0.4 s of every command's start.
LAZY = {"numpy", "shapely", "pyproj", "icalendar", "mgrs", "requests"}


@pytest.fixture(scope="module")
def help_run(tmp_path_factory) -> subprocess.CompletedProcess:
    """`flask --app wsgi --help` run once for the two tests below, with -X importtime: what it imported goes to
    stderr, the help to stdout as without it (a process each cost the module some 1.5 s of start-up)."""
    return flask(tmp_path_factory.mktemp("help"), "--help", python=("-X", "importtime"))


def test_help_lists_every_command_without_loading_what_no_command_needs_yet(help_run):
    result = help_run
    assert result.returncode == 0, result.stderr[-3000:]
    commands = set(re.findall(r"^  (\S+)", result.stdout.split("Commands:")[1], re.MULTILINE))
    assert {"init-db", "user", "token", "demo", "sweep", "scheduler"} <= commands
    imported = set(re.findall(r"^import time:.*\|\s*([\w.]+)$", result.stderr, re.MULTILINE))
    assert "tracker.cli" in imported, result.stderr[-3000:]
    assert not LAZY & imported, f"imported with the app, not on first use: {sorted(LAZY & imported)}"


def test_help_says_which_commands_are_the_trackers_and_what_for_each_on_one_line(help_run):
    """`flask --app wsgi --help` began with Flask's "A general utility script for Flask applications" and listed
    our commands among Flask's own (run, shell, routes, spec), five of ours cut short ("Back up the database and
    its secret key into the new file..."): nothing said which were the tracker's, nor that run is no server to
    deploy. Flask writes its head before it loads the app; under the list the help now says both."""
    result = help_run
    assert result.returncode == 0, result.stderr[-3000:]
    listed, said = result.stdout.split("Commands:")[1].split("The tracker's commands:")
    assert "..." not in listed, listed
    for ours in ("init-db, demo", "user, token", "channel, exercise", "sweep, scheduler", "audit", "backup, restore"):
        assert f"\n    {ours} " in said, said
    assert "Flask's own: run (a development server only: serve with gunicorn wsgi:app), shell, routes, spec." in said


@pytest.mark.parametrize(
    "args",
    [
        ("user", "list"),
        ("user", "create", "bob", "--role", "liaison", "--password-stdin"),
        ("token", "create", "bob"),
        ("demo",),
        ("sweep",),
    ],
)
def test_commands_refuse_a_database_without_schema(tmp_path, args):
    """In this process (a command's start-up is covered by the two tests above): a database file that
    exists but was never initialised."""
    app = create_app(app_config(tmp_path / "outbox", DATABASE_URL=f"sqlite:///{tmp_path / 'fresh.db'}"))
    app.instance_path = str(tmp_path / "instance")
    try:
        result = app.test_cli_runner().invoke(args=list(args), input="long-enough-pw\n")
    finally:
        engine_of(app).dispose()
    assert result.exit_code != 0, result.output
    assert "run `flask --app wsgi init-db` first" in result.stderr
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit), result.exception


def invoke_on(tmp_path, url: str, *commands: tuple[str, ...]) -> list[click.testing.Result]:
    """Run each command on a tracker app of its own on the database at url (its engine disposed after)."""
    app = create_app(app_config(tmp_path / "outbox", DATABASE_URL=url))
    app.instance_path = str(tmp_path / "instance")
    try:
        return [app.test_cli_runner().invoke(args=list(args)) for args in commands]
    finally:
        engine_of(app).dispose()


def said_in_one_line_without_its_password(tmp_path, url: str, args: tuple[str, ...]) -> None:
    (result,) = invoke_on(tmp_path, url.format(tmp_path=tmp_path), args)
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert result.stderr.startswith("Error: cannot open the database "), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert f"pw-of-{tmp_path.name}" not in result.output


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///{tmp_path}/no-such-folder/tracker.db",
        "postgresql+psycopg://tracker:pw-of-{tmp_path.name}@127.0.0.1:1/x",
    ],
)
@pytest.mark.parametrize(
    "args", [("init-db",), ("user", "list"), ("token", "create", "bob"), ("demo",), ("sweep",), ("exercise", "list")]
)
def test_a_database_that_cannot_be_opened_is_named_in_one_line(tmp_path, url, args):
    """A mistyped DATABASE_URL, a stopped server or a missing folder: every command ended in a sixty-line
    OperationalError traceback. The line names the database, never its password."""
    said_in_one_line_without_its_password(tmp_path, url, args)


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///{tmp_path}/tracker.toml",
        "postgresql+psycopg://tracker:pw-of-{tmp_path.name}@127.0.0.1:1/x?connect_timeout=soon",
    ],
)
@pytest.mark.parametrize("args", [("init-db",), ("user", "list"), ("sweep",), ("audit", "verify"), ("backup", "b.tgz")])
def test_a_database_url_naming_no_database_is_named_in_one_line(tmp_path, url, args):
    """DATABASE_URL at a file that is no SQLite database (the deployment's TOML, a backup), or with an option
    the driver refuses: not an OperationalError, so every command ended in a DatabaseError traceback."""
    (tmp_path / "tracker.toml").write_text('DATABASE_URL = "sqlite:////var/lib/tracker/tracker.db"\n' * 20)
    said_in_one_line_without_its_password(tmp_path, url, args)


def test_every_command_answers_help_before_init_db(tmp_path):
    """A new operator reads the help first: `user create --help` answered "run init-db first"."""
    app = create_app(app_config(tmp_path / "outbox", DATABASE_URL=f"sqlite:///{tmp_path / 'fresh.db'}"))
    app.instance_path = str(tmp_path / "instance")
    groups = {name: command for name, command in app.cli.commands.items() if isinstance(command, click.Group)}
    assert {"user", "token", "channel", "audit", "exercise"} <= set(groups)
    try:
        for group, command in groups.items():
            for name in command.commands:
                result = app.test_cli_runner().invoke(args=[group, name, "--help"])
                assert result.exit_code == 0, (group, name, result.output)
                assert f"{group} {name} [OPTIONS]" in result.stdout.splitlines()[0], result.output
    finally:
        engine_of(app).dispose()


def test_a_password_from_a_windows_file_is_the_line_without_its_carriage_return(tmp_path):
    """`type password.txt | flask ... --password-stdin` stored the CR: the password typed never matched.
    In a process of its own: the test runner's input reads CR LF as a line break."""
    migrate_to(f"sqlite:///{tmp_path / 'fresh.db'}")  # as init-db leaves it (init-db has tests above)
    created = flask(tmp_path, "user", "create", "wanda", "--role", "liaison", "--password-stdin", stdin="long-pw-1\r\n")
    assert created.returncode == 0, created.stderr
    app = create_app(app_config(tmp_path / "outbox", DATABASE_URL=f"sqlite:///{tmp_path / 'fresh.db'}"))
    try:
        with session_scope(app) as session:
            wanda = session.scalars(select(User).where(User.username == "wanda")).one()
            assert people.verify_password(wanda, "long-pw-1")
    finally:
        engine_of(app).dispose()


def test_a_scheduler_whose_metrics_port_is_taken_stops_with_one_line(tmp_path):
    """Two schedulers on one host with the same SCHEDULER_METRICS_PORT: the second ended in an OSError
    traceback ("Address already in use") that did not name the setting."""
    migrate_to(f"sqlite:///{tmp_path / 'fresh.db'}")  # as init-db leaves it (init-db has tests above)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        settings = {"TRACKER_SCHEDULER_METRICS_PORT": str(port), "TRACKER_SCHEDULER_METRICS_ADDRESS": "127.0.0.1"}
        ran = flask(tmp_path, "scheduler", settings={**settings, "TRACKER_LOG_FORMAT": "text"})
    assert ran.returncode == 1, ran.stderr
    assert "Traceback" not in ran.stderr, ran.stderr
    assert ran.stderr.strip().splitlines()[-1] == (
        f"Error: SCHEDULER_METRICS_PORT {port} cannot be opened on 127.0.0.1 (Address already in use): "
        "give each scheduler on a host a port of its own, or 0 for none"
    ), ran.stderr


@pytest.mark.parametrize("token_id", ["0", "3000000000", "99999999999999999999"])
def test_a_token_id_no_token_can_have_is_refused_as_an_argument(runner, token_id):
    """A mistyped id past the column's range ended in an OverflowError (SQLite) or DataError (PostgreSQL)
    traceback."""
    result = runner.invoke(args=["token", "revoke", token_id])
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert f"Invalid value for 'TOKEN_ID': {token_id} is not in the range 1<=x<=2147483647" in result.stderr


@pytest.mark.parametrize("token_id", ["\u0661\u0662", "\uff11\uff12", "1_2", "+1_2", "12.0"])
def test_a_token_id_typed_in_other_digits_is_refused_not_read_as_another_token(runner, token_id):
    """int() read Arabic-Indic "١٢" and fullwidth "１２" as 12 and "1_2" as 12: an admin revoking what
    they typed would revoke token 12, which they never named."""
    result = runner.invoke(args=["token", "revoke", token_id])
    assert result.exit_code == 2, result.output
    assert "Invalid value for 'TOKEN_ID'" in result.stderr, result.stderr
    assert "no token 12" not in result.output + result.stderr, "the id was read as 12"


def tracker_commands(app) -> list[tuple[str, ...]]:
    """Every command of the tracker's own (not Flask's run, shell, routes, or APIFlask's spec), as typed."""
    found = []
    for name, command in app.cli.commands.items():
        if name in ("run", "shell", "routes", "spec"):
            continue
        subcommands = command.commands if isinstance(command, click.Group) else {}
        found += [(name,), *((name, sub) for sub in subcommands)]
    return found


def test_every_command_shows_an_example_of_its_use(app):
    """A duty officer at the command line copies a line and edits it: the help said what each command
    does, and showed none. A group's too (`flask --app wsgi user --help`, the first an operator types, listed
    its commands and showed no line to copy)."""
    commands = tracker_commands(app)
    assert len(commands) >= 24, commands
    for command in commands:
        result = app.test_cli_runner().invoke(args=[*command, "--help"])
        assert result.exit_code == 0, result.output
        example = result.stdout.split("\n  Example:\n", 1)
        assert len(example) == 2, f"no example in the help of {' '.join(command)}:\n{result.stdout}"
        shown = example[1].split("\n\n", 1)[0]
        assert f"    flask --app wsgi {' '.join(command)}" in shown, result.stdout
        # A group lists its commands, each on one line whole ("Activate NAME again after a deactivation: they sign
        # in..." was cut short).
        assert "..." not in result.stdout.partition("\nCommands:\n")[2], result.stdout


@pytest.fixture(scope="module")
def schemas(tmp_path_factory) -> dict[str, Path]:
    """SQLite files at revision 0015 and at this tracker's newest, migrated once for the tests below."""
    made = {}
    for revision in ("0015", "head"):
        made[revision] = tmp_path_factory.mktemp("schemas") / f"{revision}.db"
        migrate_to(f"sqlite:///{made[revision]}", revision)
    return made


@pytest.mark.parametrize("args", [("user", "list"), ("token", "create", "bob"), ("demo",), ("sweep",), ("scheduler",)])
def test_commands_refuse_a_schema_older_than_the_code_until_init_db(tmp_path, schemas, monkeypatch, args):
    """The code upgraded, init-db forgotten: `user list` and `demo` ended in SQL tracebacks on a missing
    column, and a scheduler ran on, logging one at every sweep. A backup of it is still made (the one
    to make before the upgrade)."""
    monkeypatch.setattr(logs, "configure", lambda *_args: None)  # this process's logging stays the tests'

    def started(*_args, **_kwargs):
        raise AssertionError("a scheduler started on an older schema")  # rather than running until killed

    monkeypatch.setattr(scheduler_module, "build_scheduler", started)
    url = f"sqlite:///{shutil.copy(schemas['0015'], tmp_path / 'older.db')}"
    refused, backed_up = invoke_on(tmp_path, url, args, ("backup", str(tmp_path / "before-upgrade.tar.gz")))
    assert refused.exit_code == 1, refused.output
    assert isinstance(refused.exception, SystemExit), refused.exception
    assert refused.stderr == (
        f"Error: the database is at schema revision 0015, this tracker needs {head()}: back it up "
        "(`flask --app wsgi backup PATH`), then run `flask --app wsgi init-db` to upgrade it\n"
    )
    assert backed_up.exit_code == 0 and "revision 0015" in backed_up.stdout, backed_up.output


@pytest.mark.parametrize("args", [("init-db",), ("user", "list"), ("sweep",)])
def test_a_schema_newer_than_the_code_is_refused_even_by_init_db(tmp_path, schemas, args):
    """init-db on a database a newer tracker made ended in Alembic's "Can't locate revision" traceback;
    the other commands ran on a schema they do not know."""
    url = f"sqlite:///{shutil.copy(schemas['head'], tmp_path / 'newer.db')}"
    with sqlite3.connect(tmp_path / "newer.db") as connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999'")
    (refused,) = invoke_on(tmp_path, url, args)
    assert refused.exit_code == 1, refused.output
    assert refused.stderr.startswith("Error: the database is at schema revision 9999, which this tracker does not know")
    assert len(refused.stderr.splitlines()) == 1, refused.stderr


def test_an_outbox_folder_that_cannot_be_written_stops_init_db_and_the_scheduler_in_one_line(tmp_path):
    """OUTBOX_DIR a file (or read-only): init-db ended in a FileExistsError traceback, and a scheduler ran on,
    failing every message of the outbox transport, the supervisors' among them, until each was dead-lettered."""
    migrate_to(f"sqlite:///{tmp_path / 'fresh.db'}")  # as init-db leaves it (init-db has tests above)
    (tmp_path / "a-file").write_text("")
    for args in (("init-db",), ("scheduler",), ("scheduler", "--jobs", "deliver")):
        ran = flask(
            tmp_path, *args, settings={"TRACKER_OUTBOX_DIR": str(tmp_path / "a-file"), "TRACKER_LOG_FORMAT": "text"}
        )
        assert ran.returncode == 1, (args, ran.stderr)
        assert "Traceback" not in ran.stderr, ran.stderr
        assert (
            ran.stderr.strip()
            .splitlines()[-1]
            .startswith(f"Error: OUTBOX_DIR '{tmp_path / 'a-file'}' cannot be written (")
        ), ran.stderr
        assert "or set OUTBOX_DIR to one" in ran.stderr


def test_a_scheduler_that_cannot_keep_the_audit_anchor_stops_in_one_line(tmp_path):
    """The systemd units' ProtectSystem=strict makes the instance folder, where the anchor of a PostgreSQL
    database is kept by default, read-only: every sweep logged a traceback and the anchor was never kept.
    init-db, the upgrade step, says so too, before a scheduler is restarted on the setting."""
    migrate_to(f"sqlite:///{tmp_path / 'fresh.db'}")  # as init-db leaves it (init-db has tests above)
    (tmp_path / "a-file").write_text("")
    anchor = tmp_path / "a-file" / "anchor.json"
    settings = {"TRACKER_AUDIT_ANCHOR_FILE": str(anchor), "TRACKER_LOG_FORMAT": "text"}
    for args in (("scheduler", "--jobs", "sweep"), ("init-db",)):
        ran = flask(tmp_path, *args, settings=settings)
        assert ran.returncode == 1, (args, ran.stderr)
        assert "Traceback" not in ran.stderr, ran.stderr
        assert "the audit anchor's folder" in ran.stderr and "set AUDIT_ANCHOR_FILE to a file in one" in ran.stderr


def test_a_sweep_by_hand_on_an_outbox_folder_it_cannot_write_stops_before_spending_an_attempt(tmp_path):
    """The scheduler and init-db refused such an OUTBOX_DIR; `flask sweep` spent an attempt of every message
    waiting (the supervisors' among them), said "sent 0 messages" and exited 0."""
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    migrate_to(url)
    (tmp_path / "outbox").write_text("")  # where invoke_on's app keeps its outbox
    demo, swept = invoke_on(tmp_path, url, ("demo",), ("sweep",))
    assert demo.exit_code == 0, demo.output
    assert swept.exit_code == 1, swept.output
    assert swept.stderr == (
        f"Error: OUTBOX_DIR '{tmp_path / 'outbox'}' cannot be written (File exists): make it a directory this user "
        "may write (under systemd: in ReadWritePaths), or set OUTBOX_DIR to one\n"
    )
    with sqlite3.connect(tmp_path / "fresh.db") as connection:
        waiting = connection.execute("SELECT status, attempts FROM notifications").fetchall()
    assert waiting == [("pending", 0)] * 6


def test_sealing_by_hand_where_the_anchor_cannot_be_kept_says_so_in_one_line_and_seals_nothing(tmp_path):
    """`flask audit seal` sealed, then ended in a FileExistsError traceback: the seals were kept in the
    database and the anchor, which verify checks them against, was not."""
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    migrate_to(url)
    (tmp_path / "a-file").write_text("")
    app = create_app(app_config(tmp_path / "outbox", DATABASE_URL=url, AUDIT_ANCHOR_FILE=str(tmp_path / "a-file/a")))
    app.instance_path = str(tmp_path / "instance")
    try:
        assert app.test_cli_runner().invoke(args=["demo"]).exit_code == 0
        sealed = app.test_cli_runner().invoke(args=["audit", "seal"])
    finally:
        engine_of(app).dispose()
    assert sealed.exit_code == 1, sealed.output
    assert "Traceback" not in sealed.output and len(sealed.stderr.splitlines()) == 1, sealed.output
    assert sealed.stderr.startswith(f"Error: the audit anchor's folder '{tmp_path / 'a-file'}' cannot be written")
    with sqlite3.connect(tmp_path / "fresh.db") as connection:
        assert connection.execute("SELECT count(*) FROM audit_seals").fetchone() == (0,)


def test_a_user_whose_mailbox_is_where_a_counterpart_line_goes_is_not_created(runner, app, world):
    """The supervisors' messages go to a user's mailbox: one at a counterpart line's address, or in its domain in
    any case, would carry our alerts to the other side (sides.their_line_at)."""
    add_counterpart_line(app, world, "Eastland hotline", address="hotline@eastland.test")
    result = runner.invoke(
        args=["user", "create", "erin", "--role", "supervisor", "--email", "erin@EASTLAND.test", "--password-stdin"],
        input="long-enough-pw\n",
    )
    assert result.exit_code == 1, result.output
    assert "our messages would go to the other side" in result.stderr, result.stderr
    assert "Eastland hotline" in result.stderr, result.stderr
    assert "erin" not in runner.invoke(args=["user", "list"]).stdout


def accounts_made_before(app, runner, names: dict[str, bool]):
    """Duty officers of these names (name: active), made before such names were refused; then init-db, as at an
    upgrade: its result."""
    with session_scope(app) as session:
        for name, active in names.items():
            hashed = people.hash_password("long-enough-pw")
            session.add(User(username=name, password_hash=hashed, role="duty_officer", active=active))
    upgraded = runner.invoke(args=["init-db"])
    assert upgraded.exit_code == 0, upgraded.output
    return upgraded


def test_users_whose_names_read_alike_are_named_until_one_is_deactivated(app, runner):
    """Accounts made before names reading as one were refused ("Duty" and "duty") share one count of failed sign-ins:
    guesses at one slowed its twin's owner down, and nothing told the operator. init-db (run at every upgrade) and
    `user list` name them, and what to do; a deactivated account shares nothing, and the warning goes."""
    upgraded = accounts_made_before(app, runner, {"Duty": True, "duty": True, "alice": True, "ALICE": False})
    warning = "warning: users 'Duty' and 'duty' have names that read as one"
    assert warning in upgraded.stderr and "user deactivate NAME" in upgraded.stderr, upgraded.stderr
    assert "alice" not in upgraded.stderr.lower(), "an inactive account shares no count"
    listed = runner.invoke(args=["user", "list"])
    assert re.search(r"^Duty\s+duty_officer\s+active  reads as 'duty'$", listed.stdout, re.MULTILINE), listed.stdout
    assert re.search(r"^duty\s+duty_officer\s+active  reads as 'Duty'$", listed.stdout, re.MULTILINE), listed.stdout
    assert re.search(r"^alice\s+duty_officer\s+active$", listed.stdout, re.MULTILINE), listed.stdout
    assert warning in listed.stderr, listed.stderr
    assert runner.invoke(args=["user", "deactivate", "Duty"]).exit_code == 0
    assert "warning" not in runner.invoke(args=["init-db"]).stderr
    listed = runner.invoke(args=["user", "list"])
    assert "reads as" not in listed.stdout and listed.stderr == "", listed.output
    reactivated = runner.invoke(args=["user", "activate", "Duty"])
    assert reactivated.exit_code == 0 and warning in reactivated.stderr, reactivated.output


def test_users_whose_names_look_alike_in_two_scripts_are_named_with_the_letters_that_differ(app, runner):
    """ "alice" and "аlice" (a Cyrillic а), made before such names were refused, count their failed sign-ins apart, so
    the warning of names read as one left them out; a four-eyes list or a timeline shows them as one person."""
    upgraded = accounts_made_before(app, runner, {"alice": True, "\u0430lice": True, "bob": True})
    warning = "warning: users 'alice' and '\\u0430lice' have names that look alike, in letters of two scripts"
    assert warning in upgraded.stderr and "user deactivate NAME" in upgraded.stderr, upgraded.stderr
    assert "read as one" not in upgraded.stderr and "bob" not in upgraded.stderr, upgraded.stderr
    listed = runner.invoke(args=["user", "list"])
    assert re.search(r"^alice\s+duty_officer\s+active  looks like '\\u0430lice'$", listed.stdout, re.M), listed.stdout
    assert re.search(r"^bob\s+duty_officer\s+active$", listed.stdout, re.MULTILINE), listed.stdout
    assert runner.invoke(args=["user", "deactivate", "\u0430lice"]).exit_code == 0
    assert "warning" not in runner.invoke(args=["init-db"]).stderr


def test_a_name_taken_is_refused_before_a_password_is_asked_for_it(runner, app):
    """`user create alice` asked for the password twice, then said alice exists; set-password asks the name first."""
    assert create_user(runner).exit_code == 0
    result = runner.invoke(args=["user", "create", "ALICE", "--role", "admin"], input="")  # nothing typed
    assert result.exit_code == 1, result.output
    assert "Password" not in result.output and "reads as the same name" in result.stderr, result.output


def test_password_stdin_at_a_terminal_asks_hidden_and_twice(monkeypatch):
    """--password-stdin typed by hand: no prompt was shown, and the password was shown as it was typed."""
    from tracker.cli import people

    asked = []
    monkeypatch.setattr(people.sys.stdin, "isatty", lambda: True, raising=False)
    monkeypatch.setattr(people.click, "prompt", lambda text, **kw: asked.append((text, kw)) or "typed-at-the-terminal")
    assert people._read_password(True) == "typed-at-the-terminal"
    assert asked == [("Password", {"hide_input": True, "confirmation_prompt": True})], asked


@pytest.mark.parametrize(
    ("role", "warned"),
    [
        # It went through without a word, where the pages refuse it of an admin's own account: nobody could then
        # manage accounts or lines there.
        ("admin", ["{name} was the last active admin", "user activate {name}"]),
        # Not refused (an account taken over is cut off at once), but said: the admins are told in their place.
        ("supervisor", ["{name} is the last active supervisor", "to the admins instead"]),
    ],
)
def test_deactivating_the_last_active_admin_or_supervisor_says_what_follows(runner, role, warned):
    for name in (f"{role}1", f"{role}2"):
        assert create_user(runner, name, role=role).exit_code == 0
    first = runner.invoke(args=["user", "deactivate", f"{role}1"])
    assert first.exit_code == 0 and f"last active {role}" not in first.stderr, first.output
    last = runner.invoke(args=["user", "deactivate", f"{role}2"])
    assert last.exit_code == 0, last.output
    assert all(words.format(name=f"{role}2") in last.stderr for words in warned), last.stderr


def test_init_db_names_a_line_that_joins_the_other_sides_as_this_version_compares_them(app, runner, world):
    """An internal line at a name under a counterpart line's domain, saved before such lines were refused: delivery
    refuses our alerts over it from the upgrade on, and the upgrade said nothing."""
    from tests.exchange_support import add_counterpart_line
    from tracker.models import ContactChannel

    add_counterpart_line(app, world)  # eastland@eastland.test
    with session_scope(app) as session:
        session.get_one(ContactChannel, world.channels["L2"]).address = "noc@mail.eastland.test"
    upgraded = runner.invoke(args=["init-db"])
    assert upgraded.exit_code == 0, upgraded.output
    assert "warning: internal line 'L2' joins the other side's: noc@mail.eastland.test is where a counterpart line" in (
        upgraded.stderr
    ), upgraded.stderr
    assert "'L1'" not in upgraded.stderr, upgraded.stderr
