"""Distance to the border on incidents, and routing rules that match on it.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("border_distance_km", sa.Float(), nullable=True))
    with op.batch_alter_table("routing_rules") as batch:
        batch.add_column(sa.Column("within_border_km", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("routing_rules") as batch:
        batch.drop_column("within_border_km")
    with op.batch_alter_table("incidents") as batch:
        batch.drop_column("border_distance_km")
