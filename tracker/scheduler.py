"""The APScheduler set-up: UTC, fixed job ids, coalesce, one instance of each job at a time.

The database holds every deadline; the scheduler only says "look now". Its job store is the
default in-memory one and is never shared, so any number of scheduler processes may run.
"""

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
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


def build_scheduler(app: Flask, blocking: bool = True, roles: tuple[str, ...] = ROLES):
    """Return a scheduler (not started) running for app, with "sweep" in roles, the sweep, line-check,
    watchdog, metrics and housekeeping jobs; with "deliver", the delivery job; and the heartbeat."""
    unknown = set(roles) - set(ROLES)
    if unknown or not roles:
        raise ValueError(f"a scheduler runs some of {', '.join(ROLES)}, not {', '.join(sorted(unknown)) or 'none'}")
    cls = BlockingScheduler if blocking else BackgroundScheduler
    scheduler = cls(
        timezone=UTC,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
    )
    sweeping, delivering = "sweep" in roles, "deliver" in roles
    intervals = [app.config["SWEEP_INTERVAL_SECONDS"]] * sweeping + [
        app.config["DELIVERY_INTERVAL_SECONDS"]
    ] * delivering
    planned = [
        ("sweep", jobs.sweep, app.config["SWEEP_INTERVAL_SECONDS"], sweeping),
        ("deliver", jobs.deliver, app.config["DELIVERY_INTERVAL_SECONDS"], delivering),
        # Its own job, so a long delivery batch never silences it.
        ("beat", jobs.beat, min(intervals), True),
        ("checks", jobs.check_lines, app.config["CHECK_SWEEP_SECONDS"], sweeping),
        ("watchdog", jobs.watch, app.config["WATCHDOG_CHECK_SECONDS"], sweeping),
        ("metrics", jobs.refresh_metrics, app.config["METRICS_REFRESH_SECONDS"], sweeping),
        ("forget", jobs.forget_answers, FORGET_SECONDS, sweeping),
    ]
    for job_id, func, interval in ((j, f, i) for j, f, i, wanted in planned if wanted):
        scheduler.add_job(
            func,
            "interval",
            seconds=interval,
            id=job_id,
            name=job_id,
            args=[app],
            replace_existing=True,
            next_run_time=utcnow(),
        )
    return scheduler
