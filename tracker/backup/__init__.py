"""Backups: `flask --app wsgi backup PATH` and `flask --app wsgi restore PATH`.

A backup is one .tar.gz file: the database (database.sqlite, or database.pgdump made by pg_dump -Fc),
the secret key that signs links and sessions (secret_key), and manifest.json saying what is in it,
read from the very snapshot that was copied: when, which engine and schema revision, how many
incidents, the newest timeline event, the messages still to send and the audit chain's head.

Restore puts the database back (into an empty database, or over one with --force), migrates it to
this version, writes the secret key into the instance folder, sets the audit anchor (anchor.py) to
the backup's chain head, and forgets the schedulers the backup knew, so that messages they had
claimed go out again at once, with the Message-ID and Idempotency-Key they had (receivers drop what
they already have).
"""

import gzip
import hashlib
import io
import json
import os
import sqlite3
import tarfile
import tempfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Connection, Engine, NullPool, create_engine, delete, func, inspect, literal, select, table, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from .. import migrate
from ..config import SECRET_KEY_MIN_LENGTH
from ..models import Incident, Notification, NotificationStatus, Runner, TimelineEvent
from ..services.review import audit
from ..timeutil import isoformat, utcnow
from . import anchor, durable

FORMAT = 1
MANIFEST, SECRET = "manifest.json", "secret_key"
DATABASE = {"sqlite": "database.sqlite", "postgresql": "database.pgdump"}


class BackupError(Exception):
    """Why a backup or a restore cannot be made, in one line for the operator."""


@dataclass(frozen=True)
class Restored:
    manifest: dict
    revision: str | None  # the schema revision the database was migrated to
    notes: list[str]


def engine_of_url(url: str) -> str:
    return "sqlite" if make_url(url).get_backend_name() == "sqlite" else "postgresql"


def sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if database in (None, "", ":memory:"):
        raise BackupError("an in-memory SQLite database cannot be backed up or restored")
    return Path(str(database))


def read_facts(connection: Connection) -> dict:
    """What the manifest says about the database as this connection sees it."""
    session = Session(bind=connection)
    seals = {column["name"] for column in inspect(connection).get_columns("audit_seals")}
    head = audit.head(session, handovers="handover_id" in seals)  # a backup before an upgrade reads an older schema
    in_flight = (NotificationStatus.PENDING, NotificationStatus.SENDING)
    return {
        "revision": connection.scalar(text("SELECT version_num FROM alembic_version")),
        "incidents": session.scalar(select(func.count()).select_from(Incident)),
        "newest_event_id": session.scalar(select(func.max(TimelineEvent.id))),
        "messages_in_flight": session.scalar(select(func.count()).where(Notification.status.in_(in_flight))),
        "chain": None if head is None else anchor.body(head),
    }


def create(url: str, path: Path, secret_key: str, force: bool = False) -> dict:
    """Write a backup of the database at url, with secret_key, to the new file path; return its manifest."""
    if path.exists() and not force:
        raise BackupError(f"{path} exists: name a new file, or pass --force to replace it")
    engine, created_at = engine_of_url(url), isoformat(utcnow())
    try:
        return _create(url, engine, created_at, path, secret_key)
    except OSError as exc:  # a folder that cannot be made or written, a full disk: nothing is left behind
        where = f"{exc.filename}: {exc.strerror}" if exc.filename and exc.strerror else str(exc)
        raise BackupError(f"cannot write {path} ({where}): name a file in a folder you can write") from None


def _create(url: str, engine: str, created_at: str, path: Path, secret_key: str) -> dict:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".backup-") as work:
        copy = Path(work) / DATABASE[engine]
        if engine == "sqlite":
            from . import sqlite

            sqlite.dump(sqlite_path(url), copy)
            facts = _facts_of_copy(copy)
        else:
            from . import postgresql

            facts = postgresql.dump(url, copy, read_facts)
        manifest = {"format": FORMAT, "created_at": created_at, "engine": engine, "database": copy.name, **facts}
        # What restore checks the members it reads against: gzip's CRC is not checked by tarfile, which reads
        # members by seeking, and one bit changed in a line's address restored as a good backup.
        with copy.open("rb") as dump:  # read as it streams: a dump may be gigabytes
            manifest["sha256"] = {copy.name: hashlib.file_digest(dump, "sha256").hexdigest()}
        manifest["sha256"][SECRET] = _sha256(secret_key.encode())
        archive = Path(work) / "archive"
        with tarfile.open(archive, "w:gz") as tar:
            tar.add(copy, copy.name, filter=_owner_only)  # unpacked with tar, the copy is its owner's only
            _add_bytes(tar, MANIFEST, json.dumps(manifest, indent=2).encode())
            _add_bytes(tar, SECRET, secret_key.encode())
        archive.chmod(0o600)  # it holds the secret key
        durable.replace(archive, path)
    return manifest


