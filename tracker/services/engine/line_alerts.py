"""Tell the supervisors when a line's health changes: degraded, down, or working again.

The check whose decision changed the line's health keeps the health before it (line_checks._decide).
The scheduler claims such checks atomically (an UPDATE of alert_claimed_at, as every claim here: two
schedulers never take the same one), tells every active supervisor by the supervisors' transport, and
marks the check's alert sent once all were told. A send that fails leaves the claim to lapse: the alert
goes again (at least once; each message keeps its key, so a receiver may drop a repeat).

Only ever the supervisors, by our own transport: never a line, and so never the other side.
"""

from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, selectinload

from ...channels import Message
from ...models import ChannelCheck, Role, User
from ...timeutil import UTC, format_dtg
from . import message_text
from .claims import among_claimable

EVENT = "line.health"
WORDS = {"ok": "WORKING AGAIN", "degraded": "DEGRADED", "down": "DOWN"}


def claim(session: Session, now: datetime, lapse: timedelta, limit: int = 50) -> list[ChannelCheck]:
    """Claim up to limit checks that changed their line's health and whose alert is not sent (or whose
    earlier claim lapsed), oldest decision first."""
    due = (
        select(ChannelCheck.id)
        .where(
            ChannelCheck.health_before.is_not(None),
            ChannelCheck.alert_sent_at.is_(None),
            or_(ChannelCheck.alert_claimed_at.is_(None), ChannelCheck.alert_claimed_at <= now - lapse),
        )
        .order_by(ChannelCheck.decided_at, ChannelCheck.id)
        .limit(limit)
    )
    taken = (
        update(ChannelCheck)
        .where(among_claimable(session, ChannelCheck.id, due))
        .values(alert_claimed_at=now)
        .returning(ChannelCheck.id)
    )
    ids = list(session.execute(taken, execution_options={"synchronize_session": False}).scalars())
    query = (
        select(ChannelCheck)
        .where(ChannelCheck.id.in_(ids))
        .order_by(ChannelCheck.decided_at, ChannelCheck.id)
        .options(selectinload(ChannelCheck.channel))
        .execution_options(populate_existing=True)
    )
    return list(session.scalars(query))


def supervisors(session: Session) -> list[User]:
    return list(
        session.scalars(select(User).where(User.role == Role.SUPERVISOR, User.active.is_(True)).order_by(User.username))
    )


def _when(moment: datetime | None) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M}Z ({format_dtg(moment)})" if moment else "never"


def compose(check: ChannelCheck, supervisor: User, public_url: str, mail_domain: str) -> Message:
    """The alert to one supervisor: the line, its new health and the one before, the run of unconfirmed
    checks, the last confirmation and the decision, with the board's address (lines not working)."""
    channel, health = check.channel, check.health_after.value if check.health_after else "ok"
    subject = f"LINE {WORDS.get(health, health.upper())}: {channel.name}"
    side = " (our line to the other side)" if channel.counterpart_line else ""
    board = f"{public_url.rstrip('/')}/board"
    text = "\n".join(
        [
            f"The line {channel.name}{side} is now {health.upper()} (it was {str(check.health_before).upper()}).",
            f"Checks in a row unconfirmed: {channel.consecutive_failures}. "
            f"Last confirmed: {_when(channel.last_check_ok_at)}.",
            f"Decided {_when(check.decided_at)}: {check.detail or 'no detail'}.",
            f"Lines not working are listed on the board: {board}",
        ]
    )
    key = f"line-health-{check.id}-{supervisor.id}-{check.sent_at.astimezone(UTC):%Y%m%d%H%M%S%f}"
    return Message(
        key=key,
        event=EVENT,
        recipient=supervisor.username,
        address=supervisor.email or supervisor.username,
        subject=subject,
        text=text,
        html=message_text.html(subject, text, board, "Open the board"),
        message_id=f"<{key}@{mail_domain}>",
        payload={
            "event": EVENT,
            "idempotency_key": key,
            "line": channel.name,
            "health": health,
            "health_before": check.health_before,
            "consecutive_failures": channel.consecutive_failures,
            "last_confirmed_at": channel.last_check_ok_at.isoformat() if channel.last_check_ok_at else None,
            "subject": subject,
            "text": text,
        },
    )


def mark_sent(session: Session, check_id: int, now: datetime) -> None:
    session.execute(update(ChannelCheck).where(ChannelCheck.id == check_id).values(alert_sent_at=now))
