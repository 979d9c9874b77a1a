"""Both sides of the line: agreements, counterpart lines that never sit on a ladder, formatted and
approved messages to the other side (serials, receipt clocks, four eyes), the call log with its
agreed actions, markings on incidents, and in-band answers to line checks.

Existing data is moved into a valid shape: a line that is not marked as a counterpart line but names
a counterpart and is addressed outside every mail domain of our own users (the demo's "L3 HQ-to-HQ
hotline" at eastland.example) is a line to the other side. It becomes a counterpart line and leaves
every policy step; in its place each step takes a new internal line, "HQ duty desk", at the same
level with the same transport and members, addressed at our own domain.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""

from collections import Counter

import sqlalchemy as sa
from alembic import op

import tracker.models.base

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

KINDS_0011 = (
    "notified",
    "escalated",
    "acknowledged",
    "resolved",
    "exhausted",
    "dead_letter",
    "counterpart",
    "exchange_overdue",
    "watchdog",
)
KINDS = (*KINDS_0011, "receipt_overdue", "action_overdue")
EVENTS_0011 = (
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
)
NEW_EVENTS = (
    "call_logged",
    "action_done",
    "action_overdue",
    "receipt_recorded",
    "receipt_overdue",
    "message_drafted",
    "message_approved",
    "marking_changed",
)
EVENTS = (*EVENTS_0011, *NEW_EVENTS)
DESK = "HQ duty desk"


def _in(column, values):
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _replace_checks(kinds, events) -> None:
    """Swap the CHECK constraints of the notification and event kinds (portable: drop, add), as 0008 does."""
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


def _domain(address: str) -> str | None:
    return address.rsplit("@", 1)[1].strip().lower() if "@" in address else None


def _separate_the_sides(bind) -> None:
    """Make each line that speaks to the other side a counterpart line, off every ladder (see above)."""
    ours = Counter(d for (e,) in bind.execute(sa.text("SELECT email FROM users")) if (d := _domain(e or "")))
    if not ours:
        return  # no users yet (a new database): nothing to tell our addresses from theirs
    home = ours.most_common(1)[0][0]
    lines = bind.execute(
        sa.text(
            "SELECT id, name, level, transport, address FROM contact_channels "
            "WHERE NOT counterpart_line AND counterpart <> ''"
        )
    ).all()
    outward = [line for line in lines if (d := _domain(line.address)) is not None and d not in ours]
    for line in outward:
        bind.execute(
            sa.text("UPDATE contact_channels SET counterpart_line = :yes WHERE id = :id"), {"yes": True, "id": line.id}
        )
        steps = [
            s
            for (s,) in bind.execute(
                sa.text("SELECT step_id FROM policy_step_channels WHERE channel_id = :id"), {"id": line.id}
            )
        ]
        fallbacks = [
            s
            for (s,) in bind.execute(
                sa.text("SELECT id FROM policy_steps WHERE fallback_channel_id = :id"), {"id": line.id}
            )
        ]
        if not steps and not fallbacks:
            continue
        name = DESK if len(outward) == 1 else f"{DESK} (for {line.name})"[:120]
        taken = bind.scalar(sa.text("SELECT id FROM contact_channels WHERE name = :name"), {"name": name})
        desk = taken or bind.scalar(
            sa.text(
                "INSERT INTO contact_channels (name, level, counterpart, transport, address, active, created_at, "
                "counterpart_line, reply_deadline_seconds, meeting_deadline_seconds, check_window_seconds, health, "
                "consecutive_failures, our_station, their_station, counterpart_state) VALUES (:name, :level, '', "
                ":transport, :address, :yes, CURRENT_TIMESTAMP, :no, 172800, 172800, 900, 'ok', 0, '', '', '') "
                "RETURNING id"
            ),
            {
                "name": name,
                "level": line.level,
                "transport": line.transport,
                "address": f"hq-duty-desk@{home}" if _domain(line.address) else line.address,
                "yes": True,
                "no": False,
            },
        )
        bind.execute(
            sa.text(
                "INSERT INTO channel_members (channel_id, user_id) SELECT :desk, user_id FROM channel_members "
                "WHERE channel_id = :id AND user_id NOT IN "
                "(SELECT user_id FROM channel_members WHERE channel_id = :desk)"
            ),
            {"desk": desk, "id": line.id},
        )
        for step in steps:
            bind.execute(
                sa.text("DELETE FROM policy_step_channels WHERE step_id = :step AND channel_id = :id"),
                {"step": step, "id": line.id},
            )
            bind.execute(
                sa.text(
                    "INSERT INTO policy_step_channels (step_id, channel_id) SELECT :step, :desk WHERE NOT EXISTS "
                    "(SELECT 1 FROM policy_step_channels WHERE step_id = :step AND channel_id = :desk)"
                ),
                {"step": step, "desk": desk},
            )
        bind.execute(
            sa.text("UPDATE policy_steps SET fallback_channel_id = :desk WHERE fallback_channel_id = :id"),
            {"desk": desk, "id": line.id},
        )


def _refuse_downgrade_over_new_events() -> None:
    found = op.get_bind().scalar(sa.text(f"SELECT count(*) FROM timeline_events WHERE {_in('kind', NEW_EVENTS)}"))
    if found:
        # The timeline is append-only and sealed (0006): deleting events would break the audit chain.
        raise RuntimeError(f"cannot downgrade below 0012: {found} events of its kinds are on the append-only timeline")


def upgrade() -> None:
    op.create_table(
        "agreements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("counterpart_state", sa.String(length=80), nullable=False),
        sa.Column("default_article", sa.String(length=120), nullable=False),
        sa.Column("articles", sa.JSON(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", tracker.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreements")),
        sa.UniqueConstraint("code", name=op.f("uq_agreements_code")),
    )
    op.create_table(
        "calls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("exchange_id", sa.Integer(), nullable=True),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column(
            "direction",
            sa.Enum(
                "we_called", "they_called", name="calldirection", native_enum=False, create_constraint=True, length=32
            ),
            nullable=False,
        ),
        sa.Column("started_at", tracker.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", tracker.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("our_speaker", sa.String(length=120), nullable=False),
        sa.Column("their_name", sa.String(length=120), nullable=False),
        sa.Column("their_rank", sa.String(length=80), nullable=False),
        sa.Column("their_post", sa.String(length=120), nullable=False),
        sa.Column("interpreter", sa.String(length=120), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("we_said", sa.Text(), nullable=False),
        sa.Column("they_said", sa.Text(), nullable=False),
        sa.Column(
            "moved_to",
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
            nullable=True,
        ),
        sa.Column("recorded_by", sa.String(length=80), nullable=False),
        sa.Column("recorded_at", tracker.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"], ["contact_channels.id"], name=op.f("fk_calls_channel_id_contact_channels")
        ),
        sa.ForeignKeyConstraint(["exchange_id"], ["exchanges.id"], name=op.f("fk_calls_exchange_id_exchanges")),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"], name=op.f("fk_calls_incident_id_incidents")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calls")),
    )
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_calls_exchange_id"), ["exchange_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_calls_incident_id"), ["incident_id"], unique=False)

    op.create_table(
        "agreed_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("exchange_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("party", sa.String(length=8), nullable=False),
        sa.Column("due_at", tracker.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("done_at", tracker.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("done_by", sa.String(length=80), nullable=True),
        sa.Column("overdue_at", tracker.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["call_id"], ["calls.id"], name=op.f("fk_agreed_actions_call_id_calls")),
        sa.ForeignKeyConstraint(
            ["exchange_id"], ["exchanges.id"], name=op.f("fk_agreed_actions_exchange_id_exchanges")
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name=op.f("fk_agreed_actions_incident_id_incidents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreed_actions")),
    )
    with op.batch_alter_table("agreed_actions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agreed_actions_call_id"), ["call_id"], unique=False)
        batch_op.create_index(
            "ix_agreed_actions_due",
            ["due_at"],
            unique=False,
            sqlite_where=sa.text("done_at IS NULL AND overdue_at IS NULL"),
            postgresql_where=sa.text("done_at IS NULL AND overdue_at IS NULL"),
        )
        batch_op.create_index(batch_op.f("ix_agreed_actions_incident_id"), ["incident_id"], unique=False)

    with op.batch_alter_table("channel_checks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("answered_by", sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column("answered_via", sa.String(length=16), nullable=True))
        # A check on a counterpart line is a formatted message numbered in the line's serial series.
        batch_op.add_column(sa.Column("serial", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("serial_year", sa.Integer(), nullable=True))

    with op.batch_alter_table("contact_channels", schema=None) as batch_op:
        batch_op.add_column(sa.Column("our_station", sa.String(length=120), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("their_station", sa.String(length=120), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("agreement_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("counterpart_state", sa.String(length=80), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("receipt_seconds", sa.JSON(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_contact_channels_agreement_id_agreements"),
            "agreements",
            ["agreement_id"],
            ["id"],
            ondelete="SET NULL",
        )

    with op.batch_alter_table("exchange_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recorded_at", tracker.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column(
                "status",
                sa.Enum(
                    "draft",
                    "approved",
                    "sent",
                    "received",
                    name="outgoingstatus",
                    native_enum=False,
                    create_constraint=True,
                    length=32,
                ),
                nullable=False,
                server_default="sent",
            )
        )
        batch_op.add_column(sa.Column("drafted_by", sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column("edited_by", sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
        batch_op.add_column(sa.Column("approved_by", sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column("approved_at", tracker.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("facts_digest", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column(
                "pending_state",
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
                nullable=True,
            )
        )
        batch_op.add_column(sa.Column("serial", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("serial_year", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("agreement_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("article", sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column("subject", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("receipt_due_at", tracker.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("receipt_at", tracker.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("receipt_by", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("receipt_via", sa.String(length=16), nullable=True))
        batch_op.add_column(
            sa.Column("receipt_overdue_at", tracker.models.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("call_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("answers_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            "ix_exchange_messages_receipt_due",
            ["receipt_due_at"],
            unique=False,
            sqlite_where=sa.text("receipt_at IS NULL AND receipt_overdue_at IS NULL"),
            postgresql_where=sa.text("receipt_at IS NULL AND receipt_overdue_at IS NULL"),
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_exchange_messages_channel_id_serial_year_serial"), ["channel_id", "serial_year", "serial"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_exchange_messages_call_id_calls"), "calls", ["call_id"], ["id"], ondelete="SET NULL"
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_exchange_messages_answers_id_exchange_messages"),
            "exchange_messages",
            ["answers_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_exchange_messages_agreement_id_agreements"),
            "agreements",
            ["agreement_id"],
            ["id"],
            ondelete="SET NULL",
        )

    with op.batch_alter_table("exchanges", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reference", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("agreement_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("counterpart_state", sa.String(length=80), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_exchanges_reference"), ["reference"])
        batch_op.create_foreign_key(
            batch_op.f("fk_exchanges_agreement_id_agreements"),
            "agreements",
            ["agreement_id"],
            ["id"],
            ondelete="SET NULL",
        )

    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("classification", sa.String(length=32), nullable=False, server_default="UNCLASSIFIED")
        )
        batch_op.add_column(sa.Column("releasable_to", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("agreement_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("counterpart_state", sa.String(length=80), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_incidents_agreement_id_agreements"),
            "agreements",
            ["agreement_id"],
            ["id"],
            ondelete="SET NULL",
        )

    with op.batch_alter_table("routing_rules", schema=None) as batch_op:
        batch_op.add_column(sa.Column("agreement_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("counterpart_state", sa.String(length=80), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_routing_rules_agreement_id_agreements"),
            "agreements",
            ["agreement_id"],
            ["id"],
            ondelete="SET NULL",
        )

    with op.batch_alter_table("summaries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("facts_digest", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("edited_by", sa.String(length=80), nullable=True))
    op.execute("UPDATE exchange_messages SET status = 'received' WHERE direction = 'in'")
    op.execute("UPDATE exchange_messages SET recorded_at = at")
    _replace_checks(KINDS, EVENTS)
    _separate_the_sides(op.get_bind())


def downgrade() -> None:
    _refuse_downgrade_over_new_events()
    for kind in ("receipt_overdue", "action_overdue"):
        op.execute(
            "DELETE FROM delivery_attempts WHERE notification_id IN "
            f"(SELECT id FROM notifications WHERE kind = '{kind}')"
        )
        op.execute(f"DELETE FROM notifications WHERE kind = '{kind}'")
    _replace_checks(KINDS_0011, EVENTS_0011)
    with op.batch_alter_table("summaries", schema=None) as batch_op:
        batch_op.drop_column("edited_by")
        batch_op.drop_column("facts_digest")

    with op.batch_alter_table("routing_rules", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_routing_rules_agreement_id_agreements"), type_="foreignkey")
        batch_op.drop_column("counterpart_state")
        batch_op.drop_column("agreement_id")

    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_incidents_agreement_id_agreements"), type_="foreignkey")
        batch_op.drop_column("counterpart_state")
        batch_op.drop_column("agreement_id")
        batch_op.drop_column("releasable_to")
        batch_op.drop_column("classification")

    with op.batch_alter_table("exchanges", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_exchanges_agreement_id_agreements"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("uq_exchanges_reference"), type_="unique")
        batch_op.drop_column("counterpart_state")
        batch_op.drop_column("agreement_id")
        batch_op.drop_column("reference")

    with op.batch_alter_table("exchange_messages", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_exchange_messages_agreement_id_agreements"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_exchange_messages_answers_id_exchange_messages"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_exchange_messages_call_id_calls"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("uq_exchange_messages_channel_id_serial_year_serial"), type_="unique")
        # The enum columns' CHECK constraints go with them (SQLite's batch copy would keep them otherwise).
        batch_op.drop_constraint(batch_op.f("ck_exchange_messages_outgoingstatus"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_exchange_messages_exchangestate"), type_="check")
        batch_op.drop_index(
            "ix_exchange_messages_receipt_due",
            sqlite_where=sa.text("receipt_at IS NULL AND receipt_overdue_at IS NULL"),
            postgresql_where=sa.text("receipt_at IS NULL AND receipt_overdue_at IS NULL"),
        )
        batch_op.drop_column("answers_id")
        batch_op.drop_column("call_id")
        batch_op.drop_column("receipt_overdue_at")
        batch_op.drop_column("receipt_via")
        batch_op.drop_column("receipt_by")
        batch_op.drop_column("receipt_at")
        batch_op.drop_column("receipt_due_at")
        batch_op.drop_column("subject")
        batch_op.drop_column("article")
        batch_op.drop_column("agreement_id")
        batch_op.drop_column("serial_year")
        batch_op.drop_column("serial")
        batch_op.drop_column("pending_state")
        batch_op.drop_column("facts_digest")
        batch_op.drop_column("approved_at")
        batch_op.drop_column("approved_by")
        batch_op.drop_column("version")
        batch_op.drop_column("edited_by")
        batch_op.drop_column("drafted_by")
        batch_op.drop_column("status")
        batch_op.drop_column("recorded_at")

    with op.batch_alter_table("contact_channels", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_contact_channels_agreement_id_agreements"), type_="foreignkey")
        batch_op.drop_column("receipt_seconds")
        batch_op.drop_column("counterpart_state")
        batch_op.drop_column("agreement_id")
        batch_op.drop_column("their_station")
        batch_op.drop_column("our_station")

    with op.batch_alter_table("channel_checks", schema=None) as batch_op:
        batch_op.drop_column("serial_year")
        batch_op.drop_column("serial")
        batch_op.drop_column("answered_via")
        batch_op.drop_column("answered_by")

    with op.batch_alter_table("agreed_actions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agreed_actions_incident_id"))
        batch_op.drop_index(
            "ix_agreed_actions_due",
            sqlite_where=sa.text("done_at IS NULL AND overdue_at IS NULL"),
            postgresql_where=sa.text("done_at IS NULL AND overdue_at IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_agreed_actions_call_id"))

    op.drop_table("agreed_actions")
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_calls_incident_id"))
        batch_op.drop_index(batch_op.f("ix_calls_exchange_id"))

    op.drop_table("calls")
    op.drop_table("agreements")
