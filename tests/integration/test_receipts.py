"""Acceptance 2 of issue 13: the other side confirms receipt; only we acknowledge. The link the other
side gets in our e-mail (sent through a real local SMTP server) records their receipt on the exchange
(who, which line, when) and leaves our incident's status, acknowledgement and ladder as they were; the
same token at /api/v1/acks acknowledges nothing. Our staff may also log a receipt given by voice."""

import json
import re
from datetime import timedelta

from sqlalchemy import select

from tests.exchange_support import acknowledged_incident, add_counterpart_line, api, open_exchange
from tests.support import sign_in
from tracker import jobs
from tracker.db import session_scope
from tracker.models import ContactChannel, EventKind, Incident, Notification, NotificationKind, TimelineEvent
from tracker.timeutil import format_dtg, parse_moment, utcnow

RECEIPT_LINK = re.compile(r"http://tracker\.test(/links/receipt/[A-Za-z0-9._-]+)")
LINE = "Eastland hotline"
FORM = "application/x-www-form-urlencoded"


def our_side(app, reference: str) -> dict:
    """What must not move: the incident's status, acknowledgement and ladder, and its queued ladder rows."""
    with session_scope(app) as session:
        incident = session.scalar(select(Incident).where(Incident.reference == reference))
        rows = session.execute(
            select(Notification.id, Notification.status, Notification.kind).where(
                Notification.incident_id == incident.id, Notification.kind != NotificationKind.COUNTERPART
            )
        ).all()
        return {
            "status": incident.status,
            "acknowledged_at": incident.acknowledged_at,
            "acknowledged_by": incident.acknowledged_by_label,
            "acknowledged_by_id": incident.acknowledged_by_id,
            "current_step": incident.current_step,
            "loop": incident.loop,
            "next_escalation_at": incident.next_escalation_at,
            "version": incident.version,
            "ladder_rows": sorted(rows),
        }


def sent_notice(app, client, world) -> tuple[str, dict]:
    """An acknowledged incident and an exchange whose notice went out over the e-mail hotline."""
    reference = acknowledged_incident(client, world, releasable_to=["Eastland"])
    exchange = open_exchange(client, world, reference, line=LINE)
    return reference, exchange


def mailed_notice(app, smtp_server, world):
    """An exchange's notice delivered by e-mail to the other side's hotline: (client, reference, exchange, mail)."""
    client = app.test_client()
    add_counterpart_line(
        app, world, LINE, transport="email", address="hotline@eastland.test", counterpart_state="Eastland"
    )
    reference, exchange = sent_notice(app, client, world)
    jobs.deliver(app)
    mails = [m for m in smtp_server.wait_for(1) if "hotline@eastland.test" in m["To"]]
    assert len(mails) == 1, [m["To"] for m in smtp_server.messages]
    return client, reference, exchange, mails[0]


def test_the_link_in_their_email_records_their_receipt_and_leaves_our_incident_alone(mail_app, smtp_server, world):
    app = mail_app
    client, reference, exchange, mail = mailed_notice(app, smtp_server, world)
    body = mail.get_body(("plain",)).get_content()
    assert reference not in body, "our internal reference never goes to the other side"
    [path] = set(RECEIPT_LINK.findall(body))  # the same link, in the English part and the line's language
    assert "/links/ack/" not in body and "/api/v1/acks" not in body, "no acknowledge link for the other side"
    before = our_side(app, reference)

    # The line reads French since (as an older version let an admin change it with an exchange open): the page
    # keeps the language the message went out in.
    with session_scope(app) as session:
        session.get_one(ContactChannel, world.channels[LINE]).language = "fr"
    page = client.get(path)
    assert page.status_code == 200
    assert "Confirm receipt" in page.text and "Подтвердить получение" in page.text, "English and the language sent in"
    assert "Confirmer la réception" not in page.text
    assert reference not in page.text
    # The subject once per language, in that language: not the e-mail subject with its serial again.
    facts = re.findall(r'<p class="facts">(.*?)</p>', page.text)
    assert len(facts) == 2 and all(f.count("0001/") == 1 for f in facts), facts
    assert "NOTIFICATION OF INCIDENT" in facts[0] and "УВЕДОМЛЕНИЕ ОБ ИНЦИДЕНТЕ" in facts[1], facts
    assert our_side(app, reference) == before, "a GET changes nothing (mail scanners fetch links)"

    done = client.post(path, data={"name": "supervisor"})  # a name of ours, typed by them
    assert done.status_code == 200, done.text[:800]
    with session_scope(app) as session:
        [event] = session.scalars(select(TimelineEvent).where(TimelineEvent.kind == EventKind.RECEIPT_RECORDED)).all()
        assert event.actor == "the other side (receipt link)", "they never act under one of our names"
        assert event.details["receipt_by"] == "supervisor", event.details


