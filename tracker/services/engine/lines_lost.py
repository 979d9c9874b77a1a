"""A line lost under a running step: deactivated, readdressed (its address or transport changed) or gone down
after its call to act went out. Its message's link is refused from then on ("deactivated", "readdressed"), or the
line is not believed to carry anything; the step waited out its whole timer, for hours, with nobody else called.
A step whose every line that was told can no longer act on it is due at once (DOMAIN: a step whose channel is down
should not wait out its timer), as a message given up on makes it (delivery.dead_letter); its timeline says why.

A call to act not yet sent is delivery's: one to a line deactivated since is given up on (delivery.line_deactivated),
one to a line readdressed since goes with a link made for its address now (delivery.Composer.relinked)."""

from datetime import datetime

from sqlalchemy import and_, exists, select, update
from sqlalchemy.orm import Session, aliased

from ...models import (
    ChannelHealth,
    ContactChannel,
    EventKind,
    Incident,
    IncidentStatus,
    Notification,
    NotificationStatus,
)
from ..incidents import timeline
from .delivery import ACTION_KINDS as CALLS_TO_ACT

WENT = (NotificationStatus.SENDING, NotificationStatus.SENT)
ALIVE = (NotificationStatus.PENDING, *WENT)


def step_lost(session: Session, channel: ContactChannel, why: str, now: datetime) -> list[str]:
    """Make due now each open incident whose current step and round told this line, and no other line that can
    still act (active, not down, not the other side's), and say why on its timeline; why: deactivated,
    readdressed or down. Return the references made due (an acknowledgement or escalation that came first wins:
    each is changed only while still open on that step and round and not due already)."""
    other, line = aliased(Notification), aliased(ContactChannel)
    usable = and_(line.active.is_(True), line.health != ChannelHealth.DOWN, line.counterpart_line.is_(False))
    still_told = exists().where(
        other.incident_id == Notification.incident_id,
        other.step == Notification.step,
        other.loop == Notification.loop,
        other.kind.in_(CALLS_TO_ACT),
        other.status.in_(ALIVE),
        other.channel_id != channel.id,
        line.id == other.channel_id,
        usable,
    )
    stranded = session.execute(
        select(Incident.id, Notification.step, Notification.loop)
        .join(Incident, Incident.id == Notification.incident_id)
        .where(
            Notification.channel_id == channel.id,
            Notification.kind.in_(CALLS_TO_ACT),
            Notification.status.in_(WENT),
            Incident.status == IncidentStatus.OPEN,
            Incident.current_step == Notification.step,
            Incident.loop == Notification.loop,
            Incident.next_escalation_at > now,
            ~still_told,
        )
        .order_by(Incident.id)
    ).all()
    due = []
    for incident_id, step, loop in dict.fromkeys(stranded):
        moved = session.execute(
            update(Incident)
            .where(
                Incident.id == incident_id,
                Incident.status == IncidentStatus.OPEN,
                Incident.current_step == step,
                Incident.loop == loop,
                Incident.next_escalation_at > now,
            )
            .values(next_escalation_at=now, version=Incident.version + 1)
            .execution_options(synchronize_session=False)
        )
        if not getattr(moved, "rowcount", 0):
            continue
        incident = session.get_one(Incident, incident_id, populate_existing=True)
        timeline.record(
            session,
            incident,
            EventKind.FALLBACK,
            "router",
            now,
            step=step,
            loop=loop,
            skipped=channel.name,
            reason=f"{why} after it was called: its message can no longer be acted on",
            fallback="the next step, at once",
            escalates_at_once=True,
        )
        due.append(incident.reference)
    return due
