"""The watch log: watches kept at a desk, the lines logged during each, and the handovers between them."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..timeutil import utcnow
from .base import Base
from .incident import Incident
from .people import User


class Watch(Base):
    """One officer's watch at a desk: from its start to the handover that ends it (ends_at)."""

    __tablename__ = "watches"

    id: Mapped[int] = mapped_column(primary_key=True)
    desk: Mapped[str] = mapped_column(String(120), default="Duty desk")
    officer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    ends_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Kept beyond WATCH_HOURS without relief, the supervisors are told once (services/engine/relief_alerts.py).
    relief_alert_claimed_at: Mapped[datetime | None]
    relief_alert_sent_at: Mapped[datetime | None]

    officer: Mapped[User] = relationship()
    entries: Mapped[list["WatchEntry"]] = relationship(back_populates="watch", order_by="WatchEntry.at")


class WatchEntry(Base):
    """A line in the watch log, time-stamped, linked to an incident if wanted (append-only by use)."""

    __tablename__ = "watch_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    watch_id: Mapped[int] = mapped_column(ForeignKey("watches.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    author: Mapped[str] = mapped_column(String(80))
    text: Mapped[str] = mapped_column(Text)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id", ondelete="SET NULL"), index=True)

    watch: Mapped[Watch] = relationship(back_populates="entries")
    incident: Mapped[Incident | None] = relationship()


class Handover(Base):
    """The brief the outgoing officer hands to the incoming one, and the incoming officer's signature.

    The brief is a snapshot taken when the handover is prepared (open incidents, clocks of the next
    hours, lines not OK, exercises, changes since the previous handover), kept as it was shown.
    """

    __tablename__ = "handovers"

    id: Mapped[int] = mapped_column(primary_key=True)
    from_watch_id: Mapped[int] = mapped_column(ForeignKey("watches.id"), index=True)
    to_watch_id: Mapped[int | None] = mapped_column(ForeignKey("watches.id"))
    outgoing_officer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    incoming_officer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    prepared_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The start of the period "what changed" covers: the previous handover's signature (or the watch's start).
    since: Mapped[datetime]
    brief: Mapped[dict] = mapped_column(JSON)
    notes: Mapped[str] = mapped_column(Text, default="")
    signed_at: Mapped[datetime | None]

    from_watch: Mapped[Watch] = relationship(foreign_keys=[from_watch_id])
    to_watch: Mapped[Watch | None] = relationship(foreign_keys=[to_watch_id])
    outgoing_officer: Mapped[User] = relationship(foreign_keys=[outgoing_officer_id])
    incoming_officer: Mapped[User] = relationship(foreign_keys=[incoming_officer_id])
