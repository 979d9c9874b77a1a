"""The annual review per agreement and counterpart State (as the INCSEA parties review each year's
incidents at their annual meeting): the year's incidents by category, what we sent the other side,
how fast they confirmed receipt, how fast they answered our requests for an explanation, and how the
exchanges ended. The page, its CSV and the API all read review(); DEFINITIONS says what each figure is.
Its marking is the export's rule (reports.file_marking): the highest of the incidents it counts.
"""

import csv
import io
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from fractions import Fraction

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ...models import Agreement, Exchange, ExchangeState, Incident, MessageDirection, OutgoingStatus
from ...timeutil import EARLIEST, LATEST
from ..incidents import marking
from ..incidents.marking import Markings
from .export import csv_cell, marking_row
from .reports import percentile, seconds_between

NONE = "(none)"
# The years a review may be asked for: those a time may fall in anywhere in the tracker (timeutil), no other
# year holding anything to review.
FIRST_YEAR, LAST_YEAR = EARLIEST.year, LATEST.year - 1
S = ExchangeState
DEFINITIONS = {
    "year": "incidents that occurred in the UTC year (however late reported), and the exchanges and messages "
    "about them",
    "group": "an incident counts under its agreement and counterpart state; an exchange (and its messages) "
    "under its own, else its incident's; (none) where none is set",
    "messages_sent": "messages of ours the other side was sent (released)",
    "receipt": "from a message's release to the other side's receipt; median (linear interpolation) and "
    "maximum in seconds, over the messages whose receipt is on record",
    "receipts_overdue": "sent messages whose receipt came after its due time, or has not come and is past it",
    "reply": "from our first request for an explanation sent to the other side to the first reply received after "
    "it, per exchange",
    "exchanges": "each exchange once, the first that holds: answered (a reply received, or state reply_received "
    "or meeting_held); refused; no answer (state no_answer, or closed unanswered); overdue (a deadline "
    "passed); open",
}
COLUMNS = (
    "year", "agreement", "counterpart_state", "incidents", "incidents_by_category", "messages_sent",
    "receipts", "receipt_median_seconds", "receipt_max_seconds", "receipts_overdue",
    "replies", "reply_median_seconds", "reply_max_seconds",
    "exchanges", "answered", "refused", "no_answer", "overdue", "open",
)  # fmt: skip


@dataclass
class Group:
    """The figures of one agreement and counterpart State."""

    agreement: str
    counterpart_state: str
    by_category: Counter = field(default_factory=Counter)
    messages_sent: int = 0
    receipt_seconds: list[Fraction] = field(default_factory=list)
    receipts_overdue: int = 0
    reply_seconds: list[Fraction] = field(default_factory=list)
    outcomes: Counter = field(default_factory=Counter)

    def row(self, year: int) -> dict:
        return {
            "year": year,
            "agreement": self.agreement,
            "counterpart_state": self.counterpart_state,
            "incidents": sum(self.by_category.values()),
            "incidents_by_category": dict(sorted(self.by_category.items(), key=lambda kv: (-kv[1], kv[0]))),
            "messages_sent": self.messages_sent,
            "receipts": len(self.receipt_seconds),
            "receipt_median_seconds": _seconds(percentile(self.receipt_seconds, Fraction(1, 2))),
            "receipt_max_seconds": _seconds(max(self.receipt_seconds, default=None)),
            "receipts_overdue": self.receipts_overdue,
            "replies": len(self.reply_seconds),
            "reply_median_seconds": _seconds(percentile(self.reply_seconds, Fraction(1, 2))),
            "reply_max_seconds": _seconds(max(self.reply_seconds, default=None)),
            "exchanges": sum(self.outcomes.values()),
            **{name: self.outcomes[name] for name in ("answered", "refused", "no_answer", "overdue", "open")},
        }


def _seconds(value: Fraction | None) -> float | None:
    return None if value is None else float(round(value, 3))


def year_bounds(year: int) -> tuple[datetime, datetime]:
    return datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)


