"""Backup and restore (issue 12, item 15): `flask --app wsgi backup` of a live database under
concurrent filing, `restore` into a new database, and what must hold there: the audit chain verifies,
the incidents are exactly those the backup's snapshot held, and no message is delivered twice (a
message sent again after the restore carries the Message-ID and key it had, and no other message
ever carries them). And a plain file copy of a live SQLite database, without its -wal file, is found
out by `audit verify`."""

import email
import email.policy
import json
import shutil
import sqlite3
import tarfile
import threading
from pathlib import Path

import pytest
from apiflask import APIFlask
from sqlalchemy import inspect, select
from sqlalchemy.engine import make_url

from tests.conftest import app_config
from tests.databases import new_database
from tests.support import count, file_incident, incident_payload, outbox_files, write_archive
from tracker import create_app, jobs
from tracker.db import engine_of, session_scope
from tracker.models import Incident


@pytest.fixture
def app_on(tmp_path):
    """Build an app of the test's own on another database, with an outbox of its own."""
    apps = []

    def build(url: str, name: str):
        app = create_app(app_config(tmp_path / f"{name}-outbox", DATABASE_URL=url))
        apps.append(app)
        return app

    yield build
    for app in apps:
        engine_of(app).dispose()


@pytest.fixture
def new_database_url(database, tmp_path):
    """A new, empty database of the test's engine (on PostgreSQL made, and dropped at the worker's end)."""
    return new_database(database, tmp_path / "restored" / "tracker.db", "restored")


def flask(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def references(app) -> set[str]:
    with session_scope(app) as session:
        return set(session.scalars(select(Incident.reference)))


def mails(app) -> dict[str, tuple[str, str, str]]:
    """The outbox's messages by Message-ID: (key, subject, plain text)."""
    found = {}
    for path in outbox_files(app):
        mail = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        text = mail.get_body(("plain",)).get_content()
        found[mail["Message-ID"]] = (mail["X-Tracker-Key"], mail["Subject"], text)
    return found


class Filers:
    """Clients filing incidents through the API, each after the other, until stopped."""

    def __init__(self, app, world, clients: int = 2):
        self.answered: list[str] = []
        self.errors: list[str] = []
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self.file, args=(app, world, n)) for n in range(clients)]

    def file(self, app, world, n):
        client = app.test_client()
        while not self.stopping.is_set():
            response = client.post("/api/v1/incidents", json=incident_payload(), headers=world.auth("duty"))
            if response.status_code != 201:
                self.errors.append(f"client {n}: {response.status_code} {response.get_json()}")
                return
            self.answered.append(response.get_json()["reference"])

    def wait_for(self, more: int) -> None:
        """Until more filings than now have been answered."""
        target = len(self.answered) + more
        while len(self.answered) < target and not self.errors and any(t.is_alive() for t in self.threads):
            self.stopping.wait(0.01)

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        for thread in self.threads:
            thread.join(60)


