"""After-action reports: how fast incidents were acknowledged and resolved, what happened where,
and whether the other side answered.

Definitions (the API description and the report page say the same, from DEFINITIONS below):

- Time to acknowledge = the first acknowledgement - reported_at (an incident that went back up its
  ladder after an acknowledgement and was acknowledged again keeps the first: its acknowledged_at
  records the last); time to resolve = resolved_at - reported_at. An incident not (yet)
  acknowledged, or not resolved, is left out of that measure.
- The *handling step* is the ladder step recorded in the incident's "acknowledged" timeline event
  (the step that was current when someone took it); an incident resolved without an
  acknowledgement counts on the step it stood on when resolved (the ladder stops moving then).
- Per channel: each channel the incident's ladder snapshot lists on the handling step, as routed
  (a fallback line that stood in is not counted), under its name now; a step with two channels counts
  under both.
- Per level: the ladder level (L1-L5) of those channels, each distinct level once per incident.
- Per precedence: Z, O, P, R, twice: as the incident stands now (after any amendment), and as it was
  filed (its "filed" timeline event). An incident filed ROUTINE and raised to FLASH hours later would
  otherwise stand among the FLASH times as a FLASH handled slowly. The precedence filter is on the
  precedence now. Per month: the UTC month of reported_at, "2026-11".
- Median and p90: linear interpolation between closest ranks (numpy's default "linear",
  statistics.quantiles(method="inclusive"), Excel PERCENTILE.INC), rounded to the millisecond.
- Exchanges: see exchange_counts.
"""

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Any

from sqlalchemy import and_, case, exists, func, not_, or_, select
from sqlalchemy.orm import Session, aliased

from ...models import (
    ContactChannel,
    EventKind,
    Exchange,
    ExchangeMessage,
    ExchangeState,
    Incident,
    MessageDirection,
    TimelineEvent,
)
from ...region import NO_SECTOR
from ...timeutil import parse_moment
from ..incidents import marking
from ..incidents.marking import Markings

DEFINITIONS = {
    "time_to_acknowledge": "the first acknowledgement (its timeline event) - reported_at, however often it was "
    "acknowledged again after going back up its ladder; incidents not acknowledged are left out",
    "time_to_resolve": "resolved_at - reported_at; incidents not resolved are left out",
    "handling_step": "the ladder step in the incident's 'acknowledged' timeline event; "
    "for an incident resolved without acknowledgement, the step it stood on when resolved",
    "by_channel": "each channel the ladder snapshot lists on the handling step, as routed (not a fallback), "
    "under its name now (a line renamed since is one line); a step with two channels counts the incident under both",
    "by_level": "the ladder level (L1-L5) of those channels, each distinct level once per incident",
    "by_precedence": "Z FLASH, O IMMEDIATE, P PRIORITY, R ROUTINE: the precedence as it stands now, after any "
    "amendment (the precedence filter is on this one)",
    "by_precedence_filed": "the precedence the incident was filed with, before any amendment changed it",
    "by_month": "UTC month of reported_at, e.g. 2026-11",
    "median_p90": "linear interpolation between closest ranks (statistics.quantiles method 'inclusive', "
    "numpy 'linear'), in seconds rounded to the millisecond",
    "exchanges": "answered: a received message of kind 'reply' is on record, or the state is reply_received or "
    "meeting_held; refused: not answered, and the state is refused or a received 'refusal' is on record; "
    "no_answer: neither, and marked no answer (state no_answer); overdue: none of these and a deadline passed "
    "(overdue_count > 0 or state overdue); answered_late: the reply came after its deadline passed (part of "
    "answered); open: none of these and not closed; closed_unanswered: none of these and closed; "
    "answered + refused + no_answer + overdue + open + closed_unanswered = total",
    "filters": "from (inclusive) and to (exclusive) apply to reported_at",
}
PRECEDENCE_ORDER = "ZOPR"


@dataclass(frozen=True)
class ReportFilter:
    """Which incidents a report or an export covers; reported_to is exclusive."""

    reported_from: datetime | None = None
    reported_to: datetime | None = None
    domain: str | None = None
    category: str | None = None
    sector: str | None = None
    precedence: tuple[str, ...] = ()


