"""Hand queued messages to transports: claim, send outside any transaction, record the outcome.

Each row is sent as it was rendered when it was queued (rendering.py); delivery adds only what
belongs to the sending: the address, the Message-ID and thread, the idempotency key, sent_at.

At-least-once window: a process that dies after a transport accepted a message and before the
outcome was committed leaves the row "sending"; when its scheduler's heartbeat stops (RetryPolicy.
takeover_seconds, two sweep intervals) or its claim lapses (DELIVERY_CLAIM_SECONDS) the row is
claimed again and sent again, the same message with the same idempotency key and Message-ID (the
outbox transport overwrites its own file). A call to act sent after its incident moved past its step
says so in its first line (late_notice). The delivery job (tracker.jobs) commits
a failure at once and the sent outcomes in batches (RECORD_EVERY messages or RECORD_SECONDS of
sending), so a crash re-sends at most one batch.
"""

import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

from sqlalchemy import ColumnElement, Integer, Row, Select, and_, bindparam, case, column, func, or_, select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, aliased, joinedload, load_only, selectinload

from ...channels import DeliveryError, Message
from ...models import (
    LIVE,
    AttemptOutcome,
    ContactChannel,
    DeliveryAttempt,
    EventKind,
    ExchangeMessage,
    Incident,
    IncidentStatus,
    Notification,
    NotificationKind,
    NotificationStatus,
    TimelineEvent,
    User,
)
from ...models.base import UTCDateTime
from ...models.bulk import any_of, insert_rows
from ...timeutil import format_dtg, isoformat
from ..incidents import timeline
from . import message_text, notify, sides
from .claims import among_claimable, load_claimed
from .heartbeat import claim_orphaned
from .links import AckLinks, made_for, unsigned_claims
from .rendering import render_legacy

log = logging.getLogger(__name__)

ACTION_KINDS = (NotificationKind.NOTIFIED, NotificationKind.ESCALATED)
# Transports that send the composed e-mail with its Message-ID; only their messages can head a thread.
MAIL_TRANSPORTS = ("email", "outbox")


@dataclass(frozen=True)
class Claimed:
    notification_id: int
    message: Message
    transport: str


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    base_seconds: float
    claim_seconds: float
    # A claim held by a scheduler whose heartbeat is older than this is taken over (None: only lapses).
    takeover_seconds: float | None = None


# How a text to the other side withheld while a try of it was under way is marked (releasability.withhold_unreleasable):
# that try may still deliver it, but a failed one is not tried again.
WITHHELD = "withheld ("


def message_key(notification_id: int, created_at: datetime) -> str:
    """A message's idempotency key, also in its Message-ID: the same on every try, after a crash and after
    a restore from a backup; never another message's, even where a restored database gives the ids that
    the lost part of its history used again (the time it was queued tells them apart)."""
    return f"notification-{notification_id}-{created_at.astimezone(UTC):%Y%m%d%H%M%S%f}"


def counterpart_key(serial: int, year: int, at: datetime) -> str:
    """The key of a message or line check to the other side (its Message-ID, X-Tracker-Key, a webhook's
    idempotency_key): the line's serial, which the text itself tells them, and the time; never a row id of ours,
    whose count between two of their messages told them how many alerts our desks had had meanwhile."""
    return f"serial-{year}-{serial:04d}-{at.astimezone(UTC):%Y%m%d%H%M%S%f}"


def row_key(session: Session, row: Notification) -> str:
    """The key of an outbox row: by its serial on a line to the other side, else by its id (message_key)."""
    if row.kind is NotificationKind.COUNTERPART and row.exchange_message_id is not None:
        sent = session.get(ExchangeMessage, row.exchange_message_id)
        if sent is not None and sent.serial is not None and sent.serial_year is not None:
            return counterpart_key(sent.serial, sent.serial_year, row.created_at)
    return message_key(row.id, row.created_at)


