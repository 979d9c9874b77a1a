"""Amend a filed incident: correct its facts, recorded as one timeline event with each fact before and after.

Who: supervisors and admins on any incident; liaison staff on incidents routed to a line of theirs; a
duty officer on the incidents they filed, and on every incident while they keep the watch (the officer of
the open Watch row). Lowering the precedence takes a supervisor (Permission.INCIDENTS_DOWNGRADE).

The amendment names the version of the incident its author read. The version moves with every step of the
incident's handling (an escalation, an acknowledgement, a deadline), none of which changes a fact: only an
amendment made since that version (its event names the version it amended) answers 409, with the facts as
they stand now, as does a version the incident never had. An incident escalating every few minutes would
otherwise refuse every correction written in between. The row is then claimed for the rest of the
transaction by a conditional UPDATE matching the version just read, so the sweep cannot move it between the
check and the change.

What follows from the facts changed:
- position: the distance to the border, located as filing does, and the sector when it was derived from the
  position (a sector given by hand stays unless the amendment gives one; filing.sector_was_given);
- precedence: the ladder snapshot's steps that take their time from the precedence take the new window,
  and an open incident whose current step does gets min(deadline, now + new window): an upgrade shortens
  the running deadline at once, nothing lengthens it; a raise on an open incident is told to the lines
  called on its current step (PRECEDENCE RAISED: the new deadline, and a signed link of their own);
- routing facts: a preview of the rule and policy routing would choose now beside the running ones (the
  running ladder is never moved);
- time, position, category: the exercise link and the "no notice" flag are settled again, as at filing, and
  the related incidents are looked for again (related.suggest_again: suggestions measured for where and when
  it was are withdrawn or measured anew, those now near are suggested; links already decided stay);
- facts a text to the other side states (four_eyes.facts): texts approved on the facts as they were need
  approving again, and the event names them.
The narrative is never overwritten: an addendum is kept in the event and shown under it. An amendment
that changes nothing is refused (422), so the timeline never holds an empty one.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, and_, exists, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from ...errors import Conflict, Forbidden, NotFound, ValidationError
from ...models import (
    EventKind,
    Incident,
    IncidentStatus,
    Precedence,
    Role,
    TimelineEvent,
    User,
    Watch,
)
from ...models.permissions import Permission, holders, may
from ...timeutil import isoformat
from ..engine import notify
from ..engine.idle import IdleRules
from ..engine.links import AckLinks
from ..exchanges import four_eyes
from ..exercises import register
from ..watches import log as watch_log
from . import (
    amended_columns,
    amendment_effects,
    amendment_record,
    filing,
    handling,
    related,
    route_table,
    routing,
    timeline,
)

ROUTING_FACTS = ("domain", "category", "precedence", "escalation_risk", "sector", "position", "border_distance_km")
EXERCISE_FACTS = ("occurred_at", "position", "category", "border_distance_km")
RELATED_FACTS = ("occurred_at", "position", "category")
NOTHING = "the amendment changes nothing: every fact given is as it stands"
CLAIM_TRIES = 5  # reads of an incident the sweep moves meanwhile, before the amendment is refused (409)


@dataclass(frozen=True)
class Amendment:
    """What the author read (version) and wants changed (amended_columns.AMENDABLE names to values typed as
    IncidentDraft's; the position as text, None clearing it; each closest point of approach as {"value",
    "unit"} or None), and an addendum to the narrative."""

    version: int
    changes: dict = field(default_factory=dict)
    addendum: str = ""


@dataclass(frozen=True)
class Amended:
    incident: Incident
    event: TimelineEvent
    reroute: dict | None
    reapproval: list[dict]
    deadline: dict | None
    told: list[str] = field(default_factory=list)  # the lines told of a raised precedence
    related: dict[str, list[str]] | None = None  # looked for again: the references withdrawn and suggested


def keeps_its_watch(session: Session, incident: Incident, user: User) -> bool:
    """Whether the user keeps the open watch at the desk the incident was filed from: the desk whose
    watch its filer kept when filing it, else the duty desk. A watch started at some other desk gives
    no right over incidents the desk never saw."""
    filed_from = select(Watch.desk).where(
        Watch.officer_id == incident.filed_by_id,
        Watch.starts_at <= incident.reported_at,
        or_(Watch.ends_at.is_(None), Watch.ends_at > incident.reported_at),
    )
    desk = or_(Watch.desk.in_(filed_from), and_(~exists(filed_from), Watch.desk == watch_log.DESK))
    return bool(session.scalar(select(exists().where(Watch.officer_id == user.id, Watch.ends_at.is_(None), desk))))


def may_amend(session: Session, incident: Incident, user: User) -> bool:
    """Supervisors and admins; liaison staff of a line it was routed to; the duty officer who filed it or
    the duty officer now keeping the watch at its desk (keeps_its_watch; a liaison officer on watch amends
    as liaison staff do)."""
    if may(user.role, Permission.INCIDENTS_AMEND_ANY):
        return True
    if not may(user.role, Permission.INCIDENTS_AMEND):
        return False
    if incident.filed_by_id == user.id or (user.role is Role.DUTY_OFFICER and keeps_its_watch(session, incident, user)):
        return True
    return may(user.role, Permission.INCIDENTS_HANDLE) and handling.is_member_for(session, incident, user)


def ensure_may_amend(session: Session, incident: Incident, user: User) -> None:
    if not may_amend(session, incident, user):
        raise Forbidden(
            f"{user.username} ({user.role.label}) may not amend {incident.reference}",
            {
                "needs": "supervisor, admin, liaison member of a line notified for it, "
                "the duty officer who filed it or the duty officer now on watch at the desk it was filed from"
            },
        )


def amend(
    session: Session,
    reference: str,
    amendment: Amendment,
    actor: User,
    limits: filing.FilingLimits,
    now: datetime,
    idle: IdleRules | None = None,
    links: AckLinks | None = None,
) -> Amended:
    """Apply the amendment in the caller's transaction (see the module's docstring); idle: the
    deployment's acknowledgement timeouts, which a higher precedence shortens on an acknowledged incident;
    links: what signs the acknowledge links of the messages telling a raise (none told without)."""
    incident = handling.get_incident(session, reference)
    ensure_may_amend(session, incident, actor)
    _expect_version(session, incident, amendment.version)
    columns = _columns(session, incident, amendment, limits, now)
    # How the sector came, as it stands: recorded, or inferred for an incident filed before it was recorded
    # (writing down the inferred value changes nothing, and is no amendment by itself).
    stands = {"sector_given": filing.sector_was_given(incident, limits.region)}
    changed = {name: value for name, value in columns.items() if stands.get(name, getattr(incident, name)) != value}
    addendum = (amendment.addendum or "").strip()
    if not changed and not addendum:
        raise ValidationError(NOTHING, {"amendment": "change a fact or add to the narrative"})
    _ensure_may_set_precedence(incident, changed.get("precedence"), actor)
    _claim(session, incident, amendment.version)
    amended_version = incident.version  # what the event names: the version these facts replace
    digest, before = four_eyes.facts_digest(incident), amendment_record.facts(incident) | stands
    approved = amendment_effects.approved_on(session, incident, digest)
    facts = {amended_columns.FACT_OF.get(name, name) for name in changed}
    # One UPDATE at the end (one version), and the event written last, whole: the timeline is append-only.
    with session.no_autoflush:
        old_precedence, old_deadline = incident.precedence, incident.next_escalation_at
        for name, value in changed.items():
            setattr(incident, name, value)
        if addendum and not changed:  # the row written all the same: an addition moves the version as a fact does
            flag_modified(incident, "narrative")
        if "sector_given" in columns:  # recorded from now on, changed or not
            incident.sector_given = columns["sector_given"]
        retimed = "precedence" in changed
        deadline = _retime(incident, old_precedence, old_deadline, now, idle or IdleRules()) if retimed else None
        if facts & set(EXERCISE_FACTS):
            reason = f"amended by {actor.username}"
            register.settle(session, incident, register.ACTOR, now, limits.no_notice_border_km, reason)
        reroute = amendment_effects.preview_route(session, incident) if facts & set(ROUTING_FACTS) else None
        # An addendum is stated by the event written below: it changes the digest as surely as a fact does.
        reapproval = approved if addendum or four_eyes.facts_digest(incident) != digest else []
        was, is_now = amendment_record.changes(before, amendment_record.facts(incident))
        raised = retimed and incident.precedence.rank < old_precedence.rank
        running = incident.status is IncidentStatus.OPEN and incident.decision_step is None
        told = notify.called_lines(session, incident) if raised and running and links is not None else []
        event = timeline.record(
            session,
            incident,
            EventKind.AMENDED,
            actor.username,
            now,
            fields=sorted(facts),
            before=was,
            after=is_now,
            addendum=addendum or None,
            version=amended_version,
            deadline=deadline,
            reroute=reroute,
            reapproval=reapproval,
            told=[line.name for line in told] or None,
        )
    session.flush()
    looked = None
    if facts & set(RELATED_FACTS) and incident.checks_due_at is None:  # not yet checked: the sweep reads it as amended
        looked = related.suggest_again(session, incident, now, limits.related_distance_km, limits.related_window_hours)
        session.flush()
    if told and links is not None:  # queued once the event is written: the messages state its addendum
        session.expire(incident, ["amendments"])
        was_said = f"{old_precedence.name} ({old_precedence.value})"
        upgrade = {"by": actor.username, "at": now, "was": was_said}
        notify.tell_upgrade(session, incident, told, now, links, amended_version, upgrade)
        session.flush()
    return Amended(incident, event, reroute, reapproval, deadline, [line.name for line in told], looked)


def problems(
    session: Session, reference: str, amendment: Amendment, actor: User, limits: filing.FilingLimits, now: datetime
) -> dict[str, str | dict]:
    """Every problem amend's own checks (amended_columns.columns) find in the facts an amendment gives, by field, in
    their words: what the API's schema and the amend form ask when they refuse an amendment, to tell them with their
    own problems rather than in a second refusal once those are mended (never for an amendment they pass: amend
    then checks it once). Nothing for an incident that does not exist or the actor may not amend: amend says so."""
    try:
        incident = handling.get_incident(session, reference)
    except NotFound:
        return {}
    if not may_amend(session, incident, actor):
        return {}
    try:
        _columns(session, incident, amendment, limits, now)
    except ValidationError as error:
        return dict(error.details)
    return {}


def _columns(session: Session, incident: Incident, amendment: Amendment, limits: filing.FilingLimits, now) -> dict:
    """The incident's columns as the amendment leaves them, checked (amended_columns.columns)."""
    given = "sector" in amendment.changes
    sectors = filing.sector_names(limits.region, route_table.current(session)) if given else {}
    return amended_columns.columns(incident, amendment.changes, amendment.addendum, limits, now, sectors)


