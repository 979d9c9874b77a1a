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


def test_deadlines_closer_than_the_interval_each_escalate_as_they_pass(make_app, world):
    """Incidents filed 0.7 s apart (six, as reported; two here, 0.6 s apart): the first escalated on time and the
    others together at the next interval, up to an interval late, since the run after the first was planned before
    its sweep saw the second deadline."""
    app = make_app(SWEEP_INTERVAL_SECONDS=2)
    client = app.test_client()
    references = [file_incident(client, world)["reference"] for _ in range(2)]
    scheduler = build_scheduler(app, roles=("sweep",))
    start = utcnow()
    deadlines = [start + timedelta(seconds=2.3), start + timedelta(seconds=2.9)]
    with session_scope(app) as session:
        for reference, deadline in zip(references, deadlines, strict=True):
            incident = session.scalars(select(Incident).where(Incident.reference == reference)).one()
            incident.next_escalation_at = deadline
    scheduler.start()
    try:
        limit, escalated = time.monotonic() + 10, []
        while len(escalated) < 2 and time.monotonic() < limit:
            time.sleep(0.05)
            with session_scope(app) as session:
                escalated = session.scalars(
                    select(TimelineEvent.at).where(TimelineEvent.kind == EventKind.ESCALATED).order_by(TimelineEvent.at)
                ).all()
    finally:
        scheduler.shutdown(wait=True)
    assert len(escalated) == 2, f"escalated {len(escalated)} of 2 within 10 s"
    late = [round((at - deadline).total_seconds(), 2) for at, deadline in zip(escalated, deadlines, strict=True)]
    assert all(0 <= seconds < 0.75 for seconds in late), f"seconds after each deadline: {late} (the interval's: 1.4)"


def test_stopping_the_scheduler_ends_the_sweeps_wait(make_app):
    """The shutdown waits for the running jobs: a sweep waiting for a deadline would hold it up to an interval."""
    from tracker.scheduler import stop_waiting

    scheduler = build_scheduler(make_app(SWEEP_INTERVAL_SECONDS=2), roles=("sweep",))
    trigger = scheduler.get_job("sweep").trigger
    assert not trigger.stopping.is_set()
    stop_waiting(scheduler)
    assert trigger.stopping.is_set()
