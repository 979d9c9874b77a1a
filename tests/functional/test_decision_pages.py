"""Steps reached by decision through the doors: the policies API and the admin form mark them, the
snapshot taken at filing carries the mark, the incident page says what waits and gives supervisors the
one-click confirmation, and the demo's political levels are such steps. The engine's side is in
tests/integration/test_decision_steps.py."""

import html
import re

import pytest
from sqlalchemy import select

from tests import support
from tests.support import file_incident
from tracker import dispatch
from tracker.db import session_scope
from tracker.models import EscalationPolicy, EventKind, Incident
from tracker.services.engine import escalation


def steps(world, *names, by_decision=()) -> list[dict]:
    return [
        {"channel_ids": [world.channels[name]], "ack_seconds": 60, "by_decision": n in by_decision}
        for n, name in enumerate(names, start=1)
    ]


def test_the_policies_api_marks_steps_by_decision_and_the_snapshot_carries_the_mark(client, world):
    admin = world.auth("admin")
    answer = client.patch(
        f"/api/v1/policies/{world.policy_id}", json={"steps": steps(world, "L1", "L2", by_decision=(2,))}, headers=admin
    )
    assert answer.status_code == 200, answer.get_json()
    assert [s["by_decision"] for s in answer.get_json()["steps"]] == [False, True]
    read = client.get(f"/api/v1/policies/{world.policy_id}", headers=world.auth("liaison")).get_json()
    assert [s["by_decision"] for s in read["steps"]] == [False, True]

    incident = file_incident(client, world)
    assert [s["by_decision"] for s in incident["ladder"]["steps"]] == [False, True], incident["ladder"]
    omitted = client.patch(
        f"/api/v1/policies/{world.policy_id}",
        json={"steps": [{"channel_ids": [world.channels["L1"]]}]},
        headers=admin,
    )
    assert omitted.status_code == 200 and omitted.get_json()["steps"][0]["by_decision"] is False


def test_the_first_step_cannot_wait_for_a_decision(client, world):
    answer = client.post(
        "/api/v1/policies",
        json={"name": "Political at once", "steps": steps(world, "L1", by_decision=(1,))},
        headers=world.auth("admin"),
    )
    body = answer.get_json()
    assert answer.status_code == 422, body
    assert "steps.1.by_decision" in body["error"]["details"], body
    with session_scope(client.application) as session:
        assert session.scalar(select(EscalationPolicy).where(EscalationPolicy.name == "Political at once")) is None


def test_confirming_a_decision_is_for_supervisors_and_answers_409_when_nothing_waits(client, world):
    reference = file_incident(client, world)["reference"]
    refused = client.post(f"/api/v1/incidents/{reference}/decision", json={}, headers=world.auth("liaison"))
    assert refused.status_code == 403, refused.get_json()
    nothing = client.post(f"/api/v1/incidents/{reference}/decision", headers=world.auth("supervisor"))
    assert nothing.status_code == 409, nothing.get_json()
    assert nothing.get_json()["error"]["details"]["decision_step"] is None
    bad = client.post(f"/api/v1/incidents/{reference}/decision", json={"step": "two"}, headers=world.auth("admin"))
    assert bad.status_code == 422 and "step" in bad.get_json()["error"]["details"], bad.get_json()
    missing = client.post("/api/v1/incidents/INC-1999-99999/decision", json={}, headers=world.auth("admin"))
    assert missing.status_code == 404


def test_the_admin_form_marks_a_step_by_decision(app, world):
    admin = app.test_client()
    support.sign_in(admin, "admin")
    path = f"/admin/policies/{world.policy_id}/edit"
    token = support.CSRF_TOKEN.search(admin.get(path).text)[1]
    form = {"csrf_token": token, "name": "Test ladder", "description": "", "repeat": "0"}
    for n, channel in enumerate(("L1", "L2")):
        form.update({f"steps-{n}-channel_ids": [str(world.channels[channel])], f"steps-{n}-ack_seconds": ""})
        form[f"steps-{n}-fallback_channel_id"] = ""
    saved = admin.post(path, data={**form, "steps-1-by_decision": "y"})
    assert saved.status_code == 302, saved.text[:2000]
    listed = html.unescape(admin.get("/admin/policies").text)
    assert "<bdi>L2</bdi> · from precedence · <strong>by decision</strong>" in listed, listed
    assert 'id="steps-1-by_decision" name="steps-1-by_decision" type="checkbox" value="y"' in admin.get(path).text

    refused = admin.post(path, data={**form, "steps-0-by_decision": "y"})
    assert refused.status_code == 422 and "cannot wait for a decision" in html.unescape(refused.text)


