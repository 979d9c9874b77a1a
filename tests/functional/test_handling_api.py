"""Acknowledge, comment and resolve through the API, with the roles that may do each."""

from datetime import timedelta

import pytest

from tests.support import file_incident
from tracker.db import session_scope
from tracker.timeutil import utcnow


def post(client, world, who, reference, action, body=None):
    return client.post(f"/api/v1/incidents/{reference}/{action}", json=body or {}, headers=world.auth(who))


@pytest.mark.parametrize("who", ["liaison", "supervisor", "admin"])
def test_member_supervisor_and_admin_may_acknowledge(client, world, who):
    reference = file_incident(client, world)["reference"]
    response = post(client, world, who, reference, "acknowledge", {"note": "calling the other side"})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "acknowledged" and body["acknowledged_by"] == who
    assert body["next_escalation_at"] is None
    assert [n["status"] for n in body["notifications"]] == ["cancelled"]
    event = body["timeline"][-1]
    assert event["kind"] == "acknowledged" and event["actor"] == who
    assert event["details"]["note"] == "calling the other side" and event["details"]["step"] == 1


@pytest.mark.parametrize("who", ["outsider", "duty"])
def test_non_member_and_duty_officer_may_not_acknowledge(client, world, who):
    reference = file_incident(client, world)["reference"]
    response = post(client, world, who, reference, "acknowledge")
    assert response.status_code == 403, response.get_json()
    assert response.get_json()["error"]["code"] == "forbidden"
    state = client.get(f"/api/v1/incidents/{reference}", headers=world.auth("duty")).get_json()
    assert state["status"] == "open" and state["acknowledged_at"] is None


@pytest.mark.both_databases  # one acknowledgement wins by a conditional UPDATE
def test_second_acknowledgement_is_a_conflict_with_the_current_state(client, world):
    reference = file_incident(client, world)["reference"]
    assert post(client, world, "liaison", reference, "acknowledge").status_code == 200
    response = post(client, world, "supervisor", reference, "acknowledge")
    assert response.status_code == 409, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "invalid_transition"
    assert error["details"]["status"] == "acknowledged" and error["details"]["acknowledged_at"].endswith("Z")


def test_acknowledge_without_a_body(client, world):
    reference = file_incident(client, world)["reference"]
    response = client.post(f"/api/v1/incidents/{reference}/acknowledge", headers=world.auth("liaison"))
    assert response.status_code == 200, response.get_json()


def test_reference_is_case_insensitive(client, world):
    reference = file_incident(client, world)["reference"]
    response = client.get(f"/api/v1/incidents/{reference.lower()}", headers=world.auth("duty"))
    assert response.status_code == 200


@pytest.mark.parametrize("who", ["duty", "liaison", "outsider", "supervisor", "admin"])
def test_every_role_may_comment(client, world, who):
    reference = file_incident(client, world)["reference"]
    response = post(client, world, who, reference, "comments", {"text": "Radar track attached."})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["kind"] == "commented" and response.get_json()["actor"] == who
    timeline = client.get(f"/api/v1/incidents/{reference}", headers=world.auth(who)).get_json()["timeline"]
    assert timeline[-1]["details"]["text"] == "Radar track attached."


@pytest.mark.both_databases  # pending messages cancelled by a conditional UPDATE
def test_resolve_closes_the_loop_and_cancels_pending_messages(client, world):
    reference = file_incident(client, world)["reference"]
    response = post(client, world, "liaison", reference, "resolve", {"resolution": "Other side apologised."})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "resolved" and body["resolved_by"] == "liaison"
    assert body["resolution"] == "Other side apologised." and body["next_escalation_at"] is None
    assert [n["status"] for n in body["notifications"]] == ["cancelled"]
    again = post(client, world, "supervisor", reference, "resolve", {"resolution": "again"})
    assert again.status_code == 409 and again.get_json()["error"]["details"]["status"] == "resolved"
    late_ack = post(client, world, "supervisor", reference, "acknowledge")
    assert late_ack.status_code == 409


@pytest.mark.parametrize("who", ["duty", "outsider"])
def test_duty_officer_and_non_member_may_not_resolve(client, world, who):
    reference = file_incident(client, world)["reference"]
    response = post(client, world, who, reference, "resolve", {"resolution": "done"})
    assert response.status_code == 403, response.get_json()