@pytest.mark.both_databases  # the online backup API of SQLite, pg_dump and psql on PostgreSQL
def test_a_live_database_backed_up_under_filing_restores_whole_and_sends_nothing_twice(
    app, client, world, app_on, new_database_url, tmp_path, monkeypatch
):
    sent_before = [file_incident(client, world)["reference"] for _ in range(2)]
    assert jobs.deliver(app) == 2
    jobs.sweep(app)  # seals, and keeps the chain head outside the database
    delivered_before = set(mails(app))
    in_flight = file_incident(client, world, narrative="Filed just before the backup.")["reference"]
    archive = tmp_path / "backups" / "tracker.tar.gz"

    with Filers(app, world) as filers:
        filers.wait_for(3)
        answered_before = set(filers.answered)
        made = flask(app, "backup", str(archive))
        filers.wait_for(3)  # and more after it
    assert not filers.errors, filers.errors
    assert made.exit_code == 0, made.output
    assert archive.stat().st_mode & 0o077 == 0, "it holds the secret key: for its owner only"
    with tarfile.open(archive) as tar:  # unpacked with tar, each file stays its owner's (the copy was 0644)
        assert {m.name: m.mode & 0o077 for m in tar.getmembers()} == dict.fromkeys(tar.getnames(), 0), tar.getnames()
    filed = {*sent_before, in_flight, *filers.answered}
    assert references(app) == filed
    jobs.deliver(app)  # the original sends what was in flight at the backup, and everything since

    from tracker.backup import read_manifest

    manifest = read_manifest(archive)
    assert f"backed up {manifest['incidents']} incidents" in made.output, made.output

    restored = app_on(new_database_url, "restored")
    monkeypatch.setattr(restored, "instance_path", str(tmp_path / "restored-instance"))
    result = flask(restored, "restore", str(archive))
    assert result.exit_code == 0, result.output
    assert "SECRET_KEY configured is the backup's key" in result.output, result.output  # no file of it kept
    assert not Path(restored.instance_path, "secret_key").exists()

    verified = flask(restored, "audit", "verify")
    assert verified.exit_code == 0 and "audit chain intact" in verified.output, verified.output
    assert "no anchor" not in verified.output, "restore sets the anchor to the backup's chain head"

    # Exactly what the backup's snapshot held: every filing answered before it began, none half done.
    held = references(restored)
    assert len(held) == manifest["incidents"] == count(restored, Incident), (len(held), manifest)
    assert {*sent_before, in_flight, *answered_before} <= held <= filed, "every filing answered before it"

    # The restored tracker sends again only what was in flight, as the same messages; a new message never
    # takes the Message-ID of one the original sent after the backup (where the ids were given again).
    file_incident(restored.test_client(), world, narrative="Filed after the restore.")
    assert jobs.deliver(restored) >= 2
    original, again = mails(app), mails(restored)
    shared = set(original) & set(again)
    assert not shared & delivered_before, "what was sent before the backup is not sent again"
    in_flight_mail = [m for m, (_k, subject, _t) in original.items() if in_flight in subject]
    assert in_flight_mail and set(in_flight_mail) <= shared, "in flight at the backup: sent again, same Message-ID"
    for message_id in shared:
        assert again[message_id] == original[message_id], f"{message_id}: the same key, subject and text"
    assert len({key for key, _s, _t in again.values()}) == len(again), "one key per message"
    verified = flask(restored, "audit", "verify")
    assert verified.exit_code == 0, verified.output

    refused = flask(restored, "restore", str(archive))
    assert refused.exit_code == 1 and "already holds data" in refused.output, refused.output
    assert "--force" in refused.output


def test_a_plain_copy_of_a_live_sqlite_file_without_its_wal_is_found_out(app, client, world, app_on, tmp_path):
    live = Path(make_url(app.config["DATABASE_URL"]).database)
    for _ in range(2):
        file_incident(client, world)
    jobs.sweep(app)
    with sqlite3.connect(live) as connection:  # everything so far into the database file itself
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    newest = [file_incident(client, world)["reference"] for _ in range(3)]
    jobs.sweep(app)  # their events sealed: the seals, like the incidents, are in the -wal file only

    # `cp tracker.db tracker.db.audit-anchor /backup/` while it runs (the anchor is beside the file).
    copy = tmp_path / "copy" / "tracker.db"
    copy.parent.mkdir()
    shutil.copyfile(live, copy)
    if Path(f"{live}.audit-anchor").exists():
        shutil.copyfile(f"{live}.audit-anchor", f"{copy}.audit-anchor")
    copied = app_on(f"sqlite:///{copy}", "copy")
    assert count(app, Incident) == 5 and count(copied, Incident) == 2, "the copy missed the last three"
    assert not set(newest) & references(copied)

    result = flask(copied, "audit", "verify")
    assert result.exit_code == 1, result.output
    assert "audit chain cut short" in result.output and "without its -wal file" in result.output, result.output
    assert flask(app, "audit", "verify").exit_code == 0, "the live database is intact"


