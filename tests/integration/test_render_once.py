"""Each outbox message is rendered once, when it is queued: delivery hands the real transports the
stored subject, text and webhook facts, and an HTML part that frames the stored text, never a new
rendering of the incident."""

import json
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from tests.support import build_world, file_incident, incident_payload
from tracker import dispatch, jobs
from tracker.db import session_scope
from tracker.models import ContactChannel, Incident, Notification, NotificationKind
from tracker.services.engine import delivery, message_text
from tracker.services.incidents import ladder
from tracker.timeutil import utcnow

# The stored rendering is a JSON column and a text column that rows from before 0010 leave NULL.
pytestmark = pytest.mark.both_databases

FILED_NARRATIVE = incident_payload()["narrative"]
EDITED_NARRATIVE = "Narrative edited in the database after the message was queued."
POLICY = delivery.RetryPolicy(max_attempts=3, base_seconds=10, claim_seconds=60)


def use_transport(app, world, name: str, transport: str, address: str) -> None:
    with session_scope(app) as session:
        channel = session.get(ContactChannel, world.channels[name])
        ladder.save_channel(
            session, {"transport": transport, "address": address}, app.extensions["tracker.transports"], channel
        )


def stored_rows(app) -> list[dict]:
    """Every outbox row's stored rendering, oldest first."""
    with session_scope(app) as session:
        return [
            {
                "id": row.id,
                "created_at": row.created_at,
                "kind": row.kind,
                "recipient": row.recipient,
                "subject": row.subject,
                "body": row.body,
                "html": row.html,
                "payload": row.payload,
            }
            for row in session.scalars(select(Notification).order_by(Notification.id))
        ]


def edit_incident(app, reference: str, narrative: str) -> None:
    """Change a fact every message shows, as an edit after queueing would."""
    with session_scope(app) as session:
        incident = session.scalars(select(Incident).where(Incident.reference == reference)).one()
        incident.narrative = narrative


def edit_stored_text(app, notification_id: int, **values) -> None:
    with session_scope(app) as session:
        session.execute(update(Notification).where(Notification.id == notification_id).values(**values))


def test_the_email_carries_the_text_rendered_at_filing_not_the_incident_as_it_is_at_delivery(mail_app, smtp_server):
    world = build_world(mail_app)
    use_transport(mail_app, world, "L1", "email", "l1@test.example")
    reference = file_incident(mail_app.test_client(), world)["reference"]
    [row] = stored_rows(mail_app)
    assert FILED_NARRATIVE in row["body"] and "/links/ack/" in row["body"], f"rendered at filing:\n{row['body']}"
    edit_incident(mail_app, reference, EDITED_NARRATIVE)

    assert jobs.deliver(mail_app) == 1
    [mail] = smtp_server.wait_for(1)
    plain, html = (mail.get_body((subtype,)).get_content().replace("\r\n", "\n") for subtype in ("plain", "html"))
    assert mail["Subject"] == row["subject"]
    # SMTP carries lines ending in CRLF; apart from that, the parts are exactly what was stored.
    assert plain == row["body"], "the text/plain part is the text stored at filing"
    assert row["html"] is None, "no HTML part is stored: it is the stored text, framed when sent"
    assert html == message_text.html_part(row["subject"], row["body"], row["payload"]), "the stored text, framed"
    assert FILED_NARRATIVE in html and row["payload"]["acknowledge"]["url"] in html, html
    assert EDITED_NARRATIVE not in plain + html, "delivery rendered the incident again"


def test_the_webhook_body_is_the_stored_rendering_plus_only_the_envelope(app, webhook_receiver):
    world = build_world(app)
    use_transport(app, world, "L1", "webhook", webhook_receiver.url)
    reference = file_incident(app.test_client(), world)["reference"]
    [row] = stored_rows(app)
    # Whatever the row holds is what goes out, even text no template could have produced.
    edit_stored_text(app, row["id"], subject="STORED SUBJECT", body="Stored text, sent as it is.\n")
    edit_incident(app, reference, EDITED_NARRATIVE)

    assert jobs.deliver(app) == 1
    [request] = webhook_receiver.requests
    received = json.loads(request["body"])
    expected = {
        **row["payload"],
        "subject": "STORED SUBJECT",
        "text": "Stored text, sent as it is.\n",
        "idempotency_key": delivery.message_key(row["id"], row["created_at"]),
        "sent_at": received.get("sent_at"),
    }
    assert received == expected, "the webhook body is the stored facts, subject and text, and the envelope"
    assert received["incident"]["narrative"] == FILED_NARRATIVE, "the incident's facts as they were at filing"
    assert received["acknowledge"]["url"] in row["body"], "the signed link is the one made at filing"


