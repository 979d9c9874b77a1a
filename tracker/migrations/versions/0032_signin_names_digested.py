"""Failed sign-ins keep the name typed only as a keyed digest: the rows that hold it readable go.

signin_failures.account held the name as typed, case-folded, for a day: a password typed into the name field
was readable there. The code now keeps HMAC-SHA-256 of it under a key from SECRET_KEY, which a migration does
not have, so the rows of the last day are deleted rather than converted. What they held for the owner stays
elsewhere: the count and time of the failures on the user (told at the next sign-in) and each "guessing" line
with its address in the account's security log. A pair being slowed down starts its count again.

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None

FAILURES = sa.table("signin_failures", sa.column("account", sa.String(64)))


def upgrade() -> None:
    op.execute(sa.delete(FAILURES))


def downgrade() -> None:
    op.execute(sa.delete(FAILURES))  # digests the older code would take for names
