"""`flask --app wsgi user ...` and `token ...`: accounts and their API tokens."""

import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from ..db import session_scope
from ..errors import TrackerError
from ..models import Role
from .base import SchemaGroup, WholeRange, fail

user_cli = SchemaGroup(
    "user",
    help="Create and manage users.\n\n\b\nExample:\n  flask --app wsgi user create alice --role admin\n"
    "  flask --app wsgi user list",
)
token_cli = SchemaGroup(
    "token",
    help="Issue and revoke API tokens.\n\n\b\nExample:\n  flask --app wsgi token create alice --label 'desk script'\n"
    "  flask --app wsgi token list alice",
)


@user_cli.command("create", short_help="Create a user with a role.")
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
    from ..services.accounts import people

    try:
        with session_scope(current_app) as session:
            people.check_new_name(session, name)  # refused before a password is typed for it
    except TrackerError as error:
        fail(error)
    password = _read_password(password_stdin)
    try:
        with session_scope(current_app) as session:
            people.create_user(session, name, password, role, full_name, email, by=None)
    except TrackerError as error:
        fail(error)
    click.echo(f"created {role} {name}")


PART_THEM = (
    "Keep one of them: deactivate the others (`flask --app wsgi user deactivate NAME`) and give their owners new "
    "accounts under names unlike any other (`flask --app wsgi user create NEW --role ROLE`)"
)


def warn_of_names_alike(session) -> None:
    """Name on stderr each set of active users whose names read as one (people.names_alike), or look alike in two
    scripts (people.names_looking_alike), and how to part them."""
    from ..services.accounts import people

    for group in people.names_alike(session):
        click.echo(
            f"warning: users {' and '.join(repr(name) for name in group)} have names that read as one, so they share "
            f"one count of failed sign-ins: failures on either slow the other down. {PART_THEM}",
            err=True,
        )
    for group in people.names_looking_alike(session):
        click.echo(
            f"warning: users {' and '.join(ascii(name) for name in group)} have names that look alike, in letters "
            "of two scripts: a four-eyes list, a timeline or the audit shows them as one person, and one may pass "
            f"for the other. {PART_THEM}",
            err=True,
        )


def _read_password(from_stdin: bool, prompt: str = "Password") -> str:
    """A password typed twice at a hidden prompt, or the first line of standard input (a terminal there, as
    --password-stdin typed by hand is: the prompt, hidden, where the password was shown as it was typed)."""
    try:
        if from_stdin and sys.stdin.isatty():  # typed at a terminal after all: hidden, and asked for
            password = click.prompt(prompt, hide_input=True, confirmation_prompt=True)
        elif from_stdin:  # a file written on Windows ends its line with CR LF: the CR is no part of it
            password = sys.stdin.readline().rstrip("\r\n")
        else:
            password = click.prompt(prompt, hide_input=True, confirmation_prompt=True)
        password.encode("utf-8")  # bytes that are not UTF-8 are read as lone surrogates, no password to type
    except UnicodeError:
        raise click.ClickException("the password is not UTF-8 text: give it as UTF-8") from None
    return password


@user_cli.command("set-password", short_help="Give a user a new password (a forgotten one).")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the new password from standard input instead of a prompt.")
@with_appcontext
def set_password(name, password_stdin):
    """Give NAME a new password (at least 8 characters), e.g. the last admin's, forgotten: their web sessions
    end; their failed sign-ins no longer hold them back but stay on record (the reset's line in their security
    log counts them, and they are told at their next sign-in), as an admin's reset on the user's page does; their
    API tokens stay. Their security log says reset, from the command line.

    \b
    Example:
      flask --app wsgi user set-password alice
      flask --app wsgi user set-password alice --password-stdin < alice.password
    """
    from ..services.accounts import people

    try:
        with session_scope(current_app) as session:
            people.find_user(session, name)  # an unknown name is refused before a password is asked
    except TrackerError as error:
        fail(error)
    password = _read_password(password_stdin, "New password")
    try:
        with session_scope(current_app) as session:
            user = people.find_user(session, name)
            people.set_password(session, user, password, by=None)
            active = user.active
    except TrackerError as error:
        fail(error)
    click.echo(f"new password set for {name}: {people.RESET_SAID}")
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

    from ..models import User
    from ..services.accounts import people

    with session_scope(current_app) as session:
        users = session.scalars(select(User).order_by(User.username)).all()
        alike = {name: group for group in people.names_alike(session) for name in group}
        looking = {name: group for group in people.names_looking_alike(session) for name in group}
        for user in users:
            line = f"{user.username:20} {user.role.value:13} {'active' if user.active else 'inactive'}"
            if others := [repr(name) for name in alike.get(user.username, []) if name != user.username]:
                line += f"  reads as {', '.join(others)}"
            read = alike.get(user.username, [user.username])
            if others := [ascii(name) for name in looking.get(user.username, []) if name not in read]:
                line += f"  looks like {', '.join(others)}"
            click.echo(line)
        warn_of_names_alike(session)
    if not users:  # said on stderr: a script reading the list still reads an empty one
        click.echo("no users yet: create one with `flask --app wsgi user create NAME --role admin`", err=True)


