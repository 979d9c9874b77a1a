"""The register of notified exercises, and the context it gives incidents.

An incident whose time and position fall inside an exercise of the register (its area, and the
closed interval [starts_at, ends_at]) is linked to it at filing: context that lowers the temperature.
When several hold it, the one that started first among those notified by the incident's time is
linked, else the first started (then the lowest id). An incident without a position is never linked:
its place cannot be checked.

"No notice on record": an incident of a category that reports an exercise-like activity
(NO_NOTICE_CATEGORIES: unusual military activity, Vienna Document Chapter III) whose position is
at most NO_NOTICE_BORDER_KM from the border, and that no exercise notified by its time holds, is
flagged (also when it lies in a known exercise that was not notified by then).
Other categories (an intercept, a laser) near the border are not: they are not a claim that an
exercise went unannounced, and flagging them would cry wolf.

Creating, editing, importing or deleting an exercise settles again every incident not yet
resolved that it held or now holds: the link goes to the exercise the rule above names now (none:
the link is removed), and the flag follows.
Every change is a timeline event (exercise_linked, also for a removed link, or no_notice).
"""

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ...errors import Conflict, NotFound
from ...models import EventKind, ExerciseNotice, Incident, IncidentStatus, locks
from ...models.enums import UNUSUAL_ACTIVITY
from ...sentences import Sentence
from ...timeutil import isoformat
from ..incidents import timeline
from . import vienna
from .area import covers
from .validity import FIELDS, check, clean, complete

NO_NOTICE_CATEGORIES = (UNUSUAL_ACTIVITY,)
NO_NOTICE_BORDER_KM = 50.0
ACTOR = "exercise register"
WHEN = ("all", "current", "upcoming", "running", "past")


# -- the register -------------------------------------------------------------------------


def find_same(session: Session, name: str, starts_at: datetime) -> int | None:
    """The id of the exercise of this name (in any case, as a file's own rows are compared) and start in the
    register, or None. The names are compared in Python (casefold): SQLite's lower() folds ASCII letters
    only, and ЗАПАД-2025 is the same exercise as Запад-2025."""
    wanted = name.strip().casefold()
    same_start = select(ExerciseNotice.id, ExerciseNotice.name).where(ExerciseNotice.starts_at == starts_at)
    return next(
        (
            id_
            for id_, other in session.execute(same_start.order_by(ExerciseNotice.id))
            if other.strip().casefold() == wanted
        ),
        None,
    )


def lock_register(session: Session) -> None:
    """Make this transaction the only one entering or changing exercises until it ends, so that two
    entering the same exercise at once (two imports of one file) do not both find it absent.

    SQLite: BEGIN IMMEDIATE already gave it the database's only write lock (tracker.db).
    """
    locks.hold(session, "exercise register")  # no unique index can say "the same name in any case"


def _unique(session: Session, values: dict, current_id: int | None = None) -> None:
    lock_register(session)
    clash = find_same(session, values["name"], values["starts_at"])
    if clash is not None and clash != current_id:
        raise Conflict(
            Sentence(
                f"exercise {{name}} starting {isoformat(values['starts_at'])} is in the register already",
                {"name": repr(values["name"])},
            ),
            {"id": clash},
        )


def get_exercise(session: Session, exercise_id: int) -> ExerciseNotice:
    exercise = session.get(ExerciseNotice, exercise_id)
    if exercise is None:
        raise NotFound(f"no exercise {exercise_id}", {"id": exercise_id})
    return exercise


def create_exercise(
    session: Session, data: dict, actor: str, now: datetime, border_km: float = NO_NOTICE_BORDER_KM
) -> ExerciseNotice:
    """Enter a notified exercise in the register and link the open incidents it holds."""
    values = complete(data)
    check(values, now)
    values = clean(values)
    _unique(session, values)
    exercise = ExerciseNotice(**values, created_at=now, created_by=actor)
    session.add(exercise)
    session.flush()
    relink(session, exercise, actor, now, border_km, f"exercise “{exercise.name}” entered")
    return exercise


def update_exercise(
    session: Session, exercise: ExerciseNotice, changes: dict, actor: str, now: datetime, border_km=NO_NOTICE_BORDER_KM
) -> ExerciseNotice:
    """Change some fields (the rest stay); to swap a polygon for a circle, null the other shape."""
    values = complete({**{key: getattr(exercise, key) for key in FIELDS}, **changes})
    # A time entered before stays as it was: only a time given now is held against the clock.
    check(values, now if {"notified_at", "calendar_at"} & set(changes) else None)
    values = clean(values)
    _unique(session, values, exercise.id)
    if changed := _changed(exercise, values):
        exercise.changes = [*(exercise.changes or []), {"at": isoformat(now), "by": actor, "fields": changed}]
    for key, value in values.items():
        setattr(exercise, key, value)
    session.flush()
    relink(session, exercise, actor, now, border_km, f"exercise “{exercise.name}” changed by {actor}")
    return exercise


