"""The handover brief: what the incoming officer must know, as it stood when it was prepared.

Built from the database in one go and kept as a snapshot (Handover.brief, plain JSON: times as
ISO 8601 UTC strings), so the record shows what was handed over, not what is true later:
- incidents not resolved (open, exhausted, acknowledged), FLASH first; within a precedence the
  exhausted (nobody took them and the ladder ran out), then the open, then the acknowledged; then
  the first reported. Each with its status, current step and its next deadline;
- what is owed whatever its age: exchanges overdue, receipts overdue, agreed actions overdue (on a
  loop not closed), and calls not ended;
- every clock that runs out in the next 12 hours, by time: escalation deadlines, decisions awaited,
  acknowledgement timeouts, exchange deadlines, the other side's receipts and agreed actions;
- the lines that are not OK: down, degraded, or never checked;
- exercises running, or starting within 7 days;
- what changed since `since`: the timeline's events counted by kind and listed (without the routine
  notified and routed lines), and the outgoing watch's log.
"""

from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ...models import (
    AgreedAction,
    Call,
    ChannelHealth,
    ContactChannel,
    EventKind,
    Exchange,
    ExchangeMessage,
    ExchangeState,
    ExerciseNotice,
    Incident,
    IncidentStatus,
    TimelineEvent,
    WatchEntry,
)
from ...sentences import Sentence
from ...timeutil import isoformat
from ..exercises import vienna
from ..incidents import amendment_record, marking
from ..incidents.marking import Markings

WINDOW = timedelta(hours=12)
EXERCISES_AHEAD = timedelta(days=7)
# The changes listed one by one (the latest of them); every event is counted whatever its number.
CHANGES_LISTED = 300
# What every filing and escalation writes anyway: counted, not listed.
QUIET = (EventKind.NOTIFIED, EventKind.ROUTED)
STATUS_ORDER = {IncidentStatus.EXHAUSTED: 0, IncidentStatus.OPEN: 1, IncidentStatus.ACKNOWLEDGED: 2}
HEALTH_ORDER = {ChannelHealth.DOWN: 0, ChannelHealth.DEGRADED: 1, ChannelHealth.OK: 2}
# Clocks due at the same moment: ours to act on first.
CLOCK_ORDER = ("escalation", "decision", "acknowledgement_timeout", "agreed_action", "exchange", "receipt")


def build(
    session: Session,
    desk: str,
    since: datetime,
    now: datetime,
    log: list[WatchEntry],
    window: timedelta = WINDOW,
    ahead: timedelta = EXERCISES_AHEAD,
    markings: Markings | None = None,
) -> dict:
    """The brief of desk at now: open incidents, clocks up to now + window, lines not OK, exercises
    running or starting within ahead, what changed since `since`, and the outgoing watch's log; marked
    with the highest marking of the incidents it names (the deployment's markings)."""
    taken = {
        "desk": desk,
        "generated_at": isoformat(now),
        "since": isoformat(since),
        "until": isoformat(now + window),
        "window_hours": window / timedelta(hours=1),
        "exercise_days": ahead / timedelta(days=1),
        "incidents": open_incidents(session),
        "owed": owed(session),
        "clocks": clocks(session, now, now + window),
        "lines": lines_not_ok(session),
        "exercises": exercises(session, now, ahead),
        "changes": changes(session, since, now),
        "log": [
            {
                "id": e.id,
                "at": isoformat(e.at),
                "author": e.author,
                "text": e.text,
                "incident": e.incident.reference if e.incident else None,
            }
            for e in log
        ],
    }
    return {"marking": _marking(session, taken, markings or Markings()), **taken}


def _marking(session: Session, taken: dict, markings: Markings) -> str:
    """The highest marking of the incidents the brief names, releasable only where all of them are."""
    named = {i["reference"] for i in taken["incidents"]}
    named |= {row["incident"] for key in ("owed", "clocks", "log") for row in taken.get(key, []) if row["incident"]}
    named |= {row["incident"] for row in taken["changes"]["events"]}
    marks = session.execute(
        select(Incident.classification, Incident.releasable_to).where(Incident.reference.in_(sorted(named)))
    )
    return marking.highest(markings, [tuple(row) for row in marks])


