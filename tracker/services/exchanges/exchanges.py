"""The exchange with the other side: open it, move it through its states, record every message,
and the engine that marks an exchange overdue when the other side lets a deadline pass.

The clock lives in the database (Exchange.deadline_at), like an incident's next escalation, and
the sweep job claims due exchanges the same way it claims due incidents, so two schedulers never
mark one deadline overdue twice.
"""

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Literal, overload

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session, selectinload

from ...errors import Conflict, InvalidTransition, NotFound, ValidationError
from ...models import (
    CLOCKS,
    TRANSITIONS,
    ContactChannel,
    EventKind,
    Exchange,
    ExchangeMessage,
    ExchangeState,
    Incident,
    MessageDirection,
    NotificationKind,
    OutgoingStatus,
    TimelineEvent,
    User,
)
from ...sentences import Sentence
from ...timeutil import RECENT_AHEAD, format_dtg
from ..engine import notify
from ..engine.claims import SetAside, act_on_claimed, among_claimable
from ..incidents import timeline
from . import counterpart, four_eyes, outgoing, receipts

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
# The state a message of that kind from the other side brings the exchange to, where the table allows
# (recorded as a message or by the transition: either way their reply stops the clock).
STATE_OF_THEIRS = {kind: state for state, (direction, kind) in MESSAGE_OF.items() if direction is MessageDirection.IN}
# The state a text of ours of that kind asks for: written as a free message, it carries the state as a
# transition's draft does (its formula tells the other side a deadline; only the state's clock keeps it).
STATE_OF_OURS = {kind: state for state, (direction, kind) in MESSAGE_OF.items() if direction is MessageDirection.OUT}
TEXT_MAX_LENGTH = 8000
# The kinds of ours that have their own making, with their checks: a free message of one went out under its formal
# subject without them (a LINE CHECK carrying a receipt link, a SUMMARY without its fields checked).
MADE_ELSEWHERE = {
    "check": "a line check is sent from the line's page (Send a check now)",
    "receipt": "our receipt of their message is sent from its row (Send our receipt)",
    "summary": "a summary is drafted under Summaries, from the fields releasable",
}
# Written with ^ and $ for the OpenAPI document (api.exchange_schemas); matched whole (fullmatch), never up to
# a final line break ("reply\n").
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
            .options(selectinload(Exchange.messages), selectinload(Exchange.channel))
        )
    )


def listing(
    session: Session, open_only: bool | None = None, limit: int = 500, reference: str | None = None
) -> list[Exchange]:
    """Exchanges for the board: overdue first, then the nearest deadline, then the oldest; reference:
    only the one the other side knows by it (as they quote it, in any case)."""
    query = select(Exchange)
    if reference is not None:
        query = query.where(func.upper(Exchange.reference) == reference.strip().upper())
    if open_only is True:
        query = query.where(Exchange.state != S.CLOSED)
    elif open_only is False:
        query = query.where(Exchange.state == S.CLOSED)
    overdue_first = case((Exchange.state == S.OVERDUE, 0), else_=1)
    query = query.order_by(overdue_first, Exchange.deadline_at.is_(None), Exchange.deadline_at, Exchange.id)
    # Each row shows its line and the receipt awaited, and offers the states next (sent_any): read for all
    # the rows at once, not a statement a row on a board that refreshes every 3 s.
    loaded = (selectinload(Exchange.incident), selectinload(Exchange.channel), selectinload(Exchange.messages))
    return list(session.scalars(query.options(*loaded).limit(limit)))


