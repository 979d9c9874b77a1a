"""The tracker's data model (SQLAlchemy 2.0 declarative). No Flask imports."""

from . import config_version
from .agreement import Agreement
from .audit import AuditSeal
from .base import Base, UTCDateTime
from .calls import AgreedAction, Call
from .checks import ChannelCheck, LinkUse
from .config_log import ConfigChange
from .context import ExerciseBriefing, ExerciseNotice, IncidentLink
from .enums import (
    CATEGORIES,
    AttemptOutcome,
    CallDirection,
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
    OutgoingStatus,
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
from .security import AccountEvent, IdempotentRequest, OwnKey, SignInFailure, WebSession
from .system import Counter, JobRun, MetricsSnapshot, Runner, ThrottleHit
from .watch import Handover, Watch, WatchEntry

__all__ = [
    "config_version",
    "ConfigChange",
    "AgreedAction",
    "Agreement",
    "Call",
    "CallDirection",
    "OutgoingStatus",
    "CLOCKS",
    "TRANSITIONS",
    "Exchange",
    "ExchangeMessage",
    "ExchangeState",
    "ExerciseBriefing",
    "ExerciseNotice",
    "Handover",
    "Watch",
    "WatchEntry",
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
    "AccountEvent",
    "IdempotentRequest",
    "MetricsSnapshot",
    "Runner",
    "OwnKey",
    "SignInFailure",
    "WebSession",
    "TimelineEvent",
    "UTCDateTime",
    "User",
    "all_categories",
    "categories_for",
    "channel_members",
    "step_channels",
]
