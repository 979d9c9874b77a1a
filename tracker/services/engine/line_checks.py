"""Communications checks: test each line on its schedule; failures degrade it, then mark it down."""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from ...channels import Message, withheld
from ...errors import Conflict, Forbidden, NotFound, ValidationError
from ...models import ChannelCheck, ChannelHealth, CheckOutcome, ContactChannel, User
from ...models.permissions import Permission, may
from ...sentences import Sentence
from ...text import name_problem
from ...timeutil import RECENT_AHEAD, UTC, format_dtg, isoformat
from . import lines_lost, links, message_text, sides
from .claims import among_claimable

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HealthRules:
    degraded_after: int
    down_after: int


# A five-field crontab names no year, and its days repeat within 28 years: one that fires after this
# moment fires after any other, one that does not never fires.
_SOME_MOMENT = datetime(2000, 1, 1, tzinfo=UTC)


def cron_problem(expression: str) -> str | None:
    """Explain why a five-field crontab expression is unusable, or return None."""
    try:
        trigger = CronTrigger.from_crontab(expression, timezone=UTC)
    except ValueError as exc:
        return f"not a crontab expression (minute hour day month weekday): {exc}"
    # "0 0 31 2 *" (31 February) is a valid expression, but the line would never be tested.
    if trigger.get_next_fire_time(None, _SOME_MOMENT) is None:
        return "names no day that exists (e.g. 30 or 31 February, 31 April): the line would never be checked"
    return None


def next_check(channel: ContactChannel, now: datetime) -> datetime | None:
    """When the channel's next scheduled check is due (None: it has no schedule)."""
    if channel.check_cron:
        # Strictly after now: APScheduler returns now itself when now is a fire time, and a claim
        # made on the mark would leave the channel due again at once (a second check).
        trigger = CronTrigger.from_crontab(channel.check_cron, timezone=UTC)
        return trigger.get_next_fire_time(None, now + timedelta(microseconds=1))
    if channel.check_interval_seconds:
        return now + timedelta(seconds=channel.check_interval_seconds)
    return None


def claim_due_channels(session: Session, now: datetime, limit: int) -> list[ContactChannel]:
    """Claim channels whose check is due and move their next check on; return them."""
    due = (
        select(ContactChannel.id)
        .where(ContactChannel.active.is_(True), ContactChannel.next_check_at <= now)
        .order_by(ContactChannel.next_check_at)
        .limit(limit)
    )
    claim = (
        update(ContactChannel)
        .where(among_claimable(session, ContactChannel.id, due))
        .values(next_check_at=None)
        .returning(ContactChannel.id)
    )
    ids = list(session.execute(claim, execution_options={"synchronize_session": False}).scalars())
    channels = session.scalars(
        select(ContactChannel).where(ContactChannel.id.in_(ids)).execution_options(populate_existing=True)
    ).all()
    for channel in channels:
        channel.next_check_at = next_check(channel, now)
    return list(channels)


def start_check(session: Session, channel: ContactChannel, requested_by: str, now: datetime) -> ChannelCheck:
    """Open a check awaiting confirmation within the channel's window."""
    if not channel.active:
        raise ValidationError(Sentence("channel {name} is inactive", {"name": repr(channel.name)}), {"active": False})
    check = ChannelCheck(
        channel=channel,
        requested_by=requested_by,
        sent_at=now,
        due_by=now + timedelta(seconds=channel.check_window_seconds),
    )
    session.add(check)
    session.flush()
    return check


def compose(check: ChannelCheck, signer: links.LinkSigner, public_url: str, mail_domain: str) -> Message:
    """The test message, with its own confirmation link."""
    channel = check.channel
    token = signer.issue("check", check=check.id, channel=channel.id, **links.sent_to(channel.address))
    url = f"{public_url.rstrip('/')}/links/check/{token}"
    text = message_text.check_text(channel, url, check.due_by, channel.check_window_seconds)
    subject = message_text.check_subject(channel, check.due_by)
    # Like a message's key (delivery.message_key): never another check's, even after a restore reused the id.
    key = f"check-{check.id}-{check.sent_at.astimezone(UTC):%Y%m%d%H%M%S%f}"
    return Message(
        key=key,
        event="channel.check",
        recipient=channel.name,
        address=channel.address,
        subject=subject,
        text=text,
        html=message_text.html(subject, text, url, "Confirm the line works"),
        message_id=f"<{key}@{mail_domain}>",
        secret=channel.secret,
        payload={
            "event": "channel.check",
            "idempotency_key": key,
            "channel": channel.name,
            "subject": subject,
            "text": text,
            "due_by": isoformat(check.due_by),
            "confirm": {"token": token, "url": url, "api": f"{public_url.rstrip('/')}/api/v1/acks"},
        },
    )