# -- open incidents ------------------------------------------------------------------------


def next_deadline(incident: Incident) -> tuple[datetime | None, str | None]:
    """The incident's next deadline and what happens at it (None, None when none runs)."""
    if incident.status is IncidentStatus.OPEN and incident.next_escalation_at is not None:
        if incident.decision_step is not None:
            return incident.next_escalation_at, f"decision on entering step {incident.decision_step} awaited"
        # What the sweep does at the deadline (services/engine/escalation.py), as the call to act says it.
        if incident.current_step < len(incident.steps):
            upcoming = incident.current_step + 1
            if incident.steps[upcoming - 1].get("by_decision"):
                return incident.next_escalation_at, f"the supervisors are asked to confirm step {upcoming}"
            return incident.next_escalation_at, f"escalates to step {upcoming}"
        if incident.loop < incident.repeats:
            return incident.next_escalation_at, f"step {incident.current_step} (the last) is called again"
        exhausted = "marked exhausted, the supervisors told"
        return incident.next_escalation_at, f"step {incident.current_step} (the last) runs out: {exhausted}"
    if incident.status is IncidentStatus.ACKNOWLEDGED and incident.idle_check_at is not None:
        then = "it re-escalates" if incident.idle_stage else "its acknowledger is reminded"
        return incident.idle_check_at, f"if nobody works on it meanwhile, {then}"
    return None, None


def rank(incident: Incident) -> tuple:
    """The brief's order: precedence, then exhausted, open, acknowledged, then the first reported."""
    return (incident.precedence.rank, STATUS_ORDER[incident.status], incident.reported_at, incident.id)


def open_incidents(session: Session) -> list[dict]:
    query = select(Incident).where(Incident.status != IncidentStatus.RESOLVED)
    shown = []
    for incident in sorted(session.scalars(query), key=rank):
        deadline_at, deadline = next_deadline(incident)
        shown.append(
            {
                "reference": incident.reference,
                "precedence": incident.precedence.value,
                "precedence_name": incident.precedence.name,
                "status": incident.status.value,
                "domain": incident.domain.value,
                "category": incident.category,
                "sector": incident.sector,
                "occurred_at": isoformat(incident.occurred_at),
                "step": incident.current_step,
                "steps": len(incident.steps),
                "step_channels": [c["name"] for c in incident.step["channels"]],
                "acknowledged_by": incident.acknowledged_by_label,
                "deadline_at": isoformat(deadline_at),
                "deadline": deadline,
            }
        )
    return shown


# -- clocks --------------------------------------------------------------------------------


def _saying(row: dict, key: str, sentence: str | Sentence) -> dict:
    """The row with the plain sentence under key, and, where it names what was typed (a line, a name, a fact as
    amended), that sentence in parts too (parts: Sentence.as_json), which the pages write with each value
    isolated. The API says the plain sentence alone."""
    row = {**row, key: str(sentence)}
    return {**row, "parts": sentence.as_json()} if isinstance(sentence, Sentence) else row


def _clock(at: datetime, kind: str, reference: str | None, what: str | Sentence) -> dict:
    """A clock or an item owed, and what it is about (what, with its parts: _saying)."""
    return _saying({"at": isoformat(at), "kind": kind, "incident": reference}, "what", what)


def _on_line(words: str, line: str) -> Sentence:
    return Sentence(f"{words} on {{line}}", {"line": line})


def _agreed(party: str, done: str, text: str) -> Sentence:
    return Sentence(f"{'we' if party == 'us' else 'they'} agreed{done}: {{text}}", {"text": text})


def clocks(session: Session, start: datetime, end: datetime) -> list[dict]:
    """Every deadline from start to end (both included), the earliest first."""
    found = [
        *_incident_clocks(session, start, end),
        *_exchange_clocks(session, start, end),
        *_receipt_clocks(session, start, end),
        *_action_clocks(session, start, end),
    ]
    return sorted(found, key=lambda c: (c["at"], CLOCK_ORDER.index(c["kind"]), c["incident"] or ""))


