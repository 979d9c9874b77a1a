"""The escalation engine: claim due incidents atomically and move each one step up its ladder."""

from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import func, inspect, select, update
from sqlalchemy.orm import Session

from ... import instruments
from ...models import EventKind, Incident, IncidentStatus, NotificationKind
from ...models.bulk import any_of
from ..incidents import amendment_record, timeline
from . import decisions, notify
from .claims import SetAside, claimable, load_claimed
from .links import AckLinks

ACTOR = "scheduler"


def claim_due(session: Session, now: datetime, limit: int, aside: SetAside | None = None) -> list[int]:
    """Claim up to limit due incidents for this transaction, passing over those set aside; return their ids.

    On PostgreSQL the due rows are locked FOR UPDATE SKIP LOCKED: a second scheduler takes other rows
    instead of waiting, a row acknowledged before the lock no longer matches (the lock checks the row as
    last committed), and an acknowledgement that read the row before waits for this transaction, then
    finds its version bumped with the new step (write_steps). On SQLite the transaction already holds the
    database's write lock (BEGIN IMMEDIATE), so reading them is the claim. Unlike the other sweeps' claims
    (claims.claim_incidents), this one writes nothing: each row is written once, with its new step, where
    a claim's UPDATE wrote it twice (measured: a tenth of PostgreSQL's CPU per escalation).
    """
    due = (
        select(Incident.id)
        .where(Incident.status == IncidentStatus.OPEN, Incident.next_escalation_at <= now)
        .order_by(Incident.next_escalation_at, Incident.id)
        .limit(limit)
    )
    aside = aside or SetAside()
    return aside.took(list(session.scalars(claimable(session, aside.excluded(due, Incident.id)))))


def next_deadline(session: Session, now: datetime) -> datetime | None:
    """The earliest clock of the sweep's still to come (after now), or None: an open incident's escalation
    (read through ix_incidents_due) or an acknowledged one's idle check (ix_incidents_idle), when the sweep
    should look next to act on time."""
    escalates = select(func.min(Incident.next_escalation_at)).where(
        Incident.status == IncidentStatus.OPEN, Incident.next_escalation_at > now
    )
    idles = select(func.min(Incident.idle_check_at)).where(
        Incident.status == IncidentStatus.ACKNOWLEDGED, Incident.idle_check_at > now
    )
    found = [session.scalar(escalates), session.scalar(idles)]
    return min((moment for moment in found if moment is not None), default=None)


def advance(
    session: Session,
    incident: Incident,
    now: datetime,
    runner: str,
    recipients: notify.Recipients,
    links: AckLinks,
    decision_reask: timedelta = decisions.REASK,
) -> str:
    """Move a claimed incident to its next step, repeat the last step, or mark it exhausted; the new
    step's calls to act carry acknowledge links made with links. A next step reached by decision is
    not entered: the supervisors are asked to confirm it, and asked again every decision_reask until
    one does (decisions.py). Return what was done: escalated, exhausted or decision_asked."""
    if incident.decision_step is not None or (
        incident.current_step < len(incident.steps) and decisions.needs_decision(incident.steps[incident.current_step])
    ):
        decisions.ask(session, incident, now, runner, recipients, links, decision_reask)
        return "decision_asked"
    before = (incident.current_step, incident.loop)
    if incident.current_step < len(incident.steps):
        incident.current_step += 1
        incident.loop = 0
    elif incident.loop < incident.ladder["repeat"]:
        incident.loop += 1
    else:
        incident.status = IncidentStatus.EXHAUSTED
        incident.next_escalation_at = None
        called = {"steps": notify.lines_called(session, incident)}
        supervisors = notify.enqueue_supervisors(
            session, incident, NotificationKind.EXHAUSTED, now, recipients, facts={"called": called}
        )
        timeline.note(
            session,
            incident,
            EventKind.EXHAUSTED,
            ACTOR,
            now,
            step=incident.current_step,
            loop=incident.loop,
            runner=runner,
            supervisors=[u.username for u in supervisors],
        )
        return "exhausted"
    channels = notify.enter_step(session, incident, NotificationKind.ESCALATED, now, recipients, links)
    timeline.note(
        session,
        incident,
        EventKind.ESCALATED,
        ACTOR,
        now,
        from_step=before[0],
        from_loop=before[1],
        step=incident.current_step,
        loop=incident.loop,
        channels=[c.name for c in channels],
        skipped=notify.skipped(incident, channels),
        next_escalation_at=incident.next_escalation_at,
        runner=runner,
    )
    return "escalated"


