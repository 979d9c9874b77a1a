"""What liaison staff and supervisors do with an incident: acknowledge, comment, resolve."""

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Select, exists, select, update
from sqlalchemy.orm import Session

from ...channels import withheld
from ...errors import Conflict, Forbidden, NotFound, ValidationError
from ...models import (
    LIVE,
    ContactChannel,
    EventKind,
    Incident,
    IncidentStatus,
    Notification,
    NotificationKind,
    User,
    channel_members,
)
from ...models.permissions import Permission, may
from ..engine import links, notify, sides
from ..engine.idle import IdleRules
from . import timeline

COMMENT_MAX_LENGTH = 4000
# Acknowledging or resolving ends a question put to the supervisors (its unsent asks are cancelled too).
NO_DECISION = {"decision_step": None, "decision_asked_at": None, "decision_asks": 0}
_RETRIES = 5


def get_incident(session: Session, reference: str, loads: tuple = ()) -> Incident:
    """The incident of the reference (404 if unknown); loads: loader options for what the caller shows."""
    incident = session.scalar(select(Incident).where(Incident.reference == reference.upper()).options(*loads))
    if incident is None:
        raise NotFound(f"no incident {reference!r}", {"reference": reference})
    return incident


def is_member_for(session: Session, incident: Incident, user: User) -> bool:
    """True when the user belongs to one of our lines the incident was routed to. A counterpart line
    it was talked about on gives no right over the incident: those who serve only that line are
    staff of the exchange (four_eyes), not of the incident."""
    return bool(
        session.scalar(
            select(
                exists().where(
                    Notification.incident_id == incident.id,
                    Notification.kind != NotificationKind.COUNTERPART,
                    Notification.channel_id == channel_members.c.channel_id,
                    channel_members.c.user_id == user.id,
                    ContactChannel.id == Notification.channel_id,
                    ContactChannel.counterpart_line.is_(False),
                )
            )
        )
    )


def routed_to_lines_of(user: User) -> Select:
    """The ids of the incidents routed to one of our lines the user is on (is_member_for, for many at once): a
    counterpart line the user serves, and the texts to the other side over it, put our incident in their queue with an
    Acknowledge they were refused."""
    ours = (
        select(channel_members.c.channel_id)
        .join(ContactChannel, ContactChannel.id == channel_members.c.channel_id)
        .where(channel_members.c.user_id == user.id, ContactChannel.counterpart_line.is_(False))
    )
    return select(Notification.incident_id).where(
        Notification.channel_id.in_(ours), Notification.kind != NotificationKind.COUNTERPART
    )


def ensure_may_handle(session: Session, incident: Incident, user: User, action: str) -> None:
    """Supervisors and admins handle any incident; liaison staff those routed to their channels."""
    if may(user.role, Permission.INCIDENTS_HANDLE_ANY):
        return
    if may(user.role, Permission.INCIDENTS_HANDLE) and is_member_for(session, incident, user):
        return
    raise Forbidden(
        f"{user.username} ({user.role.label}) may not {action} {incident.reference}",
        {"needs": "supervisor, admin, or liaison member of a channel notified for this incident"},
    )


def _compare_and_set(session: Session, incident: Incident, allowed, values: dict, check) -> IncidentStatus:
    """Apply values to the incident if nobody changed it since it was read (version column); return
    the status it had until then.

    When a sweep escalated it meanwhile, read it again and re-check; an acknowledgement that
    commits first means the sweep's claim no longer matches, and the reverse order is safe too.
    """
    for _ in range(_RETRIES):
        check()
        before = incident.status  # what the version the UPDATE matches says
        result = cast(
            CursorResult[Any],  # what an UPDATE returns (Session.execute is typed for SELECT)
            session.execute(
                update(Incident)
                .where(Incident.id == incident.id, Incident.version == incident.version, Incident.status.in_(allowed))
                .values(version=Incident.version + 1, **values),
                execution_options={"synchronize_session": False},
            ),
        )
        if result.rowcount == 1:
            session.refresh(incident)
            return before
        session.refresh(incident)
    raise Conflict(f"{incident.reference} kept changing; try again", {"version": incident.version})


def acknowledge(
    session: Session, reference: str, user: User, now: datetime, note: str = "", idle: IdleRules | None = None
) -> Incident:
    """Stop the escalation: record who acknowledged, cancel unsent messages, tell the notified lines;
    the acknowledgement timeout (idle: the deployment's ACK_TIMEOUT_SECONDS) starts."""
    incident = get_incident(session, reference)
    ensure_may_handle(session, incident, user, "acknowledge")
    return _acknowledge(session, incident, user.username, user.id, now, note, idle or IdleRules())


