"""The formatted message to the other side, in the long-standing shape any desk recognises
(ACP 126/127, the "16-line" format; DOMAIN.md "Formatted military messages"):

    O 031455Z DEC 26                      precedence prosign and DTG
    FM NORTHMARK NATIONAL OPERATIONS CENTRE
    TO EASTLAND GENERAL STAFF DUTY OFFICER
    UNCLAS                                the classification line, from the incident's marking
    SERIAL 0001/2026                      the line's serial of the year (outgoing.next_serial)
    UNDER INCSEA-1972 ARTICLE VI          the agreement and article it is sent under
    SUBJ NOTIFICATION OF INCIDENT
    REF NM-2026-0001                      the exchange's reference: never our internal INC number
    RELEASABLE TO EASTLAND
    BT
    the text in English, then in the line's language (message_texts), each part headed in its language
    BT

The header stays in the format's own (English) words on every line; each language's part repeats the
serial, reference and subject in that language. A language whose catalogue lacks the kind's sentences
is refused (422 naming the language and the kind), never filled in with English. The e-mail subject
of a message about an incident begins with its marking (UNCLASSIFIED // REL TO EASTLAND - NM-2026-0007
SERIAL 0012/2026 NOTIFICATION OF INCIDENT); a line check's, which carries no incident, does not.
"""

from dataclasses import dataclass
from datetime import datetime

from ...errors import ValidationError
from ...models import ChannelCheck, ExchangeMessage, Incident
from ...timeutil import format_dtg
from ..incidents import marking
from . import catalogues, releasability
from .message_texts import (
    HEADING,
    RECEIPT_LINK,
    THEIR_TEXT,
    TITLE,
    TITLE_CHECK,
    UNDER,
    UNDER_NO_ARTICLE,
    WHOLE,
    Context,
    Writer,
    check_text,
    cited,
    formula,
    msgids_of,
    subject_of,
)

# The classification line as messages write it (ACP 121: "UNCLAS"); others as the marking spells them.
CLASSIFICATION_LINES = {"UNCLASSIFIED": "UNCLAS"}
LANGUAGE_NAMES = {"en": "English", "ru": "Russian", "fr": "French", "uk": "Ukrainian", "zh": "Chinese"}


@dataclass(frozen=True)
class Formatted:
    subject: str
    text: str


@dataclass(frozen=True)
class Header:
    """The lines above the first BT."""

    precedence: str  # the prosign letter: Z, O, P or R
    at: datetime
    fm: str
    to: str
    classification: str
    serial: str  # NNNN/YYYY
    under: str
    subject: str
    reference: str
    releasable_to: str

    def lines(self) -> list[str]:
        return [
            f"{self.precedence} {dtg_line(self.at)}",
            f"FM {self.fm}".upper(),
            f"TO {self.to}".upper(),
            classification_line(self.classification),
            f"SERIAL {self.serial}",
            *([f"UNDER {self.under}".upper()] if self.under else []),
            f"SUBJ {self.subject}",
            *([f"REF {self.reference}"] if self.reference else []),
            f"RELEASABLE TO {self.releasable_to}".upper(),
        ]


# The precedence prosign of a text whose incident's precedence is not releasable (the default): PRIORITY on every
# such text, whatever our own precedence, which the first letter of the header told them.
UNSAID_PRECEDENCE = "P"


def dtg_line(moment: datetime) -> str:
    """The DTG as a message's first line writes it: 031455Z DEC 26."""
    dtg = format_dtg(moment)
    return f"{dtg[:7]} {dtg[7:10]} {dtg[10:]}"


def classification_line(classification: str | None) -> str:
    marked = (classification or "UNCLASSIFIED").strip().upper()
    return CLASSIFICATION_LINES.get(marked, marked)


def serial_text(serial: int, year: int) -> str:
    return f"{serial:04d}/{year}"


def languages(second: str | None) -> list[str]:
    """The languages of a line, ours (English) first."""
    return [catalogues.SOURCE, *([second] if second and second != catalogues.SOURCE else [])]


def ensure_supported(language: str | None, kind: str) -> None:
    """Refuse (422) a kind the line's language has no complete text for: the message would otherwise
    reach the other side half in English. Names the language and the kind."""
    for each in languages(language):
        catalogues.ensure_available(each)
        lacking = catalogues.missing(each, msgids_of(kind))
        if lacking:
            name = LANGUAGE_NAMES.get(each, each)
            raise ValidationError(
                f"the {name} catalogue ({each}.po) has no text for a message of the kind {kind}: "
                f"it cannot go out in {name}",
                {"language": f"{each}: no text for a message of the kind {kind}", "untranslated": lacking[:10]},
            )


def _under(agreement_code: str | None, article: str | None) -> str:
    return " ".join(p for p in (agreement_code or "", article or "") if p)


def _releasable_line(incident: Incident, counterpart: str | None) -> str:
    """Whom the text is releasable to: the State the exchange or its line names; on a line naming none, the
    one State the incident is released to. Never a list: a text to one side told it which other States
    the same incident was released to."""
    released = incident.releasable_to or []
    return counterpart or (released[0] if len(released) == 1 else "THE ADDRESSEE")


