"""Acceptance 1 of issue 13: two kinds of line. On the demo data a FLASH incident climbs its whole ladder
and no message of an internal kind is ever queued for a line to the other side; a counterpart line
cannot be put on a policy step (API and admin page: 422); and a row that asks for it anyway is refused
at delivery, dead-lettered with the reason, and the supervisors are told."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.support import CSRF_TOKEN, outbox_files, sign_in
from tracker import demo, dispatch, jobs
from tracker.db import session_scope
from tracker.http.wiring import ack_links, filing_limits
from tracker.models import (
    AttemptOutcome,
    ContactChannel,
    DeliveryAttempt,
    EscalationPolicy,
    EventKind,
    Incident,
    IncidentStatus,
    Notification,
    NotificationKind,
    NotificationStatus,
    TimelineEvent,
)
from tracker.services.engine import escalation
from tracker.services.engine.rendering import render_incident_message
from tracker.timeutil import utcnow

HOTLINE = "Eastland Western Command hotline"
FLASH_INCIDENT = {
    "occurred_at": None,  # set per test: just now
    "reporting_unit": "Border Guard Post 7",
    "domain": "land",
    "category": "unintended_territory_entry",
    "precedence": "Z",
    "escalation_risk": "high",
    "sector": "South",
    "narrative": "Armoured patrol crossed the line by 800 m and stopped.",
}


@pytest.fixture
def region(app):
    """The demo region in the test's database; returns the demo users' API tokens."""
    with app.app_context(), session_scope(app) as session:
        return demo.load(session, filing_limits(), utcnow(), app.extensions["tracker.transports"], ack_links())


def auth(region, who: str) -> dict:
    return {"Authorization": f"Bearer {region[who]}"}


def line_ids(app) -> dict[str, int]:
    with session_scope(app) as session:
        return {name: id_ for name, id_ in session.execute(select(ContactChannel.name, ContactChannel.id))}


def file_flash(client, region) -> str:
    body = {**FLASH_INCIDENT, "occurred_at": (utcnow() - timedelta(minutes=2)).isoformat()}
    answer = client.post("/api/v1/incidents", json=body, headers=auth(region, "duty"))
    assert answer.status_code == 201, answer.get_data(True)
    return answer.get_json()["reference"]


def internal_rows_on_counterpart_lines(app) -> list[tuple]:
    with session_scope(app) as session:
        return session.execute(
            select(Notification.id, Notification.kind, ContactChannel.name)
            .join(ContactChannel, Notification.channel_id == ContactChannel.id)
            .where(ContactChannel.counterpart_line.is_(True), Notification.kind != NotificationKind.COUNTERPART)
        ).all()


def test_a_flash_incident_climbs_its_whole_ladder_and_nothing_internal_is_queued_for_the_other_side(
    app, client, region
):
    lines = line_ids(app)
    assert {HOTLINE, "Eastland liaison mission", "L3 HQ duty desk"} <= set(lines)
    reference = file_flash(client, region)
    now, links = utcnow(), dispatch.ack_links(app)
    for _ in range(40):  # ten minutes a step (FLASH), three steps, twice more: well within 40 sweeps
        now += timedelta(minutes=11)
        with session_scope(app) as session:
            escalation.sweep_batch(session, now, 50, "test", links)
            status, waiting = session.execute(
                select(Incident.status, Incident.decision_step).where(Incident.reference == reference)
            ).one()
        if waiting is not None:  # the political levels are entered when a supervisor confirms them
            confirmed = client.post(
                f"/api/v1/incidents/{reference}/decision", json={"step": waiting}, headers=auth(region, "supervisor")
            )
            assert confirmed.status_code == 200, confirmed.get_json()
        if status is IncidentStatus.EXHAUSTED:
            break
    assert status is IncidentStatus.EXHAUSTED, "the ladder ran to its end"
    jobs.deliver(app)

    with session_scope(app) as session:
        incident = session.scalar(select(Incident).where(Incident.reference == reference))
        told = {
            row.channel.name
            for row in session.scalars(
                select(Notification).where(
                    Notification.incident_id == incident.id, Notification.channel_id.is_not(None)
                )
            )
        }
        ladder_lines = {c["name"] for step in incident.ladder["steps"] for c in step["channels"]}
    assert incident.ladder["policy_name"] == "Hotline ladder"
    assert "L3 HQ duty desk" in told and told <= ladder_lines, told
    assert internal_rows_on_counterpart_lines(app) == [], "no ladder, alert or report row for the other side"
    mailed = " ".join(path.read_text(errors="replace") for path in outbox_files(app))
    assert "eastland.example" not in mailed, "nothing of ours went to an Eastland address"


def test_a_counterpart_line_on_a_policy_step_is_refused_by_the_api_with_422(app, client, region):
    lines = line_ids(app)
    hotline, desk = lines[HOTLINE], lines["L1 National Operations Centre"]
    admin = auth(region, "admin")
    cases = [
        (
            "POST",
            "/api/v1/policies",
            {"name": "Outward ladder", "steps": [{"channel_ids": [desk]}, {"channel_ids": [hotline]}]},
        ),
        (
            "POST",
            "/api/v1/policies",
            {"name": "Outward fallback", "steps": [{"channel_ids": [desk], "fallback_channel_id": hotline}]},
        ),
    ]
    policy_id = client.get("/api/v1/policies", headers=admin).get_json()[0]["id"]
    cases.append(("PATCH", f"/api/v1/policies/{policy_id}", {"steps": [{"channel_ids": [hotline, desk]}]}))
    for method, path, body in cases:
        answer = client.open(path, method=method, json=body, headers=admin)
        assert answer.status_code == 422, (path, body, answer.get_data(True))
        error = answer.get_json()["error"]
        said = str(error["details"])
        assert f"{HOTLINE!r}: line to the other side" in said and "never ladder messages" in said, error
        named = "fallback_channel_id" if "fallback_channel_id" in body["steps"][0] else "channel_ids"
        assert any(key.endswith(named) for key in error["details"]), (named, error)  # beside the field naming it
    names = [p["name"] for p in client.get("/api/v1/policies", headers=admin).get_json()]
    assert "Outward ladder" not in names and "Outward fallback" not in names


def test_a_counterpart_line_on_a_policy_step_is_refused_by_the_admin_page_beside_the_field(app, region):
    lines = line_ids(app)
    admin = app.test_client()
    assert sign_in(admin, "admin", demo.PASSWORD.format("admin")).status_code == 302
    token = CSRF_TOKEN.search(admin.get("/admin/policies/new").text)[1]
    form = {"csrf_token": token, "name": "Outward ladder", "description": "", "repeat": "0"}
    for n in range(5):
        form.update({f"steps-{n}-channel_ids": [], f"steps-{n}-ack_seconds": "", f"steps-{n}-fallback_channel_id": ""})
    form["steps-0-channel_ids"] = [str(lines["L1 National Operations Centre"]), str(lines[HOTLINE])]
    answer = admin.post("/admin/policies/new", data=form)
    assert answer.status_code == 422, answer.status_code
    assert "line to the other side, which carries exchanges, never ladder messages" in answer.text
    with session_scope(app) as session:
        assert session.scalar(select(Notification.id).limit(1)) is not None  # the demo's, nothing new
        assert session.scalar(select(EscalationPolicy).where(EscalationPolicy.name == "Outward ladder")) is None


def test_a_row_that_asks_for_the_wrong_kind_of_line_is_refused_at_delivery_and_dead_lettered(app, client, region):
    reference = file_flash(client, region)
    lines, now = line_ids(app), utcnow()
    with session_scope(app) as session:
        incident = session.scalar(select(Incident).where(Incident.reference == reference))
        hotline = session.get(ContactChannel, lines[HOTLINE])
        ours = session.get(ContactChannel, lines["L1 National Operations Centre"])
        # Rows no service would make: our call to act on the hotline, a message to the other side on our desk.
        outward = Notification(
            incident=incident,
            kind=NotificationKind.NOTIFIED,
            step=incident.current_step,
            loop=0,
            channel=hotline,
            created_at=now,
            next_attempt_at=now,
        )
        render_incident_message(
            outward, now, dispatch.ack_links(app).issue(incident.id, hotline.id, hotline.address, now)
        )
        inward = Notification(
            incident=incident,
            kind=NotificationKind.COUNTERPART,
            step=0,
            loop=4242,
            channel=ours,
            created_at=now,
            next_attempt_at=now,
            subject="SERIAL 0001",
            body="To the other side.",
            html="<p>To the other side.</p>",
            payload={"event": "exchange.message"},
        )
        session.add_all([outward, inward])
        session.flush()
        outward_id, inward_id, ack_token = outward.id, inward.id, outward.payload["acknowledge"]["token"]

    jobs.deliver(app)

    with session_scope(app) as session:
        refused = {
            row.id: row
            for row in session.scalars(select(Notification).where(Notification.id.in_([outward_id, inward_id])))
        }
        attempts = session.scalars(
            select(DeliveryAttempt).where(DeliveryAttempt.notification_id.in_(list(refused)))
        ).all()
        events = session.scalars(
            select(TimelineEvent).where(
                TimelineEvent.incident_id == refused[outward_id].incident_id,
                TimelineEvent.kind == EventKind.DEAD_LETTERED,
            )
        ).all()
        supervisors = session.scalars(
            select(Notification).where(
                Notification.incident_id == refused[outward_id].incident_id,
                Notification.kind == NotificationKind.DEAD_LETTER,
                Notification.user_id.is_not(None),
            )
        ).all()
        bodies = " ".join(n.body for n in supervisors)
        told = {n.user.username for n in supervisors}
        outward_error, inward_error = refused[outward_id].last_error, refused[inward_id].last_error
        statuses = {row.status for row in refused.values()}

    assert statuses == {NotificationStatus.DEAD}
    assert outward_error == (
        f"internal message kind notified refused on counterpart line {HOTLINE}: "
        "ladders, alerts and reports never go to the other side"
    )
    assert inward_error.startswith("message to the other side refused on internal line L1 National Operations Centre")
    assert sorted(a.outcome for a in attempts) == [AttemptOutcome.PERMANENT] * 2
    assert {e.details["error"] for e in events} >= {outward_error, inward_error}
    assert told == {"supervisor"} and outward_error in bodies
    sent = [p.name for p in outbox_files(app)]
    assert not [name for name in sent if f"notification-{outward_id}-" in name or f"notification-{inward_id}-" in name]

    # Its acknowledge link (had it gone out) acknowledges nothing: the other side never owns our incident.
    answer = client.post("/api/v1/acks", json={"token": ack_token})
    assert answer.status_code == 403 and answer.get_json()["error"]["code"] == "link_counterpart", answer.get_json()
    detail = client.get(f"/api/v1/incidents/{reference}", headers=auth(region, "supervisor")).get_json()
    assert detail["status"] == "open" and detail["acknowledged_by"] is None
