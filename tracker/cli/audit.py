"""`flask --app wsgi audit ...`: seal and check the timeline's audit chain."""

import functools
import sys

import click
from flask.cli import with_appcontext

from ..db import session_scope
from ..errors import TrackerError
from .base import SchemaGroup, real_app, writable_for

audit_cli = SchemaGroup(
    "audit",
    help="Seal and check the timeline's audit chain.\n\n\b\nExample:\n  flask --app wsgi audit verify",
)


@audit_cli.command("seal", short_help="Seal the timeline events not yet sealed.")
@with_appcontext
def seal_audit():
    """Seal every timeline event not yet sealed (the scheduler's sweep does this continuously).

    \b
    Example:
      flask --app wsgi audit seal
    """
    import sqlite3

    import psycopg
    from sqlalchemy.exc import SQLAlchemyError

    from ..backup import anchor
    from ..services.review import audit

    app = real_app()
    writable_for(app, ("sweep",))  # before sealing: a seal kept in the database and not outside was a traceback
    keep = functools.partial(anchor.write, anchor.path_for(app.config, app.instance_path))
    try:
        sealed = audit.seal_all(lambda: session_scope(app), on_sealed=keep)
    # A trigger, a full disk, a cut connection: the driver's words, not a traceback. The seals go in by COPY on
    # PostgreSQL, through the driver's own cursor, whose errors SQLAlchemy does not wrap.
    except (SQLAlchemyError, psycopg.Error, sqlite3.Error) as error:
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        raise click.ClickException(
            f"sealing stopped: {reason} (the seals made before it stand; the sweep or this command seals the rest once "
            "that is mended)"
        ) from None
    click.echo(f"sealed {sealed} events")


@audit_cli.command("verify", short_help="Check the audit chain and its anchor; exit 1 if broken.")
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
    from ..backup import anchor
    from ..services.incidents import handling
    from ..services.review import audit

    app = real_app()
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
    counts = (_counted(verdict.seals, "seal"), _counted(verdict.incidents, "incident"))
    events = _counted(verdict.unsealed, "event")
    click.echo(f"audit chain intact: {counts[0]} over {counts[1]}, {events} not yet sealed")
    if verdict.last_seq is not None:
        click.echo(f"latest seal {verdict.last_seq}: {verdict.last_hash}")
    if head is None and verdict.last_seq is not None:
        click.echo(f"no anchor at {anchor_path}: whether newer seals were cut off the end cannot be told")


def _counted(n: int, thing: str) -> str:
    """1 incident, 2 incidents: "over 1 incidents" read as a slip."""
    return f"{n} {thing}{'' if n == 1 else 's'}"
