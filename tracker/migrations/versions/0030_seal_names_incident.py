"""A seal names the incident its event belonged to when it was sealed: `audit verify --incident A` looked
for A's seals through their events' incident, so an event moved to another incident (its incident_id
edited in the database) dropped out of A's check unseen. Existing seals take their event's incident now.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-06
"""

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None

SEALS = sa.table("audit_seals", sa.column("event_id", sa.Integer()), sa.column("incident_id", sa.Integer()))
EVENTS = sa.table("timeline_events", sa.column("id", sa.Integer()), sa.column("incident_id", sa.Integer()))


def upgrade() -> None:
    # A nullable column is added in place (no batch rebuild), so the append-only triggers of 0006 stay.
    op.add_column("audit_seals", sa.Column("incident_id", sa.Integer(), nullable=True))
    op.create_index(op.f("ix_audit_seals_incident_id"), "audit_seals", ["incident_id"])
    of_event = sa.select(EVENTS.c.incident_id).where(EVENTS.c.id == SEALS.c.event_id).scalar_subquery()
    with _append_only_off():
        op.execute(SEALS.update().values(incident_id=of_event))


def downgrade() -> None:
    op.drop_index(op.f("ix_audit_seals_incident_id"), table_name="audit_seals")
    # In place on SQLite too (3.35 and later): a batch rebuild would drop the append-only triggers.
    op.execute("ALTER TABLE audit_seals DROP COLUMN incident_id")


@contextmanager
def _append_only_off() -> Iterator[None]:
    """The one update audit_seals ever takes: its append-only trigger off around it, in this transaction."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.execute(
        "DROP TRIGGER audit_seals_no_update"
        if sqlite
        else "ALTER TABLE audit_seals DISABLE TRIGGER audit_seals_append_only"
    )
    try:
        yield
    finally:
        if sqlite:
            op.execute(
                "CREATE TRIGGER audit_seals_no_update BEFORE UPDATE ON audit_seals "
                "BEGIN SELECT RAISE(ABORT, 'audit_seals is append-only'); END"
            )
        else:
            op.execute("ALTER TABLE audit_seals ENABLE TRIGGER audit_seals_append_only")
