"""One-click acknowledgement from a received message: the link in the e-mail the SMTP server got,
the token in the payload the webhook receiver got, and every refused use (tampered, expired,
reused, foreign, GET only) leaving the incident exactly as it was."""

import json
import re
import time
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from tests.support import build_world, file_incident, switch_channel
from tracker import dispatch, jobs
from tracker.channels import withheld
from tracker.db import session_scope
from tracker.models import ChannelCheck, CheckOutcome, ContactChannel, EventKind, Incident, IncidentStatus, LinkUse
from tracker.services.engine import escalation
from tracker.services.engine.links import LinkSigner
from tracker.timeutil import utcnow

TOKEN = r"[A-Za-z0-9_\-.]+"
ACK_URL = re.compile(rf"http://tracker\.test/links/ack/{TOKEN}")
CHECK_URL = re.compile(rf"http://tracker\.test/links/check/{TOKEN}")


@dataclass
class Delivered:
    app: object
    client: object
    world: object
    reference: str
    incident_id: int


def deliver_first_notification(app, address_of_l1: dict) -> Delivered:
    world = build_world(app)
    switch_channel(app, world.channels["L1"], **address_of_l1)
    client = app.test_client()
    incident = file_incident(client, world)
    assert jobs.deliver(app) == 1
    return Delivered(app, client, world, incident["reference"], incident_id(app, incident["reference"]))


def incident_id(app, reference: str) -> int:
    with session_scope(app) as session:
        return session.scalar(select(Incident.id).where(Incident.reference == reference))


@pytest.fixture
def mailed(mail_app, smtp_server) -> Delivered:
    """An incident whose step-1 call to act went by e-mail to L1 and reached the SMTP server."""
    return deliver_first_notification(mail_app, {"transport": "email", "address": "l1@test.example"})


@pytest.fixture
def message(mailed, smtp_server):
    [received] = smtp_server.wait_for(1)
    assert received["To"] == "L1 <l1@test.example>" and mailed.reference in received["Subject"]
    return received


def link_in(received, pattern=ACK_URL) -> str:
    """The link's path as it appears in the message's text/plain part (what a person clicks)."""
    [url] = pattern.findall(received.get_body(("plain",)).get_content())
    return url.removeprefix("http://tracker.test")


def state(app, reference: str) -> dict:
    """Everything a use of a link could change, read from the database."""
    with session_scope(app) as session:
        incident = session.scalars(select(Incident).where(Incident.reference == reference)).one()
        return {
            "status": incident.status,
            "acknowledged_at": incident.acknowledged_at,
            "acknowledged_by": incident.acknowledged_by_label,
            "next_escalation_at": incident.next_escalation_at,
            "timeline": len(incident.events),
            "link_uses": session.scalar(select(func.count()).select_from(LinkUse)),
        }


def assert_untouched_open(app, reference: str, before: dict) -> None:
    after = state(app, reference)
    assert after == before, "a refused link must change nothing"
    assert after["status"] is IncidentStatus.OPEN and after["acknowledged_at"] is None
    assert after["link_uses"] == 0


def issue_at(app, monkeypatch, unix_time: float, purpose: str = "ack", secret: str | None = None, **claims) -> str:
    """Sign claims as if at unix_time (itsdangerous stamps tokens with time.time())."""
    signer = dispatch.signer(app)
    if secret is not None:
        signer = LinkSigner(secret, signer.max_age_seconds)
    with monkeypatch.context() as patch:
        patch.setattr("itsdangerous.timed.time.time", lambda: unix_time)
        return signer.issue(purpose, **claims)


def assert_refused_page(response, status: int, headline: str) -> None:
    assert response.status_code == status
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert headline in page and "Nothing was changed." in page
    assert "<form" not in page, "a refused link offers no button"


# -- the e-mail link ------------------------------------------------------------------------


def test_the_email_carries_the_same_link_in_its_text_and_html_parts(message):
    path = link_in(message)
    html = message.get_body(("html",)).get_content()
    assert re.findall(r'href="([^"]+)"', html) == [f"http://tracker.test{path}"]
    assert "Acknowledge with one click" in message.get_body(("plain",)).get_content()


