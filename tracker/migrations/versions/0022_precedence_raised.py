"""A message of a new kind: the lines called on an incident's current step are told when an amendment
raises its precedence (notification kind "upgraded"), as they were told its deadline, which the raise
brings forward.

Nothing existing changes: the CHECK constraint of the notification kinds takes one more value. A
downgrade deletes the messages of that kind (and their delivery attempts); the amendments' timeline
events keep whom they told.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

KINDS_0021 = (
    "notified",
    "escalated",
    "acknowledged",
    "resolved",
    "exhausted",
    "dead_letter",
    "counterpart",
    "exchange_overdue",
    "watchdog",
    "receipt_overdue",
    "action_overdue",
    "idle_reminder",
    "decision_asked",
)
NEW_KIND = "upgraded"


def upgrade() -> None:
    _replace_check((*KINDS_0021, NEW_KIND))


def downgrade() -> None:
    op.execute(
        "DELETE FROM delivery_attempts WHERE notification_id IN "
        f"(SELECT id FROM notifications WHERE kind = '{NEW_KIND}')"
    )
    op.execute(f"DELETE FROM notifications WHERE kind = '{NEW_KIND}'")
    _replace_check(KINDS_0021)


def _replace_check(kinds) -> None:
    """Swap the CHECK constraint of the notification kinds (portable: drop, add; SQLite's batch mode
    rebuilds the table, which drops its triggers: they are put back)."""
    triggers = _sqlite_triggers("notifications")
    with op.batch_alter_table("notifications") as batch:
        batch.drop_constraint(op.f("ck_notifications_notificationkind"), type_="check")
    with op.batch_alter_table("notifications") as batch:
        batch.create_check_constraint("notificationkind", sa.text(f"kind IN ({', '.join(repr(k) for k in kinds)})"))
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
