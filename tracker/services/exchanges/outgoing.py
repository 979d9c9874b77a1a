"""Release a message of ours to the other side: the one path every outgoing text takes once a second
person approved it (four eyes, counterpart.py). Release gives it the line's next serial number of the
year (gapless: the counter advances in the same transaction as the message, so a rollback gives the
number back), the agreement and article it is sent under, its subject, the receipt clock, and queues
it on the counterpart line as a formatted message (message_format.py), rendered once.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ...errors import InvalidTransition
from ...models import (
    ChannelCheck,
    Counter,
    EventKind,
    Exchange,
    ExchangeMessage,
    Notification,
    NotificationKind,
    OutgoingStatus,
)
from ...sentences import Sentence
from ..engine.links import AckLinks
from ..engine.rendering import render_counterpart_message
from ..incidents import timeline
from . import releasability

RECEIPT_SECONDS = {"Z": 900, "O": 3600, "P": 21600, "R": 86400}
# Kinds whose receipt we do not wait for: our receipt of their message.
UNCONFIRMED = ("receipt",)


@dataclass(frozen=True)
class Settings:
    """What release needs from the deployment's configuration (the callers build it: services never
    read Flask config)."""

    our_station: str = "OUR STATION"
    reference_prefix: str = "NM"
    receipt_seconds: dict = field(default_factory=lambda: dict(RECEIPT_SECONDS))
    # Signs the receipt link the other side may use; None: no link (receipts are then logged by us).
    links: AckLinks | None = None


def next_serial(session: Session, channel_id: int, year: int) -> int:
    """The line's next serial number of the year, in the caller's transaction (one upsert that
    returns the new value; concurrent senders on one line queue on the counter's row)."""
    name = f"serial:{channel_id}:{year}"
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(Counter).values(name=name, value=1)
    stmt = stmt.on_conflict_do_update(index_elements=["name"], set_={"value": Counter.value + 1})
    return int(session.execute(stmt.returning(Counter.value)).scalar_one())


def exchange_reference(session: Session, exchange: Exchange, prefix: str, now: datetime) -> str:
    """The reference the other side knows the exchange by: PREFIX-YEAR-NNNN, never our incident number."""
    if exchange.reference is None:
        number = next_serial(session, 0, now.year)  # line 0: the exchanges' own counter
        exchange.reference = f"{prefix}-{now.year}-{number:04d}"
    return exchange.reference


def receipt_due(exchange: Exchange, now: datetime, settings: Settings) -> datetime:
    """When the other side's receipt of a message sent now is due: the line's seconds for the incident's
    precedence, else the deployment's."""
    letter = exchange.incident.precedence.value
    seconds = (exchange.channel.receipt_seconds or {}).get(letter) or settings.receipt_seconds[letter]
    return now + timedelta(seconds=int(seconds))


def ensure_line_active(exchange: Exchange) -> None:
    """Refuse (409) to send over a line an admin deactivated: an exchange cannot be opened on it, a line
    check never goes out on it, and nothing else of ours does either until it is active again."""
    channel = exchange.channel
    if not channel.active:
        raise InvalidTransition(
            Sentence(
                "the line {line} is inactive: nothing goes to the other side over it until an admin activates it again",
                {"line": channel.name},
            ),
            {"channel_id": channel.id, "channel": channel.name, "active": False},
        )


def release(session: Session, message: ExchangeMessage, actor: str, now: datetime, settings: Settings) -> Notification:
    """Send an approved message: number it, stamp it, start its receipt clock, queue it on the line."""
    from . import message_format, receipts  # the formatter reads catalogues; kept out of import time

    exchange = message.exchange
    ensure_line_active(exchange)
    releasability.ensure_releasable_to(exchange.incident, releasability.counterpart_of(exchange))
    # Cited only while in force: one made inactive since (no longer in force) was named in every text sent after.
    agreement = next((a for a in (exchange.agreement, exchange.channel.agreement) if a is not None and a.active), None)
    message.agreement = agreement
    message.article = agreement.article_for(message.kind) if agreement is not None else None
    message.serial_year = now.year
    message.serial = next_serial(session, exchange.channel_id, now.year)
    exchange_reference(session, exchange, settings.reference_prefix, now)
    message.at = now
    message.status = OutgoingStatus.SENT
    # Our confirmation of their message is itself confirmed by nobody: no clock, no link (it would loop).
    message.receipt_due_at = receipt_due(exchange, now, settings) if message.kind not in UNCONFIRMED else None
    session.flush()  # the message's id and serial key its outbox row (and its receipt link)
    awaited = message.receipt_due_at is not None
    receipt = receipts.link_for(settings.links, message, now) if settings.links is not None and awaited else None
    formatted = message_format.compose(message, settings, now, receipt_url=receipt.url if receipt else None)
    message.subject = formatted.subject
    row = Notification(
        incident_id=exchange.incident_id,
        kind=NotificationKind.COUNTERPART,
        step=0,
        loop=message.id,
        channel_id=exchange.channel_id,
        subject=formatted.subject,
        body=formatted.text,
        created_at=now,
        next_attempt_at=now,
        exchange_message_id=message.id,
    )
    render_counterpart_message(row, exchange.reference or "", exchange.channel)
    session.add(row)
    timeline.record(
        session,
        exchange.incident,
        EventKind.EXCHANGE_MESSAGE,
        actor,
        now,
        exchange=exchange.id,
        direction="out",
        kind=message.kind,
        channel=exchange.channel.name,
        message=message.id,
        serial=f"{message.serial}/{message.serial_year}",
        approved_by=message.approved_by,
    )
    return row


def sent_on(session: Session, channel_id: int, year: int) -> list[int]:
    """The serials sent on a line in a year, in order (what a gapless check reads): its messages' and its
    line checks' (a check over a counterpart line is numbered in the same series)."""
    messages = select(ExchangeMessage.serial).where(
        ExchangeMessage.channel_id == channel_id, ExchangeMessage.serial_year == year
    )
    checks = select(ChannelCheck.serial).where(ChannelCheck.channel_id == channel_id, ChannelCheck.serial_year == year)
    return sorted(s for s in session.scalars(messages.union_all(checks)) if s is not None)
