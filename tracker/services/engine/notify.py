"""Write outbox rows for a ladder step or for the supervisors, each rendered once as it is queued
(rendering.py), and cancel them."""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from ...models import (
    ChannelHealth,
    ContactChannel,
    EventKind,
    Incident,
    Notification,
    NotificationKind,
    NotificationStatus,
    Role,
    User,
)
from ..incidents import timeline
from . import sides
from .links import AckLinks
from .rendering import OutboxRow, render_incident_message

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Recipients:
    """Who can be messaged right now: active channels and active supervisors, and the tracker's
    public address (PUBLIC_URL) that the supervisors' messages link the incident page on ("": none).

    Loaded once per filing or per sweep batch, so advancing many incidents costs no query each.
    """

    channels: dict[int, ContactChannel]
    supervisors: list[User]
    public_url: str = ""

    def page_of(self, incident: Incident) -> str | None:
        """The incident page's absolute address, or None without a public address."""
        return f"{self.public_url.rstrip('/')}/incidents/{incident.reference}" if self.public_url else None

    def usable(self, entry: dict | None) -> ContactChannel | None:
        """The channel of a ladder entry if it is active, not down and one of ours, else None. A line on a
        running ladder's snapshot may have become a counterpart line since (ladder.save_channel looks at the
        policies only): our calls to act never go to the other side (sides.wrong_line would refuse them)."""
        channel = self.channels.get(entry["id"]) if entry else None
        if channel is None or channel.health is ChannelHealth.DOWN or channel.counterpart_line:
            return None
        return channel

    def why_unusable(self, entry: dict) -> str:
        channel = self.channels.get(entry["id"])
        if channel is None:
            return "inactive or deleted"
        return "a counterpart line now" if channel.counterpart_line else "down"

    @classmethod
    def load(cls, session: Session, public_url: str = "") -> "Recipients":
        channels = session.scalars(select(ContactChannel).where(ContactChannel.active.is_(True))).all()
        return cls({c.id: c for c in channels}, active_supervisors(session), public_url)

    @classmethod
    def for_step(cls, session: Session, step: dict) -> "Recipients":
        """Only the active channels of one step (filing needs no more)."""
        channels = session.scalars(
            select(ContactChannel).where(ContactChannel.id.in_(step_channel_ids(step)), ContactChannel.active.is_(True))
        ).all()
        return cls({c.id: c for c in channels}, [])


def active_supervisors(session: Session) -> list[User]:
    """Every active supervisor, by username, whom the supervisors' messages and alerts go to; but not one whose
    mailbox is a counterpart line's address or in its domain (sides.theirs): our alerts never go to the other
    side. Such a mailbox is refused when a user is made (people.create_user); one made before that check is
    passed over here, and the log says whom to mend (delivery refuses a message queued for one before).

    With no supervisor left to tell (the last one deactivated), the active admins are told instead, who hold
    every right a supervisor has: an exhausted incident, a step waiting for a decision or a dead letter reached
    nobody, its timeline saying "supervisors: []" while /health said ok. The log says so each time."""
    told = reachable(session, Role.SUPERVISOR)
    if told:
        return told
    admins = reachable(session, Role.ADMIN)
    log.warning(
        "no active supervisor can be told: the supervisors' messages go to the %s instead; activate or create a "
        "supervisor (flask --app wsgi user create NAME --role supervisor)",
        f"{len(admins)} active admin(s)" if admins else "nobody: no active admin either",
    )
    return admins


def reachable(session: Session, role: Role, quiet: bool = False) -> list[User]:
    """The active users of role, by username, but for those whose mailbox is the other side's (active_supervisors);
    quiet: without the warning of each passed over (/health asks at every poll: heartbeat.supervisors_state)."""
    query = select(User).where(User.role == role, User.active.is_(True)).order_by(User.username)
    people = list(session.scalars(query))
    if not people:
        return people
    reach = sides.their_reach(session)  # a mailbox is the username where no e-mail address is given (sides.mailbox)
    crossing = [person for person in people if sides.theirs(sides.mailbox(person.email, person.username), reach)]
    for person in [] if quiet else crossing:
        log.warning(
            "%s %s is not told: their %s goes where a counterpart line goes (the other side); "
            "give them an e-mail address of our side",
            role.value,
            person.username,
            "e-mail address" if person.email else "username (they have no e-mail address, and are sent to by name)",
        )
    return [person for person in people if person not in crossing]


