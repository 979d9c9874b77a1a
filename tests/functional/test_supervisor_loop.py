"""The supervisors' loop is closed (issue 16): their messages link the incident page, and those told an
incident was EXHAUSTED are told when it is then acknowledged or resolved."""

import html
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.support import build_world, csrf, file_incident, sign_in
from tracker import jobs
from tracker.db import session_scope
from tracker.models import (
    ContactChannel,
    Incident,
    IncidentStatus,
    Notification,
    NotificationKind,
    NotificationStatus,
    User,
)
from tracker.services.engine import message_text
from tracker.timeutil import utcnow

PAGE = "http://tracker.test/incidents/{}"


def exhausted_incident(app, client) -> tuple[object, str]:
    """A one-step incident swept past its deadline (so EXHAUSTED), its supervisor message delivered."""
    world = build_world(app, steps=(("L1",),), ack_seconds=60)
    reference = file_incident(client, world)["reference"]
    with session_scope(app) as session:
        incident = session.scalar(select(Incident).where(Incident.reference == reference))
        incident.next_escalation_at = utcnow() - timedelta(seconds=1)
    assert jobs.sweep(app) == 1
    assert jobs.deliver(app) >= 2, "the call to act and the supervisor's EXHAUSTED message"
    assert status_of(app, reference) is IncidentStatus.EXHAUSTED
    return world, reference


def status_of(app, reference: str) -> IncidentStatus:
    with session_scope(app) as session:
        return session.scalar(select(Incident.status).where(Incident.reference == reference))


def supervisor_rows(app, reference: str, kind: NotificationKind) -> list[dict]:
    with session_scope(app) as session:
        rows = session.scalars(
            select(Notification)
            .join(Incident)
            .where(Incident.reference == reference, Notification.kind == kind, Notification.user_id.is_not(None))
        ).all()
        return [
            {
                "to": row.recipient,
                "body": row.body,
                "html": message_text.html_part(row.subject, row.body, row.payload),
                "page": (row.payload or {}).get("page"),
                "status": row.status,
                "step": row.step,
                "loop": row.loop,
            }
            for row in rows
        ]


def test_the_exhausted_message_links_the_incident_page(app, client):
    _, reference = exhausted_incident(app, client)
    [row] = supervisor_rows(app, reference, NotificationKind.EXHAUSTED)
    page = PAGE.format(reference)
    assert f"Incident page: {page}" in row["body"], row["body"]
    assert f'href="{page}"' in row["html"] and "Open the incident" in row["html"], "the HTML part's button"
    assert row["page"] == page and row["status"] is NotificationStatus.SENT, "the webhook body's page"


def climb_to_the_end(app, reference: str) -> None:
    """Make each of the two steps' deadlines due in turn, and sweep: the ladder is exhausted."""
    for _ in range(2):
        with session_scope(app) as session:
            incident = session.scalar(select(Incident).where(Incident.reference == reference))
            incident.next_escalation_at = utcnow() - timedelta(seconds=1)
        assert jobs.sweep(app) == 1


def test_the_exhausted_message_names_the_lines_each_step_called(app, client):
    """ "Reach the lines by other means" is only something to act on when the message says which lines."""
    world = build_world(app, steps=(("L1", "L2"), ("L3",)), ack_seconds=60)
    reference = file_incident(client, world)["reference"]
    climb_to_the_end(app, reference)
    [row] = supervisor_rows(app, reference, NotificationKind.EXHAUSTED)
    assert "Lines called, none of which acknowledged:\n  Step 1: L1, L2\n  Step 2: L3\n" in row["body"], row["body"]
    assert "reach these lines by other means" in row["body"]


def test_the_exhausted_message_says_a_step_called_no_line_when_its_line_was_passed_over(app, client):
    """A step whose line was passed over (a counterpart line since, never given our alerts) was read as called
    and silent: the supervisors went looking for an answer from a line nobody called."""
    world = build_world(app, steps=(("L1",), ("L3",)), ack_seconds=60)
    reference = file_incident(client, world)["reference"]
    with session_scope(app) as session:
        line = session.get(ContactChannel, world.channels["L3"])
        line.counterpart_line, line.address = True, "l3@eastland.test"  # their domain, not our supervisors'
    climb_to_the_end(app, reference)
    [row] = supervisor_rows(app, reference, NotificationKind.EXHAUSTED)
    expected = "Lines called, none of which acknowledged:\n  Step 1: L1\n  Step 2: no line called (passed over: L3)\n"
    assert expected in row["body"], row["body"]


