"""The other side's receipt of our messages: the link they may use, what our staff log, the clock.

The other side confirms *receipt*; only our own staff acknowledge our incidents. So a message of ours
over a counterpart line carries a receipt link, signed for its own purpose ("receipt"), bound to the
message, the line and the line's address: using it records who confirmed and when on the message and
moves the exchange from notified to receipt confirmed. It never touches the incident's status, its
acknowledgement or its ladder, and /api/v1/acks refuses it (linkuse.use_any_link).

Each message sent starts a receipt clock (outgoing.receipt_due); the sweep job claims the clocks that
ran out the way exchanges.claim_due claims exchanges (one conditional UPDATE ... RETURNING, SKIP
LOCKED on PostgreSQL), so two schedulers never flag one message twice, and tells the supervisors.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session, object_session, selectinload

from ...channels import withheld
from ...errors import Conflict, InvalidTransition, NotFound, ValidationError
from ...models import (
    Call,
    EventKind,
    Exchange,
    ExchangeMessage,
    ExchangeState,
    LinkUse,
    MessageDirection,
    NotificationKind,
    OutgoingStatus,
    TimelineEvent,
    User,
)
from ...text import name_problem
from ...timeutil import RECENT_AHEAD
from ..engine import notify
from ..engine.claims import SetAside, act_on_claimed, among_claimable
from ..engine.links import NOT_VALID, AckLinks, LinkRefused, LinkSigner, made_for, sent_to, spend
from ..incidents import timeline

PURPOSE = "receipt"
# Who recorded a receipt given by its link, on our timeline: the other side, whatever name they typed.
LINK_ACTOR = "the other side (receipt link)"
# How a receipt reached us: their click on the link, or what our staff log (a call, a message, by voice).
LOGGED_VIA = ("call", "message", "voice")
ACTOR = "scheduler"
NAME_MAX_LENGTH = 120
# The receipt page's refusal of a name, in each of its languages (the API's says it in English only).
NAME_REFUSED = "Your name and post: one line, at most {most} characters."
# Why a receipt link is refused (LinkRefused.reason), as its page heads it; web/links.py heads our own links'
# refusals with the same words.
REFUSAL_HEADINGS = {
    "invalid": "This link is not valid",
    "expired": "This link has expired",
    "reused": "This link was used already",
    "foreign": "This link does not fit",
}
NOT_OURS = "This link does not belong to a message sent on this line."
USED_BY = "Used by {by} at {at}: that first use stands."
EXPIRED_AT = "It expired at {at}."
NOTHING_CHANGED = "Nothing was changed."
# The receipt page's sentences (tracker/web/receipt_links.py), and those of its refusals, shown in English and
# the line's language: each catalogue translates them (summary_text.msgids lists them with the rest).
PAGE_MSGIDS = (
    "Confirm receipt",
    "Message {serial}, reference {reference}: {subject}",
    "Sent on {date} at {time} UTC ({dtg}) over {line}.",
    "Pressing the button tells the sender that the message reached you. It records nothing else.",
    "Your name and post (optional)",
    "Receipt confirmed",
    "Receipt of message {serial} was recorded at {dtg} for {by}. Thank you.",
    NAME_REFUSED,
    *REFUSAL_HEADINGS.values(),
    NOT_VALID,
    NOT_OURS,
    USED_BY,
    EXPIRED_AT,
    NOTHING_CHANGED,
)


@dataclass(frozen=True)
class ReceiptLink:
    token: str
    url: str
    expires_at: datetime


def link_for(links: AckLinks, message: ExchangeMessage, now: datetime) -> ReceiptLink:
    """The receipt link of a message about to go out (its id is known: release flushed it)."""
    token = links.signer.issue(
        PURPOSE, message=message.id, channel=message.channel_id, **sent_to(message.channel.address)
    )
    return ReceiptLink(token, links.url(f"/links/receipt/{token}"), links.signer.expires_at(now))


@dataclass(frozen=True)
class ReceiptView:
    """What the receipt page shows: the message (by its header, never our incident number) and its receipt."""

    message_id: int
    reference: str
    serial: str
    subject: str
    # The line by its ends as the other side knows them (ContactChannel.seen_by_them), never our name of it:
    # the line's own station of ours ("" for the deployment's, which the page fills in) and their end.
    our_station: str
    their_end: str
    language: str | None
    sent_at: datetime
    receipt_at: datetime | None
    receipt_by: str | None
    receipt_via: str | None


def view(message: ExchangeMessage) -> ReceiptView:
    from .message_texts import subject_of  # message_texts -> summary_text -> receipts: import on use

    return ReceiptView(
        message.id,
        message.exchange.reference or "",
        f"{message.serial or 0:04d}/{message.serial_year or message.at.year}",
        subject_of(message.kind),  # in English: the page puts it in each language
        message.channel.our_station,
        message.channel.their_end,
        message.exchange.language,  # the language it was sent in, whatever the line reads since
        message.at,
        message.receipt_at,
        _by_them(message),
        message.receipt_via,
    )


def _by_them(message: ExchangeMessage) -> str | None:
    """Who confirmed, as the page shows it them: an older version kept a receipt logged from a call whose
    speaker went unnamed under our name of the line (as it was named then), which the page must not show."""
    session = object_session(message)
    if message.receipt_via != "call" or session is None:
        return message.receipt_by
    logged = session.scalars(
        select(TimelineEvent.details).where(
            TimelineEvent.incident_id == message.exchange.incident_id,
            TimelineEvent.kind == EventKind.RECEIPT_RECORDED,
            TimelineEvent.details["message"].as_integer() == message.id,
        )
    ).first()
    call = session.get(Call, logged["call"]) if logged and logged.get("call") else None
    return message.channel.their_end if call is not None and not call.their_name else message.receipt_by


def _target(session: Session, claims: dict) -> ExchangeMessage:
    """The message a receipt link is bound to (sent by us, on that counterpart line, to that address)."""
    message = session.get(ExchangeMessage, claims.get("message"))
    if (
        message is None
        or message.direction is not MessageDirection.OUT
        or message.channel_id != claims.get("channel")
        or not made_for(claims, message.channel.address)
        or not message.channel.counterpart_line
    ):
        raise LinkRefused("foreign", NOT_OURS)
    return message


def inspect(session: Session, signer: LinkSigner, token: str, now: datetime) -> ReceiptView:
    """What the link would confirm, without doing it (mail scanners and previewers fetch GETs)."""
    claims = signer.read(PURPOSE, token, now)
    used = session.scalar(select(LinkUse).where(LinkUse.link_id == claims["link"]))
    if used is not None:
        raise _used_before(session, claims, used.used_at, used.used_by)
    return view(_target(session, claims))


def _used_before(session: Session, claims: dict, used_at: datetime, used_by: str) -> LinkRefused:
    """The refusal of a link used before, saying who used it as the other side knows them: a use recorded by
    an older version kept "<their name> via <our name of the line>", and our name of a counterpart line is
    never theirs to read (their name is shown; ours is left out)."""
    message = session.get(ExchangeMessage, claims.get("message")) if isinstance(claims.get("message"), int) else None
    if message is not None and message.channel is not None:
        used_by = used_by.removesuffix(f" via {message.channel.name}")
    return LinkRefused("reused", "This link was used already.", {"used_at": used_at, "used_by": used_by})


def language_of_link(session: Session, signer: LinkSigner, token: str) -> str | None:
    """The language the message a receipt link names was sent in, for the page that refuses the link: also
    when it expired or was used already. None for a link that is not genuine (whose it is, nobody knows)."""
    claims = signer.peek(PURPOSE, token)
    message = (
        session.get(ExchangeMessage, claims["message"]) if claims and isinstance(claims.get("message"), int) else None
    )
    return message.exchange.language if message is not None and message.direction is MessageDirection.OUT else None


def confirm_by_link(session: Session, signer: LinkSigner, token: str, now: datetime, name: str = "") -> ReceiptView:
    """Record the other side's receipt from their link (once): by the name they typed, else the line's address
    with a webhook's or Apprise URL's secret withheld (every reader of the exchange sees who confirmed)."""
    claims = signer.read(PURPOSE, token, now)
    message = _target(session, claims)
    name = (name or "").strip()
    if name and (len(name) > NAME_MAX_LENGTH or name_problem(name)):
        raise ValidationError("a name is one line of text", {"name": f"one line, at most {NAME_MAX_LENGTH} characters"})
    by = name or withheld(message.channel.transport, message.channel.address)
    # Shown to whoever opens the link again ("used by ..."): their name or address, not our name of the line.
    try:
        spend(session, claims, PURPOSE, by, now)
    except LinkRefused as refused:
        if refused.reason != "reused":
            raise
        raise _used_before(session, claims, refused.details["used_at"], refused.details["used_by"]) from None
    if message.receipt_at is None:  # our staff may have logged it from a call first: that one stands
        # On our timeline as their link, never as the name they typed (which could be one of ours).
        _record(session, message, now, by, "link", LINK_ACTOR, now)
    return view(message)


def get_message(session: Session, exchange_id: int, message_id: int) -> ExchangeMessage:
    """One message of an exchange (404 if the exchange has no such message)."""
    message = session.get(ExchangeMessage, message_id)
    if message is None or message.exchange_id != exchange_id:
        raise NotFound(f"exchange {exchange_id} has no message {message_id}", {"message_id": message_id})
    return message


def record(
    session: Session,
    message: ExchangeMessage,
    at: datetime,
    by: str,
    via: str | None,
    actor: User,
    now: datetime,
    call: int | None = None,
):
    """Log a receipt the other side gave by call, message or voice (liaison of the line, supervisor, admin);
    via None: how it came was not said (the exchange moved to receipt confirmed without saying how).

    `call`: the logged call whose move to receipt confirmed this is (calls.move_by_call); the timeline then
    says so (by_call, their act: approval not needed), and the exchange's moved_by_call names the call."""
    from .exchanges import ensure_may_act  # exchanges -> counterpart -> outgoing -> receipts: import on use

    ensure_may_act(session, message.exchange.incident, actor, "record a receipt", message.channel_id)
    # What the message is comes first: a draft's "at" is no sending time to be before.
    if message.direction is not MessageDirection.OUT or message.status is not OutgoingStatus.SENT:
        raise InvalidTransition(
            "only a message of ours that was sent can have its receipt confirmed",
            {"direction": message.direction.value, "status": message.status.value},
        )
    problems = {}
    if via is not None and via not in LOGGED_VIA:
        problems["via"] = f"one of: {', '.join(LOGGED_VIA)}"
    by = (by or "").strip()
    if not by or len(by) > NAME_MAX_LENGTH or name_problem(by):
        problems["by"] = f"who confirmed: one line, 1 to {NAME_MAX_LENGTH} characters"
    if at > now + RECENT_AHEAD:  # a minute typed rounded up, a clock a little ahead: as a call's or a log line's
        problems["at"] = "a receipt cannot be in the future"
    elif at < message.at.replace(second=0, microsecond=0):  # a DTG names the minute only
        problems["at"] = "before the message was sent"
    if problems:
        raise ValidationError("the receipt is not valid", problems)
    if message.receipt_at is not None:
        raise Conflict(
            "the receipt of this message is recorded already",
            {"receipt_at": message.receipt_at, "receipt_by": message.receipt_by, "receipt_via": message.receipt_via},
        )
    _record(session, message, at, by, via, actor.username, now, call)
    return message