def seconds_left(exchange: Exchange, now: datetime) -> int | None:
    """Whole seconds until the running clock runs out (negative once due); None with no clock."""
    if exchange.deadline_at is None:
        return None
    return int((exchange.deadline_at - now).total_seconds() // 1)


def next_states(exchange: Exchange) -> list[ExchangeState]:
    """The states a person may move the exchange to now ("overdue" is the engine's; a meeting is held
    late only after a meeting's clock ran out)."""
    late_meeting = exchange.state is S.OVERDUE and exchange.deadline_kind == "meeting"
    return [
        s
        for s in TRANSITIONS[exchange.state]
        if s is not S.OVERDUE
        and (s is not S.MEETING_HELD or exchange.state is not S.OVERDUE or late_meeting)
        and _unsaid(exchange, s) is None
    ]


def told_any(exchange: Exchange) -> bool:
    """Whether the other side was told anything on the exchange: a text of ours went (sent_any), or a call was
    logged on it (a request made by phone, unapproved, moves it too: their silence answers that)."""
    return sent_any(exchange) or bool(exchange.calls)  # type: ignore[attr-defined]  # a backref (models/calls.py)


def sent_any(exchange: Exchange) -> bool:
    """Whether a message of ours went out on the exchange: before one did (the notice still a draft, or
    none written), the other side has nothing to confirm the receipt of."""
    return any(m.direction is MessageDirection.OUT and m.status is OutgoingStatus.SENT for m in exchange.messages)


# What presupposes a text of ours went: their receipt of it, and their silence in answer to it (marked "no answer"
# with the notice still a draft, the other side was counted as not answering what it never had, in the reports and
# the annual review). Told by phone (a call logged on it) is told: their silence answers that.
NEEDS_SENT: dict[ExchangeState, tuple[Callable[[Exchange], bool], str]] = {
    S.RECEIPT_CONFIRMED: (sent_any, "there is no receipt to confirm"),
    S.NO_ANSWER: (told_any, "they have nothing to answer"),
}


def _unsaid(exchange: Exchange, state: ExchangeState) -> str | None:
    """Why state is not yet for the exchange (NEEDS_SENT), or None."""
    needs = NEEDS_SENT.get(state)
    return needs[1] if needs is not None and not needs[0](exchange) else None


def nothing_sent(exchange: Exchange, new_state: ExchangeState) -> str | None:
    """Why new_state, allowed from where the exchange stands, is not yet (NEEDS_SENT), or None."""
    if new_state in TRANSITIONS[exchange.state] and (why := _unsaid(exchange, new_state)):
        return f"nothing of ours was sent on this exchange yet: {why}"
    return None


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


# may_act and ensure_may_act live in four_eyes (counterpart.py needs them too); named here as well.
may_act = four_eyes.may_act
ensure_may_act = four_eyes.ensure_may_act


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
    session: Session,
    incident: Incident,
    channel_id: int,
    actor: User,
    now: datetime,
    text: str | None = None,
) -> Exchange:
    """Open an exchange over a counterpart line once our own liaison has acknowledged the incident.

    Given a text, it is drafted as the notice: the exchange is open ("notified") now, and the notice
    goes out once a second person approved it and someone sent it (send_message). The deadlines are
    copied from the line, so changing the line later never moves a running clock.
    """
    # The line first: who may open depends on it, and a liaison officer who names a line that is not
    # there, or an internal one, is told which field is wrong (422), not that they may not (403).
    channel = session.get(ContactChannel, channel_id)
    if channel is not None:
        # The line as it stands once no admin's save of it is under way (ladder.save_channel holds it FOR UPDATE):
        # read before, an exchange took the line's old language while the save refused none open in it, and wrote
        # it on for its life on a line that reads another (or opened on a line just deactivated). Shared: two
        # exchanges open on one line at once.
        session.refresh(channel, with_for_update={"read": True})
    if channel is None or not channel.counterpart_line or not channel.active:
        raise ValidationError(
            "an exchange needs an active counterpart line",
            {
                "channel_id": "no such channel"
                if channel is None
                else f"{channel.name} is not an active counterpart line"
            },
        )
    ensure_may_act(session, incident, actor, "open an exchange", channel_id)
    if incident.acknowledged_at is None:
        raise InvalidTransition(
            f"{incident.reference} is not acknowledged yet: our own line must own it before the other side hears",
            {"status": incident.status.value, "acknowledged_at": None},
        )
    text = _clean_text(text, False, "a notice")
    running = session.scalar(
        select(Exchange.id).where(
            Exchange.incident_id == incident.id, Exchange.channel_id == channel.id, Exchange.state != S.CLOSED
        )
    )
    if running is not None:
        raise Conflict(
            Sentence(f"{incident.reference} already has an open exchange over {{line}}", {"line": channel.name}),
            {"exchange_id": running},
        )
    in_force = channel.agreement_id if channel.agreement is not None and channel.agreement.active else None
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
        # What the line is for: its agreement and the other State (an incident with none takes them too). An
        # agreement made inactive (no longer in force) the line still names is taken by no new exchange or incident.
        agreement_id=in_force,
        counterpart_state=channel.counterpart_state or None,
    )
    if incident.agreement_id is None and in_force is not None:
        incident.agreement_id = in_force
    if not incident.counterpart_state and channel.counterpart_state:
        incident.counterpart_state = channel.counterpart_state
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
        counterpart.draft(session, exchange, "notice", text, actor.username, now)
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
    via: str | None = None,
) -> Exchange:
    """Move the exchange to new_state: check the table, start or stop the clock, record the message.

    A state whose message goes to the other side (MESSAGE_OF: a request for explanation, for a
    meeting) only drafts that message, with the state as its pending_state: the exchange moves, and
    its clock starts, when the approved message is sent (send_message).

    via: how the other side confirmed receipt (receipts.LOGGED_VIA), for receipt_confirmed only; left out,
    their text recorded with it says it came as a message, and without one how it came is not said (never
    "by voice" for a receipt nobody said was spoken).
    """
    ensure_may_act(session, exchange.incident, actor, "move the exchange", exchange.channel_id)
    if via is not None and (new_state is not S.RECEIPT_CONFIRMED or via not in receipts.LOGGED_VIA):
        said = (
            f"one of: {', '.join(receipts.LOGGED_VIA)}"
            if new_state is S.RECEIPT_CONFIRMED
            else "for receipt_confirmed only"
        )
        raise ValidationError("how the other side confirmed receipt is not valid", {"via": said})
    _lock(session, exchange)
    if expected_version is not None and expected_version != exchange.version:
        raise Conflict(
            "the exchange changed since you read it; read it again",
            {"state": exchange.state.value, "version": exchange.version},
        )
    if new_state not in next_states(exchange):
        reason = "only the engine marks an exchange overdue" if new_state is S.OVERDUE else "not allowed from here"
        reason = nothing_sent(exchange, new_state) or reason
        raise InvalidTransition(
            f"an exchange that is {exchange.state.value} cannot become {new_state.value}: {reason}",
            {
                "state": exchange.state.value,
                "allowed": [s.value for s in next_states(exchange)],
                "version": exchange.version,
            },
        )
    message_of = MESSAGE_OF.get(new_state)
    ours = message_of is not None and message_of[0] is MessageDirection.OUT
    text = _clean_text(text, ours, f"“{new_state.value.replace('_', ' ')}”")
    if message_of is not None and text and ours:
        _one_request_at_a_time(exchange, new_state)
        counterpart.draft(session, exchange, message_of[1], text, actor.username, now, pending_state=new_state)
        session.flush()
        return exchange
    _move(session, exchange, new_state, actor.username, now, text, note=message_of is None)
    if message_of is not None and text:
        counterpart.receive(session, exchange, message_of[1], text, actor.username, now)
    _their_receipt(session, exchange, new_state, now, via or ("message" if text else None), actor, now)
    session.flush()
    return exchange