def test_the_incident_page_says_what_waits_and_a_supervisor_confirms_with_one_click(app, client, world):
    client.patch(
        f"/api/v1/policies/{world.policy_id}",
        json={"steps": steps(world, "L1", "L2", by_decision=(2,))},
        headers=world.auth("admin"),
    )
    reference = file_incident(client, world)["reference"]
    liaison, supervisor = app.test_client(), app.test_client()
    support.sign_in(liaison, "liaison")
    support.sign_in(supervisor, "supervisor")
    before = html.unescape(liaison.get(f"/incidents/{reference}").text)
    assert "Asks the supervisors to confirm step 2 (<bdi>L2</bdi>)" in before and "(1 min, by decision)" in before

    with session_scope(app) as session:
        deadline = session.scalar(select(Incident.next_escalation_at).where(Incident.reference == reference))
        assert escalation.sweep_batch(session, deadline, 10, "test", dispatch.ack_links(app)) == 1
    shown = html.unescape(liaison.get(f"/incidents/{reference}").text)
    assert (
        "<strong>Waiting for a supervisor's decision</strong> to enter step 2 (<bdi>L2</bdi>): asked 1 time since"
        in shown
    )
    assert "decision asked" in shown and "asked of <bdi>supervisor</bdi>" in shown, "on the timeline"
    assert "incidents/" + reference + "/decision" not in shown, "no button for a liaison officer"
    assert "DECISION: step 2" in liaison.get("/board/rows").text, "the board shows what waits"

    page = supervisor.get(f"/incidents/{reference}").text
    button = re.search(r'<form method="post" action="/incidents/[^"]+/decision".*?</form>', page, re.S)
    assert (
        button
        and 'name="step" value="2"' in button[0]
        and "Confirm step 2: call <bdi>L2</bdi>" in html.unescape(button[0])
    )
    token = support.CSRF_TOKEN.search(button[0])[1]
    # A step the page never sends ("٢" read by int() as 2, or no number) confirms nothing, not whatever waits.
    for garbled in ("٢", "two"):
        refused = supervisor.post(f"/incidents/{reference}/decision", data={"csrf_token": token, "step": garbled})
        assert refused.status_code == 302, refused.status_code
        with session_scope(app) as session:
            pending = session.scalar(select(Incident.decision_step).where(Incident.reference == reference))
            assert pending == 2, f"step {garbled!r} confirmed the waiting step"
    confirmed = supervisor.post(f"/incidents/{reference}/decision", data={"csrf_token": token, "step": "2"})
    assert confirmed.status_code == 302 and confirmed.headers["Location"].endswith(f"/incidents/{reference}")
    after = html.unescape(supervisor.get(f"/incidents/{reference}").text)
    assert "Step 2 confirmed: <bdi>L2</bdi> called." in after and "step 2 entered after 1 ask" in after
    with session_scope(app) as session:
        incident = session.scalar(select(Incident).where(Incident.reference == reference))
        assert (incident.current_step, incident.decision_step) == (2, None)
        assert [e.actor for e in incident.events if e.kind is EventKind.DECISION_CONFIRMED] == ["supervisor"]

    stale = supervisor.post(f"/incidents/{reference}/decision", data={"csrf_token": token, "step": "2"})
    said = html.unescape(supervisor.get(stale.headers["Location"]).text)
    # Who took it and when, as a stale Acknowledge says (it said "(status: open)" and nothing of who had).
    assert re.search(r"waits for no decision: step 2 was confirmed by supervisor at \d{6}Z[A-Z]{3}\d\d", said), said


def escalated_once(app, client, world) -> str:
    """An incident filed and swept past its first deadline; its reference."""
    reference = file_incident(client, world)["reference"]
    with session_scope(app) as session:
        deadline = session.scalar(select(Incident.next_escalation_at).where(Incident.reference == reference))
        assert escalation.sweep_batch(session, deadline, 10, "test", dispatch.ack_links(app)) == 1
    return reference


def what_the_lists_say(app, reference: str, rows=("/board/rows", "/queue/rows")) -> tuple[list[str], str]:
    """The clock cell of the incident's row in each list of rows, and its line in "Acknowledge all mine"."""
    liaison = app.test_client()
    support.sign_in(liaison, "liaison")
    cells = []
    for path in rows:
        row = re.search(rf'<tr [^>]*data-reference="{reference}".*?</tr>', liaison.get(path).text, re.S)
        assert row, path
        cells.append(re.findall(r"<td>(.*?)</td>", row[0], re.S)[-1])
    listed = re.search(rf'<li data-reference="{reference}">.*?</li>', liaison.get("/queue/acknowledge-all").text, re.S)
    return cells, listed[0] if listed else ""


def test_the_lists_say_a_waiting_decision_is_asked_again_not_that_it_escalates(app, client, world):
    """A step by decision is never entered by a timer: the clock of a row waiting for one is when the
    supervisors are asked again, and the board's, My queue's and "Acknowledge all mine"'s lists say so."""
    client.patch(
        f"/api/v1/policies/{world.policy_id}",
        json={"steps": steps(world, "L1", "L2", by_decision=(2,))},
        headers=world.auth("admin"),
    )
    reference = escalated_once(app, client, world)
    cells, listed = what_the_lists_say(app, reference)
    for cell in cells:
        assert "Escalates" not in cell and "asked again" in cell, cells
    assert "escalates" not in listed and "decision asked again" in listed, listed