def test_opening_the_link_shows_a_confirmation_page_and_changes_nothing(mailed, message):
    path = link_in(message)
    before = state(mailed.app, mailed.reference)

    for _ in range(2):  # a mail scanner, then the person: neither GET spends the link
        response = mailed.client.get(path)
        assert response.status_code == 200 and response.mimetype == "text/html"
        page = response.get_data(as_text=True)
        assert f"Acknowledge incident {mailed.reference}?" in page
        assert '<form method="post">' in page and f"Acknowledge {mailed.reference}</button>" in page
        assert "On behalf of</dt><dd><bdi>L1</bdi></dd>" in page

    assert_untouched_open(mailed.app, mailed.reference, before)


@pytest.mark.both_databases  # a conditional acknowledgement
def test_pressing_the_button_acknowledges_for_the_channel_and_stops_the_escalation(mailed, message):
    path = link_in(message)
    before = state(mailed.app, mailed.reference)

    response = mailed.client.post(path)

    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert f"{mailed.reference} acknowledged" in page and "L1 &lt;l1@test.example&gt;" in page
    after = state(mailed.app, mailed.reference)
    assert after["status"] is IncidentStatus.ACKNOWLEDGED and after["acknowledged_at"] is not None
    assert after["acknowledged_by"] == "L1 <l1@test.example> (signed link)"
    assert after["next_escalation_at"] is None and after["link_uses"] == 1
    assert after["timeline"] == before["timeline"] + 1
    with session_scope(mailed.app) as session:
        incident = session.get(Incident, mailed.incident_id)
        event = incident.events[-1]
        assert event.kind is EventKind.ACKNOWLEDGED and event.actor == "L1 <l1@test.example> (signed link)"
        assert event.details["told"] == ["L1"]
        a_day_later, links = utcnow() + timedelta(days=1), dispatch.ack_links(mailed.app)
        assert escalation.sweep_batch(session, a_day_later, 10, "test", links) == 0, "the escalation has stopped"

    body = mailed.client.get(f"/api/v1/incidents/{mailed.reference}", headers=mailed.world.auth("supervisor"))
    assert body.get_json()["acknowledged_by"] == "L1 <l1@test.example> (signed link)"


@pytest.mark.both_databases  # one row per link use
def test_a_used_link_is_refused_and_changes_nothing(mailed, message):
    path = link_in(message)
    assert mailed.client.post(path).status_code == 200
    acknowledged = state(mailed.app, mailed.reference)

    for response in (mailed.client.post(path), mailed.client.get(path)):
        assert_refused_page(response, 409, "This link was used already")
        assert "Used by <bdi>L1 &lt;l1@test.example&gt; (signed link)</bdi>" in response.get_data(as_text=True)

    assert state(mailed.app, mailed.reference) == acknowledged
    assert acknowledged["link_uses"] == 1


def test_a_line_whose_address_is_the_other_sides_cannot_acknowledge_by_link(mailed, message):
    """Addresses that join the two sides are refused when a line is saved; a crossing already in the
    database (made before that rule, or by hand) still cannot acknowledge our incident by link."""
    with session_scope(mailed.app) as session:
        session.add(
            ContactChannel(
                name="Their mission",
                level=3,
                transport="outbox",
                address="mission@test.example",  # L1's domain: theirs
                counterpart_line=True,
                active=True,
                check_window_seconds=900,
            )
        )
    before = state(mailed.app, mailed.reference)
    path = link_in(message)
    assert_refused_page(mailed.client.post(path), 403, "This link cannot acknowledge")
    assert_untouched_open(mailed.app, mailed.reference, before)


def test_a_link_of_a_line_deactivated_since_cannot_acknowledge(mailed, message):
    """A line an admin deactivated (a desk closed, a mailbox no longer ours) carries nothing more of ours,
    and the links it was sent no longer stop our ladder: whoever holds that mailbox now is refused, by page
    and by API, and the incident escalates on. Active again, the line's unused links work again."""
    switch_channel(mailed.app, mailed.world.channels["L1"], active=False)
    before = state(mailed.app, mailed.reference)
    path = link_in(message)
    token = path.rsplit("/", 1)[1]

    for response in (mailed.client.get(path), mailed.client.post(path)):
        assert_refused_page(response, 403, "This line was deactivated")
    by_api = mailed.client.post("/api/v1/acks", json={"token": token})
    assert by_api.status_code == 403 and by_api.get_json()["error"]["code"] == "link_inactive", by_api.get_json()
    assert_untouched_open(mailed.app, mailed.reference, before)

    switch_channel(mailed.app, mailed.world.channels["L1"], active=True)
    assert mailed.client.post(path).status_code == 200, "the line active again, its link works"


