"""The process metrics: Prometheus counters and histograms that the code doing the work updates.

Kept apart from tracker.metrics (the GET /metrics endpoint and the database gauges, which need
Flask and a session) so that services can count what they do without importing the edge. What a
transaction did is counted when it commits (when_committed): a batch rolled back and retried in halves
(tracker.stages), or a filing whose commit failed, is not counted twice, or at all.
"""

import logging
import time
from collections.abc import Callable

from prometheus_client import Counter, Histogram
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

log = logging.getLogger("tracker.instruments")
LAG_BUCKETS = (0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30, 60, 300, 900)
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

ESCALATIONS = Counter(
    "tracker_escalations",
    "Due incidents the sweep moved up their ladder, exhausted, or asked the supervisors about (decision_asked)",
    ["outcome"],
)
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
IDLE_ACTIONS = Counter(
    "tracker_idle_actions",
    "Acknowledged incidents idle past their acknowledgement timeout, by what the sweep did (reminded, reescalated)",
    ["action"],
)
DECISIONS = Counter(
    "tracker_decisions", "Ladder steps reached by decision: questions put, put again, confirmed", ["outcome"]
)


def observe_seconds(histogram: Histogram, started: float, *labels: str) -> None:
    """Record the time since started (a time.perf_counter() reading) in histogram."""
    (histogram.labels(*labels) if labels else histogram).observe(time.perf_counter() - started)


_PENDING = "tracker.instruments.pending"


def when_committed(session: Session, record: Callable[[], object]) -> None:
    """Call record once the session's outermost transaction commits; forget it if that transaction ends
    otherwise. (A savepoint rolled back inside a transaction that commits takes back nothing: count
    nothing inside one.)"""
    session.info.setdefault(_PENDING, []).append(record)


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    if session.get_nested_transaction() is not None:  # a savepoint released: its transaction goes on
        return
    for record in session.info.pop(_PENDING, ()):
        try:
            record()
        except Exception:  # the transaction is committed: a count that fails must not say otherwise
            log.exception("a metric could not be counted")


@event.listens_for(Session, "after_transaction_end")
def _ended(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the outermost: what it did was committed (and counted) or is undone
        session.info.pop(_PENDING, None)
