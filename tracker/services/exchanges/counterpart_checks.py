"""A line check over a counterpart line: the other side answers on the line, never in our tracker.

A check of one of our own desks carries a link into the tracker to confirm it (engine/line_checks.py).
The other side has no business in our tracker, so a check to them is a formatted message like any
other over that line (message_format.compose_check: header, the line's next serial of the year, the
request in both languages) asking for an answer on the line itself, by reply message or by voice; the
operator then logs that answer (line_checks.record_answer).
"""

from datetime import datetime

from sqlalchemy.orm import Session

from ...channels import Message
from ...models import ChannelCheck
from ...timeutil import isoformat
from ..engine import message_text
from ..engine.delivery import counterpart_key
from . import message_format, outgoing


def compose(session: Session, check: ChannelCheck, settings: outgoing.Settings, mail_domain: str) -> Message:
    """Number the check in the line's serial series (in the caller's transaction, as release numbers a
    message) and build its formatted message: no link, no acknowledge token."""
    channel = check.channel
    now: datetime = check.sent_at
    check.serial_year = now.year
    check.serial = outgoing.next_serial(session, channel.id, now.year)
    formatted = message_format.compose_check(check, settings, now)
    # As a message's to them (delivery.counterpart_key): by the serial they read on it, never our check's id.
    key = counterpart_key(check.serial, check.serial_year, check.sent_at)
    serial = message_format.serial_text(check.serial, check.serial_year)
    return Message(
        key=key,
        event="channel.check",
        recipient=channel.their_end,  # the e-mail's To name, the outbox file's: never our name of the line
        address=channel.address,
        subject=formatted.subject,
        text=formatted.text,
        html=message_text.html(
            formatted.subject, formatted.text, parts=message_format.parts_by_language(formatted.text, channel.language)
        ),
        message_id=f"<{key}@{mail_domain}>",
        secret=channel.secret,
        payload={
            "event": "channel.check",
            "idempotency_key": key,
            "channel": channel.seen_by_them(settings.our_station),
            "serial": serial,
            "subject": formatted.subject,
            "text": formatted.text,
            "due_by": isoformat(check.due_by),
            "answer": "on this line, by reply message or by voice, quoting the serial",
        },
    )
