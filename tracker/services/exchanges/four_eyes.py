"""Four eyes on what leaves for the other side: one person writes a text, a second one approves it.

A message to the other side commits the State, so no text of ours goes out on one person's word:
its authors (the drafter and whoever last changed the wording) may never approve it. Approval is
given on the incident's facts as they stand (facts_digest); when those change before the text is
sent (a corrected position, a new precedence, an addition to the narrative, a field withdrawn from
release, a new marking), the approval no longer covers the text and it needs approving again.

Who may approve (Permission.EXCHANGES_APPROVE): supervisors and admins on any line; a liaison
officer on the lines they serve (a line the incident was routed to, or the exchange's counterpart
line), as a second officer of the same desk.
"""

import hashlib
import json
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Select, exists, select
from sqlalchemy.orm import Session

from ...errors import Forbidden
from ...models import Incident, User, channel_members
from ...models.permissions import Permission, may
from ...timeutil import format_dtg, isoformat
from ..incidents import amendment_record, handling

DRAFTER_REFUSED = (
    "an author of the text (its drafter, or whoever changed its wording) cannot approve it: a second person must"
)
STALE = "the incident changed since approval: approve it again"
# Texts read at a time by the approvers' queue (as many as it showed before it counted what it shows).
BATCH = 200
T = TypeVar("T")


def facts(incident: Incident) -> dict:
    """The incident's facts a text to the other side may depend on (what an approval covers)."""
    stated = {
        "occurred_at": isoformat(incident.occurred_at),
        "position": [incident.latitude, incident.longitude, incident.position_text],
        "sector": incident.sector,
        "border_distance_km": incident.border_distance_km,
        "reporting_unit": incident.reporting_unit,
        "domain": _value(incident.domain),
        "category": incident.category,
        "precedence": _value(incident.precedence),
        "risks": [_value(incident.safety_risk), _value(incident.escalation_risk)],
        "platforms": incident.platforms or [],
        "cpa": [incident.cpa_horizontal_m, incident.cpa_vertical_ft],
        "narrative": incident.narrative or "",
        "actions": incident.actions_taken or "",
        "releasability": incident.releasability or {},
        "classification": incident.classification,
        "releasable_to": sorted(incident.releasable_to or []),
    }
    # What amendments added to the narrative is narrative too (releasability.field_texts guards it so): an
    # addendum ("two drones, not one") changes what an approved text may have said. Named only when there
    # is one, so the digest of an incident without addenda is what it always was.
    if added := [entry["text"] for entry in amendment_record.addenda(incident)]:
        stated["narrative_addenda"] = added
    return stated


