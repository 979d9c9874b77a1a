"""Write outbox rows for a ladder step or for the supervisors, and cancel them."""

from dataclasses import dataclass
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


@dataclass(frozen=True)
class Recipients:
    """Who can be messaged right now: active channels and active supervisors.

    Loaded once per filing or per sweep batch, so advancing many incidents costs no query each.
    """

    channels: dict[int, ContactChannel]
    supervisors: list[User]

    @classmethod
    def load(cls, session: Session) -> "Recipients":
        channels = session.scalars(select(ContactChannel).where(ContactChannel.active.is_(True))).all()
        supervisors = session.scalars(
            select(User).where(User.role == Role.SUPERVISOR, User.active.is_(True)).order_by(User.username)
        ).all()
        return cls({c.id: c for c in channels}, list(supervisors))

    @classmethod
    def for_step(cls, session: Session, step: dict) -> "Recipients":
        """Only the active channels of one step (filing needs no more)."""
        ids = [c["id"] for c in step["channels"]]
        channels = session.scalars(
            select(ContactChannel).where(ContactChannel.id.in_(ids), ContactChannel.active.is_(True))
        ).all()
        return cls({c.id: c for c in channels}, [])


def enter_step(
    session: Session, incident: Incident, kind: NotificationKind, now: datetime, recipients: Recipients
) -> list[ContactChannel]:
    """Set the current step's deadline and queue one message per active channel; return those.

    A step none of whose channels is active gets no messages and is due at once: a step whose
    channel is down should not wait out its timer.
    """
    channels = [recipients.channels[c["id"]] for c in incident.step["channels"] if c["id"] in recipients.channels]
    incident.next_escalation_at = now + timedelta(seconds=incident.step["ack_seconds"]) if channels else now
    _queue(session, incident, kind, now, [{"channel": c} for c in channels])
    return channels


def enqueue_supervisors(
    session: Session, incident: Incident, kind: NotificationKind, now: datetime, recipients: Recipients
) -> list[User]:
    """Queue one message to every active supervisor."""
    _queue(session, incident, kind, now, [{"user": u} for u in recipients.supervisors])
    return recipients.supervisors


def _queue(session: Session, incident: Incident, kind: NotificationKind, now: datetime, targets: list[dict]) -> None:
    text_subject = messages.subject(incident, kind)
    text_body = messages.body(incident, kind, incident.current_step, incident.loop)
    for target in targets:
        session.add(
            Notification(
                incident=incident,
                kind=kind,
                step=incident.current_step,
                loop=incident.loop,
                subject=text_subject,
                body=text_body,
                created_at=now,
                next_attempt_at=now,
                **target,
            )
        )


def cancel_pending(session: Session, incident_id: int, reason: str) -> int:
    """Cancel the incident's messages not yet handed to a transport; return how many."""
    result = session.execute(
        update(Notification)
        .where(Notification.incident_id == incident_id, Notification.status == NotificationStatus.PENDING)
        .values(status=NotificationStatus.CANCELLED, last_error=reason),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount
