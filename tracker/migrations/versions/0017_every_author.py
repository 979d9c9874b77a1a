"""Everyone who wrote a text for the other side, not only its drafter and last editor.

Four eyes refused the drafter and whoever last changed the wording: once a third person saved the
text again (even unchanged), an earlier rewriter could approve their own words. The texts and
summaries keep every author; existing rows start with their drafter and last editor.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

TABLES = ("exchange_messages", "summaries")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("written_by", sa.JSON(), nullable=True))
        rows = sa.table(
            table,
            sa.column("id", sa.Integer),
            sa.column("drafted_by", sa.String),
            sa.column("edited_by", sa.String),
            sa.column("written_by", sa.JSON),
        )
        bind = op.get_bind()
        for row_id, drafted, edited in bind.execute(sa.select(rows.c.id, rows.c.drafted_by, rows.c.edited_by)):
            wrote = list(dict.fromkeys(name for name in (drafted, edited) if name))
            bind.execute(sa.update(rows).where(rows.c.id == row_id).values(written_by=wrote))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("written_by")