def _their_receipt(
    session: Session,
    exchange: Exchange,
    state: ExchangeState,
    at: datetime,
    via: str | None,
    actor: User,
    now: datetime,
) -> None:
    """Their receipt recorded as a state (a transition, a message of theirs) is their receipt of the oldest
    message of ours still awaiting one, as a call's is (calls.move_by_call); their answer (a reply, meeting
    notes, a refusal) is their receipt of every one of ours sent before it, the text they answer among them.
    Their clocks stop: the sweep told the supervisors RECEIPT OVERDUE about a text the other side had answered."""
    if state is S.RECEIPT_CONFIRMED:
        waiting = [m for m in [receipts.pending(exchange)] if m is not None]
    elif state in STATE_OF_THEIRS.values():
        waiting = [
            m
            for m in exchange.messages
            if m.direction is MessageDirection.OUT
            and m.status is OutgoingStatus.SENT
            and m.receipt_due_at is not None
            and m.receipt_at is None
            and m.at <= at
        ]
    else:
        return
    by = exchange.channel.their_end[: receipts.NAME_MAX_LENGTH]  # the other side, never our name of the line
    for message in waiting:
        receipts.record(session, message, max(at, message.at), by, via, actor, now)


def _move(
    session: Session, exchange: Exchange, new_state: ExchangeState, actor: str, now: datetime, text, note: bool
) -> None:
    """Change the state, set its clock and put the change on the timeline (text: the note or outcome)."""
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
        actor,
        now,
        exchange=exchange.id,
        channel=exchange.channel.name,
        from_state=before.value,
        to_state=new_state.value,
        deadline_kind=exchange.deadline_kind,
        deadline_at=exchange.deadline_at,
        **({"note": text} if text and note else {}),
    )


