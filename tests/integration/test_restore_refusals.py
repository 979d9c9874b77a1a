"""A backup file is not trusted: one whose manifest names another path, whose key is empty, whose
database is not the one its manifest describes, or whose manifest is not one, is refused before the
target database, its key or anything beside it is touched. SQLite: the checks run before the engine's
own load; PostgreSQL compares what it loaded inside the restore's transaction, which the refusal rolls back."""

import json
import os
import sqlite3
import stat
import tarfile
from pathlib import Path

import pytest
from apiflask import APIFlask

from tests.conftest import app_config
from tests.support import file_incident, write_archive
from tracker import create_app, jobs
from tracker.db import engine_of


def flask(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


@pytest.fixture
def app_on_tmp(tmp_path, monkeypatch):
    """An app on a SQLite file not made yet, with an instance directory of its own: (app, instance)."""
    apps = []

    def build(**config):
        target = tmp_path / "restored" / "tracker.db"
        app = create_app(app_config(tmp_path / "restored-outbox", DATABASE_URL=f"sqlite:///{target}", **config))
        instance = tmp_path / "restored-instance"
        monkeypatch.setattr(app, "instance_path", str(instance))
        apps.append(app)
        return app, instance

    yield build
    for app in apps:
        engine_of(app).dispose()


@pytest.fixture
def archive(app, client, world, tmp_path) -> Path:
    for _ in range(2):
        file_incident(client, world)
    jobs.sweep(app)
    path = tmp_path / "good.tar.gz"
    made = flask(app, "backup", str(path))
    assert made.exit_code == 0, made.output
    return path


def members(path: Path) -> dict[str, bytes]:
    with tarfile.open(path, "r:*") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers()}


def tampered(archive: Path, tmp_path: Path, name: str, **change) -> Path:
    parts = members(archive)
    manifest = json.loads(parts["manifest.json"])
    for key, value in change.items():
        if key == "manifest":
            parts["manifest.json"] = value
        elif key == "manifest_fields":
            manifest.update(value)
            parts["manifest.json"] = json.dumps(manifest).encode()
        else:
            parts[key] = value
    return write_archive(tmp_path / f"{name}.tar.gz", parts)


def foreign_sqlite(path: Path) -> bytes:
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE x (y INTEGER)")
    return path.read_bytes()


@pytest.mark.parametrize(
    "case",
    [
        "traversal",
        "absolute",
        "empty key",
        "not a key",
        "foreign",
        "not json",
        "a list",
        "other key",
        "other database",
        "sums not sums",
    ],
)
def test_a_backup_not_to_be_trusted_is_refused_and_nothing_is_touched(app, archive, app_on_tmp, tmp_path, case):
    parts = members(archive)
    outside = tmp_path / "elsewhere" / "PWNED"
    change = {
        "traversal": {
            "manifest_fields": {"database": "../../elsewhere/PWNED"},
            "../../elsewhere/PWNED": parts["database.sqlite"],
        },
        "absolute": {"manifest_fields": {"database": str(outside)}, str(outside): parts["database.sqlite"]},
        # A backup of before its checksums: the key and the database checked for what they are.
        "empty key": {"secret_key": b"", "manifest_fields": {"sha256": None}},
        "not a key": {"secret_key": b"\xff\xfe", "manifest_fields": {"sha256": None}},
        "foreign": {"database.sqlite": foreign_sqlite(tmp_path / "foreign.db"), "manifest_fields": {"sha256": None}},
        # Checksums of what it wrote: another key or database under their names is damage.
        "other key": {"secret_key": b"k" * 64},
        "other database": {"database.sqlite": foreign_sqlite(tmp_path / "other.db")},
        "sums not sums": {"manifest_fields": {"sha256": ["x"]}},
        "not json": {"manifest": b"{not json"},
        "a list": {"manifest": b"[1, 2]"},
    }[case]
    bad = tampered(archive, tmp_path, case.replace(" ", "-"), **change)
    target, instance = app_on_tmp()
    database = Path(target.config["DATABASE_URL"].removeprefix("sqlite:///"))
    before = database.read_bytes() if database.exists() else None
    result = flask(target, "restore", "--force", str(bad))
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and result.exception is None or isinstance(result.exception, SystemExit)
    assert (
        "nothing was restored" in result.output or "not a backup" in result.output or "not readable" in result.output
    ), result.output
    assert not outside.exists() and not (tmp_path / "elsewhere").exists(), "nothing written outside its work directory"
    assert not (instance / "secret_key").exists(), "the key in use is left alone"
    after = database.read_bytes() if database.exists() else None
    assert (after or b"") == (before or b""), "the target is untouched (an empty file at most, made by looking)"


