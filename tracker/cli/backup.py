"""`flask --app wsgi backup` and `restore`: the database and its secret key in one file, and back."""

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from flask.cli import with_appcontext

from .base import ensure_migrated, real_app, redact, verbose_option

BACKUP_SUFFIXES = (".tar.gz", ".tgz")


def suggested_name(name: str) -> str:
    """The name given, with the suffix a backup has in place of whatever it ended with."""
    stem = name
    for wrong in (".tar", ".gz", ".zip", ".bak", ".dump", ".sql", ".db", ".sqlite", ".tar.bz2", ".tar.xz"):
        if stem.lower().endswith(wrong):
            stem = stem[: -len(wrong)]
            break
    return f"{stem or 'tracker'}.tar.gz"


@click.command("backup", short_help="Back up the database and its secret key to a file.")
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
    from .. import backup as backups

    if str(path) == "-":  # a file named "-" appeared in the folder, where standard output was meant
        raise click.BadParameter("a backup is a file: give its path (it is not written to standard output)")
    if not path.name.lower().endswith(BACKUP_SUFFIXES):
        raise click.BadParameter(
            f"a backup is a gzipped tar file: name it {suggested_name(path.name)} (.tar.gz or .tgz), "
            f"so that whoever finds it knows how to open it"
        )
    app = real_app()
    ensure_migrated(app, newest=False)  # the backup to make before init-db upgrades an older schema
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


@click.command("restore", short_help="Restore a backup file made by `backup`.")
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
    verify again (where SECRET_KEY is configured, that key is used: it says whether it is the backup's);
    a backup of an older version is migrated to this one; the audit anchor is set to
    the backup's chain head, so `flask --app wsgi audit verify` checks the restored chain.

    What happened after the backup was made is not in it. Messages that were waiting to be sent go
    out again, with the Message-ID and Idempotency-Key they had: receivers drop those they already have.

    \b
    Example:
      flask --app wsgi restore /var/backups/tracker/tracker-20261205T1700Z.tar.gz
    """
    from .. import backup as backups
    from ..backup import anchor
    from ..config import secret_key_configured
    from ..db import engine_of

    app = real_app()
    url, config = app.config["DATABASE_URL"], app.config
    instance = backups.Instance(
        Path(app.instance_path) / "secret_key",
        config["SECRET_KEY"],
        secret_key_configured(app),
        anchor.path_for(config, app.instance_path),
        config["RUNNER_DEAD_INTERVALS"] * config["SWEEP_INTERVAL_SECONDS"],
        tuple(config.get("SECRET_KEY_FALLBACKS") or ()),
    )
    engine_of(app).dispose()  # nothing of this process holds the database while it is replaced
    with _stopped_before_replacing() as (replacing, received):
        try:
            restored = backups.restore(url, path, instance, force, replacing)
        except backups.BackupError as error:
            raise click.ClickException(str(error)) from None
        except _Stopped as stop:
            raise click.ClickException(
                f"stopped by {stop} before the database was replaced: nothing was restored"
            ) from None
        finally:
            engine_of(app).dispose()
    manifest = restored.manifest
    migrated = "" if restored.revision == manifest["revision"] else f", migrated to revision {restored.revision}"
    click.echo(
        f"restored the backup of {manifest['created_at']}: {manifest['incidents']} incidents "
        f"(revision {manifest['revision']}{migrated}) into {redact(url)}"
    )
    for note in restored.notes:
        click.echo(note)
    if received:
        came = " and ".join(received)
        click.echo(f"{came} came once the database was being replaced: the restore was finished first")


class _Stopped(Exception):
    """A signal to stop (Ctrl-C, SIGTERM, a closed terminal) before the restore replaced anything."""


@contextmanager
def _stopped_before_replacing() -> Iterator[tuple]:
    """Ctrl-C, SIGTERM and SIGHUP stop a restore until it begins to replace the database (psql is killed with its
    transaction open: nothing is replaced); from then on they wait for its end, since a database replaced without
    its key, anchor or migration is neither the old one nor the backup's. Killed by SIGTERM at that point, psql (not
    told) committed after the restore had died, and the audit then read the operator's own restore as a copy cut
    short. Yields (replacing, received): the call that marks the point of no return, and the signals held."""
    replacing: list[bool] = []
    received: list[str] = []

    def stop(number, frame) -> None:
        name = signal.Signals(number).name
        if replacing:
            received.append(name)
            return
        raise _Stopped(name)

    held = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    before = {number: signal.signal(number, stop) for number in held}
    try:
        yield (lambda: replacing.append(True)), received
    finally:
        for number, handler in before.items():
            signal.signal(number, handler)