def step_channel_ids(step: dict) -> list[int]:
    """The ids of a ladder step's channels and of its fallback, if it has one."""
    return [c["id"] for c in step["channels"]] + ([step["fallback"]["id"]] if step.get("fallback") else [])


def step_deadline(step: dict, recipients: Recipients, now: datetime) -> datetime:
    """When a step entered now is due, as enter_step sets it: after its ack_seconds if any of its lines
    (or its fallback) is usable, else at once. Filing stores a new incident with it in one INSERT."""
    fallback = recipients.usable(step.get("fallback"))
    reachable = fallback is not None or any(recipients.usable(entry) for entry in step["channels"])
    return now + timedelta(seconds=step["ack_seconds"]) if reachable else now


def enter_step(
    session: Session,
    incident: Incident,
    kind: NotificationKind,
    now: datetime,
    recipients: Recipients,
    links: AckLinks,
    facts: dict | None = None,
) -> list[ContactChannel]:
    """Set the current step's deadline and queue one call to act, with its signed acknowledge link,
    per usable channel; return those. facts are what the messages say beyond the incident (why the
    step is entered again, who decided it: rendering.render_incident_message).

    A channel that is down or inactive is replaced by the step's fallback channel, if that one is
    usable (and the timeline says so). A step left with no usable channel gets no messages and is
    due at once: a step whose channel is down should not wait out its timer.
    """
    step = incident.step
    _set(incident, "step_channels", [entry["name"] for entry in step["channels"]])
    fallback = recipients.usable(step.get("fallback"))
    channels: list[ContactChannel] = []

    def fall_back(fallback: ContactChannel, skipped: str, reason: str) -> ContactChannel:
        step_and_loop = {"step": incident.current_step, "loop": incident.loop}
        facts = {"skipped": skipped, "reason": reason, "fallback": fallback.name}
        timeline.note(session, incident, EventKind.FALLBACK, "router", now, **step_and_loop, **facts)
        return fallback

    for entry in step["channels"]:
        channel = recipients.usable(entry)
        if channel is None and fallback is not None:
            channel = fall_back(fallback, entry["name"], recipients.why_unusable(entry))
        if channel is not None and channel not in channels:
            channels.append(channel)
    if not step["channels"] and fallback is not None:
        # Every line of the step was inactive when the ladder was copied (routing.snapshot_ladder leaves them
        # out): the fallback stands in for them, as for a line inactive now, and step_deadline gives it the time.
        channels.append(fall_back(fallback, "every line of the step", "inactive when the incident was filed"))
    _set(incident, "next_escalation_at", step_deadline(step, recipients, now))
    _queue(session, incident, kind, now, [{"channel": c} for c in channels], links=links, facts=facts)
    return channels


def called_lines(session: Session, incident: Incident) -> list[ContactChannel]:
    """The active lines called on the incident's current step and round (a call to act queued or sent)."""
    called = select(Notification.channel_id).where(
        Notification.incident_id == incident.id,
        Notification.kind.in_((NotificationKind.NOTIFIED, NotificationKind.ESCALATED)),
        Notification.step == incident.current_step,
        Notification.loop == incident.loop,
        Notification.status.in_((NotificationStatus.PENDING, NotificationStatus.SENDING, NotificationStatus.SENT)),
    )
    return list(
        session.scalars(
            select(ContactChannel)
            .where(ContactChannel.id.in_(called), ContactChannel.active.is_(True))
            .order_by(ContactChannel.level, ContactChannel.name)
        )
    )


def tell_upgrade(
    session: Session,
    incident: Incident,
    channels: list[ContactChannel],
    now: datetime,
    links: AckLinks,
    key: int,
    upgrade: dict,
) -> None:
    """Tell the lines called on the current step (called_lines), by a call to act with its own signed link,
    that the incident's precedence was raised (upgrade: by, at, was) and by when it must now be
    acknowledged: they were told the earlier deadline, which the raise may have brought forward. key (the
    amended version) keeps one raise's messages apart from another's on the same step."""
    targets = [{"channel": c} for c in channels]
    facts = {"upgrade": upgrade}
    _queue(session, incident, NotificationKind.UPGRADED, now, targets, loop=key, links=links, facts=facts)


