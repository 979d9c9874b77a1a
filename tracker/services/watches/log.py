"""The watch log: one officer's watch at a desk, and the lines logged during it.

A desk has one open watch at a time: starting a second is refused (409) until the first is handed
over. A desk is named in any case ("duty desk" is the Duty desk): the name is spelled as its first
watch spelled it, so a tired officer cannot open a second watch at a desk already kept. On SQLite
the write lock every writing transaction takes at BEGIN (tracker.db) serialises two starts; on
PostgreSQL a transaction-scoped advisory lock on the desk's name does, so two officers starting the
same desk at once never both get it (the schema has no unique index to do it).

A log line is time-stamped (now, or a time given that is not in the future and not before the watch
began), linked to an incident by its reference if wanted, and never edited or deleted: nothing here
changes one once written, and no route offers to. A watch's log closes when its handover is signed (a line
missed is logged in the watch that followed, back-timed), and the handover's seal covers it as it stood.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from ...errors import Conflict, Forbidden, NotFound, ValidationError
from ...models import Incident, Role, User, Watch, WatchEntry, locks
from ...models.permissions import Permission, may
from ...sentences import Sentence
from ...text import name_problem, problem
from ...timeutil import format_dtg
from ..accounts import names
from ..incidents.handling import get_incident

DESK = "Duty desk"
DESK_MAX_LENGTH = 120
ENTRY_MAX_LENGTH = 4000
LISTED = 100


@dataclass(frozen=True)
class Limits:
    """How far a time typed in the log may lie ahead of the server's clock: to the end of the minute it is now (a
    log line is typed to the minute), and never beyond filing's skew. Filing's five minutes let a line stand
    after its watch had ended, the handover signed in between."""

    max_future_skew_seconds: int = 300

    def latest(self, now: datetime) -> datetime:
        minute_ends = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
        return min(now + timedelta(seconds=self.max_future_skew_seconds), minute_ends)


# -- reading -------------------------------------------------------------------------------


def get_watch(session: Session, watch_id: int, loads: tuple = ()) -> Watch:
    watch = session.get(Watch, watch_id, options=loads)
    if watch is None:
        raise NotFound(f"no watch {watch_id}", {"id": watch_id})
    return watch


def watch_with_log(session: Session, watch_id: int) -> Watch:
    """The watch with its log and the incident each line names, read for all the lines at once (each line
    read its incident in a statement of its own)."""
    entries = selectinload(Watch.entries).selectinload(WatchEntry.incident).load_only(Incident.reference)
    return get_watch(session, watch_id, (entries, selectinload(Watch.officer)))


def open_watch(session: Session, desk: str) -> Watch | None:
    """The desk's open watch, if one is kept."""
    return session.scalar(select(Watch).where(Watch.desk == desk, Watch.ends_at.is_(None)).order_by(Watch.id))


def current_watch(session: Session, desk: str | None = None) -> Watch:
    """The desk's open watch (the default desk if none is named); NotFound while nobody keeps it."""
    name = known_desk(session, desk)
    watch = open_watch(session, name)
    if watch is None:
        raise NotFound(Sentence("nobody is on watch at {desk}", {"desk": name}), {"desk": name})
    return watch


def watch_to_hand_over(session: Session, watch_id: int | None, desk: str | None) -> Watch:
    """The watch named by id, else the desk's open watch; an id and a desk that name two desks are
    refused (422), so that a wrong id never hands over another desk's watch."""
    if watch_id is None:
        return current_watch(session, desk)
    watch = get_watch(session, watch_id)
    if desk is not None and known_desk(session, desk).lower() != watch.desk.lower():
        raise ValidationError(
            Sentence(
                f"watch {watch.id} is kept at {{desk}}, not at {{named}}",
                {"desk": watch.desk, "named": known_desk(session, desk)},
            ),
            {"desk": f"watch {watch.id} is at {watch.desk}: name the watch or the desk, or both alike"},
        )
    return watch


def relief_due_at(watch: Watch, hours: float) -> datetime | None:
    """When an open watch is due to be relieved (WATCH_HOURS after it began); None once it has ended."""
    return watch.starts_at + timedelta(hours=hours) if watch.ends_at is None else None


def past_relief(now: datetime, hours: float) -> tuple:
    """The condition of an open watch kept longer than `hours` (no signed handover ended it)."""
    return (Watch.ends_at.is_(None), Watch.starts_at <= now - timedelta(hours=hours))


def unrelieved(session: Session, now: datetime, hours: float) -> list[Watch]:
    """Open watches kept longer than `hours` without a signed handover, the longest first."""
    query = (
        select(Watch)
        .where(*past_relief(now, hours))
        .order_by(Watch.starts_at, Watch.id)
        .options(selectinload(Watch.officer))
    )
    return list(session.scalars(query))