@dataclass(frozen=True)
class Composer:
    """Turns a claimed outbox row into a message for its transport: the stored rendering, addressed,
    threaded and keyed."""

    links: AckLinks  # only for rows queued before migration 0010 (rendering.render_legacy)
    mail_domain: str
    supervisor_transport: str = "outbox"
    # Cuts a message to the other side into its languages for its HTML part (the exchanges' formatter,
    # message_format.parts_by_language, handed in by tracker.dispatch: the engine does not import the
    # other side's wing, which imports it). None: the HTML part is one English text.
    language_parts: Callable[[str, str | None], message_text.LanguageParts] | None = None

    def message_id(self, reference: str, key: str) -> str:
        return f"<{reference}.{key}@{self.mail_domain}>"

    def thread_roots(self, session: Session, incident_ids) -> dict[int, tuple[int, str]]:
        """Each incident's first message that goes out as mail (later mails follow it): its id and key."""
        mailed: ColumnElement[bool] = ContactChannel.transport.in_(MAIL_TRANSPORTS)
        if self.supervisor_transport in MAIL_TRANSPORTS:
            mailed = or_(mailed, Notification.channel_id.is_(None))
        first = (
            select(func.min(Notification.id))
            .outerjoin(ContactChannel, Notification.channel_id == ContactChannel.id)
            .where(any_of(session, Notification.incident_id, set(incident_ids)), mailed)
            .group_by(Notification.incident_id)
        )
        return _keyed(session, first)

    def counterpart_root(self, session: Session, row: Notification) -> tuple[int, str] | None:
        """The first message to the other side of the row's exchange (its thread): its id and key."""
        exchange_id = select(ExchangeMessage.exchange_id).where(ExchangeMessage.id == row.exchange_message_id)
        first = (
            select(func.min(Notification.id))
            .join(ExchangeMessage, Notification.exchange_message_id == ExchangeMessage.id)
            .where(
                Notification.kind == NotificationKind.COUNTERPART,
                ExchangeMessage.exchange_id == exchange_id.scalar_subquery(),
            )
        )
        first_id = session.scalar(first)
        found = session.get(Notification, first_id) if first_id is not None else None
        return (found.id, row_key(session, found)) if found is not None else None

    def reference_of(self, session: Session, row: Notification) -> str:
        """What names the row in its Message-ID, X-Tracker-Reference, outbox file name and webhook body:
        our incident's reference for our own desks; for the other side the exchange's reference, which
        is all they know it by (our internal INC number never reaches them)."""
        if row.kind is not NotificationKind.COUNTERPART:
            return row.incident.reference
        message = session.get(ExchangeMessage, row.exchange_message_id) if row.exchange_message_id else None
        return (message.exchange.reference if message is not None else None) or "exchange"

    def parts_of(self, session: Session, row: Notification, text: str) -> message_text.LanguageParts | None:
        """A message to the other side cut into its languages: the exchange's language, which its text was
        written in when it was released (message_format.compose), whatever the line reads since."""
        if row.kind is not NotificationKind.COUNTERPART or self.language_parts is None or not row.exchange_message_id:
            return None
        message = session.get(ExchangeMessage, row.exchange_message_id)
        return self.language_parts(text, message.exchange.language) if message is not None else None

    def compose(self, session: Session, row: Notification, now: datetime, roots: dict | None = None) -> Claimed:
        reference, key = self.reference_of(session, row), row_key(session, row)
        if row.payload is None:
            render_legacy(row, now, self.links, reference)
        payload = row.payload
        if payload is None:  # never: rendered when queued, or by render_legacy just now
            raise ValueError(f"message {row.id} was never rendered")
        if row.kind is NotificationKind.COUNTERPART:
            first = self.counterpart_root(session, row)
        else:
            first = (roots if roots is not None else self.thread_roots(session, [row.incident_id])).get(row.incident_id)
        if row.channel is not None:
            address, transport, secret = row.channel.address, row.channel.transport, row.channel.secret
        elif row.user is not None:
            address, transport, secret = row.user.email or row.user.username, self.supervisor_transport, None
        else:  # never: a message goes to a channel or to a supervisor
            raise ValueError(f"message {row.id} has neither a channel nor a user")
        subject, text, late = row.subject, row.body, late_notice(row)
        relinked = self.relinked(row, address, text, payload, now)
        if relinked is not None:
            text, payload = relinked
        if late is not None:  # said first, in every part: the recipient must not act on the old step
            subject, text = message_text.late_subject(subject), with_notice(text, late["notice"], payload)
        # The stored text framed with its button; a row queued when the HTML part was still stored sends
        # that one, unless a late notice must go first in it too, or its link was made anew.
        if row.html is not None and late is None and relinked is None:
            html = row.html
        else:
            html = message_text.html_part(subject, text, payload, self.parts_of(session, row, text))
        if late is not None:
            payload = {**payload, "late": late}
        recipient = row.recipient
        if row.kind is NotificationKind.COUNTERPART and row.channel is not None:
            # The other side sees their end of the line (To's name, the webhook's recipient), never our name of
            # it: also on a row queued when its facts still named the line.
            recipient = row.channel.their_end
            payload = {**payload, "recipient": recipient}
        message = Message(
            key=key,
            event=payload["event"],
            recipient=recipient,
            address=address,
            subject=subject,
            text=text,
            html=html,
            message_id=self.message_id(reference, key),
            thread_id=None if first is None or first[0] == row.id else self.message_id(reference, first[1]),
            reference=reference,
            payload={**payload, "idempotency_key": key, "sent_at": isoformat(now), "subject": subject, "text": text},
            secret=secret,
        )
        return Claimed(row.id, message, transport)

    def relinked(
        self, row: Notification, address: str, text: str, payload: dict, now: datetime
    ) -> tuple[str, dict] | None:
        """A call to act queued before its line's address or transport changed carries a link made for the old
        address, which handling.link_target refuses ("readdressed"): an admin who mended a wrong address sent the
        message to the right one with a link that could not acknowledge, and the step waited out its timer. It goes
        with a link made for the address it goes to now, in its text (with its expiry) and payload alike; None when
        its link was made for this address, or it carries none."""
        ack = payload.get("acknowledge")
        if not row.kind.calls_for_action or row.channel_id is None or not isinstance(ack, dict):
            return None
        token, expires = ack.get("token"), ack.get("expires_at")
        claims = unsigned_claims(token) if isinstance(token, str) else None
        if not isinstance(token, str) or not isinstance(claims, dict) or made_for(claims, address):
            return None
        fresh = self.links.issue(row.incident_id, row.channel_id, address, now)
        text = text.replace(token, fresh.token)
        if isinstance(expires, str):
            was = format_dtg(datetime.fromisoformat(expires.replace("Z", "+00:00")))
            text = text.replace(f"(valid until {was})", f"(valid until {format_dtg(fresh.expires_at)})")
        return text, {**payload, "acknowledge": fresh.as_payload()}


