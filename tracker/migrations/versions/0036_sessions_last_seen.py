"""A web session keeps its last use: the idle limit runs from it, to the minute.

The idle limit was the session cookie's own age, and a page's own requests (the board's refresh, a position's
read-back) sign the cookie again only once it is older than half the limit, so a session used only through them
ended anywhere between half the limit and the whole of it after the last. web_sessions.last_seen_at is written by
any request at most once a minute, and read by every one.

A session live at the upgrade takes its opening time as its last use: the database never knew a later one, and
so none lives longer idle than its cookie let it; one opened more than the idle limit ago signs in again.

Revision ID: 0036
Revises: 0035
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

import tracker.models.base

revision = "0036"
down_revision = "0035"
branch_labels = None
depends_on = None

UTC = tracker.models.base.UTCDateTime
SESSIONS = sa.table("web_sessions", sa.column("created_at", UTC()), sa.column("last_seen_at", UTC()))


def upgrade() -> None:
    with op.batch_alter_table("web_sessions") as batch:
        batch.add_column(sa.Column("last_seen_at", UTC(), nullable=True))
    op.execute(sa.update(SESSIONS).values(last_seen_at=SESSIONS.c.created_at))
    with op.batch_alter_table("web_sessions") as batch:
        batch.alter_column("last_seen_at", existing_type=UTC(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("web_sessions") as batch:
        batch.drop_column("last_seen_at")
