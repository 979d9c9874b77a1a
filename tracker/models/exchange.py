"""The exchange with the other side: its state and clock, every message each way, and summaries."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from ..timeutil import utcnow
from .agreement import Agreement
from .base import Base, enum_column
from .enums import ExchangeState, MessageDirection, OutgoingStatus, SummaryStatus
from .incident import Incident
from .ladder import ContactChannel
from .people import User

S = ExchangeState
# Which state may follow which; "overdue" is entered by the engine when a clock runs out.
TRANSITIONS: dict[ExchangeState, tuple[ExchangeState, ...]] = {
    S.NOTIFIED: (S.RECEIPT_CONFIRMED, S.EXPLANATION_REQUESTED, S.REFUSED, S.NO_ANSWER, S.CLOSED),
    S.RECEIPT_CONFIRMED: (S.EXPLANATION_REQUESTED, S.REFUSED, S.CLOSED),
    S.EXPLANATION_REQUESTED: (S.REPLY_RECEIVED, S.OVERDUE, S.REFUSED, S.NO_ANSWER),
    S.REPLY_RECEIVED: (S.MEETING_REQUESTED, S.CLOSED),
    # Overdue keeps the kind of the clock that ran out: a meeting held late follows a meeting's clock only.
    S.OVERDUE: (S.REPLY_RECEIVED, S.MEETING_REQUESTED, S.MEETING_HELD, S.NO_ANSWER, S.CLOSED),
    S.MEETING_REQUESTED: (S.MEETING_HELD, S.OVERDUE, S.REFUSED, S.NO_ANSWER),
    S.MEETING_HELD: (S.CLOSED,),
    S.REFUSED: (S.MEETING_REQUESTED, S.CLOSED),
    S.NO_ANSWER: (S.MEETING_REQUESTED, S.CLOSED),
    S.CLOSED: (),
}
# States that run a clock, and the per-exchange deadline (seconds) each one takes.
CLOCKS: dict[ExchangeState, str] = {S.EXPLANATION_REQUESTED: "reply", S.MEETING_REQUESTED: "meeting"}


class Exchange(Base):
    """One conversation with the counterpart about one incident, over one counterpart line."""

    __tablename__ = "exchanges"
    __table_args__ = (
        # The engine finds running clocks through this index only.
        Index(
            "ix_exchanges_due",
            "deadline_at",
            sqlite_where=text("deadline_at IS NOT NULL"),
            postgresql_where=text("deadline_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("contact_channels.id"))
    state: Mapped[ExchangeState] = mapped_column(enum_column(ExchangeState), default=ExchangeState.NOTIFIED)
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Deadlines taken from the channel when the exchange opened (Vienna Document: 48 h each).
    reply_seconds: Mapped[int] = mapped_column(Integer)
    meeting_seconds: Mapped[int] = mapped_column(Integer)
    # The second language of the counterpart line, if any (summaries go out in both).
    language: Mapped[str | None] = mapped_column(String(8))
    # The running clock: set while the state waits on the other side, cleared otherwise.
    deadline_at: Mapped[datetime | None]
    deadline_kind: Mapped[str | None] = mapped_column(String(16))
    overdue_count: Mapped[int] = mapped_column(Integer, default=0)
    state_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(Text)
    # The reference the other side knows it by (never our internal incident number).
    reference: Mapped[str | None] = mapped_column(String(40), unique=True)
    agreement_id: Mapped[int | None] = mapped_column(ForeignKey("agreements.id", ondelete="SET NULL"))
    counterpart_state: Mapped[str | None] = mapped_column(String(80))
    version: Mapped[int] = mapped_column(Integer)

    # Incident.exchanges: the incident's exchanges, oldest first (the API shows them on the incident).
    incident: Mapped[Incident] = relationship(backref=backref("exchanges", order_by="Exchange.id"))
    channel: Mapped[ContactChannel] = relationship()
    opened_by: Mapped[User | None] = relationship()
    agreement: Mapped[Agreement | None] = relationship()
    messages: Mapped[list["ExchangeMessage"]] = relationship(back_populates="exchange", order_by="ExchangeMessage.id")

    __mapper_args__ = {"version_id_col": version}

    @property
    def channel_name(self) -> str:
        return self.channel.name

    @property
    def is_open(self) -> bool:
        return self.state is not ExchangeState.CLOSED


class ExchangeMessage(Base):
    """One message to or from the other side, with its text, time and line.

    Ours go out only after a second person approved them (four eyes): drafted, approved, then sent
    with a serial number of the line and year, the agreement and article, and a receipt clock.
    """

    __tablename__ = "exchange_messages"
    __table_args__ = (
        # Serials are per line and year, gapless: one row per number.
        UniqueConstraint("channel_id", "serial_year", "serial"),
        # The engine finds receipt clocks that ran out through this index only.
        Index(
            "ix_exchange_messages_receipt_due",
            "receipt_due_at",
            sqlite_where=text("receipt_at IS NULL AND receipt_overdue_at IS NULL"),
            postgresql_where=text("receipt_at IS NULL AND receipt_overdue_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    exchange_id: Mapped[int] = mapped_column(ForeignKey("exchanges.id"), index=True)
    direction: Mapped[MessageDirection] = mapped_column(enum_column(MessageDirection))
    # What the message is: notice, summary, explanation_request, reply, meeting_request, ...
    kind: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    # The same text in the line's second language, when it went out in two.
    text_second: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(8))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    channel_id: Mapped[int] = mapped_column(ForeignKey("contact_channels.id"))
    recorded_by: Mapped[str] = mapped_column(String(80))
    # When it was typed in (at: when it was sent, or when the other side's message was received).
    recorded_at: Mapped[datetime | None]

    # Four eyes (ours only): who drafted it, who approved it and on which facts of the incident.
    status: Mapped[OutgoingStatus] = mapped_column(enum_column(OutgoingStatus), default=OutgoingStatus.SENT)
    drafted_by: Mapped[str | None] = mapped_column(String(80))
    # Who last changed the wording (also an author: may not approve it either).
    edited_by: Mapped[str | None] = mapped_column(String(80))
    # Everyone who wrote the wording, drafter first (none of them may approve it).
    written_by: Mapped[list | None] = mapped_column(JSON)
    # Bumped by each edit, approval and withdrawal of a draft (PATCH names the version it read).
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    approved_by: Mapped[str | None] = mapped_column(String(80))
    approved_at: Mapped[datetime | None]
    facts_digest: Mapped[str | None] = mapped_column(String(64))
    # The exchange state the message moves to once it is sent (a request for explanation, ...).
    pending_state: Mapped[ExchangeState | None] = mapped_column(enum_column(ExchangeState))

    # The formatted message's header (ours, once sent).
    serial: Mapped[int | None] = mapped_column(Integer)
    serial_year: Mapped[int | None] = mapped_column(Integer)
    agreement_id: Mapped[int | None] = mapped_column(ForeignKey("agreements.id", ondelete="SET NULL"))
    article: Mapped[str | None] = mapped_column(String(120))
    subject: Mapped[str | None] = mapped_column(String(255))

    # Their receipt of ours: due by, when, who, how (link, call, message); the engine marks it overdue.
    receipt_due_at: Mapped[datetime | None]
    receipt_at: Mapped[datetime | None]
    receipt_by: Mapped[str | None] = mapped_column(String(255))
    receipt_via: Mapped[str | None] = mapped_column(String(16))
    receipt_overdue_at: Mapped[datetime | None]
    # The call this message was said on, when it was.
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id", ondelete="SET NULL"))
    # The message of theirs this one answers: our receipt confirms it, our reply answers it.
    answers_id: Mapped[int | None] = mapped_column(ForeignKey("exchange_messages.id", ondelete="SET NULL"))

    exchange: Mapped[Exchange] = relationship(back_populates="messages")
    channel: Mapped[ContactChannel] = relationship()
    agreement: Mapped[Agreement | None] = relationship()
    answers: Mapped["ExchangeMessage | None"] = relationship(remote_side=[id])


class Summary(Base):
    """A counterpart summary drafted from releasable fields only; it goes out only once approved."""

    __tablename__ = "summaries"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    exchange_id: Mapped[int | None] = mapped_column(ForeignKey("exchanges.id"))
    status: Mapped[SummaryStatus] = mapped_column(enum_column(SummaryStatus), default=SummaryStatus.DRAFT)
    text: Mapped[str] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(8))
    text_second: Mapped[str | None] = mapped_column(Text)
    # The incident fields the draft was made from (all releasable when drafted).
    fields: Mapped[list] = mapped_column(JSON, default=list)
    drafted_at: Mapped[datetime] = mapped_column(default=utcnow)
    drafted_by: Mapped[str] = mapped_column(String(80))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    approved_at: Mapped[datetime | None]
    approved_by: Mapped[str | None] = mapped_column(String(80))
    # Who last changed the wording, when not its drafter (an author too: may not approve it).
    edited_by: Mapped[str | None] = mapped_column(String(80))
    # Everyone who wrote the wording, drafter first (none of them may approve it).
    written_by: Mapped[list | None] = mapped_column(JSON)
    # The incident's facts the approval was given on: changed since, the summary needs approving again.
    facts_digest: Mapped[str | None] = mapped_column(String(64))
    sent_at: Mapped[datetime | None]
    message_id: Mapped[int | None] = mapped_column(ForeignKey("exchange_messages.id"))
    version: Mapped[int] = mapped_column(Integer)

    incident: Mapped[Incident] = relationship()
    exchange: Mapped[Exchange | None] = relationship()

    __mapper_args__ = {"version_id_col": version}
