"""The sweep's stages run one after another, each its own committed batches: one that fails (here a
filing check that raises on one incident's data, every time) is logged and recorded on the sweep's
heartbeat, and the stages after it run anyway; the next sweep tries it again."""

from datetime import timedelta

from sqlalchemy import select, update

from tests.support import build_world, file_incident
from tracker import jobs
from tracker.db import session_scope
from tracker.models import Incident, JobRun
from tracker.services.incidents import checks
from tracker.timeutil import utcnow


def test_a_filing_check_that_keeps_failing_stops_no_escalation(app, monkeypatch):
    world = build_world(app)
    client = app.test_client()
    sound = file_incident(client, world)["reference"]
    poison = file_incident(client, world, latitude=55.0)["reference"]
    with session_scope(app) as session:  # both deadlines passed; the second's filing checks are due
        session.execute(update(Incident).values(next_escalation_at=utcnow() - timedelta(seconds=5), checks_due_at=None))
        session.execute(update(Incident).where(Incident.reference == poison).values(checks_due_at=utcnow()))
    real = checks.check

    def check(session, incident, now, limits):
        if incident.reference == poison:
            raise ValueError("an exercise area the geometry code cannot read")
        real(session, incident, now, limits)

    monkeypatch.setattr(checks, "check", check)
    assert jobs.sweep(app) == 2, "both due incidents escalate although a stage before escalation failed"
    with session_scope(app) as session:
        steps = dict(session.execute(select(Incident.reference, Incident.current_step)).all())
        run = session.get(JobRun, "sweep")
        due = session.scalar(select(Incident.checks_due_at).where(Incident.reference == poison))
    assert steps == {sound: 2, poison: 2}, steps
    assert run.last_error == "filing checks: ValueError: an exercise area the geometry code cannot read"
    assert due is not None, "the failed check stays due: the next sweep tries it again"