def _decide(
    session: Session,
    check: ChannelCheck,
    ok: bool,
    detail: str,
    now: datetime,
    rules: HealthRules,
    shown_at: datetime | None = None,
) -> None:
    """Decide a check taken with _claim_pending (its line locked first) and recount its line's health.
    now: when it is decided (the order its change is told in); shown_at: when the line was shown to work
    or fail, if earlier (an answer logged after it was given)."""
    channel, shown_at = check.channel, shown_at or now
    before = channel.health
    check.outcome = CheckOutcome.OK if ok else CheckOutcome.FAILED
    check.decided_at = now
    check.detail = detail[:2000]
    channel.last_check_at = max(channel.last_check_at or shown_at, shown_at)
    if ok:
        channel.last_check_ok_at = max(channel.last_check_ok_at or shown_at, shown_at)
    session.flush()
    _recount(session, channel, rules)
    check.health_after = channel.health
    check.failures_in_a_row, check.last_confirmed_at = channel.consecutive_failures, channel.last_check_ok_at
    if channel.health is ChannelHealth.DOWN and before is not ChannelHealth.DOWN:
        lines_lost.step_lost(session, channel, "down", now)
    if channel.health is not before:  # the board and My queue show the lines not working (web/board.py)
        # and the supervisors are told (line_alerts): a check decided again (an answer logged after the
        # window closed) is a new change to tell, even if its first one was told already.
        check.health_before = before.value
        check.alert_claimed_at = check.alert_sent_at = None
        log.warning(
            "line %s is %s: %d checks in a row unconfirmed",
            channel.name,
            channel.health.value,
            channel.consecutive_failures,
        )


# How far back a line's run of failed checks is counted (more than any DOWN_AFTER a desk would set).
RUN_COUNTED = 100


def _recount(session: Session, channel: ContactChannel, rules: HealthRules) -> None:
    """The line's health from its decided checks in the order they were sent, the newest first: the
    run of failures since the last good one. (In the order decided, an older check expiring after a
    newer one was confirmed would put a line just proven good down again.)"""
    outcomes = session.scalars(
        select(ChannelCheck.outcome)
        .where(ChannelCheck.channel_id == channel.id, ChannelCheck.outcome != CheckOutcome.PENDING)
        .order_by(ChannelCheck.sent_at.desc(), ChannelCheck.id.desc())
        .limit(RUN_COUNTED)
    )
    run = 0
    for outcome in outcomes:
        if outcome is not CheckOutcome.FAILED:
            break
        run += 1
    channel.consecutive_failures = run
    if run >= rules.down_after:
        channel.health = ChannelHealth.DOWN
    elif run >= rules.degraded_after:
        channel.health = ChannelHealth.DEGRADED
    else:
        channel.health = ChannelHealth.OK


