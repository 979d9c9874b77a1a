"""The acknowledgement timeout: an acknowledged incident nobody works on reminds whoever acknowledged
it, then goes back up its ladder.

Every acknowledgement sets idle_check_at = acknowledged_at + the precedence's timeout (IdleRules,
from ACK_TIMEOUT_SECONDS); resolving clears it. The sweep claims acknowledged incidents whose
idle_check_at has come, exactly once however many schedulers run (claims.claim_incidents),
and looks at each:
- something was recorded on its timeline since idle_check_at - timeout (a comment, a call, a message
  to the other side, a marking...; what the machinery writes itself does not count, nor what someone
  who does not handle incidents, a duty officer, wrote): someone is at work, so it looks again a
  timeout after that activity (stage back to 0);
- stage 0: it reminds whoever acknowledged (IDLE_REMINDER), goes to stage 1 and looks again a timeout
  from now;
- stage 1: it re-escalates from the current step: open again, that step's lines called again, a new
  deadline, and the ladder going on from there; the next acknowledgement starts the clock afresh.

Outbox rows stay apart in the unique indexes (incident, kind, step, loop, channel or user):
- a reminder's rows carry the current step and, as loop, the reminder's number on this incident
  (1, 2, ...: counted from the IDLE_REMINDED events while the claim holds the row, as the watchdog
  numbers its alerts), so a second reminder on the same step never meets the first;
- a re-escalation is a new round of the current step: the incident's loop goes up by one, as when
  the last step repeats (on the last step it counts as one of its repeats), so its ESCALATED rows,
  and the EXHAUSTED ones should the ladder run out again, have a (step, loop) never used before.
  The acknowledgement fields stay as they were (a record of the last one) until the next one.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, func, not_, select
from sqlalchemy.orm import Session, selectinload

from ... import instruments
from ...models import (
    ContactChannel,
    EventKind,
    Incident,
    IncidentStatus,
    NotificationKind,
    Precedence,
    TimelineEvent,
    User,
)
from ...models.bulk import any_of
from ...models.permissions import Permission, holders
from ...timeutil import duration
from ..incidents import amendment_record, timeline
from . import notify
from .claims import SetAside, claim_incidents, load_claimed
from .links import AckLinks

ACTOR = "scheduler"
# The committed default of ACK_TIMEOUT_SECONDS (config/default.toml); the app hands its own setting in.
ACK_TIMEOUT_SECONDS = {"Z": 1800, "O": 7200, "P": 43200, "R": 172800}
# What the machinery writes on a timeline itself: none of it is someone working on the incident (a
# message delivered, a deadline passed, a link suggested). Every other kind is people's activity.
MACHINE_KINDS = (
    EventKind.FILED,
    EventKind.ROUTED,
    EventKind.NOTIFIED,
    EventKind.ESCALATED,
    EventKind.EXHAUSTED,
    EventKind.DEAD_LETTERED,
    EventKind.FALLBACK,
    EventKind.EXERCISE_LINKED,
    EventKind.NO_NOTICE,
    EventKind.RELATED_SUGGESTED,
    EventKind.WATCHDOG_ALERT,
    EventKind.EXCHANGE_OVERDUE,
    EventKind.RECEIPT_OVERDUE,
    EventKind.ACTION_OVERDUE,
    EventKind.IDLE_REMINDED,
    EventKind.IDLE_REESCALATED,
    EventKind.DECISION_ASKED,
)


@dataclass(frozen=True)
class IdleRules:
    """How long an acknowledged incident may go without activity, by precedence letter."""

    seconds: dict[str, int] = field(default_factory=lambda: dict(ACK_TIMEOUT_SECONDS))

    def timeout(self, precedence: Precedence) -> timedelta:
        return timedelta(seconds=self.seconds[precedence.value])


def claim_idle(session: Session, now: datetime, limit: int, aside: SetAside | None = None) -> list[int]:
    """Claim up to limit acknowledged incidents whose idle check is due; return their ids (the claim
    of claims.claim_incidents: a resolution or another scheduler's claim that committed first wins)."""
    return claim_incidents(session, IncidentStatus.ACKNOWLEDGED, Incident.idle_check_at, now, limit, aside)


# A receipt the other side confirmed by its own link is their doing, not ours: nothing they send puts
# off our ladder. One our staff logged from a call or a message is ours.
_THEIR_RECEIPT = and_(
    TimelineEvent.kind == EventKind.RECEIPT_RECORDED,
    func.coalesce(TimelineEvent.details["receipt_via"].as_string(), "") == "link",
)


# A suggestion the related-incident search withdraws by itself (related.suggest_again: an amendment moved one of
# the two incidents, perhaps the other one, by someone who does not handle either) is the machinery's own event.
_WITHDRAWN_SUGGESTION = and_(TimelineEvent.kind == EventKind.RELATED_DISMISSED, TimelineEvent.actor == "tracker")


# Someone working on an incident holds incidents:handle: a duty officer's comment or addition to the
# narrative is news about it, not its handling, and puts off neither the reminder nor the re-escalation.
_NOT_HANDLING = select(User.username).where(User.role.not_in(holders(Permission.INCIDENTS_HANDLE)))


def last_activity(session: Session, ids: list[int]) -> dict[int, datetime]:
    """When our people handling incidents last recorded something on each incident's timeline
    (MACHINE_KINDS, the other side's own receipts, the suggestions withdrawn by the search and what people
    who do not handle incidents wrote left out)."""
    rows = session.execute(
        select(TimelineEvent.incident_id, func.max(TimelineEvent.at))
        .where(
            any_of(session, TimelineEvent.incident_id, ids),
            TimelineEvent.kind.not_in(MACHINE_KINDS),
            not_(_THEIR_RECEIPT),
            not_(_WITHDRAWN_SUGGESTION),
            TimelineEvent.actor.not_in(_NOT_HANDLING),
        )
        .group_by(TimelineEvent.incident_id)
    )
    return {incident_id: at for incident_id, at in rows}


def look_at(
    session: Session,
    incident: Incident,
    last: datetime | None,
    now: datetime,
    runner: str,
    recipients: notify.Recipients,
    links: AckLinks,
    rules: IdleRules,
) -> str:
    """Act on one claimed incident as its idle stage says; return what was done: active (only the next
    look moved), reminded or reescalated."""
    timeout = rules.timeout(incident.precedence)
    checked = incident.idle_check_at
    if checked is None:  # never: claim_idle() takes only incidents with a check due
        raise ValueError(f"{incident.reference} has no idle check to make")
    last = last or incident.acknowledged_at or checked - timeout
    if last > checked - timeout:
        incident.idle_check_at, incident.idle_stage = last + timeout, 0
        return "active"
    if incident.idle_stage == 0:
        remind(session, incident, last, now, runner, recipients, links, timeout)
        return "reminded"
    reescalate(session, incident, last, now, runner, recipients, links)
    return "reescalated"


def remind(
    session: Session,
    incident: Incident,
    last: datetime,
    now: datetime,
    runner: str,
    recipients: notify.Recipients,
    links: AckLinks,
    timeout: timedelta,
) -> None:
    """Remind whoever acknowledged (stage 1): it re-escalates a timeout from now unless someone acts."""
    earlier = select(func.count()).where(
        TimelineEvent.incident_id == incident.id, TimelineEvent.kind == EventKind.IDLE_REMINDED
    )
    number = 1 + session.scalars(earlier).one()
    users, channels = acknowledger(session, incident, recipients)
    incident.idle_stage, incident.idle_check_at = 1, now + timeout
    facts = {
        "last_activity": last,
        "timeout": duration(timeout.total_seconds()),
        "reescalates_at": incident.idle_check_at,
        "url": links.url(f"/incidents/{incident.reference}"),
    }
    notify.enqueue(
        session,
        incident,
        NotificationKind.IDLE_REMINDER,
        now,
        users=users,
        channels=channels,
        step=incident.current_step,
        loop=number,
        facts={"idle": facts},
    )
    timeline.record(
        session,
        incident,
        EventKind.IDLE_REMINDED,
        ACTOR,
        now,
        reminder=number,
        reminded=[u.username for u in users] + [c.name for c in channels],
        last_activity=last,
        timeout_seconds=int(timeout.total_seconds()),
        reescalates_at=incident.idle_check_at,
        notification_loop=number,
        runner=runner,
    )
    instruments.when_committed(session, instruments.IDLE_ACTIONS.labels("reminded").inc)


def acknowledger(
    session: Session, incident: Incident, recipients: notify.Recipients
) -> tuple[list[User], list[ContactChannel]]:
    """Whom a reminder goes to: the user who acknowledged, while active. A channel's recipient who used
    a signed link is no user: the reminder goes to the line the link was made for (the acknowledgement
    event names it), and when that is not known (acknowledged before this release) or no longer usable,
    or the user was deactivated since, to the current step's usable lines."""
    user = incident.acknowledged_by
    if user is not None and user.active:
        return [user], []
    if user is None:
        event = session.scalar(
            select(TimelineEvent)
            .where(TimelineEvent.incident_id == incident.id, TimelineEvent.kind == EventKind.ACKNOWLEDGED)
            .order_by(TimelineEvent.id.desc())
            .limit(1)
        )
        channel_id = event.details.get("channel_id") if event is not None else None
        line = recipients.usable({"id": channel_id}) if channel_id is not None else None
        if line is not None:
            return [], [line]
    lines = [recipients.usable(entry) for entry in incident.step["channels"]]
    return [], list(dict.fromkeys(c for c in lines if c is not None))


def reescalate(
    session: Session,
    incident: Incident,
    last: datetime,
    now: datetime,
    runner: str,
    recipients: notify.Recipients,
    links: AckLinks,
) -> None:
    """Open the incident again on its current step, as a new round of it (loop + 1), and call its lines."""
    said = {
        "acknowledged_by": incident.acknowledged_by_label,
        "acknowledged_at": incident.acknowledged_at,
        "last_activity": last,
    }
    incident.status = IncidentStatus.OPEN
    incident.idle_check_at, incident.idle_stage = None, 0
    incident.loop += 1
    channels = notify.enter_step(session, incident, NotificationKind.ESCALATED, now, recipients, links, {"idle": said})
    timeline.record(
        session,
        incident,
        EventKind.IDLE_REESCALATED,
        ACTOR,
        now,
        **said,
        step=incident.current_step,
        loop=incident.loop,
        channels=[c.name for c in channels],
        skipped=notify.skipped(incident, channels),
        next_escalation_at=incident.next_escalation_at,
        runner=runner,
    )
    instruments.when_committed(session, instruments.IDLE_ACTIONS.labels("reescalated").inc)


def sweep_batch(
    session: Session,
    now: datetime,
    limit: int,
    runner: str,
    links: AckLinks,
    rules: IdleRules,
    aside: SetAside | None = None,
) -> int:
    """Claim and look at one batch of acknowledged incidents whose idle check is due, passing over those
    set aside; return how many."""
    ids = claim_idle(session, now, limit, aside)
    if not ids:
        return 0
    incidents = load_claimed(session, Incident, ids, selectinload(Incident.acknowledged_by))
    amendment_record.load_amendments(session, incidents)  # whose addenda each message states
    latest = last_activity(session, ids)
    recipients = notify.Recipients.load(session)
    with session.no_autoflush:
        for incident in incidents:
            look_at(session, incident, latest.get(incident.id), now, runner, recipients, links, rules)
    session.flush()
    return len(incidents)
