"""The call log: every call with the other side on a counterpart line, logged as it happens.

A hotline desk logs a call while it goes on ("Call started" stamps the time, "Call ended" the end) or
back-times one that could not be logged at once: who called whom, on which line, who spoke, the
interpreter, what each side said, the actions agreed (each with a due time) and, optionally, the
state of the exchange the call moved (their receipt, their explanation, a meeting held...).
Logging a call sends nothing anywhere: no outbox row, no e-mail. It only goes on the record.

Each agreed action is a clock in the database (AgreedAction.due_at). The sweep job claims the clocks
that ran out with one conditional UPDATE ... RETURNING (SKIP LOCKED on PostgreSQL), as
exchanges.claim_due does, so two schedulers never flag one action twice; the supervisors are told.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session, selectinload

from ...errors import Conflict, NotFound, ValidationError
from ...models import (
    AgreedAction,
    Call,
    CallDirection,
    ContactChannel,
    EventKind,
    Exchange,
    ExchangeState,
    Incident,
    IncidentStatus,
    MessageDirection,
    NotificationKind,
    User,
)
from ...sentences import Sentence
from ...text import name_problem
from ...timeutil import ZuluTime, format_dtg, isoformat
from ..engine import notify
from ..engine.claims import SetAside, act_on_claimed, among_claimable
from ..incidents import timeline
from . import exchanges, receipts

ACTOR = "scheduler"
PARTIES = ("us", "them")
TEXT_MAX_LENGTH = exchanges.TEXT_MAX_LENGTH
ACTION_MAX_LENGTH = 1000
MAX_ACTIONS = 20
# The people on the call: one line each, as long as the columns hold.
NAMES = {"our_speaker": 120, "their_name": 120, "their_rank": 80, "their_post": 120, "interpreter": 120}
SAID = ("we_said", "they_said")
# The states whose written form is a text of ours (a request for explanation, for a meeting): sent, it
# needs a second person's approval. Said on a call, it crossed the line as spoken, with no one to approve
# it first; the call still moves the exchange (the other side heard the request and the clock runs from
# it), and the move is recorded everywhere as by call, not approved. Their receipt, reply, refusal or a
# meeting held are the other side's acts: recorded by one person, by call or otherwise.
OURS_UNAPPROVED = frozenset(
    state for state, (direction, _kind) in exchanges.MESSAGE_OF.items() if direction is MessageDirection.OUT
)


@dataclass(frozen=True)
class Limits:
    """How far a time typed on a call may lie ahead of the server's clock (filing's skew)."""

    max_future_skew_seconds: int = 300

    def latest(self, now: datetime) -> datetime:
        return now + timedelta(seconds=self.max_future_skew_seconds)


# -- reading -------------------------------------------------------------------------------


def get_call(session: Session, call_id: int) -> Call:
    call = session.get(Call, call_id)
    if call is None:
        raise NotFound(f"no call {call_id}", {"id": call_id})
    return call


def get_action(session: Session, action_id: int) -> AgreedAction:
    action = session.get(AgreedAction, action_id)
    if action is None:
        raise NotFound(f"no agreed action {action_id}", {"id": action_id})
    return action


def for_incident(session: Session, incident: Incident) -> list[Call]:
    """The incident's calls, the first call first, with their actions."""
    query = (
        select(Call)
        .where(Call.incident_id == incident.id)
        .order_by(Call.started_at, Call.id)
        .options(selectinload(Call.actions), selectinload(Call.channel))
    )
    return list(session.scalars(query))


def moved_without_approval(call: Call) -> bool:
    """Whether the call moved its exchange to a request of ours (explanation, meeting) that no second
    person approved: said on the call, never a text approved before it went."""
    return call.moved_to in OURS_UNAPPROVED


def move_words(call: Call) -> str:
    """How the call's move reads on the pages and the print: "by call, not approved" for a request of ours."""
    if call.moved_to is None:
        return ""
    state = call.moved_to.value.replace("_", " ")
    return f"{state}, by call, not approved" if moved_without_approval(call) else f"{state}, by call"


def action_state(action: AgreedAction, now: datetime) -> str:
    """done, overdue (flagged by the sweep, or past due and not yet swept) or open."""
    if action.done_at is not None:
        return "done"
    return "overdue" if action.overdue_at is not None or action.due_at <= now else "open"


# -- logging a call ------------------------------------------------------------------------


