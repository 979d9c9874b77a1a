"""The APScheduler set-up: UTC, fixed job ids, coalesce, one instance of each job at a time.

The database holds every deadline; the scheduler only says "look now". Its job store is the
default in-memory one and is never shared, so any number of scheduler processes may run. After each
sweep it reads the earliest escalation deadline to come, and a run falling later than that deadline is
planned for the deadline instead (SweepTrigger): an incident escalates as its deadline passes, not up to
a sweep interval later.
"""

from datetime import datetime

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask

from . import jobs
from .timeutil import UTC, utcnow

# Answers kept for Idempotency-Key retries are deleted this often once 24 h old (a key that old is
# claimed afresh anyway: this only keeps the table small).
FORGET_SECONDS = 3600


# What a scheduler process may run: the sweep with the clocks and housekeeping around it, and the
# delivery of the outbox. Both by default; a busy deployment runs them in processes of their own
# (`flask --app wsgi scheduler --jobs sweep` and `--jobs deliver`), so sending never slows escalating.
ROLES = ("sweep", "deliver")


def build_scheduler(app: Flask, roles: tuple[str, ...] = ROLES) -> BackgroundScheduler:
    """Return a scheduler (not started; it runs in threads of its own) for app, with "sweep" in roles,
    the sweep, line-check, watchdog, metrics and housekeeping jobs; with "deliver", the delivery job;
    and the heartbeat."""
    unknown = set(roles) - set(ROLES)
    if unknown or not roles:
        raise ValueError(f"a scheduler runs some of {', '.join(ROLES)}, not {', '.join(sorted(unknown)) or 'none'}")
    scheduler = BackgroundScheduler(
        timezone=UTC,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
    )
    sweeping, delivering = "sweep" in roles, "deliver" in roles
    intervals = [app.config["SWEEP_INTERVAL_SECONDS"]] * sweeping + [
        app.config["DELIVERY_INTERVAL_SECONDS"]
    ] * delivering
    planned = [
        ("sweep", sweep_on_time, app.config["SWEEP_INTERVAL_SECONDS"], sweeping),
        ("deliver", jobs.deliver, app.config["DELIVERY_INTERVAL_SECONDS"], delivering),
        # Its own job, so a long delivery batch never silences it.
        ("beat", jobs.beat, min(intervals), True),
        ("checks", jobs.check_lines, app.config["CHECK_SWEEP_SECONDS"], sweeping),
        ("watchdog", jobs.watch, app.config["WATCHDOG_CHECK_SECONDS"], sweeping),
        ("metrics", jobs.refresh_metrics, app.config["METRICS_REFRESH_SECONDS"], sweeping),
        ("forget", jobs.forget_answers, FORGET_SECONDS, sweeping),
    ]
    for job_id, func, interval in ((j, f, i) for j, f, i, wanted in planned if wanted):
        trigger = (SweepTrigger if func is sweep_on_time else IntervalTrigger)(seconds=interval, timezone=UTC)
        scheduler.add_job(
            func,
            trigger,
            id=job_id,
            name=job_id,
            args=[app, trigger] if func is sweep_on_time else [app],
            replace_existing=True,
            next_run_time=utcnow(),
        )
    return scheduler


class SweepTrigger(IntervalTrigger):
    """Every interval, or sooner: at deadline, the earliest escalation deadline the last sweep saw still to
    come (sweep_on_time sets it). The scheduler's thread asks the trigger for the next run when it starts
    one, so a deadline set two intervals or more before it comes (a ladder step's minutes always are) is
    run at to the moment; a nearer one waits for the interval, as before. Nothing here touches the
    scheduler from a job's thread (APScheduler 3 holds its job store lock while a shutdown waits for the
    running jobs)."""

    deadline: datetime | None = None

    def get_next_fire_time(self, previous_fire_time, now):
        regular = super().get_next_fire_time(previous_fire_time, now)
        deadline = self.deadline
        if deadline is not None and now < deadline and (regular is None or deadline < regular):
            return deadline
        return regular


def sweep_on_time(app: Flask, trigger: SweepTrigger) -> int:
    """The sweep (jobs.sweep), then the earliest escalation deadline to come told to its trigger."""
    escalated = jobs.sweep(app)
    trigger.deadline = jobs.next_deadline(app)
    return escalated
