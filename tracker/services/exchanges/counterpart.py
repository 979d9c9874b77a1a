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
    OutgoingStatus,
)
from ...timeutil import utcnow
from ..incidents import timeline
from . import outgoing, releasability


def send(
    session: Session,
    exchange: Exchange,
    kind: str,
    text: str,
    actor: str,
    now: datetime,
    text_second: str | None = None,
    settings: outgoing.Settings | None = None,
) -> ExchangeMessage:
    """Record an outgoing message and release it (outgoing.release); refuse non-releasable content (422)."""
    releasability.guard(exchange.incident, text, text_second)
    message = ExchangeMessage(
        exchange=exchange,
        direction=MessageDirection.OUT,
        kind=kind,
        text=text,
        text_second=text_second,
        language=exchange.language if text_second else None,
        at=now,
        recorded_at=now,
        channel_id=exchange.channel_id,
        recorded_by=actor,
        drafted_by=actor,
        status=OutgoingStatus.APPROVED,
    )
    session.add(message)
    session.flush()
    outgoing.release(session, message, actor, now, settings or outgoing.Settings())
    return message


def receive(session: Session, exchange: Exchange, kind: str, text: str, actor: str, at: datetime) -> ExchangeMessage:
    """Record a message the other side sent (our liaison types or pastes it in)."""
    message = ExchangeMessage(
        exchange=exchange,
        direction=MessageDirection.IN,
        kind=kind,
        text=text,
        at=at,
        recorded_at=utcnow(),
        status=OutgoingStatus.RECEIVED,
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
