"""When the annual calendar (Vienna Document 2011, Chapter VII) that lists an exercise came
(exercises.calendar_at; ours: when we sent it), so that a calendar sent after 15 November of the year
before is flagged (para. 61), and an activity over 40,000 troops or 900 battle tanks not in a calendar
by then (para. 71); and each change made to an exercise after entry (exercises.changes: when, by whom,
each field before and after), so that dates moved after the notice do not erase what it said.

Existing exercises get NULL: no calendar on record, no change recorded.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

import tracker.models.base

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("exercises") as batch:
        batch.add_column(sa.Column("calendar_at", tracker.models.base.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("changes", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("exercises") as batch:
        batch.drop_column("changes")
        batch.drop_column("calendar_at")
