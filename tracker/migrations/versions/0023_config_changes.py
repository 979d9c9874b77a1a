"""The record of the routing configuration's changes (config_changes): who added, changed or deleted a
line, a policy, a routing rule or an agreement, when, and each fact before and after (models.config_log).

Nothing existing changes; the record starts with this revision.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

import tracker.models.base

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "config_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", tracker.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_config_changes")),
    )
    op.create_index(op.f("ix_config_changes_at"), "config_changes", ["at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_config_changes_at"), table_name="config_changes")
    op.drop_table("config_changes")