@pytest.mark.both_databases  # which supervisors were told: a query over the outbox's rows
@pytest.mark.parametrize(
    ("act", "kind", "headline"),
    [
        ("acknowledge", NotificationKind.ACKNOWLEDGED, "ACKNOWLEDGED by supervisor"),
        ("resolve", NotificationKind.RESOLVED, "RESOLVED by supervisor"),
    ],
)
def test_supervisors_told_of_an_exhausted_incident_hear_when_it_is_taken(app, client, act, kind, headline):
    world, reference = exhausted_incident(app, client)
    body = {"resolution": "Handled by phone with the other side."} if act == "resolve" else {}
    answer = client.post(f"/api/v1/incidents/{reference}/{act}", json=body, headers=world.auth("supervisor"))
    assert answer.status_code == 200, answer.get_json()
    [closing] = supervisor_rows(app, reference, kind)
    [exhausted] = supervisor_rows(app, reference, NotificationKind.EXHAUSTED)
    assert closing["to"] == exhausted["to"] == "supervisor", "the same supervisors, no one else"
    assert (closing["step"], closing["loop"]) == (exhausted["step"], exhausted["loop"]), "the EXHAUSTED round's"
    assert headline in closing["body"] and f"Incident page: {PAGE.format(reference)}" in closing["body"], closing
    assert jobs.deliver(app) >= 1 and supervisor_rows(app, reference, kind)[0]["status"] is NotificationStatus.SENT
    with session_scope(app) as session:
        incident = session.scalar(select(Incident).where(Incident.reference == reference))
        [event] = [e for e in incident.events if e.kind.value == kind.value]  # acknowledged or resolved
        assert event.details.get("supervisors") == ["supervisor"], event.details


def test_an_incident_that_never_exhausted_tells_no_supervisor(app, client):
    world = build_world(app)
    reference = file_incident(client, world)["reference"]
    for act, body in (("acknowledge", {}), ("resolve", {"resolution": "Done."})):
        answer = client.post(f"/api/v1/incidents/{reference}/{act}", json=body, headers=world.auth("supervisor"))
        assert answer.status_code == 200, answer.get_json()
    for kind in (NotificationKind.ACKNOWLEDGED, NotificationKind.RESOLVED):
        assert supervisor_rows(app, reference, kind) == [], f"no {kind.value} message to a supervisor"


def test_resolving_after_the_acknowledgement_does_not_tell_them_twice(app, client):
    world, reference = exhausted_incident(app, client)
    auth = world.auth("supervisor")
    assert client.post(f"/api/v1/incidents/{reference}/acknowledge", json={}, headers=auth).status_code == 200
    assert jobs.deliver(app) >= 1
    resolved = client.post(f"/api/v1/incidents/{reference}/resolve", json={"resolution": "Done."}, headers=auth)
    assert resolved.status_code == 200, resolved.get_json()
    assert len(supervisor_rows(app, reference, NotificationKind.ACKNOWLEDGED)) == 1
    assert supervisor_rows(app, reference, NotificationKind.RESOLVED) == [], "the loop closed at the acknowledgement"


def test_the_watchdogs_alert_links_the_incident_page_too(app, client):
    world = build_world(app)
    reference = file_incident(client, world)["reference"]
    with session_scope(app) as session:
        incident = session.scalar(select(Incident).where(Incident.reference == reference))
        incident.next_escalation_at = utcnow() - timedelta(hours=1)  # no sweep ran: the watchdog alerts
    assert jobs.watch(app) == 1
    [alert] = supervisor_rows(app, reference, NotificationKind.WATCHDOG)
    assert f"Incident page: {PAGE.format(reference)}" in alert["body"], alert["body"]


def test_with_no_supervisor_left_the_admins_are_told_and_health_says_so(app, client):
    """The last supervisor deactivated: an exhausted incident reached nobody (its timeline said "supervisors: []")
    while /health said ok. The admins, who hold every right a supervisor has, are told instead, /health says
    degraded, and the admin who deactivated them was told before and after (web/admin_users.py)."""
    world = build_world(app, steps=(("L1",),), ack_seconds=60)
    admin = app.test_client()
    sign_in(admin, "admin")
    with session_scope(app) as session:
        supervisor_id = session.scalar(select(User.id).where(User.username == "supervisor"))
    token = csrf(admin, f"/admin/users/{supervisor_id}")
    asked = admin.post(f"/admin/users/{supervisor_id}/deactivate", data={"csrf_token": token})
    assert "<bdi>supervisor</bdi> is the last active supervisor" in asked.text, asked.text[:3000]
    done = admin.post(
        f"/admin/users/{supervisor_id}/deactivate",
        data={"csrf_token": csrf(admin, f"/admin/users/{supervisor_id}"), "confirm": "yes"},
        follow_redirects=True,
    )
    assert "told to the admins instead" in html.unescape(done.text), done.text[:3000]
    health = client.get("/api/v1/health").get_json()
    assert (health["supervisors"], health["status"]) == ("admins", "degraded"), health

    reference = file_incident(client, world)["reference"]
    with session_scope(app) as session:
        incident = session.scalar(select(Incident).where(Incident.reference == reference))
        incident.next_escalation_at = utcnow() - timedelta(seconds=1)
    assert jobs.sweep(app) == 1
    jobs.deliver(app)
    told = supervisor_rows(app, reference, NotificationKind.EXHAUSTED)
    assert [(row["to"], row["status"]) for row in told] == [("admin", NotificationStatus.SENT)], told
    timeline = client.get(f"/api/v1/incidents/{reference}", headers=world.auth("duty")).get_json()["timeline"]
    [exhausted] = [event for event in timeline if event["kind"] == "exhausted"]
    assert exhausted["details"]["supervisors"] == ["admin"], exhausted
