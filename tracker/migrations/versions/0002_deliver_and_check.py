"""Delivery attempts and dead letters, channel checks and health, fallbacks, one-time links.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

import tracker.models.base

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

UTC = tracker.models.base.UTCDateTime(timezone=True)
KINDS_0001 = ("notified", "escalated", "exhausted")
KINDS = ("notified", "escalated", "acknowledged", "resolved", "exhausted", "dead_letter")
STATUSES_0001 = ("pending", "sending", "sent", "failed", "cancelled")
STATUSES = ("pending", "sending", "sent", "dead", "cancelled")
EVENTS_0001 = ("filed", "routed", "notified", "escalated", "acknowledged", "commented", "resolved", "exhausted")
EVENTS = (*EVENTS_0001, "dead_lettered", "fallback")


def _enum(name, values):
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def _in(column, values):
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    op.create_table(
        "link_uses",
        sa.Column("link_id", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("used_at", UTC, nullable=False),
        sa.Column("used_by", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("link_id", name=op.f("pk_link_uses")),
    )
    op.create_table(
        "channel_checks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("requested_by", sa.String(length=80), nullable=False),
        sa.Column("sent_at", UTC, nullable=False),
        sa.Column("due_by", UTC, nullable=False),
        sa.Column("outcome", _enum("checkoutcome", ("pending", "ok", "failed")), nullable=False),
        sa.Column("decided_at", UTC, nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("health_after", _enum("channelhealth", ("ok", "degraded", "down")), nullable=True),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["contact_channels.id"],
            name=op.f("fk_channel_checks_channel_id_contact_channels"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel_checks")),
    )
    op.create_index(op.f("ix_channel_checks_channel_id"), "channel_checks", ["channel_id"])
    op.create_index(
        "ix_channel_checks_open",
        "channel_checks",
        ["due_by"],
        sqlite_where=sa.text("outcome = 'pending'"),
        postgresql_where=sa.text("outcome = 'pending'"),
    )
    op.create_table(
        "delivery_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notification_id", sa.Integer(), nullable=False),
        sa.Column("at", UTC, nullable=False),
        sa.Column("transport", sa.String(length=32), nullable=False),
        sa.Column("outcome", _enum("attemptoutcome", ("sent", "transient", "permanent")), nullable=False),
        sa.Column("response_code", sa.String(length=16), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("latency_ms", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["notification_id"], ["notifications.id"], name=op.f("fk_delivery_attempts_notification_id_notifications")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_attempts")),
    )
    op.create_index(op.f("ix_delivery_attempts_notification_id"), "delivery_attempts", ["notification_id"])

    with op.batch_alter_table("contact_channels") as batch:
        batch.add_column(sa.Column("secret", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("check_interval_seconds", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("check_cron", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("check_window_seconds", sa.Integer(), nullable=False, server_default="900"))
        batch.add_column(sa.Column("next_check_at", UTC, nullable=True))
        batch.add_column(
            sa.Column("health", _enum("channelhealth", ("ok", "degraded", "down")), nullable=False, server_default="ok")
        )
        batch.add_column(sa.Column("consecutive_failures", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("last_check_at", UTC, nullable=True))
        batch.add_column(sa.Column("last_check_ok_at", UTC, nullable=True))
        batch.create_index(batch.f("ix_contact_channels_next_check_at"), ["next_check_at"])

    with op.batch_alter_table("policy_steps") as batch:
        batch.add_column(sa.Column("fallback_channel_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            batch.f("fk_policy_steps_fallback_channel_id_contact_channels"),
            "contact_channels",
            ["fallback_channel_id"],
            ["id"],
            ondelete="SET NULL",
        )

    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("acknowledged_by_label", sa.String(length=255), nullable=True))
    op.execute(
        "UPDATE incidents SET acknowledged_by_label = "
        "(SELECT username FROM users WHERE users.id = incidents.acknowledged_by_id) "
        "WHERE acknowledged_by_id IS NOT NULL"
    )

    _replace_checks(STATUSES, KINDS, EVENTS, ("failed", "dead"))
    with op.batch_alter_table("notifications") as batch:
        batch.drop_constraint(op.f("uq_notifications_incident_id_step_loop_channel_id"), type_="unique")
        batch.drop_index("uq_notifications_user_message")
        batch.create_unique_constraint(
            batch.f("uq_notifications_incident_id_kind_step_loop_channel_id"),
            ["incident_id", "kind", "step", "loop", "channel_id"],
        )
        batch.create_index(
            "uq_notifications_user_message",
            ["incident_id", "kind", "step", "loop", "user_id"],
            unique=True,
            sqlite_where=sa.text("user_id IS NOT NULL"),
            postgresql_where=sa.text("user_id IS NOT NULL"),
        )


def _replace_checks(statuses, kinds, events, rename) -> None:
    """Swap the CHECK constraints of the enums whose values changed (portable: drop, update, add)."""
    old, new = rename
    for table, name in (
        ("notifications", "ck_notifications_notificationstatus"),
        ("notifications", "ck_notifications_notificationkind"),
        ("timeline_events", "ck_timeline_events_eventkind"),
    ):
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(op.f(name), type_="check")
    op.execute(f"UPDATE notifications SET status = '{new}' WHERE status = '{old}'")
    with op.batch_alter_table("notifications") as batch:
        batch.create_check_constraint("notificationstatus", sa.text(_in("status", statuses)))
        batch.create_check_constraint("notificationkind", sa.text(_in("kind", kinds)))
    with op.batch_alter_table("timeline_events") as batch:
        batch.create_check_constraint("eventkind", sa.text(_in("kind", events)))
    _restore_sqlite_triggers()


def _restore_sqlite_triggers() -> None:
    """SQLite's batch mode rebuilds timeline_events, which drops its append-only triggers."""
    if op.get_bind().dialect.name != "sqlite":
        return
    for action in ("UPDATE", "DELETE"):
        op.execute(f"DROP TRIGGER IF EXISTS timeline_events_no_{action.lower()}")
        op.execute(
            f"CREATE TRIGGER timeline_events_no_{action.lower()} BEFORE {action} ON timeline_events "
            "BEGIN SELECT RAISE(ABORT, 'timeline_events is append-only'); END"
        )