def list_watches(session: Session, desk: str | None = None, open_only: bool | None = None) -> list[Watch]:
    """Watches, open ones first, then the latest started; at most LISTED."""
    query = select(Watch).options(selectinload(Watch.officer))
    if desk:
        query = query.where(Watch.desk == known_desk(session, desk))
    if open_only is not None:
        query = query.where(Watch.ends_at.is_(None) if open_only else Watch.ends_at.is_not(None))
    query = query.order_by(Watch.ends_at.is_not(None), Watch.starts_at.desc(), Watch.id.desc()).limit(LISTED)
    return list(session.scalars(query))


def desks(session: Session) -> list[str]:
    """Every desk a watch has been kept at, and the default desk."""
    return sorted({DESK, *session.scalars(select(Watch.desk).distinct())})


def entries_of(session: Session, watch: Watch) -> list[WatchEntry]:
    """The watch's log, in the order of its times."""
    query = (
        select(WatchEntry)
        .where(WatchEntry.watch_id == watch.id)
        .order_by(WatchEntry.at, WatchEntry.id)
        # Each line shows its incident's reference alone: the whole incident (its ladder, its JSON) cost the watch
        # page of 3,000 lines a second and a half.
        .options(selectinload(WatchEntry.incident).load_only(Incident.reference))
    )
    return list(session.scalars(query))


# -- who may act on a watch ----------------------------------------------------------------


def may_act_for(user: User, watch: Watch) -> bool:
    """The officer keeping the watch, or someone who assigns watches (supervisors, admins)."""
    return user.id == watch.officer_id or may(user.role, Permission.WATCHES_ASSIGN)


def ensure_may_act_for(user: User, watch: Watch, action: str) -> None:
    if not may_act_for(user, watch):
        raise Forbidden(
            f"{user.username} ({user.role.label}) may not {action} on {watch.officer.username}'s watch",
            {"needs": "the officer of the watch, a supervisor or an admin"},
        )


def may_keep(user: User) -> bool:
    return user.active and may(user.role, Permission.WATCHES_KEEP)


def keepers(session: Session) -> list[User]:
    """Active users who may keep a watch, by username."""
    roles = [role for role in Role if may(role, Permission.WATCHES_KEEP)]
    query = select(User).where(User.active.is_(True), User.role.in_(roles)).order_by(User.username)
    return list(session.scalars(query))


def find_keeper(session: Session, username: str, field: str) -> User:
    """An active user who may keep a watch, by username; a ValidationError naming field otherwise."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not may_keep(user):
        why = "no such user" if user is None else f"{username} may not keep a watch (inactive, or the wrong role)"
        raise ValidationError(Sentence("{username} cannot keep a watch", {"username": repr(username)}), {field: why})
    return user


# -- starting a watch ----------------------------------------------------------------------


def clean_desk(desk: str | None) -> str:
    """The desk's name on one line, trimmed; the default desk when none is given."""
    name = " ".join((desk or "").split()) or DESK
    if len(name) > DESK_MAX_LENGTH or name_problem(name):
        raise ValidationError("the desk's name is not valid", {"desk": f"one line, up to {DESK_MAX_LENGTH} characters"})
    if unseen := [c for c in name if c not in names.visible(c)]:  # "Duty desk" and a zero-width space: two desks
        codes = ", ".join(f"U+{ord(c):04X}" for c in dict.fromkeys(unseen))
        raise ValidationError("the desk's name holds a character nobody sees", {"desk": f"remove {codes}"})
    return name


def known_desk(session: Session, desk: str | None) -> str:
    """The desk's name cleaned (clean_desk), spelled as the watches kept there spell it whatever the case
    typed (the database's lower(), as exercise names are compared); a desk never kept: as typed (the
    default desk as DESK, which amending looks for)."""
    name = clean_desk(desk)
    same = func.lower(Watch.desk) == func.lower(name)
    kept = session.scalar(select(Watch.desk).where(same).order_by(Watch.id).limit(1))
    if kept is None:  # a desk kept under a name that looks the same in letters of another script (Dսty desk)
        looks = names.looks(name)
        kept = next((d for d in session.scalars(select(Watch.desk).distinct()) if names.looks(d) == looks), None)
    return kept or (DESK if name.lower() == DESK.lower() else name)


def lock_desk(session: Session, desk: str) -> None:
    """Make this transaction the only one starting or handing over a watch at desk (any case, any look-alike)
    until it ends.

    SQLite: BEGIN IMMEDIATE already gave it the database's only write lock (tracker.db).
    """
    locks.hold(session, f"watch desk:{names.looks(desk)}")  # one lock for every spelling that reads or looks alike