@user_cli.command("deactivate", short_help="Cut a user off: sessions, tokens and feed links end.")
@click.argument("name")
@with_appcontext
def deactivate_user(name):
    """Deactivate NAME: their web sessions end and their API tokens and calendar feed links are revoked
    at once, for good (an admin can activate the account again on its page; new tokens are then needed).

    \b
    Example:
      flask --app wsgi user deactivate alice
    """
    from ..services.accounts import people

    try:
        with session_scope(current_app) as session:
            user = people.find_user(session, name)
            was_active, last_supervisor = user.active, people.last_active_supervisor(session, user)
            revoked = people.deactivate(session, user, by=None)
            admins_left = people.active_admins(session)
            was_admin = user.role is Role.ADMIN
    except TrackerError as error:
        fail(error)
    if not was_active and not revoked:  # nothing changed: said as activate says it
        click.echo(f"{name} is already inactive")
    else:
        said = f"{revoked} API token(s) and their calendar feed links revoked"
        click.echo(f"deactivated {name}: web sessions ended, {said}")
        if was_admin and was_active and not admins_left:  # the pages refuse it of an admin's own account
            click.echo(
                f"warning: {name} was the last active admin: nobody can manage accounts or lines on the pages until "
                f"`flask --app wsgi user activate {name}` or `flask --app wsgi user create NAME --role admin`",
                err=True,
            )
        if last_supervisor:
            click.echo("warning: " + people.LAST_SUPERVISOR.format(name=name), err=True)


@user_cli.command("activate", short_help="Let a deactivated user sign in again.")
@click.argument("name")
@with_appcontext
def activate_user(name):
    """Activate NAME again after a deactivation: they sign in with their password; their old API tokens
    and calendar feed links stay revoked (issue new ones with `token create`).

    \b
    Example:
      flask --app wsgi user activate alice && flask --app wsgi token create alice
    """
    from ..services.accounts import people

    try:
        with session_scope(current_app) as session:
            user = people.find_user(session, name)
            was_active = user.active
            people.reactivate(session, user, by=None)
    except TrackerError as error:
        fail(error)
    if was_active:
        click.echo(f"{name} is already active")
    else:
        click.echo(f"activated {name}: they sign in with their password; old API tokens and feed links stay revoked")
    with session_scope(current_app) as session:
        warn_of_names_alike(session)


@token_cli.command("create", short_help="Issue an API token for a user (shown once).")
@click.argument("name")
@click.option("--label", default="cli", help="What the token is for, e.g. the desk or script using it.")
@with_appcontext
def create_token(name, label):
    """Issue an API token for user NAME and print it (it is shown only this once).

    \b
    Example:
      flask --app wsgi token create alice --label 'hotline desk script' > alice.token
    """
    from ..services.accounts import people

    try:
        with session_scope(current_app) as session:
            token, text = people.create_token(session, people.find_user(session, name), label, by=None)
            token_id = token.id
    except TrackerError as error:
        fail(error)
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
    from ..services.accounts import people
    from ..timeutil import utcnow

    now = utcnow()
    try:
        with session_scope(current_app) as session:
            revoked_at = people.revoke_token(session, token_id, by=None, now=now).revoked_at
    except TrackerError as error:
        fail(error)
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
    from ..services.accounts import people

    try:
        with session_scope(current_app) as session:
            tokens = people.find_user(session, name).tokens
            for token in tokens:
                state = f"revoked {token.revoked_at:%Y-%m-%d %H:%MZ}" if token.revoked_at else "active"
                click.echo(f"{token.id:5} {token.prefix}...  {token.name:30} {state}")
    except TrackerError as error:
        fail(error)
    if not tokens:
        click.echo(f"{name} has no API tokens: issue one with `flask --app wsgi token create {name}`", err=True)