def _claim_pending(session: Session, check_id: int, channel_id: int) -> ChannelCheck | None:
    """Take a pending check for a decision, its line locked first; None when it was decided already.

    Every decision locks the line before its check, and a sweep deciding several takes their lines in
    one order (expire_checks): two decisions on one line (a sweep and an answer logged at once) follow
    each other, each reading the health the other left, and never wait on each other's locks in turn."""
    session.flush()  # refreshing the line must not drop a change not yet written (the next check's time)
    # FOR NO KEY UPDATE: a decision that takes the line down makes its incidents' steps due (lines_lost), and an
    # acknowledgement that holds one of them writes a message naming the line (a foreign key's KEY SHARE lock),
    # which FOR UPDATE would have made the two wait on each other (a deadlock, one of them a 500).
    session.scalars(
        select(ContactChannel)
        .where(ContactChannel.id == channel_id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    ).one()
    result = cast(
        CursorResult[Any],  # what an UPDATE returns (Session.execute is typed for SELECT)
        session.execute(
            update(ChannelCheck)
            .where(ChannelCheck.id == check_id, ChannelCheck.outcome == CheckOutcome.PENDING)
            .values(decided_at=None),
            execution_options={"synchronize_session": False},
        ),
    )
    return session.get(ChannelCheck, check_id, populate_existing=True) if result.rowcount == 1 else None


def fail_check(session: Session, check_id: int, detail: str, now: datetime, rules: HealthRules) -> None:
    """The check message could not even be sent: that is a failed check.

    A check over a counterpart line took the line's next serial when it was composed, and keeps it: a
    number is never given to a second message, since a send that failed (a time-out after their relay took
    it) may still have arrived, and two texts under one serial would spoil both sides' logs. So the other
    side sees a gap there; the check's record says so first, for the desk to tell them on the line that the
    number went nowhere (a message of ours that is dead-lettered says the same: delivery.dead_letter)."""
    channel_id = session.scalar(select(ChannelCheck.channel_id).where(ChannelCheck.id == check_id))
    check = None if channel_id is None else _claim_pending(session, check_id, channel_id)
    if check is not None:
        _decide(
            session,
            check,
            False,
            f"{unsent_serial(check.serial, check.serial_year)}not delivered: {detail}",
            now,
            rules,
        )


def unsent_serial(serial: int | None, year: int | None) -> str:
    """What the record of a numbered text that never left says first: its serial is spent, a gap they see."""
    if serial is None:
        return ""
    return (
        f"SERIAL {serial:04d}/{year} NOT SENT: the number stays unused (never given again), so the other side "
        "sees a gap there; tell them on the line it was never sent. "
    )


def expire_checks(session: Session, now: datetime, rules: HealthRules) -> int:
    """Fail every pending check whose window has closed; return how many."""
    expired = session.execute(
        select(ChannelCheck.id, ChannelCheck.channel_id)
        .where(ChannelCheck.outcome == CheckOutcome.PENDING, ChannelCheck.due_by <= now)
        .order_by(ChannelCheck.channel_id, ChannelCheck.id)  # lines locked in one order (_claim_pending)
    ).all()
    count = 0
    for check_id, channel_id in expired:
        check = _claim_pending(session, check_id, channel_id)
        if check is not None:
            _decide(session, check, False, EXPIRED, now, rules)
            count += 1
    return count


def check_of_link(session: Session, claims: dict) -> ChannelCheck:
    """The check a confirmation link is bound to, or LinkRefused("foreign"); also for a line made a line to the
    other side since the link went out: their answers to a check are logged from the line, never taken by a link
    (ours, sent to the desk the line was, or one forwarded to them)."""
    check = session.get(ChannelCheck, claims["check"])
    if check is None or check.channel_id != claims["channel"]:
        raise links.LinkRefused("foreign", "This link does not belong to a check of this line.")
    if not links.made_for(claims, check.channel.address):
        # Sent to the line's address before it changed: whoever holds that mailbox now is not the line, and its
        # answer says nothing of the line (as an acknowledge link's, handling.link_target).
        raise links.LinkRefused(
            "readdressed",
            "This check was sent to an address the line no longer has: confirming it would say nothing of the "
            "line as it is. Send a new check from the line's page.",
            {"channel": check.channel.name},
        )
    if check.channel.counterpart_line or sides.crossing(session, check.channel):
        raise links.LinkRefused(
            "counterpart_check",
            "This line is now a line to the other side, or goes where one goes: its checks are answered on the "
            "line, not by a link.",
            {"channel": check.channel.name},
        )
    return check


def confirm_by_link(session: Session, claims: dict, now: datetime, rules: HealthRules) -> ChannelCheck:
    """The line works: the recipient confirmed the check from its message."""
    check = check_of_link(session, claims)
    channel = check.channel  # who used it, as a reused link's page says: a hook's secret withheld
    links.spend(session, claims, "check", f"{channel.name} <{withheld(channel.transport, channel.address)}>", now)
    if check.outcome is not CheckOutcome.PENDING:
        raise links.LinkRefused(
            "expired", f"This check was already decided: {check.outcome.value}.", {"outcome": check.outcome.value}
        )
    if now > check.due_by:  # closed, though the sweep has not judged it yet: as late as after it did
        raise links.LinkRefused(
            "expired",
            f"This check's window closed at {format_dtg(check.due_by)}: it counts as not confirmed.",
            {"due_by": isoformat(check.due_by)},
        )
    if _claim_pending(session, check.id, check.channel_id) is not None:
        _decide(session, check, True, "confirmed from the message", now, rules)
    return check


# What a check not answered in its window is decided with (an answer logged later may still overturn it).
EXPIRED = "not confirmed within the window"
# How the other side answered a check over a counterpart line (in-band: there is no link to click).
ANSWERED_VIA = ("voice", "line")
ANSWER_NAME_MAX_LENGTH = 120


def get_check(session: Session, channel_id: int, check_id: int) -> ChannelCheck:
    """One check of a line (404 when the line has no such check)."""
    check = session.get(ChannelCheck, check_id)
    if check is None or check.channel_id != channel_id:
        raise NotFound(f"channel {channel_id} has no check {check_id}", {"check_id": check_id})
    return check


def ensure_may_answer(channel: ContactChannel, user: User) -> None:
    """Who logs the answer to a line's check: whoever watches every line (supervisors, admins), and the
    line's own staff, who took it on the line or by voice (403 for others)."""
    if may(user.role, Permission.CHANNELS_WATCH) or any(member.id == user.id for member in channel.members):
        return
    raise Forbidden(
        f"{user.username} serves no line {channel.name!r}: its own staff, supervisors and admins log its answers",
        {"channel": channel.name},
    )


def pending_on(session: Session, lines: list[int] | None) -> list[ChannelCheck]:
    """Checks still waiting for their answer, on these lines (None: every line), the soonest due first."""
    query = select(ChannelCheck).where(ChannelCheck.outcome == CheckOutcome.PENDING)
    if lines is not None:
        query = query.where(ChannelCheck.channel_id.in_(lines))
    return list(session.scalars(query.order_by(ChannelCheck.due_by, ChannelCheck.id)))


def record_answer(
    session: Session, check: ChannelCheck, at: datetime, by: str, via: str, now: datetime, rules: HealthRules
) -> ChannelCheck:
    """The line works: the operator logs the answer given on the line or by voice within the window
    (at: when it was given, not in the future). The check is OK as if confirmed from its message."""
    by = (by or "").strip()
    problems = {}
    if via not in ANSWERED_VIA:
        problems["via"] = f"one of: {', '.join(ANSWERED_VIA)}"
    if not by or len(by) > ANSWER_NAME_MAX_LENGTH or name_problem(by):
        problems["by"] = f"who answered: one line, 1 to {ANSWER_NAME_MAX_LENGTH} characters"
    if at > now + RECENT_AHEAD:  # a minute typed rounded up, a clock a little ahead: as a call's or a log line's
        problems["at"] = "an answer cannot be in the future"
    elif at < check.sent_at.replace(second=0, microsecond=0):  # a DTG names the minute only
        problems["at"] = "before the check was sent"
    elif at > check.due_by:
        problems["at"] = f"after the check's window closed ({format_dtg(check.due_by)}): it counts as failed"
    if problems:
        raise ValidationError("the answer is not valid", problems)
    if _claim_pending(session, check.id, check.channel_id) is None:
        session.refresh(check, with_for_update=True)
        # Answered in time but logged after the sweep closed the window: the answer stands, as given.
        if check.outcome is not CheckOutcome.FAILED or check.detail != EXPIRED:
            raise Conflict(
                f"this check was decided already: {check.outcome.value}",
                {"outcome": check.outcome.value, "decided_at": isoformat(check.decided_at)},
            )
    check.answered_by, check.answered_via = by, via
    how = "by voice" if via == "voice" else "on the line"
    # Decided now, whenever it was given: a change is told in the order decided (line_alerts), and this one
    # comes after every change decided before it, including any it overturns.
    _decide(session, check, True, f"answered {how} by {by} at {format_dtg(at)}", now, rules, at)
    return check


def history(session: Session, channel_id: int, limit: int = 100) -> list[ChannelCheck]:
    if session.get(ContactChannel, channel_id) is None:
        raise NotFound(f"no channel {channel_id}", {"id": channel_id})
    return list(
        session.scalars(
            select(ChannelCheck)
            .where(ChannelCheck.channel_id == channel_id)
            .order_by(ChannelCheck.id.desc())
            .limit(limit)
        )
    )