def link_target(session: Session, claims: dict) -> tuple[Incident, ContactChannel]:
    """The incident and channel an acknowledgement link is bound to, or LinkRefused("foreign")."""
    incident = session.get(Incident, claims["incident"])
    channel = session.get(ContactChannel, claims["channel"])
    if (
        incident is None
        or channel is None
        or not session.scalar(
            select(exists().where(Notification.incident_id == incident.id, Notification.channel_id == channel.id))
        )
    ):
        raise links.LinkRefused("foreign", "This link does not belong to a line this incident was routed to.")
    if not links.made_for(claims, channel.address):
        # Sent to the line's address before it changed: whoever holds that mailbox now is not the line. Said as
        # it is, not as a link of a line the incident was never routed to.
        raise links.LinkRefused(
            "readdressed",
            "This link was sent to an address the line no longer has: it acknowledges nothing now. "
            "Sign in to acknowledge.",
            {"channel": channel.name},
        )
    if channel.counterpart_line or sides.crossing(session, channel):
        # Only our own staff acknowledge our incidents: the other side confirms receipt, never more (nor
        # through an internal line that was given a counterpart line's address).
        raise links.LinkRefused(
            "counterpart",
            "This link was made for a line to the other side: it cannot acknowledge our incident.",
            {"channel": channel.name},
        )
    if not channel.active:
        # A deactivated line carries nothing more of ours (a desk closed, a mailbox no longer ours): what it
        # was sent before no longer stops our ladder. Its staff acknowledge signed in.
        raise links.LinkRefused(
            "inactive",
            "This link was made for a line that has been deactivated since: it acknowledges nothing now. "
            "Sign in to acknowledge.",
            {"channel": channel.name},
        )
    return incident, channel


def acknowledge_by_link(session: Session, claims: dict, now: datetime, idle: IdleRules | None = None) -> Incident:
    """Acknowledge on behalf of the channel recipient a signed link was made for."""
    incident, channel = link_target(session, claims)
    # Shown to everyone and told to the other lines: a webhook's or Apprise URL's secret is withheld.
    label = f"{channel.name} <{withheld(channel.transport, channel.address)}> (signed link)"
    links.spend(session, claims, "ack", label, now)
    note = "acknowledged from the message"
    return _acknowledge(session, incident, label, None, now, note, idle or IdleRules(), channel)


def _acknowledge(
    session: Session,
    incident: Incident,
    label: str,
    user_id: int | None,
    now: datetime,
    note: str,
    idle: IdleRules,
    channel: ContactChannel | None = None,
):
    values = {
        "status": IncidentStatus.ACKNOWLEDGED,
        "acknowledged_at": now,
        "acknowledged_by_id": user_id,
        "acknowledged_by_label": label,
        "next_escalation_at": None,
        # Someone owns it now: the acknowledgement timeout starts (services.engine.idle), and a question
        # put to the supervisors about the next step is answered (services.engine.decisions).
        "idle_check_at": now + idle.timeout(incident.precedence),
        "idle_stage": 0,
        **NO_DECISION,
    }
    before = _compare_and_set(session, incident, LIVE, values, incident.ensure_can_acknowledge)
    cancelled = notify.cancel_pending(session, incident.id, f"acknowledged by {label}")
    told = notify.announce(session, incident, NotificationKind.ACKNOWLEDGED, now)
    supervisors = _close_exhaustion(session, incident, before, NotificationKind.ACKNOWLEDGED, now)
    timeline.record(
        session,
        incident,
        EventKind.ACKNOWLEDGED,
        label,
        now,
        step=incident.current_step,
        loop=incident.loop,
        note=note,
        cancelled_messages=cancelled,
        told=[c.name for c in told],
        # Supervisors told the exhausted incident is now acknowledged (notify.close_exhaustion).
        **({"supervisors": supervisors} if supervisors else {}),
        # The line a signed link was made for: an idle reminder goes to it (services.engine.idle).
        **({"channel_id": channel.id} if channel is not None else {}),
    )
    session.flush()
    return incident


def resolve(session: Session, reference: str, user: User, now: datetime, resolution: str) -> Incident:
    """Close the incident with a resolution text; any running escalation stops."""
    resolution = resolution.strip()
    if not resolution:
        raise ValidationError("a resolution text is required", {"resolution": "must not be blank"})
    incident = get_incident(session, reference)
    ensure_may_handle(session, incident, user, "resolve")
    values = {
        "status": IncidentStatus.RESOLVED,
        "resolved_at": now,
        "resolved_by_id": user.id,
        "resolution": resolution,
        "next_escalation_at": None,
        "idle_check_at": None,
        "idle_stage": 0,
        **NO_DECISION,
    }
    open_states = (*LIVE, IncidentStatus.ACKNOWLEDGED)
    before = _compare_and_set(session, incident, open_states, values, incident.ensure_can_resolve)
    cancelled = notify.cancel_pending(session, incident.id, f"resolved by {user.username}")
    told = notify.announce(session, incident, NotificationKind.RESOLVED, now)
    supervisors = _close_exhaustion(session, incident, before, NotificationKind.RESOLVED, now)
    timeline.record(
        session,
        incident,
        EventKind.RESOLVED,
        user.username,
        now,
        resolution=resolution,
        cancelled_messages=cancelled,
        told=[c.name for c in told],
        **({"supervisors": supervisors} if supervisors else {}),
    )
    session.flush()
    return incident


def _close_exhaustion(
    session: Session, incident: Incident, before: IncidentStatus, kind: NotificationKind, now: datetime
) -> list[str]:
    """When the incident leaves EXHAUSTED, tell the supervisors who were told it was (notify.close_exhaustion);
    return their usernames."""
    if before is not IncidentStatus.EXHAUSTED:
        return []
    return [u.username for u in notify.close_exhaustion(session, incident, kind, now)]


def comment(session: Session, reference: str, user: User, now: datetime, text: str):
    """Add a comment to the timeline; any signed-in role may comment."""
    text = text.strip()
    if not text or len(text) > COMMENT_MAX_LENGTH:
        raise ValidationError(f"a comment is 1-{COMMENT_MAX_LENGTH} characters", {"text": "blank or too long"})
    incident = get_incident(session, reference)
    event = timeline.record(session, incident, EventKind.COMMENTED, user.username, now, text=text)
    session.flush()
    return event
