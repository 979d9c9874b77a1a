"""The one-click link pages look right under the app's own CSP (issue 16): the served stylesheet, no
inline style or script, large buttons, and done, used already, expired and refused each with its own
heading, icon and colour class."""

import re
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.exchange_support import acknowledged_incident, add_counterpart_line, open_exchange
from tests.support import build_world, file_incident
from tracker import dispatch
from tracker.db import session_scope
from tracker.models import Incident, Notification, NotificationKind
from tracker.timeutil import utcnow
from tracker.web import receipt_links

OUTCOME = re.compile(r'<div class="outcome outcome-(\w+)" data-outcome="(\w+)">\s*<p class="outcome-icon"[^>]*>(.)</p>')


@pytest.fixture
def ack_token(app, client):
    """A genuine acknowledge link of an incident routed to L1 (its outbox address), and the incident."""
    world = build_world(app)
    reference = file_incident(client, world)["reference"]
    with session_scope(app) as session:
        incident_id = session.scalar(select(Incident.id).where(Incident.reference == reference))
    links = dispatch.ack_links(app)
    return links.signer.issue("ack", incident=incident_id, channel=world.channels["L1"], recipient="l1@test.example")


def outcome_of(page: str) -> tuple[str, str, str]:
    """(colour class, heading, icon) of a link page's outcome."""
    found = OUTCOME.search(page)
    assert found, f"no outcome block on the page: {page[:1500]}"
    heading = re.search(r"<h1>(.*?)</h1>", page, re.S)[1]
    assert found[1] == found[2], "the class and the data attribute name the same outcome"
    return found[1], heading, found[3]


def assert_styled_by_the_app(page: str) -> None:
    assert 'rel="stylesheet" href="/static/links.css"' in page, "the served stylesheet"
    assert "<style" not in page and "style=" not in page, "no inline style: the CSP would block it"
    assert "<script" not in page, "no script at all"


def test_a_used_link_names_what_was_done_in_the_page_title(client, ack_token):
    done = client.post(f"/links/ack/{ack_token}").text
    assert re.search(r"<title>(INC-\d{4}-\d{5}) acknowledged</title>", done), done[:400]


def test_each_outcome_of_a_link_looks_different(app, client, ack_token, monkeypatch):
    confirm = client.get(f"/links/ack/{ack_token}")
    assert confirm.status_code == 200 and "<form" in confirm.text
    assert_styled_by_the_app(confirm.text)

    done = client.post(f"/links/ack/{ack_token}")
    used = client.post(f"/links/ack/{ack_token}")
    signed_at = time.time() - app.config["LINK_MAX_AGE_SECONDS"] - 60  # a link past its age
    with monkeypatch.context() as patch:
        patch.setattr("itsdangerous.timed.time.time", lambda: signed_at)
        old = dispatch.signer(app).issue("ack", incident=1, channel=1, recipient="l1@test.example")
    expired = client.get(f"/links/ack/{old}")
    refused = client.get(f"/links/ack/{ack_token[:-4]}abcd")

    seen = {}
    for name, response, status in (
        ("done", done, 200),
        ("used", used, 409),
        ("expired", expired, 410),
        ("refused", refused, 400),
    ):
        assert response.status_code == status, (name, response.status_code)
        assert_styled_by_the_app(response.text)
        seen[name] = outcome_of(response.text)
    assert {name: look[0] for name, look in seen.items()} == {
        "done": "done",
        "used": "used",
        "expired": "expired",
        "refused": "refused",
    }
    assert len({look[1] for look in seen.values()}) == 4, f"four different headings: {seen}"
    assert len({look[2] for look in seen.values()}) == 4, f"four different icons: {seen}"
    assert "acknowledged" in seen["done"][1] and "used already" in seen["used"][1]
    assert "expired" in seen["expired"][1] and "not valid" in seen["refused"][1]
    assert "Done:" in done.text and "Nothing was changed." not in done.text
    assert "that first use stands" in used.text and "It expired at" in expired.text


def test_the_stylesheet_gives_large_buttons_and_a_colour_per_outcome(client):
    css = client.get("/static/links.css")
    assert css.status_code == 200 and css.mimetype == "text/css"
    text = css.get_data(as_text=True)
    css.close()
    button = re.search(r"button, \.button \{([^}]*)\}", text)[1]
    assert "min-height: 3rem" in button, "at least 48 px tall"
    phone = re.search(r"@media \(max-width: 480px\) \{(.*)\}", text, re.S)[1]
    assert re.search(r"button, \.button \{[^}]*width: 100%", phone), "full width on a phone"
    for outcome in ("done", "used", "expired", "refused"):
        assert f".outcome-{outcome} {{ border-color: var(--" in text, outcome


def test_a_link_to_an_incident_acknowledged_meanwhile_offers_no_button(app, client, ack_token):
    from tracker.models import User
    from tracker.services.incidents import handling
    from tracker.timeutil import utcnow

    with session_scope(app) as session:  # the liaison desk acknowledged it from its queue meanwhile
        liaison = session.scalars(select(User).where(User.username == "liaison")).one()
        handling.acknowledge(session, session.scalar(select(Incident.reference)), liaison, utcnow())
    page = client.get(f"/links/ack/{ack_token}").text
    assert "acknowledged already: there is nothing to acknowledge" in page and "<form" not in page, page[:2000]


def receipt_link(app, client) -> str:
    """The receipt link of a notice sent over a Russian outbox line (its path)."""
    world = build_world(app)
    add_counterpart_line(app, world, counterpart_state="Eastland")
    reference = acknowledged_incident(client, world, releasable_to=["Eastland"])
    open_exchange(client, world, reference)
    with session_scope(app) as session:
        body = session.scalar(select(Notification.body).where(Notification.kind == NotificationKind.COUNTERPART))
    return re.search(r"/links/receipt/[A-Za-z0-9._-]+", body)[0]


def test_a_receipt_link_refused_says_why_in_their_language_beside_english(app, client, monkeypatch):
    """The refusal pages of their receipt link were in English only, while the link's own page and its
    confirmation are in the line's language beside English."""
    link = receipt_link(app, client)
    assert client.post(link, data={"name": "Maj Petrov"}).status_code == 200
    used = client.get(link)
    page = used.get_data(as_text=True)
    assert used.status_code == 409 and outcome_of(page)[:2] == ("used", "This link was used already"), page
    assert '<section lang="ru" dir="ltr">' in page and "<h2>Эта ссылка уже была использована</h2>" in page, page
    assert (
        "Использована: <bdi>Maj Petrov</bdi>," in page
        and "Ничего не изменено." in page
        and "Nothing was changed." in page
    )

    later = utcnow() + timedelta(seconds=app.config["LINK_MAX_AGE_SECONDS"] + 60)
    monkeypatch.setattr(receipt_links, "utcnow", lambda: later)
    expired = client.post(link, data={"name": ""}).get_data(as_text=True)
    assert outcome_of(expired)[:2] == ("expired", "This link has expired"), expired
    assert "<h2>Срок действия этой ссылки истёк</h2>" in expired and "Срок её действия истёк " in expired, expired

    forged = client.get(link[:-3] + "xyz").get_data(as_text=True)
    assert outcome_of(forged)[:2] == ("refused", "This link is not valid"), forged
    assert 'lang="ru"' not in forged, "a link that is not genuine is nobody's: English alone"
