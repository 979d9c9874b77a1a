"""The exchange with the other side: open it, move it through its states, record every message,
and the engine that marks an exchange overdue when the other side lets a deadline pass.

The clock lives in the database (Exchange.deadline_at), like an incident's next escalation, and
the sweep job claims due exchanges the same way it claims due incidents, so two schedulers never
mark one deadline overdue twice.
"""

import re
from datetime import datetime, timedelta
from typing import Literal, overload

from sqlalchemy import case, exists, select, update
from sqlalchemy.orm import Session, selectinload

from ...errors import Conflict, Forbidden, InvalidTransition, NotFound, ValidationError
from ...models import (
    CLOCKS,
    TRANSITIONS,
    ContactChannel,
    EventKind,
    Exchange,
    ExchangeState,
    Incident,
    MessageDirection,
    NotificationKind,
    User,
    channel_members,
)
from ...models.permissions import Permission, may
from ..engine import notify
from ..engine.claims import claimable, load_claimed
from ..incidents import handling, timeline
from . import counterpart

ACTOR = "scheduler"
S = ExchangeState
# The message a state change carries: what we send (out) or what the other side sent (in).
MESSAGE_OF: dict[ExchangeState, tuple[MessageDirection, str]] = {
    S.RECEIPT_CONFIRMED: (MessageDirection.IN, "receipt_confirmation"),
    S.EXPLANATION_REQUESTED: (MessageDirection.OUT, "explanation_request"),
    S.REPLY_RECEIVED: (MessageDirection.IN, "reply"),
    S.MEETING_REQUESTED: (MessageDirection.OUT, "meeting_request"),
    S.MEETING_HELD: (MessageDirection.IN, "meeting_notes"),
    S.REFUSED: (MessageDirection.IN, "refusal"),
}
TEXT_MAX_LENGTH = 8000
KIND = re.compile(r"^[a-z][a-z_]{0,31}$")
# The engine's notifications to supervisors are keyed (step 0, loop) with loop unique per
# exchange and overdue: exchange id * LOOP_BASE + overdue number.
LOOP_BASE = 1000


# -- reading -------------------------------------------------------------------------------


def get_exchange(session: Session, exchange_id: int) -> Exchange:
    exchange = session.get(Exchange, exchange_id)
    if exchange is None:
        raise NotFound(f"no exchange {exchange_id}", {"id": exchange_id})
    return exchange


def for_incident(session: Session, incident: Incident) -> list[Exchange]:
    return list(
        session.scalars(
            select(Exchange)
            .where(Exchange.incident_id == incident.id)
            .order_by(Exchange.id)
            .options(selectinload(Exchange.messages))
        )
    )


def listing(session: Session, open_only: bool | None = None, limit: int = 500) -> list[Exchange]:
    """Exchanges for the board: overdue first, then the nearest deadline, then the oldest."""
    query = select(Exchange)
    if open_only is True:
        query = query.where(Exchange.state != S.CLOSED)
    elif open_only is False:
        query = query.where(Exchange.state == S.CLOSED)
    overdue_first = case((Exchange.state == S.OVERDUE, 0), else_=1)
    query = query.order_by(overdue_first, Exchange.deadline_at.is_(None), Exchange.deadline_at, Exchange.id)
    return list(session.scalars(query.options(selectinload(Exchange.incident)).limit(limit)))


