"""Our side and the other side: whether an address of one reaches the other (channels.reaches: the address, an
e-mail address's domain, a URL's host). Our ladders, alerts and one-click links never go to the other side, and
nothing of theirs comes to our desks: a line, a user's mailbox or a link is judged here wherever that is decided."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...channels import joined, reaches
from ...models import ContactChannel, Notification, NotificationKind, User


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
        if joined(mine, reaches(address)):
            side = "a counterpart line" if not channel.counterpart_line else "our internal line"
            return {"address": f"{channel.address} is where {side} {name!r} goes ({address})"}
    for username, email in mailboxes:
        if joined(mine, reaches(email)):
            return {"address": f"{channel.address} is where our user {username!r} gets our messages ({email})"}
    return None


def their_line_at(session: Session, address: str) -> ContactChannel | None:
    """The counterpart line at this address or its domain (as crossing judges a line's address), or None."""
    mine = reaches(address)
    lines = session.scalars(select(ContactChannel).where(ContactChannel.counterpart_line.is_(True)))
    return next((line for line in lines if joined(mine, reaches(line.address))), None)


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
    return bool(address) and joined(reaches(address), reach)


# -- what delivery refuses to send -----------------------------------------------------------


def wrong_line(row: Notification) -> str | None:
    """Why the row may not go over its line, or None. Our ladders, alerts and reports carry internal
    details and a one-click acknowledge link: they never go to the other side; and a message to the
    other side never goes to one of our own desks. The policy pages refuse such a ladder already
    (ladder._build_steps); this guard holds even for a row that got into the outbox some other way."""
    channel = row.channel
    if channel is None:
        return None
    if row.kind is not NotificationKind.COUNTERPART and channel.counterpart_line:
        return (
            f"internal message kind {row.kind.value} refused on counterpart line {channel.name}: "
            "ladders, alerts and reports never go to the other side"
        )
    if row.kind is NotificationKind.COUNTERPART and not channel.counterpart_line:
        return (
            f"message to the other side refused on internal line {channel.name}: "
            "counterpart messages go over counterpart lines only"
        )
    return None


def wrong_reach(row: Notification, crossing_ids: set[int]) -> str | None:
    """Why a message of ours may not go over its internal line, or None: the line goes where a counterpart line
    goes (crossing_ids: the ids of such lines, judged by theirs), as a line made before ladder.save_channel compared the
    lines may. Its acknowledge link would be refused (handling.link_target); its text must not go either."""
    channel = row.channel
    if channel is None or row.kind is NotificationKind.COUNTERPART or channel.id not in crossing_ids:
        return None
    return (
        f"internal message kind {row.kind.value} refused on line {channel.name}: its address goes where a "
        "counterpart line goes; ladders, alerts and reports never go to the other side"
    )


def wrong_mailbox(row: Notification, reach: set[str]) -> str | None:
    """Why a message to a supervisor may not go to their mailbox, or None: it goes where a counterpart line goes
    (reach: their_reach). Such a user is passed over when messages are queued (notify.active_supervisors);
    this holds for one queued before, or made before people.create_user refused such an address."""
    user = row.user
    if user is None or not theirs(mailbox(user.email, user.username), reach):
        return None
    return (
        f"message to supervisor {user.username} refused: their e-mail address goes where a counterpart line goes; "
        "ladders, alerts and reports never go to the other side"
    )
