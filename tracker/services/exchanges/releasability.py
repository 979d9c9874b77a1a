"""What of an incident may reach the other side: per-field defaults, overrides, and the guard.

Every message to a counterpart line passes through guard(): it refuses text that carries the
content of a field not releasable for that incident. Summaries are drafted from releasable
fields only, and an edited summary or a free-text message is checked the same way.
"""

import re
from datetime import datetime
from urllib.parse import unquote

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...errors import ValidationError
from ...models import Exchange, ExchangeMessage, Incident, Notification, NotificationKind, NotificationStatus
from ...sentences import Sentence
from ...text import SIGNED_TOKEN
from ..engine import links
from ..engine.delivery import WITHHELD
from ..incidents import amendment_record, marking

# Field -> releasable by default. Time, area and category go out; our own units, our own
# assessment and the narrative stay in (DOMAIN.md: "releasability: what may be sent").
DEFAULTS: dict[str, bool] = {
    "occurred_at": True,
    "domain": True,
    "category": True,
    "position": True,
    "sector": True,
    "border_distance_km": True,
    "cpa": True,
    "platforms": True,
    "reporting_unit": False,
    "actions_taken": False,
    "narrative": False,
    "safety_risk": False,
    "escalation_risk": False,
    "precedence": False,
}
FIELDS = tuple(DEFAULTS)
# Each field as pages name it.
LABELS = {
    "occurred_at": "Time",
    "domain": "Domain",
    "category": "Category",
    "position": "Position",
    "sector": "Sector",
    "border_distance_km": "Distance to the border",
    "cpa": "Closest point of approach",
    "platforms": "Their platforms",
    "reporting_unit": "Reporting unit",
    "actions_taken": "Actions taken",
    "narrative": "Narrative",
    "safety_risk": "Safety risk",
    "escalation_risk": "Escalation risk",
    "precedence": "Precedence",
}
# Fields whose values are codes from a closed list, not free content.
CODES = ("domain", "category", "safety_risk", "escalation_risk", "precedence")
# Values shorter than this are codes (a risk class "A"), not content a guard can recognise.
MIN_GUARDED_LENGTH = 4
# Free text is also looked for in fragments, so that a piece copied out of it is caught and not
# only the whole: each word that bears a digit (a marker, a hull number, "Su-27") and each run of
# FRAGMENT_WORDS words. A fragment that is also content of a releasable field is no leak.
FREE_TEXT = ("reporting_unit", "narrative", "actions_taken", "position", "sector", "platforms")
FRAGMENT_WORDS = 5
# What of a platform is content of ours (what our sensors saw of it), not a word any text on the matter uses.
PLATFORM_CONTENT = ("type", "callsign")
_PUNCTUATION = ".,;:!?()[]{}\"'«»“”"


def effective(incident: Incident) -> dict[str, bool]:
    """Every field's releasability for this incident: its overrides over the defaults."""
    overrides = incident.releasability or {}
    return {name: bool(overrides.get(name, default)) for name, default in DEFAULTS.items()}


def counterpart_of(exchange: Exchange) -> str | None:
    """The State an exchange talks to: its own counterpart state, else its line's (None: not named)."""
    return (exchange.counterpart_state or exchange.channel.counterpart_state or "").strip() or None


def ensure_releasable_to(incident: Incident, counterpart: str | None) -> None:
    """Refuse (422) anything bound for a counterpart the incident's marking does not release it to.

    An incident marked NOT RELEASABLE goes to nobody; one whose line and exchange name no State goes
    only where its marking releases it to someone (the line cannot be checked more closely).
    """
    if counterpart is not None and not marking.releasable_to(incident, counterpart):
        raise ValidationError(
            Sentence("the incident is not releasable to {counterpart}", {"counterpart": counterpart}),
            {"releasable_to": f"{marking.of(incident)}: change the marking to release it to {counterpart}"},
        )
    if not incident.releasable_to:
        raise ValidationError(
            "the incident is not releasable",
            {"releasable_to": f"{marking.of(incident)}: change the marking to release it to the other side"},
        )


