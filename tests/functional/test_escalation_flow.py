"""With the real scheduler running: an unacknowledged incident climbs its ladder to exhausted;
an acknowledgement stops it. The timeline and the outbox files must tell the same story."""

import time
from datetime import datetime, timedelta

import pytest

from tests.support import build_world, file_incident, outbox_files
from tracker.db import session_scope
from tracker.models import JobRun

# The real scheduler's claims.
pytestmark = [pytest.mark.slow, pytest.mark.both_databases]


def wait_for(client, world, reference, predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    body = None
    while time.monotonic() < deadline:
        body = client.get(f"/api/v1/incidents/{reference}", headers=world.auth("supervisor")).get_json()
        if predicate(body):
            return body
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s; last state: {body}")


def wait_until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"no {what} within {timeout} s"
        time.sleep(0.1)


def sweep_started_after(app, moment: datetime) -> bool:
    with session_scope(app) as session:
        run = session.get(JobRun, "sweep")
        return run is not None and run.last_finished_at is not None and run.last_started_at > moment


def all_sent(body):
    """Every message sent, and its delivery on the timeline (on PostgreSQL the two lists of one
    read may come from different moments, so wait for both)."""
    rows = body["notifications"]
    delivered = [e for e in body["timeline"] if e["kind"] == "notified"]
    return rows and all(n["status"] == "sent" for n in rows) and len(delivered) == len(rows)


def test_unacknowledged_incident_escalates_to_step_two_then_exhausted(app, client, scheduler):
    world = build_world(app, steps=(("L1",), ("L2",)), ack_seconds=1, repeat=0)
    reference = file_incident(client, world)["reference"]

    at_step_two = wait_for(client, world, reference, lambda b: b["current_step"] == 2)
    assert at_step_two["status"] == "open"

    body = wait_for(client, world, reference, lambda b: b["status"] == "exhausted" and all_sent(b))
    kinds = [e["kind"] for e in body["timeline"] if e["kind"] != "notified"]
    assert kinds == ["filed", "routed", "escalated", "exhausted"], body["timeline"]
    escalated = next(e for e in body["timeline"] if e["kind"] == "escalated")
    assert escalated["details"]["from_step"] == 1 and escalated["details"]["step"] == 2
    assert escalated["details"]["channels"] == ["L2"]
    assert body["next_escalation_at"] is None

    messages = [(n["kind"], n["step"], n["channel"] or n["user"]) for n in body["notifications"]]
    assert messages == [("notified", 1, "L1"), ("escalated", 2, "L2"), ("exhausted", 2, "supervisor")]
    notified = [e["details"]["recipient"] for e in body["timeline"] if e["kind"] == "notified"]
    assert sorted(notified) == ["L1", "L2", "supervisor"]

    files = outbox_files(app)
    assert len(files) == 3, [f.name for f in files]
    texts = [f.read_text() for f in files]
    assert "To: L1 <l1@test.example>" in texts[0] and "New incident" in texts[0]
    assert "To: L2 <l2@test.example>" in texts[1] and "ESCALATED" in texts[1]
    assert "To: supervisor <supervisor@test.example>" in texts[2] and "EXHAUSTED" in texts[2]
    assert all(reference in t for t in texts)


def test_acknowledgement_stops_the_escalation(app, client, scheduler):
    world = build_world(app, steps=(("L1",), ("L2",)), ack_seconds=2, repeat=3)
    filed = file_incident(client, world)
    reference = filed["reference"]
    wait_for(client, world, reference, all_sent)

    response = client.post(
        f"/api/v1/incidents/{reference}/acknowledge", json={"note": "on it"}, headers=world.auth("liaison")
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "acknowledged"

    # A sweep that started after the deadline the acknowledgement removed would have escalated it (a sweep takes
    # its "now" after its start is noted: tracker/jobs.py). The deadline is read to the microsecond, so a few
    # hundredths past it are enough; half a second waited for two more sweeps (0.2 s apart) with no more to prove.
    deadline = datetime.fromisoformat(filed["next_escalation_at"])
    wait_until(lambda: sweep_started_after(app, deadline + timedelta(seconds=0.05)), 15, "a sweep past the deadline")
    body = client.get(f"/api/v1/incidents/{reference}", headers=world.auth("supervisor")).get_json()
    assert body["status"] == "acknowledged" and body["current_step"] == 1, body
    kinds = [(e["kind"], e["details"].get("message")) for e in body["timeline"]]
    assert kinds == [
        ("filed", None),
        ("routed", None),
        ("notified", "notified"),
        ("acknowledged", None),
        ("notified", "acknowledged"),  # L1, already notified, is told who took it
    ], kinds
    assert [(n["kind"], n["status"]) for n in body["notifications"]] == [("notified", "sent"), ("acknowledged", "sent")]
    files = outbox_files(app)
    assert len(files) == 2 and "ACKNOWLEDGED by liaison" in files[1].read_text()
    assert body["acknowledged_by"] == "liaison"