def unsend(session: Session, message: ExchangeMessage, now: datetime) -> None:
    """A text of ours withheld before it reached them (releasability.withhold_unreleasable): the state its
    sending brought the exchange to (a request for explanation, its reply clock running) is put back as it
    was, while the exchange still stands there. Else the clock ran for an answer to a request they never had,
    and the supervisors were told it was overdue."""
    exchange = message.exchange
    if message.pending_state is None or exchange.state is not message.pending_state:
        return
    moved = session.scalars(
        select(TimelineEvent)
        .where(TimelineEvent.incident_id == exchange.incident_id, TimelineEvent.kind == EventKind.EXCHANGE_CHANGED)
        .order_by(TimelineEvent.id.desc())
    )
    last = next((e for e in moved if (e.details or {}).get("exchange") == exchange.id), None)
    if last is None or last.details.get("to_state") != message.pending_state.value:
        return
    _move(
        session,
        exchange,
        S(last.details["from_state"]),
        ACTOR,
        now,
        f"the text that asked for {message.pending_state.value.replace('_', ' ')} was withheld: it never reached them",
        note=True,
    )


def _set_clock(exchange: Exchange, now: datetime) -> None:
    kind = CLOCKS.get(exchange.state)
    if kind is None:
        exchange.deadline_at = exchange.deadline_kind = None
        return
    seconds = exchange.reply_seconds if kind == "reply" else exchange.meeting_seconds
    exchange.deadline_at = now + timedelta(seconds=seconds)
    exchange.deadline_kind = kind