def facts_digest(incident: Incident) -> str:
    """A SHA-256 of facts(incident), stable across processes and databases."""
    canonical = json.dumps(facts(incident), sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def stale(approved_digest: str | None, incident: Incident) -> bool:
    """Whether the incident's facts changed since the approval given on approved_digest."""
    return approved_digest != facts_digest(incident)


def serves(session: Session, incident: Incident, user: User, channel_id: int | None) -> bool:
    """Whether the user is on a line the incident was routed to, or on the given (counterpart) line."""
    if handling.is_member_for(session, incident, user):
        return True
    return channel_id is not None and bool(
        session.scalar(
            select(exists().where(channel_members.c.channel_id == channel_id, channel_members.c.user_id == user.id))
        )
    )


def may_act(session: Session, incident: Incident, user: User, channel_id: int | None = None) -> bool:
    """Supervisors and admins; liaison staff of a line the incident was routed to, or of the counterpart line."""
    if may(user.role, Permission.EXCHANGES_TALK_ANY):
        return True
    return may(user.role, Permission.EXCHANGES_TALK) and serves(session, incident, user, channel_id)


def ensure_may_act(
    session: Session,
    incident: Incident,
    user: User,
    action: str,
    channel_id: int | None = None,
    line_named_by: str | None = None,
):
    """Refuse (403, with the reason) who may not act; line_named_by: the request's field that would have
    named the counterpart line (its exchange), said to a liaison officer who left it out."""
    if not may_act(session, incident, user, channel_id):
        details = {"needs": "supervisor, admin, or liaison member of a line notified for it or of the counterpart line"}
        if channel_id is None and line_named_by and may(user.role, Permission.EXCHANGES_TALK):
            details[line_named_by] = "give it to act as a member of the counterpart line"
        raise Forbidden(f"{user.username} ({user.role.label}) may not {action} for {incident.reference}", details)


def may_approve(session: Session, incident: Incident, user: User, channel_id: int | None) -> bool:
    """Whether the user holds the right to approve texts about this incident over this line."""
    if may(user.role, Permission.EXCHANGES_APPROVE_ANY):
        return True
    return may(user.role, Permission.EXCHANGES_APPROVE) and serves(session, incident, user, channel_id)


# A text approved by someone who has lost the right since (deactivated, or off the line their right came from).
APPROVER_GONE = (
    "{approver}, who approved it, may no longer approve texts to the other side over this line (deactivated, or no "
    "longer on it): a second person must approve it again"
)


def approval_holds(session: Session, incident: Incident, approved_by: str | None, channel_id: int | None) -> bool:
    """Whether who approved a text may still approve it: an account deactivated since, or taken off the line its
    right came from, approved a text that was then sent under their name, the second person's approval resting on
    someone no longer entitled to give it. A text approved by nobody named (never, from the pages and the API) holds."""
    if not approved_by:
        return True
    approver = session.scalar(select(User).where(User.username == approved_by))
    return approver is not None and approver.active and may_approve(session, incident, approver, channel_id)


class Approver:
    """One person judging many texts at once (the approvers' queue): each incident's facts digest and each
    (incident, line) right is worked out once, not once a text (the digest reads the incident's timeline)."""

    def __init__(self, session: Session, user: User):
        self.session, self.user = session, user
        self._digests: dict[int, str] = {}
        self._rights: dict[tuple[int, int | None], bool] = {}
        self._approvers: dict[str, User | None] = {}
        self._holds: dict[tuple[str, int, int | None], bool] = {}

    def may_approve_any(self) -> bool:
        """Whether the role may approve at all (on any line, or on those the user serves)."""
        return may(self.user.role, Permission.EXCHANGES_APPROVE_ANY) or may(
            self.user.role, Permission.EXCHANGES_APPROVE
        )

    def stale(self, approved_digest: str | None, incident: Incident) -> bool:
        if incident.id not in self._digests:
            self._digests[incident.id] = facts_digest(incident)
        return approved_digest != self._digests[incident.id]

    def may_approve(self, incident: Incident, channel_id: int | None) -> bool:
        key = (incident.id, channel_id)
        if key not in self._rights:
            self._rights[key] = may_approve(self.session, incident, self.user, channel_id)
        return self._rights[key]

    def approval_holds(self, incident: Incident, approved_by: str | None, channel_id: int | None) -> bool:
        """approval_holds, each approver read once for the queue (one statement a text, on the queue the board's
        notices poll every few seconds)."""
        if not approved_by:
            return True
        if approved_by not in self._approvers:
            self._approvers[approved_by] = self.session.scalar(select(User).where(User.username == approved_by))
        approver = self._approvers[approved_by]
        if approver is None or not approver.active:
            return False
        key = (approved_by, incident.id, channel_id)
        if key not in self._holds:
            self._holds[key] = may_approve(self.session, incident, approver, channel_id)
        return self._holds[key]


def first_waiting(session: Session, texts: Select, waits: Callable[[T], bool], limit: int) -> list[T]:
    """The first limit of texts (a select, oldest first) that waits keeps, read a batch at a time and no
    further than needed: the queue is drawn on every My queue page, and approved texts awaiting sending,
    one's own and those of other lines are read and set aside, never shown."""
    found: list[T] = []
    offset = 0
    while len(found) < limit:
        batch = session.scalars(texts.limit(BATCH).offset(offset)).all()
        found += [text for text in batch if waits(text)]
        if len(batch) < BATCH:
            break
        offset += BATCH
    return found[:limit]


def ensure_may_approve(
    session: Session, incident: Incident, user: User, channel_id: int | None, authors: set[str | None]
) -> None:
    """Refuse (403, with the reason) an author of the text, or someone without the right to approve."""
    if user.username in authors:
        raise Forbidden(DRAFTER_REFUSED, {"approver": user.username, "authors": sorted(a for a in authors if a)})
    if not may_approve(session, incident, user, channel_id):
        raise Forbidden(
            f"{user.username} ({user.role.label}) may not approve texts to the other side for {incident.reference}",
            {"needs": "supervisor, admin, or liaison member of a line notified for it or of the counterpart line"},
        )


def _value(code) -> str | None:
    return None if code is None else str(getattr(code, "value", code))


def stale_read(what: str, status: str, approved_by: str | None, approved_at) -> str:
    """Why the version of a text read is stale, with who approved it since and when where it stands approved: a
    colleague's approval alone read as "changed", and the approver looked for a change that was not there."""
    if status == "approved" and approved_by and approved_at is not None:
        return (
            f"the {what} changed since you read it (it stands approved by {approved_by} at "
            f"{format_dtg(approved_at)}): read it again"
        )
    return f"the {what} changed since you read it; read it again"
