"""The standard texts of each kind of message to the other side, in any catalogue's language.

A message of ours is a formula (what every desk writes for that kind: a notification, a request for
explanation in the Vienna Document's words, a receipt...) around the liaison officer's own text. The
formula takes only what the incident's marking and releasability let go to that counterpart, and
writes dates and numbers the way the language writes them (Babel), times in UTC and said so. Every
sentence is an English msgid of tracker/catalogues/*.po; a language whose catalogue lacks a kind's
sentences cannot carry that kind (message_format refuses it, 422), never silently English.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from babel.dates import format_time
from babel.numbers import format_decimal
from babel.units import format_unit

from ...geo import to_mgrs
from ...models import Incident
from ...timeutil import format_dtg
from . import catalogues, summary_text

# -- what stands in every language's part (the header labels) --------------------------------

SUBJECTS: dict[str, str] = {
    "notice": "NOTIFICATION OF INCIDENT",
    "explanation_request": "REQUEST FOR EXPLANATION",
    "reply": "REPLY",
    "meeting_request": "REQUEST FOR MEETING",
    "receipt": "CONFIRMATION OF RECEIPT",
    "check": "LINE CHECK",
    "summary": "SUMMARY OF INCIDENT",
}
# A kind of our own making ("note", ...): the liaison's text alone, under this subject.
OTHER_SUBJECT = "MESSAGE"
# The heading of each language's part, in that language ("TEXTE EN FRANÇAIS").
HEADING = "ENGLISH TEXT"
# The same line as the receipt page's (receipts.PAGE_MSGIDS): one sentence, translated once.
TITLE = "Message {serial}, reference {reference}: {subject}"
TITLE_CHECK = "Message {serial}: {subject}"
UNDER = "This message is sent under {agreement}, {article}."
UNDER_NO_ARTICLE = "This message is sent under {agreement}."
THEIR_TEXT = "Text of our officer as written in English:"
RECEIPT_LINK = "To confirm receipt open {url} or reply on this line quoting the serial {serial}."
# The words of an article cited (agreements.default_article: "Article VI(1)", "Annex 2, para. 3"), typed in
# English: each piece whose word is known is written in the part's language, its number kept as typed.
# The word alone, singular: "Articles III and IV" read as "Article" and "s III and IV" ("статья s III and IV");
# a plural, as any word the catalogues do not know, stays as typed.
ARTICLE_WORDS = (
    (re.compile(r"(?:article|art\.)(?![a-z])\s*(\S.*)", re.IGNORECASE), "Article {number}"),
    (re.compile(r"annex(?![a-z])\s*(\S.*)", re.IGNORECASE), "Annex {number}"),
    (re.compile(r"(?:paragraph|para\.?|§)(?![a-z§])\s*(\S.*)", re.IGNORECASE), "paragraph {number}"),
)
HEADER_MSGIDS = (
    HEADING, TITLE, TITLE_CHECK, UNDER, UNDER_NO_ARTICLE, THEIR_TEXT, RECEIPT_LINK, OTHER_SUBJECT,
    *(msgid for _pattern, msgid in ARTICLE_WORDS),
)  # fmt: skip

# -- the facts of the incident a formula may carry -------------------------------------------

WHEN = "Time: {date} at {time} UTC ({dtg})."
POSITION = "Position: latitude {latitude}, longitude {longitude} (MGRS {mgrs})."
NO_FACTS = "Details will follow on this line."
FACT_MSGIDS = (WHEN, POSITION, NO_FACTS, summary_text.CATEGORY, summary_text.SECTOR)

# -- each kind's formula -----------------------------------------------------------------

NOTICE = "We notify you of the following incident."
NOTICE_CLOSING = "Please confirm receipt of this message."
EXPLAIN = "We request an explanation of the following incident."
EXPLAIN_DUE = "We ask for your reply within {duration}, by {date} at {time} UTC ({dtg})."
REPLY_TO = "In reply to your message of {date} at {time} UTC ({dtg}), we state the following."
REPLY = "We state the following."
MEETING = "We request a meeting to discuss the following incident."
MEETING_DUE = "We propose that the meeting take place within {duration}, by {date} at {time} UTC ({dtg})."
RECEIPT = "We confirm receipt of your message of {date} at {time} UTC ({dtg})."
RECEIPT_ONLY = "This confirms receipt only; it does not express agreement with the content of the message."
CHECK = "This is a check of the line “{line}”."
CHECK_ANSWER = (
    "Please answer on this line, by reply message or by voice, by {date} at {time} UTC ({dtg}), "
    "quoting the serial {serial}."
)
CHECK_NOTHING_ELSE = "No other action is needed."

_CATEGORIES = tuple(summary_text.CATEGORY_LABELS.values())
KIND_MSGIDS: dict[str, tuple[str, ...]] = {
    "notice": (SUBJECTS["notice"], NOTICE, NOTICE_CLOSING, *FACT_MSGIDS, *_CATEGORIES),
    "explanation_request": (SUBJECTS["explanation_request"], EXPLAIN, EXPLAIN_DUE, *FACT_MSGIDS, *_CATEGORIES),
    "reply": (SUBJECTS["reply"], REPLY_TO, REPLY),
    "meeting_request": (SUBJECTS["meeting_request"], MEETING, MEETING_DUE, *FACT_MSGIDS, *_CATEGORIES),
    "receipt": (SUBJECTS["receipt"], RECEIPT, RECEIPT_ONLY),
    "check": (SUBJECTS["check"], CHECK, CHECK_ANSWER, CHECK_NOTHING_ELSE),
    # A summary is written whole in each language by summary_text (its own msgids).
    "summary": (SUBJECTS["summary"], *summary_text.SENTENCES, *summary_text.msgids()),
}
# Kinds whose stored text is the whole body in each language (text, text_second): no formula around it.
WHOLE = ("summary", "receipt")


def cited(t: "Writer", article: str) -> str:
    """The article as the part's language writes it ("статья VI(1)"); English, and any piece whose word is
    not known, as typed."""
    if t.language == catalogues.SOURCE:
        return article
    pieces = []
    for piece in (p.strip() for p in article.split(",")):
        for pattern, msgid in ARTICLE_WORDS:
            if found := pattern.fullmatch(piece):
                piece = t(msgid, number=found.group(1))
                break
        pieces.append(piece)
    return ", ".join(pieces)


def msgids_of(kind: str) -> tuple[str, ...]:
    """Every msgid a message of this kind needs in its language: the header labels and its own."""
    return (*HEADER_MSGIDS, *KIND_MSGIDS.get(kind, ()))


def all_msgids() -> list[str]:
    """Every msgid a message to the other side may use, once each, in a stable order."""
    return list(dict.fromkeys(m for kind in KIND_MSGIDS for m in msgids_of(kind)))


def subject_of(kind: str) -> str:
    """The English subject of a kind (SUBJ line, e-mail subject)."""
    return SUBJECTS.get(kind, OTHER_SUBJECT)


# -- writing in a language -------------------------------------------------------------------


@dataclass(frozen=True)
class Writer:
    """Sentences, dates and numbers in one language."""

    language: str

    def __call__(self, msgid: str, **params) -> str:
        return catalogues.translate(self.language, msgid, **params)

    @property
    def locale(self) -> str:
        return catalogues.locale_of(self.language)

    def moment(self, moment: datetime) -> dict[str, str]:
        """date, time (UTC) and dtg of a moment, as the sentences' placeholders take them."""
        moment = moment.astimezone(UTC)
        return {
            "date": catalogues.long_date(self.language, moment.date()),
            "time": format_time(moment, "HH:mm", tzinfo=UTC, locale=self.locale),
            "dtg": format_dtg(moment),
        }

    def number(self, value: float, pattern: str = "#,##0.##") -> str:
        return format_decimal(value, format=pattern, locale=self.locale)

    def hours(self, seconds: int) -> str:
        """A span in hours with its unit in the number's plural form: "1 hour", "48 hours", "1,5 heure",
        "21 час", "48 часов" (CLDR's rules: a sentence's own "{n} hours" read "1 hours", "1,5 heures"); a span
        under an hour in minutes, under a minute in seconds (in hours, 17 seconds read "within 0 hours")."""
        unit, size = next((u, s) for u, s in (("hour", 3600), ("minute", 60), ("second", 1)) if seconds >= s or s == 1)
        value = round(seconds / size, 2)  # as written: the plural form follows the number shown
        text = format_unit(value, f"duration-{unit}", format="#,##0.##", locale=self.locale)
        if f"duration-{unit}" in text:  # Babel has no long pattern for some locales (zh) and writes the unit's id
            text = format_unit(value, f"duration-{unit}", length="short", format="#,##0.##", locale=self.locale)
        return text


