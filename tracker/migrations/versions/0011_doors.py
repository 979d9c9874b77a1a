"""Doors: web sessions kept server-side, failed sign-ins per account and address, the accounts'
security log, answers kept for Idempotency-Key retries, live schedulers with their heartbeat (and
who holds each message's claim), and the metrics snapshot the scheduler refreshes.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

import tracker.models.base

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

UTC = tracker.models.base.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC(), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("revoked_at", UTC(), nullable=True),
        sa.Column("revoked_why", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_web_sessions_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_sessions")),
    )
    op.create_index(op.f("ix_web_sessions_user_id"), "web_sessions", ["user_id"])
    op.create_table(
        "signin_failures",
        sa.Column("account", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failed_at", UTC(), nullable=False),
        sa.Column("next_attempt_at", UTC(), nullable=True),
        sa.PrimaryKeyConstraint("account", "address", name=op.f("pk_signin_failures")),
    )
    op.create_index(op.f("ix_signin_failures_last_failed_at"), "signin_failures", ["last_failed_at"])
    op.create_table(
        "account_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("at", UTC(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_account_events_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_events")),
    )
    op.create_index(op.f("ix_account_events_user_id"), "account_events", ["user_id"])
    op.create_table(
        "idempotent_requests",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("route", sa.String(length=200), nullable=False),
        sa.Column("body_digest", sa.String(length=64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("answer", sa.LargeBinary(), nullable=True),
        sa.Column("answer_type", sa.String(length=100), nullable=True),
        sa.Column("location", sa.Text(), nullable=True),
        sa.Column("created_at", UTC(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_idempotent_requests_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "key", name=op.f("pk_idempotent_requests")),
    )
    op.create_index(op.f("ix_idempotent_requests_created_at"), "idempotent_requests", ["created_at"])
    op.create_table(
        "runners",
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("started_at", UTC(), nullable=False),
        sa.Column("last_beat_at", UTC(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_runners")),
    )
    op.create_index(op.f("ix_runners_last_beat_at"), "runners", ["last_beat_at"])
    op.create_table(
        "metrics_snapshots",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("refreshed_at", UTC(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_metrics_snapshots")),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=120), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_column("claimed_by")
    for table in (
        "metrics_snapshots",
        "runners",
        "idempotent_requests",
        "account_events",
        "signin_failures",
        "web_sessions",
    ):
        op.drop_table(table)
