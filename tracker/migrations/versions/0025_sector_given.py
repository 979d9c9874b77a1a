"""Whether an incident's sector was given by hand or derived from its position (incidents.sector_given), so
that amending the position re-derives a derived sector and leaves one given by hand.

Existing incidents get NULL: how their sector came is not on record. The tracker infers it when the position
is amended (given by hand when it is not the sector the old position lies in, or there was no position).

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("sector_given", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.drop_column("sector_given")