def _keyed(session: Session, ids: Select) -> dict[int, tuple[int, str]]:
    """The rows of a query of notification ids, by incident: (id, key)."""
    rows = session.execute(
        select(Notification.incident_id, Notification.id, Notification.created_at).where(
            Notification.id.in_(ids.scalar_subquery())
        )
    )
    return {incident_id: (id_, message_key(id_, created_at)) for incident_id, id_, created_at in rows}


def with_notice(text: str, notice: str, payload: dict) -> str:
    """The text with the late notice first, under the marking line that opens it (the marking stays the
    first and last line of every message about an incident: rendering.render_incident_message)."""
    marked = (payload.get("incident") or {}).get("marking")
    head, _, rest = text.partition("\n")
    if marked and head == marked:
        return f"{head}\n\n{notice}\n\n{rest.lstrip(chr(10))}"
    return f"{notice}\n\n{text}"  # a row rendered before messages were marked


def late_notice(row: Notification) -> dict | None:
    """A call to act whose incident has since left its step (escalated further, or ran out of steps)
    still goes to its recipient, who is on the ladder and may acknowledge, but says so first: what the
    webhook body's "late" holds, with the line put before the text. None when it is not late."""
    incident = row.incident
    if not row.kind.calls_for_action or incident.status not in LIVE:
        return None
    step, loop = told_on(row)
    exhausted = incident.status is IncidentStatus.EXHAUSTED
    if not exhausted and (incident.current_step, incident.loop) <= (step, loop):
        return None
    return {
        "notice": message_text.late_notice(row.created_at, step, loop, incident, exhausted),
        "queued_at": isoformat(row.created_at),
        "step": step,
        "loop": loop,
        "incident_step": incident.current_step,
        "incident_loop": incident.loop,
        "status": incident.status.value,
    }


def told_on(row: Notification) -> tuple[int, int]:
    """The step and round a call to act was queued for. A PRECEDENCE RAISED row's loop only keys one raise
    apart from another (notify.tell_upgrade): the round it told is in its stored facts."""
    if row.kind is NotificationKind.UPGRADED and row.payload is not None:
        return int(row.payload["step"]), int(row.payload["loop"])
    return row.step, row.loop


def _reclaimable(now: datetime, policy: RetryPolicy) -> ColumnElement[bool]:
    """A SENDING row's claim is anyone's: it lapsed, or its scheduler has gone silent (takeover_seconds)."""
    reclaimable: ColumnElement[bool] = Notification.claimed_until <= now
    if policy.takeover_seconds is not None:
        # The claim must be as old as its scheduler's silence, as a dead scheduler's always is (it made or
        # renewed it before it stopped beating). Asked of the row itself, this holds where the heartbeat
        # cannot: on PostgreSQL a claim committed while this statement runs is re-checked on its new row,
        # but the heartbeat in the statement's older snapshot, where a scheduler that has just started is
        # not yet, so its first claim was taken as orphaned and its message sent twice (seen in CI).
        made_long_ago = Notification.claimed_until <= now + timedelta(
            seconds=policy.claim_seconds - policy.takeover_seconds
        )
        orphaned = claim_orphaned(now, timedelta(seconds=policy.takeover_seconds))
        reclaimable = or_(reclaimable, and_(made_long_ago, orphaned))
    return reclaimable


