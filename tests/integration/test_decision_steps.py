"""Steps reached by decision: when the step before one runs out, the supervisors are asked to confirm it
instead of the timer entering it; the question is put again until one confirms (the step is entered at
once) or the incident is acknowledged or resolved, and a last step by decision never exhausts the
ladder without a decision. Time is driven by the `now` handed to the sweep and the watchdog."""

from datetime import timedelta

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select

from tests.support import build_world, file_incident
from tracker import dispatch
from tracker.db import session_scope
from tracker.models import (
    EventKind,
    Incident,
    IncidentStatus,
    Notification,
    NotificationKind,
    NotificationStatus,
    User,
)
from tracker.services.engine import decisions, escalation, watchdog
from tracker.services.incidents import ladder

REASK = decisions.REASK


def decision_world(app, steps=(("L1",), ("L2",), ("L3",)), by_decision=(3,), repeat=0):
    """The test world with the given steps (60 s each), those numbered in by_decision entered by decision."""
    world = build_world(app, steps=steps, ack_seconds=60, repeat=repeat)
    with session_scope(app) as session:
        policy = ladder.get_policy(session, world.policy_id)
        data = [
            {"channel_ids": [world.channels[c] for c in step], "ack_seconds": 60, "by_decision": n in by_decision}
            for n, step in enumerate(steps, start=1)
        ]
        ladder.save_policy(session, {"steps": data}, policy)
    return world


def sweep(app, moment) -> int:
    with session_scope(app) as session:
        return escalation.sweep_batch(session, moment, 100, "test", dispatch.ack_links(app))


def state(app, reference):
    """The incident (detached), its outbox rows (kind, step, loop, recipient, status) and its timeline."""
    with session_scope(app) as session:
        incident = session.scalar(select(Incident).where(Incident.reference == reference))
        rows = [(n.kind.value, n.step, n.loop, n.recipient, n.status.value) for n in incident.notifications]
        events = [(e.kind, e.actor, e.details) for e in incident.events]
        session.expunge(incident)
        return incident, rows, events


def asks(rows) -> list[tuple]:
    return [r[:4] for r in rows if r[0] == "decision_asked"]


def decisions_counted(outcome: str) -> float:
    return REGISTRY.get_sample_value("tracker_decisions_total", {"outcome": outcome}) or 0.0


def reach_the_question(app, client, world) -> tuple[str, object]:
    """File an incident and sweep it past steps 1 and 2: step 3 (by decision) is asked; (reference, time asked)."""
    reference = file_incident(client, world)["reference"]
    moment = state(app, reference)[0].next_escalation_at
    assert sweep(app, moment) == 1  # step 1 -> 2, by timer
    moment = state(app, reference)[0].next_escalation_at
    assert sweep(app, moment) == 1  # step 2 runs out: step 3 is asked about
    return reference, moment


def test_a_step_by_decision_is_asked_of_the_supervisors_then_asked_again_until_confirmed(app, client):
    world = decision_world(app)
    asked, reasked = decisions_counted("asked"), decisions_counted("reasked")
    reference, moment = reach_the_question(app, client, world)
    incident, rows, events = state(app, reference)
    assert incident.status is IncidentStatus.OPEN and incident.current_step == 2, "it stays on its current step"
    assert (incident.decision_step, incident.decision_asked_at, incident.decision_asks) == (3, moment, 1)
    assert incident.next_escalation_at == moment + REASK, "the next ask, not a step"
    assert asks(rows) == [("decision_asked", 3, 1, "supervisor")], rows
    assert not [r for r in rows if r[3] == "L3"], "L3 is not called by the timer"
    kind, actor, details = events[-1]
    assert (kind, actor, details["step"], details["ask"], details["supervisors"]) == (
        EventKind.DECISION_ASKED,
        "scheduler",
        3,
        1,
        ["supervisor"],
    )
    assert decisions_counted("asked") == asked + 1
    with session_scope(app) as session:
        question = session.scalars(
            select(Notification).where(Notification.kind == NotificationKind.DECISION_ASKED)
        ).one()
        assert question.subject.endswith("DECISION NEEDED")
        assert f"http://tracker.test/incidents/{reference}" in question.body, question.body
        assert "step 3" in question.body and "L3" in question.body
        assert "in time. Asked again every" in question.body, "a sentence begins with a capital"

    assert sweep(app, moment + REASK - timedelta(seconds=1)) == 0, "not asked again before its time"
    assert sweep(app, moment + REASK) == 1
    incident, rows, events = state(app, reference)
    assert (incident.current_step, incident.decision_step, incident.decision_asks) == (2, 3, 2), "asked again"
    assert incident.decision_asked_at == moment, "first asked then"
    assert asks(rows) == [("decision_asked", 3, 1, "supervisor"), ("decision_asked", 3, 2, "supervisor")]
    assert decisions_counted("reasked") == reasked + 1

    answer = client.post(f"/api/v1/incidents/{reference}/decision", json={"step": 3}, headers=world.auth("supervisor"))
    body = answer.get_json()
    assert answer.status_code == 200, body
    assert (body["current_step"], body["loop"], body["decision_step"], body["status"]) == (3, 0, None, "open")
    incident, rows, events = state(app, reference)
    [confirmed] = [e for e in events if e[0] is EventKind.DECISION_CONFIRMED]
    assert confirmed[1] == "supervisor" and confirmed[2]["step"] == 3 and confirmed[2]["asks"] == 2, confirmed
    entered = events[-1]
    assert (
        entered[0] is EventKind.ESCALATED
        and entered[2]["channels"] == ["L3"]
        and entered[2]["decided_by"] == "supervisor"
    )
    assert ("escalated", 3, 0, "L3", "pending") in rows, "its lines called at once, in the request"
    confirmed_at = next(e for e in body["timeline"] if e["kind"] == "decision_confirmed")["at"]
    assert body["next_escalation_at"] is not None and body["next_escalation_at"] > confirmed_at, "its deadline set"
    assert {r[4] for r in rows if r[0] == "decision_asked"} == {"cancelled"}, "unsent questions are withdrawn"
    with session_scope(app) as session:
        call = session.scalars(select(Notification).where(Notification.channel_id == world.channels["L3"])).one()
        assert "ESCALATED by decision of supervisor" in call.body and call.payload["acknowledge"]["token"]

    again = client.post(f"/api/v1/incidents/{reference}/decision", json={}, headers=world.auth("supervisor"))
    assert again.status_code == 409 and again.get_json()["error"]["details"]["decision_step"] is None