def _line(session: Session, incident: Incident, channel_id: int | None, exchange_id: int | None):
    """The counterpart line the call was on, and the exchange it belongs to (given, or the incident's
    open exchange over that line)."""
    if exchange_id is not None:
        exchange = session.get(Exchange, exchange_id)
        if exchange is None or exchange.incident_id != incident.id:
            raise ValidationError(
                "the call's exchange is not one of the incident's",
                {"exchange_id": f"no such exchange of {incident.reference}"},
            )
        if channel_id is not None and channel_id != exchange.channel_id:
            raise ValidationError(
                "a call on an exchange is on the exchange's line",
                {"channel_id": f"the exchange is over {exchange.channel.name} (id {exchange.channel_id})"},
            )
        return exchange.channel, exchange
    if channel_id is None:
        raise ValidationError("a call needs its line", {"channel_id": "the counterpart line the call was on"})
    channel = session.get(ContactChannel, channel_id)
    if channel is None or not channel.counterpart_line:
        problem = (
            "no such line" if channel is None else f"{channel.name} is an internal line, not a line to the other side"
        )
        raise ValidationError("a call is logged on a counterpart line", {"channel_id": problem})
    exchange = session.scalar(
        select(Exchange).where(
            Exchange.incident_id == incident.id,
            Exchange.channel_id == channel.id,
            Exchange.state != ExchangeState.CLOSED,
        )
    )
    return channel, exchange


def _check_times(
    started: datetime, ended: datetime | None, now: datetime, limits: Limits, occurred: datetime | None
) -> None:
    """Refuse a start before the incident occurred (when given), in the future, or an end before the start."""
    problems = {}
    # A DTG's year one off (25 for 26) put the call, and what was agreed on it, a year before its incident.
    if occurred is not None and started < _minute(occurred):
        problems["started_at"] = f"a call on this incident cannot start before it occurred ({format_dtg(occurred)})"
    elif started > limits.latest(now):
        problems["started_at"] = "a call cannot start in the future"
    if ended is not None and ended > limits.latest(now):
        problems["ended_at"] = "a call cannot end in the future"
    elif ended is not None and ended < _minute(started):  # a DTG names the minute: the start's own may end it
        problems["ended_at"] = "a call cannot end before it started"
    if problems:
        raise ValidationError("the call's times are not valid", problems)


def _minute(moment: datetime) -> datetime:
    """The minute a moment falls in: what a DTG typed for it names."""
    return moment.replace(second=0, microsecond=0)


def _fill(call: Call, data: dict) -> None:
    """Copy the people and what was said, checked: names one line each, texts within bounds."""
    problems = {}
    for name, limit in NAMES.items():
        if name in data:
            value = (data[name] or "").strip()
            if len(value) > limit or name_problem(value):
                problems[name] = f"one line, up to {limit} characters"
            setattr(call, name, value)
    for name in SAID:
        if name in data:
            value = (data[name] or "").strip()
            if len(value) > TEXT_MAX_LENGTH:
                problems[name] = f"at most {TEXT_MAX_LENGTH} characters"
            setattr(call, name, value)
    if "language" in data:
        call.language = data["language"] or None
    if problems:
        raise ValidationError("the call's record is not valid", problems)


# How far from the call's start a due time said with its day only may fall: "021200Z" said on 30 November is
# 2 December, but "051200Z" said on 7 December is far more likely a slip (a day already past) than 5 January.
DAY_ONLY_AT_MOST = timedelta(days=15)
# And one given whole: further on, its year was typed wrong (an action agreed on a call is due within the year).
WHOLE_AT_MOST = timedelta(days=366)


def _placed(draft: dict, started: datetime, n: int, problems: dict) -> dict:
    """The action with its due time a moment: "1800Z" said on the call is the first 18:00 from the call's start,
    "071800Z" the first 7th at 18:00 from it. One said with its day that falls weeks on is refused (into problems)
    for its whole date-time group, never guessed."""
    due = draft.get("due_at")
    if not isinstance(due, ZuluTime):
        return draft
    placed = due.first_from(started)
    if due.day is not None and placed - started > DAY_ONLY_AT_MOST:
        before = (due.day, due.hour, due.minute) < (started.day, started.hour, started.minute)
        later = f"falls more than {DAY_ONLY_AT_MOST.days} days after the call started ({format_dtg(started)})"
        where = f"is before the call started ({format_dtg(started)})" if before else later
        problems[f"actions.{n}.due_at"] = (
            f"day {due.day:02} {where}: if it is due {format_dtg(placed)}, give the whole date-time group"
        )
        return {**draft, "due_at": None}
    return {**draft, "due_at": placed}


