"""The append-only tables refuse TRUNCATE too (PostgreSQL).

0001 and 0006 made timeline_events and audit_seals refuse UPDATE and DELETE with row triggers, which
TRUNCATE does not fire: it emptied either table at a stroke (the anchor kept outside the database
would show it only afterwards). A statement trigger before TRUNCATE, with the same function, refuses
it. SQLite has no TRUNCATE, and runs an unqualified DELETE row by row where a trigger exists.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04
"""

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

TABLES = ("timeline_events", "audit_seals")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_append_only()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        op.execute(f"DROP TRIGGER {table}_no_truncate ON {table}")
