"""Messages to and from the other side over a counterpart line, each on record.

Four eyes (four_eyes.py): a text of ours is first a draft (draft), may be reworded (edit: back to
draft), is approved by a second person with the right to approve (approve: never one of its
authors, on the incident's facts as they stand), and only then leaves (release, through
outgoing.release: serial, agreement, receipt clock, one formatted outbox row the delivery job sends
exactly as stored). Every step passes releasability.guard, so no field the approver did not see
can ride along. The exchange-level send (a pending state change first) is exchanges.send_message.
"""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session, selectinload

from ...errors import Conflict, InvalidTransition, NotFound, ValidationError
from ...models import (
    EventKind,
    Exchange,
    ExchangeMessage,
    ExchangeState,
    MessageDirection,
    OutgoingStatus,
    TimelineEvent,
    User,
)
from ...text import bidi_problem, same_wording
from ...timeutil import utcnow
from ..incidents import timeline
from . import four_eyes, message_format, outgoing, releasability

TEXT_MAX_LENGTH = 8000
OS = OutgoingStatus


# -- reading ---------------------------------------------------------------------------------


def get_message(session: Session, message_id: int) -> ExchangeMessage:
    message = session.get(ExchangeMessage, message_id)
    if message is None:
        raise NotFound(f"no exchange message {message_id}", {"id": message_id})
    return message


CLOSED = "the exchange is closed: nothing more goes to the other side on it"


def needs_approval(message: ExchangeMessage) -> bool:
    """Whether the message waits for a second person: a draft, or approved on facts that changed; never
    one on a closed exchange (nothing more goes to the other side on it)."""
    if not message.exchange.is_open:
        return False
    if message.status is OS.DRAFT:
        return True
    return message.status is OS.APPROVED and (
        four_eyes.stale(message.facts_digest, message.exchange.incident) or not approver_entitled(message)
    )


def approver_entitled(message: ExchangeMessage) -> bool:
    """Whether who approved the text may still approve it (four_eyes.approval_holds); approved texts wait to be sent
    only briefly, so this costs a read or two for the few there are."""
    session, exchange = object_session(message), message.exchange
    if session is None:
        return True
    return four_eyes.approval_holds(session, exchange.incident, message.approved_by, exchange.channel_id)


def waiting(session: Session, user: User, limit: int = 200) -> list[ExchangeMessage]:
    """Our texts that wait for approval and that this user may approve (not their own), oldest first, at
    most limit of them.

    The limit counts what is shown, never the rows read: texts approved and waiting to be sent, the user's
    own and those on lines they do not serve would otherwise fill it and hide every newer draft. They are
    read a batch at a time with their exchange, line and incident (four_eyes.first_waiting)."""
    approver = four_eyes.Approver(session, user)
    if not approver.may_approve_any():
        return []
    candidates = (
        select(ExchangeMessage)
        .join(Exchange, ExchangeMessage.exchange_id == Exchange.id)
        .where(
            ExchangeMessage.status.in_((OS.DRAFT, OS.APPROVED)),
            ExchangeMessage.direction == MessageDirection.OUT,
            Exchange.state != ExchangeState.CLOSED,  # a closed exchange sends nothing more
        )
        .order_by(ExchangeMessage.recorded_at, ExchangeMessage.id)
        .options(
            selectinload(ExchangeMessage.exchange).selectinload(Exchange.incident),
            selectinload(ExchangeMessage.exchange).selectinload(Exchange.channel),
        )
    )

    def waits(message: ExchangeMessage) -> bool:
        incident = message.exchange.incident
        return (
            user.username not in authors(message)
            and (
                message.status is OS.DRAFT
                or approver.stale(message.facts_digest, incident)
                or not approver.approval_holds(incident, message.approved_by, message.exchange.channel_id)
            )
            and approver.may_approve(incident, message.exchange.channel_id)
        )

    return four_eyes.first_waiting(session, candidates, waits, limit)


UNCHANGED = "the wording is unchanged: nothing to save"


def authors(message: ExchangeMessage) -> set[str | None]:
    """Who wrote the wording as it stands: its drafter and everyone who changed it."""
    return {message.drafted_by, message.edited_by, *(message.written_by or ())} - {None}


def wrote(written_by: list | None, actor: str) -> list:
    """The authors with actor among them (the list is a new object: the ORM sees the change)."""
    return list(dict.fromkeys([*(written_by or ()), actor]))


# -- four eyes -------------------------------------------------------------------------------


def draft(
    session: Session,
    exchange: Exchange,
    kind: str,
    text: str,
    actor: str,
    now: datetime,
    text_second: str | None = None,
    pending_state: ExchangeState | None = None,
) -> ExchangeMessage:
    """Put a text to the other side on record as a draft; nothing leaves until a second person approves
    it and someone sends it. pending_state: the exchange state it moves to once sent."""
    _ensure_in_order(text, text_second)
    releasability.guard(exchange.incident, text, text_second)
    message_format.ensure_supported(exchange.language, kind)  # 422 now, not at sending: no text in that language
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
        written_by=[actor],
        status=OS.DRAFT,
        pending_state=pending_state,
        version=1,
    )
    session.add(message)
    session.flush()
    _on_timeline(session, message, EventKind.MESSAGE_DRAFTED, actor, now, pending_state=_value(pending_state))
    return message


