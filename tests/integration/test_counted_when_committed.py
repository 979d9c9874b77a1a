"""What a transaction did is counted in the process metrics when it commits (instruments.when_committed):
a sweep batch that fails and is retried in halves counts each escalation once, and work rolled back is
not counted at all."""

from datetime import timedelta

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import update

from tests.support import build_world, file_incident
from tracker import instruments, jobs
from tracker.db import session_scope
from tracker.models import Incident
from tracker.services.engine import escalation
from tracker.timeutil import utcnow


def lags_observed() -> float:
    return REGISTRY.get_sample_value("tracker_escalation_lag_seconds_count") or 0.0


def escalated() -> float:
    return REGISTRY.get_sample_value("tracker_escalations_total", {"outcome": "escalated"}) or 0.0


def test_a_record_runs_when_the_outermost_transaction_commits_and_never_if_it_rolls_back(app):
    counted: list[str] = []
    with session_scope(app) as session:
        instruments.when_committed(session, lambda: counted.append("outer"))
        with session.begin_nested():
            instruments.when_committed(session, lambda: counted.append("savepoint"))
        assert counted == [], "a savepoint released is no commit"
    assert counted == ["outer", "savepoint"]

    with pytest.raises(RuntimeError), session_scope(app) as session:
        instruments.when_committed(session, lambda: counted.append("rolled back"))
        raise RuntimeError("the work failed")
    with session_scope(app) as session:  # the same sessionmaker: nothing left over from the rollback
        pass
    assert counted == ["outer", "savepoint"], counted


def test_a_batch_retried_in_halves_counts_each_escalation_once(app, monkeypatch):
    world, client = build_world(app), app.test_client()
    references = [file_incident(client, world)["reference"] for _ in range(9)]
    poison = references[5]
    with session_scope(app) as session:
        session.execute(update(Incident).values(checks_due_at=None))
        for n, reference in enumerate(references):
            deadline = utcnow() - timedelta(hours=1) + timedelta(seconds=n)
            session.execute(update(Incident).where(Incident.reference == reference).values(next_escalation_at=deadline))
    app.config["SWEEP_BATCH_SIZE"] = 4
    real = escalation.advance

    def advance(session, incident, *args, **kwargs):
        if incident.reference == poison:
            raise ValueError("a ladder the code cannot read")
        return real(session, incident, *args, **kwargs)

    monkeypatch.setattr(escalation, "advance", advance)
    lags, counted = lags_observed(), escalated()
    assert jobs.sweep(app) == 8
    assert (lags_observed() - lags, escalated() - counted) == (8, 8), (
        "the batches that failed (of 4, of 2, of 1) counted nothing"
    )


def test_a_count_that_fails_fails_no_committed_transaction_and_spares_the_others(app):
    counted: list[str] = []

    def failing() -> None:
        raise OSError(28, "No space left on device")

    with session_scope(app) as session:
        instruments.when_committed(session, failing)
        instruments.when_committed(session, lambda: counted.append("after"))
    assert counted == ["after"]
