"""The watchdog: incidents the sweep left behind raise an alert once per missed deadline.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

import tracker.models.base

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

KINDS_0007 = (
    "notified",
    "escalated",
    "acknowledged",
    "resolved",
    "exhausted",
    "dead_letter",
    "counterpart",
    "exchange_overdue",
)
KINDS = (*KINDS_0007, "watchdog")
EVENTS_0007 = (
    "filed",
    "routed",
    "notified",
    "escalated",
    "acknowledged",
    "commented",
    "resolved",
    "exhausted",
    "dead_lettered",
    "fallback",
    "exercise_linked",
    "no_notice",
    "releasability_changed",
    "exchange_opened",
    "exchange_changed",
    "exchange_overdue",
    "exchange_message",
    "summary_drafted",
    "summary_approved",
    "related_suggested",
    "related_confirmed",
    "related_dismissed",
)
EVENTS = (*EVENTS_0007, "watchdog_alert")


def _in(column, values):
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _replace_checks(kinds, events) -> None:
    """Swap the CHECK constraints of the notification and event kinds (portable: drop, add), as 0005 does."""
    triggers = _sqlite_triggers("notifications", "timeline_events")
    with op.batch_alter_table("notifications") as batch:
        batch.drop_constraint(op.f("ck_notifications_notificationkind"), type_="check")
    with op.batch_alter_table("notifications") as batch:
        batch.create_check_constraint("notificationkind", sa.text(_in("kind", kinds)))
    with op.batch_alter_table("timeline_events") as batch:
        batch.drop_constraint(op.f("ck_timeline_events_eventkind"), type_="check")
    with op.batch_alter_table("timeline_events") as batch:
        batch.create_check_constraint("eventkind", sa.text(_in("kind", events)))
    _restore_sqlite_triggers(triggers)


def _sqlite_triggers(*tables) -> list[tuple[str, str]]:
    """The triggers on tables (SQLite's batch mode rebuilds a table, which drops them): name and SQL."""
    if op.get_bind().dialect.name != "sqlite":
        return []
    rows = op.get_bind().execute(
        sa.text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN :tables").bindparams(
            sa.bindparam("tables", expanding=True)
        ),
        {"tables": list(tables)},
    )
    return [(name, sql) for name, sql in rows]


def _restore_sqlite_triggers(triggers: list[tuple[str, str]]) -> None:
    """Recreate the triggers read before the rebuild (the append-only timeline's, and any other)."""
    for name, sql in triggers:
        op.execute(f'DROP TRIGGER IF EXISTS "{name}"')
        op.execute(sql)


def upgrade() -> None:
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("watchdog_deadline_at", tracker.models.base.UTCDateTime(timezone=True), nullable=True)
        )
    _replace_checks(KINDS, EVENTS)


def downgrade() -> None:
    bind = op.get_bind()
    alerts = bind.scalar(sa.text("SELECT count(*) FROM timeline_events WHERE kind = 'watchdog_alert'"))
    if alerts:
        # The timeline is append-only and sealed (0006): deleting events would break the audit chain.
        raise RuntimeError(
            f"cannot downgrade below 0008: {alerts} watchdog_alert events are on the append-only timeline"
        )
    op.execute(
        "DELETE FROM delivery_attempts WHERE notification_id IN (SELECT id FROM notifications WHERE kind = 'watchdog')"
    )
    op.execute("DELETE FROM notifications WHERE kind = 'watchdog'")
    _replace_checks(KINDS_0007, EVENTS_0007)
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_column("watchdog_deadline_at")