def _plain(value):
    """A field's value as the change record keeps it: times in ISO 8601 UTC, a channel by its code, an area as
    "polygon" (the shape itself stays on the exercise)."""
    if isinstance(value, datetime):
        return isoformat(value)
    if isinstance(value, dict):
        return "polygon"
    return getattr(value, "value", value)


def _changed(exercise: ExerciseNotice, values: dict) -> dict:
    """The fields the values change, each [before, after]."""
    found = {}
    for key in FIELDS:
        before, after = getattr(exercise, key), values[key]
        if before != after:
            was, now = _plain(before), _plain(after)
            found[key] = [was, "another polygon" if was == now == "polygon" else now]
    return found


def delete_exercise(
    session: Session, exercise_id: int, actor: str, now: datetime, border_km: float = NO_NOTICE_BORDER_KM
) -> None:
    """Remove a notice from the register; its incidents lose the link (the timeline says so)."""
    exercise = get_exercise(session, exercise_id)
    reason = f"exercise “{exercise.name}” deleted by {actor}"
    for incident in _linked_or_held(session, exercise):
        settle(session, incident, actor, now, border_km, reason, without=exercise)
    session.delete(exercise)
    session.flush()


def status_of(exercise: ExerciseNotice, now: datetime) -> str:
    """upcoming, running or past."""
    if now < exercise.starts_at:
        return "upcoming"
    return "running" if now <= exercise.ends_at else "past"


def list_exercises(
    session: Session,
    now: datetime,
    when: str = "all",
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 1000,
    ours: bool | None = None,
) -> list[ExerciseNotice]:
    """Exercises by time: upcoming, running, current (running or upcoming), past, or all; since and
    until keep those overlapping that window [since, until), as the reports' bounds (since equal to until: those
    running at that moment, starting or ending then included); ours true or
    false keeps only our own or only others'.
    Past ones newest first, the others soonest first."""
    query = select(ExerciseNotice)
    if ours is not None:
        query = query.where(ExerciseNotice.ours.is_(ours))
    if when == "upcoming":
        query = query.where(ExerciseNotice.starts_at > now)
    elif when == "running":
        query = query.where(ExerciseNotice.starts_at <= now, ExerciseNotice.ends_at >= now)
    elif when == "current":
        query = query.where(ExerciseNotice.ends_at >= now)
    elif when == "past":
        query = query.where(ExerciseNotice.ends_at < now)
    if since is not None:
        query = query.where(ExerciseNotice.ends_at >= since)
    if until is not None and until == since:  # the moment itself: both ends belong to an exercise
        query = query.where(ExerciseNotice.starts_at <= until)
    elif until is not None:
        query = query.where(ExerciseNotice.starts_at < until)
    if when == "past":
        order = (ExerciseNotice.ends_at.desc(), ExerciseNotice.id.desc())
    else:
        order = (ExerciseNotice.starts_at.asc(), ExerciseNotice.id.asc())
    return list(session.scalars(query.order_by(*order).limit(limit)))


# -- incidents inside exercises -----------------------------------------------------------


def holds(exercise: ExerciseNotice, when: datetime, latitude: float, longitude: float) -> bool:
    """Whether the exercise's area and closed time interval hold the moment and the point."""
    return exercise.starts_at <= when <= exercise.ends_at and covers(exercise, latitude, longitude)


def containing(session: Session, when: datetime, latitude: float, longitude: float) -> list[ExerciseNotice]:
    """The exercises whose area and [starts_at, ends_at] hold the point, first started first."""
    running = session.scalars(
        select(ExerciseNotice)
        .where(ExerciseNotice.starts_at <= when, ExerciseNotice.ends_at >= when)
        .order_by(ExerciseNotice.starts_at, ExerciseNotice.id)
    )
    return [exercise for exercise in running if covers(exercise, latitude, longitude)]


def notified_by(exercise: ExerciseNotice, when: datetime) -> bool:
    """Whether the exercise's notification (or, for ours, first briefing) is on record at or before when."""
    told = vienna.notification_time(vienna.notice_of(exercise))
    return told is not None and told <= when