def _deliverable(now: datetime, policy: RetryPolicy):
    live = select(Incident.id).where(Incident.status.in_(LIVE))
    reclaimable = _reclaimable(now, policy)
    # A try withheld while under way (WITHHELD) is never taken over: its scheduler stopped, it went or it did not
    # (settle_stranded gives such a row up, saying so).
    tried_freely = or_(Notification.last_error.is_(None), Notification.last_error.not_like(f"{WITHHELD}%"))
    due = or_(
        and_(Notification.status == NotificationStatus.PENDING, Notification.next_attempt_at <= now),
        and_(Notification.status == NotificationStatus.SENDING, reclaimable),
    )
    # A call to act is pointless once the incident is handled; news (acknowledged, resolved) is not.
    wanted = or_(Notification.kind.not_in(ACTION_KINDS), Notification.incident_id.in_(live))
    # A text to the other side waits while an admin has its line deactivated (the other side moved its desk,
    # the address is wrong) and goes as approved once the line is active again; release refuses new ones.
    held = select(ContactChannel.id).where(ContactChannel.active.is_(False))
    line_open = or_(Notification.kind != NotificationKind.COUNTERPART, Notification.channel_id.not_in(held))
    return and_(due, tried_freely, wanted, line_open)  # a withheld text waits for nothing: whatever its status


def overtaken(
    kind: NotificationKind,
    queued_at: datetime,
    status: IncidentStatus,
    acknowledged_at: datetime | None,
    resolved_at: datetime | None,
    decision_step: int | None,
) -> str | None:
    """Why a claimed message is no longer to be sent, or None: what its incident's handling would have
    cancelled had the message still been waiting (notify.cancel_pending) - all but the exchange with the
    other side once the incident was acknowledged or resolved after the message was queued, and a
    DECISION NEEDED once no decision is pending - and a call to act whose incident is handled whenever
    it was queued (an acknowledgement that raced the escalation keeps the moment it began, which may
    come before the escalation's message; the claim refuses the same)."""
    if kind is NotificationKind.DECISION_ASKED and decision_step is None:
        return "not sent: the step was decided after it was queued"
    if kind in notify.EXCHANGE_KINDS:
        return None
    for at, what in ((acknowledged_at, "acknowledged"), (resolved_at, "resolved")):
        if at is not None and at > queued_at:
            return f"not sent: the incident was {what} after it was queued"
    if kind.calls_for_action and status not in LIVE:  # a PRECEDENCE RAISED call too, not only the ladder's
        return f"not sent: the incident was {status.value}"
    return None


def _ours(runner: str | None) -> ColumnElement[bool]:
    """Still claimed by runner (None: by whoever claimed it): a lapsed claim may have gone to another."""
    sending = Notification.status == NotificationStatus.SENDING
    return sending if runner is None else and_(sending, Notification.claimed_by == runner)


def hold_claims(
    session: Session, ids: list[int], runner: str | None, now: datetime, policy: RetryPolicy, renew: bool
) -> set[int]:
    """Of claimed messages not sent yet, those runner may still send. A message the incident's handling
    has overtaken since the claim is cancelled, and so is a text to the other side withheld since (WITHHELD: its
    try had not begun, it never goes; the caller puts its exchange back); one another scheduler took over is
    left to it. With
    renew, the claims kept are renewed for another claim_seconds (a batch over a slow relay may outlast
    its first claim): one UPDATE of every row left, so the caller renews only as a claim nears its end."""
    rows = session.execute(
        select(
            Notification.id,
            Notification.kind,
            Notification.created_at,
            Incident.status,
            Incident.acknowledged_at,
            Incident.resolved_at,
            Incident.decision_step,
            Notification.last_error,
        )
        .join(Incident, Incident.id == Notification.incident_id)
        .where(any_of(session, Notification.id, ids), _ours(runner))
    ).all()
    reasons = {row.id: reason for row in rows if (reason := overtaken(*row[1:-1]))}
    withheld = [row.id for row in rows if (row.last_error or "").startswith(WITHHELD)]
    if withheld:  # its reason kept: the withholding's
        session.execute(
            update(Notification)
            .where(any_of(session, Notification.id, withheld), _ours(runner))
            .values(status=NotificationStatus.CANCELLED, claimed_until=None),
            execution_options={"synchronize_session": False},
        )
        reasons.update(dict.fromkeys(withheld, WITHHELD))
    for reason in set(reasons.values()) - {WITHHELD}:
        cancelled = [id_ for id_, why in reasons.items() if why == reason]
        session.execute(
            update(Notification)
            .where(any_of(session, Notification.id, cancelled), _ours(runner))
            .values(status=NotificationStatus.CANCELLED, claimed_until=None, last_error=reason),
            execution_options={"synchronize_session": False},
        )
    kept = [row.id for row in rows if row.id not in reasons]
    if not kept or not renew:
        return set(kept)
    renewed = session.execute(
        update(Notification)
        .where(any_of(session, Notification.id, kept), _ours(runner))
        .values(claimed_until=now + timedelta(seconds=policy.claim_seconds))
        .returning(Notification.id),
        execution_options={"synchronize_session": False},
    )
    return set(renewed.scalars())


def claim_messages(
    session: Session,
    now: datetime,
    limit: int,
    policy: RetryPolicy,
    composer: Composer,
    runner: str | None = None,
    taken: list[int] | None = None,
) -> list[Claimed]:
    """Claim up to limit deliverable rows for runner (pending and due, or sending with a lapsed claim or
    one held by a scheduler that is gone) and return those composed; taken, when given, gets the ids of
    all claimed (some may be refused or fail to compose). The runner must have beaten in this
    transaction (heartbeat.beat_runner): a claim of a runner with no fresh heartbeat is anyone's to take."""
    deliverable = _deliverable(now, policy)
    candidates = select(Notification.id).where(deliverable).order_by(Notification.id).limit(limit)
    claim = (
        update(Notification)
        .where(among_claimable(session, Notification.id, candidates))
        .values(
            status=NotificationStatus.SENDING,
            attempts=Notification.attempts + 1,
            claimed_until=now + timedelta(seconds=policy.claim_seconds),
            claimed_by=runner,
        )
        .returning(Notification.id)
    )
    ids = list(session.execute(claim, execution_options={"synchronize_session": False}).scalars())
    # A message says what it said when queued: of its incident, sending reads only the reference and where
    # the incident stands (late_notice), never the report or its ladder (a row queued before migration
    # 0010 is rendered at its first sending, and loads the rest then).
    # The incident in the same statement (every row has one): a second SELECT ... IN of the batch's
    # incidents cost a sixth more of loading the batch.
    read = (Incident.reference, Incident.status, Incident.current_step, Incident.loop)
    eager = (
        joinedload(Notification.incident, innerjoin=True).options(load_only(*read)),
        selectinload(Notification.channel),
        selectinload(Notification.user),
    )
    public_url = composer.links.public_url
    claimed = load_claimed(session, Notification, ids, *eager)
    reach = sides.their_reach(session) if claimed else set()  # where the other side's lines go: none of ours
    ours = {row.channel for row in claimed if row.channel is not None and not row.channel.counterpart_line}
    crossing = {channel.id for channel in ours if sides.theirs(channel.address, reach)}  # once a line, not a row
    supervisors = composer.supervisor_transport
    rows = [row for row in claimed if not _refused_by_line(session, row, now, public_url, reach, supervisors, crossing)]
    roots = composer.thread_roots(session, {row.incident_id for row in rows})
    composed, failed = [], []
    for row in rows:
        try:
            with session.no_autoflush:  # nothing composing changes is written before it succeeds
                composed.append(composer.compose(session, row, now, roots))
        except SQLAlchemyError:  # the database's fault, not the message's: the batch is tried again
            raise
        except Exception as exc:
            failed.append((row, exc))  # dealt with below, once it is known whether any could be made
    if failed and not composed:  # none could be made: the code's fault, not one message's; nothing spent
        raise failed[0][1]
    for row, fault in failed:  # one that cannot be made holds up none after it: retried, then dead-lettered
        log.error("message %s cannot be composed", row.id, exc_info=fault)
        _failed_to_compose(session, row, fault, now, policy, composer.supervisor_transport, public_url, runner)
    if taken is not None:
        taken.extend(ids)
    return composed


def _failed_to_compose(
    session: Session,
    row: Notification,
    fault: Exception,
    now: datetime,
    policy: RetryPolicy,
    supervisor_transport: str,
    public_url: str,
    runner: str | None,
) -> None:
    """Record a failed attempt for a row that could not be composed (a retry, or its dead letter), in a
    savepoint: telling the supervisors of a dead letter composes from the same incident and may fail
    too, and must not take the batch down with it; the row is then marked dead as it is."""
    transport = row.channel.transport if row.channel is not None else supervisor_transport
    reason = f"cannot compose the message: {type(fault).__name__}: {fault}"[:2000]
    session.expire(row)  # what composing it half did is not kept
    try:
        with session.begin_nested():
            record_failure(
                session, row.id, transport, DeliveryError(reason), now, policy, public_url=public_url, runner=runner
            )
    except SQLAlchemyError:
        raise
    except Exception:
        log.exception("message %s: its failure cannot be recorded as usual; marked dead", row.id)
        session.execute(
            update(Notification)
            .where(Notification.id == row.id)
            .values(status=NotificationStatus.DEAD, claimed_until=None, last_error=reason),
            execution_options={"synchronize_session": False},
        )


