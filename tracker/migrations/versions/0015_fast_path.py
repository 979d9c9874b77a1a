"""The fast path (issue 15): the checks a filing leaves to the sweep, and the current step's lines kept
on the incident for the board.

checks_due_at: when the related-incident search and the exercise link of a new incident are due (the
sweep does them right after the filing commits; NULL once done). Existing incidents were checked at
filing: they stay NULL.

step_channels: the names of the lines of the incident's current step, written at filing and at each
escalation, so that the board reads one column instead of the whole ladder; filled here from each
incident's ladder.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03
"""

import json

import sqlalchemy as sa
from alembic import op

import tracker.models.base

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

BATCH = 1000


def upgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("checks_due_at", tracker.models.base.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("step_channels", sa.JSON(), nullable=True))
    op.create_index(
        "ix_incidents_checks_due",
        "incidents",
        ["checks_due_at"],
        sqlite_where=sa.text("checks_due_at IS NOT NULL"),
        postgresql_where=sa.text("checks_due_at IS NOT NULL"),
    )
    _fill_step_channels()


def _fill_step_channels() -> None:
    """Each incident's current step's line names, from its ladder snapshot, a batch at a time."""
    bind, last = op.get_bind(), 0
    incidents = sa.table(
        "incidents",
        sa.column("id", sa.Integer),
        sa.column("ladder", sa.JSON),
        sa.column("current_step", sa.Integer),
        sa.column("step_channels", sa.JSON),
    )
    while True:
        rows = bind.execute(
            sa.select(incidents.c.id, incidents.c.ladder, incidents.c.current_step)
            .where(incidents.c.id > last)
            .order_by(incidents.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        for row in rows:
            ladder = row.ladder if isinstance(row.ladder, dict) else json.loads(row.ladder or "{}")
            steps = ladder.get("steps") or []
            step = steps[row.current_step - 1] if 0 < (row.current_step or 0) <= len(steps) else {}
            names = [channel["name"] for channel in step.get("channels", [])]
            bind.execute(incidents.update().where(incidents.c.id == row.id).values(step_channels=names))
        last = rows[-1].id


def downgrade() -> None:
    op.drop_index("ix_incidents_checks_due", table_name="incidents")
    with op.batch_alter_table("incidents") as batch:
        batch.drop_column("step_channels")
        batch.drop_column("checks_due_at")