def test_a_link_sent_to_an_address_the_line_no_longer_has_says_so_and_acknowledges_nothing(mailed, message):
    """The line's mailbox moved since the link was sent: whoever holds the old one is not the line. It was refused
    as "a link of a line this incident was never routed to", which it was."""
    with session_scope(mailed.app) as session:
        session.get(ContactChannel, mailed.world.channels["L1"]).address = "l1-new@test.example"
    before = state(mailed.app, mailed.reference)
    path = link_in(message)
    for response in (mailed.client.get(path), mailed.client.post(path)):
        assert_refused_page(response, 403, "This line&#39;s address changed")
    by_api = mailed.client.post("/api/v1/acks", json={"token": path.rsplit("/", 1)[1]})
    assert by_api.status_code == 403 and by_api.get_json()["error"]["code"] == "link_readdressed", by_api.get_json()
    assert_untouched_open(mailed.app, mailed.reference, before)


def test_a_link_sent_before_secret_key_was_rotated_acknowledges_while_the_old_key_is_a_fallback(mailed, message):
    path, old = link_in(message), mailed.app.config["SECRET_KEY"]
    before = state(mailed.app, mailed.reference)
    mailed.app.config["SECRET_KEY"] = "the-key-after-the-rotation-" + "n" * 20

    # No fallback: refused, saying that the key is not held, by page and by API.
    refused = mailed.client.get(path)
    assert_refused_page(refused, 400, "This link was signed with another key")
    assert "a key this tracker does not hold" in refused.get_data(as_text=True)
    by_api = mailed.client.post("/api/v1/acks", json={"token": path.rsplit("/", 1)[1]})
    assert by_api.status_code == 400 and by_api.get_json()["error"]["code"] == "link_unknown_key", by_api.get_json()
    assert_untouched_open(mailed.app, mailed.reference, before)

    mailed.app.config["SECRET_KEY_FALLBACKS"] = [old]
    assert f"Acknowledge incident {mailed.reference}?" in mailed.client.get(path).get_data(as_text=True)
    assert mailed.client.post(path).status_code == 200
    assert state(mailed.app, mailed.reference)["status"] is IncidentStatus.ACKNOWLEDGED


def test_a_tampered_link_is_refused_and_changes_nothing(mailed, message):
    path = link_in(message)
    middle = len(path) // 2
    while path[middle] in "./":
        middle += 1
    tampered = path[:middle] + ("B" if path[middle] == "A" else "A") + path[middle + 1 :]
    before = state(mailed.app, mailed.reference)

    assert_refused_page(mailed.client.get(tampered), 400, "This link is not valid")
    assert_refused_page(mailed.client.post(tampered), 400, "This link is not valid")

    assert_untouched_open(mailed.app, mailed.reference, before)
    assert mailed.client.post(path).status_code == 200, "the genuine link still works"


def test_an_expired_link_is_refused_and_changes_nothing(mailed, monkeypatch):
    max_age = mailed.app.config["LINK_MAX_AGE_SECONDS"]
    token = issue_at(
        mailed.app,
        monkeypatch,
        time.time() - max_age - 60,
        incident=mailed.incident_id,
        channel=mailed.world.channels["L1"],
        recipient="l1@test.example",
    )
    before = state(mailed.app, mailed.reference)

    assert_refused_page(mailed.client.get(f"/links/ack/{token}"), 410, "This link has expired")
    assert_refused_page(mailed.client.post(f"/links/ack/{token}"), 410, "This link has expired")

    assert_untouched_open(mailed.app, mailed.reference, before)


def _other_secret(mailed, monkeypatch, smtp_server):
    return issue_at(
        mailed.app,
        monkeypatch,
        time.time(),
        secret="another-deployment-secret",
        incident=mailed.incident_id,
        channel=mailed.world.channels["L1"],
        recipient="l1@test.example",
    )


def _check_link(mailed, monkeypatch, smtp_server):
    dispatch.send_check(mailed.app, mailed.world.channels["L1"], "test")
    check = smtp_server.wait_for(2)[1]
    return link_in(check, CHECK_URL).removeprefix("/links/check/")


def _channel_never_routed(mailed, monkeypatch, smtp_server):
    return issue_at(
        mailed.app,
        monkeypatch,
        time.time(),
        incident=mailed.incident_id,
        channel=mailed.world.channels["L2"],
        recipient="l2@test.example",
    )


def _another_recipient(mailed, monkeypatch, smtp_server):
    return issue_at(
        mailed.app,
        monkeypatch,
        time.time(),
        incident=mailed.incident_id,
        channel=mailed.world.channels["L1"],
        recipient="someone@else.example",
    )


