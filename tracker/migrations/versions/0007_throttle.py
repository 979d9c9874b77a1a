"""Rate limits counted in the database: attempts per key and time window.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "throttle_hits",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("window_start", sa.BigInteger(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", "window_start", name=op.f("pk_throttle_hits")),
    )
    op.create_index(op.f("ix_throttle_hits_window_start"), "throttle_hits", ["window_start"])


def downgrade() -> None:
    op.drop_index(op.f("ix_throttle_hits_window_start"), table_name="throttle_hits")
    op.drop_table("throttle_hits")
