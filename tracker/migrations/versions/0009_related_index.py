"""An index for finding related incidents by category and time window.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_incidents_category_occurred_at", "incidents", ["category", "occurred_at"])


def downgrade() -> None:
    op.drop_index("ix_incidents_category_occurred_at", table_name="incidents")