def _set(incident: Incident, name: str, value: object) -> None:
    """Set an attribute unless it holds the value already: a filing stores both with its INSERT, and an
    incident left unchanged costs its transaction no flush."""
    if getattr(incident, name) != value:
        setattr(incident, name, value)


def announce(session: Session, incident: Incident, kind: NotificationKind, now: datetime) -> list[ContactChannel]:
    """Tell every channel that was (or is being) sent a message about the incident, e.g. who acknowledged."""
    # IN (subquery), not JOIN ... DISTINCT: a channel's JSON column (receipt_seconds) has no equality
    # operator on PostgreSQL, so SELECT DISTINCT over the channel's columns fails there.
    sent_to = select(Notification.channel_id).where(
        Notification.incident_id == incident.id,
        Notification.status.in_((NotificationStatus.SENT, NotificationStatus.SENDING)),
    )
    reached = session.scalars(
        select(ContactChannel)
        .where(
            ContactChannel.id.in_(sent_to),
            # The other side hears only what our liaison approved, never our own incident messages.
            ContactChannel.counterpart_line.is_(False),
        )
        .order_by(ContactChannel.level, ContactChannel.name)
    ).all()
    _queue(session, incident, kind, now, [{"channel": c} for c in reached])
    return list(reached)


def enqueue_supervisors(
    session: Session,
    incident: Incident,
    kind: NotificationKind,
    now: datetime,
    recipients: Recipients,
    step: int | None = None,
    loop: int | None = None,
    facts: dict | None = None,
    about: Notification | None = None,
) -> list[User]:
    """Queue one message to every active supervisor (about the current step unless told otherwise);
    facts are what the message says beyond the incident (rendering.render_incident_message). Each
    carries the incident page's address, unless a fact brings its own (a decision asked). A dead letter
    names the message given up on (about): the supervisors hear of each."""
    _queue(
        session,
        incident,
        kind,
        now,
        [{"user": u} | ({"about_id": about.id} if about is not None else {}) for u in recipients.supervisors],
        step,
        loop,
        facts=_with_page(facts, recipients.page_of(incident)),
    )
    return recipients.supervisors


def _with_page(facts: dict | None, page: str | None) -> dict | None:
    """facts with the incident page's address as the "page" fact, unless one of them has a url already."""
    facts = facts or {}
    if page is None or any(isinstance(fact, dict) and fact.get("url") for fact in facts.values()):
        return facts
    return {**facts, "page": {"url": page}}


def close_exhaustion(session: Session, incident: Incident, kind: NotificationKind, now: datetime) -> list[User]:
    """Tell the supervisors who were sent the EXHAUSTED message of the incident's current round that it
    is now acknowledged or resolved (kind): the loop their "action needed" opened is closed.

    Called when an incident leaves EXHAUSTED. Its rows take the (step, loop) of that EXHAUSTED round,
    which no other exhaustion ever has (a re-escalation starts a new loop: engine/idle.py), and the
    incident leaves each exhaustion once; a user who has such a row already is skipped all the same.
    They link the incident page the EXHAUSTED message linked (its "page" in the stored payload).
    """
    told = session.scalars(
        select(Notification).where(
            Notification.incident_id == incident.id,
            Notification.kind == NotificationKind.EXHAUSTED,
            Notification.step == incident.current_step,
            Notification.loop == incident.loop,
            Notification.user_id.is_not(None),
            Notification.status.in_((NotificationStatus.SENT, NotificationStatus.SENDING)),
        )
    ).all()
    already = set(
        session.scalars(
            select(Notification.user_id).where(
                Notification.incident_id == incident.id,
                Notification.kind == kind,
                Notification.step == incident.current_step,
                Notification.loop == incident.loop,
                Notification.user_id.is_not(None),
            )
        )
    )
    users = [row.user for row in told if row.user is not None and row.user_id not in already]
    page = next((row.payload.get("page") for row in told if row.payload and row.payload.get("page")), None)
    _queue(session, incident, kind, now, [{"user": u} for u in users], facts=_with_page({}, page))
    return users


def enqueue(
    session: Session,
    incident: Incident,
    kind: NotificationKind,
    now: datetime,
    *,
    users: list[User] | tuple = (),
    channels: list[ContactChannel] | tuple = (),
    step: int | None = None,
    loop: int | None = None,
    facts: dict | None = None,
) -> None:
    """Queue one message of kind, without an acknowledge link, to each user and each channel given
    (a reminder to whoever acknowledged); step and loop keep repeated messages apart in the outbox."""
    targets = [{"user": u} for u in users] + [{"channel": c} for c in channels]
    _queue(session, incident, kind, now, targets, step, loop, facts=facts)


