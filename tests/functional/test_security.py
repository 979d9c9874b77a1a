"""Security at the edges: headers on every answer, rate limits per account and per address,
request ids, and no secret in any log line."""

import logging
import re
from pathlib import Path

import pytest

from tests.support import build_world, file_incident, sign_in
from tracker.security import POLICY

TEMPLATES = Path(__file__).resolve().parents[2] / "tracker" / "templates"


def _assert_secure_headers(response, path):
    policy = response.headers.get("Content-Security-Policy", "")
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0], (
        f"{path}: script-src must be self only, got {policy!r}"
    )
    assert "frame-ancestors 'none'" in policy, f"{path}: {policy!r}"
    assert response.headers.get("X-Frame-Options") == "DENY", f"{path}: {dict(response.headers)}"
    assert response.headers.get("X-Content-Type-Options") == "nosniff", f"{path}: {dict(response.headers)}"
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers.get("X-Request-ID", "")), f"{path}: no request id"


@pytest.mark.parametrize(
    "path",
    [
        "/signin",
        "/",
        "/map",
        "/incidents/new",
        "/api/v1/health",
        "/api/v1/openapi.json",
        "/api/v1/docs",
        "/nowhere",
        "/api/v1/nowhere",
        "/metrics",
        "/static/app.css",
    ],
)
def test_every_answer_carries_the_security_headers(app, client, world, path):
    sign_in(client, "duty")
    response = client.get(path)
    response.close()  # static files are streamed from an open file
    _assert_secure_headers(response, path)


def test_no_template_holds_inline_script():
    offenders = []
    for template in TEMPLATES.rglob("*.html"):
        if template.parts[-2] == "messages":
            continue  # e-mail bodies, never served as pages
        for match in re.finditer(r"<script(?![^>]*\bsrc=)[^>]*>", template.read_text()):
            offenders.append(f"{template.relative_to(TEMPLATES)}: {match.group(0)}")
        if re.search(r"\son[a-z]+=\"", template.read_text()):
            offenders.append(f"{template.relative_to(TEMPLATES)}: inline event handler")
    assert not offenders, f"inline script breaks the Content-Security-Policy {POLICY!r}: {offenders}"