def conditions(flt: ReportFilter) -> list:
    """The WHERE clauses on Incident for a filter."""
    where = []
    if flt.reported_from is not None:
        where.append(Incident.reported_at >= flt.reported_from)
    if flt.reported_to is not None:
        where.append(Incident.reported_at < flt.reported_to)
    if flt.domain:
        where.append(Incident.domain == flt.domain)
    if flt.category:
        where.append(Incident.category == flt.category)
    if flt.sector:  # as routing compares a sector: without case or the spaces around it
        # As typed too: SQLite's lower() folds ASCII letters only, and "Север" typed exactly found nothing there.
        given = flt.sector.strip()
        where.append(or_(Incident.sector == given, func.lower(Incident.sector) == given.lower()))
    if flt.precedence:
        where.append(Incident.precedence.in_(flt.precedence))
    return where


# -- pure statistics ---------------------------------------------------------------------------


def percentile(values: Sequence, fraction: Fraction, in_order: bool = False) -> Fraction | None:
    """Return the fraction-quantile of values by linear interpolation between closest ranks, exactly.

    The same method as statistics.quantiles(method="inclusive"), which was not used because it
    wants two values or more on Python 3.11 and answers in floats, and the report must be exact.
    in_order: the values are sorted already (in_order_of), as summarize sorts them once for both quantiles.
    """
    if not values:
        return None
    ordered = values if in_order else in_order_of(values)
    rank = Fraction(fraction) * (len(ordered) - 1)
    low = math.floor(rank)
    if low + 1 >= len(ordered):
        return Fraction(ordered[-1])
    return Fraction(ordered[low]) + (rank - low) * (Fraction(ordered[low + 1]) - Fraction(ordered[low]))


def in_order_of(values: Sequence) -> list:
    """The values sorted, exactly: by their float first (a comparison in C), by the exact value only where two
    floats tie. Sorting the Fractions themselves took a second for 20,000 durations, and the report sorts each
    group's twice over, for six groupings of two measures: the report of two years took six seconds."""
    return sorted(values, key=lambda value: (float(value), value))


def summarize(seconds: Sequence) -> dict:
    """Return {count, median_seconds, p90_seconds} of durations in seconds (None when there are none)."""

    def rounded(value: Fraction | None) -> float | None:
        return None if value is None else float(round(value, 3))

    ordered = in_order_of(seconds)
    return {
        "count": len(seconds),
        "median_seconds": rounded(percentile(ordered, Fraction(1, 2), in_order=True)),
        "p90_seconds": rounded(percentile(ordered, Fraction(9, 10), in_order=True)),
    }


