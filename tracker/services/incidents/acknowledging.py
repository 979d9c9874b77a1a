"""Acknowledging from a list: which rows a person may acknowledge (one query for the whole list), and
"Acknowledge all mine" on My queue, each through the one acknowledge of handling.py."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from ...errors import Conflict, Forbidden, InvalidTransition
from ...models import LIVE, Incident, Notification, User
from ...models.permissions import Permission, may
from ..engine.idle import IdleRules
from . import handling, queries


@dataclass
class Acknowledged:
    """What "Acknowledge all mine" did: the references acknowledged, and those it left (handled meanwhile,
    or never in the person's queue)."""

    done: list[str] = field(default_factory=list)
    left: list[str] = field(default_factory=list)


def acknowledgeable(session: Session, user: User, incidents: Iterable[Incident]) -> set[int]:
    """The ids of the listed incidents the user may acknowledge now (the rule of handling.ensure_may_handle:
    supervisors and admins any, liaison staff those routed to a channel they belong to)."""
    live = {i.id for i in incidents if i.status in LIVE}
    if not live or not may(user.role, Permission.INCIDENTS_HANDLE):
        return set()
    if may(user.role, Permission.INCIDENTS_HANDLE_ANY):
        return live
    routed = handling.routed_to_lines_of(user).where(Notification.incident_id.in_(live))
    return set(session.scalars(routed.distinct()))


def waiting_for(session: Session, user: User) -> list[Incident]:
    """The incidents of the user's queue they may acknowledge, most urgent first (what the confirm step lists)."""
    queue = queries.queue(session, user)
    allowed = acknowledgeable(session, user, queue)
    return [i for i in queue if i.id in allowed]


def acknowledge_mine(
    session: Session,
    user: User,
    references: Iterable[str],
    now: datetime,
    note: str = "",
    idle: IdleRules | None = None,
) -> Acknowledged:
    """Acknowledge each listed incident that is still waiting in the user's queue; leave the others.

    Only what the person confirmed is acknowledged: an incident that reached the queue after the confirm
    step was shown is not in the list, and a reference that was never in the queue is left alone."""
    asked = list(dict.fromkeys(r.strip().upper() for r in references if r.strip()))
    waiting = {i.reference: i for i in waiting_for(session, user)}
    outcome = Acknowledged()
    for reference in asked:
        if reference not in waiting:
            outcome.left.append(reference)
            continue
        try:
            # The status is checked before anything is written, so a refusal leaves this incident untouched.
            handling.acknowledge(session, reference, user, now, note, idle)
        except (InvalidTransition, Conflict, Forbidden):
            outcome.left.append(reference)
        else:
            outcome.done.append(reference)
    return outcome