def withhold_unreleasable(
    session: Session,
    incident: Incident,
    why: str,
    now: datetime,
    reclassified_from: str | None = None,
    withdrawn: tuple[str, ...] = (),
) -> list[dict]:
    """Cancel the texts to the other side still waiting to go (a line deactivated, a receiver failing) that the
    incident's marking no longer releases to their counterpart, or whose own words carry a field no longer
    releasable; and every one of them when a field was withdrawn from release since (withdrawn: those fields) or
    the incident classified anew (reclassified_from: the old classification). Those were approved, and composed,
    while it was otherwise: the format wrote in the facts then releasable (a position, the precedence prosign, the
    category, the time) and their marking lines (four_eyes: the approval covers the facts and the marking as they
    stood). Stop awaiting their receipt, and put back the exchange a withheld request moved (exchanges.unsend).
    Return them (message, line, the serial they will miss). Releasing a text checked all this then: nothing goes
    out that they no longer let out (why: what changed, for the message's error)."""
    # Held until commit, as they stand now (PostgreSQL): read without a lock, a row that delivery claimed, sent and
    # recorded meanwhile was written over as withheld, "never sent"; a claim under way skips the rows held here.
    waiting = session.scalars(
        select(Notification)
        .where(
            Notification.incident_id == incident.id,
            Notification.kind == NotificationKind.COUNTERPART,
            Notification.status.in_((NotificationStatus.PENDING, NotificationStatus.SENDING)),
            Notification.exchange_message_id.is_not(None),
        )
        .order_by(Notification.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    withheld = []
    for row in waiting:
        message = session.get_one(ExchangeMessage, row.exchange_message_id)
        try:
            ensure_releasable_to(incident, counterpart_of(message.exchange))
            guard(incident, message.text, message.text_second)
            if withdrawn:
                raise ValidationError(
                    "it was approved and composed while what is withdrawn now was releasable",
                    {name: "withdrawn from release since" for name in withdrawn},
                )
            if reclassified_from is not None:
                raise ValidationError(
                    f"it went out marked {reclassified_from}, and the incident is now {incident.classification}",
                    {"marking": "send the text again under the new marking"},
                )
        except ValidationError as refused:
            found = "; ".join(f"{LABELS.get(name, name)}: {problem}" for name, problem in refused.details.items())
            said = f"{WITHHELD}{why}): {refused.message} ({found})"[:2000]
            if row.status is NotificationStatus.SENDING:  # a try under way may still deliver it: none after it
                row.last_error = said
                withheld.append({"message": message.id, "channel": message.exchange.channel.name, "in_flight": True})
                continue
            row.status, row.last_error = NotificationStatus.CANCELLED, said
            serial = f"{message.serial:04d}/{message.serial_year}" if message.serial else None
            withheld.append(
                {"message": message.id, "channel": message.exchange.channel.name, "serial_not_sent": serial}
            )
            _never_went(session, message, now)
    return withheld


def _never_went(session: Session, message: ExchangeMessage, now: datetime) -> None:
    from .exchanges import _lock, unsend  # the exchanges import this module

    # The exchange first, then its message, as recording their reply takes them: the other way round, the two
    # waited on each other (a deadlock: their reply answered 500, or the delivery batch failed).
    session.flush()  # the lock re-reads the exchange: what this call changed of it is written first
    _lock(session, message.exchange)
    message.receipt_due_at = None  # no receipt is awaited
    unsend(session, message, now)


def withheld_unsent(session: Session, notification_id: int, now: datetime) -> None:
    """A text withheld while a try of it was under way, whose try then failed (delivery.record_failure cancels it,
    never to be tried again) or had not begun (delivery.hold_claims cancels it): it never went, so, as for one
    withheld before any claim, no receipt is awaited and its exchange is put back. Else the receipt clock told
    the supervisors of a receipt overdue, and the reply clock ran, for a text they never had. Nothing for any
    other row."""
    row = session.get(Notification, notification_id)
    if (
        row is None
        or row.status is not NotificationStatus.CANCELLED
        or not (row.last_error or "").startswith(WITHHELD)
        or row.exchange_message_id is None
    ):
        return
    _never_went(session, session.get_one(ExchangeMessage, row.exchange_message_id), now)


def withheld_texts(session: Session, message_ids: list[int]) -> dict[int, str]:
    """Which of these texts of ours were withheld before they went (withhold_unreleasable), with why."""
    if not message_ids:
        return {}
    rows = session.execute(
        select(Notification.exchange_message_id, Notification.last_error).where(
            Notification.exchange_message_id.in_(message_ids),
            Notification.kind == NotificationKind.COUNTERPART,
            Notification.status == NotificationStatus.CANCELLED,
            Notification.last_error.startswith(WITHHELD),
        )
    )
    return {message_id: error for message_id, error in rows if message_id is not None}


def releasable_fields(incident: Incident, counterpart: str | None) -> dict[str, bool]:
    """What a text for this counterpart may take: nothing when the marking does not release the incident
    to it, else each field as its releasability says (effective), whatever the classification."""
    try:
        ensure_releasable_to(incident, counterpart)
    except ValidationError:
        return dict.fromkeys(DEFAULTS, False)
    return effective(incident)


def check_overrides(overrides: dict) -> dict[str, bool]:
    """Validate a mapping of field -> bool; raise ValidationError naming unknown fields."""
    unknown = sorted(set(overrides) - set(DEFAULTS))
    if unknown:
        raise ValidationError(
            "unknown releasability fields", {name: f"not one of {', '.join(FIELDS)}" for name in unknown}
        )
    wrong = [name for name, value in overrides.items() if not isinstance(value, bool)]
    if wrong:
        raise ValidationError("releasability values are true or false", {name: "must be a boolean" for name in wrong})
    return dict(overrides)


def field_texts(incident: Incident, name: str) -> list[str]:
    """The pieces of content a field holds, as text a message could repeat."""
    if name in ("occurred_at", *CODES):
        # A time, or a code from a short list ("high", "serious", "Z"): no content a guard can tell
        # from ordinary words. The drafter leaves them out unless releasable; the guard cannot police them.
        return []
    if name == "position":
        values = [incident.position_text]
        if incident.latitude is not None:
            values += [f"{incident.latitude:.4f}", f"{incident.longitude:.4f}"]
        return _clean(values)
    if name == "narrative":  # as filed, and what amendments added to it
        return _clean([incident.narrative, *(added["text"] for added in amendment_record.addenda(incident))])
    if name == "cpa":
        return _clean([incident.cpa_horizontal_m, incident.cpa_vertical_ft])
    if name == "platforms":  # their type and callsign: a kind ("aircraft") or a nationality is any sentence's word
        return _clean(str(p[key]) for p in incident.platforms or [] for key in PLATFORM_CONTENT if p.get(key))
    value = getattr(incident, name)
    return _clean([value.value if hasattr(value, "value") else value])


def _clean(values) -> list[str]:
    out = []
    for value in values:
        if value is None:
            continue
        text = str(value).strip()
        if len(text) >= MIN_GUARDED_LENGTH:
            out.append(text)
    return out


def fragments(text: str) -> list[str]:
    """The pieces of free text a copy would keep: digit-bearing words and runs of words."""
    words = text.split()
    codes = [w.strip(_PUNCTUATION) for w in words]
    codes = [c for c in codes if len(c) >= MIN_GUARDED_LENGTH and any(ch.isdigit() for ch in c)]
    runs = [" ".join(words[i : i + FRAGMENT_WORDS]) for i in range(len(words) - FRAGMENT_WORDS + 1)]
    return codes + runs


def _normal(text: str) -> str:
    return " ".join(text.split()).casefold()


def _holds_fragment(haystack: str, fragment: str) -> bool:
    """The fragment stands as whole words in the haystack (0926Z is not in 140926ZJUN25)."""
    return re.search(rf"(?<!\w){re.escape(fragment)}(?!\w)", haystack) is not None


def leaks(incident: Incident, *texts: str | None) -> dict[str, str]:
    """Which non-releasable fields' content appears in the texts: {field: what was found}."""
    haystack = _normal("\n".join(t for t in texts if t))
    allowed = effective(incident)
    released = _normal("\n".join(p for name, ok in allowed.items() if ok for p in field_texts(incident, name)))
    found = {}
    for name, releasable in allowed.items():
        if releasable:
            continue
        pieces = field_texts(incident, name)
        if any(_normal(piece) in haystack for piece in pieces):
            found[name] = "not releasable, and the text holds it"
            continue
        if name in FREE_TEXT:
            parts = {_normal(f) for piece in pieces for f in fragments(piece)}
            if any(_holds_fragment(haystack, f) and not _holds_fragment(released, f) for f in parts):
                found[name] = "not releasable, and the text holds part of it"
    if _our_reference(incident).search(haystack):
        found["reference"] = "contains one of our incident references: the other side knows our texts by their serial"
    if _holds_our_link(*texts):
        found["link"] = (
            "contains one of our signed links (an acknowledge, check, receipt or calendar link): whoever holds it "
            "could act as our staff, acknowledge our incident and stop its ladder"
        )
    return found


# The paths of our link pages, slashes written as they are or percent-encoded.
_LINK_PAGE = re.compile(r"(?:/|%2f)+links(?:/|%2f)+(?:ack|check|receipt)(?:/|%2f)", re.IGNORECASE)


def _holds_our_link(*texts: str | None) -> bool:
    """Whether a text holds a link of ours or its token: a page path of ours, or a token whose claims name a link
    (the one claim every link of ours has), as typed or percent-decoded (a link pasted as a mail filter wrapped it,
    https://...safelinks...?url=https%3A%2F%2F...%2Flinks%2Fack%2F...). Its signature is not checked: an expired
    link, or one signed under a key we held before, is no more fit to go."""
    for text in texts:
        read = text or ""
        for _ in range(3):  # encoded once, or twice over by a wrapper of a wrapper
            if _LINK_PAGE.search(read):
                return True
            for candidate in SIGNED_TOKEN.findall(read):
                claims = links.unsigned_claims(candidate)
                if isinstance(claims, dict) and "link" in claims:
                    return True
            decoded = unquote(read)
            if decoded == read:
                break
            read = decoded
    return False


def _our_reference(incident: Incident) -> re.Pattern:
    """Our incident references (PREFIX-YYYY-NNNNN, the prefix of this incident's), in normalised text."""
    prefix = incident.reference.rsplit("-", 2)[0].casefold()
    return re.compile(rf"(?<!\w){re.escape(prefix)}-\d{{4}}-\d+(?!\w)")


# A line of a text that the format's own lines would be read as (message_format): BT ends the text, NNNN the
# message, and a prosign (doubled too, as ZZ) with a DTG in any zone starts another one. Typed into a text, what
# followed it read as a message of its own, with whatever FM, TO and SERIAL the typist gave it.
_FORMAT_LINE = re.compile(
    r"^[ \t]*(?:BT|NNNN|[ZOPR]{1,2}[ \t]+[0-9]{6}[A-IK-Z][ \t]*[A-Z]{3}[ \t]*[0-9]{2,4})[ \t]*$",
    re.IGNORECASE | re.MULTILINE,
)


def format_problems(*texts: str | None) -> dict[str, str]:
    """The line of each text (the first "text", the second "text_second") the format would take for one of its
    own (_FORMAT_LINE), numbered from 1: {field: why}; empty when none."""
    return {
        name: f"line {text.count(chr(10), 0, line.start()) + 1} reads as the format's own {line[0].strip()!r}"
        for name, text in zip(("text", "text_second"), texts, strict=False)
        if text and (line := _FORMAT_LINE.search(text))
    }


def guard(incident: Incident, *texts: str | None) -> None:
    """Refuse (422) text bound for the other side that carries a non-releasable field's content, or a line the
    format's own lines would be taken for (format_problems)."""
    if broken := format_problems(*texts):
        raise ValidationError(
            "a line of this text would read as the message format's own (BT ends the text, NNNN the message, a "
            "prosign and DTG begins another): reword it",
            broken,
        )
    found = leaks(incident, *texts)
    if found:
        raise ValidationError(
            "this text would send content that is not releasable to the other side; remove it or mark "
            "the field releasable",
            found,
        )