def record_message(
    session: Session,
    exchange: Exchange,
    direction: MessageDirection,
    kind: str,
    text: str,
    actor: User,
    now: datetime,
    received_at: datetime | None = None,
):
    """Record a free message either way; one to the other side is a draft until a second person
    approved it and someone sent it (send_message); one of ours of a kind that asks for a state (a
    request for explanation, a meeting: STATE_OF_OURS) carries it as the transition's draft does. One
    from them of a kind that answers where the
    exchange stands (a reply to a request for explanation, a refusal, meeting notes) moves it as the
    transition would (STATE_OF_THEIRS), stopping its clock.

    A closed exchange sends nothing more, but what the other side still sends is recorded. A message
    from them takes the time it was received (received_at, not in the future; default now), not the
    time it was typed in.
    """
    ensure_may_act(session, exchange.incident, actor, "record a message", exchange.channel_id)
    if received_at is not None and direction is not MessageDirection.IN:
        raise ValidationError(
            "only a message from the other side is received", {"received_at": "for direction in only"}
        )
    if received_at is not None and received_at > now + RECENT_AHEAD:  # a minute typed rounded up, a clock ahead
        raise ValidationError("a message cannot be received in the future", {"received_at": "in the future"})
    occurred = exchange.incident.occurred_at
    # As a call's start (calls._check_times): a DTG's year one off (25 for 26) put their reply a year before
    # the incident it answers, at the foot of the timeline.
    if received_at is not None and received_at < occurred.replace(second=0, microsecond=0):
        raise ValidationError(
            "a message on this incident cannot be received before it occurred",
            {"received_at": f"before the incident occurred ({format_dtg(occurred)})"},
        )
    if not KIND.fullmatch(kind or ""):
        raise ValidationError("a message kind is a short lower-case word", {"kind": "letters and _ only, up to 32"})
    if direction is MessageDirection.OUT and kind in MADE_ELSEWHERE:
        raise ValidationError(
            f"a {kind} to the other side is not written as a message: {MADE_ELSEWHERE[kind]}",
            {"kind": f"{kind} is made elsewhere; choose another kind (message, reply, ...)"},
        )
    text = _clean_text(text, True, "a message")
    if direction is MessageDirection.OUT and exchange.state is S.CLOSED:
        raise InvalidTransition(
            "the exchange is closed: nothing more goes to the other side on it",
            {"state": exchange.state.value, "closed_at": exchange.closed_at},
        )
    if direction is MessageDirection.OUT:
        # A request for explanation or a meeting moves the exchange and starts its clock once sent, as the
        # transition's draft does: sent as a mere message, its "reply by ..." would be watched by nobody.
        if (asked := STATE_OF_OURS.get(kind)) is not None and asked not in next_states(exchange):
            raise InvalidTransition(
                f"an exchange that is {exchange.state.value} cannot become {asked.value}: not allowed from here",
                {"state": exchange.state.value, "allowed": [s.value for s in next_states(exchange)]},
            )
        if asked is not None:
            _lock(session, exchange)  # as a transition's request is checked: two at once pass no check together
            _one_request_at_a_time(exchange, asked)
        message = counterpart.draft(session, exchange, kind, text, actor.username, now, pending_state=asked)
    else:
        _lock(session, exchange)
        answered = STATE_OF_THEIRS.get(kind)
        moves = answered in next_states(exchange)
        if moves and received_at is not None:
            _answers_after_asked(session, exchange, kind, received_at)
        if moves and answered is not None:  # their reply stops the reply clock
            _move(session, exchange, answered, actor.username, now, None, note=False)
        message = counterpart.receive(session, exchange, kind, text, actor.username, received_at or now)
        if moves and answered is not None:
            _their_receipt(session, exchange, answered, received_at or now, "message", actor, now)
    session.flush()
    return message


# Which of our requests each answer of theirs may answer (their kind: our kinds).
ANSWERS = {
    "reply": ("explanation_request",),
    "refusal": ("explanation_request", "meeting_request"),
    "meeting_notes": ("meeting_request",),
}


def _one_request_at_a_time(exchange: Exchange, state: ExchangeState) -> None:
    """One text asking the other side for a state waits for its second person at a time: a second piled up in the
    approvers' queue, and both would have asked them the same with two deadlines. That one is edited instead."""
    waiting = [m for m in exchange.messages if m.pending_state is state and m.status is not OutgoingStatus.SENT]
    if waiting:
        raise Conflict(
            f"a text asking for {state.value.replace('_', ' ')} is drafted already and waits to be sent: edit that one",
            {"message_id": waiting[0].id, "status": waiting[0].status.value},
        )


def _answers_after_asked(session: Session, exchange: Exchange, kind: str, received_at: datetime) -> None:
    """Their answer to a request of ours (a reply to our request for an explanation) cannot have come before the
    first such request went (to the minute a DTG names): recorded so, it answered a request they did not have yet,
    and the request's receipt clock ran on. A request withheld before it went asked nothing."""
    asked = {
        m.id: m.at
        for m in exchange.messages
        if m.direction is MessageDirection.OUT and m.status is OutgoingStatus.SENT and m.kind in ANSWERS.get(kind, ())
    }
    from . import releasability  # releasability puts a withheld text's exchange back through this module

    for withheld in releasability.withheld_texts(session, list(asked)):
        asked.pop(withheld, None)
    if asked and received_at < (first := min(asked.values())).replace(second=0, microsecond=0):
        raise ValidationError(
            f"their {kind.replace('_', ' ')} cannot have come before our text that asked for it went",
            {"received_at": f"before {format_dtg(first)}, when our text went"},
        )


def withdraw_stale_approval(session: Session, message: ExchangeMessage, actor: User, now: datetime) -> bool:
    """Put an approved message back to draft when its incident changed since approval; True if it was.
    The routes commit this on its own before answering 409, so the draft stays a draft."""
    ensure_may_act(session, message.exchange.incident, actor, "send a message", message.exchange.channel_id)
    return counterpart.withdraw_if_stale(session, message, actor.username, now)