def facts(t: Writer, incident: Incident, allowed: dict[str, bool]) -> list[str]:
    """The incident as a formula states it: time, category, area and position, each only if releasable."""
    lines = []
    if allowed.get("occurred_at"):
        lines.append(t(WHEN, **t.moment(incident.occurred_at)))
    if allowed.get("category"):
        label = summary_text.CATEGORY_LABELS.get(incident.category, incident.category)
        lines.append(t(summary_text.CATEGORY, category=t(label)))
    if allowed.get("sector") and incident.sector:
        lines.append(t(summary_text.SECTOR, sector=incident.sector))
    if allowed.get("position") and incident.latitude is not None and incident.longitude is not None:
        lines.append(
            t(
                POSITION,
                latitude=t.number(incident.latitude, "0.0000"),
                longitude=t.number(incident.longitude, "0.0000"),
                mgrs=to_mgrs(incident.latitude, incident.longitude),
            )
        )
    return lines or [t(NO_FACTS)]


@dataclass(frozen=True)
class Context:
    """What a formula may state: the incident's releasable facts, the exchange's deadlines, the message
    of theirs being answered, and when ours goes out."""

    incident: Incident
    allowed: dict[str, bool]
    now: datetime
    reply_seconds: int = 0
    meeting_seconds: int = 0
    answers_at: datetime | None = None


