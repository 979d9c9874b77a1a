"""Record when scheduled jobs run and which scheduler processes are alive, so any process can tell
whether the scheduler runs, and a live scheduler can take over the messages a dead one had claimed."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, exists, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ...models import JobRun, Notification, Role, Runner
from ...text import masked
from .notify import reachable


def beat(session: Session, name: str, runner: str, started: datetime, finished: datetime, error: str | None) -> None:
    """Upsert the job's last run. Its error is kept masked (text.masked): an exception's text may quote a row it
    wrote (a message's webhook facts, with its signed link), and the supervisors' watchdog alert quotes it."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    values = {
        "last_started_at": started,
        "last_finished_at": finished,
        "last_runner": runner,
        "last_error": masked(error) if error is not None else None,
    }
    stmt = dialect.insert(JobRun).values(name=name, **values)
    session.execute(stmt.on_conflict_do_update(index_elements=["name"], set_=values))


def beat_runner(session: Session, runner: str, now: datetime, signs_with: str | None = None) -> None:
    """Say that the scheduler process runner is alive, and which key signs its links (one upsert)."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(Runner).values(name=runner, started_at=now, last_beat_at=now, signs_with=signs_with)
    changed = {"last_beat_at": now, **({"signs_with": signs_with} if signs_with else {})}
    session.execute(stmt.on_conflict_do_update(index_elements=["name"], set_=changed))


@dataclass(frozen=True)
class Keys:
    """A process's keys as links.fingerprint names them: the one it signs with, and those it verifies with too."""

    signs_with: str
    fallbacks: frozenset[str] = frozenset()


def link_keys(
    session: Session, now: datetime, live_after: timedelta, keys: Keys, leave_out: str = ""
) -> tuple[str, list[str]]:
    """Whether the links the live schedulers sign open where keys verify: "ok" (all sign with keys.signs_with, or
    none is live); "rotating" and the runners that still sign with a key among keys.fallbacks (their links open
    until that fallback is dropped); "mismatch" and the runners whose key is neither (their links are refused).
    A scheduler asking of the others leaves itself out."""
    live = select(Runner.name, Runner.signs_with).where(
        Runner.last_beat_at > now - live_after, Runner.signs_with.is_not(None), Runner.name != leave_out
    )
    other: list[str] = []
    older: list[str] = []
    for name, signs_with in session.execute(live.order_by(Runner.name)):
        if signs_with != keys.signs_with:
            (older if signs_with in keys.fallbacks else other).append(name)
    return ("mismatch", other) if other else ("rotating", older) if older else ("ok", [])


def link_keys_problem(state: str, runners: list[str]) -> str | None:
    """What link_keys found, said to an operator, or None when all is well."""
    named = ", ".join(runners)
    if state == "mismatch":
        return (
            f"scheduler {named} signs links with another SECRET_KEY than this process's, one not in its "
            "SECRET_KEY_FALLBACKS either: a web host with this process's keys refuses the acknowledge links in its "
            "messages. Give every web host and scheduler the same SECRET_KEY (and SECRET_KEY_FALLBACKS)"
        )
    if state == "rotating":
        return (
            f"scheduler {named} still signs links with a key this process keeps in SECRET_KEY_FALLBACKS: restart "
            "it with the new SECRET_KEY before that key leaves the fallbacks, or the links it sent are refused"
        )
    return None


def leave(session: Session, runner: str) -> None:
    """Remove a scheduler that stops cleanly (its jobs have finished: it holds no claim any more)."""
    session.execute(delete(Runner).where(Runner.name == runner))


def claim_orphaned(now: datetime, dead_after: timedelta) -> ColumnElement[bool]:
    """A message's claim is held by a scheduler that is gone: its heartbeat is older than dead_after, or
    its row was removed. Claims of no named runner (made before heartbeats) only lapse."""
    alive = exists().where(Runner.name == Notification.claimed_by, Runner.last_beat_at > now - dead_after)
    return Notification.claimed_by.is_not(None) & ~alive


def health(
    session: Session, now: datetime, stale_after: timedelta, keys: Keys, delivery_stale_after: timedelta | None = None
) -> dict:
    """Report whether the database answers, whether the sweep last finished recently and whole, and whether the
    delivery job last ran recently (delivery_stale_after, else stale_after) and whole: a sweep whose last run
    failed a stage (or set rows aside), or a delivery run that failed, is "failing", and the status degraded;
    so is either one stale or never run (a delivery process of its own, `--jobs deliver`, that died sent nothing
    while the sweep said ok). The answer needs no token, so it names the stages that failed, never the error's
    text (it may quote SQL or row data; the scheduler's log and the supervisors' watchdog alert carry it). A
    live scheduler whose links this host refuses (link_keys: mismatch) degrades it too; none is named; and so
    does having no active supervisor (supervisors_state: the admins are told instead, or nobody)."""
    session.execute(text("SELECT 1"))
    runs = {run.name: run for run in session.scalars(select(JobRun).where(JobRun.name.in_(("sweep", "deliver"))))}
    sweep, failed = runs.get("sweep"), None
    sweep_state = _state(sweep, now, stale_after)
    if sweep_state == "failing" and sweep is not None and sweep.last_error:
        failed = stages_of(sweep.last_error)
    delivery = _state(runs.get("deliver"), now, delivery_stale_after or stale_after)
    links, _ = link_keys(session, now, stale_after, keys)
    told = supervisors_state(session)
    return {
        "status": "ok" if sweep_state == delivery == "ok" and links != "mismatch" and told == "ok" else "degraded",
        "link_keys": links,
        "supervisors": told,
        "database": "ok",
        "last_sweep_at": sweep.last_finished_at if sweep else None,
        "last_sweep_runner": sweep.last_runner if sweep else None,
        "last_sweep_error": failed,
        "sweep": sweep_state,
        "delivery": delivery,
        "last_delivery_at": runs["deliver"].last_finished_at if "deliver" in runs else None,
    }


def supervisors_state(session: Session) -> str:
    """Whom the supervisors' messages reach, for /health: ok (a supervisor), "admins" (none active: the admins
    are told instead) or "nobody"; as notify.active_supervisors finds them (one whose mailbox is the other side's is
    told nothing), without the warnings it logs at each message."""
    for role, state in ((Role.SUPERVISOR, "ok"), (Role.ADMIN, "admins")):
        if reachable(session, role, quiet=True):
            return state
    return "nobody"


def _state(run: JobRun | None, now: datetime, stale_after: timedelta) -> str:
    last = run.last_finished_at if run else None
    if last is None or run is None:
        return "never ran"
    if now - last > stale_after:
        return "stale"
    return "failing" if run.last_error else "ok"


def stages_of(error: str) -> str:
    """The stages a sweep's error names ("audit seal; escalation"), without what each said."""
    return "; ".join(dict.fromkeys(part.split(":", 1)[0].strip() for part in error.split("; ") if part.strip()))
