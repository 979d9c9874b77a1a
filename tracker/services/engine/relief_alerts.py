"""Tell the supervisors of a watch kept beyond WATCH_HOURS without a signed handover, once.

The board, My queue and the watch pages show such a watch (services/watches/log.unrelieved); a desk
nobody is looking at is the one whose officer left, so the supervisors are told too. As line_alerts:
a claim (relief_alert_claimed_at) taken atomically, marked sent once every active supervisor was told,
sent again when a claim lapses. Only the supervisors, by our own transport.
"""

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session, selectinload

from ...channels import Message
from ...models import User, Watch
from ...timeutil import UTC, isoformat
from ..watches.log import past_relief
from .claims import claim_untold
from .line_alerts import to_supervisor, when

EVENT = "watch.unrelieved"


def claim(session: Session, now: datetime, hours: float, lapse: timedelta, limit: int = 50) -> list[Watch]:
    """Claim up to limit open watches begun more than hours ago whose alert is not sent (or whose claim
    lapsed), the longest kept first."""
    stamps = (Watch.relief_alert_claimed_at, Watch.relief_alert_sent_at)
    unrelieved = past_relief(now, hours)
    load = selectinload(Watch.officer)
    return claim_untold(session, Watch, stamps, unrelieved, (Watch.starts_at, Watch.id), now, lapse, load, limit)


def compose(watch: Watch, hours: float, supervisor: User, public_url: str, mail_domain: str) -> Message:
    """The alert to one supervisor: the desk, its officer, since when, when relief was due, the watch page."""
    page = f"{public_url.rstrip('/')}/watches/{watch.id}"
    subject = f"WATCH UNRELIEVED: {watch.desk}"
    text = "\n".join(
        [
            f"The watch at {watch.desk} has been kept by {watch.officer.username} since {when(watch.starts_at)}, "
            f"more than {hours:g} hours, and no handover has been signed.",
            f"Relief was due {when(watch.starts_at + timedelta(hours=hours))}.",
            f"The watch: {page}",
        ]
    )
    key = f"watch-unrelieved-{watch.id}-{supervisor.id}-{watch.starts_at.astimezone(UTC):%Y%m%d%H%M%S%f}"
    facts = {"desk": watch.desk, "officer": watch.officer.username, "starts_at": isoformat(watch.starts_at)}
    return to_supervisor(supervisor, key, EVENT, subject, text, (page, "Open the watch"), mail_domain, facts)


def mark_sent(session: Session, watch_id: int, claimed_at: datetime, now: datetime) -> None:
    """The watch claimed at claimed_at was told (not if its claim lapsed and another claim took it)."""
    session.execute(
        update(Watch)
        .where(Watch.id == watch_id, Watch.relief_alert_claimed_at == claimed_at)
        .values(relief_alert_sent_at=now)
    )