def test_the_demos_political_levels_are_steps_by_decision(app, tmp_path, monkeypatch):
    monkeypatch.setattr(app, "instance_path", str(tmp_path / "instance"))  # the demo writes credentials there
    assert app.test_cli_runner().invoke(args=["demo"]).exit_code == 0
    with session_scope(app) as session:
        policies = {p.name: p for p in session.scalars(select(EscalationPolicy))}
        marks = {name: [(s.channel_names, s.by_decision) for s in p.steps] for name, p in policies.items()}
    assert marks["Hotline ladder"] == [
        (["L2 Joint Operational HQ", "L3 HQ duty desk"], False),
        (["L4 Vienna Document Chapter III desk"], True),
        (["L5 Head-of-government hotline"], True),
    ], marks
    assert not any(by for name, ladder in marks.items() if name != "Hotline ladder" for _, by in ladder)


@pytest.mark.both_databases  # the board reads the ladder's repeat out of its JSON in SQL
def test_the_lists_say_the_last_step_becomes_exhausted_or_repeats_not_that_it_escalates(app, client, world):
    """On its last step an incident has no step above it: the lists' clock says what the timer does there."""
    reference = escalated_once(app, client, world)  # step 2 of 2
    cells, listed = what_the_lists_say(app, reference)
    for cell in cells:
        assert "Escalates" not in cell and "Exhausted" in cell, cells
    assert "escalates" not in listed and "exhausted" in listed, listed
    changed = client.patch(f"/api/v1/policies/{world.policy_id}", json={"repeat": 1}, headers=world.auth("admin"))
    assert changed.status_code == 200, changed.get_json()
    repeating = escalated_once(app, client, world)
    [cell], _ = what_the_lists_say(app, repeating, rows=("/board/rows",))
    assert "Repeats" in cell, cell


@pytest.mark.both_databases  # the board reads the next step's by_decision out of the ladder's JSON in SQL
def test_the_lists_say_a_decision_is_asked_before_a_step_by_decision_not_that_it_escalates(app, client, world):
    """Before a step by decision the deadline asks the supervisors: the lists' clock says so, on every width."""
    changed = client.patch(
        f"/api/v1/policies/{world.policy_id}",
        json={"steps": steps(world, "L1", "L2", "L1", by_decision=(3,))},
        headers=world.auth("admin"),
    )
    assert changed.status_code == 200, changed.get_json()
    waits, escalates = (file_incident(client, world)["reference"] for _ in range(2))
    with session_scope(app) as session:
        deadline = session.scalar(select(Incident.next_escalation_at).where(Incident.reference == waits))
        assert escalation.sweep_batch(session, deadline, 1, "test", dispatch.ack_links(app)) == 1  # step 2 of 3
    liaison = app.test_client()
    support.sign_in(liaison, "liaison")
    for rows in ("/board/rows", "/queue/rows"):
        page = liaison.get(rows).text
        clocks = {}
        for reference in (waits, escalates):
            row = re.search(rf'<tr [^>]*data-reference="{reference}".*?</tr>', page, re.S)
            assert row, (rows, reference, page)
            clocks[reference] = re.findall(r"<td>(.*?)</td>", row[0], re.S)[-1]
        assert "Asks a decision on step 3" in clocks[waits] and "Escalates" not in clocks[waits], (rows, clocks)
        assert "Escalates" in clocks[escalates] and "decision" not in clocks[escalates], (rows, clocks)
    listing = liaison.get("/queue/acknowledge-all").text
    listed = {r: re.search(rf'<li data-reference="{r}">.*?</li>', listing, re.S) for r in (waits, escalates)}
    assert listed[waits] and "asks a decision on step 3" in listed[waits][0], listed
    assert "escalates" not in listed[waits][0] and "escalates" in listed[escalates][0], listed


def test_a_decision_ended_by_an_acknowledgement_after_an_earlier_confirmation_says_the_acknowledgement(
    app, client, world
):
    """The stale answer quoted the latest confirmation, whatever ended the question since: "step 2 was confirmed by
    supervisor at <an older time>" of an incident acknowledged after it."""
    client.patch(
        f"/api/v1/policies/{world.policy_id}",
        json={"steps": steps(world, "L1", "L2", by_decision=(2,))},
        headers=world.auth("admin"),
    )
    reference = escalated_once(app, client, world)
    confirmed = client.post(f"/api/v1/incidents/{reference}/decision", json={}, headers=world.auth("supervisor"))
    assert confirmed.status_code == 200, confirmed.get_json()
    acked = client.post(f"/api/v1/incidents/{reference}/acknowledge", json={}, headers=world.auth("liaison"))
    assert acked.status_code == 200, acked.get_json()
    stale = client.post(f"/api/v1/incidents/{reference}/decision", json={}, headers=world.auth("supervisor"))
    assert stale.status_code == 409, stale.get_json()
    assert "waits for no decision: it was acknowledged at" in stale.get_json()["error"]["message"], stale.get_json()