@pytest.mark.parametrize("content", [b"", b"name,states\nEASTERN RAMPART,Eastland\n"])
def test_a_file_that_is_no_archive_is_refused_in_one_line_and_nothing_is_made(app_on_tmp, tmp_path, content):
    """An exercise CSV or an empty file given by mistake: the answer listed each compression tarfile tried,
    one line each, and the target's folder had been made before the file was looked at."""
    not_a_backup = tmp_path / "exercises.csv"
    not_a_backup.write_bytes(content)
    target, _instance = app_on_tmp()
    result = flask(target, "restore", str(not_a_backup))
    assert result.exit_code == 1, result.output
    assert result.output == (
        f"Error: {not_a_backup} is not a backup made by `flask --app wsgi backup` (not a .tar.gz archive); "
        "nothing was restored\n"
    )
    assert not (tmp_path / "restored").exists()


def test_a_backup_to_a_folder_it_cannot_make_says_so_in_one_line(app, tmp_path):
    """A path under a file (a typo, an unmounted share): an OSError traceback, not a line."""
    (tmp_path / "backups").write_text("a file, not a folder")
    result = flask(app, "backup", str(tmp_path / "backups" / "tracker.tar.gz"))
    assert result.exit_code == 1, result.output
    assert result.output.startswith(f"Error: cannot write {tmp_path / 'backups' / 'tracker.tar.gz'} ("), result.output
    assert len(result.output.splitlines()) == 1, result.output


def test_a_database_that_cannot_be_opened_is_named_in_one_line(archive, tmp_path):
    """A target that cannot be opened (a folder where the file should be; on PostgreSQL, a database not
    made with createdb): the answer carried SQLAlchemy's "(Background on this error at: ...)" line too."""
    (tmp_path / "a-folder.db").mkdir()
    target = create_app(app_config(tmp_path / "outbox", DATABASE_URL=f"sqlite:///{tmp_path / 'a-folder.db'}"))
    try:
        result = flask(target, "restore", str(archive))
    finally:
        engine_of(target).dispose()
    assert result.exit_code == 1, result.output
    assert result.output == (
        "Error: cannot open the database to restore into: unable to open database file: check DATABASE_URL, and that "
        "it names a file this user may write; nothing was restored\n"
    )


def test_a_postgresql_database_not_made_yet_is_told_to_be_made_with_createdb():
    """The README says to make the database first with createdb; restore into one not made said only the driver's
    words (FATAL: database "..." does not exist), and nothing of what to do. No server is asked: the URL's host
    refuses at once."""
    from tracker import backup

    with pytest.raises(backup.BackupError) as refused:
        backup._check_target("postgresql+psycopg://tracker:s3cret-pw@127.0.0.1:1/tracker", False, 10)
    message = str(refused.value)
    assert message.startswith("cannot open the database to restore into: "), message
    assert message.endswith(
        "check DATABASE_URL, and that the database exists (make it first with createdb); nothing was restored"
    ), message
    assert "s3cret-pw" not in message and "\n" not in message


