"""Write outbox rows for a ladder step or for the supervisors, and cancel them."""

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..models import (
    ContactChannel,
    Incident,
    Notification,
    NotificationKind,
    NotificationStatus,
    Role,
    User,
)
from . import messages


def enter_step(session: Session, incident: Incident, kind: NotificationKind, now: datetime) -> list[ContactChannel]:
    """Set the current step's deadline and queue one message per active channel; return those.

    A step none of whose channels is active gets no messages and is due at once: a step whose
    channel is down should not wait out its timer.
    """
    ids = [c["id"] for c in incident.step["channels"]]
    channels = (
        session.scalars(select(ContactChannel).where(ContactChannel.id.in_(ids), ContactChannel.active.is_(True))).all()
        if ids
        else []
    )
    incident.next_escalation_at = now + timedelta(seconds=incident.step["ack_seconds"]) if channels else now
    text_subject = messages.subject(incident, kind)
    text_body = messages.body(incident, kind, incident.current_step, incident.loop)
    for channel in sorted(channels, key=lambda c: ids.index(c.id)):
        session.add(
            Notification(
                incident=incident,
                kind=kind,
                step=incident.current_step,
                loop=incident.loop,
                channel=channel,
                subject=text_subject,
                body=text_body,
                created_at=now,
                next_attempt_at=now,
            )
        )
    return list(channels)


def enqueue_supervisors(session: Session, incident: Incident, kind: NotificationKind, now: datetime) -> list[User]:
    """Queue one message to every active supervisor."""
    supervisors = session.scalars(
        select(User).where(User.role == Role.SUPERVISOR, User.active.is_(True)).order_by(User.username)
    ).all()
    for user in supervisors:
        session.add(
            Notification(
                incident=incident,
                kind=kind,
                step=incident.current_step,
                loop=incident.loop,
                user=user,
                subject=messages.subject(incident, kind),
                body=messages.body(incident, kind, incident.current_step, incident.loop),
                created_at=now,
                next_attempt_at=now,
            )
        )
    return list(supervisors)


def cancel_pending(session: Session, incident_id: int, reason: str) -> int:
    """Cancel the incident's messages not yet handed to a transport; return how many."""
    result = session.execute(
        update(Notification)
        .where(Notification.incident_id == incident_id, Notification.status == NotificationStatus.PENDING)
        .values(status=NotificationStatus.CANCELLED, last_error=reason),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount
