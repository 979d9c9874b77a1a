"""The APScheduler set-up: UTC, fixed job ids, coalesce, one instance of each job at a time.

The database holds every deadline; the scheduler only says "look now". Its job store is the
default in-memory one and is never shared, so any number of scheduler processes may run. After each
sweep it reads the earliest deadline to come (an escalation, an idle check), and a run falling later than that
deadline is planned for the deadline instead (SweepTrigger), or the sweep waits for it itself when the next run
was planned before it saw it (sweep_on_time): an incident escalates as its deadline passes, not up to a sweep
interval later.
"""

import threading
from datetime import datetime, timedelta

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
    """Every interval, or sooner: at deadline, the earliest deadline the last sweep saw still to come
    (sweep_on_time sets it). The scheduler's thread asks the trigger for the next run when it starts one
    (planned: what it answered last), so a deadline the sweep sees only then waits in the sweep's own run
    (sweep_on_time); stopping ends that wait at once. Nothing here touches the scheduler from a job's thread
    (APScheduler 3 holds its job store lock while a shutdown waits for the running jobs)."""

    deadline: datetime | None = None
    planned: datetime | None = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.stopping = threading.Event()

    def get_next_fire_time(self, previous_fire_time, now):
        regular = super().get_next_fire_time(previous_fire_time, now)
        deadline = self.deadline
        if deadline is not None and now < deadline and (regular is None or deadline < regular):
            regular = deadline
        self.planned = regular
        return regular


# How long before the run planned next the sweep stops waiting for a deadline itself: that run takes it (a run
# still going then would make APScheduler skip it).
HANDOVER = timedelta(seconds=0.5)


def sweep_on_time(app: Flask, trigger: SweepTrigger) -> int:
    """The sweep (jobs.sweep); then, while the earliest deadline to come falls before the run planned next (it
    was planned when this one began, before this sweep saw that deadline: 6 incidents filed 0.7 s apart
    escalated together, up to an interval late), wait for it and sweep again. The deadline after is told to
    the trigger for the next run."""
    began = utcnow()
    escalated = jobs.sweep(app)
    took = utcnow() - began  # a sweep begun later must end before the planned run too
    deadline = jobs.next_deadline(app)
    while deadline is not None and trigger.planned is not None and deadline + took < trigger.planned - HANDOVER:
        if trigger.stopping.wait(max(0.0, (deadline - utcnow()).total_seconds())):
            break  # the scheduler is stopping: the next scheduler's sweep takes it
        began = utcnow()
        escalated += jobs.sweep(app)
        took = utcnow() - began
        deadline = jobs.next_deadline(app)
    trigger.deadline = deadline
    return escalated


def stop_waiting(scheduler: BackgroundScheduler) -> None:
    """End the sweep's wait for a deadline (sweep_on_time), so that a shutdown waiting for it is not held up."""
    job = scheduler.get_job("sweep")
    if job is not None and isinstance(job.trigger, SweepTrigger):
        job.trigger.stopping.set()