def _expect_version(session: Session, incident: Incident, version: int) -> None:
    """Refuse (409) an amendment of facts that changed since its author read them: another amendment was
    made at or after the version read, or the incident never had that version."""
    if version == incident.version:
        return
    if 0 < version < incident.version and not _amended_since(session, incident, version):
        return
    said = (
        f"changed since you read it (version {version}, now {incident.version})"
        if version < incident.version
        # A version it never had was never read: "changed since" would send its author looking for a change.
        else f"never had version {version} (it is at version {incident.version}): the version sent is not one read"
    )
    raise Conflict(
        f"{incident.reference} {said}: read it again and amend what still needs it",
        {"version": incident.version, "status": incident.status.value, "facts": amendment_record.facts(incident)},
    )


def _amended_since(session: Session, incident: Incident, version: int) -> bool:
    """Whether an amendment of the incident was made at or after the version read."""
    return bool(_amendments_since(session, incident, version))


def facts_amended_since(session: Session, incident: Incident, version: int) -> set[str]:
    """The facts the amendments made at or after the version read changed (the names their events keep), to
    tell an author answered 409 what someone else changed from what they changed themselves."""
    return {name for amended in _amendments_since(session, incident, version) for name in amended.get("fields") or []}


def _amendments_since(session: Session, incident: Incident, version: int) -> list[dict]:
    """The details of the amendments made at or after the version read (each names the version it amended;
    the incident's amendments are few)."""
    details = session.scalars(
        select(TimelineEvent.details).where(
            TimelineEvent.incident_id == incident.id, TimelineEvent.kind == EventKind.AMENDED
        )
    )
    return [amended for amended in details if int((amended or {}).get("version") or 0) >= version]


