"""Lines of communication, escalation policies and the routing rules that choose them."""

from datetime import datetime

from sqlalchemy import JSON, Boolean, Column, Float, ForeignKey, Index, Integer, String, Table, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..timeutil import utcnow
from .agreement import Agreement
from .base import Base, enum_column
from .enums import ChannelHealth, Domain, EscalationRisk, Precedence
from .people import User

channel_members = Table(
    "channel_members",
    Base.metadata,
    Column("channel_id", ForeignKey("contact_channels.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
)

step_channels = Table(
    "policy_step_channels",
    Base.metadata,
    Column("step_id", ForeignKey("policy_steps.id", ondelete="CASCADE"), primary_key=True),
    Column("channel_id", ForeignKey("contact_channels.id", ondelete="RESTRICT"), primary_key=True),
)


class ContactChannel(Base):
    """A line of communication: a desk, a hotline, a deconfliction line, a mailbox."""

    __tablename__ = "contact_channels"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    level: Mapped[int] = mapped_column(Integer)
    counterpart: Mapped[str] = mapped_column(String(120), default="")
    transport: Mapped[str] = mapped_column(String(32))
    address: Mapped[str] = mapped_column(String(500))
    # Shared with the receiver of a webhook channel to sign each request (HMAC-SHA256).
    secret: Mapped[str | None] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Counts its saves by an admin (the API, an admin page): an edit names the version it read, 409 when
    # another was saved in between. Not a version_id_col: the scheduler's own writes (a line's health, its
    # next check) are nobody's edit, and must not make an admin's open form stale.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    # A line to the other side: it carries exchanges (approved, releasable text only) and is
    # never on an escalation ladder, whose messages hold our own incident details.
    counterpart_line: Mapped[bool] = mapped_column(Boolean, default=False)
    # Deadlines of an exchange over this line (Vienna Document Chapter III: 48 h each).
    reply_deadline_seconds: Mapped[int] = mapped_column(Integer, default=172800)
    meeting_deadline_seconds: Mapped[int] = mapped_column(Integer, default=172800)
    # The counterpart's language (a message catalogue under tracker/catalogues); None: English only.
    language: Mapped[str | None] = mapped_column(String(8))
    # A counterpart line's ends, as a formatted message names them (FM ... / TO ...).
    our_station: Mapped[str] = mapped_column(String(120), default="")
    their_station: Mapped[str] = mapped_column(String(120), default="")
    # What the line is for: the agreement its messages are sent under, and the other State.
    agreement_id: Mapped[int | None] = mapped_column(ForeignKey("agreements.id", ondelete="SET NULL"))
    counterpart_state: Mapped[str] = mapped_column(String(80), default="")
    # Seconds the other side has to confirm receipt of a message, by precedence letter
    # ({"Z": 900, ...}); None or a letter left out: the deployment's RECEIPT_SECONDS.
    receipt_seconds: Mapped[dict | None] = mapped_column(JSON)

    # Communications checks: an interval or a cron expression, and how long a check may wait.
    check_interval_seconds: Mapped[int | None] = mapped_column(Integer)
    check_cron: Mapped[str | None] = mapped_column(String(100))
    check_window_seconds: Mapped[int] = mapped_column(Integer, default=900)
    next_check_at: Mapped[datetime | None] = mapped_column(index=True)
    health: Mapped[ChannelHealth] = mapped_column(enum_column(ChannelHealth), default=ChannelHealth.OK)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    last_check_at: Mapped[datetime | None]
    last_check_ok_at: Mapped[datetime | None]

    members: Mapped[list[User]] = relationship(secondary=channel_members, order_by=User.username)
    agreement: Mapped[Agreement | None] = relationship()

    @property
    def member_names(self) -> list[str]:
        return [u.username for u in self.members]

    @property
    def their_end(self) -> str:
        """The line's far end as the other side knows it: their station, else the counterpart, else their
        State. What a message to them is addressed to (TO, the e-mail's display name, a webhook's recipient),
        never the line's name, which is our internal naming of it."""
        return self.their_station or self.counterpart or self.counterpart_state or "THE ADDRESSEE"

    def seen_by_them(self, our_station: str) -> str:
        """The line as both ends know it, "our station – their station" (our_station: the deployment's,
        for a line that names none of its own), as a line check and a receipt page name it to them."""
        return line_between(self.our_station or our_station, self.their_end)


def line_between(ours: str, theirs: str) -> str:
    """A counterpart line named by its two stations, ours first (ContactChannel.seen_by_them)."""
    return f"{ours} – {theirs}"


class EscalationPolicy(Base):
    __tablename__ = "escalation_policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    repeat: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")  # as ContactChannel.version

    steps: Mapped[list["PolicyStep"]] = relationship(
        back_populates="policy", order_by="PolicyStep.position", cascade="all, delete-orphan"
    )


class PolicyStep(Base):
    __tablename__ = "policy_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("escalation_policies.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    # None: take the deadline from the incident's precedence (Z 600 s ... R 21600 s).
    ack_seconds: Mapped[int | None] = mapped_column(Integer)
    # Used instead of any channel of this step that is down (or inactive) when the step is entered.
    fallback_channel_id: Mapped[int | None] = mapped_column(ForeignKey("contact_channels.id", ondelete="SET NULL"))
    # Reached by decision, not by timer: when the previous step's time runs out the supervisors are
    # asked to confirm this step (political levels), and asked again until one does.
    by_decision: Mapped[bool] = mapped_column(Boolean, default=False)

    policy: Mapped[EscalationPolicy] = relationship(back_populates="steps")
    channels: Mapped[list[ContactChannel]] = relationship(secondary=step_channels, order_by=ContactChannel.level)
    fallback_channel: Mapped[ContactChannel | None] = relationship()

    @property
    def channel_ids(self) -> list[int]:
        return [c.id for c in self.channels]

    @property
    def channel_names(self) -> list[str]:
        return [c.name for c in self.channels]

    def ack_seconds_for(self, precedence: Precedence) -> int:
        return self.ack_seconds if self.ack_seconds is not None else precedence.default_ack_seconds


class RoutingRule(Base):
    """An ordered rule; the first active rule whose every set criterion matches wins."""

    __tablename__ = "routing_rules"
    __table_args__ = (
        Index(
            "uq_routing_rules_one_default",
            "is_default",
            unique=True,
            sqlite_where=text("is_default"),
            postgresql_where=text("is_default"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    position: Mapped[int] = mapped_column(Integer, index=True)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    domain: Mapped[Domain | None] = mapped_column(enum_column(Domain))
    category: Mapped[str | None] = mapped_column(String(64))
    precedence: Mapped[Precedence | None] = mapped_column(enum_column(Precedence))
    min_escalation_risk: Mapped[EscalationRisk | None] = mapped_column(enum_column(EscalationRisk))
    sector: Mapped[str | None] = mapped_column(String(120))
    # Matches incidents at most this many km from the border (needs a position and a region file).
    within_border_km: Mapped[float | None] = mapped_column(Float)
    # The agreement and the other State an incident this rule routes is handled under.
    agreement_id: Mapped[int | None] = mapped_column(ForeignKey("agreements.id", ondelete="SET NULL"))
    counterpart_state: Mapped[str | None] = mapped_column(String(80))
    policy_id: Mapped[int] = mapped_column(ForeignKey("escalation_policies.id"), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")  # as ContactChannel.version

    policy: Mapped[EscalationPolicy] = relationship()
    agreement: Mapped[Agreement | None] = relationship()

    @property
    def policy_name(self) -> str:
        return self.policy.name
