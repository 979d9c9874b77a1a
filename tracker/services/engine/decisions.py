"""Steps reached by decision (PolicyStep.by_decision): the political levels of a ladder are entered
only when a supervisor confirms them, never by a timer alone.

When the step before one runs out unacknowledged, the sweep (escalation.advance) puts the question
instead of entering the step: a DECISION_ASKED message to every active supervisor with the incident
page's link; the incident stays open on its current step with decision_step, decision_asked_at and
decision_asks set and its next_escalation_at at the next ask. The sweep claims it again then, like any
due incident, and puts the question again (a step is never skipped silently) until a supervisor
confirms (confirm(): the step is entered at once, in the request's transaction) or the incident is
acknowledged or resolved (handling clears the question and cancels the asks not yet sent). So a last
step reached by decision never lets the ladder run out without a decision, and, since every ask moves
next_escalation_at forward, the watchdog sees a question put again on time as a deadline kept.

The asks' outbox rows carry the decision step and, as loop, the ask's number on this incident (1, 2,
...: counted from the DECISION_ASKED events while the claim holds the row, as the watchdog numbers
its alerts), so a question put again, or put again about the same step after a re-escalation, never
meets an earlier one in the outbox's unique index.
"""

from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ... import instruments
from ...errors import Forbidden, InvalidTransition
from ...models import EventKind, Incident, IncidentStatus, NotificationKind, TimelineEvent, User
from ...models.permissions import Permission, may
from ...timeutil import duration, format_dtg
from ..incidents import timeline
from . import notify
from .links import AckLinks

ACTOR = "scheduler"
# The committed default of DECISION_REASK_SECONDS (config/default.toml); the app hands its own setting in.
REASK = timedelta(seconds=600)


def needs_decision(step: dict) -> bool:
    """Whether a ladder snapshot's step is entered by decision (snapshots older than 0013 say nothing)."""
    return bool(step.get("by_decision"))


def ask(
    session: Session,
    incident: Incident,
    now: datetime,
    runner: str,
    recipients: notify.Recipients,
    links: AckLinks,
    reask: timedelta,
) -> None:
    """Put the question of entering the next step to every active supervisor, or put it again."""
    first = incident.decision_step is None
    asked = incident.current_step + 1 if incident.decision_step is None else incident.decision_step
    if first:
        incident.decision_step, incident.decision_asked_at, incident.decision_asks = asked, now, 0
    step = incident.steps[asked - 1]
    incident.decision_asks += 1
    incident.next_escalation_at = now + reask
    earlier = select(func.count()).where(
        TimelineEvent.incident_id == incident.id, TimelineEvent.kind == EventKind.DECISION_ASKED
    )
    number = 1 + session.scalars(earlier).one()
    reference = incident.reference
    facts = {
        "step": step["number"],
        "channels": [c["name"] for c in step["channels"]],
        "ask": incident.decision_asks,
        "first_asked_at": incident.decision_asked_at,
        "reask": duration(reask.total_seconds()),
        "url": links.url(f"/incidents/{reference}"),
        "api": links.url(f"/api/v1/incidents/{reference}/decision"),
    }
    supervisors = notify.enqueue_supervisors(
        session,
        incident,
        NotificationKind.DECISION_ASKED,
        now,
        recipients,
        step=incident.decision_step,
        loop=number,
        facts={"decision": facts},
    )
    timeline.note(
        session,
        incident,
        EventKind.DECISION_ASKED,
        ACTOR,
        now,
        step=incident.decision_step,
        channels=facts["channels"],
        ask=incident.decision_asks,
        from_step=incident.current_step,
        first_asked_at=incident.decision_asked_at,
        next_ask_at=incident.next_escalation_at,
        supervisors=[u.username for u in supervisors],
        notification_loop=number,
        runner=runner,
    )
    instruments.when_committed(session, instruments.DECISIONS.labels("asked" if first else "reasked").inc)