def test_a_message_claimed_again_after_a_crash_is_the_same_message(app, client, world):
    file_incident(client, world)
    now = utcnow()
    with session_scope(app) as session:
        [first] = delivery.claim_messages(session, now, 10, POLICY, dispatch.composer(app))
    # The process "dies" before recording the outcome; the claim lapses and the row is claimed again.
    with session_scope(app) as session:
        [again] = delivery.claim_messages(session, now + timedelta(seconds=61), 10, POLICY, dispatch.composer(app))
    assert again.notification_id == first.notification_id
    assert (again.message.subject, again.message.text, again.message.html) == (
        first.message.subject,
        first.message.text,
        first.message.html,
    ), "the same text, with the same signed link, every time"
    assert {**again.message.payload, "sent_at": None} == {**first.message.payload, "sent_at": None}


def count_calls(monkeypatch, module, names: tuple[str, ...]) -> Counter:
    """Wrap module's functions so that each call is counted; return the counter."""
    calls: Counter = Counter()

    def counted(name, function):
        def wrapper(*args, **kwargs):
            calls[name] += 1
            return function(*args, **kwargs)

        return wrapper

    for name in names:
        monkeypatch.setattr(module, name, counted(name, getattr(module, name)))
    return calls


def test_each_message_is_rendered_once_from_queueing_to_delivery(app, client, world, monkeypatch):
    calls = count_calls(monkeypatch, message_text, ("subject", "incident_text", "html"))

    reference = file_incident(client, world)["reference"]  # step 1: L1 is notified
    assert jobs.deliver(app) == 1
    with session_scope(app) as session:  # nobody acknowledged, and step 1's time ran out
        session.execute(update(Incident).where(Incident.reference == reference).values(next_escalation_at=utcnow()))
    assert jobs.sweep(app) == 1  # step 2: L2 is called
    assert jobs.deliver(app) == 1
    assert jobs.deliver(app) == 0

    rows = stored_rows(app)
    assert [(r["kind"], r["recipient"]) for r in rows] == [
        (NotificationKind.NOTIFIED, "L1"),
        (NotificationKind.ESCALATED, "L2"),
    ]
    assert calls == {"subject": 2, "incident_text": 2, "html": 2}, f"renders for {len(rows)} messages: {calls}"


def test_a_row_queued_before_migration_0010_is_rendered_at_its_first_claim_and_kept(app, client, world):
    file_incident(client, world)
    [row] = stored_rows(app)
    # What 0010 leaves on a row queued by an older version: the old text, no HTML part, no facts.
    edit_stored_text(app, row["id"], body="Text an older version stored and never sent.", html=None, payload=None)
    now = utcnow()
    with session_scope(app) as session:
        [first] = delivery.claim_messages(session, now, 10, POLICY, dispatch.composer(app))
    [rendered] = stored_rows(app)
    assert rendered["payload"] is not None, "the first claim stored its rendering"
    assert first.message.text == rendered["body"] and "/links/ack/" in rendered["body"], rendered["body"]
    assert first.message.html == message_text.html_part(rendered["subject"], rendered["body"], rendered["payload"])

    with session_scope(app) as session:
        [again] = delivery.claim_messages(session, now + timedelta(seconds=61), 10, POLICY, dispatch.composer(app))
    assert (again.message.text, again.message.html) == (first.message.text, first.message.html), "never again"


def test_a_row_that_stored_its_html_part_sends_it_as_stored(app, client, world):
    file_incident(client, world)
    [row] = stored_rows(app)
    # Versions before the HTML part was framed at sending stored it on the row: it goes out as it is.
    edit_stored_text(app, row["id"], html="<p>The HTML part an older version stored.</p>")
    with session_scope(app) as session:
        [claimed] = delivery.claim_messages(session, utcnow(), 10, POLICY, dispatch.composer(app))
    assert claimed.message.html == "<p>The HTML part an older version stored.</p>"
    assert claimed.message.text == row["body"]