def _record(
    session: Session,
    message: ExchangeMessage,
    at: datetime,
    by: str,
    via: str | None,
    actor: str,
    now: datetime,
    call: int | None = None,
):
    exchange = message.exchange
    session.refresh(exchange, with_for_update=True)  # as exchanges.transition: one change of state at a time
    message.receipt_at, message.receipt_by, message.receipt_via = at, by[:255], via
    before = exchange.state
    if before is ExchangeState.NOTIFIED:  # their receipt is the state the exchange waited for
        exchange.state = ExchangeState.RECEIPT_CONFIRMED
        exchange.state_changed_at = now
    timeline.record(
        session,
        exchange.incident,
        EventKind.RECEIPT_RECORDED,
        actor,
        now,
        exchange=exchange.id,
        message=message.id,
        serial=f"{message.serial}/{message.serial_year}",
        channel=message.channel.name,
        receipt_at=at,
        receipt_by=by,
        receipt_via=via,
        # Late by the time they confirmed, not by the sweep: one given in time and logged after the clock was
        # flagged came in time (as the annual review counts it).
        late=message.receipt_due_at is not None and at > message.receipt_due_at,
        from_state=before.value,
        to_state=exchange.state.value,
        **({"call": call, "by_call": True, "approval": "not_needed"} if call is not None else {}),
    )
    session.flush()