def edit(
    session: Session,
    message: ExchangeMessage,
    text: str | None,
    text_second: str | None,
    version: int,
    actor: User,
    now: datetime,
    remove_second: bool = False,
) -> ExchangeMessage:
    """Reword a draft or an approved text; either way it is a draft again and needs a second person.
    remove_second: take its translation away (the part in the line's language then gives the English as
    written, said to be so: message_format._own_text), on the same terms as replacing it: not once sent."""
    four_eyes.ensure_may_act(session, message.exchange.incident, actor, "edit a message", message.exchange.channel_id)
    lock(session, message)
    _ensure_ours_unsent(message)
    expect_version(message, version)
    if text_second is not None and not message.exchange.language:
        raise ValidationError("this line reads English only", {"text_second": "leave it out on this line"})
    if remove_second and message.text_second is None:
        raise ValidationError("this text has no translation to remove", {"text_second": "there is none"})
    new_text = message.text if text is None else _clean(text, "text")
    new_second = message.text_second if text_second is None else _clean(text_second, "text_second")
    if remove_second:
        new_second = None
    if same_wording(new_text, message.text) and same_wording(new_second, message.text_second):
        # Saving the same words again changes nothing, and makes no one their author.
        raise ValidationError(UNCHANGED, {"text": "change the wording, or leave the text as it is"})
    releasability.guard(message.exchange.incident, new_text, new_second)
    withdrawn = message.status is OS.APPROVED
    # The English reworded and the translation left as it was: whoever approves is told to compare them (a
    # reworded English went out beside a translation of the words before). Any edit of the translation, or its
    # removal, settles it: this edit alone says.
    behind = (
        bool(new_second) and not same_wording(new_text, message.text) and same_wording(new_second, message.text_second)
    )
    message.text, message.text_second = new_text, new_second
    message.language = message.exchange.language if new_second else None
    message.edited_by, message.recorded_at = actor.username, now
    message.written_by = wrote(message.written_by, actor.username)
    _back_to_draft(message)
    session.flush()
    removed = {"translation_removed": True} if remove_second else {}
    _on_timeline(
        session,
        message,
        EventKind.MESSAGE_DRAFTED,
        actor.username,
        now,
        edited=True,
        approval_withdrawn=withdrawn,
        translation_behind=behind,
        **removed,
    )
    return message


def translation_behind(session: Session, message: ExchangeMessage) -> bool:
    """Whether the message's English was reworded after its translation was last written (its last edit changed
    the English alone), so the two may no longer say the same."""
    if not message.text_second:
        return False
    events = session.scalars(
        select(TimelineEvent.details)
        .where(
            TimelineEvent.incident_id == message.exchange.incident_id, TimelineEvent.kind == EventKind.MESSAGE_DRAFTED
        )
        .order_by(TimelineEvent.id.desc())
    )
    last = next((details for details in events if (details or {}).get("message") == message.id), None)
    return bool(last and last.get("translation_behind"))


OUT_OF_ORDER = "a text to the other side reads the same in every order"


def out_of_order(text: str | None, text_second: str | None) -> dict[str, str]:
    """The texts (by field) holding a bidirectional embedding, override or isolate: the approver reads them
    as the algorithm orders them, a receiver that drops those controls would show another order."""
    texts = (("text", text), ("text_second", text_second))
    return {name: found for name, value in texts if value and (found := bidi_problem(value))}


def _ensure_in_order(text: str | None, text_second: str | None) -> None:
    """Refuse (422, naming each field) a text that may read in another order than the approver read it."""
    if disordered := out_of_order(text, text_second):
        raise ValidationError(OUT_OF_ORDER, disordered)


def approve(
    session: Session, message: ExchangeMessage, approver: User, now: datetime, version: int | None = None
) -> ExchangeMessage:
    """Approve the wording as it stands, on the incident's facts as they stand: a second person only
    (403 for its authors), with the right to approve, and only releasable content (422)."""
    incident = message.exchange.incident
    lock(session, message)
    _ensure_ours_unsent(message)
    four_eyes.ensure_may_approve(session, incident, approver, message.exchange.channel_id, authors(message))
    if version is not None:
        expect_version(message, version)
    if not message.exchange.is_open:
        raise InvalidTransition(CLOSED, {**_state(message), "exchange_state": message.exchange.state.value})
    if not needs_approval(message):
        raise InvalidTransition("this message is approved already: send it", _state(message))
    releasability.ensure_releasable_to(incident, releasability.counterpart_of(message.exchange))
    _ensure_in_order(message.text, message.text_second)  # a draft stored before drafts were checked, too
    releasability.guard(incident, message.text, message.text_second)
    message.status, message.approved_by, message.approved_at = OS.APPROVED, approver.username, now
    message.facts_digest = four_eyes.facts_digest(incident)
    message.version += 1
    session.flush()
    _on_timeline(
        session,
        message,
        EventKind.MESSAGE_APPROVED,
        approver.username,
        now,
        drafted_by=message.drafted_by,
        edited_by=message.edited_by,
        approved_by=approver.username,
        approved_at=now,
        facts_digest=message.facts_digest,
    )
    return message


