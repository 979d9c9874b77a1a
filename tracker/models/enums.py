"""Enumerations and the category catalogue, from ../shared/DOMAIN.md."""

import enum
from dataclasses import dataclass


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

    @property
    def label(self) -> str:
        """The role in words, as a refusal names it: "duty officer"."""
        return self.value.replace("_", " ")


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
    # Tells the lines called on the current step that an amendment raised the precedence: the new one and
    # the deadline it brought (services.engine.notify.tell_upgrade); keyed by the amended version as loop.
    UPGRADED = "upgraded"

    @property
    def calls_for_action(self) -> bool:
        """Messages that ask someone to acknowledge; pointless once the incident is handled."""
        return self in (NotificationKind.NOTIFIED, NotificationKind.ESCALATED, NotificationKind.UPGRADED)


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


@dataclass(frozen=True)
class Category:
    """One kind of incident: the domains it may be filed in, a label for people, what it covers."""

    name: str
    domains: tuple[Domain, ...]
    definition: str
    label: str = ""

    @property
    def shown(self) -> str:
        return self.label or self.name.replace("_", " ")


_A, _M, _L, _C, _H = Domain.AIR, Domain.MARITIME, Domain.LAND, Domain.CYBER_EM, Domain.HYBRID
# One table (../shared/DOMAIN.md): a category may belong to several domains. Names and (domain, category)
# pairs are never removed or narrowed: stored incidents keep them. The first domain is the category's home.
CATALOGUE: tuple[Category, ...] = (
    Category(
        "unsafe_intercept",
        (_A,),
        "An aircraft intercepted one of ours or passed it closer than safe separation (airprox).",
    ),
    Category(
        "uncooperative_flight", (_A,), "A flight near the line with no transponder, no flight plan or no radio contact."
    ),
    Category("airspace_violation", (_A,), "An aircraft or drone of the other side crossed into our airspace."),
    Category(
        "simulated_attack",
        (_A,),
        "An aircraft flew a weapons-delivery profile at a unit or aimed weapons at it without firing.",
    ),
    Category("aerobatics_over_ship", (_A,), "Aerobatics flown over a ship (banned by the Incidents at Sea agreement)."),
    Category("object_dropped", (_A,), "An object dropped near a ship or unit in a way that endangers it."),
    Category(
        "weapon_fired_or_released",
        (_A, _M, _L),
        "A gun, missile, torpedo, bomb or mine deliberately fired, launched or released at or near our units; "
        "rounds falling across the line by mistake are stray fire.",
    ),
    Category(
        "shoot_down",
        (_A,),
        "An aircraft or drone brought down by weapons: air domain whatever fired (ground, aircraft or ship), "
        "since the platform lost was flying.",
        "shoot-down",
    ),
    Category(
        "mid_air_collision_or_strike",
        (_A,),
        "Contact in flight between aircraft, or an aircraft hit by a drone or object of the other side.",
        "mid-air collision or strike",
    ),
    Category(
        "mass_drone_incursion",
        (_A, _L),
        "Many drones across the line at once or in waves: air when they fly across the airspace boundary, "
        "land for ground drones or a wave met by forces on the land line.",
    ),
    Category("unsafe_manoeuvre", (_M,), "A ship manoeuvred at close quarters against the collision regulations."),
    Category(
        "impeding_formation",
        (_M,),
        "A ship manoeuvred into the path of a formation or of a ship launching or recovering aircraft.",
    ),
    Category("weapon_aiming", (_M,), "Guns, missile launchers or torpedo tubes trained on a ship without firing."),
    Category("searchlight_illumination", (_M,), "Searchlights or similar lights directed at a ship's bridge."),
    Category("collision", (_M,), "Ships in contact, or a ship struck by another."),
    Category(
        "harassment_of_non_military_ship",
        (_M,),
        "A merchant, fishing or research vessel shadowed closely, impeded or harassed.",
    ),
    Category(
        "detention_or_abduction",
        (_L, _M),
        "Our personnel detained, seized or taken across the line, on land or from a vessel at sea.",
        "detention or abduction of personnel",
    ),
    Category(
        "unintended_territory_entry",
        (_L,),
        "Forces entered the other side's territory, or came into ours, without intent.",
    ),
    Category("stray_fire", (_L,), "Rounds, shells or fragments landed across the line unintended."),
    Category("laser", (_C,), "A laser directed at aircrew, a ship's bridge, sensors or personnel."),
    Category(
        "jamming_c2_interference",
        (_C,),
        "Interference with command-and-control networks or communications.",
        "jamming / C2 interference",
    ),
    Category(
        "fire_control_lock_on",
        (_C, _A, _M),
        "A fire-control radar or targeting sensor locked on to an aircraft, ship or unit: the step before firing.",
        "fire-control lock-on",
    ),
    Category("gnss_jamming", (_H,), "Satellite navigation signals jammed or spoofed over an area.", "GNSS jamming"),
    Category("disinformation", (_H,), "False or misleading information published about forces or an incident."),
    Category("infrastructure_disruption", (_H,), "Damage to or disruption of cables, pipelines, power or transport."),
    Category("cyber_operation", (_H,), "An intrusion into, or an attack on, computer networks."),
    Category(
        UNUSUAL_ACTIVITY,
        tuple(Domain),
        "Unusual military activity whose explanation may be requested (Vienna Document 2011, Chapter III).",
    ),
)
_BY_NAME = {category.name: category for category in CATALOGUE}


def _of(domain: Domain) -> tuple[str, ...]:
    """The domain's own categories first, then those shared with other domains, each in table order."""
    found = [c for c in CATALOGUE if domain in c.domains and len(c.domains) < len(Domain)]
    return tuple(c.name for c in sorted(found, key=lambda c: c.domains[0] != domain))


# Domain -> its categories, without the one allowed in every domain (unusual military activity).
CATEGORIES: dict[Domain, tuple[str, ...]] = {domain: _of(domain) for domain in Domain}


def categories_for(domain: Domain) -> tuple[str, ...]:
    """Return the categories allowed in a domain (unusual military activity is allowed in all)."""
    return CATEGORIES[domain] + (UNUSUAL_ACTIVITY,)


def all_categories() -> list[str]:
    """Return every category in the catalogue, each once."""
    return [category.name for category in CATALOGUE]


def category(name: str) -> Category:
    """Return a category of the catalogue by name (KeyError for an unknown one)."""
    return _BY_NAME[name]


def category_label(name: str) -> str:
    """The category as people read it ("shoot-down"); a name not in the catalogue, with spaces."""
    known = _BY_NAME.get(name)
    return known.shown if known else name.replace("_", " ")
