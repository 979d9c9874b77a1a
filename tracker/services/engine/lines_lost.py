"""A line lost under a running step: deactivated, readdressed (its address changed) or gone down
after its call to act went out. Its message's link is refused from then on ("deactivated", "readdressed"), or the
line is not believed to carry anything; the step waited out its whole timer, for hours, with nobody else called.
A step whose every line that was told can no longer act on it is due at once (DOMAIN: a step whose channel is down
should not wait out its timer), as a message given up on makes it (delivery.dead_letter); its timeline says why.

A call to act not yet sent is delivery's: one to a line deactivated since is given up on (delivery.line_deactivated),
one to a line readdressed since goes with a link made for its address now (delivery.Composer.relinked)."""

from datetime import datetime

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session

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
from .links import made_for, unsigned_claims

WENT = (NotificationStatus.SENDING, NotificationStatus.SENT)
ALIVE = (NotificationStatus.PENDING, *WENT)


def hold(session: Session, channel_id: int, now: datetime) -> None:
    """Lock, before the line's own change is written, the incidents a save that loses the line may make due (step_lost):
    a change of a line's name (a key: its unique index) locks its row whole, so an acknowledgement that held one of
    those incidents and wrote its message to the line waited on the save, which waited on the incident (a deadlock).
    Taken first, in the order of their ids, the incidents make them take turns."""
    with session.no_autoflush:
        session.execute(_told(channel_id, now, Incident.id).with_for_update(of=Incident)).all()


def step_lost(session: Session, channel: ContactChannel, why: str, now: datetime) -> None:
    """Make due now each open incident whose current step and round told this line, and no other line that can
    still act on it, and say why on its timeline; why: deactivated, readdressed or down. An acknowledgement or
    escalation that came first wins: each is changed only while still open on that step and round and not due
    already. A step waiting for the supervisors' decision is theirs, and left as it is."""
    stranded = session.execute(_told(channel.id, now, Incident.id, Notification.step, Notification.loop)).all()
    for incident_id, step, loop in dict.fromkeys(stranded):
        if _still_told(session, incident_id, step, loop, channel.id):
            continue
        moved = session.execute(
            update(Incident)
            .where(Incident.id == incident_id, *_running(step, loop, now))
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


def _told(channel_id: int, now: datetime, *columns) -> Select:
    """The columns of the open incidents whose current step and round told the line by a call to act that went."""
    return (
        select(*columns)
        .join(Notification, Notification.incident_id == Incident.id)
        .where(
            Notification.channel_id == channel_id,
            Notification.kind.in_(CALLS_TO_ACT),
            Notification.status.in_(WENT),
            *_running(Notification.step, Notification.loop, now),
        )
        .order_by(Incident.id)
    )


def _running(step, loop, now: datetime) -> tuple:
    """An incident still open on that step and round, its deadline still ahead, and no decision asked on it."""
    return (
        Incident.status == IncidentStatus.OPEN,
        Incident.current_step == step,
        Incident.loop == loop,
        Incident.next_escalation_at > now,
        Incident.decision_step.is_(None),
    )


def _still_told(session: Session, incident_id: int, step: int, loop: int, lost: int) -> bool:
    """Whether another line of the step and round was told and can still act: active, not down, not the other side's,
    and its call to act still to go (it goes with a link for its address then: delivery.Composer.relinked) or gone
    with a link made for its address now (one readdressed since is refused its link, as the lost line is)."""
    others = session.execute(
        select(Notification.status, Notification.payload, ContactChannel.address)
        .join(ContactChannel, ContactChannel.id == Notification.channel_id)
        .where(
            Notification.incident_id == incident_id,
            Notification.step == step,
            Notification.loop == loop,
            Notification.kind.in_(CALLS_TO_ACT),
            Notification.status.in_(ALIVE),
            Notification.channel_id != lost,
            ContactChannel.active.is_(True),
            ContactChannel.health != ChannelHealth.DOWN,
            ContactChannel.counterpart_line.is_(False),
        )
    )
    pending = NotificationStatus.PENDING
    return any(status is pending or _link_holds(payload, address) for status, payload, address in others)


def _link_holds(payload: dict | None, address: str) -> bool:
    """Whether a sent call to act's link was made for the address its line has now (one carrying none is taken as
    holding: nothing tells otherwise)."""
    ack = (payload or {}).get("acknowledge")
    token = ack.get("token") if isinstance(ack, dict) else None
    claims = unsigned_claims(token) if isinstance(token, str) else None
    return not isinstance(claims, dict) or made_for(claims, address)
