"""Our receipt of a message the other side sent: the standard formula, at once, over the line.

A receipt is a formula every desk sends the same way ("We confirm receipt of your message of ...;
this confirms receipt only"), carrying no fact of the incident and no word of our own, so it needs
no second person (four eyes is for text someone wrote): the liaison asks for it and it leaves through
outgoing.release like every message of ours (serial, agreement, header, both languages). It is one per
message of theirs, and nobody waits for their receipt of our receipt (outgoing.UNCONFIRMED).
"""

from datetime import datetime

from sqlalchemy.orm import Session

from ...errors import Conflict, InvalidTransition, NotFound, ValidationError
from ...models import Exchange, ExchangeMessage, MessageDirection, OutgoingStatus, User
from . import catalogues, four_eyes, message_format, outgoing
from .message_texts import receipt_text

KIND = "receipt"


def sent_for(theirs: ExchangeMessage) -> ExchangeMessage | None:
    """Our receipt of one of their messages, sent already, or None (among its exchange's messages)."""
    return next(
        (
            m
            for m in theirs.exchange.messages
            if m.answers_id == theirs.id and m.kind == KIND and m.direction is MessageDirection.OUT
        ),
        None,
    )


def confirm(
    session: Session, exchange: Exchange, their_message_id: int, actor: User, now: datetime, settings: outgoing.Settings
) -> ExchangeMessage:
    """Send our receipt of one of their messages on the exchange: 404 for a message not on it, 422 for one
    of ours, 409 when its receipt went out already or the exchange is closed."""
    four_eyes.ensure_may_act(session, exchange.incident, actor, "confirm receipt", exchange.channel_id)
    session.refresh(exchange, with_for_update=True)  # one receipt per message even with two clicks at once
    theirs = session.get(ExchangeMessage, their_message_id)
    if theirs is None or theirs.exchange_id != exchange.id:
        raise NotFound(f"exchange {exchange.id} has no message {their_message_id}", {"message_id": their_message_id})
    if theirs.direction is not MessageDirection.IN:
        raise ValidationError(
            "only a message the other side sent can have its receipt confirmed by us",
            {"message_id": f"message {theirs.id} is one of ours"},
        )
    if not exchange.is_open:
        raise InvalidTransition(
            "the exchange is closed: nothing more goes to the other side on it", {"state": exchange.state.value}
        )
    session.expire(exchange, ["messages"])  # read again, after the lock above: another click's receipt is seen
    if (sent := sent_for(theirs)) is not None:
        raise Conflict(
            "our receipt of this message went out already",
            {"receipt_id": sent.id, "serial": f"{sent.serial or 0:04d}/{sent.serial_year}", "at": sent.at},
        )
    message_format.ensure_supported(exchange.language, KIND)
    second = exchange.language if exchange.language and exchange.language != catalogues.SOURCE else None
    message = ExchangeMessage(
        exchange=exchange,
        direction=MessageDirection.OUT,
        kind=KIND,
        text=receipt_text(catalogues.SOURCE, theirs.at),
        text_second=receipt_text(second, theirs.at) if second else None,
        language=second,
        at=now,
        recorded_at=now,
        channel_id=exchange.channel_id,
        recorded_by=actor.username,
        drafted_by=actor.username,
        status=OutgoingStatus.APPROVED,  # a standard formula: no second person (module docstring)
        facts_digest=four_eyes.facts_digest(exchange.incident),
        answers=theirs,
        version=1,
    )
    session.add(message)
    session.flush()
    outgoing.release(session, message, actor.username, now, settings)
    return message