def unusual_near_border(incident: Incident, border_km: float | None) -> bool:
    """Whether the incident is the kind of activity that calls for a notice, near the border."""
    return (
        border_km is not None
        and incident.category in NO_NOTICE_CATEGORIES
        and incident.border_distance_km is not None
        and incident.border_distance_km <= border_km
    )


def link_incident(session: Session, incident: Incident, now: datetime, border_km: float | None = NO_NOTICE_BORDER_KM):
    """At filing: link the incident to the exercise holding it, or flag it "no notice on record"."""
    settle(session, incident, ACTOR, now, border_km, "filed")


def settle(
    session: Session,
    incident: Incident,
    actor: str,
    now: datetime,
    border_km: float | None,
    reason: str,
    without: ExerciseNotice | None = None,
) -> None:
    """Bring the incident's link and flag in line with the register (leaving out without, which is
    being deleted); record what changed on the timeline."""
    latitude, longitude = incident.latitude, incident.longitude
    position = (latitude, longitude) if latitude is not None and longitude is not None else None
    found = containing(session, incident.occurred_at, *position) if position is not None else []
    found = [e for e in found if e is not without]
    # The first started of those notified by then, else the first started: the same answer whatever the
    # order the exercises were entered in.
    told = [e for e in found if notified_by(e, incident.occurred_at)]
    candidates = told or found
    target = candidates[0] if candidates else None
    # Known but unnotified (or notified only after the incident), an exercise gives context, not a notice.
    flag = unusual_near_border(incident, border_km) and not (target and notified_by(target, incident.occurred_at))
    if target is not incident.exercise:
        if target is not None:
            _record_link(session, incident, target, actor, now, reason)
        elif incident.exercise is not None:  # always, as target is None and differs from it
            _record_unlink(session, incident, incident.exercise, actor, now, reason)
        incident.exercise = target
    distance = incident.border_distance_km  # never None when flagged
    if flag and distance is not None and not incident.no_notice:
        timeline.record(
            session,
            incident,
            EventKind.NO_NOTICE,
            actor,
            now,
            border_distance_km=round(distance, 1),
            within_km=border_km,
            note=f"{distance:.1f} km from the border and no exercise notified by then holds its time "
            "and place: no notice on record",
        )
    incident.no_notice = flag


def _record_link(session, incident, exercise: ExerciseNotice, actor, now, reason) -> None:
    via = exercise.notified_via.value.replace("_", " ")
    notified = notified_by(exercise, incident.occurred_at)
    timeline.record(
        session,
        incident,
        EventKind.EXERCISE_LINKED,
        actor,
        now,
        exercise_id=exercise.id,
        exercise=exercise.name,
        states=list(exercise.states),
        starts_at=exercise.starts_at,
        ends_at=exercise.ends_at,
        notified_via=exercise.notified_via.value,
        notified=notified,
        no_notice_cleared=bool(incident.no_notice) and notified,
        reason=reason,
        note=f"inside {'notified' if notified else 'unnotified'} exercise “{exercise.name}” "
        f"({', '.join(exercise.states)}; {via if notified else 'no notification on record by then'})",
    )


def _record_unlink(session, incident, exercise: ExerciseNotice, actor, now, reason) -> None:
    timeline.record(
        session,
        incident,
        EventKind.EXERCISE_LINKED,
        actor,
        now,
        exercise_id=None,
        exercise=None,
        unlinked_from=exercise.name,
        reason=reason,
        note=f"no longer inside exercise “{exercise.name}”: {reason}",
    )


def _linked_or_held(session: Session, exercise: ExerciseNotice) -> list[Incident]:
    """Incidents not resolved that are linked to the exercise or happened in its time window."""
    return list(
        session.scalars(
            select(Incident)
            .where(
                Incident.status != IncidentStatus.RESOLVED,
                or_(
                    Incident.exercise_id == exercise.id,
                    Incident.occurred_at.between(exercise.starts_at, exercise.ends_at),
                ),
            )
            .order_by(Incident.id)
        )
    )


def relink(session: Session, exercise: ExerciseNotice, actor: str, now: datetime, border_km, reason: str) -> int:
    """Settle every unresolved incident the exercise held or now holds; return how many changed."""
    changed = 0
    for incident in _linked_or_held(session, exercise):
        before = (incident.exercise_id, incident.no_notice)
        settle(session, incident, actor, now, border_km, reason)
        changed += (incident.exercise.id if incident.exercise else None, incident.no_notice) != before
    return changed
