"""The formatted message to the other side: a header any desk recognises (FM, TO, DTG, serial, the
agreement and article, SUBJ, the counterpart-facing reference, the releasability line), then the text
in both languages of the line, ours first."""

from dataclasses import dataclass
from datetime import datetime

from ...models import ExchangeMessage
from ...timeutil import format_dtg

SUBJECTS = {
    "notice": "NOTIFICATION OF INCIDENT",
    "summary": "SUMMARY OF INCIDENT",
    "explanation_request": "REQUEST FOR EXPLANATION",
    "reply": "REPLY",
    "meeting_request": "REQUEST FOR MEETING",
    "receipt": "RECEIPT",
    "check": "LINE CHECK",
}


@dataclass(frozen=True)
class Formatted:
    subject: str
    text: str


def subject_of(kind: str) -> str:
    return SUBJECTS.get(kind, kind.replace("_", " ").upper())


def compose(message: ExchangeMessage, settings, now: datetime) -> Formatted:
    """The subject line and the full text of an outgoing message (message.serial etc. set by release)."""
    exchange = message.exchange
    channel = exchange.channel
    agreement = message.agreement
    under = " ".join(p for p in (agreement.code if agreement else "", message.article or "") if p)
    releasable = exchange.counterpart_state or channel.counterpart_state or channel.counterpart
    header = [
        f"FM {channel.our_station or settings.our_station}",
        f"TO {channel.their_station or channel.counterpart or channel.name}",
        f"DTG {format_dtg(now)}",
        f"SERIAL {message.serial:04d}/{message.serial_year}",
        *([f"UNDER {under}"] if under else []),
        f"SUBJ {subject_of(message.kind)}",
        f"REF {exchange.reference}",
        f"RELEASABLE TO {releasable.upper()}" if releasable else "RELEASABLE TO THE ADDRESSEE",
    ]
    body = message.text.rstrip()
    if message.text_second:
        body = f"{body}\n\n---- {message.language or exchange.language} ----\n\n{message.text_second.rstrip()}"
    text = "\n".join(header) + "\nBT\n" + body + "\nBT\n"
    subject = f"{exchange.reference} SERIAL {message.serial:04d}/{message.serial_year} {subject_of(message.kind)}"
    return Formatted(subject[:255], text)
