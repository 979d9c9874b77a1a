"""A line changed under a running step (services/engine/lines_lost.py, delivery.Composer.relinked): an admin who
mended a wrong address sent the queued call to act with a link that could not acknowledge; a line deactivated,
readdressed or gone down after its call to act went out left the step waiting out its whole timer (hours), its
message's link refused and nobody else called."""

import email
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.support import build_world, file_incident, outbox_files, switch_channel
from tracker import dispatch, jobs
from tracker.db import session_scope
from tracker.models import ChannelHealth, ContactChannel, Incident
from tracker.services.engine import line_checks
from tracker.timeutil import utcnow

SIX_HOURS = 6 * 3600
LINK = re.compile(r"http://tracker\.test/links/ack/([A-Za-z0-9_\-.]+)")


def incident_row(app, reference: str) -> Incident:
    with session_scope(app) as session:
        incident = session.scalar(select(Incident).where(Incident.reference == reference))
        session.expunge(incident)
        return incident


def fallbacks(client, world, reference: str) -> list[dict]:
    timeline = client.get(f"/api/v1/incidents/{reference}", headers=world.auth("duty")).get_json()["timeline"]
    return [event["details"] for event in timeline if event["kind"] == "fallback"]


def test_a_call_to_act_queued_before_its_line_was_readdressed_goes_with_a_link_that_acknowledges(app, client):
    world = build_world(app, ack_seconds=SIX_HOURS)
    reference = file_incident(client, world)["reference"]
    switch_channel(app, world.channels["L1"], address="l1-mended@test.example")
    assert jobs.deliver(app) == 1
    [sent] = outbox_files(app)
    message = email.message_from_bytes(sent.read_bytes(), policy=email.policy.default)
    assert message["To"] == "L1 <l1-mended@test.example>", message["To"]
    text = message.get_body(("plain",)).get_content()
    [token] = LINK.findall(text)
    html = message.get_body(("html",)).get_content()
    assert token in html, "the HTML part's button carries the new link too"
    answer = client.post("/api/v1/acks", json={"token": token})
    assert answer.status_code == 200, answer.get_json()
    assert incident_row(app, reference).status.value == "acknowledged"


@pytest.mark.parametrize("change", ["deactivated", "readdressed", "down"])
def test_a_line_lost_after_its_call_to_act_went_out_makes_the_step_due_at_once(app, client, change):
    world = build_world(app, ack_seconds=SIX_HOURS)
    reference = file_incident(client, world)["reference"]
    assert jobs.deliver(app) == 1, "step 1's call to act went to L1"
    line = world.channels["L1"]
    if change == "deactivated":
        switch_channel(app, line, active=False)
    elif change == "readdressed":
        switch_channel(app, line, address="l1-new@test.example")
    else:
        start = utcnow() - timedelta(hours=4)
        for _ in range(3):  # three checks nobody confirmed within their window: down
            with session_scope(app) as session:
                check = line_checks.start_check(session, session.get(ContactChannel, line), "schedule", start)
                due_by = check.due_by
            with session_scope(app) as session:
                assert line_checks.expire_checks(session, due_by, dispatch.health_rules(app)) == 1
            start += timedelta(hours=1)
        with session_scope(app) as session:
            assert session.get_one(ContactChannel, line).health is ChannelHealth.DOWN
    incident = incident_row(app, reference)
    assert incident.next_escalation_at <= utcnow(), f"the step waits out its timer: {incident.next_escalation_at}"
    [said] = fallbacks(client, world, reference)
    assert said["skipped"] == "L1" and said["reason"].startswith(change) and said["escalates_at_once"], said
    assert jobs.sweep(app) == 1
    assert incident_row(app, reference).current_step == 2, "escalated to L2 at once"


@pytest.mark.both_databases  # the step's other lines are found by a correlated subquery, its change a guarded UPDATE
def test_a_step_whose_other_line_can_still_act_keeps_its_timer(app, client):
    """Another line told on the same step can still acknowledge: nothing is brought forward."""
    world = build_world(app, steps=(("L1", "L2"), ("L3",)), ack_seconds=SIX_HOURS)
    reference = file_incident(client, world)["reference"]
    assert jobs.deliver(app) == 2
    before = incident_row(app, reference).next_escalation_at
    switch_channel(app, world.channels["L1"], active=False)
    assert incident_row(app, reference).next_escalation_at == before
    assert fallbacks(client, world, reference) == []
    switch_channel(app, world.channels["L2"], active=False)
    assert incident_row(app, reference).next_escalation_at <= utcnow(), "the step's last line gone: due now"


def test_a_line_readdressed_earlier_is_no_line_that_can_still_act(app, client):
    """L2's link is refused since L2 was readdressed: L1 lost too, nobody told can act on the step any more."""
    world = build_world(app, steps=(("L1", "L2"), ("L3",)), ack_seconds=SIX_HOURS)
    reference = file_incident(client, world)["reference"]
    assert jobs.deliver(app) == 2
    switch_channel(app, world.channels["L2"], address="l2-new@test.example")
    assert incident_row(app, reference).next_escalation_at > utcnow(), "L1 can still act"
    switch_channel(app, world.channels["L1"], active=False)
    assert incident_row(app, reference).next_escalation_at <= utcnow()
    assert [said["skipped"] for said in fallbacks(client, world, reference)] == ["L1"]


def test_a_transport_changed_at_the_same_address_keeps_its_links_and_the_timer(mail_app):
    """A link is made for an address: one sent by the file drop acknowledges as well once the line mails."""
    client = mail_app.test_client()
    world = build_world(mail_app, ack_seconds=SIX_HOURS)
    reference = file_incident(client, world)["reference"]
    assert jobs.deliver(mail_app) == 1
    before = incident_row(mail_app, reference).next_escalation_at
    switch_channel(mail_app, world.channels["L1"], transport="email")
    assert incident_row(mail_app, reference).next_escalation_at == before
    assert fallbacks(client, world, reference) == []


def test_a_step_waiting_for_the_supervisors_decision_is_left_to_them(app, client):
    """Made due, it asked the supervisors again at once, its timeline saying it escalated."""
    world = build_world(app, steps=(("L1",), ("L2",)), ack_seconds=60)
    steps = [
        {"channel_ids": [world.channels["L1"]], "ack_seconds": 60, "by_decision": False},
        {"channel_ids": [world.channels["L2"]], "ack_seconds": 60, "by_decision": True},
    ]
    changed = client.patch(f"/api/v1/policies/{world.policy_id}", json={"steps": steps}, headers=world.auth("admin"))
    assert changed.status_code == 200, changed.get_json()
    reference = file_incident(client, world)["reference"]
    assert jobs.deliver(app) >= 1
    with session_scope(app) as session:
        session.scalar(select(Incident).where(Incident.reference == reference)).next_escalation_at = (
            utcnow() - timedelta(seconds=1)
        )
    jobs.sweep(app)
    asked = incident_row(app, reference)
    assert asked.decision_step == 2, "the decision is asked"
    switch_channel(app, world.channels["L1"], active=False)
    after = incident_row(app, reference)
    assert after.next_escalation_at == asked.next_escalation_at and fallbacks(client, world, reference) == []
