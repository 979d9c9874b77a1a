"""A watch kept beyond WATCH_HOURS without relief is told to the supervisors, once.

Revision 0019's pattern for the watches: the scheduler claims an open watch past its hours
(relief_alert_claimed_at, atomically: two schedulers never send one twice) and marks it told once every
active supervisor was (relief_alert_sent_at).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

import tracker.models.base

UTC = tracker.models.base.UTCDateTime(timezone=True)

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("watches") as batch:
        batch.add_column(sa.Column("relief_alert_claimed_at", UTC, nullable=True))
        batch.add_column(sa.Column("relief_alert_sent_at", UTC, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("watches") as batch:
        batch.drop_column("relief_alert_sent_at")
        batch.drop_column("relief_alert_claimed_at")
