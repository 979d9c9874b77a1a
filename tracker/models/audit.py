"""The audit chain's seals: one insert-only row per timeline event or signed watch handover, in the order
they were sealed."""

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..timeutil import utcnow
from .base import Base


class AuditSeal(Base):
    """Seal seq: the SHA-256 of its record's content (a timeline event's, or a signed handover's) and of
    seal seq - 1's hash (tracker.services.review.audit).

    Updates and deletes are refused by the database, as for timeline_events.
    """

    __tablename__ = "audit_seals"
    __table_args__ = (CheckConstraint("(event_id IS NULL) <> (handover_id IS NULL)", name="one_record"),)

    # The chain's order: 1, 2, 3 ... with no gaps; given by the sealer, never by a sequence.
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    # What it seals: a timeline event, or a watch handover once signed (migration 0031); never both.
    event_id: Mapped[int | None] = mapped_column(ForeignKey("timeline_events.id"), unique=True)
    handover_id: Mapped[int | None] = mapped_column(ForeignKey("handovers.id"), unique=True)
    # The incident of the event when it was sealed: one incident's seals are found by it even after the
    # event was moved to another incident. None for a handover, and for seals whose event was gone by 0030.
    incident_id: Mapped[int | None] = mapped_column(index=True)
    # A handover's seal (since migration 0034): the log of the watch handed over, as it stood when signed,
    # as [[entry id, digest], ...] in id order (services/review/sealed_logs.py); the hash covers it. None for an
    # event's seal, and for a handover sealed before 0034, whose hash covers no log (the seal's first version).
    watch_log: Mapped[list | None] = mapped_column(JSON(none_as_null=True))
    prev_hash: Mapped[str] = mapped_column(String(64))  # 64 zeros for seq 1
    hash: Mapped[str] = mapped_column(String(64))
    sealed_at: Mapped[datetime] = mapped_column(default=utcnow)
