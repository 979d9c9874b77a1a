"""A running scheduler escalates an incident as its deadline passes, not up to a sweep interval later."""

import time
from datetime import timedelta

from sqlalchemy import select

from tests.support import file_incident
from tracker.db import session_scope
from tracker.models import EventKind, Incident, TimelineEvent
from tracker.scheduler import build_scheduler
from tracker.timeutil import utcnow


def test_the_sweep_runs_at_a_deadline_it_saw_coming_between_two_runs_of_its_interval(make_app, world):
    app = make_app(SWEEP_INTERVAL_SECONDS=2)
    reference = file_incident(app.test_client(), world)["reference"]
    scheduler = build_scheduler(app, roles=("sweep",))
    deadline = utcnow() + timedelta(seconds=2.5)  # runs now (sees it), at 2 s (plans it), at 4 s without it
    with session_scope(app) as session:
        session.scalars(select(Incident).where(Incident.reference == reference)).one().next_escalation_at = deadline
    scheduler.start()
    try:
        limit, escalated = time.monotonic() + 10, None
        while escalated is None and time.monotonic() < limit:
            time.sleep(0.05)
            with session_scope(app) as session:
                escalated = session.scalar(select(TimelineEvent.at).where(TimelineEvent.kind == EventKind.ESCALATED))
    finally:
        scheduler.shutdown(wait=True)
    assert escalated is not None, "not escalated within 10 s"
    assert deadline <= escalated < deadline + timedelta(seconds=0.75), (
        f"escalated {(escalated - deadline).total_seconds():.2f} s after its deadline (the interval's run: 1.5 s)"
    )