def test_a_backup_to_standard_output_is_refused_not_written_to_a_file_named_dash(app, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    refused = flask(app, "backup", "-")
    assert refused.exit_code == 2 and "not written to standard output" in refused.output, refused.output
    assert not (tmp_path / "-").exists()


@pytest.mark.parametrize(
    ("name", "suggested"),
    [("tracker.zip", "tracker.tar.gz"), ("nightly", "nightly.tar.gz"), ("t.sql", "t.tar.gz"), ("t.tar", "t.tar.gz")],
)
def test_a_backup_named_as_another_kind_of_file_is_refused_with_the_name_it_should_have(app, tmp_path, name, suggested):
    """`backup tracker.zip` wrote a gzipped tar under a .zip name, which nobody would know how to open."""
    refused = flask(app, "backup", str(tmp_path / name))
    assert refused.exit_code == 2 and f"name it {suggested}" in refused.output, refused.output
    assert not (tmp_path / name).exists() and list(tmp_path.iterdir()) == [], list(tmp_path.iterdir())


def test_backup_and_restore_explain_themselves(app):
    backup_help, restore_help = flask(app, "backup", "--help").output, flask(app, "restore", "--help").output
    assert "secret_key" in backup_help and "pg_dump" in backup_help and "restore PATH" in backup_help
    assert "--force" in restore_help and "Message-ID" in restore_help and "migrated" in restore_help


def test_without_the_postgresql_client_tools_backup_says_which_package(monkeypatch, tmp_path):
    from tracker import backup
    from tracker.backup import postgresql

    monkeypatch.setattr(postgresql.shutil, "which", lambda _name: None)
    url = "postgresql+psycopg://tracker:s3cret-pw@127.0.0.1:1/tracker"
    with pytest.raises(backup.BackupError) as refused:
        backup.create(url, tmp_path / "b.tar.gz", "key")
    message = str(refused.value)
    assert "pg_dump not found" in message and "postgresql-client" in message and "\n" not in message
    assert "s3cret-pw" not in message
    assert not (tmp_path / "b.tar.gz").exists()
    assert postgresql.libpq(url) == ("postgresql://tracker@127.0.0.1:1/tracker", postgresql.libpq(url)[1])
    assert postgresql.libpq(url)[1]["PGPASSWORD"] == "s3cret-pw", "the password travels in the environment"


def test_a_password_given_in_the_urls_query_travels_in_the_environment_too():
    """libpq takes ?password= as well: it stayed in the --dbname given to pg_dump and pg_restore, on their command
    line, which every user of the host reads (ps) and process accounting keeps."""
    from tracker.backup import postgresql

    dsn, env = postgresql.libpq("postgresql+psycopg://tracker@127.0.0.1:1/tracker?password=s3cret-pw&sslmode=require")
    assert dsn == "postgresql://tracker@127.0.0.1:1/tracker?sslmode=require" and env["PGPASSWORD"] == "s3cret-pw"


def test_a_restore_under_another_configured_key_says_links_will_not_verify(app, client, world, tmp_path):
    """SECRET_KEY set in the configuration wins over instance/secret_key, so a backup made before the key was
    rotated does not bring its links back. Restore said so only when the file held another key than the
    configuration's: where an earlier restore had left the configured key in the file, it said "links and sessions
    signed before the backup verify again", and a desk's acknowledge links were then refused as not valid."""
    file_incident(client, world)
    archive = tmp_path / "before-rotation.tar.gz"
    assert flask(app, "backup", str(archive)).exit_code == 0
    rotated = "the-key-after-rotation-0123456789abcdef"
    instance = tmp_path / "restored-instance"
    instance.mkdir()
    (instance / "secret_key").write_text(rotated)  # as a restore of a backup made after the rotation leaves it
    url = f"sqlite:///{tmp_path / 'restored.db'}"
    target = create_app(app_config(tmp_path / "restored-outbox", DATABASE_URL=url, SECRET_KEY=rotated))
    target.instance_path = str(instance)
    try:
        result = flask(target, "restore", str(archive))
    finally:
        engine_of(target).dispose()
    assert result.exit_code == 0, result.output
    assert "verify again" not in result.output, result.output
    assert "SECRET_KEY is set in this deployment's configuration to another key" in result.output, result.output
    assert f"tar -xzOf {archive} secret_key" in result.output, "where the backup's key is to be read"
    assert (instance / "secret_key").read_text() == rotated, "no file the configuration overrides takes a key"

    # The backup's key kept as a fallback: its links verify, and the restore says so rather than the opposite.
    old = app.config["SECRET_KEY"]
    target = create_app(
        app_config(tmp_path / "again-outbox", DATABASE_URL=url, SECRET_KEY=rotated, SECRET_KEY_FALLBACKS=[old])
    )
    target.instance_path = str(instance)
    try:
        again = flask(target, "restore", "--force", str(archive))
    finally:
        engine_of(target).dispose()
    assert again.exit_code == 0, again.output
    assert "the backup's key is in SECRET_KEY_FALLBACKS" in again.output and "will not verify" not in again.output


def test_a_restore_under_a_configured_key_writes_no_key_file(app, client, world, tmp_path):
    """SECRET_KEY set in the configuration is the key: restore wrote the backup's into instance/secret_key all the
    same, a copy of the key no process reads (and, after a rotation, of an old one), and refused to restore at all
    where that folder could not be written, as under the systemd units, which keep the code's folder read-only."""
    file_incident(client, world)
    archive = tmp_path / "backup.tar.gz"
    assert flask(app, "backup", str(archive)).exit_code == 0
    (tmp_path / "read-only").write_text("a file where the instance folder would be made")
    url = f"sqlite:///{tmp_path / 'restored.db'}"
    target = create_app(app_config(tmp_path / "restored-outbox", DATABASE_URL=url, SECRET_KEY=app.config["SECRET_KEY"]))
    target.instance_path = str(tmp_path / "read-only" / "instance")
    try:
        result = flask(target, "restore", str(archive))
    finally:
        engine_of(target).dispose()
    assert result.exit_code == 0, result.output
    assert "SECRET_KEY configured is the backup's key: links and sessions signed before the backup verify again" in (
        result.output
    ), result.output
    assert "secret_key" not in result.output, result.output


def test_a_restore_where_no_key_is_configured_puts_the_backup_s_key_in_the_instance_folder(
    app, client, world, tmp_path, monkeypatch
):
    file_incident(client, world)
    archive = tmp_path / "backup.tar.gz"
    assert flask(app, "backup", str(archive)).exit_code == 0
    instance = tmp_path / "restored-instance"
    monkeypatch.setattr(APIFlask, "auto_find_instance_path", lambda self: str(instance))
    url = f"sqlite:///{tmp_path / 'restored.db'}"
    target = create_app(app_config(tmp_path / "restored-outbox", DATABASE_URL=url, SECRET_KEY=""))
    assert (instance / "secret_key").read_text() != app.config["SECRET_KEY"], "a key of its own, made at start"
    try:
        result = flask(target, "restore", str(archive))
    finally:
        engine_of(target).dispose()
    assert result.exit_code == 0, result.output
    assert (instance / "secret_key").read_text() == app.config["SECRET_KEY"]
    assert f"the secret key is back in {instance / 'secret_key'}: links and sessions signed before the backup " in (
        result.output
    ), result.output


def rewritten(archive: Path, path: Path, change) -> Path:
    """The backup at archive written again to path, after change(manifest, parts) edited its members."""
    with tarfile.open(archive) as tar:
        parts = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}
    manifest = json.loads(parts["manifest.json"])
    change(manifest, parts)
    parts["manifest.json"] = json.dumps(manifest).encode()
    return write_archive(path, parts)


