"""Never a secret, token or signed link in a log. The main flows run with every logger at DEBUG, the tracker's
own logging set up as LOG_LEVEL = "DEBUG" sets it up: signing in (and a wrong password), a password changed and
one reset, an API token issued, an incident filed with a token, its message mailed through a relay that asks
for a login, the escalation posted to a webhook through a proxy that asks for one, the one-click link and the
other side's receipt link used, the calendar feed and /metrics read. Then the same links, the feed and the
API asked of gunicorn at its debug level. No password, token, link token (nor its signature), SECRET_KEY,
METRICS_SCRAPE_SECRET, relay or proxy password may show in what any logger was given, in what the tracker's
handler wrote, nor in gunicorn's access and error logs."""

import io
import json
import logging
import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from tests.exchange_support import add_counterpart_line, open_exchange
from tests.peers import PASSWORD, USER, TlsSmtpServer
from tests.schedulers import serving
from tests.support import SHOWN_ONCE, World, build_world, csrf, file_incident, sign_in, switch_channel
from tracker import jobs
from tracker.db import session_scope
from tracker.models import Incident, User
from tracker.timeutil import utcnow

pytestmark = [
    pytest.mark.slow,
    # aiosmtpd warns about AUTH without STARTTLS; the relay here asks for STARTTLS first.
    pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning"),
]

SECRET_KEY = "secret-key-of-the-log-review-0123456789"
METRICS_SECRET = "metrics-scrape-secret-of-the-log-review"
PROXY_PASSWORD = "proxy-password-of-the-log-review"
HOOK_SECRET = "hook-query-secret-of-the-log-review"
LINE = "Eastland hotline"
LINK = re.compile(r"http://tracker\.test(/links/(?:ack|receipt)/[A-Za-z0-9._-]+)")


@pytest.fixture
def relay(ca):
    """An SMTP relay that asks for STARTTLS and a login."""
    server = TlsSmtpServer(ca, implicit=False).start()
    yield server
    server.stop()


def ours(record: logging.LogRecord) -> bool:
    """Not a line of the test's peers: the relay's (aiosmtpd's "mail.log", which quotes each mail it is given)
    and the proxy's request lines (werkzeug's, of another server than the tracker)."""
    return record.name != "mail.log" and not (record.name == "werkzeug" and "127.0.0.1 - -" in record.getMessage())


@pytest.fixture
def written(debug_logging):
    """What the tracker's own handler writes (to stderr in a deployment), at DEBUG."""
    [handler] = [h for h in logging.getLogger().handlers if getattr(h, "_tracker", False)]
    stream = io.StringIO()
    handler.setStream(stream)
    handler.addFilter(ours)
    return stream


def user_id(app, name: str) -> int:
    with session_scope(app) as session:
        return session.scalar(select(User.id).where(User.username == name))


def links_in(mail) -> list[str]:
    return LINK.findall(mail.get_body(("plain",)).get_content())


def secrets_of(secrets: dict[str, str], link_paths: list[str]) -> dict[str, str]:
    """Each secret by what it is; a link's token and its signature (the part after its last dot) each."""
    found = dict(secrets)
    for path in link_paths:
        token = path.rsplit("/", 1)[1]
        found[f"link token {path[:16]}"] = token
        found[f"link signature {path[:16]}"] = token.rsplit(".", 1)[1]
    return found


def leaks(text: str, secrets: dict[str, str]) -> list[str]:
    return [what for what, secret in secrets.items() if secret in text]


