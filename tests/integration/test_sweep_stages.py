"""The sweep's stages run one after another, each its own committed batches: one that fails (here a
filing check that raises on one incident's data, every time) is logged and recorded on the sweep's
heartbeat, and the stages after it run anyway. A row that fails a batch of its own is set aside for a
while, so the rows due after it go through (tracker/stages.py); a fault every row meets, or one before
anything is claimed, ends the stage for this sweep; the next sweep tries again."""

import time
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError

from tests.support import build_world, file_incident
from tracker import jobs, stages
from tracker.db import session_scope
from tracker.models import EventKind, Incident, JobRun, TimelineEvent
from tracker.services.engine import escalation, watchdog
from tracker.services.incidents import checks
from tracker.timeutil import utcnow

REAL_ADVANCE = escalation.advance


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
    with session_scope(app) as session:
        poison_id = session.scalar(select(Incident.id).where(Incident.reference == poison))
    assert run.last_error == (
        f"filing checks: incident {poison_id} set aside (ValueError: an exercise area the geometry code cannot read)"
    )
    assert due is not None, "the failed check stays due: the next sweep tries it again"


def _due_in_order(app, references: list[str], ago: timedelta) -> None:
    """Make every incident due, the first of references longest ago (the sweep claims them in that order)."""
    with session_scope(app) as session:
        session.execute(update(Incident).values(checks_due_at=None))
        for n, reference in enumerate(references):
            deadline = utcnow() - ago + timedelta(seconds=n)
            session.execute(update(Incident).where(Incident.reference == reference).values(next_escalation_at=deadline))


def _poisoned(monkeypatch, poison: set[str]) -> list[str]:
    """Make advancing fail for the incidents in poison; return the list every such attempt is added to."""
    tried, real = [], escalation.advance

    def advance(session, incident, *args, **kwargs):
        if incident.reference in poison:
            tried.append(incident.reference)
            raise ValueError(f"a ladder the code cannot read on {incident.reference}")
        return real(session, incident, *args, **kwargs)

    monkeypatch.setattr(escalation, "advance", advance)
    return tried


def _state(app) -> tuple[dict[str, int], str | None]:
    with session_scope(app) as session:
        steps = dict(session.execute(select(Incident.reference, Incident.current_step)).all())
        return steps, session.get(JobRun, "sweep").last_error


@pytest.mark.both_databases
def test_an_incident_that_fails_alone_is_set_aside_and_the_others_escalate(app, monkeypatch):
    """Batches of 4 over 9 due incidents, the sixth of them failing: the batch holding it fails, the
    halves are tried until it fails alone, and every other incident escalates in the same sweep; the
    one set aside keeps its deadline (overdue, for the watchdog) and is passed over until its time
    comes round, then tried again."""
    world, client = build_world(app), app.test_client()
    references = [file_incident(client, world)["reference"] for _ in range(9)]
    poison = references[5]
    _due_in_order(app, references, timedelta(hours=1))
    with session_scope(app) as session:
        deadline = session.scalar(select(Incident.next_escalation_at).where(Incident.reference == poison))
        poison_id = session.scalar(select(Incident.id).where(Incident.reference == poison))
    app.config["SWEEP_BATCH_SIZE"] = 4
    tried = _poisoned(monkeypatch, {poison})

    assert jobs.sweep(app) == 8
    steps, error = _state(app)
    assert steps == {r: 1 if r == poison else 2 for r in references}, steps
    assert tried == [poison] * 3, f"tried in a batch of 4, of 2, then alone: {tried}"
    assert (
        error == f"escalation: incident {poison_id} set aside (ValueError: a ladder the code cannot read on {poison})"
    )
    with session_scope(app) as session:
        kept = session.scalar(select(Incident.next_escalation_at).where(Incident.reference == poison))
    assert kept == deadline, "the incident set aside keeps its deadline: it is overdue, and shown so"

    assert jobs.sweep(app) == 0
    assert tried == [poison] * 3, "passed over while set aside"
    assert _state(app)[1] == error, "the heartbeat names it while it is set aside"
    assert jobs.watch(app) == 1, "the watchdog tells the supervisors about the one incident not escalated"

    monkeypatch.setattr(stages, "_clock", lambda: time.monotonic() + stages.SET_ASIDE_SECONDS)
    monkeypatch.setattr(escalation, "advance", REAL_ADVANCE)
    assert jobs.sweep(app) == 1, "tried again when its time comes round, and escalated once it can be"
    steps, error = _state(app)
    assert steps[poison] == 2 and error is None, (steps, error)