def _facts_of_copy(copy: Path) -> dict:
    engine = create_engine(f"sqlite:///{copy}", poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return read_facts(connection)
    finally:
        engine.dispose()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _check_whole(path: Path) -> None:
    """Refuse a backup whose compressed stream fails its own check (gzip's CRC and length, read to its end):
    tarfile reads members by seeking and never gets there, so a damaged archive restored changed data, or was
    refused as "not a backup"."""
    try:
        with gzip.open(path) as stream:
            while stream.read(1 << 20):
                pass
    except gzip.BadGzipFile as exc:
        if str(exc).startswith("Not a gzipped file"):
            return  # not gzip at all: tarfile says what it is not
        raise BackupError(f"{path} is damaged ({exc}); nothing was restored: restore another backup") from None
    except (EOFError, zlib.error) as exc:
        raise BackupError(
            f"{path} is damaged or cut short ({str(exc) or 'it ends early'}); nothing was restored: "
            "restore another backup"
        ) from None


def _checked(manifest: dict, name: str, data: bytes, path: Path) -> bytes:
    """The member as the backup wrote it (its SHA-256 in the manifest; a backup of before 2026-12 has none)."""
    said = (manifest.get("sha256") or {}).get(name)
    if said is not None and said != _sha256(data):
        raise BackupError(f"{path} is damaged: its {name} is not what the backup wrote; nothing was restored")
    return data


def _owner_only(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.mode = 0o600
    return info


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), 0o600, int(utcnow().timestamp())
    tar.addfile(info, io.BytesIO(data))


def read_manifest(path: Path) -> dict:
    """The manifest of the backup at path (BackupError when path is not one)."""
    try:
        with tarfile.open(path, "r:*") as tar:
            return _manifest(tar, path)
    except (tarfile.TarError, OSError) as exc:
        raise BackupError(f"{path} is not a backup made by `flask --app wsgi backup`: {exc}") from exc


def _manifest(tar: tarfile.TarFile, path: Path) -> dict:
    member = tar.extractfile(MANIFEST) if MANIFEST in tar.getnames() else None
    if member is None:
        raise BackupError(f"{path} has no {MANIFEST}: it is not a backup made by `flask --app wsgi backup`")
    try:
        manifest = json.load(member)
    except ValueError as exc:  # not JSON, or not UTF-8
        raise BackupError(f"{path}: its {MANIFEST} is not readable JSON ({exc}); nothing was restored") from None
    if not isinstance(manifest, dict):
        raise BackupError(f"{path}: its {MANIFEST} is not a manifest of this tracker; nothing was restored")
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{path} is a backup of format {manifest.get('format')!r}; this tracker reads {FORMAT}")
    problem = _manifest_problem(manifest)
    if problem:
        raise BackupError(f"{path}: its {MANIFEST} is not one this tracker wrote ({problem}); nothing was restored")
    return manifest


def _manifest_problem(manifest: dict) -> str | None:
    """What is wrong with a manifest's fields, or None: checked before anything is replaced."""
    engine = manifest.get("engine")
    if engine not in DATABASE:
        return f"engine {engine!r}"
    if manifest.get("database") != DATABASE[engine]:  # never a path of the file's choosing
        return f"database member {manifest.get('database')!r}, not {DATABASE[engine]!r}"
    if not isinstance(manifest.get("revision"), str):
        return "no schema revision"
    if not _count(manifest.get("incidents")):
        return "no count of incidents"
    sums = manifest.get("sha256")
    if sums is not None and not (isinstance(sums, dict) and all(isinstance(s, str) for s in sums.values())):
        return "checksums that are not SHA-256 digests"
    chain = manifest.get("chain")
    if chain is not None and not (
        isinstance(chain, dict)
        and set(chain) <= {"seq", "hash", "event_id", "handover_id"}
        and _count(chain.get("seq"))
        # the head seals an event or (since 0031) a signed handover
        and (_count(chain.get("event_id")) != _count(chain.get("handover_id")))
        and isinstance(chain.get("hash"), str)
    ):
        return "a chain head that is not one"
    return None


def _count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


@dataclass(frozen=True)
class Instance:
    """Where the restored deployment keeps what is not in its database."""

    secret_path: Path  # instance/secret_key
    secret_in_use: str  # the SECRET_KEY the deployment runs with now
    secret_configured: bool  # SECRET_KEY is set in the configuration: secret_path is not read
    anchor_path: Path | None
    dead_after: float  # seconds after which a scheduler's silence means it is gone
    secret_fallbacks: tuple[str, ...] = ()  # SECRET_KEY_FALLBACKS: keys still taken to verify


def restore(
    url: str, path: Path, instance: Instance, force: bool = False, committing: Callable[[], None] = lambda: None
) -> Restored:
    """Restore the backup at path into the database at url (see the module's docstring). committing is called at
    the point of no return, just before the database is replaced: what follows (migrating, the key, the anchor)
    must then run to its end, and the caller holds off what would stop it (the CLI's signals)."""
    try:
        _check_whole(path)
        with tarfile.open(path, "r:*") as tar, tempfile.TemporaryDirectory(prefix="tracker-restore-") as work:
            manifest = _manifest(tar, path)
            _check_fits(manifest, url)
            if engine_of_url(url) == "sqlite":
                sqlite_path(url).parent.mkdir(parents=True, exist_ok=True)
                migrate.owner_only(url)  # before the target is first opened, which would make it the umask's
            _check_target(url, force, instance.dead_after)
            _check_writable(instance)
            copy = Path(work) / DATABASE[manifest["engine"]]
            secret = _secret(_checked(manifest, SECRET, _read_member(tar, SECRET, path), path), path)
            copy.write_bytes(
                _checked(manifest, manifest["database"], _read_member(tar, manifest["database"], path), path)
            )
            if manifest["engine"] == "sqlite":
                from . import sqlite

                _check_intact(copy, path)
                _check_facts(manifest, _facts_or_none(copy), path, "nothing was restored")
                committing()
                sqlite.load(copy, sqlite_path(url))
            else:
                from . import postgresql

                try:  # compared inside the load's transaction: a database not the manifest's replaces nothing
                    postgresql.load(url, copy, postgresql.expected(manifest), committing)
                except postgresql.Mismatch as mismatch:
                    raise BackupError(
                        f"{path}: the database in it is not the one its manifest describes (it holds "
                        f"{mismatch.found!r}, its manifest says {postgresql.expected(manifest)!r}: revision|incidents|"
                        "audit chain's head); nothing was restored"
                    ) from None
                _check_facts(
                    manifest, _facts_at(url), path, "the database now holds what the file held: restore a good backup"
                )
    except tarfile.ReadError:  # its message lists each compression tried, one line each
        raise BackupError(
            f"{path} is not a backup made by `flask --app wsgi backup` (not a .tar.gz archive); nothing was restored"
        ) from None
    except (tarfile.TarError, OSError, EOFError, sqlite3.DatabaseError, SQLAlchemyError) as exc:
        # The driver's own words, first line: not SQLAlchemy's second line sending the operator to its site.
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise BackupError(f"cannot restore {path}: {reason}") from exc
    migrate.upgrade(url)
    _forget_runners(url)
    notes = _put_secret(secret, instance, path)
    if manifest["chain"] is None:
        anchor.remove(instance.anchor_path)
    else:
        anchor.write(instance.anchor_path, audit.ChainHead(**manifest["chain"]))
    return Restored(manifest, migrate.current(url), notes)


def _secret(data: bytes, path: Path) -> str:
    """The backup's signing key, checked before anything is replaced (an empty or short one would let
    anyone sign an acknowledge link)."""
    try:
        key = data.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise BackupError(f"{path}: its {SECRET} is not text; nothing was restored") from None
    if len(key) < SECRET_KEY_MIN_LENGTH:
        raise BackupError(f"{path}: its {SECRET} is {len(key)} characters, not a key; nothing was restored")
    return key


def _check_facts(manifest: dict, found: dict, path: Path, outcome: str) -> None:
    """Refuse a database that is not the one the manifest describes (another file under its name)."""
    said = {key: manifest.get(key) for key in ("revision", "incidents", "chain")}
    have = {key: found.get(key) for key in said}
    if have != said:
        raise BackupError(
            f"{path}: the database in it is not the one its manifest describes ({have} against {said}); {outcome}"
        )


def _check_intact(copy: Path, path: Path) -> None:
    """Refuse a SQLite copy that fails SQLite's own check (a backup of before 2026-12 has no SHA-256 to say so)."""
    connection = sqlite3.connect(copy)
    try:
        found = [row[0] for row in connection.execute("PRAGMA integrity_check(3)")]
    except sqlite3.DatabaseError as exc:
        found = [str(exc)]
    finally:
        connection.close()
    if found != ["ok"]:
        raise BackupError(f"{path} is damaged: its database fails SQLite's check ({found[0]}); nothing was restored")


def _facts_or_none(copy: Path) -> dict:
    """The facts of a SQLite copy, or none when it is no tracker database at all."""
    try:
        return _facts_of_copy(copy)
    except (SQLAlchemyError, sqlite3.DatabaseError):
        return {}


def _facts_at(url: str) -> dict:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return read_facts(connection)
    finally:
        engine.dispose()


def _read_member(tar: tarfile.TarFile, name: str, path: Path) -> bytes:
    member = tar.extractfile(name) if name in tar.getnames() else None
    if member is None:
        raise BackupError(f"{path} lacks {name}: the backup is incomplete")
    return member.read()


def _check_fits(manifest: dict, url: str) -> None:
    engine = engine_of_url(url)
    if manifest["engine"] != engine:
        raise BackupError(f"the backup is of a {manifest['engine']} database; DATABASE_URL names a {engine} one")
    revision, known = manifest["revision"], migrate.known_revisions()
    if revision not in known:
        raise BackupError(f"the backup is of schema revision {revision}, newer than this tracker's: upgrade it first")


def _check_target(url: str, force: bool, dead_after: float) -> None:
    """Refuse a database holding data without force, and with force one a scheduler still runs on."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        with _opened(engine) as connection:
            tables = [t for t in inspect(connection).get_table_names() if t != "alembic_version"]
            filled = [t for t in tables if connection.scalar(select(literal(1)).select_from(table(t)).limit(1))]
            if filled and not force:
                incidents = connection.scalar(select(func.count()).select_from(table("incidents"))) or 0
                raise BackupError(
                    f"the database already holds data ({incidents} incidents, {len(filled)} tables with rows): "
                    "restore into an empty database, or pass --force to replace it"
                )
            if filled and "runners" in tables:
                since = utcnow() - timedelta(seconds=dead_after)
                alive = connection.scalars(select(Runner.name).where(Runner.last_beat_at > since)).all()
                if alive:
                    raise BackupError(
                        f"a scheduler runs on this database ({', '.join(alive)}): stop the schedulers and the "
                        "web workers before replacing it"
                    )
    finally:
        engine.dispose()


def _opened(engine: Engine) -> Connection:
    """A connection to the target, or why there is none and what to check: the driver's words alone (a database
    that does not exist, no server there, a refused login) did not say that on PostgreSQL it is made with createdb
    before the restore."""
    try:
        return engine.connect()
    except OperationalError as error:
        reason = str(error.orig or error).strip().splitlines()[0]
        check = (
            "that the database exists (make it first with createdb)"
            if engine.dialect.name == "postgresql"
            else ("that it names a file this user may write")
        )
        raise BackupError(
            f"cannot open the database to restore into: {reason}: check DATABASE_URL, and {check}; nothing was restored"
        ) from None


def _check_writable(instance: Instance) -> None:
    """The key and the anchor are written after the database is replaced: a folder that cannot take them (the
    instance folder read-only, as the systemd units' ProtectSystem=strict keeps it; an AUDIT_ANCHOR_FILE under
    a file) failed the restore there, in a traceback, the database replaced but links signed before the backup
    refused and `audit verify` answering "cut short". Refused before anything is replaced."""
    folders = (
        {} if instance.secret_configured else {instance.secret_path.parent: "the instance folder (its secret_key)"}
    )
    if instance.anchor_path is not None:
        folders.setdefault(instance.anchor_path.parent, "the audit anchor's folder (AUDIT_ANCHOR_FILE)")
    for folder, what in folders.items():
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=folder):
                pass
        except OSError as error:
            raise BackupError(
                f"{what} {str(folder)!r} cannot be written ({error.strerror or error}): run the restore as a user "
                "who may write it; nothing was restored"
            ) from None


def _forget_runners(url: str) -> None:
    """No scheduler the backup knew runs on this database: their claims are anyone's to take at once."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as connection:
            connection.execute(delete(Runner))
    finally:
        engine.dispose()


