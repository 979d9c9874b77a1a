"""Enumerations and the category catalogue, from ../shared/DOMAIN.md."""

import enum


class Domain(enum.StrEnum):
    AIR = "air"
    MARITIME = "maritime"
    LAND = "land"
    CYBER_EM = "cyber_em"
    SPACE = "space"
    HYBRID = "hybrid"


class Precedence(enum.StrEnum):
    """Message precedence; the value is the prosign letter."""

    FLASH = "Z"
    IMMEDIATE = "O"
    PRIORITY = "P"
    ROUTINE = "R"

    @property
    def default_ack_seconds(self) -> int:
        return {"Z": 600, "O": 1800, "P": 10800, "R": 21600}[self.value]

    @property
    def rank(self) -> int:
        """0 for FLASH (most urgent) to 3 for ROUTINE."""
        return "ZOPR".index(self.value)


class SafetyRisk(enum.StrEnum):
    """ICAO airprox risk classes (E is UK-only)."""

    A = "A"
    B = "B"
    C = "C"
    D = "D"
    E = "E"


class EscalationRisk(enum.StrEnum):
    NEAR_ROUTINE = "near_routine"
    SERIOUS = "serious"
    HIGH = "high"

    @property
    def level(self) -> int:
        return ("near_routine", "serious", "high").index(self.value)