def sweep_batch(
    session: Session,
    now: datetime,
    limit: int,
    runner: str,
    links: AckLinks,
    decision_reask: timedelta = decisions.REASK,
    aside: SetAside | None = None,
) -> int:
    """Claim and advance one batch of due incidents (or put their pending decision again), passing over
    those set aside; return how many."""
    ids = claim_due(session, now, limit, aside)
    if not ids:
        return 0
    incidents = load_claimed(session, Incident, ids)
    amendment_record.load_amendments(session, incidents)  # whose addenda each message states
    recipients = notify.Recipients.load(session, links.public_url)
    outcomes: Counter[str] = Counter()
    lags = [max(0.0, (now - incident.next_escalation_at).total_seconds()) for incident in incidents]
    with session.no_autoflush, timeline.written_in_bulk(session):
        for incident in incidents:
            outcomes[advance(session, incident, now, runner, recipients, links, decision_reask)] += 1
        write_steps(session, incidents)
    instruments.when_committed(session, lambda: _count(lags, outcomes))
    session.flush()  # whatever else advancing changed through the ORM
    return len(incidents)


def _count(lags: list[float], outcomes: Counter[str]) -> None:
    for lag in lags:
        instruments.ESCALATION_LAG.observe(lag)
    for outcome, count in outcomes.items():
        instruments.ESCALATIONS.labels(outcome).inc(count)


# What advancing changes on a claimed incident (advance and decisions.ask).
STEP_COLUMNS = frozenset(
    {
        "current_step",
        "loop",
        "status",
        "next_escalation_at",
        "decision_step",
        "decision_asked_at",
        "decision_asks",
        "step_channels",
    }
)
_COLUMNS = frozenset(attribute.key for attribute in Incident.__mapper__.column_attrs)


def write_steps(session: Session, incidents: list[Incident]) -> None:
    """Write the claimed incidents' new steps set by set: one UPDATE ... WHERE id IN (...) per distinct
    new state (a batch moves mostly to the same few steps at the same moment), instead of one versioned
    UPDATE per incident at the flush; then let the incidents go from the session, so the flush has
    nothing of theirs to compare. Which columns advancing set is the ORM's own record of each object
    (InstanceState.unmodified_intersection: a set operation, where the attribute history or a copy of
    every column costs more than advancing); advancing that set a column outside STEP_COLUMNS would be
    lost, and fails the batch instead. The claim holds each row (locked on PostgreSQL, under the write
    lock on SQLite), so no version needs checking; each is bumped here."""
    groups: dict[tuple, list[int]] = {}
    for incident in incidents:
        written = _COLUMNS.difference(inspect(incident).unmodified_intersection(_COLUMNS))
        changed = tuple(sorted((name, _hashable(getattr(incident, name))) for name in written))
        unwritten = [name for name, _ in changed if name not in STEP_COLUMNS]
        if unwritten:
            raise RuntimeError(f"advancing incident {incident.id} changed {unwritten}, which no sweep writes")
        groups.setdefault(changed, []).append(incident.id)
        session.expunge(incident)
    for changed, ids in groups.items():
        session.execute(
            update(Incident)
            .where(any_of(session, Incident.id, ids))
            .values({"version": Incident.version + 1, **{name: _stored(value) for name, value in changed}}),
            execution_options={"synchronize_session": False},
        )


def _hashable(value):
    """A step column's value as a key of write_steps' groups (step_channels is a list)."""
    return tuple(value) if isinstance(value, list) else value


def _stored(value):
    return list(value) if isinstance(value, tuple) else value