def _incident_clocks(session: Session, start: datetime, end: datetime) -> list[dict]:
    running = select(Incident).where(
        or_(
            (Incident.status == IncidentStatus.OPEN) & Incident.next_escalation_at.between(start, end),
            (Incident.status == IncidentStatus.ACKNOWLEDGED) & Incident.idle_check_at.between(start, end),
        )
    )
    found = []
    for incident in session.scalars(running):
        at, what = next_deadline(incident)
        if at is None or what is None:
            continue
        if incident.status is IncidentStatus.ACKNOWLEDGED:
            kind = "acknowledgement_timeout"
        else:
            kind = "decision" if incident.decision_step is not None else "escalation"
        found.append(_clock(at, kind, incident.reference, f"{incident.precedence.name}: {what}"))
    return found


def _exchange_clocks(session: Session, start: datetime, end: datetime) -> list[dict]:
    rows = session.execute(
        select(Exchange.deadline_at, Exchange.deadline_kind, ContactChannel.name, Incident.reference)
        .join(ContactChannel, Exchange.channel_id == ContactChannel.id)
        .join(Incident, Exchange.incident_id == Incident.id)
        .where(Exchange.deadline_at.between(start, end), Exchange.state != ExchangeState.CLOSED)
    )
    return [
        _clock(at, "exchange", reference, _on_line(f"the other side's {kind or 'answer'} due", line))
        for at, kind, line, reference in rows
    ]


def _receipt_clocks(session: Session, start: datetime, end: datetime) -> list[dict]:
    # As what is owed (_receipts_overdue): a closed exchange waits for nothing more, its clocks tell no one.
    rows = _receipts(
        session,
        ExchangeMessage.receipt_due_at.between(start, end),
        ExchangeMessage.receipt_at.is_(None),
        ExchangeMessage.receipt_overdue_at.is_(None),
        Exchange.state != ExchangeState.CLOSED,
    )
    return [
        _clock(at, "receipt", reference, _on_line(f"their receipt of our {_serial(kind, serial, year)}", line))
        for at, kind, serial, year, line, reference in rows
    ]


def _serial(kind: str, serial: int, year: int) -> str:
    return f"{kind.replace('_', ' ')} {serial:04d}/{year}"


def _receipts(session: Session, *where):
    """Our messages' receipt clocks meeting where: (due at, kind, serial, year, line, incident reference)."""
    return session.execute(
        select(
            ExchangeMessage.receipt_due_at,
            ExchangeMessage.kind,
            ExchangeMessage.serial,
            ExchangeMessage.serial_year,
            ContactChannel.name,
            Incident.reference,
        )
        .join(Exchange, ExchangeMessage.exchange_id == Exchange.id)
        .join(ContactChannel, ExchangeMessage.channel_id == ContactChannel.id)
        .join(Incident, Exchange.incident_id == Incident.id)
        .where(*where)
    )


def _action_clocks(session: Session, start: datetime, end: datetime) -> list[dict]:
    # As what is owed (_actions_overdue) and the sweep (calls._due): a loop closed is no longer chased.
    rows = session.execute(
        select(AgreedAction.due_at, AgreedAction.text, AgreedAction.party, Incident.reference)
        .join(Incident, AgreedAction.incident_id == Incident.id)
        .outerjoin(Exchange, AgreedAction.exchange_id == Exchange.id)
        .where(
            AgreedAction.due_at.between(start, end),
            AgreedAction.done_at.is_(None),
            AgreedAction.overdue_at.is_(None),
            Incident.status != IncidentStatus.RESOLVED,
            or_(Exchange.id.is_(None), Exchange.state != ExchangeState.CLOSED),
        )
    )
    return [_clock(at, "agreed_action", reference, _agreed(party, "", text)) for at, text, party, reference in rows]


# -- what ran out and is still owed ----------------------------------------------------------


def owed(session: Session, lines: Collection[int] | None = None) -> list[dict]:
    """What a clock ran out on and nobody has settled yet, and calls still in progress: the open items
    a handover passes on whatever their age, the longest owed first (the clocks list only what is to come).
    lines: only those on these lines (My queue's: the lines a liaison officer serves)."""
    found = [*_exchanges_overdue(session, lines), *_receipts_overdue(session, lines), *_actions_overdue(session, lines)]
    found += _calls_in_progress(session, lines)
    return sorted(found, key=lambda c: (c["at"], c["kind"], c["incident"] or ""))


