"""Our side and the other side: whether an address of one reaches the other (channels.reaches: the address, an
e-mail address's domain, a URL's host). Our ladders, alerts and one-click links never go to the other side, and
nothing of theirs comes to our desks: a line, a user's mailbox or a link is judged here wherever that is decided."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...channels import reaches
from ...models import ContactChannel, User


def crossing(session: Session, channel: ContactChannel) -> dict | None:
    """Why the line's address would join our side and the other's, or None: an internal line at a
    counterpart line's address (or, for e-mail, its domain) would take our alerts and their one-click
    acknowledge links to the other side; a counterpart line at one of our desks, or at one of our users'
    mailboxes (the supervisors' messages go there), the reverse."""
    with session.no_autoflush:
        others = session.execute(
            select(ContactChannel.name, ContactChannel.address).where(
                ContactChannel.counterpart_line.is_(not channel.counterpart_line),
                ContactChannel.id.is_distinct_from(channel.id),
            )
        ).all()
        mailboxes = (
            [(name, mailbox(email, name)) for name, email in session.execute(select(User.username, User.email))]
            if channel.counterpart_line
            else []
        )
    mine = reaches(channel.address)
    for name, address in others:
        if mine & reaches(address):
            side = "a counterpart line" if not channel.counterpart_line else "our internal line"
            return {"address": f"{channel.address} is where {side} {name!r} goes ({address})"}
    for username, email in mailboxes:
        if mine & reaches(email):
            return {"address": f"{channel.address} is where our user {username!r} gets our messages ({email})"}
    return None


def their_line_at(session: Session, address: str) -> ContactChannel | None:
    """The counterpart line at this address or its domain (as crossing judges a line's address), or None."""
    mine = reaches(address)
    lines = session.scalars(select(ContactChannel).where(ContactChannel.counterpart_line.is_(True)))
    return next((line for line in lines if mine & reaches(line.address)), None)


def their_reach(session: Session) -> set[str]:
    """What every counterpart line's address reaches (the address, its domain, its host)."""
    addresses = session.scalars(select(ContactChannel.address).where(ContactChannel.counterpart_line.is_(True)))
    return set().union(*(reaches(address) for address in addresses))


def mailbox(email: str | None, username: str) -> str:
    """Where our messages to a user go: their e-mail address, else their username (a supervisor with no mailbox
    is sent to at it: delivery.Composer.compose, line_alerts.compose). Judge this, never the e-mail alone."""
    return email or username


def theirs(address: str | None, reach: set[str]) -> bool:
    """Whether the address (a supervisor's mailbox) reaches where a counterpart line goes (reach: their_reach)."""
    return bool(address) and bool(reaches(address) & reach)