@pytest.mark.parametrize("ending", ["acknowledge", "resolve"])
def test_acknowledging_or_resolving_ends_the_question(app, client, ending):
    world = decision_world(app)
    reference, moment = reach_the_question(app, client, world)
    body = {"note": "On it"} if ending == "acknowledge" else {"resolution": "Explained."}
    answer = client.post(f"/api/v1/incidents/{reference}/{ending}", json=body, headers=world.auth("supervisor"))
    assert answer.status_code == 200, answer.get_json()
    assert (answer.get_json()["decision_step"], answer.get_json()["decision_asks"]) == (None, 0)
    assert sweep(app, moment + 10 * REASK) == 0, "never asked again"
    _, rows, _ = state(app, reference)
    assert asks(rows) == [("decision_asked", 3, 1, "supervisor")]
    assert [r[4] for r in rows if r[0] == "decision_asked"] == ["cancelled"]
    refused = client.post(f"/api/v1/incidents/{reference}/decision", json={}, headers=world.auth("supervisor"))
    assert refused.status_code == 409, refused.get_json()


def test_a_last_step_by_decision_never_exhausts_the_ladder_without_a_decision(app, client):
    world = decision_world(app, steps=(("L1",), ("L2",)), by_decision=(2,), repeat=1)
    reference = file_incident(client, world)["reference"]
    moment = state(app, reference)[0].next_escalation_at
    for ask in range(1, 5):
        assert sweep(app, moment) == 1
        incident = state(app, reference)[0]
        assert incident.status is IncidentStatus.OPEN and incident.decision_asks == ask, f"ask {ask}"
        moment = incident.next_escalation_at
    _, rows, _ = state(app, reference)
    assert [r[2] for r in asks(rows)] == [1, 2, 3, 4], "each ask its own row"

    with session_scope(app) as session:
        supervisor = session.scalar(select(User).where(User.username == "supervisor"))
        incident = session.scalar(select(Incident).where(Incident.reference == reference))
        decisions.confirm(session, incident, supervisor, moment, dispatch.ack_links(app), step=2)
    moment += timedelta(seconds=60)
    assert sweep(app, moment) == 1 and state(app, reference)[0].loop == 1, "its repeats run by timer"
    assert sweep(app, moment + timedelta(seconds=60)) == 1
    assert state(app, reference)[0].status is IncidentStatus.EXHAUSTED, "decided, it runs out as any step"


def test_a_question_about_another_step_is_refused(app, client):
    world = decision_world(app, by_decision=(2, 3))
    reference = file_incident(client, world)["reference"]
    assert sweep(app, state(app, reference)[0].next_escalation_at) == 1
    wrong = client.post(f"/api/v1/incidents/{reference}/decision", json={"step": 3}, headers=world.auth("admin"))
    assert wrong.status_code == 409 and "step 2" in wrong.get_json()["error"]["message"], wrong.get_json()
    assert state(app, reference)[0].current_step == 1
    right = client.post(f"/api/v1/incidents/{reference}/decision", json={"step": 2}, headers=world.auth("admin"))
    assert right.status_code == 200 and right.get_json()["current_step"] == 2, right.get_json()


@pytest.mark.both_databases  # the watchdog's claim and its deadline arithmetic are SQL
def test_the_watchdog_leaves_a_question_asked_again_on_time_alone_but_not_one_left_behind(app, client):
    world = decision_world(app)
    reference, moment = reach_the_question(app, client, world)
    late = timedelta(minutes=5)
    for n in range(1, 4):  # asked again on time, and the watchdog looks after each ask's time
        assert sweep(app, moment + n * REASK) == 1
        with session_scope(app) as session:
            assert watchdog.check_batch(session, moment + n * REASK + late, moment + n * REASK, 100, "test") == 0
    with session_scope(app) as session:  # the sweep stalls: the next ask is missed
        asked_again_at = session.scalar(select(Incident).where(Incident.reference == reference)).next_escalation_at
        assert watchdog.check_batch(session, asked_again_at + late, asked_again_at + late / 2, 100, "test") == 1
    _, rows, events = state(app, reference)
    alert = next(d for k, _, d in events if k is EventKind.WATCHDOG_ALERT)
    assert alert["decision_step"] == 3 and alert["step"] == 2, alert
    with session_scope(app) as session:
        told = session.scalars(select(Notification).where(Notification.kind == NotificationKind.WATCHDOG)).one()
        assert "decision on step 3" in told.body, told.body
    assert len(asks(rows)) == 4 and NotificationStatus.PENDING.value in {r[4] for r in rows}
