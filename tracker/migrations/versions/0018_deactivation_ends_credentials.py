"""A deactivation ends a user's credentials for good: a counter the calendar feed link is bound to.

Reactivating a user revived every API token and calendar feed link they held before: deactivation
only made them stop answering while the account was off. Deactivation now revokes the tokens and
counts up credentials_epoch, which the feed link's stamp carries, so a link issued before no longer
matches. Existing users start at 0 (their feed links stay valid).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("credentials_epoch", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("credentials_epoch")
