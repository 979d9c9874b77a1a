"""The desk's day: amendments (closest point of approach units, observed forces), the basis of a
border distance, decision steps and the acknowledgement timeout on incidents, Vienna Document
figures on exercises and a register of our own briefings, and the watch log with its handovers.

Existing data stays valid: every new column is empty or false, no step becomes a decision step, and
acknowledged incidents are looked at by the next sweep (idle_check_at = now), which measures their
idleness from their last timeline activity.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import tracker.models.base

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

KINDS_0012 = (
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
)
NEW_KINDS = ("idle_reminder", "decision_asked")
KINDS = (*KINDS_0012, *NEW_KINDS)
EVENTS_0012 = (
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
    "watchdog_alert",
    "call_logged",
    "action_done",
    "action_overdue",
    "receipt_recorded",
    "receipt_overdue",
    "message_drafted",
    "message_approved",
    "marking_changed",
)
NEW_EVENTS = ("amended", "idle_reminded", "idle_reescalated", "decision_asked", "decision_confirmed")
EVENTS = (*EVENTS_0012, *NEW_EVENTS)


def _in(column, values):
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _replace_checks(kinds, events) -> None:
    """Swap the CHECK constraints of the notification and event kinds (portable: drop, add), as 0012 does."""
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
    for name, sql in triggers:
        op.execute(f'DROP TRIGGER IF EXISTS "{name}"')
        op.execute(sql)


def _refuse_downgrade_over_new_events() -> None:
    found = op.get_bind().scalar(sa.text(f"SELECT count(*) FROM timeline_events WHERE {_in('kind', NEW_EVENTS)}"))
    if found:
        # The timeline is append-only and sealed (0006): deleting events would break the audit chain.
        raise RuntimeError(f"cannot downgrade below 0013: {found} events of its kinds are on the append-only timeline")


def upgrade() -> None:
    op.create_table(
        "exercise_briefings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("exercise_id", sa.Integer(), nullable=False),
        sa.Column("briefed_at", tracker.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("briefed_to", sa.String(length=200), nullable=False),
        sa.Column(
            "via",
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
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(length=80), nullable=False),
        sa.Column("recorded_at", tracker.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["exercise_id"],
            ["exercises.id"],
            name=op.f("fk_exercise_briefings_exercise_id_exercises"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exercise_briefings")),
    )
    with op.batch_alter_table("exercise_briefings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_exercise_briefings_exercise_id"), ["exercise_id"], unique=False)

    op.create_table(
        "watches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("desk", sa.String(length=120), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", tracker.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", tracker.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", tracker.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["officer_id"], ["users.id"], name=op.f("fk_watches_officer_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_watches")),
    )
    with op.batch_alter_table("watches", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_watches_officer_id"), ["officer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_watches_starts_at"), ["starts_at"], unique=False)

    op.create_table(
        "handovers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("from_watch_id", sa.Integer(), nullable=False),
        sa.Column("to_watch_id", sa.Integer(), nullable=True),
        sa.Column("outgoing_officer_id", sa.Integer(), nullable=False),
        sa.Column("incoming_officer_id", sa.Integer(), nullable=False),
        sa.Column("prepared_at", tracker.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("since", tracker.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("brief", sa.JSON(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("signed_at", tracker.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["from_watch_id"], ["watches.id"], name=op.f("fk_handovers_from_watch_id_watches")),
        sa.ForeignKeyConstraint(
            ["incoming_officer_id"], ["users.id"], name=op.f("fk_handovers_incoming_officer_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["outgoing_officer_id"], ["users.id"], name=op.f("fk_handovers_outgoing_officer_id_users")
        ),
        sa.ForeignKeyConstraint(["to_watch_id"], ["watches.id"], name=op.f("fk_handovers_to_watch_id_watches")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handovers")),
    )
    with op.batch_alter_table("handovers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_handovers_from_watch_id"), ["from_watch_id"], unique=False)

    op.create_table(
        "watch_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("watch_id", sa.Integer(), nullable=False),
        sa.Column("at", tracker.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("author", sa.String(length=80), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name=op.f("fk_watch_entries_incident_id_incidents"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(["watch_id"], ["watches.id"], name=op.f("fk_watch_entries_watch_id_watches")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_watch_entries")),
    )
    with op.batch_alter_table("watch_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_watch_entries_incident_id"), ["incident_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_watch_entries_watch_id"), ["watch_id"], unique=False)

    with op.batch_alter_table("exercises", schema=None) as batch_op:
        batch_op.add_column(sa.Column("battle_tanks", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("armoured_combat_vehicles", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("artillery_pieces", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("airborne_troops", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("aircraft_sorties", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("notified_by", sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column("notified_to", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("snap", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("ours", sa.Boolean(), nullable=False, server_default=sa.false()))

    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("border_basis", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("cpa_horizontal_unit", sa.String(length=4), nullable=True))
        batch_op.add_column(sa.Column("cpa_vertical_unit", sa.String(length=4), nullable=True))
        batch_op.add_column(sa.Column("observed_forces", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("decision_step", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("decision_asked_at", tracker.models.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("decision_asks", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("idle_check_at", tracker.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("idle_stage", sa.Integer(), nullable=False, server_default="0"))
        batch_op.create_index(
            "ix_incidents_idle",
            ["idle_check_at"],
            unique=False,
            sqlite_where=sa.text("status = 'acknowledged'"),
            postgresql_where=sa.text("status = 'acknowledged'"),
        )

    with op.batch_alter_table("policy_steps", schema=None) as batch_op:
        batch_op.add_column(sa.Column("by_decision", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.get_bind().execute(
        sa.text("UPDATE incidents SET idle_check_at = :now WHERE status = 'acknowledged'").bindparams(
            sa.bindparam("now", datetime.now(UTC), type_=tracker.models.base.UTCDateTime(timezone=True))
        )
    )
    _replace_checks(KINDS, EVENTS)


def downgrade() -> None:
    _refuse_downgrade_over_new_events()
    for kind in NEW_KINDS:
        op.execute(
            "DELETE FROM delivery_attempts WHERE notification_id IN "
            f"(SELECT id FROM notifications WHERE kind = '{kind}')"
        )
        op.execute(f"DELETE FROM notifications WHERE kind = '{kind}'")
    _replace_checks(KINDS_0012, EVENTS_0012)
    with op.batch_alter_table("policy_steps", schema=None) as batch_op:
        batch_op.drop_column("by_decision")

    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_incidents_idle",
            sqlite_where=sa.text("status = 'acknowledged'"),
            postgresql_where=sa.text("status = 'acknowledged'"),
        )
        batch_op.drop_column("idle_stage")
        batch_op.drop_column("idle_check_at")
        batch_op.drop_column("decision_asks")
        batch_op.drop_column("decision_asked_at")
        batch_op.drop_column("decision_step")
        batch_op.drop_column("observed_forces")
        batch_op.drop_column("cpa_vertical_unit")
        batch_op.drop_column("cpa_horizontal_unit")
        batch_op.drop_column("border_basis")

    with op.batch_alter_table("exercises", schema=None) as batch_op:
        batch_op.drop_column("ours")
        batch_op.drop_column("snap")
        batch_op.drop_column("notified_to")
        batch_op.drop_column("notified_by")
        batch_op.drop_column("aircraft_sorties")
        batch_op.drop_column("airborne_troops")
        batch_op.drop_column("artillery_pieces")
        batch_op.drop_column("armoured_combat_vehicles")
        batch_op.drop_column("battle_tanks")

    with op.batch_alter_table("watch_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_watch_entries_watch_id"))
        batch_op.drop_index(batch_op.f("ix_watch_entries_incident_id"))

    op.drop_table("watch_entries")
    with op.batch_alter_table("handovers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_handovers_from_watch_id"))

    op.drop_table("handovers")
    with op.batch_alter_table("watches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_watches_starts_at"))
        batch_op.drop_index(batch_op.f("ix_watches_officer_id"))

    op.drop_table("watches")
    with op.batch_alter_table("exercise_briefings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exercise_briefings_exercise_id"))

    op.drop_table("exercise_briefings")
