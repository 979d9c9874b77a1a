"""The sweep against a real database: steps, repeats, exhaustion, skipped channels, claims."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.support import build_world, file_incident
from tracker import dispatch
from tracker.db import session_scope
from tracker.models import ContactChannel, EventKind, Incident, Notification, TimelineEvent
from tracker.services.engine import escalation
from tracker.services.incidents import ladder

# The sweep's claims, steps and repeats are SQL (SKIP LOCKED on PostgreSQL).
pytestmark = pytest.mark.both_databases


def sweep_at(app, moment, limit=100):
    with session_scope(app) as session:
        return escalation.sweep_batch(session, moment, limit, "test", dispatch.ack_links(app))


def state(app, reference):
    with session_scope(app) as session:
        incident = session.scalar(select(Incident).where(Incident.reference == reference))
        messages = [(n.kind.value, n.step, n.loop, n.recipient) for n in incident.notifications]
        events = [e.kind for e in incident.events]
        return incident, messages, events


def test_nothing_escalates_before_its_deadline(app, client):
    world = build_world(app, ack_seconds=600)
    reference = file_incident(client, world)["reference"]
    incident, _, _ = state(app, reference)
    assert sweep_at(app, incident.next_escalation_at - timedelta(seconds=1)) == 0
    assert sweep_at(app, incident.next_escalation_at) == 1
    assert state(app, reference)[0].current_step == 2


def test_last_step_repeats_then_exhausts_and_tells_every_supervisor(app, client):
    world = build_world(app, steps=(("L1",), ("L2", "L3")), ack_seconds=60, repeat=2)
    reference = file_incident(client, world)["reference"]
    moment = state(app, reference)[0].next_escalation_at
    for expected in [(2, 0), (2, 1), (2, 2)]:
        assert sweep_at(app, moment) == 1
        incident = state(app, reference)[0]
        assert (incident.current_step, incident.loop) == expected
        assert incident.next_escalation_at == moment + timedelta(seconds=60)
        moment = incident.next_escalation_at
    assert sweep_at(app, moment) == 1
    incident, messages, events = state(app, reference)
    assert incident.status.value == "exhausted" and incident.next_escalation_at is None
    assert messages == [
        ("notified", 1, 0, "L1"),
        ("escalated", 2, 0, "L2"),
        ("escalated", 2, 0, "L3"),
        ("escalated", 2, 1, "L2"),
        ("escalated", 2, 1, "L3"),
        ("escalated", 2, 2, "L2"),
        ("escalated", 2, 2, "L3"),
        ("exhausted", 2, 2, "supervisor"),
    ]
    assert events.count(EventKind.ESCALATED) == 3 and events[-1] is EventKind.EXHAUSTED
    assert sweep_at(app, moment + timedelta(days=1)) == 0, "an exhausted incident is never swept again"


def test_a_step_without_an_active_channel_does_not_wait_out_its_timer(app, client):
    world = build_world(app, steps=(("L1",), ("L2",), ("L3",)), ack_seconds=600)
    reference = file_incident(client, world)["reference"]
    with session_scope(app) as session:  # the line goes down after the incident was routed
        session.get(ContactChannel, world.channels["L2"]).active = False
    first_deadline = state(app, reference)[0].next_escalation_at
    assert sweep_at(app, first_deadline) == 1
    incident, messages, _ = state(app, reference)
    assert incident.current_step == 2 and incident.next_escalation_at == first_deadline, "due at once"
    assert sweep_at(app, first_deadline) == 1
    incident, messages, _ = state(app, reference)
    assert incident.current_step == 3
    assert [m[3] for m in messages] == ["L1", "L3"]
    with session_scope(app) as session:
        escalated = session.scalars(
            select(TimelineEvent).where(TimelineEvent.kind == EventKind.ESCALATED).order_by(TimelineEvent.id)
        ).all()
        assert escalated[0].details["skipped"] == ["L2"] and escalated[0].details["channels"] == []


def test_a_step_whose_lines_were_inactive_at_filing_calls_its_fallback(app, client):
    # The snapshot leaves inactive lines out, so step 2 holds none of its own: its fallback stands in, as it
    # does for a line found inactive or down when the step is entered, rather than the step waiting out its
    # time with nobody called.
    world = build_world(app, ack_seconds=600)
    with session_scope(app) as session:
        steps = [
            {"channel_ids": [world.channels["L1"]], "ack_seconds": 600},
            {"channel_ids": [world.channels["L2"]], "ack_seconds": 600, "fallback_channel_id": world.channels["L3"]},
        ]
        ladder.save_policy(session, {"steps": steps}, ladder.get_policy(session, world.policy_id))
        session.get(ContactChannel, world.channels["L2"]).active = False
    reference = file_incident(client, world)["reference"]
    deadline = state(app, reference)[0].next_escalation_at
    assert sweep_at(app, deadline) == 1
    incident, messages, _ = state(app, reference)
    assert incident.current_step == 2 and incident.next_escalation_at == deadline + timedelta(seconds=600)
    assert messages == [("notified", 1, 0, "L1"), ("escalated", 2, 0, "L3")]
    with session_scope(app) as session:
        [fallback] = session.scalars(select(TimelineEvent).where(TimelineEvent.kind == EventKind.FALLBACK)).all()
        assert (fallback.details["fallback"], fallback.details["step"]) == ("L3", 2)


def test_a_line_made_a_counterpart_line_since_filing_is_passed_for_the_fallback(app, client):
    # The policy lets go of L2, which then becomes a line to the other side; the running ladder's snapshot still
    # names it. Our call to act, with its acknowledge link, is not queued for the other side: the fallback takes it.
    # (A line on a running ladder is refused as a counterpart line now: this one was made so before, on the row.)
    world = build_world(app, ack_seconds=600)
    l1, l2, l3 = (world.channels[name] for name in ("L1", "L2", "L3"))
    with session_scope(app) as session:
        steps = [{"channel_ids": [l1], "ack_seconds": 600}, {"channel_ids": [l2], "fallback_channel_id": l3}]
        ladder.save_policy(session, {"steps": steps}, ladder.get_policy(session, world.policy_id))
    reference = file_incident(client, world)["reference"]
    with session_scope(app) as session:
        steps = [{"channel_ids": [l1], "ack_seconds": 600}, {"channel_ids": [l3]}]
        ladder.save_policy(session, {"steps": steps}, ladder.get_policy(session, world.policy_id))
        theirs = {"counterpart_line": True, "counterpart_state": "Eastland", "address": "hotline@eastland.example"}
        line = ladder.get_channel(session, l2)
        for name, value in theirs.items():
            setattr(line, name, value)
    assert sweep_at(app, state(app, reference)[0].next_escalation_at) == 1
    _, messages, _ = state(app, reference)
    assert messages == [("notified", 1, 0, "L1"), ("escalated", 2, 0, "L3")]
    with session_scope(app) as session:
        [fallback] = session.scalars(select(TimelineEvent).where(TimelineEvent.kind == EventKind.FALLBACK)).all()
        assert (fallback.details["skipped"], fallback.details["reason"]) == ("L2", "a counterpart line now")


def test_acknowledged_incident_is_not_claimed(app, client):
    world = build_world(app, ack_seconds=60)
    reference = file_incident(client, world)["reference"]
    deadline = state(app, reference)[0].next_escalation_at
    client.post(f"/api/v1/incidents/{reference}/acknowledge", headers=world.auth("liaison"))
    assert sweep_at(app, deadline + timedelta(hours=1)) == 0
    incident, messages, _ = state(app, reference)
    assert incident.current_step == 1 and len(messages) == 1


def test_claim_bumps_the_version_and_honours_the_batch_size(app, client):
    world = build_world(app, ack_seconds=60)
    references = [file_incident(client, world)["reference"] for _ in range(5)]
    later = state(app, references[-1])[0].next_escalation_at
    versions = {r: state(app, r)[0].version for r in references}
    assert sweep_at(app, later, limit=3) == 3
    assert sweep_at(app, later, limit=3) == 2
    for reference in references:  # once per escalation: the claim locks the row, the new step bumps it
        assert state(app, reference)[0].version == versions[reference] + 1
    with session_scope(app) as session:
        assert session.scalar(select(func.count()).select_from(Notification)) == 10


def test_a_batch_whose_advancing_changed_a_column_no_sweep_writes_fails_whole(app, client, monkeypatch):
    # write_steps writes only STEP_COLUMNS and lets the incidents go from the session: a change to any other
    # column would be lost without a word, so the batch fails instead and its transaction rolls back.
    world = build_world(app, ack_seconds=60)
    reference = file_incident(client, world)["reference"]
    deadline = state(app, reference)[0].next_escalation_at
    advance = escalation.advance

    def advance_and_touch(session, incident, *args, **kwargs):
        incident.narrative = "changed while advancing"
        return advance(session, incident, *args, **kwargs)

    monkeypatch.setattr(escalation, "advance", advance_and_touch)
    with pytest.raises(RuntimeError, match=r"changed \['narrative'\], which no sweep writes"):
        sweep_at(app, deadline)
    incident, messages, events = state(app, reference)
    assert incident.current_step == 1 and incident.narrative.startswith("Fighter closed"), "nothing of it stayed"
    assert len(messages) == 1 and EventKind.ESCALATED not in events
    monkeypatch.setattr(escalation, "advance", advance)
    assert sweep_at(app, deadline) == 1 and state(app, reference)[0].current_step == 2