def test_a_failure_of_every_incident_stops_the_stage_after_a_few_set_aside(app, monkeypatch):
    """A fault every incident meets is not one incident's: the stage stops after MOST_SET_ASIDE set
    aside and says so; the next stages run."""
    world, client = build_world(app), app.test_client()
    references = [file_incident(client, world)["reference"] for _ in range(6)]
    _due_in_order(app, references, timedelta(minutes=5))
    app.config["SWEEP_BATCH_SIZE"] = 2
    tried = _poisoned(monkeypatch, set(references))

    assert jobs.sweep(app) == 0
    steps, error = _state(app)
    assert set(steps.values()) == {1}, steps
    assert len(set(tried)) == stages.MOST_SET_ASIDE, tried
    assert error.startswith("escalation: stopped after setting aside 3 incidents in one sweep; "), error
    assert error.count("set aside (ValueError") == 3, error


def test_a_failure_before_anything_is_claimed_sets_nothing_aside(app, monkeypatch):
    """The database refusing the claim is not one row's fault: the stage ends, nothing is set aside."""
    world, client = build_world(app), app.test_client()
    _due_in_order(app, [file_incident(client, world)["reference"]], timedelta(minutes=5))

    def claim_due(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(escalation, "claim_due", claim_due)
    assert jobs.sweep(app) == 0
    assert _state(app)[1] == "escalation: RuntimeError: the database went away"
    assert not app.extensions["tracker.set_aside"]["escalation"]


def test_a_failure_of_the_databases_sets_nothing_aside(app, monkeypatch):
    """A deadlock, a time-out or a lost connection is the database's moment, not a row's fault: the
    stage ends for this sweep as it always did, and the next sweep tries the same rows again."""
    world, client = build_world(app), app.test_client()
    references = [file_incident(client, world)["reference"] for _ in range(3)]
    _due_in_order(app, references, timedelta(minutes=5))

    def advance(session, incident, *args, **kwargs):
        raise OperationalError("UPDATE incidents ...", {}, Exception("deadlock detected"))

    monkeypatch.setattr(escalation, "advance", advance)
    assert jobs.sweep(app) == 0
    steps, error = _state(app)
    assert set(steps.values()) == {1}, steps
    assert error.startswith("escalation: OperationalError: (builtins.Exception) deadlock detected"), error
    assert not app.extensions["tracker.set_aside"]["escalation"], "nothing set aside"
    monkeypatch.setattr(escalation, "advance", REAL_ADVANCE)
    assert jobs.sweep(app) == 3


def test_an_alert_that_cannot_be_made_keeps_no_other_incident_unreported(app, monkeypatch):
    """The watchdog claims missed deadlines in order too: one incident whose alert fails every time is set
    aside, and the supervisors hear about every other."""
    world, client = build_world(app), app.test_client()
    references = [file_incident(client, world)["reference"] for _ in range(5)]
    _due_in_order(app, references, timedelta(hours=1))
    app.config["SWEEP_BATCH_SIZE"] = 2
    real = watchdog.alert

    def alert(session, incident, *args, **kwargs):
        if incident.reference == references[0]:
            raise ValueError("an alert the code cannot make")
        return real(session, incident, *args, **kwargs)

    monkeypatch.setattr(watchdog, "alert", alert)
    assert jobs.watch(app) == 4
    with session_scope(app) as session:
        alerted = session.scalars(
            select(Incident.reference).join(TimelineEvent).where(TimelineEvent.kind == EventKind.WATCHDOG_ALERT)
        ).all()
        poison_id = session.scalar(select(Incident.id).where(Incident.reference == references[0]))
    assert sorted(alerted) == sorted(references[1:]), alerted
    assert list(app.extensions["tracker.set_aside"]["watchdog"]) == [poison_id]