def _queue(
    session: Session,
    incident: Incident,
    kind: NotificationKind,
    now: datetime,
    targets: list[dict],
    step: int | None = None,
    loop: int | None = None,
    links: AckLinks | None = None,
    facts: dict | None = None,
) -> None:
    """Add one rendered row per target; with links, each channel's row carries its acknowledge link."""
    step = incident.current_step if step is None else step
    loop = incident.loop if loop is None else loop
    if links is not None and targets and incident.id is None:
        session.flush()  # a signed link names the incident: a new one needs its id
    in_bulk = timeline.bulk_rows(session, Notification)
    if in_bulk is not None:  # a sweep batch: plain rows, written with the batch's others
        for target in targets:
            channel = target.get("channel")
            ack = links.issue(incident.id, channel.id, channel.address, now) if links is not None and channel else None
            outbox = OutboxRow(incident, kind, step, loop, **target)
            render_incident_message(outbox, now, ack, **(facts or {}))
            in_bulk.append(outbox.values(now))
        return
    for target in targets:
        channel = target.get("channel")
        ack = links.issue(incident.id, channel.id, channel.address, now) if links is not None and channel else None
        # Rendering may load the incident's people; the row must not be flushed before it is complete.
        with session.no_autoflush:
            row = Notification(
                incident=incident, kind=kind, step=step, loop=loop, created_at=now, next_attempt_at=now, **target
            )
            render_incident_message(row, now, ack, **(facts or {}))
        session.add(row)


# Messages about the exchange with the other side: it outlives the incident's own handling.
EXCHANGE_KINDS = (NotificationKind.COUNTERPART, NotificationKind.EXCHANGE_OVERDUE, NotificationKind.ACTION_OVERDUE)


CALLS_TO_ACT = tuple(kind for kind in NotificationKind if kind.calls_for_action)


def lines_called(session: Session, incident: Incident) -> list[dict]:
    """Each step of the incident's ladder with the lines that were called on it (a message asking them to
    acknowledge was queued) and those of the step that never were (a counterpart line, a line down or inactive
    with no fallback, passed over): what its exhaustion tells the supervisors, who otherwise read every line of
    the ladder as called and silent."""
    called: dict[int, list[str]] = {}
    rows = session.execute(
        select(Notification.step, ContactChannel.name)
        .join(ContactChannel, ContactChannel.id == Notification.channel_id)
        .where(Notification.incident_id == incident.id, Notification.kind.in_(CALLS_TO_ACT))
        .order_by(Notification.step, Notification.id)
    )
    for step, name in rows:
        names = called.setdefault(step, [])
        if name not in names:
            names.append(name)
    return [
        {
            "step": number,
            "called": called.get(number, []),
            "passed_over": [c["name"] for c in step["channels"] if c["name"] not in called.get(number, [])],
        }
        for number, step in enumerate(incident.steps, start=1)
    ]


def skipped(incident: Incident, channels: list[ContactChannel]) -> list[str]:
    """The current step's channels that enter_step sent nothing to (down or inactive, no fallback)."""
    sent = {c.id for c in channels}
    return [c["name"] for c in incident.step["channels"] if c["id"] not in sent]


def cancel_pending(
    session: Session, incident_id: int, reason: str, kinds: tuple[NotificationKind, ...] | None = None
) -> int:
    """Cancel the incident's messages not yet handed to a transport (but not those of an exchange with
    the other side, which may stay open after the incident is resolved), or only those of the kinds
    given; return how many."""
    only = Notification.kind.in_(kinds) if kinds is not None else Notification.kind.not_in(EXCHANGE_KINDS)
    result = cast(
        CursorResult[Any],  # what an UPDATE returns (Session.execute is typed for SELECT)
        session.execute(
            update(Notification)
            .where(
                Notification.incident_id == incident_id,
                Notification.status == NotificationStatus.PENDING,
                only,
            )
            .values(status=NotificationStatus.CANCELLED, last_error=reason),
            execution_options={"synchronize_session": False},
        ),
    )
    return result.rowcount
