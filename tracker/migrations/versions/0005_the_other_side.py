"""Exchanges with the other side, summaries, exercise notices, related incidents, releasability.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

import tracker.models.base

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

KINDS_0004 = ("notified", "escalated", "acknowledged", "resolved", "exhausted", "dead_letter")
KINDS = (*KINDS_0004, "counterpart", "exchange_overdue")
EVENTS_0004 = (
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
)
EVENTS = (
    *EVENTS_0004,
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


def _in(column, values):
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _replace_checks(kinds, events) -> None:
    """Swap the CHECK constraints of the notification and event kinds (portable: drop, add)."""
    with op.batch_alter_table("notifications") as batch:
        batch.drop_constraint(op.f("ck_notifications_notificationkind"), type_="check")
    with op.batch_alter_table("notifications") as batch:
        batch.create_check_constraint("notificationkind", sa.text(_in("kind", kinds)))
    with op.batch_alter_table("timeline_events") as batch:
        batch.drop_constraint(op.f("ck_timeline_events_eventkind"), type_="check")
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


def upgrade() -> None:
    op.create_table(
        "exercises",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("states", sa.JSON(), nullable=False),
        sa.Column("starts_at", tracker.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", tracker.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("area", sa.JSON(), nullable=True),
        sa.Column("centre_latitude", sa.Float(), nullable=True),
        sa.Column("centre_longitude", sa.Float(), nullable=True),
        sa.Column("radius_km", sa.Float(), nullable=True),
        sa.Column("declared_size", sa.Integer(), nullable=True),
        sa.Column(
            "notified_via",
            sa.Enum(
                "vienna_document",
                "bilateral_briefing",
                "voluntary_briefing",
                name="notifiedvia",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("notified_at", tracker.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("created_at", tracker.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exercises")),
    )
    with op.batch_alter_table("exercises", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_exercises_ends_at"), ["ends_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_exercises_starts_at"), ["starts_at"], unique=False)

    op.create_table(
        "exchanges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "notified",
                "receipt_confirmed",
                "explanation_requested",
                "reply_received",
                "overdue",
                "meeting_requested",
                "meeting_held",
                "refused",
                "no_answer",
                "closed",
                name="exchangestate",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("opened_at", tracker.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("opened_by_id", sa.Integer(), nullable=True),
        sa.Column("reply_seconds", sa.Integer(), nullable=False),
        sa.Column("meeting_seconds", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("deadline_at", tracker.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("deadline_kind", sa.String(length=16), nullable=True),
        sa.Column("overdue_count", sa.Integer(), nullable=False),
        sa.Column("state_changed_at", tracker.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", tracker.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"], ["contact_channels.id"], name=op.f("fk_exchanges_channel_id_contact_channels")
        ),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"], name=op.f("fk_exchanges_incident_id_incidents")),
        sa.ForeignKeyConstraint(["opened_by_id"], ["users.id"], name=op.f("fk_exchanges_opened_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchanges")),
    )
    with op.batch_alter_table("exchanges", schema=None) as batch_op:
        batch_op.create_index(
            "ix_exchanges_due",
            ["deadline_at"],
            unique=False,
            sqlite_where=sa.text("deadline_at IS NOT NULL"),
            postgresql_where=sa.text("deadline_at IS NOT NULL"),
        )
        batch_op.create_index(batch_op.f("ix_exchanges_incident_id"), ["incident_id"], unique=False)

    op.create_table(
        "incident_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("related_id", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "suggested",
                "confirmed",
                "dismissed",
                name="linkstate",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("distance_km", sa.Float(), nullable=True),
        sa.Column("hours_apart", sa.Float(), nullable=False),
        sa.Column("suggested_at", tracker.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_at", tracker.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=80), nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name=op.f("fk_incident_links_incident_id_incidents")
        ),
        sa.ForeignKeyConstraint(["related_id"], ["incidents.id"], name=op.f("fk_incident_links_related_id_incidents")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_links")),
        sa.UniqueConstraint("incident_id", "related_id", name=op.f("uq_incident_links_incident_id_related_id")),
    )
    with op.batch_alter_table("incident_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_incident_links_incident_id"), ["incident_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_incident_links_related_id"), ["related_id"], unique=False)

    op.create_table(
        "exchange_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("exchange_id", sa.Integer(), nullable=False),
        sa.Column(
            "direction",
            sa.Enum("out", "in", name="messagedirection", native_enum=False, create_constraint=True, length=32),
            nullable=False,
        ),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("text_second", sa.Text(), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("at", tracker.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("recorded_by", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"], ["contact_channels.id"], name=op.f("fk_exchange_messages_channel_id_contact_channels")
        ),
        sa.ForeignKeyConstraint(
            ["exchange_id"], ["exchanges.id"], name=op.f("fk_exchange_messages_exchange_id_exchanges")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_messages")),
    )
    with op.batch_alter_table("exchange_messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_exchange_messages_exchange_id"), ["exchange_id"], unique=False)

    op.create_table(
        "summaries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("exchange_id", sa.Integer(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "draft", "approved", "sent", name="summarystatus", native_enum=False, create_constraint=True, length=32
            ),
            nullable=False,
        ),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("text_second", sa.Text(), nullable=True),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("drafted_at", tracker.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("drafted_by", sa.String(length=80), nullable=False),
        sa.Column("updated_at", tracker.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("approved_at", tracker.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("approved_by", sa.String(length=80), nullable=True),
        sa.Column("sent_at", tracker.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["exchange_id"], ["exchanges.id"], name=op.f("fk_summaries_exchange_id_exchanges")),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"], name=op.f("fk_summaries_incident_id_incidents")),
        sa.ForeignKeyConstraint(
            ["message_id"], ["exchange_messages.id"], name=op.f("fk_summaries_message_id_exchange_messages")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_summaries")),
    )
    with op.batch_alter_table("summaries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_summaries_incident_id"), ["incident_id"], unique=False)

    with op.batch_alter_table("contact_channels", schema=None) as batch_op:
        batch_op.add_column(sa.Column("counterpart_line", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("reply_deadline_seconds", sa.Integer(), nullable=False, server_default="172800"))
        batch_op.add_column(
            sa.Column("meeting_deadline_seconds", sa.Integer(), nullable=False, server_default="172800")
        )
        batch_op.add_column(sa.Column("language", sa.String(length=8), nullable=True))

    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("releasability", sa.JSON(), nullable=False, server_default="{}"))
        batch_op.add_column(sa.Column("exercise_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("no_notice", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_index(batch_op.f("ix_incidents_exercise_id"), ["exercise_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_incidents_exercise_id_exercises"), "exercises", ["exercise_id"], ["id"], ondelete="SET NULL"
        )

    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("exchange_message_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_notifications_exchange_message_id_exchange_messages"),
            "exchange_messages",
            ["exchange_message_id"],
            ["id"],
        )

    _replace_checks(KINDS, EVENTS)


def downgrade() -> None:
    newer = _in("kind", sorted(set(KINDS) - set(KINDS_0004)))
    op.execute(f"DELETE FROM delivery_attempts WHERE notification_id IN (SELECT id FROM notifications WHERE {newer})")
    op.execute(f"DELETE FROM notifications WHERE {newer}")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS timeline_events_no_delete")
    else:
        op.execute("ALTER TABLE timeline_events DISABLE TRIGGER timeline_events_append_only")
    op.execute(f"DELETE FROM timeline_events WHERE {_in('kind', set(EVENTS) - set(EVENTS_0004))}")
    if op.get_bind().dialect.name != "sqlite":
        op.execute("ALTER TABLE timeline_events ENABLE TRIGGER timeline_events_append_only")
    _replace_checks(KINDS_0004, EVENTS_0004)
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_notifications_exchange_message_id_exchange_messages"), type_="foreignkey"
        )
        batch_op.drop_column("exchange_message_id")

    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_incidents_exercise_id_exercises"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_incidents_exercise_id"))
        batch_op.drop_column("no_notice")
        batch_op.drop_column("exercise_id")
        batch_op.drop_column("releasability")

    with op.batch_alter_table("contact_channels", schema=None) as batch_op:
        batch_op.drop_column("language")
        batch_op.drop_column("meeting_deadline_seconds")
        batch_op.drop_column("reply_deadline_seconds")
        batch_op.drop_column("counterpart_line")

    with op.batch_alter_table("summaries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_summaries_incident_id"))

    op.drop_table("summaries")
    with op.batch_alter_table("exchange_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exchange_messages_exchange_id"))

    op.drop_table("exchange_messages")
    with op.batch_alter_table("incident_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incident_links_related_id"))
        batch_op.drop_index(batch_op.f("ix_incident_links_incident_id"))

    op.drop_table("incident_links")
    with op.batch_alter_table("exchanges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exchanges_incident_id"))
        batch_op.drop_index(
            "ix_exchanges_due",
            sqlite_where=sa.text("deadline_at IS NOT NULL"),
            postgresql_where=sa.text("deadline_at IS NOT NULL"),
        )

    op.drop_table("exchanges")
    with op.batch_alter_table("exercises", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exercises_starts_at"))
        batch_op.drop_index(batch_op.f("ix_exercises_ends_at"))

    op.drop_table("exercises")
