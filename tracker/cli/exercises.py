"""`flask --app wsgi exercise ...`: import notified exercises from a CSV file, list the register."""

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from ..db import session_scope
from ..errors import ValidationError
from ..services.exercises import checks, csv_import, register, vienna, vienna_rules
from ..timeutil import isoformat, utcnow
from .base import SchemaGroup

exercise_cli = SchemaGroup(
    "exercise",
    help="The register of notified exercises.\n\n\b\nExample:\n  flask --app wsgi exercise import exercises.csv\n"
    "  flask --app wsgi exercise list --when all",
)


def _problems(error: ValidationError) -> str:
    """The error and each bad row (or field) on a line of its own, in plain words."""
    lines = [error.message]
    for where, detail in error.details.items():
        if isinstance(detail, dict):
            detail = "; ".join(f"{field}: {problem}" for field, problem in detail.items())
        lines.append(f"  {where}: {detail}")
    return "\n".join(lines)


@exercise_cli.command("import", short_help="Import exercises from a CSV file (every row, or none).")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def import_file(path):
    """Import the exercises in CSV file PATH: every row, or none (columns: config/exercises.sample.csv).

    \b
    Example:
      flask --app wsgi exercise import config/exercises.sample.csv
    """
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise click.ClickException(f"{path} is not UTF-8 text") from None
    try:
        with session_scope(current_app) as session:
            created = csv_import.import_csv(session, text, "cli", utcnow(), current_app.config["NO_NOTICE_BORDER_KM"])
            names = [f"{e.id:5}  {e.name}" for e in created]
    except ValidationError as error:
        raise click.ClickException(_problems(error)) from None
    click.echo(f"imported {len(names)} exercises:")
    click.echo("\n".join(names))


@exercise_cli.command("list", short_help="List the notified exercises and their Vienna Document flags.")
@click.option(
    "--when",
    type=click.Choice(register.WHEN),
    default="current",
    show_default=True,
    help="current: running or upcoming",
)
@with_appcontext
def list_exercises(when):
    """List notified exercises: id, status, start and end (UTC), name, states, how and when notified, and the
    Vienna Document flags with their paragraphs.

    \b
    Example:
      flask --app wsgi exercise list --when all
    """
    now = utcnow()
    rules = vienna_rules.rules_from(current_app.config["VIENNA_DOCUMENT"])
    with session_scope(current_app) as session:
        exercises = register.list_exercises(session, now, when)
        found = checks.check_all(session, exercises, rules)
        for e in exercises:
            flags = "; ".join(f"{c.label} (para. {c.paragraph})" for c in vienna.flags(found[e.id]))
            told = vienna.notification_time(vienna.notice_of(e))
            when = f" {isoformat(told)}" if told is not None else " (no notification on record)"
            click.echo(
                f"{e.id:5} {register.status_of(e, now):8} {e.starts_at:%Y-%m-%d %H:%M}Z - {e.ends_at:%Y-%m-%d %H:%M}Z "
                f"{e.name:30} {', '.join(e.states):24} {e.notified_via.value}{when}"
                + (" ours" if e.ours else "")
                + (f"  ⚑ {flags}" if flags else "")
            )
    if not exercises:
        more = "" if when == "all" else f" {when}; `--when all` lists every one"
        click.echo(f"no exercises{more}", err=True)
