"""A line's health change is told to the supervisors: the check that changed it carries the alert.

A line going degraded or down (or back to OK) was shown on the board and logged, but told to no one.
The check whose decision changed the line's health now records the health before it; the scheduler
claims such checks (alert_claimed_at, atomically, so two schedulers never send one twice) and marks
each sent once every active supervisor was told (alert_sent_at).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

import tracker.models.base

UTC = tracker.models.base.UTCDateTime(timezone=True)

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("channel_checks") as batch:
        batch.add_column(sa.Column("health_before", sa.String(16), nullable=True))
        batch.add_column(sa.Column("alert_claimed_at", UTC, nullable=True))
        batch.add_column(sa.Column("alert_sent_at", UTC, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("channel_checks") as batch:
        batch.drop_column("alert_sent_at")
        batch.drop_column("alert_claimed_at")
        batch.drop_column("health_before")