@pytest.mark.parametrize("where", ["instance", "anchor"])
def test_a_restore_that_could_not_keep_its_key_or_anchor_replaces_nothing(
    app, archive, app_on_tmp, tmp_path, where, monkeypatch
):
    """The key and the anchor are written after the database is replaced: an instance folder the restoring user
    cannot write (the systemd units keep it read-only) failed there in a traceback, the database already
    replaced, links signed before the backup refused and `audit verify` answering "cut short". The key goes there
    only where no SECRET_KEY is configured (tests/integration/test_backup.py)."""
    if where == "instance":  # the key the app starts with is made in an instance folder of the test's own
        monkeypatch.setattr(APIFlask, "auto_find_instance_path", lambda self: str(tmp_path / "start-instance"))
    target, instance = app_on_tmp(SECRET_KEY="" if where == "instance" else app.config["SECRET_KEY"])
    (tmp_path / "a-file").write_text("")
    if where == "instance":
        target.instance_path = str(tmp_path / "a-file" / "instance")
    else:
        target.config["AUDIT_ANCHOR_FILE"] = str(tmp_path / "a-file" / "anchor.json")
    result = flask(target, "restore", str(archive))
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "cannot be written" in result.output and result.output.rstrip().endswith("nothing was restored")
    assert len(result.output.splitlines()) == 1, result.output
    database = Path(target.config["DATABASE_URL"].removeprefix("sqlite:///"))
    assert not database.exists() or database.stat().st_size == 0, "the target database is left as it was"


@pytest.mark.parametrize("where", [0.3, 0.9])  # in the database's compressed bytes, and near the end
def test_a_backup_damaged_on_disk_is_refused_as_damaged_and_nothing_is_touched(archive, app_on_tmp, tmp_path, where):
    """One bit changed in the file: tarfile reads members by seeking and never checks gzip's CRC, so a line's
    address came back changed (or the database malformed, or a seal's hash altered) and restore said it had
    restored the backup, exit 0; or it was refused as "not a backup"."""
    data = bytearray(archive.read_bytes())
    data[int(len(data) * where)] ^= 0x01
    damaged = tmp_path / "damaged.tar.gz"
    damaged.write_bytes(bytes(data))
    target, instance = app_on_tmp()
    result = flask(target, "restore", "--force", str(damaged))
    assert result.exit_code == 1, result.output
    assert f"Error: {damaged} is damaged" in result.output and "nothing was restored" in result.output, result.output
    assert len(result.output.splitlines()) == 1, result.output
    database = Path(target.config["DATABASE_URL"].removeprefix("sqlite:///"))
    assert not database.exists() or database.stat().st_size == 0, "the target is left as it was"
    assert not (instance / "secret_key").exists(), "the key in use is left alone"


def test_a_database_that_fails_sqlites_check_is_refused_though_the_backup_has_no_checksums(archive, tmp_path):
    from tracker import backup

    copy = tmp_path / "copy.sqlite"
    copy.write_bytes(members(archive)["database.sqlite"])
    backup._check_intact(copy, archive)  # the good one passes
    data = bytearray(copy.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 40] = bytes(b ^ 0xFF for b in data[middle : middle + 40])
    copy.write_bytes(bytes(data))
    with pytest.raises(backup.BackupError) as refused:
        backup._check_intact(copy, archive)
    assert "is damaged: its database fails SQLite's check" in str(refused.value), refused.value


def test_a_sqlite_database_a_restore_makes_is_its_owners_only(archive, app_on_tmp):
    """The target was opened to see whether it was empty before the restore made it its owner's: made by that
    connection, it took the umask's 0644, readable by every account on the machine with the password hashes."""
    target, _instance = app_on_tmp()
    old = os.umask(0o022)  # one that would make the file readable by all
    try:
        result = flask(target, "restore", str(archive))
    finally:
        os.umask(old)
    assert result.exit_code == 0, result.output
    folder = Path(target.config["DATABASE_URL"].removeprefix("sqlite:///")).parent
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in folder.iterdir()}
    assert modes and set(modes.values()) == {0o600}, modes