def pending(exchange: Exchange) -> ExchangeMessage | None:
    """The oldest message of ours on the exchange whose receipt is still awaited (overdue or not)."""
    waiting = [m for m in exchange.messages if m.receipt_due_at is not None and m.receipt_at is None]
    return min(waiting, key=lambda m: (m.receipt_due_at, m.id), default=None)


# -- the clock ---------------------------------------------------------------------------------


def _due(now: datetime):
    return (
        ExchangeMessage.receipt_due_at <= now,
        ExchangeMessage.receipt_at.is_(None),
        ExchangeMessage.receipt_overdue_at.is_(None),
    )


def claim_due(session: Session, now: datetime, limit: int, aside: SetAside | None = None) -> list[int]:
    """Flag up to limit messages whose receipt clock ran out (receipt_overdue_at = now); return their ids.

    A receipt recorded, or a claim by another scheduler, committed first means the row no longer
    matches when it is claimed (claims.among_claimable): a message is flagged once.
    """
    due = (
        select(ExchangeMessage.id)
        .where(*_due(now))
        .order_by(ExchangeMessage.receipt_due_at, ExchangeMessage.id)
        .limit(limit)
    )
    aside = aside or SetAside()
    claim = (
        update(ExchangeMessage)
        .where(among_claimable(session, ExchangeMessage.id, aside.excluded(due, ExchangeMessage.id)))
        .values(receipt_overdue_at=now)
        .returning(ExchangeMessage.id)
    )
    return aside.took(list(session.execute(claim, execution_options={"synchronize_session": False}).scalars()))


