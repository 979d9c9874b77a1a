"""`flask --app wsgi init-db` and `demo`: a database with this tracker's schema, and the demo region in it."""

import re
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from ..db import session_scope
from ..errors import TrackerError
from .base import ensure_migrated, fail, redact, schema_revision, verbose_option, writable_for
from .people import warn_of_names_alike


@click.command("init-db", short_help="Create or upgrade the database schema (safe to run again).")
@verbose_option
@with_appcontext
def init_db():
    """Create or upgrade the schema with the Alembic migrations (safe to run again).

    \b
    Example:
      flask --app wsgi init-db
      TRACKER_DATABASE_URL=postgresql://tracker@db:5432/tracker flask --app wsgi init-db --verbose
    """
    from .. import migrate

    url = current_app.config["DATABASE_URL"]
    migrate.owner_only(url)  # before anything connects and makes the file with the umask's mode
    revision = schema_revision(url)
    if newer := migrate.newer_problem(revision):  # Alembic would end in "Can't locate revision"
        raise click.ClickException(newer)
    if revision is None and (theirs := migrate.tables_in_the_way(url)):
        # Another application's database (a URL one letter off): the first migration ended in a traceback, and on
        # SQLite left the tracker's first tables among theirs.
        named = ", ".join(theirs[:5]) + (f" and {len(theirs) - 5} more" if len(theirs) > 5 else "")
        raise click.ClickException(
            f"{redact(url)} holds tables of the names the tracker makes ({named}), not made by it (no tracker "
            "schema): give the tracker a database of its own (check DATABASE_URL); nothing was changed"
        )
    # Before the upgrade: said after it, the schema had moved under a deployment whose scheduler cannot start.
    writable_for(current_app, ("deliver", "sweep"))
    if revision is None:  # a new database: an anchor left by an older one is not its chain's
        from ..backup import anchor

        anchor.remove(anchor.path_for(current_app.config, current_app.instance_path))
    migrate.upgrade(url)
    click.echo(f"database at revision {migrate.current(url)}: {redact(url)}")
    with session_scope(current_app) as session:  # accounts made before names read alike were refused
        warn_of_names_alike(session)
        warn_of_lines_joining_sides(session)


def warn_of_lines_joining_sides(session) -> None:
    """Name on stderr each active line whose address joins our side and the other's as this version compares them
    (a name under a counterpart line's domain, another name of its host): saved before, it is refused at delivery
    from now on (sides.wrong_reach, wrong_mailbox), and the upgrade must not leave that unsaid."""
    from sqlalchemy import select

    from ..models import ContactChannel
    from ..services.engine import sides

    for line in session.scalars(
        select(ContactChannel).where(ContactChannel.active.is_(True)).order_by(ContactChannel.id)
    ):
        if joined := sides.crossing(session, line):
            side = "line to the other side" if line.counterpart_line else "internal line"
            click.echo(
                f"warning: {side} {line.name!r} joins the other side's: {joined['address']}. Delivery refuses our "
                "messages over such a line: give it an address of its own side (its page under Channels; "
                "`flask --app wsgi channel list` names them all)",
                err=True,
            )


@click.command("demo", short_help="Load the demo region, its logins and API tokens.")
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
    from .. import demo as demo_data
    from ..http.wiring import ack_links, filing_limits
    from ..timeutil import utcnow

    ensure_migrated(current_app)
    path = Path(current_app.instance_path) / "demo-credentials.txt"
    known = {} if fresh or not path.exists() else dict(_DEMO_LINE.findall(path.read_text()))
    try:
        with session_scope(current_app) as session:
            transports = current_app.extensions["tracker.transports"]
            tokens = demo_data.load(session, filing_limits(), utcnow(), transports, ack_links(), known)
    except TrackerError as error:
        fail(error)
    lines = [f"{name:11} password {demo_data.PASSWORD.format(name):26} token {token}" for name, token in tokens.items()]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o600)
    click.echo("Demo region loaded (Northmark / Eastland). Logins and API tokens:")
    click.echo("\n".join(lines))
    click.echo(f"(also written to {path})")


_DEMO_LINE = re.compile(r"^(\w+)\s+password \S+\s+token (\S+)$", re.MULTILINE)