@pytest.mark.both_databases  # SQLite checks the file before loading it; PostgreSQL inside the load's transaction
@pytest.mark.parametrize("field", ["incidents", "chain", "revision"])
def test_a_backup_whose_database_is_not_its_manifests_replaces_nothing(
    app, client, world, app_on, new_database_url, tmp_path, monkeypatch, field
):
    """A manifest edited (or a database put in another's file) is refused, and the database restored into is left
    as it was. On PostgreSQL the comparison came after the load had committed: the data was replaced, then the
    restore refused."""
    for _ in range(2):
        file_incident(client, world)
    jobs.sweep(app)  # a chain begun
    archive = tmp_path / "good.tar.gz"
    assert flask(app, "backup", str(archive)).exit_code == 0
    bad = rewritten(
        archive,
        tmp_path / f"edited-{field}.tar.gz",
        lambda manifest, parts: manifest.update(
            {
                "incidents": {"incidents": 7},
                "chain": {"chain": {"seq": 99, "hash": "0" * 64, "event_id": 1}},
                "revision": {"revision": "0036"},
            }[field]
        ),
    )

    target = app_on(new_database_url, "target")
    monkeypatch.setattr(target, "instance_path", str(tmp_path / "target-instance"))
    result = flask(target, "restore", str(bad))
    assert result.exit_code == 1, result.output
    said = result.output
    assert "not the one its manifest describes" in said and "nothing was restored" in said, said
    with engine_of(target).connect() as connection:
        assert "incidents" not in inspect(connection).get_table_names(), "the empty database is left empty"


