"""Lines, policies, routing rules and agreements count their saves: an admin's edit (the API's PATCH, an admin
page's form) names the version it read, and is refused (409) when another admin saved in between, where it
silently put its facts over theirs. Every row starts at 1.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None

TABLES = ("contact_channels", "escalation_policies", "routing_rules", "agreements")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("version")