def send_message(
    session: Session,
    message: ExchangeMessage,
    actor: User,
    now: datetime,
    settings: outgoing.Settings | None = None,
    version: int | None = None,
) -> ExchangeMessage:
    """Send an approved message (anyone who may act on the exchange, its drafter included): first the
    state change it carries (pending_state, checked against the table as it is now, its clock started),
    then the release over the line. 409 when its incident changed since approval, or when version (the
    one the sender read) is given and the text was reworded or approved again since."""
    exchange = message.exchange
    ensure_may_act(session, exchange.incident, actor, "send a message", exchange.channel_id)
    _lock(session, exchange)
    counterpart.lock(session, message)
    if version is not None:
        counterpart.expect_version(message, version)
    if message.status is OutgoingStatus.APPROVED and four_eyes.stale(message.facts_digest, exchange.incident):
        raise Conflict(four_eyes.STALE, {"status": "draft", "version": message.version})
    if message.status is OutgoingStatus.APPROVED and not counterpart.approver_entitled(message):
        gone = four_eyes.APPROVER_GONE.format(approver=message.approved_by)
        raise Conflict(gone, {"needs_approval": True, "version": message.version, "approved_by": message.approved_by})
    if message.kind in MADE_ELSEWHERE:  # summaries and our receipts are released by their own making, not here
        # A free message of such a kind drafted before record_message refused them: it is not sent either.
        raise ValidationError(
            f"a {message.kind} to the other side is not written as a message: {MADE_ELSEWHERE[message.kind]}",
            {"kind": f"{message.kind} is made elsewhere: write a new message of another kind"},
        )
    pending = message.pending_state
    if pending is not None and message.status is OutgoingStatus.APPROVED:
        if pending not in next_states(exchange):
            raise InvalidTransition(
                f"an exchange that is {exchange.state.value} cannot become {pending.value} any more: "
                "edit the message or write a new one",
                {"state": exchange.state.value, "allowed": [s.value for s in next_states(exchange)]},
            )
        _move(session, exchange, pending, actor.username, now, None, note=False)
    counterpart.release(session, message, actor.username, now, settings)
    session.flush()
    return message


# -- the engine ----------------------------------------------------------------------------


def claim_due(session: Session, now: datetime, limit: int, aside: SetAside | None = None) -> list[int]:
    """Claim up to limit exchanges whose clock ran out, passing over those set aside, for this transaction;
    return their ids.

    The same UPDATE ... RETURNING of the candidates as claims.claim_incidents: it bumps the version, so a
    reply recorded (or a claim by another scheduler) committed first means the row no longer matches.
    """
    due = (
        select(Exchange.id).where(Exchange.deadline_at <= now).order_by(Exchange.deadline_at, Exchange.id).limit(limit)
    )
    aside = aside or SetAside()
    claim = (
        update(Exchange)
        .where(among_claimable(session, Exchange.id, aside.excluded(due, Exchange.id)))
        .values(version=Exchange.version + 1)
        .returning(Exchange.id)
    )
    return aside.took(list(session.execute(claim, execution_options={"synchronize_session": False}).scalars()))


def expire(session: Session, exchange: Exchange, now: datetime, runner: str, recipients: notify.Recipients) -> None:
    """Mark a claimed exchange overdue: stop its clock, put it on the timeline, tell the supervisors."""
    before, kind, due_at = exchange.state, exchange.deadline_kind, exchange.deadline_at
    exchange.state = S.OVERDUE
    exchange.state_changed_at = now
    exchange.deadline_at = None  # the clock stops; deadline_kind says which one ran out while overdue
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


def sweep_batch(
    session: Session, now: datetime, limit: int, runner: str, public_url: str = "", aside: SetAside | None = None
) -> int:
    """Claim and expire one batch of exchanges whose clock ran out, passing over those set aside; return
    how many went overdue (the supervisors' messages link the incident page under public_url)."""
    ids = claim_due(session, now, limit, aside)
    if not ids:
        return 0
    recipients = notify.Recipients.load(session, public_url)
    return act_on_claimed(session, Exchange, ids, lambda e: expire(session, e, now, runner, recipients))