def run_main_flows(app, world: World, relay, proxy) -> tuple[dict[str, str], list[str], str]:
    """Every flow that handles a secret, in process; the secrets used, the paths of the links made, the feed's."""
    secrets = {
        "SECRET_KEY": SECRET_KEY,
        "METRICS_SCRAPE_SECRET": METRICS_SECRET,
        "SMTP password": PASSWORD,
        "proxy password": PROXY_PASSWORD,
        "webhook's secret": HOOK_SECRET,
        "duty's API token": world.tokens["duty"],
        "admin's API token": world.tokens["admin"],
        "liaison's password": "liaison-password",
        "a wrong password": "wrong-guess-of-the-log-review",
        "a changed password": "duty-changed-password-of-the-log-review",
        "a reset password": "liaison-reset-password-of-the-log-review",
    }
    duty, admin = app.test_client(), app.test_client()
    assert sign_in(duty, "duty", secrets["a wrong password"]).status_code == 401
    assert sign_in(duty, "duty").status_code == 302
    changed = duty.post(
        "/password",
        data={
            "csrf_token": csrf(duty, "/password"),
            "current_password": "duty-password",
            "password": secrets["a changed password"],
        },
    )
    assert changed.status_code == 302, changed.text[:2000]
    assert sign_in(admin, "admin").status_code == 302
    page = f"/admin/users/{user_id(app, 'liaison')}"
    reset = admin.post(
        f"{page}/password", data={"csrf_token": csrf(admin, page), "password": secrets["a reset password"]}
    )
    assert reset.status_code == 302, reset.text[:2000]
    issued = admin.post(f"{page}/tokens", data={"csrf_token": csrf(admin, page), "name": "wall display"})
    [secrets["an issued API token"]] = SHOWN_ONCE.findall(issued.text)

    # Filed with a token; mailed to L1 through the relay; escalated to L2's webhook through the proxy.
    switch_channel(app, world.channels["L1"], transport="email", address="desk@test.example")
    switch_channel(
        app, world.channels["L2"], transport="webhook", address=f"http://hooks.test/hook?token={HOOK_SECRET}"
    )
    api = app.test_client()
    reference = file_incident(api, world)["reference"]
    jobs.deliver(app)
    [mailed] = relay.wait_for(1)
    with session_scope(app) as session:
        session.scalar(select(Incident).where(Incident.reference == reference)).next_escalation_at = utcnow() - (
            timedelta(seconds=1)
        )
    jobs.sweep(app)
    jobs.deliver(app)
    assert len(proxy.requests) == 1, proxy.requests
    acknowledge = json.loads(proxy.requests[0]["body"])["acknowledge"]
    hooked = urlsplit(acknowledge["url"]).path
    assert api.get(hooked).status_code == 200
    assert api.post(hooked).status_code == 200, "acknowledged by the webhook's one-click link"

    # The other side's receipt link, mailed with the notice of the exchange.
    add_counterpart_line(
        app, world, LINE, transport="email", address="hotline@eastland.test", counterpart_state="Eastland"
    )
    open_exchange(api, world, reference, line=LINE)
    jobs.deliver(app)
    [receipt] = [path for mail in relay.wait_for(2)[1:] for path in links_in(mail)][:1]
    assert api.get(receipt).status_code == 200
    assert api.post(receipt, data={"name": "Lt Col Orlov"}).status_code == 200

    feed = api.get("/api/v1/exercises/feed-link", headers=world.auth("duty")).get_json()["url"]
    secrets["feed key"] = feed.split("key=", 1)[1]
    feed = feed.removeprefix("http://tracker.test")
    assert api.get(feed).status_code == 200
    scraped = api.get("/metrics", headers={"Authorization": f"Bearer {METRICS_SECRET}"})
    assert scraped.status_code == 200
    assert api.get("/api/v1/incidents", headers={"Authorization": "Bearer not-a-token-of-the-log-review"}).status_code
    secrets["a wrong API token"] = "not-a-token-of-the-log-review"
    return secrets, [*links_in(mailed), hooked, receipt], feed


def served_by_gunicorn(app, tmp_path, paths: list[tuple[str, dict | None]]) -> str:
    """gunicorn on the test's database at its debug level, asked for each path; its whole log."""
    log = tmp_path / "gunicorn.log"
    settings = {"TRACKER_LOG_LEVEL": "DEBUG", "TRACKER_WEB_LOG_LEVEL": "debug", "TRACKER_SECRET_KEY": SECRET_KEY}
    settings.update(TRACKER_METRICS_SCRAPE_SECRET=METRICS_SECRET, TRACKER_PUBLIC_URL="http://tracker.test")
    with serving(app, log, app.config["DATABASE_URL"], **settings) as get:
        for path, headers in paths:
            assert get(path, headers) > 0, log.read_text()[-3000:]
    return log.read_text()


def test_no_secret_of_the_main_flows_reaches_any_log(make_app, relay, proxy, tmp_path, caplog, written):
    app = make_app(
        SECRET_KEY=SECRET_KEY,
        METRICS_SCRAPE_SECRET=METRICS_SECRET,
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=relay.port,
        SMTP_SECURITY="starttls",
        SMTP_USERNAME=USER,
        SMTP_PASSWORD=PASSWORD,
        SMTP_CA_FILE=str(tmp_path / "ca.pem"),
        SMTP_TIMEOUT_SECONDS=5,
        WEBHOOK_PROXY=f"http://proxy-user:{PROXY_PASSWORD}@127.0.0.1:{proxy.port}",
    )
    world = build_world(app)
    caplog.set_level(logging.DEBUG)
    secrets, links, feed = run_main_flows(app, world, relay, proxy)
    secrets = secrets_of(secrets, links)

    # What every logger was given (a handler of a deployment's own sees it so), and what the tracker's wrote.
    given = "\n".join(
        f"{record.getMessage()} {record.exc_text or ''} {vars(record)}" for record in caplog.records if ours(record)
    )
    assert not leaks(given, secrets), leaks(given, secrets)
    assert not leaks(written.getvalue(), secrets), leaks(written.getvalue(), secrets)

    bearer = {"Authorization": f"Bearer {secrets['an issued API token']}"}
    served = served_by_gunicorn(
        app,
        tmp_path,
        [
            *((path, None) for path in links),
            (feed, None),
            ("/api/v1/incidents", bearer),
            ("/api/v1/incidents?token=" + secrets["a wrong API token"], None),
            ("/metrics", {"Authorization": f"Bearer {METRICS_SECRET}"}),
        ],
    )
    assert "/links/ack/…" in served and "/links/receipt/…" in served, served[-3000:]
    assert not leaks(served, secrets), (leaks(served, secrets), served[-3000:])
