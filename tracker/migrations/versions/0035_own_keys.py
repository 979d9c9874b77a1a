"""The key failed sign-ins are counted under is the database's own: a new SECRET_KEY no longer starts the counts again.

signin_failures.account held the name's HMAC under a key derived from SECRET_KEY, so an operator rotating it gave a
guesser fresh attempts and lifted every slow-down in effect. The key now lives in own_keys, made on its first use
(services.accounts.own_keys) and never derived from configuration. The rows kept under the old key cannot be carried
over (a digest gives no name back, and a migration has no SECRET_KEY) and are deleted, once, here: a pair being
slowed down at the upgrade starts its count again. What they held for the owner stays: the count and time of the
failures on the user (told at the next sign-in) and each "guessing" line in the account's security log.

Revision ID: 0035
Revises: 0034
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0035"
down_revision = "0034"
branch_labels = None
depends_on = None

FAILURES = sa.table("signin_failures", sa.column("account", sa.String(64)))


def upgrade() -> None:
    op.create_table(
        "own_keys",
        sa.Column("purpose", sa.String(length=40), nullable=False),
        sa.Column("key", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("purpose", name=op.f("pk_own_keys")),
    )
    op.execute(sa.delete(FAILURES))


def downgrade() -> None:
    op.execute(sa.delete(FAILURES))  # digests under a key the older code does not have
    op.drop_table("own_keys")
