"""The incident, its append-only timeline, and its outbox of notifications."""

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    and_,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..errors import InvalidTransition
from ..timeutil import format_dtg, utcnow
from .agreement import Agreement
from .base import Base, enum_column
from .enums import (
    AttemptOutcome,
    Domain,
    EscalationRisk,
    EventKind,
    IncidentStatus,
    NotificationKind,
    NotificationStatus,
    Precedence,
    SafetyRisk,
)
from .labels import moment_text
from .ladder import ContactChannel
from .people import User

if TYPE_CHECKING:  # models.context imports this module
    from .context import ExerciseNotice

LIVE = (IncidentStatus.OPEN, IncidentStatus.EXHAUSTED)


class Incident(Base):
    __tablename__ = "incidents"
    __table_args__ = (
        # Related incidents are looked for by category and time window.
        Index("ix_incidents_category_occurred_at", "category", "occurred_at"),
        # Due work is found through this index only, however many closed incidents there are.
        Index(
            "ix_incidents_due",
            "next_escalation_at",
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
        # Idle acknowledged incidents are found through this index only.
        Index(
            "ix_incidents_idle",
            "idle_check_at",
            sqlite_where=text("status = 'acknowledged'"),
            postgresql_where=text("status = 'acknowledged'"),
        ),
        # New incidents whose related-incident search and exercise link the sweep has still to do.
        Index(
            "ix_incidents_checks_due",
            "checks_due_at",
            sqlite_where=text("checks_due_at IS NOT NULL"),
            postgresql_where=text("checks_due_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    occurred_at: Mapped[datetime]
    reported_at: Mapped[datetime] = mapped_column(default=utcnow)
    reporting_unit: Mapped[str] = mapped_column(String(120))
    domain: Mapped[Domain] = mapped_column(enum_column(Domain))
    category: Mapped[str] = mapped_column(String(64))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    position_text: Mapped[str | None] = mapped_column(String(120))
    sector: Mapped[str | None] = mapped_column(String(120))
    # Whether the sector was given by hand (True: an amendment of the position leaves it) or derived from the
    # position (False: it follows the position). None: filed before migration 0025 recorded it, so inferred
    # (services.incidents.filing.sector_was_given).
    sector_given: Mapped[bool | None] = mapped_column(Boolean)
    # Geodesic distance to the nearest border line of the deployment's region, when the position is known.
    border_distance_km: Mapped[float | None] = mapped_column(Float)
    # What that distance was measured against ("natural_earth_10m", "fictional", ...): a distance
    # measured on a fictional region is never stated to the other side.
    border_basis: Mapped[str | None] = mapped_column(String(40))
    cpa_horizontal_m: Mapped[int | None] = mapped_column(Integer)
    cpa_vertical_ft: Mapped[int | None] = mapped_column(Integer)
    # The units the closest point of approach was given in ("m", "ft", "nm"), to show it as reported.
    cpa_horizontal_unit: Mapped[str | None] = mapped_column(String(4))
    cpa_vertical_unit: Mapped[str | None] = mapped_column(String(4))
    # What our own reports saw of a linked exercise ({"troops": 3000, "battle_tanks": 40, ...}).
    observed_forces: Mapped[dict | None] = mapped_column(JSON)
    platforms: Mapped[list] = mapped_column(JSON, default=list)
    actions_taken: Mapped[str] = mapped_column(Text, default="")
    precedence: Mapped[Precedence] = mapped_column(enum_column(Precedence))
    safety_risk: Mapped[SafetyRisk | None] = mapped_column(enum_column(SafetyRisk))
    escalation_risk: Mapped[EscalationRisk] = mapped_column(enum_column(EscalationRisk))
    narrative: Mapped[str] = mapped_column(Text, default="")
    # Per-field overrides of what may be sent to the other side ({"narrative": true, ...});
    # fields not named take the default of tracker.services.exchanges.releasability.
    releasability: Mapped[dict] = mapped_column(JSON, default=dict)
    # The marking: a classification from CLASSIFICATIONS and the counterparts (from RELEASABLE_TO)
    # it may be released to; an empty list is "not releasable".
    classification: Mapped[str] = mapped_column(String(32), default="UNCLASSIFIED")
    releasable_to: Mapped[list] = mapped_column(JSON, default=list)
    # The agreement it is handled under and the other State: from its routing rule or counterpart line.
    agreement_id: Mapped[int | None] = mapped_column(ForeignKey("agreements.id", ondelete="SET NULL"))
    counterpart_state: Mapped[str | None] = mapped_column(String(80))
    # The notified exercise whose area and time hold this incident (context that lowers the temperature).
    exercise_id: Mapped[int | None] = mapped_column(ForeignKey("exercises.id", ondelete="SET NULL"), index=True)
    # Unusual activity near the border with no exercise notice on record.
    no_notice: Mapped[bool] = mapped_column(Boolean, default=False)
    # When the checks a filing leaves to the sweep (related incidents, the exercise link) are due; NULL
    # once done. The duty officer's answer does not wait for them (services/incidents/checks.py).
    checks_due_at: Mapped[datetime | None]
    status: Mapped[IncidentStatus] = mapped_column(enum_column(IncidentStatus), default=IncidentStatus.OPEN, index=True)
    version: Mapped[int] = mapped_column(Integer)

    # The ladder is a snapshot of the policy taken at filing: editing the policy later
    # never changes a running escalation.
    ladder: Mapped[dict] = mapped_column(JSON)
    routing_rule_id: Mapped[int | None] = mapped_column(ForeignKey("routing_rules.id", ondelete="SET NULL"))
    policy_id: Mapped[int | None] = mapped_column(ForeignKey("escalation_policies.id", ondelete="SET NULL"))
    current_step: Mapped[int] = mapped_column(Integer, default=1)
    loop: Mapped[int] = mapped_column(Integer, default=0)
    next_escalation_at: Mapped[datetime | None]
    # The names of the current step's lines, kept at each step entered (notify.enter_step): the board
    # reads them instead of the whole ladder.
    step_channels: Mapped[list | None] = mapped_column(JSON)
    # The missed deadline the watchdog last raised an alert for: one alert per incident and deadline.
    watchdog_deadline_at: Mapped[datetime | None]
    # A step reached "by decision" (PolicyStep.by_decision) waits here for a supervisor's confirmation:
    # the step, when the question was first put, and how many times it has been put.
    decision_step: Mapped[int | None] = mapped_column(Integer)
    decision_asked_at: Mapped[datetime | None]
    decision_asks: Mapped[int] = mapped_column(Integer, default=0)
    # Acknowledged but idle: when the acknowledgement timeout is next looked at, and how far it went
    # (0: nothing yet, 1: the acknowledger was reminded; the next stage re-escalates).
    idle_check_at: Mapped[datetime | None]
    idle_stage: Mapped[int] = mapped_column(Integer, default=0)

    filed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Who acknowledged, in words: a username, or a channel's recipient who used a signed link.
    acknowledged_by_label: Mapped[str | None] = mapped_column(String(255))
    resolved_at: Mapped[datetime | None]
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolution: Mapped[str | None] = mapped_column(Text)

    filed_by: Mapped[User | None] = relationship(foreign_keys=[filed_by_id])
    acknowledged_by: Mapped[User | None] = relationship(foreign_keys=[acknowledged_by_id])
    resolved_by: Mapped[User | None] = relationship(foreign_keys=[resolved_by_id])
    events: Mapped[list["TimelineEvent"]] = relationship(back_populates="incident", order_by="TimelineEvent.id")
    notifications: Mapped[list["Notification"]] = relationship(back_populates="incident", order_by="Notification.id")
    # The amendments alone, without the rest of the timeline: their addenda belong to the narrative every
    # message about the incident states (a sweep batch loads them with its incidents in one query).
    amendments: Mapped[list["TimelineEvent"]] = relationship(
        primaryjoin=lambda: and_(Incident.id == TimelineEvent.incident_id, TimelineEvent.kind == EventKind.AMENDED),
        order_by=lambda: TimelineEvent.id,
        viewonly=True,
    )
    exercise: Mapped["ExerciseNotice | None"] = relationship("ExerciseNotice")
    agreement: Mapped[Agreement | None] = relationship()
    # Not a column: board and queue rows are marked when a message to them was given up on.
    dead_letter = False

    # Every ORM update checks and bumps the version; the engine's claims bump it too.
    __mapper_args__ = {"version_id_col": version}

    @property
    def steps(self) -> list[dict]:
        return self.ladder["steps"]

    @property
    def step_count(self) -> int:
        return len(self.steps)

    @property
    def repeats(self) -> int:
        """How many times the last step is called again before the ladder is exhausted."""
        return int(self.ladder.get("repeat") or 0)

    @property
    def step(self) -> dict:
        return self.steps[self.current_step - 1]

    @property
    def next_by_decision(self) -> bool:
        """Whether the step above the current one waits for the supervisors' decision (its deadline asks them)."""
        return self.current_step < self.step_count and bool(self.steps[self.current_step].get("by_decision"))

    @property
    def occurred_dtg(self) -> str:
        return format_dtg(self.occurred_at)

    @property
    def filed_by_name(self) -> str | None:
        return self.filed_by.username if self.filed_by else None

    @property
    def acknowledged_by_name(self) -> str | None:
        return self.acknowledged_by_label

    @property
    def resolved_by_name(self) -> str | None:
        return self.resolved_by.username if self.resolved_by else None

    def ensure_can_acknowledge(self) -> None:
        if self.status not in LIVE:
            owner = ""  # who owns it now, and since when: the one a late acknowledger turns to
            if self.status is IncidentStatus.ACKNOWLEDGED and self.acknowledged_at is not None:
                by = f" by {self.acknowledged_by_label}" if self.acknowledged_by_label else ""
                owner = f"{by} at {moment_text(self.acknowledged_at)}"
            raise InvalidTransition(
                f"{self.reference} is already {self.status.value}{owner}",
                {"status": self.status.value, "acknowledged_at": self.acknowledged_at, "version": self.version},
            )

    def ensure_can_resolve(self) -> None:
        if self.status is IncidentStatus.RESOLVED:
            raise InvalidTransition(
                f"{self.reference} is already resolved",
                {"status": self.status.value, "resolved_at": self.resolved_at, "version": self.version},
            )


class TimelineEvent(Base):
    """One line of the append-only record (updates and deletes are refused by the database).

    The sweep seals each event after it commits (AuditSeal, tracker.services.review.audit), so an edited
    or deleted row no longer matches the audit chain.
    """

    __tablename__ = "timeline_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    kind: Mapped[EventKind] = mapped_column(enum_column(EventKind))
    actor: Mapped[str] = mapped_column(String(80))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    details: Mapped[dict] = mapped_column(JSON, default=dict)

    incident: Mapped[Incident] = relationship(back_populates="events")


class Notification(Base):
    """An outbox row: one message to one channel (or supervisor) for one step and loop."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("incident_id", "kind", "step", "loop", "channel_id"),
        Index(
            "uq_notifications_user_message",
            "incident_id",
            "kind",
            "step",
            "loop",
            "user_id",
            unique=True,
            sqlite_where=text("user_id IS NOT NULL AND about_id IS NULL"),
            postgresql_where=text("user_id IS NOT NULL AND about_id IS NULL"),
        ),
        # A dead letter tells each supervisor once of each message given up on (about_id).
        Index(
            "uq_notifications_user_about",
            "about_id",
            "user_id",
            unique=True,
            sqlite_where=text("about_id IS NOT NULL"),
            postgresql_where=text("about_id IS NOT NULL"),
        ),
        Index(
            "ix_notifications_deliverable",
            "next_attempt_at",
            sqlite_where=text("status IN ('pending', 'sending')"),
            postgresql_where=text("status IN ('pending', 'sending')"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    kind: Mapped[NotificationKind] = mapped_column(enum_column(NotificationKind))
    step: Mapped[int] = mapped_column(Integer)
    loop: Mapped[int] = mapped_column(Integer)
    channel_id: Mapped[int | None] = mapped_column(ForeignKey("contact_channels.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    status: Mapped[NotificationStatus] = mapped_column(
        enum_column(NotificationStatus), default=NotificationStatus.PENDING
    )
    # The message, rendered once when the row is queued (services/engine/rendering.py) and sent as
    # stored: subject, plain text, and the webhook body's facts (without the subject and text, and
    # without what only the sending knows: idempotency key, sent_at). The HTML part is the stored text
    # in a fixed frame, made as the mail is composed; html holds it only for rows queued by versions
    # that stored it, which send it as stored. Rows queued before migration 0010 have no facts;
    # delivery renders those once, at the first claim.
    subject: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)
    html: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict | None] = mapped_column(JSON)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_until: Mapped[datetime | None]
    # The scheduler (runners.name) holding the claim; a live one takes over a dead one's claims.
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    # For a DEAD LETTER message to a supervisor: the message given up on that it tells of.
    about_id: Mapped[int | None] = mapped_column(ForeignKey("notifications.id"))
    # For a message to the other side: the exchange message it carries (sent as stored).
    exchange_message_id: Mapped[int | None] = mapped_column(ForeignKey("exchange_messages.id"))

    incident: Mapped[Incident] = relationship(back_populates="notifications")
    channel: Mapped[ContactChannel | None] = relationship()
    user: Mapped[User | None] = relationship()
    attempts_made: Mapped[list["DeliveryAttempt"]] = relationship(
        back_populates="notification", order_by="DeliveryAttempt.id"
    )

    @property
    def channel_name(self) -> str | None:
        return self.channel.name if self.channel else None

    @property
    def user_name(self) -> str | None:
        return self.user.username if self.user else None

    @property
    def recipient(self) -> str:
        return recipient_of(self.channel, self.user)


def recipient_of(channel: ContactChannel | None, user: User | None) -> str:
    """Who a message goes to, in words: its channel's name, or the supervisor's username."""
    if channel is not None:
        return channel.name
    return user.username if user else "?"


class DeliveryAttempt(Base):
    """One try at handing a message to its transport, with what came of it."""

    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    transport: Mapped[str] = mapped_column(String(32))
    outcome: Mapped[AttemptOutcome] = mapped_column(enum_column(AttemptOutcome))
    response_code: Mapped[str | None] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)
    latency_ms: Mapped[int] = mapped_column(Integer)

    notification: Mapped[Notification] = relationship(back_populates="attempts_made")