def line_deactivated(row: Notification) -> str | None:
    """Why a message of ours may not go over its line any more, or None: an admin deactivated the line after
    the message was queued (a step entered now would use the step's fallback instead, notify.enter_step).
    Texts to the other side are held instead (_deliverable)."""
    channel = row.channel
    if channel is None or channel.active or row.kind is NotificationKind.COUNTERPART:
        return None
    return f"not sent: the line {channel.name} was deactivated after the message was queued"


def _refused_by_line(
    session: Session,
    row: Notification,
    now: datetime,
    public_url: str = "",
    reach: set[str] | None = None,
    supervisor_transport: str = "?",
    crossing: set[int] | None = None,
) -> bool:
    """Dead-letter a claimed row that wrong_line or wrong_mailbox refuses (supervisors told), or one of ours
    whose line was deactivated: a call to act is dead-lettered (its step escalates at once when no other desk
    of it was reached), other news is cancelled; True if the row is not to be sent."""
    reason = (
        sides.wrong_line(row) or sides.wrong_reach(row, crossing or set()) or sides.wrong_mailbox(row, reach or set())
    )
    if reason is None and (reason := line_deactivated(row)) is not None and row.kind not in ACTION_KINDS:
        row.status, row.claimed_until, row.last_error = NotificationStatus.CANCELLED, None, reason
        return True
    if reason is None:
        return False
    transport = row.channel.transport if row.channel else supervisor_transport
    _attempt(session, row.id, transport, AttemptOutcome.PERMANENT, now, 0, None, reason)
    row.last_error = reason
    row.claimed_until = None
    dead_letter(session, row, now, public_url)
    return True


def _attempt(session, notification_id, transport, outcome, now, latency_ms, code=None, error=None) -> None:
    session.add(
        DeliveryAttempt(
            notification_id=notification_id,
            at=now,
            transport=transport,
            outcome=outcome,
            response_code=code,
            error=error and error[:2000],
            latency_ms=latency_ms,
        )
    )


@dataclass(frozen=True)
class Sent:
    """A transport accepted a claimed message: when, how fast, with what answer."""

    notification_id: int
    transport: str
    at: datetime
    latency_ms: int = 0
    code: str | None = None


def record_sent(
    session: Session, notification_id: int, transport: str, now: datetime, latency_ms: int = 0, code: str | None = None
) -> bool:
    """Mark a claimed row sent and put the delivery on the timeline; False if it was not ours."""
    return bool(record_sent_many(session, [Sent(notification_id, transport, now, latency_ms, code)]))


def record_sent_many(session: Session, sent: list[Sent], runner: str | None = None) -> list[int]:
    """Mark claimed rows sent, record each attempt and put each delivery on its incident's timeline,
    in a few statements for the whole list; return the ids that were still ours (status sending, and
    claimed by runner when one is named)."""
    if not sent:
        return []
    facts = _mark_sent(session, sent, runner)
    ours = {notification_id for notification_id, *_ in facts}
    # Plain rows, one COPY (or INSERT) per table: a delivery batch records hundreds, and an ORM object
    # each cost more than the sending (models.bulk).
    attempts = [
        {
            "notification_id": s.notification_id,
            "at": s.at,
            "transport": s.transport,
            "outcome": AttemptOutcome.SENT,
            "response_code": s.code,
            "error": None,
            "latency_ms": s.latency_ms,
        }
        for s in sent
    ]
    insert_rows(session, DeliveryAttempt, attempts)
    by_id = {s.notification_id: s for s in sent}
    events = [
        {
            "incident_id": incident_id,
            "kind": EventKind.NOTIFIED,
            "actor": "delivery",
            "at": by_id[notification_id].at,
            "details": {
                "recipient": recipient,
                "transport": by_id[notification_id].transport,
                "step": step,
                "loop": loop,
                "message": kind.value,
                "notification_id": notification_id,
                "response_code": by_id[notification_id].code,
            },
        }
        for notification_id, incident_id, kind, step, loop, recipient in sorted(facts)
    ]
    insert_rows(session, TimelineEvent, events)
    return sorted(ours)


# Whom a message went to, for its timeline event: its line's name, else its user's.
_RECIPIENT = func.coalesce(
    select(ContactChannel.name).where(ContactChannel.id == Notification.channel_id).scalar_subquery(),
    select(User.username).where(User.id == Notification.user_id).scalar_subquery(),
    "?",
)
_FACTS = (
    Notification.id,
    Notification.incident_id,
    Notification.kind,
    Notification.step,
    Notification.loop,
    _RECIPIENT,
)
_SENT = {"status": NotificationStatus.SENT, "claimed_until": None, "last_error": None}