def seconds_between(start: datetime, end: datetime) -> Fraction:
    """The exact number of seconds from start to end."""
    return Fraction((end - start) // timedelta(microseconds=1), 1_000_000)


@dataclass(frozen=True)
class Handled:
    """One incident as the time measures see it."""

    precedence: str
    filed_precedence: str
    month: str
    channels: tuple[str, ...]
    levels: tuple[int, ...]
    ack_seconds: Fraction | None
    resolve_seconds: Fraction | None


def _grouped(pairs: Iterable[tuple[str, Fraction]], order) -> dict:
    groups: dict[str, list] = defaultdict(list)
    for key, value in pairs:
        groups[key].append(value)
    return {key: summarize(groups[key]) for key in sorted(groups, key=order)}


# Each group's order: channels by name, L1 to L5, Z O P R, months in turn.
GROUP_ORDER: dict[str, Callable[[str], Any]] = {
    "by_channel": str,
    "by_level": lambda k: int(k[1:]),
    "by_precedence": PRECEDENCE_ORDER.index,
    "by_precedence_filed": PRECEDENCE_ORDER.index,
    "by_month": str,
}


def time_section(handled: Sequence[Handled], measure: str) -> dict:
    """Summaries of one measure ("ack_seconds" or "resolve_seconds"): overall and per group."""
    timed = [(h, getattr(h, measure)) for h in handled if getattr(h, measure) is not None]
    pairs = {
        "by_channel": ((c, v) for h, v in timed for c in h.channels),
        "by_level": ((f"L{n}", v) for h, v in timed for n in h.levels),
        "by_precedence": ((h.precedence, v) for h, v in timed),
        "by_precedence_filed": ((h.filed_precedence, v) for h, v in timed),
        "by_month": ((h.month, v) for h, v in timed),
    }
    return {"overall": summarize([v for _, v in timed])} | {
        group: _grouped(pairs[group], order) for group, order in GROUP_ORDER.items()
    }


def time_rows(report: dict, group: str) -> list[str]:
    """The rows of a group's table of both times: every key either has, in the group's order (the keys of
    one time, then the other's, put a month only resolved after the months acknowledged)."""
    return sorted({*report["ack_times"][group], *report["resolve_times"][group]}, key=GROUP_ORDER[group])


def handled_from(row, names: Mapping[int, str] | None = None) -> Handled:
    """Turn one (incident columns, first ack event's details and time) row into what the time measures need.
    A channel is counted under its name now (names: id -> name) when it still exists, so a line renamed
    since is one line, not two; under the name the snapshot took when it was deleted since."""
    channels = _step_channels(row)
    names = names or {}
    return Handled(
        precedence=row.precedence.value,
        filed_precedence=row.filed_precedence,
        month=f"{row.reported_at:%Y-%m}",
        channels=tuple(dict.fromkeys(names.get(c["id"], c["name"]) if "id" in c else c["name"] for c in channels)),
        levels=tuple(sorted({c["level"] for c in channels})),
        ack_seconds=seconds_between(row.reported_at, acknowledged)
        if (acknowledged := row.ack_at or row.acknowledged_at)
        else None,
        resolve_seconds=seconds_between(row.reported_at, row.resolved_at) if row.resolved_at else None,
    )


# -- queries -----------------------------------------------------------------------------------


def handled_incidents(session: Session, flt: ReportFilter) -> list[Handled]:
    """The acknowledged or resolved incidents of the filter, with their handling step's channels."""
    ack = (
        select(TimelineEvent.incident_id, func.min(TimelineEvent.id).label("event_id"))
        .where(TimelineEvent.kind == EventKind.ACKNOWLEDGED)
        .group_by(TimelineEvent.incident_id)
        .subquery()
    )
    query = (
        select(
            Incident.precedence,
            filed_precedence().label("filed_precedence"),
            Incident.reported_at,
            Incident.acknowledged_at,
            Incident.resolved_at,
            Incident.current_step,
            Incident.ladder,
            TimelineEvent.details.label("ack_details"),
            TimelineEvent.at.label("ack_at"),
        )
        .outerjoin(ack, ack.c.incident_id == Incident.id)
        .outerjoin(TimelineEvent, TimelineEvent.id == ack.c.event_id)
        .where(*conditions(flt), or_(Incident.acknowledged_at.is_not(None), Incident.resolved_at.is_not(None)))
        .order_by(Incident.id)
    )
    rows = session.execute(query).all()
    ids = {c.get("id") for row in rows for c in _step_channels(row)} - {None}
    found = select(ContactChannel.id, ContactChannel.name).where(ContactChannel.id.in_(ids))
    names: dict[int, str] = {id_: name for id_, name in session.execute(found)} if ids else {}
    return [handled_from(row, names) for row in rows]


def filed_precedence():
    """The precedence an incident was filed with, as SQL: its "filed" event records it; the precedence now for
    an incident with no such event (none was ever amended without one)."""
    filed = aliased(TimelineEvent)
    recorded = (
        select(filed.details["precedence"].as_string())
        .where(filed.incident_id == Incident.id, filed.kind == EventKind.FILED)
        .order_by(filed.id)
        .limit(1)
        .correlate(Incident)
        .scalar_subquery()
    )
    return func.coalesce(recorded, Incident.precedence)


def _step_channels(row) -> list[dict]:
    """The channels the row's ladder snapshot lists on its handling step (the acknowledged one, else the
    current one)."""
    step_number = (row.ack_details or {}).get("step") or row.current_step
    steps = (row.ladder or {}).get("steps", [])
    return steps[step_number - 1]["channels"] if 0 < step_number <= len(steps) else []


def counts_by(session: Session, flt: ReportFilter, column) -> dict[str, int]:
    """How many incidents of the filter per value of column, most first (no sector: "(none)")."""
    rows = session.execute(
        select(column, func.count()).where(*conditions(flt)).group_by(column).order_by(func.count().desc(), column)
    )
    return {(key if key is not None else NO_SECTOR): n for key, n in rows}


def exchange_counts(session: Session, flt: ReportFilter) -> dict[str, int]:
    """Count the exchanges about the filter's incidents, as DEFINITIONS["exchanges"] says.

    answered: the other side replied (a received "reply" message, or state reply_received or
    meeting_held); refused: they refused instead (state refused, or a received "refusal"); no_answer: we
    marked it unanswered; overdue: none of these and a deadline passed (overdue_count > 0 or state overdue);
    answered_late is the part of answered whose reply came after the reply's deadline; open: none of these,
    not closed; closed_unanswered: none of these, closed. The annual review's outcome() orders the first
    four alike, but has no closed_unanswered: there an exchange closed unanswered is no answer, whether or
    not a deadline passed first (here, overdue when one did).
    """
    S = ExchangeState

    def received(kind: str):
        return exists().where(
            ExchangeMessage.exchange_id == Exchange.id,
            ExchangeMessage.direction == MessageDirection.IN,
            ExchangeMessage.kind == kind,
        )

    answered = or_(received("reply"), Exchange.state.in_((S.REPLY_RECEIVED, S.MEETING_HELD)))
    refused = and_(not_(answered), or_(Exchange.state == S.REFUSED, received("refusal")))
    no_answer = and_(not_(answered), not_(refused), Exchange.state == S.NO_ANSWER)
    unsettled = and_(not_(answered), not_(refused), Exchange.state != S.NO_ANSWER)
    late = or_(Exchange.overdue_count > 0, Exchange.state == S.OVERDUE)
    # Answered late: the reply's clock ran out first (a meeting held late after a timely reply is not).
    reply_ran_out = exists().where(
        TimelineEvent.incident_id == Exchange.incident_id,
        TimelineEvent.kind == EventKind.EXCHANGE_OVERDUE,
        TimelineEvent.details["exchange"].as_integer() == Exchange.id,
        TimelineEvent.details["deadline_kind"].as_string() == "reply",
    )
    neither = and_(unsettled, not_(late))

    def counted(condition):
        return func.count(case((condition, 1)))

    row = session.execute(
        select(
            func.count().label("total"),
            counted(answered).label("answered"),
            counted(and_(answered, reply_ran_out)).label("answered_late"),
            counted(refused).label("refused"),
            counted(no_answer).label("no_answer"),
            counted(and_(unsettled, late)).label("overdue"),
            counted(and_(neither, Exchange.state != S.CLOSED)).label("open"),
            counted(and_(neither, Exchange.state == S.CLOSED)).label("closed_unanswered"),
        )
        .select_from(Exchange)
        .join(Incident, Incident.id == Exchange.incident_id)
        .where(*conditions(flt))
    ).one()
    counts = dict(row._mapping)
    if counts["answered_late"]:  # the few whose reply clock ran out: did the reply come after it?
        ran_out = select(Exchange.id).join(Incident, Incident.id == Exchange.incident_id)
        ids = session.scalars(ran_out.where(*conditions(flt), answered, reply_ran_out)).all()
        counts["answered_late"] = _replied_late(session, list(ids))
    return counts


def _replied_late(session: Session, ids: list[int]) -> int:
    """Of these exchanges, answered and with a reply clock that ran out, those whose reply came after its
    deadline: a reply received in time and recorded after the sweep marked the exchange overdue came in time
    (as a line check's answer given in its window stands). One answered by a change of state alone, with no
    reply on record, has no time but the sweep's: late."""
    due: dict[int, datetime] = {}
    events = select(TimelineEvent.details).where(
        TimelineEvent.kind == EventKind.EXCHANGE_OVERDUE,
        TimelineEvent.details["exchange"].as_integer().in_(ids),
        TimelineEvent.details["deadline_kind"].as_string() == "reply",
    )
    for details in session.scalars(events):
        if details.get("due_at"):  # an event without its deadline leaves the exchange late, as the sweep said
            at = parse_moment(details["due_at"])
            due[details["exchange"]] = min(at, due.get(details["exchange"], at))
    replies = select(ExchangeMessage.exchange_id, func.min(ExchangeMessage.at)).where(
        ExchangeMessage.exchange_id.in_(ids),
        ExchangeMessage.direction == MessageDirection.IN,
        ExchangeMessage.kind == "reply",
    )
    replied = {exchange: at for exchange, at in session.execute(replies.group_by(ExchangeMessage.exchange_id))}
    return sum(1 for i in ids if i not in replied or i not in due or replied[i] > due[i])


def file_marking(session: Session, flt: ReportFilter, markings: Markings) -> str:
    """The marking of what is drawn from the filter's incidents (a report, an export): the highest among
    them (marking.highest)."""
    marks = session.execute(select(Incident.classification, Incident.releasable_to).where(*conditions(flt)))
    return marking.highest(markings, ((c, r) for c, r in marks))


def after_action(session: Session, flt: ReportFilter, markings: Markings) -> dict:
    """The after-action report: time measures, incidents per category and sector, exchanges; marked as an
    export of the same incidents is (file_marking)."""
    handled = handled_incidents(session, flt)
    return {
        "marking": file_marking(session, flt, markings),
        "incidents_total": session.scalar(select(func.count()).select_from(Incident).where(*conditions(flt))),
        "ack_times": time_section(handled, "ack_seconds"),
        "resolve_times": time_section(handled, "resolve_seconds"),
        "incidents_by_category": counts_by(session, flt, Incident.category),
        "incidents_by_sector": counts_by(session, flt, Incident.sector),
        "exchanges": exchange_counts(session, flt),
        "definitions": DEFINITIONS,
    }
