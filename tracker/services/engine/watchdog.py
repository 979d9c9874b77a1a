"""The watchdog: open incidents whose deadline the sweep let pass raise one alert per missed deadline.

The sweep moves every due incident's deadline forward (or ends its ladder), so an open incident
whose deadline passed long ago is one no sweep has processed: every scheduler is stalled, failing
or behind. The alert goes on the incident's timeline and to every active supervisor.
"""

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ...models import EventKind, Incident, IncidentStatus, JobRun, NotificationKind, TimelineEvent
from ..incidents import amendment_record, timeline
from . import notify
from .claims import SetAside, among_claimable, load_claimed

ACTOR = "watchdog"


def _missed(cutoff: datetime):
    return (
        Incident.status == IncidentStatus.OPEN,
        Incident.next_escalation_at < cutoff,
        Incident.watchdog_deadline_at.is_distinct_from(Incident.next_escalation_at),
    )


def claim_missed(session: Session, cutoff: datetime, limit: int, aside: SetAside | None = None) -> list[int]:
    """Claim up to limit open incidents whose deadline passed before cutoff and raised no alert yet.

    The claim is an UPDATE ... RETURNING of the candidates that records the deadline as alerted, like the
    sweep's claim: a second watchdog that committed first, or a sweep that moved the deadline,
    means the row no longer matches, so two schedulers never raise the same alert twice. It leaves
    the version alone: an acknowledgement racing it still applies.
    """
    candidates = (
        select(Incident.id).where(*_missed(cutoff)).order_by(Incident.next_escalation_at, Incident.id).limit(limit)
    )
    aside = aside or SetAside()
    claim = (
        update(Incident)
        .where(among_claimable(session, Incident.id, aside.excluded(candidates, Incident.id)))
        .values(watchdog_deadline_at=Incident.next_escalation_at)
        .returning(Incident.id)
    )
    return aside.took(list(session.execute(claim, execution_options={"synchronize_session": False}).scalars()))


def alert(
    session: Session,
    incident: Incident,
    now: datetime,
    runner: str,
    recipients: notify.Recipients,
    sweep: JobRun | None,
) -> None:
    """Put a claimed incident's missed deadline on its timeline and tell every active supervisor."""
    # The claim holds the incident's row until commit, so counting its earlier alerts is race-free;
    # the number keeps each alert's supervisor messages apart in the outbox's unique index.
    earlier = select(func.count()).where(
        TimelineEvent.incident_id == incident.id, TimelineEvent.kind == EventKind.WATCHDOG_ALERT
    )
    number = 1 + session.scalars(earlier).one()
    deadline = incident.next_escalation_at
    if deadline is None:  # never: claim_missed() takes only incidents whose deadline passed
        raise ValueError(f"{incident.reference} has no deadline to have missed")
    missed = {
        "deadline": deadline,
        "late_seconds": round((now - deadline).total_seconds(), 1),
        "step": incident.current_step,
        "loop": incident.loop,
        "last_sweep_at": sweep.last_finished_at if sweep else None,
        "last_sweep_runner": sweep.last_runner if sweep else None,
        "last_sweep_error": sweep.last_error if sweep else None,
        # A question about a step reached by decision, due to be put again at the deadline: a question
        # put again on time moves the deadline on, so only a stalled sweep leaves one behind.
        "decision_step": incident.decision_step,
    }
    supervisors = notify.enqueue_supervisors(
        session, incident, NotificationKind.WATCHDOG, now, recipients, step=0, loop=number, facts={"missed": missed}
    )
    timeline.record(
        session,
        incident,
        EventKind.WATCHDOG_ALERT,
        ACTOR,
        now,
        **missed,
        notification_loop=number,
        runner=runner,
        supervisors=[u.username for u in supervisors],
    )


def check_batch(
    session: Session,
    now: datetime,
    cutoff: datetime,
    limit: int,
    runner: str,
    public_url: str = "",
    aside: SetAside | None = None,
) -> int:
    """Claim and alert one batch of incidents whose deadline passed before cutoff, passing over those set
    aside; return how many (the alerts link the incident page under public_url)."""
    ids = claim_missed(session, cutoff, limit, aside)
    if not ids:
        return 0
    incidents = load_claimed(session, Incident, ids)
    amendment_record.load_amendments(session, incidents)  # whose addenda each alert states
    recipients = notify.Recipients.load(session, public_url)
    sweep = session.get(JobRun, "sweep")
    with session.no_autoflush:
        for incident in incidents:
            alert(session, incident, now, runner, recipients, sweep)
    session.flush()
    return len(incidents)