def ensure_off_watch_elsewhere(session: Session, officer: User, desk: str) -> None:
    """Refuse (409) to let officer keep desk while they keep an open watch at another: one officer, one
    desk at a time (a watch at two desks is two logs, two briefs, and neither desk really kept). Taken
    after the desk's lock; the officer's own lock keeps two desks from taking them at once."""
    locks.hold(session, f"watch officer:{officer.id}")
    elsewhere = session.scalar(
        select(Watch).where(Watch.officer_id == officer.id, Watch.ends_at.is_(None), Watch.desk != desk).limit(1)
    )
    if elsewhere is not None:
        raise Conflict(
            Sentence(
                f"{{officer}} keeps the watch at {{desk}} since {format_dtg(elsewhere.starts_at)}: "
                "it must be handed over before they keep {wanted}",
                {"officer": officer.username, "desk": elsewhere.desk, "wanted": desk},
            ),
            {"officer": officer.username, "watch": elsewhere.id, "desk": elsewhere.desk},
        )


def start_watch(
    session: Session, actor: User, now: datetime, desk: str | None = None, officer: str | None = None
) -> Watch:
    """Start a watch at desk (the default desk if none) kept by the actor, or by officer when a
    supervisor gives one; refuse (409) while the desk has an open watch, or its officer keeps another desk."""
    desk = clean_desk(desk)
    keeper = actor
    if officer is not None and officer != actor.username:
        if not may(actor.role, Permission.WATCHES_ASSIGN):
            raise Forbidden(
                f"{actor.username} ({actor.role.label}) may not start a watch for someone else",
                {"needs": "a supervisor or an admin", "officer": officer},
            )
        keeper = find_keeper(session, officer, "officer")
    elif not may_keep(actor):
        raise Forbidden(f"{actor.username} ({actor.role.label}) may not keep a watch")
    lock_desk(session, desk)
    desk = known_desk(session, desk)  # after the lock: a desk begun meanwhile in another case is seen
    kept = open_watch(session, desk)
    if kept is not None:
        raise Conflict(
            Sentence(
                f"{{desk}} has an open watch, kept by {{officer}} since {format_dtg(kept.starts_at)}: "
                "it must be handed over first",
                {"desk": desk, "officer": kept.officer.username},
            ),
            {"watch": kept.id, "officer": kept.officer.username, "starts_at": kept.starts_at},
        )
    ensure_off_watch_elsewhere(session, keeper, desk)
    watch = Watch(desk=desk, officer=keeper, starts_at=now, created_at=now)
    session.add(watch)
    session.flush()
    return watch


# -- the log -------------------------------------------------------------------------------


def _text(text: str | None) -> str:
    text = (text or "").strip()
    if not text or len(text) > ENTRY_MAX_LENGTH:
        raise ValidationError("the log line is not valid", {"text": f"1 to {ENTRY_MAX_LENGTH} characters"})
    if found := problem(text):
        raise ValidationError("the log line is not valid", {"text": f"it {found}"})
    return text


def _time(session: Session, watch: Watch, at: datetime | None, now: datetime, limits: Limits) -> datetime:
    """The line's time: now, or back-timed into this watch or the one at its desk it relieved (whose log
    closed when it was signed over: what it missed is logged here), to the minute a DTG names."""
    if at is None:
        return now
    if at > limits.latest(now):
        raise ValidationError("the log line's time is not valid", {"at": "a log line cannot be in the future"})
    relieved = session.scalar(
        select(func.max(Watch.starts_at)).where(Watch.desk == watch.desk, Watch.starts_at < watch.starts_at)
    )
    earliest = relieved or watch.starts_at
    if at < earliest.replace(second=0, microsecond=0):
        began = "the watch it relieved began" if relieved else "the watch began"
        raise ValidationError(
            "the log line's time is not valid",
            {"at": f"before {began} ({format_dtg(earliest)}): log it in the watch it belongs to"},
        )
    return at


def _incident(session: Session, reference: str | None) -> Incident | None:
    if not reference:
        return None
    try:
        return get_incident(session, reference.strip())
    except NotFound:
        raise ValidationError("unknown incident reference", {"incident": f"no incident {reference}"}) from None


def add_entry(
    session: Session,
    watch: Watch,
    actor: User,
    now: datetime,
    text: str,
    at: datetime | None = None,
    reference: str | None = None,
    limits: Limits | None = None,
) -> WatchEntry:
    """Log a line in the watch at now (or at, back-timed within the watch), linked to the incident
    of reference if given; refuse (409) once the watch is over."""
    ensure_may_act_for(actor, watch, "log")
    session.refresh(watch, with_for_update=True)  # a handover signed meanwhile is seen, not written past
    if watch.ends_at is not None:
        raise Conflict(
            f"the watch ended at {format_dtg(watch.ends_at)}: log in the watch that followed it",
            {"ends_at": watch.ends_at},
        )
    entry = WatchEntry(
        watch=watch,
        at=_time(session, watch, at, now, limits or Limits()),
        author=actor.username,
        text=_text(text),
        incident=_incident(session, reference),
    )
    session.add(entry)
    session.flush()
    return entry