def flag_overdue(session: Session, message: ExchangeMessage, now: datetime, runner: str, recipients) -> None:
    """Tell the supervisors (while the exchange is open) and put the overdue receipt on the timeline."""
    exchange = message.exchange
    overdue = {
        "channel": message.channel.name,
        "counterpart": message.channel.counterpart,
        "serial": f"{message.serial or 0:04d}/{message.serial_year}",
        "subject": message.subject or message.kind,
        "reference": exchange.reference,
        "sent_at": message.at,
        "due_at": message.receipt_due_at,
        # Its line deactivated after it was sent: it has not gone yet (delivery holds it), so no receipt came.
        "line_inactive": not message.channel.active,
    }
    told = []
    if exchange.is_open:  # a closed exchange waits for nothing more
        told = notify.enqueue_supervisors(
            session,
            exchange.incident,
            NotificationKind.RECEIPT_OVERDUE,
            now,
            recipients,
            step=0,
            loop=message.id,
            facts={"overdue": overdue},
        )
    timeline.record(
        session,
        exchange.incident,
        EventKind.RECEIPT_OVERDUE,
        ACTOR,
        now,
        exchange=exchange.id,
        message=message.id,
        channel=message.channel.name,
        serial=overdue["serial"],
        due_at=message.receipt_due_at,
        runner=runner,
        supervisors=[u.username for u in told],
    )


def sweep_batch(
    session: Session,
    now: datetime,
    limit: int,
    runner: str,
    recipients: notify.Recipients | None = None,
    public_url: str = "",
    aside: SetAside | None = None,
) -> int:
    """Claim and flag one batch of overdue receipts; return how many."""
    ids = claim_due(session, now, limit, aside)
    if not ids:
        return 0
    eager = (
        selectinload(ExchangeMessage.exchange).selectinload(Exchange.incident),
        selectinload(ExchangeMessage.channel),
    )
    told = recipients or notify.Recipients.load(session, public_url)
    return act_on_claimed(session, ExchangeMessage, ids, lambda m: flag_overdue(session, m, now, runner, told), *eager)
