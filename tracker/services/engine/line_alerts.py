"""Tell the supervisors when a line's health changes: degraded, down, or working again.

The check whose decision changed the line's health keeps the health before it and the line as the
decision left it (line_checks._decide). The scheduler claims such checks atomically (an UPDATE of
alert_claimed_at, as every claim here: two schedulers never take the same one), tells every active
supervisor by the supervisors' transport, and marks the check's alert sent once all were told. A send
that fails leaves the claim to lapse: the alert goes again (at least once; each message keeps its key,
so a receiver may drop a repeat).

A line's changes are told in the order they were decided: a change is not claimed while an earlier
one of the same line is still untold, so a supervisor never reads DOWN after WORKING AGAIN of the same
line and is left believing it down.

Only ever the supervisors, by our own transport: never a line, and so never the other side.
"""

from datetime import datetime, timedelta

from sqlalchemy import and_, exists, or_, update
from sqlalchemy.orm import Session, aliased, selectinload

from ...channels import Message
from ...models import ChannelCheck, User
from ...timeutil import UTC, format_dtg, isoformat
from . import message_text
from .claims import claim_untold

EVENT = "line.health"
WORDS = {"ok": "WORKING AGAIN", "degraded": "DEGRADED", "down": "DOWN"}


def claim(session: Session, now: datetime, lapse: timedelta, limit: int = 50) -> list[ChannelCheck]:
    """Claim up to limit checks that changed their line's health and whose alert is not sent (or whose
    earlier claim lapsed), oldest decision first, none while an earlier change of its line is untold."""
    stamps = (ChannelCheck.alert_claimed_at, ChannelCheck.alert_sent_at)
    earlier = aliased(ChannelCheck)
    untold_before = exists().where(
        earlier.channel_id == ChannelCheck.channel_id,
        earlier.health_before.is_not(None),
        earlier.alert_sent_at.is_(None),
        or_(
            earlier.decided_at < ChannelCheck.decided_at,
            and_(earlier.decided_at == ChannelCheck.decided_at, earlier.id < ChannelCheck.id),
        ),
    )
    changed = (ChannelCheck.health_before.is_not(None), ~untold_before)
    order = (ChannelCheck.decided_at, ChannelCheck.id)
    load = selectinload(ChannelCheck.channel)
    return claim_untold(session, ChannelCheck, stamps, changed, order, now, lapse, load, limit)


def compose(check: ChannelCheck, supervisor: User, public_url: str, mail_domain: str) -> Message:
    """The alert to one supervisor: the line, its new health and the one before, the run of unconfirmed
    checks and the last confirmation as the change left them, the decision, with the board's address."""
    channel, health = check.channel, check.health_after.value if check.health_after else "ok"
    # Checks decided before these were kept (migration 0021) are told with the line as it is now.
    failures = channel.consecutive_failures if check.failures_in_a_row is None else check.failures_in_a_row
    confirmed = check.last_confirmed_at if check.failures_in_a_row is not None else channel.last_check_ok_at
    subject = f"LINE {WORDS.get(health, health.upper())}: {channel.name}"
    side = " (our line to the other side)" if channel.counterpart_line else ""
    board = f"{public_url.rstrip('/')}/board"
    text = "\n".join(
        [
            f"The line {channel.name}{side} is now {health.upper()} (it was {str(check.health_before).upper()}).",
            f"Checks in a row unconfirmed: {failures}. Last confirmed: {when(confirmed)}.",
            f"Decided {when(check.decided_at)}: {check.detail or 'no detail'}.",
            f"Lines not working are listed on the board: {board}",
        ]
    )
    # The decision's time in the key: a check decided again (a late answer) is another alert, not a repeat.
    decided = check.decided_at or check.sent_at
    key = f"line-health-{check.id}-{supervisor.id}-{decided.astimezone(UTC):%Y%m%d%H%M%S%f}"
    facts = {
        "line": channel.name,
        "health": health,
        "health_before": check.health_before,
        "consecutive_failures": failures,
        "last_confirmed_at": isoformat(confirmed),
        "decided_at": isoformat(decided),
    }
    return to_supervisor(supervisor, key, EVENT, subject, text, (board, "Open the board"), mail_domain, facts)


def to_supervisor(
    supervisor: User,
    key: str,
    event: str,
    subject: str,
    text: str,
    link: tuple[str, str],
    mail_domain: str,
    facts: dict,
) -> Message:
    """An alert to one supervisor, for the supervisors' transport: its text, the page it links (url,
    button label) and its facts for a webhook receiver, under a key stable per alert and supervisor."""
    return Message(
        key=key,
        event=event,
        recipient=supervisor.username,
        address=supervisor.email or supervisor.username,
        subject=subject,
        text=text,
        html=message_text.html(subject, text, *link),
        message_id=f"<{key}@{mail_domain}>",
        payload={"event": event, "idempotency_key": key, **facts, "subject": subject, "text": text},
    )


def when(moment: datetime | None) -> str:
    """A time as the alerts write it: 2026-12-05 08:05Z (050805ZDEC26), or "never"."""
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M}Z ({format_dtg(moment)})" if moment else "never"


def mark_sent(session: Session, check_id: int, claimed_at: datetime, now: datetime) -> None:
    """The change claimed at claimed_at was told; not if the check was decided again since (its new
    change is still to tell) or claimed again after this claim lapsed (that claim marks it)."""
    session.execute(
        update(ChannelCheck)
        .where(ChannelCheck.id == check_id, ChannelCheck.alert_claimed_at == claimed_at)
        .values(alert_sent_at=now)
    )