def _add_actions(call: Call, drafts: list[dict]) -> list[AgreedAction]:
    """Each action agreed becomes a clock: due_at, then done_at or the sweep's overdue_at."""
    if len(call.actions) + len(drafts) > MAX_ACTIONS:
        raise ValidationError("too many agreed actions", {"actions": f"at most {MAX_ACTIONS} on one call"})
    problems: dict[str, str] = {}
    started = _minute(call.started_at)
    drafts = [_placed(draft, started, n, problems) for n, draft in enumerate(drafts)]
    for n, draft in enumerate(drafts):
        text = (draft.get("text") or "").strip()
        if not text or len(text) > ACTION_MAX_LENGTH:
            problems[f"actions.{n}.text"] = f"what was agreed: 1 to {ACTION_MAX_LENGTH} characters"
        elif found := name_problem(text):  # one item of a list, on one line (the call's record, the board)
            problems[f"actions.{n}.text"] = found
        if (draft.get("party") or "us") not in PARTIES:
            problems[f"actions.{n}.party"] = "us or them"
        if f"actions.{n}.due_at" in problems:  # said by _placed
            pass
        elif draft.get("due_at") is None:
            problems[f"actions.{n}.due_at"] = "when it is due"
        elif draft["due_at"] < started:
            problems[f"actions.{n}.due_at"] = "due before the call started"
        elif draft["due_at"] - started > WHOLE_AT_MOST:  # a DTG's year one off (27 for 26): due a year on
            problems[f"actions.{n}.due_at"] = (
                f"due {format_dtg(draft['due_at'])}, more than a year after the call started "
                f"({format_dtg(started)}): check the year"
            )
    if problems:
        raise ValidationError("an agreed action is not valid", problems)
    return [
        AgreedAction(
            call=call,
            incident=call.incident,
            exchange_id=call.exchange.id if call.exchange is not None else None,
            text=draft["text"].strip(),
            party=draft.get("party") or "us",
            due_at=draft["due_at"],
        )
        for draft in drafts
    ]


def log_call(session: Session, incident: Incident, data: dict, actor: User, now: datetime, limits: Limits) -> Call:
    """Put a call on record (in progress while it has no end); nothing is sent to anyone.

    data: direction, channel_id and/or exchange_id, started_at (default now), ended_at, the people
    (our_speaker, their_name, their_rank, their_post, interpreter), language, we_said, they_said,
    actions ([{text, party, due_at}]; a due_at said without its date, a timeutil.ZuluTime, is the first such moment
    from the call's start) and moves_to (the exchange state the call moved).
    """
    # The line first: who may log depends on it, and a liaison officer who names a line or an exchange
    # that is not there is told which field is wrong (422), not that they may not log calls (403).
    channel, exchange = _line(session, incident, data.get("channel_id"), data.get("exchange_id"))
    exchanges.ensure_may_act(session, incident, actor, "log a call", channel.id)
    started, ended = data.get("started_at") or now, data.get("ended_at")
    if ended is not None and data.get("started_at") is None and ended <= limits.latest(now):
        # "now" would start it after its own end: say what is missing, not that it ended before it began
        raise ValidationError("a call logged with its end needs its start", {"started_at": "when it started"})
    _check_times(started, ended, now, limits, incident.occurred_at)
    if ended is None:
        _ensure_line_free(session, channel)
    call = Call(
        incident=incident,
        exchange=exchange,
        channel=channel,
        direction=CallDirection(data["direction"]),
        started_at=started,
        ended_at=ended,
        language=channel.language,
        recorded_by=actor.username,
        recorded_at=now,
    )
    with session.no_autoflush:
        _fill(call, data)
        session.add(call)
        actions = _add_actions(call, data.get("actions") or [])
        session.add_all(actions)
    session.flush()
    _note(session, call, "ended" if ended else "started", actor, now, actions)
    if data.get("moves_to") is not None:
        move_by_call(session, call, data["moves_to"], actor, now)
    session.flush()
    return call


def _ensure_line_free(session: Session, channel: ContactChannel) -> None:
    """One call in progress per line (a call logged afterwards, with its end, is no call in progress):
    a second tap, or a colleague starting the same call, would leave one of them open for ever."""
    busy = session.scalar(
        select(Call).where(Call.channel_id == channel.id, Call.ended_at.is_(None)).order_by(Call.id).limit(1)
    )
    if busy is not None:
        raise Conflict(
            Sentence(
                f"a call is in progress on {{line}} (call {busy.id}, started {format_dtg(busy.started_at)} by {{by}}):"
                " end it first, or log this one with its end",
                {"line": channel.name, "by": busy.recorded_by},
            ),
            {"call_id": busy.id},
        )


