"""Messages to and from the other side over a counterpart line, each on record.

Outgoing text is checked by releasability.guard, stored as an ExchangeMessage and queued in the
outbox as a COUNTERPART notification that the delivery job sends exactly as stored (like every
outbox row, it is rendered once here; only its HTML part and webhook body are put around the text,
so no field the liaison did not approve can ride along).
"""

from datetime import datetime

from sqlalchemy.orm import Session

from ...models import (
    EventKind,
    Exchange,
    ExchangeMessage,
    MessageDirection,
    Notification,
    NotificationKind,
)
from ..engine.rendering import render_counterpart_message
from ..incidents import timeline
from . import releasability

SUBJECT_KINDS = {
    "notice": "NOTICE",
    "summary": "SUMMARY",
    "explanation_request": "REQUEST FOR EXPLANATION",
    "meeting_request": "REQUEST FOR MEETING",
    "message": "MESSAGE",
}


def subject(exchange: Exchange, kind: str) -> str:
    return f"{exchange.incident.reference} {SUBJECT_KINDS.get(kind, kind.replace('_', ' ').upper())}"[:255]


def send(
    session: Session,
    exchange: Exchange,
    kind: str,
    text: str,
    actor: str,
    now: datetime,
    text_second: str | None = None,
) -> ExchangeMessage:
    """Record an outgoing message and queue it for delivery; refuse non-releasable content (422)."""
    releasability.guard(exchange.incident, text, text_second)
    message = ExchangeMessage(
        exchange=exchange,
        direction=MessageDirection.OUT,
        kind=kind,
        text=text,
        text_second=text_second,
        language=exchange.language if text_second else None,
        at=now,
        channel_id=exchange.channel_id,
        recorded_by=actor,
    )
    session.add(message)
    session.flush()  # the message id keys its outbox row
    body = text if not text_second else f"{text.rstrip()}\n\n---- {exchange.language} ----\n\n{text_second.rstrip()}\n"
    row = Notification(
        incident_id=exchange.incident_id,
        kind=NotificationKind.COUNTERPART,
        step=0,
        loop=message.id,
        channel_id=exchange.channel_id,
        subject=subject(exchange, kind),
        body=body,
        created_at=now,
        next_attempt_at=now,
        exchange_message_id=message.id,
    )
    render_counterpart_message(row, exchange.incident.reference, exchange.channel.name)
    session.add(row)
    timeline.record(
        session,
        exchange.incident,
        EventKind.EXCHANGE_MESSAGE,
        actor,
        now,
        exchange=exchange.id,
        direction="out",
        kind=kind,
        channel=exchange.channel.name,
        message=message.id,
    )
    return message


def receive(session: Session, exchange: Exchange, kind: str, text: str, actor: str, at: datetime) -> ExchangeMessage:
    """Record a message the other side sent (our liaison types or pastes it in)."""
    message = ExchangeMessage(
        exchange=exchange,
        direction=MessageDirection.IN,
        kind=kind,
        text=text,
        at=at,
        channel_id=exchange.channel_id,
        recorded_by=actor,
    )
    session.add(message)
    session.flush()
    timeline.record(
        session,
        exchange.incident,
        EventKind.EXCHANGE_MESSAGE,
        actor,
        at,
        exchange=exchange.id,
        direction="in",
        kind=kind,
        channel=exchange.channel.name,
        message=message.id,
    )
    return message