def formula(kind: str, t: Writer, ctx: Context) -> tuple[list[str], list[str]]:
    """The kind's sentences before and after the liaison's own text, in t's language."""
    if kind == "notice":
        return [t(NOTICE), "\n".join(facts(t, ctx.incident, ctx.allowed))], [t(NOTICE_CLOSING)]
    if kind == "explanation_request":
        due = ctx.now.timestamp() + ctx.reply_seconds
        when = t.moment(datetime.fromtimestamp(due, UTC))
        return (
            [t(EXPLAIN), "\n".join(facts(t, ctx.incident, ctx.allowed))],
            [t(EXPLAIN_DUE, duration=t.hours(ctx.reply_seconds), **when)],
        )
    if kind == "meeting_request":
        due = ctx.now.timestamp() + ctx.meeting_seconds
        when = t.moment(datetime.fromtimestamp(due, UTC))
        return (
            [t(MEETING), "\n".join(facts(t, ctx.incident, ctx.allowed))],
            [t(MEETING_DUE, duration=t.hours(ctx.meeting_seconds), **when)],
        )
    if kind == "reply":
        opening = t(REPLY_TO, **t.moment(ctx.answers_at)) if ctx.answers_at else t(REPLY)
        return [opening], []
    return [], []


def receipt_text(language: str, their_message_at: datetime) -> str:
    """Our confirmation that their message reached us (a standard formula: no second person needed)."""
    t = Writer(language)
    return f"{t(RECEIPT, **t.moment(their_message_at))}\n{t(RECEIPT_ONLY)}"


def check_text(language: str, line: str, due_by: datetime, serial: str) -> str:
    """A line check asking for an answer on the line itself (never a link into our tracker)."""
    t = Writer(language)
    return "\n".join([t(CHECK, line=line), t(CHECK_ANSWER, serial=serial, **t.moment(due_by)), t(CHECK_NOTHING_ELSE)])
