"""Signed watch handovers join the audit chain: a seal seals a timeline event or a handover, never both.

A handover (the brief the incoming officer signed for, the notes, who handed the desk to whom, when) was
an account record outside the chain: edited or deleted in the database, nothing told. Handovers signed
before this revision are sealed by the next sweep, onto the end of the chain.

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None

ONE_RECORD = "(event_id IS NULL) <> (handover_id IS NULL)"


def upgrade() -> None:
    with op.batch_alter_table("audit_seals") as batch:
        batch.alter_column("event_id", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("handover_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f("fk_audit_seals_handover_id_handovers"), "handovers", ["handover_id"], ["id"])
        batch.create_unique_constraint(op.f("uq_audit_seals_handover_id"), ["handover_id"])
        batch.create_check_constraint("one_record", sa.text(ONE_RECORD))
    _restore_sqlite_triggers()


def downgrade() -> None:
    sealed = sa.table("audit_seals", sa.column("handover_id", sa.Integer()))
    count = sa.select(sa.func.count()).select_from(sealed).where(sealed.c.handover_id.is_not(None))
    if op.get_bind().scalar(count):
        # Their seals cannot go without leaving gaps in the chain, nor stay without a record to seal.
        raise RuntimeError("handovers are sealed in the audit chain: 0030 has no place for their seals")
    with op.batch_alter_table("audit_seals") as batch:
        batch.drop_constraint(op.f("ck_audit_seals_one_record"), type_="check")
        batch.drop_constraint(op.f("uq_audit_seals_handover_id"), type_="unique")
        batch.drop_constraint(op.f("fk_audit_seals_handover_id_handovers"), type_="foreignkey")
        batch.drop_column("handover_id")
        batch.alter_column("event_id", existing_type=sa.Integer(), nullable=False)
    _restore_sqlite_triggers()


def _restore_sqlite_triggers() -> None:
    """SQLite's batch mode rebuilds audit_seals, which drops the append-only triggers of 0006."""
    if op.get_bind().dialect.name != "sqlite":
        return
    for action in ("UPDATE", "DELETE"):
        op.execute(f"DROP TRIGGER IF EXISTS audit_seals_no_{action.lower()}")
        op.execute(
            f"CREATE TRIGGER audit_seals_no_{action.lower()} BEFORE {action} ON audit_seals "
            "BEGIN SELECT RAISE(ABORT, 'audit_seals is append-only'); END"
        )
