"""A line's health change is told as the change left the line, not as the line is when the alert goes.

The alert said how many checks in a row were unconfirmed and when the line was last confirmed by
reading the line at sending time: two changes told together (degraded, then down) both gave the run of
the later one. The check that decides a line's health now keeps both figures as its decision left them.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

import tracker.models.base

UTC = tracker.models.base.UTCDateTime(timezone=True)

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("channel_checks") as batch:
        batch.add_column(sa.Column("failures_in_a_row", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("last_confirmed_at", UTC, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("channel_checks") as batch:
        batch.drop_column("last_confirmed_at")
        batch.drop_column("failures_in_a_row")
