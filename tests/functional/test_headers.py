"""What answers and logs give away: caching headers, the webhook secret shown once, and credentials
in the request log whichever server runs the app (issue 12, items 6, 11 and 12)."""

import io
import logging
import threading
import urllib.error
import urllib.request
from urllib.parse import urlsplit

import pytest
from gunicorn.config import Config
from sqlalchemy import select
from werkzeug.serving import make_server

from tests.support import file_incident, sign_in
from tracker import logs
from tracker.db import session_scope
from tracker.models import Notification

CHANNELS = "/api/v1/channels"
HOOK = {"name": "Hotline", "level": 1, "transport": "webhook", "address": "https://desk.example.org/hook"}


# -- item 12: nothing but static files is kept by a cache ---------------------------------------


def feed_path(client, world) -> str:
    url = client.get("/api/v1/exercises/feed-link", headers=world.auth("duty")).get_json()["url"]
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


@pytest.mark.parametrize(
    ("who", "path"),
    [
        ("token:duty", "/api/v1/incidents"),
        ("token:supervisor", "/api/v1/exports/incidents.csv"),
        ("token:duty", "/api/v1/incidents/INC-1999-99999"),  # an error answer too
        ("feed", None),
        ("page:supervisor", "/"),
        ("page:supervisor", "/reports"),
        ("page:supervisor", "/reports/incidents.csv"),
        ("page:admin", "/admin/channels"),
        ("nobody", "/signin"),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_answers_behind_a_sign_in_or_a_key_are_not_stored_by_caches(client, world, who, path):
    headers = {}
    if who.startswith("token:"):
        headers = world.auth(who.removeprefix("token:"))
    elif who.startswith("page:"):
        sign_in(client, who.removeprefix("page:"))
    elif who == "feed":
        path = feed_path(client, world)

    response = client.get(path, headers=headers)

    assert response.status_code in (200, 404), (path, response.status_code)
    assert response.headers.get("Cache-Control") == "no-store", (path, response.headers.get("Cache-Control"))


def test_static_files_keep_their_caching(client):
    response = client.get("/static/app.css")
    response.close()  # a file answer: let go of the file
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", ""), response.headers.get("Cache-Control")
    assert response.headers.get("ETag") or response.headers.get("Last-Modified"), "revalidated, not fetched again"


# -- item 11: a webhook's signing secret is shown once ----------------------------------------


def test_a_webhook_secret_is_in_the_answer_that_made_or_set_it_only(client, world):
    admin = world.auth("admin")
    created = client.post(CHANNELS, json=HOOK, headers=admin)
    assert created.status_code == 201 and len(created.get_json()["secret"]) >= 32, created.get_json()
    hook = f"{CHANNELS}/{created.get_json()['id']}"

    changed = client.patch(hook, json={"level": 2}, headers=admin)
    assert changed.status_code == 200 and "secret" not in changed.get_json(), changed.get_json()
    assert "secret" not in client.get(hook, headers=admin).get_json()
    assert all("secret" not in channel for channel in client.get(CHANNELS, headers=admin).get_json())

    rotated = client.patch(hook, json={"secret": "s" * 24}, headers=admin)
    assert rotated.get_json()["secret"] == "s" * 24, "the answer that set it shows it"
    assert "secret" not in client.patch(hook, json={"secret": "s" * 24}, headers=admin).get_json(), "unchanged"

    became = client.patch(f"{CHANNELS}/{world.channels['L3']}", json=HOOK | {"name": "L3"}, headers=admin)
    assert len(became.get_json()["secret"]) >= 32, "made by this change: shown"
    again = client.patch(f"{CHANNELS}/{world.channels['L3']}", json={"active": True}, headers=admin)
    assert "secret" not in again.get_json()

    # A webhook made another transport and then a webhook again (the receiver moved) gets a new secret,
    # shown: the old one was kept, never shown again, and the new receiver could check nothing.
    away = client.patch(hook, json={"transport": "outbox", "address": "desk@test.example"}, headers=admin)
    assert away.status_code == 200 and "secret" not in away.get_json(), away.get_json()
    back = client.patch(hook, json={"transport": "webhook", "address": "https://desk.example.org/hook2"}, headers=admin)
    assert back.status_code == 200 and len(back.get_json().get("secret", "")) >= 32, back.get_json()
    assert back.get_json()["secret"] != "s" * 24


def test_a_secret_for_a_line_that_is_no_webhook_is_refused_not_dropped(client, world):
    admin = world.auth("admin")
    line = f"{CHANNELS}/{world.channels['L3']}"
    refused = client.patch(line, json={"secret": "s" * 24}, headers=admin)
    assert refused.status_code == 422 and "secret" in refused.get_json()["error"]["details"], refused.get_json()
    moved = client.patch(
        line, json={"transport": "outbox", "address": "l3@test.example", "secret": "s" * 24}, headers=admin
    )
    assert moved.status_code == 422, moved.get_json()
    made = client.post(
        CHANNELS,
        json={"name": "Desk", "level": 2, "transport": "outbox", "address": "d", "secret": "s" * 24},
        headers=admin,
    )
    assert made.status_code == 422, made.get_json()


# -- item 6: credentials in URLs never reach a log --------------------------------------------


def ack_path(app, client, world) -> str:
    """The path of a real one-click acknowledgement link, as a message carries it."""
    file_incident(client, world)
    with session_scope(app) as session:
        payload = session.scalars(select(Notification.payload)).first()
    return urlsplit(payload["acknowledge"]["url"]).path


def secrets_of(ack: str, feed: str) -> list[str]:
    return [ack.rsplit("/", 1)[1], feed.split("key=", 1)[1]]


def test_the_development_servers_request_log_masks_link_tokens_and_feed_keys(app, client, world, caplog):
    """`make run` serves with werkzeug (flask run), which logs each request line, query and all: an API token put
    in the query, under any name, was written there whole (the request is refused, its line logged)."""
    ack, feed = ack_path(app, client, world), feed_path(client, world)
    token = world.tokens["duty"]
    misplaced = [f"/api/v1/incidents?{name}={token}" for name in ("api_key", "auth", "bearer", "X-Auth-Token", "q")]
    server = make_server("127.0.0.1", 0, app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    caplog.set_level(logging.INFO, logger="werkzeug")
    thread.start()
    try:
        for path in (ack, feed, *misplaced):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{server.port}{path}", timeout=10).close()
            except urllib.error.HTTPError:
                pass  # what the page answers does not matter here, only what the log says
    finally:
        server.shutdown()
        thread.join()

    lines = [record.getMessage() for record in caplog.records if record.name == "werkzeug"]
    assert any("/links/ack/…" in line for line in lines) and any("?key=…" in line for line in lines), lines
    for secret in secrets_of(ack, feed):
        assert secret not in caplog.text
    assert sum("/api/v1/incidents?" in line for line in lines) == len(misplaced), lines
    assert token not in caplog.text and token[4:] not in caplog.text, lines


def test_a_request_that_fails_is_logged_without_its_links_token(make_app, world, caplog, monkeypatch):
    """Flask logs a request that fails as "Exception on /links/ack/<token> [GET]" with its traceback, whose
    exception may quote the URL: only the tracker's own handler masked them, and any other handler a deployment
    adds (or a test's) was given the token."""
    from tracker.services.engine import linkuse

    app = make_app(TESTING=False, PROPAGATE_EXCEPTIONS=False)
    client = app.test_client()
    path = ack_path(app, client, world)

    def fails(*args):
        raise RuntimeError(f"cannot open http://tracker.test{path}")

    monkeypatch.setattr(linkuse, "inspect", fails)
    caplog.set_level(logging.DEBUG)
    assert client.get(path).status_code == 500
    [failed] = [record for record in caplog.records if record.exc_info]
    assert failed.getMessage() == "Exception on /links/ack/… [GET]", failed.getMessage()
    assert "cannot open http://tracker.test/links/ack/…" in caplog.text, caplog.text
    assert path.rsplit("/", 1)[1] not in caplog.text


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_the_tracker_log_masks_link_tokens_and_feed_keys_in_every_line(app, fmt):
    """Jobs, the scheduler and gunicorn's error log write through the tracker's handler."""
    root = logging.getLogger()
    level = root.level
    logs.configure("INFO", fmt)
    [handler] = [h for h in root.handlers if getattr(h, "_tracker", False)]
    stream = io.StringIO()
    handler.setStream(stream)
    log = logging.getLogger("tracker.jobs")
    try:
        with app.test_request_context("/links/ack/PATHTOKEN"):
            log.warning("check to %s not delivered", "https://tracker.test/links/check/ARGTOKEN")
            try:
                raise ValueError("refused https://tracker.test/api/v1/exercises.ics?key=EXCKEY")
            except ValueError:
                log.exception("feed failed")
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    written = stream.getvalue()
    assert "/links/check/…" in written and "?key=…" in written, written
    for secret in ("PATHTOKEN", "ARGTOKEN", "EXCKEY"):
        assert secret not in written, written


def test_gunicorns_error_log_masks_the_uri_of_a_failed_request():
    logger = logs.JsonAccessLogger(Config())
    seen: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: seen.append(record.getMessage())  # type: ignore[method-assign]
    logger.error_log.addHandler(handler)
    try:
        logger.error("Error handling request %s", "/links/ack/TOKEN?key=KEY")
    finally:
        logger.error_log.removeHandler(handler)
    assert seen == ["Error handling request /links/ack/…?key=…"]