def _claim(session: Session, incident: Incident, version: int) -> None:
    """Hold the row at the version just read for the rest of the transaction (SQLite: the write lock;
    PostgreSQL: the row lock); when the sweep or someone else moved it meanwhile, read it again and check
    once more (_expect_version), a few times: an incident that keeps moving answers 409."""
    for _ in range(CLAIM_TRIES):
        claimed = cast(
            CursorResult[Any],  # what an UPDATE returns (Session.execute is typed for SELECT)
            session.execute(
                update(Incident)
                .where(Incident.id == incident.id, Incident.version == incident.version)
                .values(version=Incident.version),
                execution_options={"synchronize_session": False},
            ),
        ).rowcount
        if claimed:
            return
        session.refresh(incident)
        _expect_version(session, incident, version)
    raise Conflict(f"{incident.reference} kept changing; try again", {"version": incident.version})


def _ensure_may_set_precedence(incident: Incident, precedence: Precedence | None, actor: User) -> None:
    """Refuse (403) a lower precedence from someone without a supervisor's word."""
    if precedence is None or precedence.rank <= incident.precedence.rank:
        return
    if may(actor.role, Permission.INCIDENTS_DOWNGRADE):
        return
    raise Forbidden(
        f"lowering the precedence of {incident.reference} from {incident.precedence.value} "
        f"{incident.precedence.name} to {precedence.value} {precedence.name} takes a supervisor: ask one, "
        "or amend the other facts without it",
        {
            "precedence": f"a downgrade needs {Permission.INCIDENTS_DOWNGRADE.value}",
            "needs": Permission.INCIDENTS_DOWNGRADE.value,
            "allowed_roles": [role.value for role in holders(Permission.INCIDENTS_DOWNGRADE)],
        },
    )


