"""Record when scheduled jobs run, so any process can tell whether the scheduler is alive."""

from datetime import datetime, timedelta

from sqlalchemy import select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ...models import JobRun


def beat(session: Session, name: str, runner: str, started: datetime, finished: datetime, error: str | None) -> None:
    """Upsert the job's last run."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    values = {
        "last_started_at": started,
        "last_finished_at": finished,
        "last_runner": runner,
        "last_error": error,
    }
    stmt = dialect.insert(JobRun).values(name=name, **values)
    session.execute(stmt.on_conflict_do_update(index_elements=["name"], set_=values))


def health(session: Session, now: datetime, stale_after: timedelta) -> dict:
    """Report whether the database answers and when the sweep last finished."""
    session.execute(text("SELECT 1"))
    sweep = session.scalar(select(JobRun).where(JobRun.name == "sweep"))
    last = sweep.last_finished_at if sweep else None
    fresh = last is not None and now - last <= stale_after
    return {
        "status": "ok" if fresh else "degraded",
        "database": "ok",
        "last_sweep_at": last,
        "last_sweep_runner": sweep.last_runner if sweep else None,
        "last_sweep_error": sweep.last_error if sweep else None,
        "sweep": "ok" if fresh else ("never ran" if last is None else "stale"),
    }