@pytest.mark.both_databases  # SQLite's own check of the copy; pg_restore stopped half-way on PostgreSQL
def test_a_backup_whose_database_is_cut_short_is_refused_as_damaged_quoting_none_of_its_rows(
    app, client, world, app_on, new_database_url, tmp_path, monkeypatch
):
    """A backup of before its checksums, its database cut short: on PostgreSQL pg_restore stopped in a table's COPY,
    psql failed on the check appended after it, and that was said ("invalid input syntax ...: <a narrative>")."""
    secret = "Narrative-words-of-a-row 7Q"
    for _ in range(3):
        file_incident(client, world, narrative=secret)
    archive = tmp_path / "good.tar.gz"
    assert flask(app, "backup", str(archive)).exit_code == 0

    def cut_short(manifest: dict, parts: dict) -> None:
        manifest.pop("sha256")
        parts[manifest["database"]] = parts[manifest["database"]][: len(parts[manifest["database"]]) * 2 // 3]

    cut = rewritten(archive, tmp_path / "cut.tar.gz", cut_short)

    target = app_on(new_database_url, "target")
    monkeypatch.setattr(target, "instance_path", str(tmp_path / "target-instance"))
    result = flask(target, "restore", str(cut))
    assert result.exit_code == 1, result.output
    assert "damaged" in result.output and secret not in result.output, result.output
    assert len(result.output.splitlines()) == 1, result.output
    with engine_of(target).connect() as connection:
        assert "incidents" not in inspect(connection).get_table_names(), "the empty database is left empty"


def _backed_up(app, client, world, tmp_path) -> Path:
    for _ in range(2):
        file_incident(client, world)
    archive = tmp_path / "good.tar.gz"
    made = flask(app, "backup", str(archive))
    assert made.exit_code == 0, made.output
    return archive


@pytest.mark.both_databases  # psql killed with its transaction open on PostgreSQL; SQLite's copy not begun
def test_a_restore_stopped_before_its_point_of_no_return_replaces_nothing(
    app, client, world, app_on, new_database_url, tmp_path, monkeypatch
):
    from tracker import backup
    from tracker.backup import anchor

    archive = _backed_up(app, client, world, tmp_path)
    target = app_on(new_database_url, "target")
    instance = backup.Instance(tmp_path / "instance" / "secret_key", "k" * 40, False, tmp_path / "anchor.json", 60)

    def stopped() -> None:
        raise KeyboardInterrupt  # Ctrl-C, or the CLI's SIGTERM, at the last moment before the database is replaced

    with pytest.raises(KeyboardInterrupt):
        backup.restore(new_database_url, archive, instance, committing=stopped)
    with engine_of(target).connect() as connection:
        assert "incidents" not in inspect(connection).get_table_names(), "nothing was replaced"
    assert not (tmp_path / "instance" / "secret_key").exists() and not anchor.read(tmp_path / "anchor.json")


def test_the_restore_command_stops_on_sigterm_before_replacing_and_finishes_after(
    app, client, world, app_on, new_database_url, tmp_path, monkeypatch
):
    """SIGTERM (systemd stopping a unit, kill) before the database is replaced stops the restore, saying nothing was
    restored; once replacing has begun it waits for the end, and says so: killed there, the database was the
    backup's without its key, anchor or migration."""
    import os
    import signal

    from tracker import backup

    archive = _backed_up(app, client, world, tmp_path)
    real, handlers = backup.restore, {stop: signal.getsignal(stop) for stop in (signal.SIGINT, signal.SIGTERM)}

    def terminated_before(url, path, instance, force, committing):
        os.kill(os.getpid(), signal.SIGTERM)
        raise AssertionError("the signal stops the restore where it comes")

    def terminated_while_replacing(url, path, instance, force, committing):
        committing()
        os.kill(os.getpid(), signal.SIGTERM)
        return real(url, path, instance, force, committing)

    target = app_on(new_database_url, "target")
    monkeypatch.setattr(target, "instance_path", str(tmp_path / "target-instance"))
    monkeypatch.setattr(backup, "restore", terminated_before)
    stopped = flask(target, "restore", str(archive))
    assert stopped.exit_code == 1, stopped.output
    assert "stopped by SIGTERM before the database was replaced: nothing was restored" in stopped.output

    monkeypatch.setattr(backup, "restore", terminated_while_replacing)
    finished = flask(target, "restore", str(archive))
    assert finished.exit_code == 0, finished.output
    assert "restored the backup" in finished.output, finished.output
    assert "SIGTERM came once the database was being replaced: the restore was finished first" in finished.output
    assert {stop: signal.getsignal(stop) for stop in handlers} == handlers, "the handlers before the command, back"
    assert references(target) and len(references(target)) == 2


@pytest.mark.parametrize(
    ("said", "shown"),
    [
        ('ERROR:  invalid input syntax for type integer: "DO $x$ Narrative-of-a-row"', 'integer: "..."'),
        ('ERROR:  value "99999999999" is out of range for type integer', 'value "..." is out'),
        ('ERROR: malformed array literal: "{eyJhbGciOi"', 'literal: "..."'),
        ('FATAL:  database "tracker" does not exist', 'database "tracker" does not exist'),
        ('FATAL:  password authentication failed for user "tracker"', 'user "tracker"'),
    ],
)
def test_a_psql_error_says_no_row_data_but_names_what_it_is_about(said, shown):
    """What psql quotes of a row it could not load (a narrative, a signed link's payload) was said on the terminal
    and in the log; a database's or a role's name is what the operator needs."""
    from tracker.backup import postgresql

    line = postgresql._last_line(said, "postgresql://tracker:pw@127.0.0.1/tracker")
    assert shown in line and "Narrative" not in line and "eyJ" not in line and "99999" not in line, line