def update_call(
    session: Session,
    call: Call,
    data: dict,
    actor: User,
    now: datetime,
    limits: Limits,
    end: bool = False,
    expected_version: int | None = None,
) -> Call:
    """Fill in or correct a call, add the actions agreed, and (end=True) stamp its end now unless an
    end time is given; refuse (409) when the call changed since it was read."""
    exchanges.ensure_may_act(session, call.incident, actor, "log a call", call.channel_id)
    if expected_version is not None and expected_version != call.version:
        raise Conflict("the call changed since you read it; read it again", {"version": call.version})
    if end and call.ended_at is not None and data.get("ended_at") is None:
        raise Conflict("the call has ended already", {"ended_at": call.ended_at, "version": call.version})
    was_running = call.ended_at is None
    started = data.get("started_at") or call.started_at
    ended = data.get("ended_at") or call.ended_at or (now if end else None)
    # The start as typed now, not one on record: an amended occurrence time must not block ending the call.
    typed = call.incident.occurred_at if data.get("started_at") else None
    _check_times(started, ended, now, limits, typed)
    call.started_at, call.ended_at = started, ended
    with session.no_autoflush:
        _fill(call, data)
        actions = _add_actions(call, data.get("actions") or [])
        session.add_all(actions)
    session.flush()
    _note(session, call, "ended" if was_running and ended else "updated", actor, now, actions)
    if data.get("moves_to") is not None:
        move_by_call(session, call, data["moves_to"], actor, now)
    session.flush()
    return call


def their_speaker(call: Call) -> Sentence:
    """Their speaker as people say it, "Lt Col Orlov, duty officer": the rank before the name, the post after a
    comma, each part a value (the pages isolate each); empty when none was given. The pages, the timeline and the
    mails say it so (the timeline and the mails joined them all with commas, "Lt Col, Orlov, duty officer")."""
    parts = {"rank": call.their_rank, "name": call.their_name, "post": call.their_post}
    named = " ".join(f"{{{key}}}" for key in ("rank", "name") if parts[key])
    text = ", ".join(words for words in (named, "{post}" if parts["post"] else "") if words)
    return Sentence(text, {key: value for key, value in parts.items() if value})


def _note(session: Session, call: Call, step: str, actor: User, now: datetime, actions: list[AgreedAction]) -> None:
    """The call on the incident's timeline (at the time it was put on record; its own times in details)."""
    timeline.record(
        session,
        call.incident,
        EventKind.CALL_LOGGED,
        actor.username,
        now,
        call=call.id,
        step=step,
        exchange=call.exchange_id,
        channel=call.channel.name,
        direction=call.direction.value,
        started_at=call.started_at,
        ended_at=call.ended_at,
        their=str(their_speaker(call)),
        actions=[{"id": a.id, "text": a.text, "party": a.party, "due_at": isoformat(a.due_at)} for a in actions],
    )


def move_by_call(session: Session, call: Call, new_state: ExchangeState, actor: User, now: datetime) -> Exchange:
    """Move the call's exchange to a state a person may choose from its current one, as said on the
    call: nothing is sent, no message recorded (the call is the record). A clock it starts runs from
    the end of the call (or now, while it goes on); their receipt by call stops our receipt clock.

    A request of ours said on the call (OURS_UNAPPROVED) is no text a second person approved: the move
    stands, as what was said was said, and the timeline records it as by call, not approved."""
    exchange = call.exchange
    if exchange is None:
        raise ValidationError(
            "only a call on an exchange moves one", {"moves_to": "give the exchange (or a line with an open one)"}
        )
    if call.moved_to is not None:
        raise Conflict("this call moved its exchange already", {"moved_to": call.moved_to.value})
    exchanges._lock(session, exchange)
    allowed = exchanges.next_states(exchange)
    if new_state not in allowed:
        # Nothing of ours sent is the reason for a receipt confirmed only (as exchanges.transition says it).
        unsent = exchanges.nothing_sent(exchange, new_state)
        raise ValidationError(
            f"an exchange that is {exchange.state.value} cannot become {new_state.value}",
            {
                "moves_to": unsent or f"not allowed from {exchange.state.value}",
                "allowed": [s.value for s in allowed],
            },
        )
    at = min(call.ended_at or now, now)
    call.moved_to = new_state
    waiting = receipts.pending(exchange) if new_state is ExchangeState.RECEIPT_CONFIRMED else None
    if waiting is not None:  # moves a notified exchange to receipt confirmed itself, on the timeline
        # Who spoke for them, else their end of the line: never our name of it (the receipt page shows it them).
        by = call.their_name or call.channel.their_end[: receipts.NAME_MAX_LENGTH]
        receipts.record(session, waiting, max(at, waiting.at), by, "call", actor, now, call=call.id)
    unapproved = new_state in OURS_UNAPPROVED
    if exchange.state is not new_state:
        before = exchange.state
        exchange.state, exchange.state_changed_at = new_state, at
        exchanges._set_clock(exchange, at)
        if new_state is ExchangeState.CLOSED:
            exchange.closed_at, exchange.outcome = at, exchange.outcome or f"closed on call {call.id}"
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
            note=f"by call {call.id}, not approved by a second person" if unapproved else f"by call {call.id}",
            call=call.id,
            by_call=True,
            # A request of ours had no second person; the other side's acts need none.
            approval="not_approved" if unapproved else "not_needed",
        )
    session.flush()
    return exchange


