"""Communications checks of the lines, and the record of used one-time links."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..timeutil import utcnow
from .base import Base, enum_column
from .enums import ChannelHealth, CheckOutcome
from .ladder import ContactChannel


class ChannelCheck(Base):
    """A test message on a line; unacknowledged within its window, it counts as a failure."""

    __tablename__ = "channel_checks"
    __table_args__ = (
        Index(
            "ix_channel_checks_open",
            "due_by",
            sqlite_where=text("outcome = 'pending'"),
            postgresql_where=text("outcome = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("contact_channels.id", ondelete="CASCADE"), index=True)
    requested_by: Mapped[str] = mapped_column(String(80))
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
    due_by: Mapped[datetime]
    outcome: Mapped[CheckOutcome] = mapped_column(enum_column(CheckOutcome), default=CheckOutcome.PENDING)
    decided_at: Mapped[datetime | None]
    detail: Mapped[str | None] = mapped_column(Text)
    health_after: Mapped[ChannelHealth | None] = mapped_column(enum_column(ChannelHealth))
    # Set when this check's decision changed the line's health (its value before): the supervisors are
    # told of the change (services/engine/line_alerts.py), claimed and marked sent here.
    health_before: Mapped[str | None] = mapped_column(String(16))
    alert_claimed_at: Mapped[datetime | None]
    alert_sent_at: Mapped[datetime | None]
    # The line as this check's decision left it (what its alert says): its run of unconfirmed checks
    # and when it was last confirmed.
    failures_in_a_row: Mapped[int | None] = mapped_column(Integer)
    last_confirmed_at: Mapped[datetime | None]
    # A check on a counterpart line is answered in-band (on the line, by voice): who answered, how.
    answered_by: Mapped[str | None] = mapped_column(String(120))
    answered_via: Mapped[str | None] = mapped_column(String(16))
    # A check on a counterpart line goes out as a formatted message numbered in the line's serial series.
    serial: Mapped[int | None] = mapped_column(Integer)
    serial_year: Mapped[int | None] = mapped_column(Integer)

    channel: Mapped[ContactChannel] = relationship()


class LinkUse(Base):
    """A signed one-time link that was used; its id can never be used again."""

    __tablename__ = "link_uses"

    link_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(16))
    used_at: Mapped[datetime] = mapped_column(default=utcnow)
    used_by: Mapped[str] = mapped_column(String(255))