def _put_secret(secret: str, instance: Instance, path: Path) -> list[str]:
    """Write the backup's secret key where the tracker keeps it, unless SECRET_KEY is configured: that file is then
    read by no process, and a copy of the key there (an old one, after a rotation) is one more to keep safe. Say
    whether links and sessions signed before the backup verify again."""
    if instance.secret_configured:
        if instance.secret_in_use == secret:
            return [
                "SECRET_KEY configured is the backup's key: links and sessions signed before the backup verify again"
            ]
        if secret in instance.secret_fallbacks:
            return [
                "the backup's key is in SECRET_KEY_FALLBACKS: links and sessions signed before the backup verify "
                "until they expire (or the key leaves the list)"
            ]
        return [
            "SECRET_KEY is set in this deployment's configuration to another key than the backup's: links and "
            "sessions signed before the backup will not verify unless SECRET_KEY is set to the backup's key "
            f"(`tar -xzOf {path} secret_key` prints it)"
        ]
    kept = instance.secret_path
    kept.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=kept.parent, prefix=".secret_key.")
    with os.fdopen(handle, "w") as out:
        out.write(secret)
    durable.replace(temp, kept)  # mkstemp made it 0600
    return [f"the secret key is back in {kept}: links and sessions signed before the backup verify again"]