def mark_done(
    session: Session, action: AgreedAction, actor: User, now: datetime, expected_version: int | None = None
) -> AgreedAction:
    """Record that an agreed action was done (late if its clock had run out); 409 if done already."""
    exchanges.ensure_may_act(session, action.incident, actor, "mark an agreed action done", action.call.channel_id)
    session.refresh(action, with_for_update=True)  # a sweep flagging it meanwhile is seen, not overwritten
    if expected_version is not None and expected_version != action.version:
        raise Conflict("the action changed since you read it; read it again", {"version": action.version})
    if action.done_at is not None:
        raise Conflict("the action is done already", {"done_at": action.done_at, "done_by": action.done_by})
    action.done_at, action.done_by = now, actor.username
    timeline.record(
        session,
        action.incident,
        EventKind.ACTION_DONE,
        actor.username,
        now,
        action=action.id,
        call=action.call_id,
        text=action.text,
        party=action.party,
        due_at=action.due_at,
        late=action.overdue_at is not None or action.due_at < now,
    )
    session.flush()
    return action


# -- the clock -----------------------------------------------------------------------------


def _due(now: datetime):
    """Actions due and undone, on an incident not resolved and an exchange not closed: a loop closed
    is no longer chased (whoever closed it recorded how it ended)."""
    resolved = exists().where(Incident.id == AgreedAction.incident_id, Incident.status == IncidentStatus.RESOLVED)
    closed = exists().where(Exchange.id == AgreedAction.exchange_id, Exchange.state == ExchangeState.CLOSED)
    return (
        AgreedAction.due_at <= now,
        AgreedAction.done_at.is_(None),
        AgreedAction.overdue_at.is_(None),
        ~resolved,
        ~closed,
    )


def claim_due(session: Session, now: datetime, limit: int, aside: SetAside | None = None) -> list[int]:
    """Flag up to limit actions whose due time passed undone (overdue_at = now); return their ids.

    An action marked done, or flagged by another scheduler, committed first no longer matches when it
    is claimed (claims.among_claimable): an action is flagged once.
    """
    due = select(AgreedAction.id).where(*_due(now)).order_by(AgreedAction.due_at, AgreedAction.id).limit(limit)
    aside = aside or SetAside()
    claim = (
        update(AgreedAction)
        .where(among_claimable(session, AgreedAction.id, aside.excluded(due, AgreedAction.id)))
        .values(overdue_at=now, version=AgreedAction.version + 1)
        .returning(AgreedAction.id)
    )
    return aside.took(list(session.execute(claim, execution_options={"synchronize_session": False}).scalars()))


def flag_overdue(session: Session, action: AgreedAction, now: datetime, runner: str, recipients) -> None:
    """Tell the supervisors and put the overdue action on the timeline."""
    call = action.call
    overdue = {
        "channel": call.channel.name,
        "counterpart": call.channel.counterpart,
        "text": action.text,
        "party": action.party,
        "call_started_at": call.started_at,
        "their": str(their_speaker(call)),
        "due_at": action.due_at,
    }
    told = notify.enqueue_supervisors(
        session,
        action.incident,
        NotificationKind.ACTION_OVERDUE,
        now,
        recipients,
        step=0,
        loop=action.id,
        facts={"overdue": overdue},
    )
    timeline.record(
        session,
        action.incident,
        EventKind.ACTION_OVERDUE,
        ACTOR,
        now,
        action=action.id,
        call=call.id,
        channel=call.channel.name,
        text=action.text,
        party=action.party,
        due_at=action.due_at,
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
    """Claim and flag one batch of agreed actions past due; return how many."""
    ids = claim_due(session, now, limit, aside)
    if not ids:
        return 0
    eager = (
        selectinload(AgreedAction.call).selectinload(Call.channel),
        selectinload(AgreedAction.incident),
    )
    told = recipients or notify.Recipients.load(session, public_url)
    return act_on_claimed(session, AgreedAction, ids, lambda a: flag_overdue(session, a, now, runner, told), *eager)