def downgrade() -> None:
    with op.batch_alter_table("notifications") as batch:
        batch.drop_index("uq_notifications_user_message")
        batch.drop_constraint(op.f("uq_notifications_incident_id_kind_step_loop_channel_id"), type_="unique")
    op.execute(f"DELETE FROM notifications WHERE {_in('kind', set(KINDS) - set(KINDS_0001))}")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS timeline_events_no_delete")
    else:
        op.execute("ALTER TABLE timeline_events DISABLE TRIGGER timeline_events_append_only")
    op.execute(f"DELETE FROM timeline_events WHERE {_in('kind', set(EVENTS) - set(EVENTS_0001))}")
    if op.get_bind().dialect.name != "sqlite":
        op.execute("ALTER TABLE timeline_events ENABLE TRIGGER timeline_events_append_only")
    op.drop_table("delivery_attempts")
    _replace_checks(STATUSES_0001, KINDS_0001, EVENTS_0001, ("dead", "failed"))
    with op.batch_alter_table("notifications") as batch:
        batch.create_unique_constraint(
            op.f("uq_notifications_incident_id_step_loop_channel_id"), ["incident_id", "step", "loop", "channel_id"]
        )
        batch.create_index(
            "uq_notifications_user_message",
            ["incident_id", "kind", "user_id"],
            unique=True,
            sqlite_where=sa.text("user_id IS NOT NULL"),
            postgresql_where=sa.text("user_id IS NOT NULL"),
        )
    with op.batch_alter_table("incidents") as batch:
        batch.drop_column("acknowledged_by_label")
    with op.batch_alter_table("policy_steps") as batch:
        batch.drop_constraint(op.f("fk_policy_steps_fallback_channel_id_contact_channels"), type_="foreignkey")
        batch.drop_column("fallback_channel_id")
    with op.batch_alter_table("contact_channels") as batch:
        batch.drop_index("ix_contact_channels_next_check_at")
        batch.drop_constraint(op.f("ck_contact_channels_channelhealth"), type_="check")
        for column in (
            "last_check_ok_at",
            "last_check_at",
            "consecutive_failures",
            "health",
            "next_check_at",
            "check_window_seconds",
            "check_cron",
            "check_interval_seconds",
            "secret",
        ):
            batch.drop_column(column)
    op.drop_table("channel_checks")
    op.drop_table("link_uses")
