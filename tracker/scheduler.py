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


def build_scheduler(app: Flask, blocking: bool = True):
    """Return a scheduler (not started) running the sweep, delivery, heartbeat, line-check, watchdog,
    metrics and housekeeping jobs for app."""
    cls = BlockingScheduler if blocking else BackgroundScheduler
    scheduler = cls(
        timezone=UTC,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
    )
    for job_id, func, interval in (
        ("sweep", jobs.sweep, app.config["SWEEP_INTERVAL_SECONDS"]),
        ("deliver", jobs.deliver, app.config["DELIVERY_INTERVAL_SECONDS"]),
        # Its own job, so a long delivery batch never silences it.
        ("beat", jobs.beat, min(app.config["SWEEP_INTERVAL_SECONDS"], app.config["DELIVERY_INTERVAL_SECONDS"])),
        ("checks", jobs.check_lines, app.config["CHECK_SWEEP_SECONDS"]),
        ("watchdog", jobs.watch, app.config["WATCHDOG_CHECK_SECONDS"]),
        ("metrics", jobs.refresh_metrics, app.config["METRICS_REFRESH_SECONDS"]),
        ("forget", jobs.forget_answers, FORGET_SECONDS),
    ):
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
