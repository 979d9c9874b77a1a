"""Words for people in place of the codes the tracker stores: one table for pages, e-mails and print.

A stored value stays a code (`airspace_violation`, `near_routine`, `next_escalation_at`); whatever a
person reads goes through `label` (a code), `key_label` (the name of a fact on a timeline event) or
`details_text` (a timeline event's facts, times to the second with their DTG).
"""

import enum
import re
from datetime import datetime

from ..text import masked_in
from ..timeutil import duration, format_dtg, to_the_second
from . import enums
from .enums import all_categories, category_label

# Codes whose words are not simply the code with spaces (the category catalogue has its own labels).
LABELS = {
    # domains
    "cyber_em": "cyber / electromagnetic",
    # risks and statuses
    "near_routine": "near-routine",
    # messages
    "dead_letter": "dead letter",
    "dead_lettered": "dead letter",
    "watchdog": "watchdog alert",
    "idle_reminder": "idle reminder",
    "decision_asked": "decision asked",
    "upgraded": "precedence raised",
    "exchange_overdue": "exchange overdue",
    "receipt_overdue": "receipt overdue",
    "action_overdue": "action overdue",
    # timeline events
    "fallback": "fallback line used",
    "exercise_linked": "linked to an exercise",
    "no_notice": "no exercise notice on record",
    "releasability_changed": "releasability changed",
    "idle_reminded": "idle: reminded",
    "idle_reescalated": "idle: re-escalated",
    "watchdog_alert": "watchdog alert",
    "related_suggested": "related incident suggested",
    "related_confirmed": "related incident confirmed",
    "related_dismissed": "related incident dismissed",
    # exchanges with the other side
    "receipt_confirmed": "receipt confirmed",
    "explanation_requested": "explanation requested",
    "reply_received": "reply received",
    "meeting_requested": "meeting requested",
    "meeting_held": "meeting held",
    "no_answer": "no answer",
    "explanation_request": "request for explanation",
    "meeting_request": "meeting request",
    "we_called": "we called",
    "they_called": "they called",
    # how an exercise was made known
    "vienna_document": "Vienna Document notification",
    "bilateral_briefing": "bilateral briefing",
    "voluntary_briefing": "voluntary briefing",
    # roles
    "duty_officer": "duty officer",
}

# Names of the facts a timeline event keeps, where "the name with spaces" does not read well.
KEY_LABELS = {
    "runner": "scheduler",
    "loop": "repeat",
    "from_loop": "from repeat",
    "notification_loop": "alert number",
    "occurred_dtg": "occurred (DTG)",
    "reroute": "re-routed",
    "escalates_at_once": "escalates at once",
    "cancelled_messages": "messages cancelled",
    "within_km": "within",
    "distance_km": "distance",
    "border_distance_km": "distance to the border",
    "timeout_seconds": "timeout",
    "reply_seconds": "time to reply",
    "meeting_seconds": "time to meet",
    "hours_apart": "hours apart",
    "cpa": "closest point of approach",
    "text_second": "text in the second language",
}

# Every code the tracker stores: a value of one of its enums, or a category. Anything else (a channel
# name, a username such as j_smith) is shown as it is.
CODES = frozenset(all_categories()) | frozenset(
    member.value
    for kind in vars(enums).values()
    if isinstance(kind, type) and issubclass(kind, enum.StrEnum) and kind is not enum.StrEnum
    for member in kind
)
PRECEDENCE = {p.value: f"{p.value} {p.name}" for p in enums.Precedence}  # "Z FLASH"
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?\Z")


def label(code: object) -> str:
    """The words for a stored code (an enum member or its value); a name that is no code, as it is."""
    text = str(getattr(code, "value", code) if code is not None else "")
    if text in LABELS:
        return LABELS[text]
    if text in CODES:
        return category_label(text)  # a category's own label, else the code with spaces
    return text


def event_label(event) -> str:
    """The words for a timeline event (kind and details): a text drafted again reads as what happened to it -
    "summary reworded" when someone changed its words, "message back to draft" when its approval was
    withdrawn because the incident changed - not as drafted a second time."""
    text = label(event.kind)
    if not text.endswith(" drafted"):
        return text
    details = event.details or {}
    if details.get("translation_removed"):
        return text.removesuffix("drafted") + "translation removed"
    if details.get("edited"):
        return text.removesuffix("drafted") + "reworded"
    if details.get("approval_withdrawn"):
        return text.removesuffix("drafted") + "back to draft"
    return text


def key_label(key: str) -> str:
    """The name of a fact as people read it: "next escalation at", not next_escalation_at."""
    return KEY_LABELS.get(key, key.replace("_", " "))


def moment_text(moment: datetime | str) -> str:
    """A time to the second in UTC with its DTG: 2026-12-03 08:00:09Z (030800ZDEC26)."""
    at = datetime.fromisoformat(moment.replace("Z", "+00:00")) if isinstance(moment, str) else moment
    return f"{to_the_second(at)} ({format_dtg(at)})"


def value_text(key: str, value: object) -> str:
    """One fact's value as people read it: times to the second, spans and distances in words, codes labelled."""
    if value is None or value == "" or value == [] or value == {}:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return moment_text(value)
    if isinstance(value, str) and _ISO.match(value):
        try:
            return moment_text(value)
        except ValueError:  # text typed by someone that only looks like a time ("2026-02-30T10:00Z"): as typed
            return value
    if isinstance(value, float) and value == 0:  # -0.0, kept by a timeline event of a -0 position: one place
        value = 0.0
    if isinstance(value, int | float) and key.endswith("_seconds"):
        return duration(value)
    if isinstance(value, int | float) and key.endswith("_km"):
        return f"{value:.1f} km"
    if key == "precedence" and value in PRECEDENCE:
        return PRECEDENCE[value]
    if isinstance(value, dict):
        return details_text(value)
    if isinstance(value, list | tuple):
        return ", ".join(value_text(key, item) for item in value)
    return label(value) if isinstance(value, str) else str(value)


# The facts an event keeps that name a row by its number (the message it sent, the exchange it is about): for the
# software, which finds the row by it; a reader finds it by what the event says beside it.
ROW_NUMBERS = frozenset({"exchange", "message", "summary", "call", "action"})
# The round of the ladder a step was on: the first one (0) goes without saying, as in the messages ("repeat 1").
ROUNDS = frozenset({"loop", "from_loop", "incident_loop"})


def _said(key: str, value: object) -> bool:
    """Whether a fact is for a reader: no empty value (a response code no transport gave), no row's number, no
    first round."""
    if value is None or value == "" or value == [] or value == {}:
        return False
    if key.endswith("_id") or (key in ROW_NUMBERS and isinstance(value, int) and not isinstance(value, bool)):
        return False
    return not (key in ROUNDS and value == 0)


def detail_lines(details: dict | None) -> list[tuple[str, str]]:
    """A timeline event's facts in words, in order: (what, its value), e.g. ("channels", "L1"); those that say
    nothing to a reader (_said) left out.

    Its texts are masked (text.masked_in): an event keeps what it was given, sealed, and a dead letter recorded
    before a receiver's answer was masked holds the signed link it quoted in its "error"."""
    facts = masked_in(details or {}).items()
    return [(key_label(key), value_text(key, value)) for key, value in facts if _said(key, value)]


def details_text(details: dict | None) -> str:
    """A timeline event's facts on one line: "next escalation at: 2026-12-03 08:10:00Z (...); channels: L1"."""
    return "; ".join(f"{what}: {value}" for what, value in detail_lines(details)) or "–"