def compose(message: ExchangeMessage, settings, now: datetime, *, receipt_url: str | None = None) -> Formatted:
    """The subject line and the full text of an outgoing message (its serial, agreement and article set
    by outgoing.release); receipt_url: the link the other side may use to confirm receipt."""
    exchange, channel = message.exchange, message.exchange.channel
    incident = exchange.incident
    if message.serial is None or message.serial_year is None:
        raise ValueError(f"message {message.id} has no serial: only outgoing.release composes it")
    ensure_supported(exchange.language, message.kind)
    counterpart = releasability.counterpart_of(exchange)
    allowed = releasability.releasable_fields(incident, counterpart)
    agreement = message.agreement
    serial = serial_text(message.serial, message.serial_year)
    header = Header(
        precedence=incident.precedence.value if allowed["precedence"] else UNSAID_PRECEDENCE,
        at=now,
        fm=channel.our_station or settings.our_station,
        to=channel.their_end,
        classification=incident.classification,
        serial=serial,
        under=_under(agreement.code if agreement else None, message.article),
        subject=subject_of(message.kind),
        reference=exchange.reference or "",
        releasable_to=_releasable_line(incident, counterpart),
    )
    ctx = Context(
        incident=incident,
        allowed=allowed,
        now=now,
        reply_seconds=exchange.reply_seconds,
        meeting_seconds=exchange.meeting_seconds,
        answers_at=message.answers.at if message.answers is not None else None,
    )
    parts = []
    for language in languages(exchange.language):
        t = Writer(language)
        title = t(TITLE, serial=serial, reference=header.reference, subject=t(header.subject))
        opening = [t(HEADING), title]
        if agreement is not None:
            article = cited(t, message.article) if message.article else None
            under = t(UNDER, agreement=agreement.code, article=article) if article else None
            opening.append(under or t(UNDER_NO_ARTICLE, agreement=agreement.code))
        before, after = ([], []) if message.kind in WHOLE else formula(message.kind, t, ctx)
        own = _own_text(t, message, language)
        link = [t(RECEIPT_LINK, url=receipt_url, serial=serial)] if receipt_url else []
        parts.append("\n\n".join(p for p in ("\n".join(opening), *before, own, *after, *link) if p))
    # The header's classification and RELEASABLE TO lines are inside the text; a mail client's list shows
    # only the subject, which the format leaves unmarked: it begins with the same marking, released to the
    # addressee alone as the RELEASABLE TO line is.
    subject = f"{header.reference} SERIAL {serial} {header.subject}".strip()
    return Formatted(marking.subject(marking.toward(incident, header.releasable_to), subject), _assemble(header, parts))


def _own_text(t: Writer, message: ExchangeMessage, language: str) -> str:
    """The liaison's own text (or the whole text of a summary or receipt) in the part's language: the
    translation they gave, else the English as written, said to be so."""
    english = (message.text or "").strip()
    if language == catalogues.SOURCE or not english:
        return english
    second = (message.text_second or "").strip()
    return second or f"{t(THEIR_TEXT)}\n{english}"


def compose_check(check: ChannelCheck, settings, now: datetime) -> Formatted:
    """A line check over a counterpart line: the same header (its serial of the line and year), the
    request to answer on the line itself in both languages, and no link into our tracker."""
    channel = check.channel
    if check.serial is None or check.serial_year is None:
        raise ValueError(f"check {check.id} has no serial")
    ensure_supported(channel.language, "check")
    serial = serial_text(check.serial, check.serial_year)
    agreement = channel.agreement
    article = agreement.article_for("check") if agreement is not None else ""
    header = Header(
        precedence="R",
        at=now,
        fm=channel.our_station or settings.our_station,
        to=channel.their_end,
        classification="UNCLASSIFIED",
        serial=serial,
        under=_under(agreement.code if agreement else None, article),
        subject=subject_of("check"),
        reference="",
        releasable_to=channel.counterpart_state or channel.counterpart or "THE ADDRESSEE",
    )
    # The line by its two ends, as they know it: its name is ours ("Eastland hotline", "L3 backup") and
    # says nothing to them, or more than they should hear.
    line = channel.seen_by_them(settings.our_station)
    parts = []
    for language in languages(channel.language):
        t = Writer(language)
        opening = [t(HEADING), t(TITLE_CHECK, serial=serial, subject=t(header.subject))]
        parts.append("\n\n".join(["\n".join(opening), check_text(language, line, check.due_by, serial)]))
    subject = f"SERIAL {serial} {header.subject}"
    return Formatted(subject[:255], _assemble(header, parts))


def parts_by_language(text: str, language: str | None) -> list[tuple[str, str, str]]:
    """A formatted text (_assemble's) cut where the part in the line's language begins and where it ends:
    (language, direction, piece) in order, so the HTML part marks that part with its own lang and dir; the
    header, the English part and the closing BT are English. The whole text in English when the line reads
    English only, or when its part is not found (a catalogue's heading changed since the text was queued)."""
    whole = [(catalogues.SOURCE, "ltr", text)]
    second = languages(language)[1:]
    if not second or second[0] not in catalogues.available():
        return whole
    start, end = text.find(f"\n\n{Writer(second[0])(HEADING)}\n"), text.rfind("\nBT\n")
    if start < 0 or end < start:
        return whole
    start, end = start + 2, end + 1  # the blank line stays with the English before it; the BT line is the last
    their = (second[0], catalogues.direction(second[0]), text[start:end])
    return [(catalogues.SOURCE, "ltr", text[:start]), their, (catalogues.SOURCE, "ltr", text[end:])]


def _assemble(header: Header, parts: list[str]) -> str:
    return "\n".join(header.lines()) + "\nBT\n" + "\n\n".join(parts).rstrip() + "\nBT\n"