def test_their_receipt_by_link_names_them_as_typed(mail_app, smtp_server, world):
    app = mail_app
    client, reference, exchange, mail = mailed_notice(app, smtp_server, world)
    [path] = set(RECEIPT_LINK.findall(mail.get_body(("plain",)).get_content()))
    before = our_side(app, reference)
    done = client.post(path, data={"name": "Lt Col Orlov, duty officer"})
    assert done.status_code == 200 and "Receipt confirmed" in done.text and "Получение подтверждено" in done.text
    again = client.post(path, data={"name": "someone else"})
    assert (
        again.status_code == 409
        and "This link was used already" in again.text
        and "Receipt confirmed" not in again.text
    )
    # Whatever comes with a used link, or a request the page cannot take, is answered in the links' own frame,
    # never with our navigation; a used link says so in their language too, whatever name was typed with it.
    for name in ("a\x00b", "line one\nline two", "x" * 121):
        used = client.post(path, data={"name": name})
        assert used.status_code == 409 and "This link was used already" in used.text, (name, used.text[:600])
        assert 'lang="ru"' in used.text and "Back to the board" not in used.text, (name, used.text[:600])
    for odd in (client.post(path, json={"name": "x"}), client.post(path, data=b"name=%ff%fe", content_type=FORM)):
        assert odd.status_code in (400, 415) and "links.css" in odd.text, odd.text[:600]
        assert "Back to the board" not in odd.text and 'href="/board"' not in odd.text, odd.text[:600]

    shown = api(client, world, "GET", f"/exchanges/{exchange['id']}")
    [notice] = [m for m in shown["messages"] if m["direction"] == "out"]
    assert shown["state"] == "receipt_confirmed"
    assert (notice["receipt_by"], notice["receipt_via"], notice["channel"]) == (
        "Lt Col Orlov, duty officer",
        "link",
        LINE,
    )
    assert notice["receipt_at"] is not None and notice["receipt_overdue_at"] is None
    with session_scope(app) as session:
        [event] = session.scalars(select(TimelineEvent).where(TimelineEvent.kind == EventKind.RECEIPT_RECORDED)).all()
        assert (event.details["channel"], event.details["receipt_via"], event.details["to_state"]) == (
            LINE,
            "link",
            "receipt_confirmed",
        )

    assert our_side(app, reference) == before, "status, acknowledgement and ladder untouched"

    # The same token at the acknowledge API: refused, saying what it is, and nothing changes.
    token = path.rsplit("/", 1)[1]
    answer = client.post("/api/v1/acks", json={"token": token})
    assert answer.status_code == 400 and answer.get_json()["error"]["code"] == "link_receipt", answer.get_json()
    assert "receipt link" in answer.get_json()["error"]["message"]
    pages = (client.get(f"/links/ack/{token}"), client.post(f"/links/ack/{token}"), client.get(f"/links/check/{token}"))
    for page in pages:  # as the API says
        assert page.status_code == 400 and "This is a receipt link" in page.text, page.text[:600]
    assert our_side(app, reference) == before


def test_our_staff_log_a_receipt_given_by_voice(app, client, world):
    add_counterpart_line(app, world, LINE)
    reference, exchange = sent_notice(app, client, world)
    [notice] = [m for m in exchange["messages"] if m["direction"] == "out"]
    path = f"/exchanges/{exchange['id']}/messages/{notice['id']}/receipt"
    before = our_side(app, reference)
    when = utcnow().replace(microsecond=0)

    future = {"at": format_dtg(when + timedelta(hours=1)), "by": "Major Petrov", "via": "voice"}
    assert "future" in str(api(client, world, "POST", path, future, status=422)["error"]["details"])
    api(client, world, "POST", path, {"at": format_dtg(when), "by": "Major Petrov", "via": "link"}, status=422)
    api(
        client,
        world,
        "POST",
        path,
        {"at": format_dtg(when), "by": "Major Petrov", "via": "voice"},
        who="duty",
        status=403,
    )
    api(client, world, "POST", f"/exchanges/{exchange['id']}/messages/999999/receipt", future, status=404)

    logged = api(client, world, "POST", path, {"at": when.isoformat(), "by": "Major Petrov", "via": "voice"})
    assert (logged["receipt_by"], logged["receipt_via"]) == ("Major Petrov", "voice")
    assert logged["receipt_at"].startswith(when.strftime("%Y-%m-%dT%H:%M"))
    again = api(client, world, "POST", path, {"at": when.isoformat(), "by": "Someone", "via": "call"}, status=409)
    assert again["error"]["details"]["receipt_by"] == "Major Petrov"
    assert api(client, world, "GET", f"/exchanges/{exchange['id']}")["state"] == "receipt_confirmed"
    assert our_side(app, reference) == before