@pytest.mark.parametrize(
    ("make_token", "status"),
    # A link for the line, made for another address: as one sent before the line's address changed (403).
    [(_other_secret, 400), (_check_link, 400), (_channel_never_routed, 400), (_another_recipient, 403)],
    ids=["signed-with-another-secret", "check-link-used-to-acknowledge", "channel-never-routed", "other-recipient"],
)
def test_a_foreign_link_is_refused_and_changes_nothing(mailed, message, smtp_server, monkeypatch, make_token, status):
    token = make_token(mailed, monkeypatch, smtp_server)
    before = state(mailed.app, mailed.reference)

    for response in (mailed.client.get(f"/links/ack/{token}"), mailed.client.post(f"/links/ack/{token}")):
        assert_refused_page(response, status, "This l")
        assert f"Acknowledge incident {mailed.reference}?" not in response.get_data(as_text=True)

    assert_untouched_open(mailed.app, mailed.reference, before)
    with session_scope(mailed.app) as session:
        outcomes = session.scalars(select(ChannelCheck.outcome)).all()
        assert all(outcome is CheckOutcome.PENDING for outcome in outcomes), "no check was confirmed either"


# -- the webhook token ----------------------------------------------------------------------


@pytest.fixture
def hooked(mail_app, webhook_receiver) -> Delivered:
    """An incident whose step-1 call to act went by webhook to L1 and reached the receiver."""
    return deliver_first_notification(mail_app, {"transport": "webhook", "address": webhook_receiver.url})


@pytest.mark.both_databases  # one row per link use
def test_a_webhook_receiver_acknowledges_once_with_the_token_from_the_payload(hooked, webhook_receiver):
    [request] = webhook_receiver.requests
    payload = json.loads(request["body"])
    ack = payload["acknowledge"]
    assert ack["url"] == f"http://tracker.test/links/ack/{ack['token']}"
    assert ack["api"] == "http://tracker.test/api/v1/acks"
    before = state(hooked.app, hooked.reference)

    garbage = hooked.client.post("/api/v1/acks", json={"token": "not-a-token-from-any-message"})
    assert garbage.status_code == 400 and garbage.get_json()["error"]["code"] == "link_invalid"
    assert_untouched_open(hooked.app, hooked.reference, before)

    first = hooked.client.post("/api/v1/acks", json={"token": ack["token"]})  # no Authorization header
    assert first.status_code == 200, first.get_json()
    assert first.get_json() == {
        "purpose": "ack",
        "reference": hooked.reference,
        "status": "acknowledged",
        "acknowledged_by": f"L1 <{withheld('webhook', webhook_receiver.url)}> (signed link)",
    }
    acknowledged = state(hooked.app, hooked.reference)
    assert acknowledged["status"] is IncidentStatus.ACKNOWLEDGED and acknowledged["link_uses"] == 1
    assert acknowledged["timeline"] == before["timeline"] + 1

    again = hooked.client.post("/api/v1/acks", json={"token": ack["token"]})
    assert again.status_code == 409
    error = again.get_json()["error"]
    assert error["code"] == "link_reused" and error["details"]["reason"] == "reused"
    assert error["details"]["used_by"] == f"L1 <{withheld('webhook', webhook_receiver.url)}> (signed link)"
    told = json.dumps([first.get_json(), error])
    assert urlsplit(webhook_receiver.url).path not in told, "the hook's path is its secret: withheld"
    assert state(hooked.app, hooked.reference) == acknowledged


def test_an_expired_webhook_token_is_refused_with_410(hooked, monkeypatch):
    max_age = hooked.app.config["LINK_MAX_AGE_SECONDS"]
    token = issue_at(
        hooked.app,
        monkeypatch,
        time.time() - max_age - 60,
        incident=hooked.incident_id,
        channel=hooked.world.channels["L1"],
        recipient=hooked_address(hooked),
    )
    before = state(hooked.app, hooked.reference)

    response = hooked.client.post("/api/v1/acks", json={"token": token})

    assert response.status_code == 410 and response.get_json()["error"]["code"] == "link_expired"
    assert "expired_at" in response.get_json()["error"]["details"]
    assert_untouched_open(hooked.app, hooked.reference, before)


def hooked_address(hooked: Delivered) -> str:
    with session_scope(hooked.app) as session:
        return session.get(ContactChannel, hooked.world.channels["L1"]).address