def _on(column, lines: Collection[int] | None) -> list:
    return [] if lines is None else [column.in_(list(lines))]


def _exchanges_overdue(session: Session, lines: Collection[int] | None) -> list[dict]:
    rows = session.execute(
        select(Exchange.state_changed_at, Exchange.deadline_kind, ContactChannel.name, Incident.reference)
        .join(ContactChannel, Exchange.channel_id == ContactChannel.id)
        .join(Incident, Exchange.incident_id == Incident.id)
        .where(Exchange.state == ExchangeState.OVERDUE, *_on(Exchange.channel_id, lines))
    )
    return [
        _clock(
            at,
            "exchange_overdue",
            reference,
            _on_line(f"the other side let the {kind or 'answer'} deadline pass", line),
        )
        for at, kind, line, reference in rows
    ]


def _receipts_overdue(session: Session, lines: Collection[int] | None) -> list[dict]:
    rows = _receipts(
        session,
        ExchangeMessage.receipt_overdue_at.is_not(None),
        ExchangeMessage.receipt_at.is_(None),
        Exchange.state != ExchangeState.CLOSED,
        *_on(ExchangeMessage.channel_id, lines),
    )
    return [
        _clock(at, "receipt_overdue", reference, _on_line(f"no receipt of our {_serial(kind, serial, year)}", line))
        for at, kind, serial, year, line, reference in rows
    ]


def _actions_overdue(session: Session, lines: Collection[int] | None) -> list[dict]:
    rows = session.execute(
        select(AgreedAction.due_at, AgreedAction.text, AgreedAction.party, Incident.reference)
        .join(Incident, AgreedAction.incident_id == Incident.id)
        .join(Call, AgreedAction.call_id == Call.id)
        .outerjoin(Exchange, AgreedAction.exchange_id == Exchange.id)
        .where(
            AgreedAction.overdue_at.is_not(None),
            AgreedAction.done_at.is_(None),
            Incident.status != IncidentStatus.RESOLVED,
            or_(Exchange.id.is_(None), Exchange.state != ExchangeState.CLOSED),
            *_on(Call.channel_id, lines),
        )
    )
    return [
        _clock(at, "action_overdue", reference, _agreed(party, ", not done", text))
        for at, text, party, reference in rows
    ]


def _calls_in_progress(session: Session, lines: Collection[int] | None) -> list[dict]:
    rows = session.execute(
        select(Call.started_at, ContactChannel.name, Incident.reference, Call.recorded_by)
        .join(ContactChannel, Call.channel_id == ContactChannel.id)
        .join(Incident, Call.incident_id == Incident.id)
        .where(Call.ended_at.is_(None), *_on(Call.channel_id, lines))
    )
    return [
        _clock(
            at,
            "call_in_progress",
            reference,
            Sentence("a call on {line}, logged by {by}, not ended", {"line": line, "by": by}),
        )
        for at, line, reference, by in rows
    ]


# -- lines, exercises ----------------------------------------------------------------------


def lines_not_ok(session: Session) -> list[dict]:
    """Active lines down, degraded or never checked: the worst first, then by level and name."""
    query = select(ContactChannel).where(
        ContactChannel.active.is_(True),
        or_(ContactChannel.health != ChannelHealth.OK, ContactChannel.last_check_at.is_(None)),
    )
    found = sorted(session.scalars(query), key=lambda c: (HEALTH_ORDER[c.health], c.level, c.name))
    return [
        {
            "id": c.id,
            "name": c.name,
            "level": c.level,
            "counterpart_line": c.counterpart_line,
            "health": c.health.value,
            "problem": c.health.value if c.health is not ChannelHealth.OK else "never checked",
            "last_check_at": isoformat(c.last_check_at),
            "last_check_ok_at": isoformat(c.last_check_ok_at),
        }
        for c in found
    ]