def test_a_receipt_given_by_voice_is_logged_now_when_no_time_is_typed(app, client, world):
    """As a call starts when it is logged and their message is received when it is recorded, a receipt
    said on the line is given now: the API answered 422 "at: missing" to the officer logging it as it came."""
    add_counterpart_line(app, world, LINE)
    _reference, exchange = sent_notice(app, client, world)
    [notice] = [m for m in exchange["messages"] if m["direction"] == "out"]
    before = utcnow()
    path = f"/exchanges/{exchange['id']}/messages/{notice['id']}/receipt"
    logged = api(client, world, "POST", path, {"by": "Major Petrov", "via": "voice"})
    at = parse_moment(logged["receipt_at"])
    assert before <= at <= utcnow(), f"logged at {logged['receipt_at']}, not when it was given"


def test_the_link_opened_after_a_receipt_by_voice_says_it_is_on_record(mail_app, smtp_server, world):
    """Their duty officer confirmed by voice, then opened the link in the e-mail: the page still asked them
    to confirm, as if nothing had reached us."""
    app = mail_app
    client, _reference, exchange, mail = mailed_notice(app, smtp_server, world)
    [path] = set(RECEIPT_LINK.findall(mail.get_body(("plain",)).get_content()))
    [notice] = [m for m in exchange["messages"] if m["direction"] == "out"]
    receipt = f"/exchanges/{exchange['id']}/messages/{notice['id']}/receipt"
    api(client, world, "POST", receipt, {"by": "Lt Col Orlov, duty officer", "via": "voice"})
    page = client.get(path)
    assert page.status_code == 200, page.text[:500]
    assert "Receipt confirmed" in page.text and "Lt Col Orlov, duty officer" in page.text, page.text[:2000]
    assert "<form" not in page.text, "no button to confirm again"


def test_a_receipt_by_link_without_a_name_never_shows_their_webhooks_secret(app, client, world, webhook_receiver):
    """Unnamed, a receipt by link was recorded as by the line's address: a webhook's whole URL, secret and
    all, went on the exchange, the incident page, the print, the API and the "used already" answer to every
    reader, where the line's address is shown to anyone but those managing lines with its secret withheld."""
    secret = "s3cret-of-their-gateway"
    address = f"{webhook_receiver.url}?key={secret}"
    add_counterpart_line(app, world, LINE, transport="webhook", address=address, counterpart_state="Eastland")
    reference, exchange = sent_notice(app, client, world)
    jobs.deliver(app)
    [request] = webhook_receiver.requests
    [path] = set(RECEIPT_LINK.findall(request["body"].decode()))
    done = client.post(path, data={"name": ""})
    assert done.status_code == 200, done.text[:800]
    again = client.post(path, data={"name": ""})
    assert again.status_code == 409 and secret not in again.text, again.text
    shown = api(client, world, "GET", f"/exchanges/{exchange['id']}", who="duty")
    [notice] = [m for m in shown["messages"] if m["direction"] == "out"]
    assert notice["receipt_via"] == "link" and notice["receipt_by"], notice
    assert secret not in json.dumps(shown), notice["receipt_by"]
    sign_in(client, "duty")
    for page in (f"/incidents/{reference}", f"/incidents/{reference}/print"):
        text = client.get(page).get_data(as_text=True)
        assert "receipt confirmed" in text.lower() and secret not in text, page
    with session_scope(app) as session:
        kept = [e.details for e in session.scalars(select(TimelineEvent)).all()]
        assert secret not in json.dumps(kept, default=str)