def withdraw_if_stale(session: Session, message: ExchangeMessage, actor: str, now: datetime) -> bool:
    """Put an approved message whose incident changed since approval back to draft; True if it was."""
    if message.status is not OS.APPROVED or not four_eyes.stale(message.facts_digest, message.exchange.incident):
        return False
    _back_to_draft(message)
    session.flush()
    _on_timeline(
        session, message, EventKind.MESSAGE_DRAFTED, actor, now, approval_withdrawn=True, reason=four_eyes.STALE
    )
    return True


def release(
    session: Session, message: ExchangeMessage, actor: str, now: datetime, settings: outgoing.Settings | None = None
) -> ExchangeMessage:
    """Send an approved message over its line (outgoing.release); 409 when it is not approved or its
    approval no longer covers the incident's facts, 422 for content no longer releasable."""
    lock(session, message)
    _ensure_ours_unsent(message)
    if message.status is not OS.APPROVED:
        raise InvalidTransition(
            "only an approved message goes out: a second person must approve it first", _state(message)
        )
    if four_eyes.stale(message.facts_digest, message.exchange.incident):
        raise Conflict(four_eyes.STALE, {**_state(message), "approved_by": message.approved_by})
    if not message.exchange.is_open:
        raise InvalidTransition(CLOSED, {"state": message.exchange.state.value})
    _ensure_in_order(message.text, message.text_second)  # one approved before approvals were checked
    releasability.guard(message.exchange.incident, message.text, message.text_second)
    outgoing.release(session, message, actor, now, settings or outgoing.Settings())
    message.version += 1
    return message


def send_approved(
    session: Session,
    exchange: Exchange,
    kind: str,
    text: str,
    text_second: str | None,
    drafted_by: str,
    approved_by: str,
    approved_at: datetime,
    actor: str,
    now: datetime,
    settings: outgoing.Settings | None = None,
) -> ExchangeMessage:
    """Record and release a text a second person approved elsewhere (a summary: summaries.approve)."""
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
        drafted_by=drafted_by,
        approved_by=approved_by,
        approved_at=approved_at,
        facts_digest=four_eyes.facts_digest(exchange.incident),
        status=OS.APPROVED,
        version=1,
    )
    session.add(message)
    session.flush()
    return release(session, message, actor, now, settings)


def receive(session: Session, exchange: Exchange, kind: str, text: str, actor: str, at: datetime) -> ExchangeMessage:
    """Record a message the other side sent (our liaison types or pastes it in)."""
    message = ExchangeMessage(
        exchange=exchange,
        direction=MessageDirection.IN,
        kind=kind,
        text=text,
        at=at,
        recorded_at=utcnow(),
        status=OS.RECEIVED,
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


# -- helpers ---------------------------------------------------------------------------------


def _on_timeline(session: Session, message: ExchangeMessage, kind: EventKind, actor: str, now: datetime, **details):
    exchange = message.exchange
    timeline.record(
        session,
        exchange.incident,
        kind,
        actor,
        now,
        exchange=exchange.id,
        channel=exchange.channel.name,
        message=message.id,
        message_kind=message.kind,
        **details,
    )


def lock(session: Session, message: ExchangeMessage) -> None:
    """Read the message again and hold it for this transaction (PostgreSQL: FOR UPDATE; SQLite's writer
    holds the database): an edit, approval or sending decides on the wording as committed, never on a
    copy another transaction reworded meanwhile."""
    session.refresh(message, with_for_update=True)


def _back_to_draft(message: ExchangeMessage) -> None:
    message.status, message.approved_by, message.approved_at, message.facts_digest = OS.DRAFT, None, None, None
    message.version += 1


def _ensure_ours_unsent(message: ExchangeMessage) -> None:
    if message.direction is not MessageDirection.OUT:
        raise InvalidTransition("a message from the other side is not ours to approve or send", _state(message))
    if message.status is OS.SENT:
        raise InvalidTransition("this message was sent; write a new one", _state(message))


def expect_version(message: ExchangeMessage, version: int) -> None:
    if version != message.version:
        said = four_eyes.stale_read("message", message.status.value, message.approved_by, message.approved_at)
        raise Conflict(said, _state(message))


def _state(message: ExchangeMessage) -> dict:
    return {"status": message.status.value, "version": message.version}


def _clean(text: str, name: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationError("a message needs its text", {name: "must not be blank"})
    if len(text) > TEXT_MAX_LENGTH:
        raise ValidationError(f"a message is at most {TEXT_MAX_LENGTH} characters", {name: "too long"})
    if found := bidi_problem(text):
        raise ValidationError(OUT_OF_ORDER, {name: found})
    return text


def _value(state: ExchangeState | None) -> str | None:
    return state.value if state is not None else None
