"""The tracker's data model (SQLAlchemy 2.0 declarative). No Flask imports."""

from .base import Base, UTCDateTime
from .checks import ChannelCheck, LinkUse
from .enums import (
    CATEGORIES,
    AttemptOutcome,
    ChannelHealth,
    CheckOutcome,
    Domain,
    EscalationRisk,
    EventKind,
    IncidentStatus,
    NotificationKind,
    NotificationStatus,
    Precedence,
    Role,
    SafetyRisk,
    all_categories,
    categories_for,
)
from .incident import LIVE, DeliveryAttempt, Incident, Notification, TimelineEvent
from .ladder import ContactChannel, EscalationPolicy, PolicyStep, RoutingRule, channel_members, step_channels
from .people import ApiToken, User
from .system import Counter, JobRun

__all__ = [
    "AttemptOutcome",
    "ChannelCheck",
    "ChannelHealth",
    "CheckOutcome",
    "DeliveryAttempt",
    "LinkUse",
    "CATEGORIES",
    "LIVE",
    "ApiToken",
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
    "TimelineEvent",
    "UTCDateTime",
    "User",
    "all_categories",
    "categories_for",
    "channel_members",
    "step_channels",
]
