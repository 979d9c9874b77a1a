"""`flask --app wsgi channel ...`: look after the lines of communication."""

import click
from flask import current_app
from flask.cli import with_appcontext

from ..db import session_scope
from ..errors import TrackerError
from .base import SchemaGroup, fail, real_app

channel_cli = SchemaGroup(
    "channel",
    help="Look after the lines of communication.\n\n\b\nExample:\n  flask --app wsgi channel list\n"
    "  flask --app wsgi channel test 'Duty desk'",
)


@channel_cli.command("test", short_help="Send a communications check on a line now.")
@click.argument("name")
@with_appcontext
def test_channel(name):
    """Send a communications check on channel NAME now (confirm it from the message); exit 1 when it cannot be
    sent.

    \b
    Example:
      flask --app wsgi channel list
      flask --app wsgi channel test 'L1 National Operations Centre'
    """
    from sqlalchemy import select

    from .. import dispatch
    from ..models import ChannelCheck, CheckOutcome, ContactChannel

    with session_scope(current_app) as session:
        channel_id = session.scalar(select(ContactChannel.id).where(ContactChannel.name == name))
    if channel_id is None:
        raise click.ClickException(f"no channel {name!r} (see `flask --app wsgi channel list`)")
    try:
        check_id = dispatch.send_check(real_app(), channel_id, "cli")
    except TrackerError as error:
        fail(error)
    with session_scope(current_app) as session:
        check = session.get_one(ChannelCheck, check_id)
        if check.outcome == CheckOutcome.FAILED:  # never sent: nothing to confirm, and the test did not pass
            health = session.get_one(ContactChannel, channel_id).health.value
            raise click.ClickException(f"check {check.id} of {name} failed: {check.detail}; the line is now {health}")
        state = check.outcome.value if check.detail is None else f"{check.outcome.value}: {check.detail}"
        click.echo(f"check {check.id} of {name}: {state}; confirm by {check.due_by:%Y-%m-%d %H:%MZ}")


@channel_cli.command("list", short_help="List the lines with their level, transport and health.")
@with_appcontext
def list_channels():
    """List the channels with their ladder level, transport, health and last good check.

    \b
    Example:
      flask --app wsgi channel list
    """
    from sqlalchemy import select

    from ..models import ContactChannel

    with session_scope(current_app) as session:
        channels = session.scalars(select(ContactChannel).order_by(ContactChannel.level, ContactChannel.name)).all()
        for c in channels:
            last = f"{c.last_check_ok_at:%Y-%m-%d %H:%MZ}" if c.last_check_ok_at else "never"
            untested = c.last_check_at is None and c.health.value == "ok"  # never checked: not known to work
            state = "inactive" if not c.active else "untested" if untested else c.health.value
            click.echo(f"L{c.level} {c.name:40} {c.transport:8} {state:9} last good check {last}")
    if not channels:
        click.echo("no channels yet: an admin adds them on the Channels page (/admin/channels)", err=True)
