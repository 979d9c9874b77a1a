"""Prometheus metrics: what happens in each process (counters, histograms) and what the
database knows at scrape time (incidents by status and precedence, the last sweep).

Process metrics live in the process that does the work: the scheduler escalates and delivers,
web workers file. With PROMETHEUS_MULTIPROC_DIR set (the same directory for the gunicorn workers
and the schedulers of one host; README, "Metrics"), GET /metrics adds up every process's
figures; without it, each process reports its own, and `flask --app wsgi scheduler` can serve
its own on SCHEDULER_METRICS_PORT.
"""

import os
import time
from datetime import timedelta

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select

LAG_BUCKETS = (0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30, 60, 300, 900)
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

ESCALATIONS = Counter("tracker_escalations", "Incidents moved up their ladder (or exhausted) by the sweep", ["outcome"])
NOTIFICATIONS = Counter(
    "tracker_notifications", "Delivery attempts of outbox messages, by transport and outcome", ["transport", "outcome"]
)
DELIVERY_LATENCY = Histogram(
    "tracker_delivery_latency_seconds",
    "Time a transport took to accept a message",
    ["transport"],
    buckets=LATENCY_BUCKETS,
)
ESCALATION_LAG = Histogram(
    "tracker_escalation_lag_seconds", "Deadline to escalation: how late the sweep acted", buckets=LAG_BUCKETS
)
SWEEP_DURATION = Histogram("tracker_sweep_duration_seconds", "Duration of one sweep job run", buckets=LATENCY_BUCKETS)
FILED = Counter("tracker_incidents_filed", "Incidents filed", ["precedence"])
OVERDUE_EXCHANGES = Counter("tracker_exchanges_overdue", "Exchanges whose deadline the other side let pass")
WATCHDOG_ALERTS = Counter("tracker_watchdog_alerts", "Incidents the watchdog found left behind by the sweep")


class DatabaseCollector:
    """Gauges read from the database at scrape time, so every process reports the same truth."""

    def __init__(self, app):
        self.app = app

    def collect(self):
        from .db import session_scope
        from .models import Incident, IncidentStatus, JobRun
        from .timeutil import utcnow

        incidents = GaugeMetricFamily(
            "tracker_incidents", "Incidents by status and precedence", labels=["status", "precedence"]
        )
        last = GaugeMetricFamily(
            "tracker_last_job_finished_timestamp_seconds", "When each scheduled job last finished", labels=["job"]
        )
        with session_scope(self.app) as session:
            live = session.execute(
                select(Incident.status, Incident.precedence, func.count())
                .where(Incident.status != IncidentStatus.RESOLVED)
                .group_by(Incident.status, Incident.precedence)
            ).all()
            resolved = session.execute(
                select(Incident.precedence, func.count())
                .where(Incident.status == IncidentStatus.RESOLVED)
                .group_by(Incident.precedence)
            ).all()
            runs = session.execute(select(JobRun.name, JobRun.last_finished_at)).all()
            late = self.app.config["SWEEP_INTERVAL_SECONDS"] * self.app.config["WATCHDOG_INTERVALS"]
            missed = session.scalar(  # through the partial index ix_incidents_due
                select(func.count()).where(
                    Incident.status == IncidentStatus.OPEN,
                    Incident.next_escalation_at < utcnow() - timedelta(seconds=late),
                )
            )
        behind = GaugeMetricFamily(
            "tracker_incidents_missed_deadline",
            "Open incidents still unescalated more than WATCHDOG_INTERVALS sweep intervals after their deadline",
            value=missed,
        )
        for status, precedence, count in live:
            incidents.add_metric([status.value, precedence.value], count)
        for precedence, count in resolved:
            incidents.add_metric(["resolved", precedence.value], count)
        for name, finished in runs:
            if finished is not None:
                last.add_metric([name], finished.timestamp())
        yield incidents
        yield last
        yield behind


def exposition(app) -> tuple[bytes, str]:
    """The text format for GET /metrics: process metrics (all processes in multiprocess mode) + database gauges."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        from prometheus_client import REGISTRY

        registry = REGISTRY
    body = generate_latest(registry)
    database = CollectorRegistry()
    database.register(DatabaseCollector(app))
    return body + generate_latest(database), CONTENT_TYPE_LATEST


def observe_seconds(histogram, started: float, *labels) -> None:
    (histogram.labels(*labels) if labels else histogram).observe(time.perf_counter() - started)


def init_app(app) -> None:
    """GET /metrics in the Prometheus text format (kept out of the OpenAPI document)."""
    from flask import Response

    def metrics_view():
        body, content_type = exposition(app)
        return Response(body, content_type=content_type)

    app.add_url_rule("/metrics", "metrics", app.doc(hide=True)(metrics_view))
