"""Prometheus metrics: what happens in each process (counters, histograms) and what the database
knows (incidents by status and precedence, when each job last finished, missed deadlines).

Process metrics live in the process that does the work: the scheduler escalates and delivers,
web workers file. With PROMETHEUS_MULTIPROC_DIR set (the same directory for the gunicorn workers
and the schedulers of one host; README, "Metrics"), GET /metrics adds up every process's
figures; without it, each process reports its own, and `flask --app wsgi scheduler` can serve
its own on SCHEDULER_METRICS_PORT.

The database's figures are not counted at scrape time: the scheduler's "metrics" job counts them
every METRICS_REFRESH_SECONDS in a reading transaction and keeps their text in one row of
metrics_snapshots, which GET /metrics serves as it is (tracker_metrics_snapshot_timestamp_seconds
says when it was counted). A flood of scrapes costs one primary-key read each, in a transaction that
never takes SQLite's write lock.

GET /metrics wants a bearer token: an API token whose user holds metrics:read, or the scrape secret
METRICS_SCRAPE_SECRET (Prometheus: `authorization: {credentials_file: ...}`). Without one it
answers 401, to a user without the permission 403.
"""

import hmac
import os
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta

from apiflask import APIFlask
from flask import Flask, Response, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from .db import get_session, session_scope
from .http import tokens

# The process metrics live in tracker.instruments (no Flask, so services can count); they are
# re-exported here for the edge, which reads them as metrics.FILED and so on.
from .instruments import (
    DECISIONS,
    DELIVERY_LATENCY,
    ESCALATION_LAG,
    ESCALATIONS,
    FILED,
    IDLE_ACTIONS,
    NOTIFICATIONS,
    OVERDUE_EXCHANGES,
    SWEEP_DURATION,
    WATCHDOG_ALERTS,
    observe_seconds,
)
from .models import Incident, IncidentStatus, JobRun, MetricsSnapshot
from .models.permissions import Permission, may
from .timeutil import utcnow

__all__ = [
    "DECISIONS",
    "DELIVERY_LATENCY",
    "ESCALATIONS",
    "ESCALATION_LAG",
    "FILED",
    "IDLE_ACTIONS",
    "NOTIFICATIONS",
    "OVERDUE_EXCHANGES",
    "SWEEP_DURATION",
    "WATCHDOG_ALERTS",
    "exposition",
    "init_app",
    "observe_seconds",
    "refresh_snapshot",
]

SNAPSHOT = "database"


def database_figures(session: Session, config, now: datetime) -> list[Metric]:
    """The database's gauges as of now, counted in session."""
    incidents = GaugeMetricFamily(
        "tracker_incidents", "Incidents by status and precedence", labels=["status", "precedence"]
    )
    last = GaugeMetricFamily(
        "tracker_last_job_finished_timestamp_seconds", "When each scheduled job last finished", labels=["job"]
    )
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
    late = config["SWEEP_INTERVAL_SECONDS"] * config["WATCHDOG_INTERVALS"]
    missed = session.scalar(  # through the partial index ix_incidents_due
        select(func.count()).where(
            Incident.status == IncidentStatus.OPEN,
            Incident.next_escalation_at < now - timedelta(seconds=late),
        )
    )
    for status, precedence, count in live:
        incidents.add_metric([status.value, precedence.value], count)
    for precedence, count in resolved:
        incidents.add_metric(["resolved", precedence.value], count)
    for name, finished in runs:
        if finished is not None:
            last.add_metric([name], finished.timestamp())
    behind = GaugeMetricFamily(
        "tracker_incidents_missed_deadline",
        "Open incidents still unescalated more than WATCHDOG_INTERVALS sweep intervals after their deadline",
        value=missed or 0,
    )
    counted = GaugeMetricFamily(
        "tracker_metrics_snapshot_timestamp_seconds",
        "When the database's figures on this page were counted (the scheduler's metrics job)",
        value=now.timestamp(),
    )
    return [incidents, last, behind, counted]


class _Given(Collector):
    def __init__(self, families: Iterable[Metric]) -> None:
        self.families = list(families)

    def collect(self) -> Iterator[Metric]:
        return iter(self.families)


def refresh_snapshot(app: Flask) -> None:
    """Count the database's figures in a reading transaction, then keep their text for GET /metrics."""
    now = utcnow()
    with session_scope(app, reads_only=True) as session:
        registry = CollectorRegistry(auto_describe=False)
        registry.register(_Given(database_figures(session, app.config, now)))
        body = generate_latest(registry).decode()
    with session_scope(app) as session:
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        table = MetricsSnapshot.__table__
        stmt = dialect.insert(table).values(name=SNAPSHOT, body=body, refreshed_at=now)
        session.execute(
            stmt.on_conflict_do_update(
                index_elements=[table.c.name], set_={"body": stmt.excluded.body, "refreshed_at": now}
            )
        )


def exposition(session: Session) -> tuple[bytes, str]:
    """The text for GET /metrics: the process metrics (all processes in multiprocess mode), then the
    database's figures as the metrics job last counted them (none before its first run)."""
    registry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    snapshot = session.get(MetricsSnapshot, SNAPSHOT)
    return generate_latest(registry) + (snapshot.body.encode() if snapshot else b""), CONTENT_TYPE_LATEST


def _refusal() -> Response | None:
    """None when the caller sent the scrape secret, or the token of a user who may read metrics."""
    scheme, _, credential = request.headers.get("Authorization", "").partition(" ")
    credential = credential.strip()
    if scheme.lower() != "bearer" or not credential:
        return _refuse(401, "send a bearer token: the scrape secret, or the API token of a user who may read metrics")
    secret = current_app.config["METRICS_SCRAPE_SECRET"]
    if secret and hmac.compare_digest(credential.encode(), secret.encode()):
        return None
    # Under the limit on wrong tokens per address; a scrape writes nothing, not even the token's last use.
    user = tokens.user_for_token(credential, record_use=False)
    if user is None:
        return _refuse(401, "the bearer token is neither the scrape secret nor a valid API token")
    if not may(user.role, Permission.METRICS_READ):
        return _refuse(403, f"{user.username} ({user.role.label}) may not read metrics")
    return None


def _refuse(status: int, message: str) -> Response:
    headers = {"WWW-Authenticate": 'Bearer realm="metrics"'} if status == 401 else {}
    return Response(message + "\n", status, headers, mimetype="text/plain")


def metrics_view() -> Response:
    """The Prometheus text format, for a caller with a bearer token that may read it."""
    refused = _refusal()
    if refused is not None:
        return refused
    body, content_type = exposition(get_session())
    return Response(body, content_type=content_type)


metrics_view.permission = Permission.METRICS_READ  # type: ignore[attr-defined]  # read by the authorization matrix test


def init_app(app: APIFlask) -> None:
    """GET /metrics in the Prometheus text format (kept out of the OpenAPI document)."""
    app.add_url_rule("/metrics", "metrics", app.doc(hide=True)(metrics_view))
