"""Hand queued messages to transports: claim, send outside any transaction, record the outcome.

At-least-once window: a process that dies after a transport accepted a message and before the
outcome was committed leaves the row "sending"; when its claim lapses (DELIVERY_CLAIM_SECONDS)
the row is claimed again and sent again. The outbox transport overwrites its own file then.
"""

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from ..channels import DeliveryError, Message
from ..models import EventKind, Notification, NotificationStatus
from . import timeline
from .claims import claimable


@dataclass(frozen=True)
class Claimed:
    message: Message
    transport: str


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    base_seconds: float
    claim_seconds: float


def claim_messages(session: Session, now: datetime, limit: int, policy: RetryPolicy) -> list[Claimed]:
    """Claim up to limit deliverable rows (pending and due, or sending with a lapsed claim)."""
    deliverable = or_(
        and_(Notification.status == NotificationStatus.PENDING, Notification.next_attempt_at <= now),
        and_(Notification.status == NotificationStatus.SENDING, Notification.claimed_until <= now),
    )
    candidates = select(Notification.id).where(deliverable).order_by(Notification.id).limit(limit)
    claim = (
        update(Notification)
        .where(Notification.id.in_(claimable(session, candidates).scalar_subquery()), deliverable)
        .values(
            status=NotificationStatus.SENDING,
            attempts=Notification.attempts + 1,
            claimed_until=now + timedelta(seconds=policy.claim_seconds),
        )
        .returning(Notification.id)
    )
    ids = list(session.execute(claim, execution_options={"synchronize_session": False}).scalars())
    rows = session.scalars(
        select(Notification)
        .where(Notification.id.in_(ids))
        .order_by(Notification.id)
        .execution_options(populate_existing=True)
    ).all()
    return [_claimed(row) for row in rows]


def _claimed(row: Notification) -> Claimed:
    if row.channel is not None:
        recipient, address, transport = row.channel.name, row.channel.address, row.channel.transport
    else:
        recipient, address, transport = row.user.username, row.user.email or row.user.username, "outbox"
    message = Message(row.id, row.incident.reference, recipient, address, row.subject, row.body)
    return Claimed(message, transport)


def record_sent(session: Session, notification_id: int, transport: str, now: datetime) -> bool:
    """Mark a claimed row sent and put the delivery on the timeline; False if it was not ours."""
    result = session.execute(
        update(Notification)
        .where(Notification.id == notification_id, Notification.status == NotificationStatus.SENDING)
        .values(status=NotificationStatus.SENT, sent_at=now, claimed_until=None, last_error=None),
        execution_options={"synchronize_session": False},
    )
    if result.rowcount != 1:
        return False
    row = session.get(Notification, notification_id)
    timeline.record(
        session,
        row.incident,
        EventKind.NOTIFIED,
        "delivery",
        now,
        recipient=row.recipient,
        transport=transport,
        step=row.step,
        loop=row.loop,
        message=row.kind.value,
        notification_id=row.id,
    )
    return True


def record_failure(
    session: Session, notification_id: int, error: DeliveryError, now: datetime, policy: RetryPolicy
) -> NotificationStatus:
    """Schedule a retry with exponential backoff and jitter, or give up on a permanent error."""
    row = session.get(Notification, notification_id, populate_existing=True)
    if row is None or row.status is not NotificationStatus.SENDING:
        return row.status if row else NotificationStatus.CANCELLED
    row.last_error = str(error)[:2000]
    row.claimed_until = None
    if not error.transient or row.attempts >= policy.max_attempts:
        row.status = NotificationStatus.FAILED
    else:
        delay = policy.base_seconds * 2 ** (row.attempts - 1)
        row.status = NotificationStatus.PENDING
        row.next_attempt_at = now + timedelta(seconds=delay * random.uniform(0.8, 1.2))
    return row.status
