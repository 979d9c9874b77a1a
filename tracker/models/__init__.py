"""The tracker's data model (SQLAlchemy 2.0 declarative). No Flask imports."""

from .audit import AuditSeal
from .base import Base, UTCDateTime
from .checks import ChannelCheck, LinkUse
from .context import ExerciseNotice, IncidentLink
from .enums import (
    CATEGORIES,
    AttemptOutcome,
    ChannelHealth,
    CheckOutcome,
    Domain,
    EscalationRisk,
    EventKind,
    ExchangeState,
    IncidentStatus,
    LinkState,
    MessageDirection,
    NotificationKind,
    NotificationStatus,
    NotifiedVia,
    Precedence,
    Role,
    SafetyRisk,
    SummaryStatus,
    all_categories,
    categories_for,
)
from .exchange import CLOCKS, TRANSITIONS, Exchange, ExchangeMessage, Summary
from .incident import LIVE, DeliveryAttempt, Incident, Notification, TimelineEvent
from .ladder import ContactChannel, EscalationPolicy, PolicyStep, RoutingRule, channel_members, step_channels
from .people import ApiToken, User
from .system import Counter, JobRun, ThrottleHit

__all__ = [
    "CLOCKS",
    "TRANSITIONS",
    "Exchange",
    "ExchangeMessage",
    "ExchangeState",
    "ExerciseNotice",
    "IncidentLink",
    "LinkState",
    "MessageDirection",
    "NotifiedVia",
    "Summary",
    "SummaryStatus",
    "AttemptOutcome",
    "ChannelCheck",
    "ChannelHealth",
    "CheckOutcome",
    "DeliveryAttempt",
    "LinkUse",
    "CATEGORIES",
    "LIVE",
    "ApiToken",
    "AuditSeal",
    "Base",
    "ContactChannel",
    "Counter",
    "Domain",
    "EscalationPolicy",
    "EscalationRisk",
    "EventKind",
    "Incident",
    "IncidentStatus",
    "JobRun",
    "Notification",
    "NotificationKind",
    "NotificationStatus",
    "PolicyStep",
    "Precedence",
    "Role",
    "RoutingRule",
    "SafetyRisk",
    "ThrottleHit",
    "TimelineEvent",
    "UTCDateTime",
    "User",
    "all_categories",
    "categories_for",
    "channel_members",
    "step_channels",
]
