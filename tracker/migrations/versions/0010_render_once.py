"""Render once: each outbox row stores its HTML part and webhook facts next to its subject and text.

A message is rendered when it is queued and delivery sends what was stored. Rows queued before this
revision keep NULL in both columns: rendering needs the app's templates and its SECRET_KEY (for the
signed acknowledge link), which a migration has neither of, so the delivery job renders such a row
once, the first time it claims it, and stores the result (tracker.services.engine.rendering.render_legacy).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("html", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("payload", sa.JSON(), nullable=True))


def downgrade() -> None:
    # The stored text (body) stays; an older delivery job renders every row again from its incident.
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_column("payload")
        batch_op.drop_column("html")