class IncidentStatus(enum.StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    EXHAUSTED = "exhausted"
    RESOLVED = "resolved"


class Role(enum.StrEnum):
    DUTY_OFFICER = "duty_officer"
    LIAISON = "liaison"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


class NotificationStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    DEAD = "dead"  # dead-lettered: out of attempts, or refused for good
    CANCELLED = "cancelled"


class NotificationKind(enum.StrEnum):
    NOTIFIED = "notified"
    ESCALATED = "escalated"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    EXHAUSTED = "exhausted"
    DEAD_LETTER = "dead_letter"
    # A message to the other side over a counterpart line: its text was written (and, for a
    # summary, approved) by our liaison and is sent as stored, never rebuilt from the incident.
    COUNTERPART = "counterpart"
    # Tells the supervisors that the other side let an exchange's deadline pass.
    EXCHANGE_OVERDUE = "exchange_overdue"
    # Tells the supervisors that the sweep left an incident's deadline unprocessed (services.watchdog).
    WATCHDOG = "watchdog"
    # Tells the supervisors that the other side has not confirmed receipt of a message in time.
    RECEIPT_OVERDUE = "receipt_overdue"
    # Tells the supervisors that an action agreed on a call passed its due time undone.
    ACTION_OVERDUE = "action_overdue"
    # Reminds the acknowledger of an acknowledged incident nobody has worked on for its timeout.
    IDLE_REMINDER = "idle_reminder"
    # Asks the supervisors to confirm a step reached by decision (asked again until confirmed).
    DECISION_ASKED = "decision_asked"

    @property
    def calls_for_action(self) -> bool:
        """Messages that ask someone to acknowledge; pointless once the incident is handled."""
        return self in (NotificationKind.NOTIFIED, NotificationKind.ESCALATED)


class ChannelHealth(enum.StrEnum):
    OK = "ok"
    DEGRADED = "degraded"
    DOWN = "down"


class CheckOutcome(enum.StrEnum):
    PENDING = "pending"
    OK = "ok"
    FAILED = "failed"


class AttemptOutcome(enum.StrEnum):
    SENT = "sent"
    TRANSIENT = "transient"
    PERMANENT = "permanent"


class EventKind(enum.StrEnum):
    FILED = "filed"
    ROUTED = "routed"
    NOTIFIED = "notified"
    ESCALATED = "escalated"
    ACKNOWLEDGED = "acknowledged"
    COMMENTED = "commented"
    RESOLVED = "resolved"
    EXHAUSTED = "exhausted"
    DEAD_LETTERED = "dead_lettered"
    FALLBACK = "fallback"
    EXERCISE_LINKED = "exercise_linked"
    NO_NOTICE = "no_notice"
    RELEASABILITY_CHANGED = "releasability_changed"
    EXCHANGE_OPENED = "exchange_opened"
    EXCHANGE_CHANGED = "exchange_changed"
    EXCHANGE_OVERDUE = "exchange_overdue"
    EXCHANGE_MESSAGE = "exchange_message"
    SUMMARY_DRAFTED = "summary_drafted"
    SUMMARY_APPROVED = "summary_approved"
    RELATED_SUGGESTED = "related_suggested"
    RELATED_CONFIRMED = "related_confirmed"
    RELATED_DISMISSED = "related_dismissed"
    WATCHDOG_ALERT = "watchdog_alert"
    CALL_LOGGED = "call_logged"
    ACTION_DONE = "action_done"
    ACTION_OVERDUE = "action_overdue"
    RECEIPT_RECORDED = "receipt_recorded"
    RECEIPT_OVERDUE = "receipt_overdue"
    MESSAGE_DRAFTED = "message_drafted"
    MESSAGE_APPROVED = "message_approved"
    MARKING_CHANGED = "marking_changed"
    AMENDED = "amended"
    IDLE_REMINDED = "idle_reminded"
    IDLE_REESCALATED = "idle_reescalated"
    DECISION_ASKED = "decision_asked"
    DECISION_CONFIRMED = "decision_confirmed"


class ExchangeState(enum.StrEnum):
    """Where a two-sided exchange stands (Vienna Document Chapter III practice)."""

    NOTIFIED = "notified"
    RECEIPT_CONFIRMED = "receipt_confirmed"
    EXPLANATION_REQUESTED = "explanation_requested"
    REPLY_RECEIVED = "reply_received"
    OVERDUE = "overdue"
    MEETING_REQUESTED = "meeting_requested"
    MEETING_HELD = "meeting_held"
    REFUSED = "refused"
    NO_ANSWER = "no_answer"
    CLOSED = "closed"


class MessageDirection(enum.StrEnum):
    OUT = "out"  # sent by us to the other side
    IN = "in"  # received from the other side, recorded by our liaison


class OutgoingStatus(enum.StrEnum):
    """Where a message of ours to the other side stands (four eyes: drafted, approved by a second
    person, then sent); a message the other side sent is "received"."""

    DRAFT = "draft"
    APPROVED = "approved"
    SENT = "sent"
    RECEIVED = "received"


class CallDirection(enum.StrEnum):
    WE_CALLED = "we_called"
    THEY_CALLED = "they_called"


class SummaryStatus(enum.StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    SENT = "sent"


class NotifiedVia(enum.StrEnum):
    """How an exercise was made known to us."""

    VIENNA_DOCUMENT = "vienna_document"
    BILATERAL_BRIEFING = "bilateral_briefing"
    VOLUNTARY_BRIEFING = "voluntary_briefing"


class LinkState(enum.StrEnum):
    SUGGESTED = "suggested"
    CONFIRMED = "confirmed"
    DISMISSED = "dismissed"


UNUSUAL_ACTIVITY = "unusual_military_activity"

CATEGORIES: dict[Domain, tuple[str, ...]] = {
    Domain.AIR: (
        "unsafe_intercept",
        "uncooperative_flight",
        "airspace_violation",
        "simulated_attack",
        "aerobatics_over_ship",
        "object_dropped",
    ),
    Domain.MARITIME: (
        "unsafe_manoeuvre",
        "impeding_formation",
        "weapon_aiming",
        "searchlight_illumination",
        "collision",
        "harassment_of_non_military_ship",
    ),
    Domain.LAND: ("unintended_territory_entry", "stray_fire"),
    Domain.CYBER_EM: ("laser", "jamming_c2_interference", "fire_control_lock_on"),
    Domain.SPACE: (),
    Domain.HYBRID: (
        "gnss_jamming",
        "disinformation",
        "infrastructure_disruption",
        "cyber_operation",
    ),
}


def categories_for(domain: Domain) -> tuple[str, ...]:
    """Return the categories allowed in a domain (unusual military activity is allowed in all)."""
    return CATEGORIES[domain] + (UNUSUAL_ACTIVITY,)


def all_categories() -> list[str]:
    """Return every category in the catalogue, each once."""
    seen: list[str] = []
    for domain in Domain:
        for category in categories_for(domain):
            if category not in seen:
                seen.append(category)
    return seen
