"""Tamper-evident timeline: insert-only audit_seals, each sealing one event chained to the seal before it.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""

import hashlib
import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import tracker.models.base
from tracker.timeutil import utcnow

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

BATCH_SIZE = 1000
# Frozen here as they were when this revision was written (services.review.audit may move on; a
# migration must not): the chain's first link, its watermark counter, and the hash of a seal.
GENESIS = "0" * 64
WATERMARK = "audit.sealed_through"
EVENTS = sa.table(
    "timeline_events",
    sa.column("id", sa.Integer()),
    sa.column("incident_id", sa.Integer()),
    sa.column("kind", sa.String()),
    sa.column("actor", sa.String()),
    sa.column("at", tracker.models.base.UTCDateTime(timezone=True)),
    sa.column("details", sa.JSON()),
)


def upgrade() -> None:
    seals = op.create_table(
        "audit_seals",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("sealed_at", tracker.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["timeline_events.id"], name=op.f("fk_audit_seals_event_id_timeline_events")
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_seals")),
        sa.UniqueConstraint("event_id", name=op.f("uq_audit_seals_event_id")),
    )
    _forbid_seal_changes()
    _seal_existing_events(seals)


def _forbid_seal_changes() -> None:
    """Make audit_seals append-only in the database itself, as 0001 did for timeline_events.

    On SQLite a batch-mode rebuild of audit_seals would drop these triggers: a later migration
    that alters the table in batch mode recreates them afterwards (as 0005 does for timeline_events).
    """
    if op.get_bind().dialect.name == "sqlite":
        for action in ("UPDATE", "DELETE"):
            op.execute(f"DROP TRIGGER IF EXISTS audit_seals_no_{action.lower()}")
            op.execute(
                f"CREATE TRIGGER audit_seals_no_{action.lower()} BEFORE {action} ON audit_seals "
                "BEGIN SELECT RAISE(ABORT, 'audit_seals is append-only'); END"
            )
        return
    op.execute(
        "CREATE FUNCTION audit_seals_append_only() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'audit_seals is append-only'; END $$"
    )
    op.execute(
        "CREATE TRIGGER audit_seals_append_only BEFORE UPDATE OR DELETE ON audit_seals "
        "FOR EACH ROW EXECUTE FUNCTION audit_seals_append_only()"
    )


def _seal_existing_events(seals: sa.Table) -> None:
    """Seal the events already recorded, in id order, a batch at a time, as the sweep would."""
    connection = op.get_bind()
    seq, head, event_id, now = 0, GENESIS, 0, utcnow()
    while True:
        rows = connection.execute(
            sa.select(EVENTS).where(EVENTS.c.id > event_id).order_by(EVENTS.c.id).limit(BATCH_SIZE)
        ).all()
        if not rows:
            return
        batch = []
        for row in rows:
            seq, digest = seq + 1, _hash_of(head, row)
            batch.append({"seq": seq, "event_id": row.id, "prev_hash": head, "hash": digest, "sealed_at": now})
            head, event_id = digest, row.id
        connection.execute(seals.insert(), batch)


def _hash_of(prev_hash: str, event) -> str:
    """SHA-256 of an event's canonical serialization (UTF-8 JSON, sorted keys) after prev_hash."""
    stored = json.loads(json.dumps(event.details or {}))
    kind = getattr(event.kind, "value", event.kind)
    content = [prev_hash, event.id, event.incident_id, kind, event.actor, _format_at(event.at), stored]
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _format_at(at: datetime) -> str:
    if at.tzinfo is None:
        raise ValueError("naive datetime given; timeline times are aware UTC")
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_seals_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_seals_no_delete")
    else:
        op.execute("DROP TRIGGER audit_seals_append_only ON audit_seals")
        op.execute("DROP FUNCTION audit_seals_append_only()")
    op.drop_table("audit_seals")
    counters = sa.table("counters", sa.column("name", sa.String()))
    op.execute(counters.delete().where(counters.c.name == WATERMARK))