@pytest.mark.both_databases  # filters, order and pages are SQL
def test_list_filters_and_pages(client, world):
    for precedence in ("Z", "O", "O", "R"):
        file_incident(client, world, precedence=precedence)
    flash = file_incident(client, world, precedence="Z", domain="maritime", category="collision")
    post(client, world, "liaison", flash["reference"], "acknowledge")

    def listing(query):
        response = client.get(f"/api/v1/incidents?{query}", headers=world.auth("duty"))
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    assert listing("")["total"] == 5
    assert listing("precedence=O")["total"] == 2
    assert listing("precedence=Z&precedence=R")["total"] == 3
    assert [i["reference"] for i in listing("status=acknowledged")["items"]] == [flash["reference"]]
    assert listing("domain=maritime&category=collision")["total"] == 1
    assert listing("since=2026-11-27T09:00:00Z&until=271000ZNOV26")["total"] == 5
    assert listing("since=2026-11-28T00:00:00Z")["total"] == 0
    backwards = client.get(
        "/api/v1/incidents?since=2026-11-28T00:00:00Z&until=2026-11-27T00:00:00Z", headers=world.auth("duty")
    )
    assert backwards.status_code == 422 and "until" in backwards.get_json()["error"]["details"], backwards.get_json()
    # until is exclusive: a window that ends where it starts holds nothing, and a total of 0 would read as
    # "no incident that day" (the reports refuse from == to alike).
    for empty in ("since=2026-11-27&until=2026-11-27", "since=271000ZNOV26&until=2026-11-27T10:00:00Z&by=reported"):
        refused = client.get(f"/api/v1/incidents?{empty}", headers=world.auth("duty"))
        assert refused.status_code == 422 and "until" in refused.get_json()["error"]["details"], refused.get_json()
    # The report's window is on the report time (filed now), the list's by default on the occurrence (27
    # Nov): by=reported reconciles the two.
    lately = (utcnow() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert listing(f"since={lately}")["total"] == 0, "occurred on 27 Nov"
    assert listing(f"since={lately}&by=reported")["total"] == 5, "reported in the last hour"
    assert listing("since=2026-11-27T09:00:00Z&until=271000ZNOV26&by=reported")["total"] == 0
    # A desk reconciles with the report by typing the report's own dates: a date alone is its 00:00Z there,
    # and here too (it was refused with 422, so the same dates could not be given to both).
    today, tomorrow = utcnow().date(), utcnow().date() + timedelta(days=1)
    window = f"from={today}&to={tomorrow}"
    report = client.get(f"/api/v1/reports/after-action?{window}", headers=world.auth("supervisor")).get_json()
    assert listing(f"since={today}&until={tomorrow}&by=reported")["total"] == report["incidents_total"] == 5, report
    assert listing("since=2026-11-27&until=2026-11-28")["total"] == 5, "occurred on 27 Nov"
    assert listing("since=2026-11-28")["total"] == 0
    for bad in ("since=2026-11-31", "until=2026-13-01", "since=yesterday"):
        refused = client.get(f"/api/v1/incidents?{bad}", headers=world.auth("duty"))
        field = bad.split("=")[0]
        assert refused.status_code == 422 and field in refused.get_json()["error"]["details"], refused.get_json()
    # A category of another domain: filing refuses the pair, and the list said "none" to it.
    mismatched = client.get("/api/v1/incidents?domain=air&category=collision", headers=world.auth("duty"))
    said = mismatched.get_json()["error"]["details"]
    assert mismatched.status_code == 422 and "not a category of domain 'air'" in said["category"][0], said
    wrong = client.get("/api/v1/incidents?by=filed", headers=world.auth("duty"))
    assert wrong.status_code == 422 and "by" in wrong.get_json()["error"]["details"], wrong.get_json()
    page = listing("per_page=2&page=3")
    assert (page["page"], page["per_page"], page["total"], len(page["items"])) == (3, 2, 5, 1)
    newest_first = [i["reference"] for i in listing("per_page=5")["items"]]
    assert newest_first == sorted(newest_first, reverse=True)


def test_health_says_when_nobody_is_left_to_tell_of_an_exhausted_incident(client, app):
    """No user at all (a database just made): the supervisors' messages would reach nobody, and /health said ok."""
    from tracker import jobs

    jobs.sweep(app), jobs.deliver(app)
    body = client.get("/api/v1/health").get_json()
    assert (body["sweep"], body["delivery"], body["supervisors"], body["status"]) == ("ok", "ok", "nobody", "degraded")


@pytest.mark.both_databases  # the sweep's age is deadline arithmetic
def test_health_reports_database_and_stale_sweep(client, app, world):
    body = client.get("/api/v1/health").get_json()
    assert body["database"] == "ok" and body["sweep"] == "never ran" and body["status"] == "degraded"
    from tracker import jobs

    jobs.sweep(app)
    body = client.get("/api/v1/health").get_json()
    assert body["sweep"] == "ok" and body["last_sweep_at"].endswith("Z"), body
    assert (body["delivery"], body["status"]) == ("never ran", "degraded"), "nothing has delivered yet"
    jobs.deliver(app)
    body = client.get("/api/v1/health").get_json()
    assert (body["delivery"], body["status"]) == ("ok", "ok") and body["last_delivery_at"].endswith("Z"), body


@pytest.mark.both_databases  # the delivery's age is deadline arithmetic
def test_health_says_a_delivery_process_that_stopped_or_failed_is_degraded(client, app, world, monkeypatch):
    """The documented split (`--jobs sweep` beside `--jobs deliver`) with the delivery process dead: health said
    ok, the sweep fresh, while nothing was sent, the watchdog's own alerts included."""
    from tracker import jobs
    from tracker.models import JobRun
    from tracker.services.engine import delivery

    jobs.sweep(app)
    jobs.deliver(app)
    stale_after = app.config["DELIVERY_INTERVAL_SECONDS"] * app.config["SWEEP_STALE_INTERVALS"]
    stale_after = max(stale_after, app.config["SWEEP_INTERVAL_SECONDS"] * app.config["SWEEP_STALE_INTERVALS"])
    with session_scope(app) as session:
        session.get_one(JobRun, "deliver").last_finished_at = utcnow() - timedelta(seconds=stale_after + 5)
    jobs.sweep(app)  # the sweep goes on
    body = client.get("/api/v1/health").get_json()
    assert (body["sweep"], body["delivery"], body["status"]) == ("ok", "stale", "degraded"), body

    def broken(*args, **kwargs):
        raise RuntimeError("SELECT secret FROM row data")

    monkeypatch.setattr(delivery, "claim_messages", broken)
    jobs.deliver(app)
    body = client.get("/api/v1/health").get_json()
    assert (body["delivery"], body["status"]) == ("failing", "degraded"), body
    assert "secret" not in str(body), "no error text to a caller without a token"
    monkeypatch.undo()
    jobs.deliver(app)
    assert client.get("/api/v1/health").get_json()["status"] == "ok"


def test_health_says_a_failing_sweep_is_degraded_naming_its_stages_not_their_errors(client, app):
    from tracker.services.engine import heartbeat

    error = 'audit seal: RaiseException: COPY audit_seals, line 1: "855\tc73bf"; escalation: incident 7 set aside (x)'
    with session_scope(app) as session:
        heartbeat.beat(session, "sweep", "test", utcnow(), utcnow(), error)
    body = client.get("/api/v1/health").get_json()
    assert (body["status"], body["sweep"], body["last_sweep_error"]) == (
        "degraded",
        "failing",
        "audit seal; escalation",
    )
    assert "COPY" not in str(body) and "c73bf" not in str(body), "no SQL or row data to a caller without a token"


def test_health_answers_503_when_the_database_does_not(tmp_path):
    from tests.conftest import app_config
    from tracker import create_app
    from tracker.db import engine_of

    app = create_app(app_config(tmp_path / "outbox", DATABASE_URL=f"sqlite:///{tmp_path / 'gone' / 'tracker.db'}"))
    try:
        answer = app.test_client().get("/api/v1/health")
    finally:
        engine_of(app).dispose()
    assert answer.status_code == 503, answer.get_data(as_text=True)[:500]
    assert (answer.get_json()["status"], answer.get_json()["database"]) == ("down", "down")


def test_health_says_the_audit_anchor_not_kept_as_a_failing_sweep(client, world, app, tmp_path):
    """Its folder replaced by a file under a running scheduler: each seal logged an error, the anchor stayed at an
    old head (what catches a chain cut short), and health said ok."""
    from tracker import jobs

    (tmp_path / "a-file").write_text("")
    app.config["AUDIT_ANCHOR_FILE"] = str(tmp_path / "a-file" / "anchor.json")
    file_incident(client, world)  # something to seal
    jobs.sweep(app)
    jobs.deliver(app)
    body = client.get("/api/v1/health").get_json()
    assert (body["status"], body["sweep"], body["last_sweep_error"]) == ("degraded", "failing", "audit anchor"), body
    assert "a-file" not in str(body), "no path or error text to a caller without a token"
