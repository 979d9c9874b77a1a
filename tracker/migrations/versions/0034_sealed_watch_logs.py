"""A handover's seal covers the log of the watch handed over: audit_seals.watch_log.

A signed handover's seal (0031) covered who handed which watch to whom, the brief, the notes and the times, not
the lines logged during the watch (watch_entries): one edited, deleted or added in the database afterwards left
`audit verify` saying intact. A handover sealed from now on keeps its watch's log as [[entry id, digest], ...]
and hashes it with the rest. Seals made before keep NULL here, which is what tells verify to hash them as they
were hashed (their log is not covered: it was never sealed, and sealing it now would vouch for whatever it holds).

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0034"
down_revision = "0033"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A nullable column is added in place (no batch rebuild), so the append-only triggers of 0006 stay.
    op.add_column("audit_seals", sa.Column("watch_log", sa.JSON(), nullable=True))


def downgrade() -> None:
    sealed = sa.table("audit_seals", sa.column("watch_log", sa.JSON()))
    count = sa.select(sa.func.count()).select_from(sealed).where(sealed.c.watch_log.is_not(None))
    if op.get_bind().scalar(count):
        # Their hashes cover the log this column keeps: without it, verify could not check them again.
        raise RuntimeError("handovers are sealed with their watch's log: 0033 has no place for it")
    # In place on SQLite too (3.35 and later): a batch rebuild would drop the append-only triggers.
    op.execute("ALTER TABLE audit_seals DROP COLUMN watch_log")
