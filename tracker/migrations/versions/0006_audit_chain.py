"""Tamper-evident timeline: each event carries a SHA-256 chained to its incident's previous event.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

import tracker.models.base
from tracker.services import audit

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

BATCH_SIZE = 1000
EVENTS = sa.table(
    "timeline_events",
    sa.column("id", sa.Integer()),
    sa.column("incident_id", sa.Integer()),
    sa.column("kind", sa.String()),
    sa.column("actor", sa.String()),
    sa.column("at", tracker.models.base.UTCDateTime(timezone=True)),
    sa.column("details", sa.JSON()),
    sa.column("prev_hash", sa.String()),
    sa.column("hash", sa.String()),
)


def upgrade() -> None:
    with op.batch_alter_table("timeline_events") as batch:
        batch.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("hash", sa.String(length=64), nullable=True))
        batch.drop_index(batch.f("ix_timeline_events_incident_id"))
        batch.create_index("ix_timeline_events_incident_id_id", ["incident_id", "id"])
    _restore_sqlite_triggers()
    _allow_timeline_updates()
    _backfill()
    if op.get_bind().dialect.name != "sqlite":
        op.execute("ALTER TABLE timeline_events ENABLE TRIGGER timeline_events_append_only")
    with op.batch_alter_table("timeline_events") as batch:
        batch.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=False)
        batch.alter_column("hash", existing_type=sa.String(length=64), nullable=False)
    _restore_sqlite_triggers()


def _allow_timeline_updates() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS timeline_events_no_update")
    else:
        op.execute("ALTER TABLE timeline_events DISABLE TRIGGER timeline_events_append_only")


def _backfill() -> None:
    """Chain the existing events, incident by incident in id order, a batch at a time."""
    connection = op.get_bind()
    link = (
        sa.update(EVENTS)
        .where(EVENTS.c.id == sa.bindparam("event_id"))
        .values(prev_hash=sa.bindparam("new_prev_hash"), hash=sa.bindparam("new_hash"))
    )
    incident_id, event_id, head = 0, 0, audit.GENESIS
    while True:
        rows = connection.execute(
            sa.select(EVENTS)
            .where(
                sa.or_(
                    EVENTS.c.incident_id > incident_id,
                    sa.and_(EVENTS.c.incident_id == incident_id, EVENTS.c.id > event_id),
                )
            )
            .order_by(EVENTS.c.incident_id, EVENTS.c.id)
            .limit(BATCH_SIZE)
        ).all()
        if not rows:
            return
        changes = []
        for row in rows:
            if row.incident_id != incident_id:
                head = audit.GENESIS
            new_hash = audit.event_hash(head, row.incident_id, row.kind, row.actor, row.at, row.details)
            changes.append({"event_id": row.id, "new_prev_hash": head, "new_hash": new_hash})
            incident_id, event_id, head = row.incident_id, row.id, new_hash
        connection.execute(link, changes)


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
    with op.batch_alter_table("timeline_events") as batch:
        batch.drop_index("ix_timeline_events_incident_id_id")
        batch.create_index(batch.f("ix_timeline_events_incident_id"), ["incident_id"], unique=False)
        batch.drop_column("hash")
        batch.drop_column("prev_hash")
    _restore_sqlite_triggers()