def outcome(exchange: Exchange) -> str:
    """How an exchange stands for the review (DEFINITIONS["exchanges"])."""
    received = [m for m in exchange.messages if m.direction is MessageDirection.IN]
    if any(m.kind == "reply" for m in received) or exchange.state in (S.REPLY_RECEIVED, S.MEETING_HELD):
        return "answered"
    if exchange.state is S.REFUSED or any(m.kind == "refusal" for m in received):
        return "refused"
    if exchange.state in (S.NO_ANSWER, S.CLOSED):
        return "no_answer"
    if exchange.overdue_count > 0 or exchange.state is S.OVERDUE:
        return "overdue"
    return "open"


def reply_seconds(exchange: Exchange) -> Fraction | None:
    """Seconds from our first request for an explanation the other side was sent to the first reply
    received after it (a draft never sent asked nothing: its time is when it was written)."""
    asked = [
        m.at
        for m in exchange.messages
        if m.direction is MessageDirection.OUT and m.kind == "explanation_request" and m.status is OutgoingStatus.SENT
    ]
    if not asked or (start := min(asked)) is None:
        return None
    replies = [m.at for m in exchange.messages if m.direction is MessageDirection.IN and m.kind == "reply"]
    later = [at for at in replies if at >= start]
    return seconds_between(start, min(later)) if later else None


def review(session: Session, year: int, now: datetime, markings: Markings) -> dict:
    """The year's review: one row per agreement and counterpart State, by agreement code then State, and its
    marking: the highest of the incidents it counts (the deployment's markings), as an export's."""
    start, end = year_bounds(year)
    codes = {a.id: a.code for a in session.scalars(select(Agreement))}
    groups: dict[tuple[str, str], Group] = {}

    def group(agreement_id: int | None, state: str | None) -> Group:
        key = (codes.get(agreement_id, NONE) if agreement_id is not None else NONE, state or NONE)
        return groups.setdefault(key, Group(*key))

    incidents = session.scalars(
        select(Incident).where(Incident.occurred_at >= start, Incident.occurred_at < end).order_by(Incident.id)
    ).all()
    for incident in incidents:
        group(incident.agreement_id, incident.counterpart_state).by_category[incident.category] += 1
    exchanges = session.scalars(
        select(Exchange)
        .join(Incident, Incident.id == Exchange.incident_id)
        .where(Incident.occurred_at >= start, Incident.occurred_at < end)
        .options(selectinload(Exchange.messages), selectinload(Exchange.incident))
        .order_by(Exchange.id)
    ).all()
    for exchange in exchanges:
        incident = exchange.incident
        found = group(
            exchange.agreement_id if exchange.agreement_id is not None else incident.agreement_id,
            exchange.counterpart_state or incident.counterpart_state,
        )
        found.outcomes[outcome(exchange)] += 1
        if (seconds := reply_seconds(exchange)) is not None:
            found.reply_seconds.append(seconds)
        for message in exchange.messages:
            if message.direction is not MessageDirection.OUT or message.status is not OutgoingStatus.SENT:
                continue
            found.messages_sent += 1
            if message.receipt_at is not None:
                found.receipt_seconds.append(seconds_between(message.at, message.receipt_at))
            due = message.receipt_due_at
            if due is not None and (message.receipt_at or now) > due:
                found.receipts_overdue += 1
    rows = [groups[key].row(year) for key in sorted(groups, key=lambda k: (k[0] == NONE, k))]
    marked = marking.highest(markings, ((i.classification, i.releasable_to) for i in incidents))
    return {"year": year, "marking": marked, "rows": rows, "definitions": DEFINITIONS}


def category_cell(counts: dict) -> str:
    """Incidents by category in one cell: "unsafe_intercept=2; jamming=1"."""
    return "; ".join(f"{name}={n}" for name, n in counts.items())


def review_csv(report: dict) -> Iterator[str]:
    """Yield the review as CSV lines: its marking on a line of its own (as an export's first line), a header
    row, then one row per agreement and counterpart State."""
    yield marking_row(report["marking"])
    for values in ([*COLUMNS], *([_cell(row, name) for name in COLUMNS] for row in report["rows"])):
        buffer = io.StringIO()
        csv.writer(buffer).writerow(values)
        yield buffer.getvalue()


def _cell(row: dict, name: str):
    value = row[name]
    if name == "incidents_by_category":
        return category_cell(value)
    return csv_cell(value)  # a counterpart State is typed by an admin: no formula may ride in it
