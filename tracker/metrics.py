"""Prometheus metrics: what happens in each process (counters, histograms) and what the
database knows at scrape time (incidents by status and precedence, the last sweep).

Process metrics live in the process that does the work: the scheduler escalates and delivers,
web workers file. With PROMETHEUS_MULTIPROC_DIR set (the same directory for the gunicorn workers
and the schedulers of one host; README, "Metrics"), GET /metrics adds up every process's
figures; without it, each process reports its own, and `flask --app wsgi scheduler` can serve
its own on SCHEDULER_METRICS_PORT.
"""

import os
from collections.abc import Iterator
from datetime import timedelta

from apiflask import APIFlask
from flask import Flask, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

# The process metrics live in tracker.instruments (no Flask, so services can count); they are
# re-exported here for the edge, which reads them as metrics.FILED and so on.
from .instruments import (
    DELIVERY_LATENCY,
    ESCALATION_LAG,
    ESCALATIONS,
    FILED,
    NOTIFICATIONS,
    OVERDUE_EXCHANGES,
    SWEEP_DURATION,
    WATCHDOG_ALERTS,
    observe_seconds,
)

__all__ = [
    "DELIVERY_LATENCY",
    "ESCALATIONS",
    "ESCALATION_LAG",
    "FILED",
    "NOTIFICATIONS",
    "OVERDUE_EXCHANGES",
    "SWEEP_DURATION",
    "WATCHDOG_ALERTS",
    "DatabaseCollector",
    "exposition",
    "init_app",
    "observe_seconds",
]


class DatabaseCollector(Collector):
    """Gauges read from the database at scrape time, so every process reports the same truth."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def collect(self) -> Iterator[GaugeMetricFamily]:
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


def exposition(app: Flask) -> tuple[bytes, str]:
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


def init_app(app: APIFlask) -> None:
    """GET /metrics in the Prometheus text format (kept out of the OpenAPI document)."""

    def metrics_view() -> Response:
        body, content_type = exposition(app)
        return Response(body, content_type=content_type)

    app.add_url_rule("/metrics", "metrics", app.doc(hide=True)(metrics_view))
