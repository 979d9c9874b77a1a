"""The call log: every conversation with the other side on a line, as it happened, and the actions
agreed on it, each with a due time (a clock the engine watches like an exchange's)."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from ..timeutil import utcnow
from .base import Base, enum_column
from .enums import CallDirection, ExchangeState
from .exchange import Exchange
from .incident import Incident
from .ladder import ContactChannel


class Call(Base):
    """One call on a line about one incident: who called whom, when, who spoke, what each side said.
    Logging a call sends nothing anywhere."""

    __tablename__ = "calls"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    exchange_id: Mapped[int | None] = mapped_column(ForeignKey("exchanges.id"), index=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("contact_channels.id"))
    direction: Mapped[CallDirection] = mapped_column(enum_column(CallDirection))
    started_at: Mapped[datetime]
    # None while the call goes on (the page stamps "Call ended").
    ended_at: Mapped[datetime | None]
    our_speaker: Mapped[str] = mapped_column(String(120), default="")
    their_name: Mapped[str] = mapped_column(String(120), default="")
    their_rank: Mapped[str] = mapped_column(String(80), default="")
    their_post: Mapped[str] = mapped_column(String(120), default="")
    interpreter: Mapped[str] = mapped_column(String(120), default="")
    language: Mapped[str | None] = mapped_column(String(8))
    we_said: Mapped[str] = mapped_column(Text, default="")
    they_said: Mapped[str] = mapped_column(Text, default="")
    # The exchange state the call moved the exchange to (their receipt, their explanation, ...).
    moved_to: Mapped[ExchangeState | None] = mapped_column(enum_column(ExchangeState))
    recorded_by: Mapped[str] = mapped_column(String(80))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(Integer)

    incident: Mapped[Incident] = relationship(backref=backref("calls", order_by="Call.started_at"))
    exchange: Mapped[Exchange | None] = relationship(backref=backref("calls", order_by="Call.started_at"))
    channel: Mapped[ContactChannel] = relationship()
    actions: Mapped[list["AgreedAction"]] = relationship(back_populates="call", order_by="AgreedAction.id")

    __mapper_args__ = {"version_id_col": version}


class AgreedAction(Base):
    """Something agreed on a call, due by a time; undone by then, the supervisors are told."""

    __tablename__ = "agreed_actions"
    __table_args__ = (
        Index(
            "ix_agreed_actions_due",
            "due_at",
            sqlite_where=text("done_at IS NULL AND overdue_at IS NULL"),
            postgresql_where=text("done_at IS NULL AND overdue_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"), index=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    exchange_id: Mapped[int | None] = mapped_column(ForeignKey("exchanges.id"))
    text: Mapped[str] = mapped_column(Text)
    # Who does it: "us" or "them".
    party: Mapped[str] = mapped_column(String(8), default="us")
    due_at: Mapped[datetime]
    done_at: Mapped[datetime | None]
    done_by: Mapped[str | None] = mapped_column(String(80))
    overdue_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(Integer)

    call: Mapped[Call] = relationship(back_populates="actions")
    incident: Mapped[Incident] = relationship()

    __mapper_args__ = {"version_id_col": version}
