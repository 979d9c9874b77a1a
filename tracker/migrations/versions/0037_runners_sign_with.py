"""A live scheduler says which key signs the links in its messages.

A web host and a scheduler given different SECRET_KEYs went unnoticed until the desks' acknowledge links were
refused as "altered". runners.signs_with keeps the fingerprint of the scheduler's key (services.engine.links
.fingerprint: 16 hex digits of an HMAC under it, nothing that yields the key), beside its heartbeat; /health and
the web host's start compare it with their own key and its fallbacks. A runner of before knows none (NULL).

Revision ID: 0037
Revises: 0036
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0037"
down_revision = "0036"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runners") as batch:
        batch.add_column(sa.Column("signs_with", sa.String(16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("runners") as batch:
        batch.drop_column("signs_with")