def exercises(session: Session, now: datetime, ahead: timedelta) -> list[dict]:
    """Exercises under way at now (its end included, as the register counts it) or starting by now + ahead, the
    earliest start first."""
    query = (
        select(ExerciseNotice)
        .where(ExerciseNotice.ends_at >= now, ExerciseNotice.starts_at <= now + ahead)
        .order_by(ExerciseNotice.starts_at, ExerciseNotice.id)
    )
    return [
        {
            "id": e.id,
            "name": e.name,
            "states": list(e.states or []),
            "starts_at": isoformat(e.starts_at),
            "ends_at": isoformat(e.ends_at),
            "running": e.starts_at <= now,
            "notified_via": e.notified_via.value,
            # When the other side was told (ours: our first briefing, when no notice time is on record); None:
            # no notification on record, which the incoming watch must see.
            "notified_at": isoformat(vienna.notification_time(vienna.notice_of(e))),
            "ours": e.ours,
        }
        for e in session.scalars(query)
    ]


# -- what changed --------------------------------------------------------------------------


def said(kind: EventKind, details: dict) -> str | Sentence:
    """What a timeline event says, in a few words: a Sentence where it names lines or facts as typed (each one a
    value of its own, isolated on the page), else the text (a resolution or a note: typed as a whole)."""
    d = details or {}
    if kind is EventKind.FILED:
        return f"{d.get('precedence', '')} {str(d.get('category', '')).replace('_', ' ')}".strip()
    if kind in (EventKind.ESCALATED, EventKind.EXHAUSTED, EventKind.ACKNOWLEDGED):
        lines = {f"line{n}": name for n, name in enumerate(d.get("channels") or [])}
        return Sentence(
            f"step {d.get('step')}" + (": " + ", ".join(f"{{{key}}}" for key in lines) if lines else ""), lines
        )
    if kind is EventKind.AMENDED:  # each fact before and after, as the incident page says it
        facts, values = [], {}
        for n, (label, before, after) in enumerate(amendment_record.lines(d)):
            facts.append(f"{label}: {{before{n}}} → {{after{n}}}")
            values.update({f"before{n}": before, f"after{n}": after})
        text = "; ".join(facts + (["narrative added to"] if d.get("addendum") else [])) or ", ".join(
            d.get("fields") or []
        )
        return Sentence(text, values)
    if kind in (EventKind.EXCHANGE_MESSAGE,):
        way = "received" if d.get("direction") == "in" else "sent"
        return _on_line(f"{way} {str(d.get('kind', 'message')).replace('_', ' ')}", d.get("channel", "?"))
    if kind is EventKind.EXCHANGE_CHANGED:
        moved = f"{d.get('from_state', '?')} → {d.get('to_state', '?')} on {{line}}"
        if d.get("by_call"):
            moved += f", by call {d.get('call')}" + (", not approved" if d.get("approval") == "not_approved" else "")
        return Sentence(moved, {"line": d.get("channel", "?")})
    if kind is EventKind.CALL_LOGGED:
        return _on_line(f"call {d.get('step', '')}", d.get("channel", "?"))
    for key in ("resolution", "text", "note", "channel", "recipient"):
        if isinstance(d.get(key), str) and d[key]:
            return d[key][:200]
    return ""


def changes(session: Session, since: datetime, now: datetime) -> dict:
    """The timeline since `since`: every event counted by kind, the latest CHANGES_LISTED of those
    that are not QUIET listed in time order, and how many more there were."""
    period = (TimelineEvent.at >= since, TimelineEvent.at <= now)
    counted = session.execute(select(TimelineEvent.kind, func.count()).where(*period).group_by(TimelineEvent.kind))
    counts: dict[EventKind, int] = {kind: n for kind, n in counted}
    rows = session.execute(
        select(TimelineEvent, Incident.reference)
        .join(Incident, TimelineEvent.incident_id == Incident.id)
        .where(*period, TimelineEvent.kind.not_in(QUIET))
        .order_by(TimelineEvent.at.desc(), TimelineEvent.id.desc())
        .limit(CHANGES_LISTED)
    ).all()
    listed = sum(n for kind, n in counts.items() if kind not in QUIET)
    return {
        "counts": {kind.value: counts[kind] for kind in EventKind if kind in counts},
        "events": [
            _saying(
                {"at": isoformat(event.at), "incident": reference, "kind": event.kind.value, "actor": event.actor},
                "said",
                said(event.kind, event.details),
            )
            for event, reference in reversed(rows)
        ],
        "more": max(0, listed - len(rows)),
    }
