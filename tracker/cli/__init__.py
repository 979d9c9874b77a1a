"""`flask --app wsgi ...` commands: init-db, user, token, demo, sweep, scheduler, channel, audit, backup,
restore, exercise."""

from flask import Flask


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
