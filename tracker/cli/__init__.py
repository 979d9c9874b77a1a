"""`flask --app wsgi ...` commands: init-db, user, token, demo, sweep, scheduler, channel, audit, backup,
restore, exercise."""

import click
from flask import Flask
from flask.cli import FlaskGroup

# What `flask --app wsgi --help` says under its list of commands: which are the tracker's and what for, and
# which are Flask's own. "\b" keeps click from running the lines together.
OURS = """\
\b
The tracker's commands:
  init-db, demo        set up the database (and the demo region)
  user, token          accounts and API tokens
  channel, exercise    lines of communication, the exercise register
  sweep, scheduler     escalation and delivery: once, or until stopped
  audit                seal and check the timeline's audit chain
  backup, restore      the database and its secret key in one file
Flask's own: run (a development server only: serve with gunicorn wsgi:app), shell, routes, spec.
Each command's --help shows an example."""


def init_app(app: Flask) -> None:
    from .audit import audit_cli
    from .backup import backup, restore
    from .exercises import exercise_cli
    from .lines import channel_cli
    from .people import token_cli, user_cli
    from .running import scheduler, sweep
    from .setup import demo, init_db

    for command in (init_db, demo, sweep, scheduler, backup, restore):
        app.cli.add_command(command)
    for group in (user_cli, token_cli, channel_cli, audit_cli, exercise_cli):
        app.cli.add_command(group)
    app.cli.help = OURS  # the head of the help where the app's own group is the command (the test runner)
    describe_ours()


def describe_ours() -> None:
    """Say under the `flask` command's list which commands are the tracker's and what for. Flask writes its own
    head ("A general utility script for Flask applications") before it loads the app, which it does only to
    list the commands: the app cannot head that help, but click prints a group's epilog after its commands.
    Only the `flask` command this process runs (its root context) is told; an app built elsewhere (a web
    worker, a test) runs under none."""
    context = click.get_current_context(silent=True)
    root = context.find_root().command if context is not None else None
    if isinstance(root, FlaskGroup):
        root.epilog = OURS
