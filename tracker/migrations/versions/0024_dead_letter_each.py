"""The supervisors hear of each line a step gave up on, not only of the first: a DEAD LETTER message names
the message given up on (notifications.about_id), and is unique per supervisor and such message instead
of per supervisor, step and round.

Nothing existing changes: the supervisors' other messages keep their one-per-step-and-round index, which
now leaves out the dead letters that name a message. A downgrade keeps the first dead letter of each
supervisor, step and round (and deletes the others with their delivery attempts), as the old index asks.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

PER_STEP = ["incident_id", "kind", "step", "loop", "user_id"]


def upgrade() -> None:
    triggers = _sqlite_triggers("notifications")
    with op.batch_alter_table("notifications") as batch:
        batch.add_column(sa.Column("about_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            batch.f("fk_notifications_about_id_notifications"), "notifications", ["about_id"], ["id"]
        )
        batch.drop_index("uq_notifications_user_message")
        batch.create_index(
            "uq_notifications_user_message",
            PER_STEP,
            unique=True,
            sqlite_where=sa.text("user_id IS NOT NULL AND about_id IS NULL"),
            postgresql_where=sa.text("user_id IS NOT NULL AND about_id IS NULL"),
        )
        batch.create_index(
            "uq_notifications_user_about",
            ["about_id", "user_id"],
            unique=True,
            sqlite_where=sa.text("about_id IS NOT NULL"),
            postgresql_where=sa.text("about_id IS NOT NULL"),
        )
    _restore(triggers)


def downgrade() -> None:
    later = (
        "SELECT later.id FROM notifications later JOIN notifications first"
        " ON first.incident_id = later.incident_id AND first.kind = later.kind AND first.step = later.step"
        " AND first.loop = later.loop AND first.user_id = later.user_id AND first.id < later.id"
        " WHERE later.user_id IS NOT NULL"
    )
    op.execute(f"DELETE FROM delivery_attempts WHERE notification_id IN ({later})")
    op.execute(f"DELETE FROM notifications WHERE id IN (SELECT id FROM ({later}) AS doubled)")
    triggers = _sqlite_triggers("notifications")
    with op.batch_alter_table("notifications") as batch:
        batch.drop_index("uq_notifications_user_about")
        batch.drop_index("uq_notifications_user_message")
        batch.drop_constraint(batch.f("fk_notifications_about_id_notifications"), type_="foreignkey")
        batch.drop_column("about_id")
        batch.create_index(
            "uq_notifications_user_message",
            PER_STEP,
            unique=True,
            sqlite_where=sa.text("user_id IS NOT NULL"),
            postgresql_where=sa.text("user_id IS NOT NULL"),
        )
    _restore(triggers)


def _restore(triggers) -> None:
    """Put back the triggers SQLite's batch mode dropped when it rebuilt the table."""
    for name, sql in triggers:
        op.execute(f'DROP TRIGGER IF EXISTS "{name}"')
        op.execute(sql)


def _sqlite_triggers(*tables) -> list[tuple[str, str]]:
    """The triggers on tables: name and SQL (none outside SQLite, where altering keeps them)."""
    if op.get_bind().dialect.name != "sqlite":
        return []
    rows = op.get_bind().execute(
        sa.text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN :tables").bindparams(
            sa.bindparam("tables", expanding=True)
        ),
        {"tables": list(tables)},
    )
    return [(name, sql) for name, sql in rows]