def test_the_api_docs_page_loads_its_start_up_code_from_a_file(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    assert 'src="/static/docs.js"' in page.text and "SwaggerUIBundle(" not in page.text
    script = client.get("/static/docs.js")
    script.close()
    assert script.status_code == 200


def test_a_sane_request_id_from_the_caller_is_kept_and_a_strange_one_replaced(client):
    assert client.get("/api/v1/health", headers={"X-Request-ID": "desk-42.abc_DEF"}).headers["X-Request-ID"] == (
        "desk-42.abc_DEF"
    )
    replaced = client.get("/api/v1/health", headers={"X-Request-ID": "<script>"}).headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", replaced), replaced


def _limited_app(make_app, **limits):
    return make_app(RATE_LIMIT_WINDOW_SECONDS=3600, **limits)


@pytest.mark.both_databases  # counted in the database, by an upsert written per engine
def test_sign_in_is_limited_per_account(make_app):
    app = _limited_app(make_app, SIGNIN_PER_ACCOUNT=3)
    build_world(app)
    client = app.test_client()
    answers = [sign_in(client, "duty", "wrong").status_code for _ in range(3)]
    assert answers == [401, 401, 401], answers
    refused = sign_in(client, "duty")  # even the right password: the account's attempts are spent
    assert refused.status_code == 429, refused.text[:300]
    assert int(refused.headers["Retry-After"]) > 0
    assert "Too many" in refused.text
    other = sign_in(app.test_client(), "liaison")
    assert other.status_code == 302, "another account from the same address still signs in"


@pytest.mark.both_databases  # counted in the database, by an upsert written per engine
def test_sign_in_is_limited_per_address(make_app):
    app = _limited_app(make_app, SIGNIN_PER_ADDRESS=2)
    build_world(app)
    here = app.test_client()
    assert sign_in(here, "duty", "wrong").status_code == 401
    assert sign_in(here, "liaison", "wrong").status_code == 401
    assert sign_in(here, "supervisor").status_code == 429, "a third account from the same address is refused"
    elsewhere = app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "192.0.2.7"
    assert sign_in(elsewhere, "supervisor").status_code == 302, "another address is counted apart"


@pytest.mark.parametrize(
    ("authorization", "problem"),
    [(None, "missing"), ("Basic ZHV0eTpkdXR5", "not a bearer token"), ("Bearer trk_wrong", "not a valid token")],
    ids=["no header", "basic", "wrong token"],
)
def test_a_refused_token_is_told_what_was_wrong_and_what_to_send(client, world, authorization, problem):
    """Not a bare "Unauthorized": the answer names the header, what was wrong with it and what to send."""
    headers = {"Authorization": authorization} if authorization else {}
    answer = client.get("/api/v1/incidents", headers=headers)
    assert answer.status_code == 401 and answer.headers["WWW-Authenticate"].startswith("Bearer"), answer.headers
    error = answer.get_json()["error"]
    assert (error["code"], error["details"]) == ("unauthorized", {"Authorization": problem}), error
    assert "Bearer <token>" in error["message"] or "ask an admin for a new one" in error["message"], error


@pytest.mark.both_databases  # counted in the database, by an upsert written per engine
def test_wrong_bearer_tokens_are_limited_per_address_and_a_good_one_still_works(make_app):
    """One script with an old token behind an office's shared address used to lock every desk's
    integrations out for the window: over the limit, only wrong tokens and feed keys are refused."""
    app = _limited_app(make_app, TOKEN_FAILURES_PER_ADDRESS=3)
    world = build_world(app)
    client = app.test_client()
    for n in range(3):
        answer = client.get("/api/v1/incidents", headers={"Authorization": f"Bearer wrong-{n}"})
        assert answer.status_code == 401, (n, answer.get_json())
    refused = client.get("/api/v1/incidents", headers={"Authorization": "Bearer wrong-3"})
    assert refused.status_code == 429, refused.get_json()
    assert refused.get_json()["error"]["code"] == "too_many_requests"
    assert int(refused.headers["Retry-After"]) > 0
    good = client.get("/api/v1/incidents", headers=world.auth("duty"))
    assert good.status_code == 200, good.get_json()
    link = client.get("/api/v1/exercises/feed-link", headers=world.auth("duty")).get_json()["url"]
    path = link.split("/api/v1/", 1)[1]
    assert client.get(f"/api/v1/{path}").status_code == 200, "a good feed key works too"
    wrong_key = client.get("/api/v1/exercises.ics?key=not-a-key")
    assert wrong_key.status_code == 429, wrong_key.get_json()
    elsewhere = client.get(
        "/api/v1/incidents", headers={"Authorization": "Bearer wrong-4"}, environ_base={"REMOTE_ADDR": "192.0.2.9"}
    )
    assert elsewhere.status_code == 401, "another address has its own count"


@pytest.mark.both_databases  # counted in the database, by an upsert written per engine
def test_good_tokens_are_never_counted(make_app):
    app = _limited_app(make_app, TOKEN_FAILURES_PER_ADDRESS=2)
    world = build_world(app)
    client = app.test_client()
    for _ in range(5):
        assert client.get("/api/v1/incidents", headers=world.auth("duty")).status_code == 200


@pytest.mark.both_databases  # counted in the database, by an upsert written per engine
def test_token_uses_on_acks_and_links_are_limited_per_address(make_app):
    app = _limited_app(make_app, LINKS_PER_ADDRESS=2)
    client = app.test_client()
    assert client.post("/api/v1/acks", json={"token": "not-a-token"}).status_code == 400
    assert client.get("/links/ack/not-a-token").status_code == 400
    refused = client.post("/api/v1/acks", json={"token": "not-a-token"})
    assert refused.status_code == 429, refused.get_json()
    page = client.get("/links/ack/not-a-token")
    assert page.status_code == 429 and "Too many" in page.text


@pytest.mark.both_databases  # counted in the database, by an upsert written per engine
def test_the_limit_lifts_when_the_window_passes(make_app):
    from datetime import timedelta

    from tracker.db import session_scope
    from tracker.services.accounts import throttle
    from tracker.timeutil import utcnow

    app = make_app(RATE_LIMIT_WINDOW_SECONDS=60, TOKEN_FAILURES_PER_ADDRESS=1)
    key = "token:address:127.0.0.1"
    with session_scope(app) as session:
        earlier = utcnow() - timedelta(seconds=120)
        throttle.hit(session, key, 60, earlier)
        throttle.hit(session, key, 60, earlier)
        assert throttle.count(session, key, 60, earlier) == 2
        assert throttle.count(session, key, 60, utcnow()) == 0, "a new window starts from zero"


def test_secrets_never_reach_the_logs(app, client, world, caplog):
    caplog.set_level(logging.DEBUG)
    sign_in(client, "duty", "duty-password")
    sign_in(client, "duty", "a-wrong-secret-password")
    incident = file_incident(client, world)
    client.get(f"/api/v1/incidents/{incident['reference']}", headers=world.auth("duty"))
    client.get("/api/v1/incidents", headers={"Authorization": "Bearer wrong-token-abcdef"})
    client.post("/api/v1/acks", json={"token": "some.signed.token-xyz"})
    from tracker import jobs

    jobs.sweep(app)
    jobs.deliver(app)
    text = "\n".join(f"{r.getMessage()} {vars(r)}" for r in caplog.records)
    for secret in (
        "duty-password",
        "a-wrong-secret-password",
        world.tokens["duty"],
        "wrong-token-abcdef",
        "some.signed.token-xyz",
        "test-secret",
    ):
        assert secret not in text, f"{secret!r} was logged"


def test_the_json_log_line_carries_the_request_id_and_the_reference(app, client, world):
    import json

    from flask import g

    from tracker.logs import JsonFormatter

    incident = file_incident(client, world)
    reference = incident["reference"]
    with app.test_request_context(f"/api/v1/incidents/{reference}"):
        app.preprocess_request()
        from flask import request

        request.view_args = {"reference": reference}
        record = logging.makeLogRecord(
            {"name": "tracker.test", "levelname": "WARNING", "msg": "about %s", "args": ("x",)}
        )
        line = json.loads(JsonFormatter().format(record))
        assert line["reference"] == reference and line["request_id"] == g.request_id, line
        assert line["message"] == "about x" and line["level"] == "warning", line
    job_line = json.loads(JsonFormatter().format(logging.makeLogRecord({"msg": "sent", "reference": "INC-2026-00001"})))
    assert job_line["reference"] == "INC-2026-00001" and "request_id" not in job_line, job_line


def test_the_access_log_masks_link_tokens_and_drops_query_strings():
    from tracker.logs import safe_path

    assert safe_path("/links/ack/eyJhbGciOi.secret") == "/links/ack/…"
    for odd in ("/links/ack//eyJhbGciOi.secret", "//links//ack/eyJhbGciOi.secret", "/links%2Fack%2FeyJhbGciOi.secret"):
        assert "eyJhbGciOi" not in safe_path(odd), odd  # routed, after a redirect, to the same link
    assert safe_path("/api/v1/incidents") == "/api/v1/incidents"


@pytest.mark.both_databases  # the gauges are SQL counts and deadline arithmetic at scrape time
def test_metrics_are_in_the_prometheus_text_format_and_count_what_happens(app, client, world):
    from prometheus_client.parser import text_string_to_metric_families

    from tracker import jobs

    before = _samples(client, world)
    file_incident(client, world, precedence="Z")
    jobs.refresh_metrics(app)  # the scheduler's metrics job counts the database's figures
    after = _samples(client, world)
    assert after[("tracker_incidents", (("precedence", "Z"), ("status", "open")))] == 1, after
    key = ("tracker_incidents_filed_total", (("precedence", "Z"),))
    assert after[key] == before.get(key, 0) + 1, (before.get(key), after.get(key))
    scraped = client.get("/metrics", headers=world.auth("supervisor")).text
    families = {f.name for f in text_string_to_metric_families(scraped)}
    for name in (
        "tracker_escalations",
        "tracker_notifications",
        "tracker_delivery_latency_seconds",
        "tracker_escalation_lag_seconds",
        "tracker_sweep_duration_seconds",
        "tracker_incidents",
        "tracker_last_job_finished_timestamp_seconds",
    ):
        assert name in families, f"{name} missing from /metrics: {sorted(families)}"


def _samples(client, world) -> dict:
    from prometheus_client.parser import text_string_to_metric_families

    answer = client.get("/metrics", headers=world.auth("supervisor"))
    assert answer.status_code == 200 and answer.mimetype == "text/plain", answer.headers
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(answer.text)
        for s in family.samples
    }


@pytest.mark.both_databases  # the count's upsert locks its row on PostgreSQL; SQLite lets one writer in
def test_attempts_arriving_together_get_no_more_than_the_limit(make_app, monkeypatch):
    """16 uses of an acknowledge link at once from one address, 4 allowed: 4 are answered, 12 refused.
    Each count is slowed, so every attempt is in flight before any is counted: had the limit been read
    before counting, all 16 would have read a count of 0 and got in."""
    import threading
    import time

    from tracker.services.accounts import throttle

    app = _limited_app(make_app, LINKS_PER_ADDRESS=4)
    real, start, answers = throttle.hit, threading.Barrier(16), []

    def hit(*args, **kwargs):
        time.sleep(0.05)
        return real(*args, **kwargs)

    monkeypatch.setattr(throttle, "hit", hit)

    def use_link() -> None:
        client = app.test_client()
        start.wait()
        answers.append(client.post("/api/v1/acks", json={"token": "not-a-token"}).status_code)

    threads = [threading.Thread(target=use_link) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(answers) == [400] * 4 + [429] * 12, answers