def seconds_left(exchange: Exchange, now: datetime) -> int | None:
    """Whole seconds until the running clock runs out (negative once due); None with no clock."""
    if exchange.deadline_at is None:
        return None
    return int((exchange.deadline_at - now).total_seconds() // 1)


def next_states(exchange: Exchange) -> list[ExchangeState]:
    """The states a person may move the exchange to now ("overdue" is the engine's)."""
    return [s for s in TRANSITIONS[exchange.state] if s is not S.OVERDUE]


def counterpart_lines(session: Session) -> list[ContactChannel]:
    """Active lines to the other side, for opening an exchange."""
    return list(
        session.scalars(
            select(ContactChannel)
            .where(ContactChannel.counterpart_line.is_(True), ContactChannel.active.is_(True))
            .order_by(ContactChannel.level, ContactChannel.name)
        )
    )


# -- who may act ---------------------------------------------------------------------------


def may_act(session: Session, incident: Incident, user: User, channel_id: int | None = None) -> bool:
    """Supervisors and admins; liaison staff of a line the incident was routed to, or of the counterpart line."""
    if may(user.role, Permission.EXCHANGES_TALK_ANY):
        return True
    if not may(user.role, Permission.EXCHANGES_TALK):
        return False
    if handling.is_member_for(session, incident, user):
        return True
    return channel_id is not None and bool(
        session.scalar(
            select(exists().where(channel_members.c.channel_id == channel_id, channel_members.c.user_id == user.id))
        )
    )


def ensure_may_act(session: Session, incident: Incident, user: User, action: str, channel_id: int | None = None):
    if not may_act(session, incident, user, channel_id):
        raise Forbidden(
            f"{user.username} ({user.role.value}) may not {action} for {incident.reference}",
            {"needs": "supervisor, admin, or liaison member of a line notified for it or of the counterpart line"},
        )


# -- people's actions ----------------------------------------------------------------------


@overload
def _clean_text(text: str | None, required: Literal[True], what: str) -> str: ...


@overload
def _clean_text(text: str | None, required: bool, what: str) -> str | None: ...


def _clean_text(text: str | None, required: bool, what: str) -> str | None:
    text = (text or "").strip()
    if len(text) > TEXT_MAX_LENGTH:
        raise ValidationError(f"a text is at most {TEXT_MAX_LENGTH} characters", {"text": "too long"})
    if required and not text:
        raise ValidationError(f"{what} needs the text of the message", {"text": "must not be blank"})
    return text or None


def open_exchange(
    session: Session, incident: Incident, channel_id: int, actor: User, now: datetime, text: str | None = None
) -> Exchange:
    """Open an exchange over a counterpart line once our own liaison has acknowledged the incident.

    Given a text, it goes out at once as the notice ("notified"); the deadlines are copied from the
    line, so changing the line later never moves a running clock.
    """
    ensure_may_act(session, incident, actor, "open an exchange", channel_id)
    if incident.acknowledged_at is None:
        raise InvalidTransition(
            f"{incident.reference} is not acknowledged yet: our own line must own it before the other side hears",
            {"status": incident.status.value, "acknowledged_at": None},
        )
    channel = session.get(ContactChannel, channel_id)
    if channel is None or not channel.counterpart_line or not channel.active:
        raise ValidationError(
            "an exchange needs an active counterpart line",
            {
                "channel_id": "no such channel"
                if channel is None
                else f"{channel.name} is not an active counterpart line"
            },
        )
    text = _clean_text(text, False, "a notice")
    running = session.scalar(
        select(Exchange.id).where(
            Exchange.incident_id == incident.id, Exchange.channel_id == channel.id, Exchange.state != S.CLOSED
        )
    )
    if running is not None:
        raise Conflict(
            f"{incident.reference} already has an open exchange over {channel.name}", {"exchange_id": running}
        )
    exchange = Exchange(
        incident=incident,
        channel=channel,
        state=S.NOTIFIED,
        opened_at=now,
        opened_by=actor,
        reply_seconds=channel.reply_deadline_seconds,
        meeting_seconds=channel.meeting_deadline_seconds,
        language=channel.language,
        overdue_count=0,
        state_changed_at=now,
    )
    session.add(exchange)
    session.flush()
    timeline.record(
        session,
        incident,
        EventKind.EXCHANGE_OPENED,
        actor.username,
        now,
        exchange=exchange.id,
        channel=channel.name,
        counterpart=channel.counterpart,
        to_state=exchange.state.value,
        reply_seconds=exchange.reply_seconds,
        meeting_seconds=exchange.meeting_seconds,
    )
    if text:
        counterpart.send(session, exchange, "notice", text, actor.username, now)
    session.flush()
    return exchange


def _lock(session: Session, exchange: Exchange) -> None:
    """Re-read the exchange and hold its row until commit (PostgreSQL: FOR UPDATE; a sweep skips
    it meanwhile). SQLite's transaction already holds the write lock."""
    session.refresh(exchange, with_for_update=True)


def transition(
    session: Session,
    exchange: Exchange,
    new_state: ExchangeState,
    actor: User,
    now: datetime,
    text: str | None = None,
    expected_version: int | None = None,
) -> Exchange:
    """Move the exchange to new_state: check the table, start or stop the clock, record the message."""
    ensure_may_act(session, exchange.incident, actor, "move the exchange", exchange.channel_id)
    _lock(session, exchange)
    if expected_version is not None and expected_version != exchange.version:
        raise Conflict(
            "the exchange changed since you read it; read it again",
            {"state": exchange.state.value, "version": exchange.version},
        )
    if new_state not in next_states(exchange):
        reason = "only the engine marks an exchange overdue" if new_state is S.OVERDUE else "not allowed from here"
        raise InvalidTransition(
            f"an exchange that is {exchange.state.value} cannot become {new_state.value}: {reason}",
            {
                "state": exchange.state.value,
                "allowed": [s.value for s in next_states(exchange)],
                "version": exchange.version,
            },
        )
    message_of = MESSAGE_OF.get(new_state)
    outgoing = message_of is not None and message_of[0] is MessageDirection.OUT
    text = _clean_text(text, outgoing, f"“{new_state.value.replace('_', ' ')}”")
    before = exchange.state
    exchange.state = new_state
    exchange.state_changed_at = now
    _set_clock(exchange, now)
    if new_state is S.CLOSED:
        exchange.closed_at = now
        exchange.outcome = text
    timeline.record(
        session,
        exchange.incident,
        EventKind.EXCHANGE_CHANGED,
        actor.username,
        now,
        exchange=exchange.id,
        channel=exchange.channel.name,
        from_state=before.value,
        to_state=new_state.value,
        deadline_kind=exchange.deadline_kind,
        deadline_at=exchange.deadline_at,
        **({"note": text} if text and message_of is None else {}),
    )
    if message_of is not None and text:
        _record(session, exchange, message_of[0], message_of[1], text, actor.username, now)
    session.flush()
    return exchange


def _set_clock(exchange: Exchange, now: datetime) -> None:
    kind = CLOCKS.get(exchange.state)
    if kind is None:
        exchange.deadline_at = exchange.deadline_kind = None
        return
    seconds = exchange.reply_seconds if kind == "reply" else exchange.meeting_seconds
    exchange.deadline_at = now + timedelta(seconds=seconds)
    exchange.deadline_kind = kind


def _record(session, exchange, direction: MessageDirection, kind: str, text: str, actor: str, now: datetime):
    if direction is MessageDirection.OUT:
        return counterpart.send(session, exchange, kind, text, actor, now)
    return counterpart.receive(session, exchange, kind, text, actor, now)


def record_message(
    session: Session,
    exchange: Exchange,
    direction: MessageDirection,
    kind: str,
    text: str,
    actor: User,
    now: datetime,
):
    """Record a free message either way; one to the other side is sent over the line.

    A closed exchange sends nothing more, but what the other side still sends is recorded.
    """
    ensure_may_act(session, exchange.incident, actor, "record a message", exchange.channel_id)
    if not KIND.match(kind or ""):
        raise ValidationError("a message kind is a short lower-case word", {"kind": "letters and _ only, up to 32"})
    text = _clean_text(text, True, "a message")
    if direction is MessageDirection.OUT and exchange.state is S.CLOSED:
        raise InvalidTransition(
            "the exchange is closed: nothing more goes to the other side on it",
            {"state": exchange.state.value, "closed_at": exchange.closed_at},
        )
    message = _record(session, exchange, direction, kind, text, actor.username, now)
    session.flush()
    return message


# -- the engine ----------------------------------------------------------------------------


def claim_due(session: Session, now: datetime, limit: int) -> list[int]:
    """Claim up to limit exchanges whose clock ran out, for this transaction; return their ids.

    The same conditional UPDATE ... RETURNING as escalation.claim_due: it bumps the version, so a
    reply recorded (or a claim by another scheduler) committed first means the row no longer matches.
    """
    due = (
        select(Exchange.id).where(Exchange.deadline_at <= now).order_by(Exchange.deadline_at, Exchange.id).limit(limit)
    )
    claim = (
        update(Exchange)
        .where(Exchange.id.in_(claimable(session, due).scalar_subquery()), Exchange.deadline_at <= now)
        .values(version=Exchange.version + 1)
        .returning(Exchange.id)
    )
    return list(session.execute(claim, execution_options={"synchronize_session": False}).scalars())


def expire(session: Session, exchange: Exchange, now: datetime, runner: str, recipients: notify.Recipients) -> None:
    """Mark a claimed exchange overdue: stop its clock, put it on the timeline, tell the supervisors."""
    before, kind, due_at = exchange.state, exchange.deadline_kind, exchange.deadline_at
    exchange.state = S.OVERDUE
    exchange.state_changed_at = now
    exchange.deadline_at = exchange.deadline_kind = None
    exchange.overdue_count += 1
    loop = exchange.id * LOOP_BASE + exchange.overdue_count
    overdue = {
        "channel": exchange.channel.name,
        "counterpart": exchange.channel.counterpart,
        "deadline_kind": kind,
        "due_at": due_at,
        "overdue_count": exchange.overdue_count,
    }
    supervisors = notify.enqueue_supervisors(
        session,
        exchange.incident,
        NotificationKind.EXCHANGE_OVERDUE,
        now,
        recipients,
        step=0,
        loop=loop,
        facts={"overdue": overdue},
    )
    timeline.record(
        session,
        exchange.incident,
        EventKind.EXCHANGE_OVERDUE,
        ACTOR,
        now,
        exchange=exchange.id,
        channel=exchange.channel.name,
        from_state=before.value,
        to_state=S.OVERDUE.value,
        deadline_kind=kind,
        due_at=due_at,
        overdue_count=exchange.overdue_count,
        notification_loop=loop,
        runner=runner,
        supervisors=[u.username for u in supervisors],
    )


def sweep_batch(session: Session, now: datetime, limit: int, runner: str) -> int:
    """Claim and expire one batch of exchanges whose clock ran out; return how many went overdue."""
    ids = claim_due(session, now, limit)
    if not ids:
        return 0
    exchanges = load_claimed(session, Exchange, ids)
    recipients = notify.Recipients.load(session)
    with session.no_autoflush:
        for exchange in exchanges:
            expire(session, exchange, now, runner, recipients)
    session.flush()
    return len(exchanges)