def confirm(
    session: Session, incident: Incident, user: User, now: datetime, links: AckLinks, step: int | None = None
) -> Incident:
    """Enter the step waiting for a decision at once, on a supervisor's word (the route checks the role):
    its lines called, its deadline set. step, when given, must be the step asked about (a page shown
    before another question was put must not confirm that one): otherwise, and when no question is
    open (confirmed already, acknowledged, resolved), InvalidTransition."""
    if not may(user.role, Permission.INCIDENTS_DECIDE):
        raise Forbidden(f"{user.username} ({user.role.label}) may not confirm a step", {"needs": "supervisor or admin"})
    pending, asked_at, asks = incident.decision_step, incident.decision_asked_at, incident.decision_asks
    before = (incident.current_step, incident.loop)
    if incident.status is not IncidentStatus.OPEN or pending is None or step not in (None, pending):
        raise _nothing_to_confirm(session, incident, step)
    # Conditional on the question, not on the version: a re-ask the sweep committed meanwhile leaves the
    # same question open, and an acknowledgement or another supervisor's confirmation closes it.
    entered = session.execute(
        update(Incident)
        .where(Incident.id == incident.id, Incident.status == IncidentStatus.OPEN, Incident.decision_step == pending)
        .values(
            version=Incident.version + 1,
            current_step=pending,
            loop=0,
            decision_step=None,
            decision_asked_at=None,
            decision_asks=0,
        )
        .returning(Incident.id),
        execution_options={"synchronize_session": False},
    ).first()
    session.refresh(incident)
    if entered is None:
        raise _nothing_to_confirm(session, incident, step)
    notify.cancel_pending(
        session, incident.id, f"step {pending} confirmed by {user.username}", (NotificationKind.DECISION_ASKED,)
    )
    timeline.record(
        session,
        incident,
        EventKind.DECISION_CONFIRMED,
        user.username,
        now,
        step=pending,
        from_step=before[0],
        asked_at=asked_at,
        asks=asks,
    )
    decided = {"by": user.username, "at": now}
    recipients = notify.Recipients.for_step(session, incident.step)
    channels = notify.enter_step(
        session, incident, NotificationKind.ESCALATED, now, recipients, links, {"decision": decided}
    )
    timeline.record(
        session,
        incident,
        EventKind.ESCALATED,
        user.username,
        now,
        from_step=before[0],
        from_loop=before[1],
        step=incident.current_step,
        loop=incident.loop,
        channels=[c.name for c in channels],
        skipped=notify.skipped(incident, channels),
        next_escalation_at=incident.next_escalation_at,
        decided_by=user.username,
    )
    session.flush()
    instruments.when_committed(session, instruments.DECISIONS.labels("confirmed").inc)
    return incident


def _nothing_to_confirm(session: Session, incident: Incident, step: int | None) -> InvalidTransition:
    """Why no decision waits, saying what ended the question asked about: its confirmation by whom and when, or
    the incident's acknowledgement or resolution ("waits for no decision (status: open)" told a supervisor on a
    page read before a colleague confirmed the step nothing of who had)."""
    state = {
        "status": incident.status.value,
        "decision_step": incident.decision_step,
        "current_step": incident.current_step,
        "version": incident.version,
    }
    if incident.status is IncidentStatus.OPEN and incident.decision_step is not None:
        return InvalidTransition(
            f"{incident.reference} waits for a decision on step {incident.decision_step}, not step {step}", state
        )
    confirmed = session.scalars(
        select(TimelineEvent)
        .where(TimelineEvent.incident_id == incident.id, TimelineEvent.kind == EventKind.DECISION_CONFIRMED)
        .order_by(TimelineEvent.id.desc())
        .limit(1)
    ).first()
    # What came last ended the question: a confirmation, the acknowledgement or the resolution.
    ended = [
        (at, said)
        for at, said in (
            (incident.resolved_at, "it was resolved"),
            (incident.acknowledged_at, "it was acknowledged"),
            (
                confirmed.at if confirmed is not None else None,
                f"step {(confirmed.details or {}).get('step')} was confirmed by {confirmed.actor}" if confirmed else "",
            ),
        )
        if at is not None
    ]
    if ended:
        at, said = max(ended, key=lambda e: e[0])
        return InvalidTransition(f"{incident.reference} waits for no decision: {said} at {format_dtg(at)}", state)
    return InvalidTransition(f"{incident.reference} waits for no decision (status: {incident.status.value})", state)