def _mark_sent(session: Session, sent: list[Sent], runner: str | None) -> Sequence[Row]:
    """Mark sent the rows still ours (_ours), each at its own time, in one statement that answers what
    each one's timeline event says. On PostgreSQL the ids and times go as two arrays, so the statement
    is the same for any number of rows (compiled and parsed once); elsewhere as a list and a CASE."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        parameters = {"ids": [s.notification_id for s in sent], "ats": [s.at for s in sent], "runner": runner}
        return connection.execute(_sent_from_arrays(runner is not None), parameters).all()
    at = {s.notification_id: s.at for s in sent}
    statement = (
        update(Notification)
        .where(Notification.id.in_(at), _ours(runner))
        .values(sent_at=case(at, value=Notification.id), **_SENT)
        .returning(*_FACTS)
    )
    return connection.execute(statement).all()


@cache
def _sent_from_arrays(by_runner: bool):
    given = (
        func.unnest(
            bindparam("ids", type_=postgresql.ARRAY(Integer)), bindparam("ats", type_=postgresql.ARRAY(UTCDateTime()))
        )
        .table_valued(column("id", Integer), column("at", UTCDateTime()))
        .render_derived("sent")
    )
    ours = Notification.status == NotificationStatus.SENDING
    if by_runner:
        ours = and_(ours, Notification.claimed_by == bindparam("runner"))
    return (
        update(Notification)
        .where(Notification.id == given.c.id, ours)
        .values(sent_at=given.c.at, **_SENT)
        .returning(*_FACTS)
    )


def record_failure(
    session: Session,
    notification_id: int,
    transport: str,
    error: DeliveryError,
    now: datetime,
    policy: RetryPolicy,
    latency_ms: int = 0,
    public_url: str = "",
    runner: str | None = None,
) -> NotificationStatus:
    """Schedule a retry with exponential backoff and jitter, or dead-letter the row (the supervisors'
    message links the incident page under public_url); cancel it instead when the incident's handling
    has overtaken it (overtaken). A row no longer ours (another scheduler took over its lapsed claim,
    or it was sent) is left as it is."""
    outcome = AttemptOutcome.TRANSIENT if error.transient else AttemptOutcome.PERMANENT
    _attempt(session, notification_id, transport, outcome, now, latency_ms, error.code, str(error))
    # Held, as it stands now: read without a lock, a withholding committed between the read and the write below was
    # written over (its mark lost, the row pending again) and the next try sent the withheld text.
    row = session.get(Notification, notification_id, populate_existing=True, with_for_update=True)
    if row is None or row.status is not NotificationStatus.SENDING or runner not in (None, row.claimed_by):
        return row.status if row else NotificationStatus.CANCELLED
    if (row.last_error or "").startswith(WITHHELD):  # withheld while this try was under way: never tried again
        row.status, row.claimed_until = NotificationStatus.CANCELLED, None
        row.last_error = f"{row.last_error} (its try then failed: {error})"[:2000]
        return row.status
    row.last_error = str(error)[:2000]
    row.claimed_until = None
    incident = row.incident
    handled = (incident.status, incident.acknowledged_at, incident.resolved_at, incident.decision_step)
    reason = overtaken(row.kind, row.created_at, *handled)
    if reason is not None:
        row.status, row.last_error = NotificationStatus.CANCELLED, f"{reason} ({row.last_error})"[:2000]
    elif not error.transient or row.attempts >= policy.max_attempts:
        dead_letter(session, row, now, public_url)
    else:
        delay = policy.base_seconds * 2 ** (row.attempts - 1) * random.uniform(0.8, 1.2)
        if error.retry_after is not None:
            # The peer said when to come back (429, 503): sooner spends an attempt on a refusal it announced, and
            # a line rate limited for longer than the backoff was dead-lettered. Never later than the longest backoff.
            delay = max(delay, min(error.retry_after, policy.base_seconds * 2 ** (policy.max_attempts - 1)))
        row.status = NotificationStatus.PENDING
        row.next_attempt_at = now + timedelta(seconds=delay)
    return row.status


def settle_stranded(session: Session, now: datetime, policy: RetryPolicy, public_url: str = "") -> list[int]:
    """Give up on the texts to the other side withheld while a try of them was under way (WITHHELD) whose
    claim is anyone's now: that try's scheduler stopped before it said whether the text went, and no other
    try may follow (_deliverable), so the row stayed "sending" for good and nobody was told. Each is
    dead-lettered as a text that may have reached them (dead_letter's serial_unknown), its receipt still
    awaited: their receipt says it went, the overdue one prompts the desk to ask. Claimed in one UPDATE, so
    two schedulers settle a row once. Returns their ids."""
    stranded = select(Notification.id).where(
        Notification.kind == NotificationKind.COUNTERPART,
        Notification.status == NotificationStatus.SENDING,
        Notification.last_error.like(f"{WITHHELD}%"),
        _reclaimable(now, policy),
    )
    claim = (
        update(Notification)
        .where(among_claimable(session, Notification.id, stranded.order_by(Notification.id).limit(100)))
        .values(status=NotificationStatus.DEAD, claimed_until=None)
        .returning(Notification.id)
    )
    ids = list(session.execute(claim, execution_options={"synchronize_session": False}).scalars())
    for row in load_claimed(session, Notification, ids):
        row.last_error = f"{row.last_error} {STRANDED}"[:2000]
        dead_letter(session, row, now, public_url, went_unknown=True)
    return ids


# Said of a withheld text whose try was under way when its scheduler stopped (settle_stranded).
STRANDED = "(the try under way when it was withheld never finished: its scheduler stopped; it may have reached them)"


def dead_letter(
    session: Session, row: Notification, now: datetime, public_url: str = "", went_unknown: bool = False
) -> None:
    """Give up on a message: show it on the incident, tell the supervisors, and stop waiting for it.
    went_unknown: a try of it may have delivered it (settle_stranded), so its serial is not said unsent."""
    row.status = NotificationStatus.DEAD
    incident = row.incident
    escalate_now = row.kind in ACTION_KINDS and _step_stranded(session, row)
    step, loop = told_on(row)
    # A text to the other side keeps its serial (never given again: line_checks.fail_check says why): the
    # timeline says which number never reached them, so the desk can explain the gap on the line.
    sent = session.get(ExchangeMessage, row.exchange_message_id) if row.exchange_message_id else None
    said = "serial_unknown" if went_unknown else "serial_not_sent"
    unsent = {said: f"{sent.serial:04d}/{sent.serial_year}"} if sent and sent.serial else {}
    timeline.record(
        session,
        incident,
        EventKind.DEAD_LETTERED,
        "delivery",
        now,
        recipient=row.recipient,
        message=row.kind.value,
        step=step,
        loop=loop,
        attempts=row.attempts,
        error=row.last_error,
        escalates_at_once=escalate_now,
        **unsent,
    )
    if row.channel is not None and row.kind is not NotificationKind.DEAD_LETTER:
        _tell_supervisors(session, row, now, public_url, step, loop, escalate_now)
    if escalate_now:
        session.execute(
            update(Incident)
            .where(
                Incident.id == incident.id,
                Incident.status == IncidentStatus.OPEN,
                Incident.current_step == row.step,
                Incident.loop == row.loop,
                Incident.next_escalation_at > now,
            )
            .values(next_escalation_at=now, version=Incident.version + 1),
            execution_options={"synchronize_session": False},
        )


def _step_stranded(session: Session, row: Notification) -> bool:
    """True when no other call to act of the same step and loop was, or may yet be, delivered."""
    alive = session.scalar(
        select(func.count()).where(
            Notification.incident_id == row.incident_id,
            Notification.step == row.step,
            Notification.loop == row.loop,
            Notification.kind.in_(ACTION_KINDS),
            Notification.id != row.id,
            Notification.status.in_((NotificationStatus.SENT, NotificationStatus.PENDING, NotificationStatus.SENDING)),
        )
    )
    return alive == 0


def _tell_supervisors(
    session: Session, row: Notification, now: datetime, public_url: str, step: int, loop: int, escalates: bool
) -> None:
    """Tell the supervisors of a message given up on: once for each line a step and round (told_on: the round a
    raise told, not the key of its row) gave up on, and again when this one leaves the step reaching nobody."""
    told = aliased(Notification)
    already = session.scalar(
        select(func.count())
        .select_from(Notification)
        .join(told, told.id == Notification.about_id)
        .where(
            Notification.incident_id == row.incident_id,
            Notification.kind == NotificationKind.DEAD_LETTER,
            Notification.step == step,
            Notification.loop == loop,
            told.channel_id == row.channel_id,
        )
    )
    if not already or escalates:
        recipients = notify.Recipients.load(session, public_url)
        notify.enqueue_supervisors(
            session,
            row.incident,
            NotificationKind.DEAD_LETTER,
            now,
            recipients,
            step=step,
            loop=loop,
            about=row,
            facts={"failed_channel": row.recipient, "failed_error": row.last_error, "failed_escalates": escalates},
        )