def _retime(
    incident: Incident, old: Precedence, deadline: datetime | None, now: datetime, idle: IdleRules
) -> dict | None:
    """Give the ladder's precedence-timed steps the new precedence's window, and bring the running
    deadline forward to now + that window when the current step is one of them (never later); on an
    acknowledged incident, bring its acknowledgement timeout forward the same way."""
    new = incident.precedence
    incident.ladder = routing.retime_ladder(incident.ladder, old, new)
    if incident.status is IncidentStatus.ACKNOWLEDGED and incident.idle_check_at is not None:
        window, before = idle.timeout(new), incident.idle_check_at
        incident.idle_check_at = min(before, now + window)
        return {
            "of": "acknowledgement timeout",
            "before": isoformat(before),
            "after": isoformat(incident.idle_check_at),
            "window_seconds": int(window.total_seconds()),
        }
    if incident.status is not IncidentStatus.OPEN or deadline is None or incident.decision_step is not None:
        return None  # no running deadline (a step waiting for a supervisor's decision keeps its own clock)
    if not routing.from_precedence(incident.step, new):
        return {
            "of": "escalation",
            "before": isoformat(deadline),
            "after": isoformat(deadline),
            "step": incident.current_step,
        }
    shortened = min(deadline, now + timedelta(seconds=new.default_ack_seconds))
    incident.next_escalation_at = shortened
    return {
        "of": "escalation",
        "before": isoformat(deadline),
        "after": isoformat(shortened),
        "step": incident.current_step,
        "window_seconds": new.default_ack_seconds,
    }
