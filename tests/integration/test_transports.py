"""E-mail and webhooks against real peers: a real SMTP server (aiosmtpd) and a real HTTP receiver.

What a desk receives (subjects, MIME parts, threading, signed JSON), what an outage does (retries,
nothing lost, nothing doubled), when a message is given up (dead letters) and what an
acknowledgement stops. No network call is mocked.
"""

import json
import logging
import re
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.peers import SmtpServer
from tests.support import build_world, file_incident
from tracker import dispatch, jobs
from tracker.db import session_scope
from tracker.models import (
    ContactChannel,
    DeliveryAttempt,
    EventKind,
    Incident,
    Notification,
    NotificationStatus,
    TimelineEvent,
)
from tracker.services.engine import delivery, escalation
from tracker.services.incidents import ladder
from tracker.timeutil import utcnow

README = Path(__file__).resolve().parents[2] / "README.md"
ACK_SECONDS = 600
SHORT_STEP_SECONDS = 1  # real seconds: escalated messages are queued at the sweep's own "now"


# -- helpers ------------------------------------------------------------------------------


def readme_block(language: str, containing: str) -> str:
    """The README's fenced code block in this language that contains the given text."""
    blocks = re.findall(rf"```{language}\n(.*?)```", README.read_text(), re.S)
    found = [block for block in blocks if containing in block]
    assert len(found) == 1, f"expected one ```{language} block with {containing!r} in README.md, got {len(found)}"
    return found[0]


def documented_verify():
    """The README's own `verify` function, executed as documented."""
    namespace: dict = {}
    exec(readme_block("python", "def verify("), namespace)  # noqa: S102 - proving the documented snippet
    return namespace["verify"]


def smtp_config(smtp_server) -> dict:
    """The same e-mail settings as the mail_app fixture, for apps built with other settings."""
    return {
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": smtp_server.port,
        "SMTP_SECURITY": "none",
        "SMTP_TIMEOUT_SECONDS": 3,
        "SMTP_FROM": "Incident tracker <tracker@tracker.test>",
        "SUPERVISOR_TRANSPORT": "email",
        "WEBHOOK_CONNECT_TIMEOUT_SECONDS": 1,
        "WEBHOOK_READ_TIMEOUT_SECONDS": 2,
    }


def use_transport(app, world, name: str, transport: str, address: str) -> str | None:
    """Point a world channel at a real peer; return its webhook signing secret (None for e-mail)."""
    with session_scope(app) as session:
        channel = session.get(ContactChannel, world.channels[name])
        ladder.save_channel(
            session, {"transport": transport, "address": address}, app.extensions["tracker.transports"], channel
        )
        return channel.secret


def peer_world(app, webhook_receiver, steps, email="L1", webhook="L2", **options):
    """A world with an e-mail desk and a webhook receiver among L1-L3; return it and the webhook's secret."""
    world = build_world(app, steps=steps, **options)
    use_transport(app, world, email, "email", f"{email.lower()}@test.example")
    secret = use_transport(app, world, webhook, "webhook", webhook_receiver.url)
    return world, secret


def rows(app) -> list[Notification]:
    with session_scope(app) as session:
        return session.scalars(select(Notification).order_by(Notification.id)).all()


def statuses(app) -> list[tuple]:
    """(id, kind, recipient, status, attempts, last error) of every outbox row, for failure messages."""
    with session_scope(app) as session:
        return [
            (n.id, n.kind.value, n.recipient, n.status.value, n.attempts, n.last_error)
            for n in session.scalars(select(Notification).order_by(Notification.id))
        ]


def attempts_by_row(app) -> dict[int, list[tuple]]:
    with session_scope(app) as session:
        made: dict[int, list[tuple]] = {}
        for a in session.scalars(select(DeliveryAttempt).order_by(DeliveryAttempt.id)):
            made.setdefault(a.notification_id, []).append((a.outcome.value, a.response_code, a.error))
        return made


def deliver_until_idle(app, timeout: float = 10) -> None:
    """Run delivery passes until no row is pending or being sent (sleeping out the short backoff)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        jobs.deliver(app)
        busy = [s for s in statuses(app) if s[3] in ("pending", "sending")]
        if not busy:
            return
        time.sleep(0.05)
    raise AssertionError(f"rows still waiting after {timeout}s: {busy}")


def sweep_when_due(app, reference: str) -> int:
    """Wait out the incident's (short) step timer, then run the scheduler's sweep job once."""
    due = incident(app, reference).next_escalation_at
    time.sleep(max(0.0, (due - utcnow()).total_seconds()) + 0.05)
    return jobs.sweep(app)


# The marking the test incidents are filed under (tests.support.incident_payload), as a subject begins with it.
MARKED = "UNCLASSIFIED // REL TO EASTLAND - "


def sweep_at(app, when) -> int:
    with session_scope(app) as session:
        return escalation.sweep_batch(session, when, 50, "test", dispatch.ack_links(app))


def incident(app, reference: str) -> Incident:
    with session_scope(app) as session:
        found = session.scalars(select(Incident).where(Incident.reference == reference)).one()
        found.events  # noqa: B018 - load the timeline before the session closes
        return found


def hooks(receiver) -> list[dict]:
    """Every webhook request received: headers, raw body and parsed JSON."""
    return [{**r, "json": json.loads(r["body"])} for r in receiver.requests]


def subjects(smtp_server) -> list[str]:
    return [m["Subject"] for m in smtp_server.messages]


def events(receiver) -> list[str]:
    return [h["json"]["event"] for h in hooks(receiver)]


def parts(mail) -> list[str]:
    return [part.get_content_type() for part in mail.walk() if not part.is_multipart()]


# -- what a desk receives -----------------------------------------------------------------


# A step's channels go out by level (L1 first): the e-mail desk first, or the webhook first.
@pytest.mark.parametrize(("email", "webhook"), [("L1", "L2"), ("L2", "L1")], ids=["email-first", "webhook-first"])
def test_email_and_webhook_desks_receive_sorted_signed_and_threaded_messages(
    mail_app, smtp_server, webhook_receiver, email, webhook
):
    client = mail_app.test_client()
    world, secret = peer_world(
        mail_app,
        webhook_receiver,
        steps=(("L1", "L2"), ("L1", "L2")),
        email=email,
        webhook=webhook,
        ack_seconds=SHORT_STEP_SECONDS,
    )
    filed = file_incident(client, world, precedence="Z")
    reference, dtg = filed["reference"], filed["occurred_dtg"]

    jobs.deliver(mail_app)
    [first] = smtp_server.wait_for(1)
    assert len(webhook_receiver.requests) == 1, (subjects(smtp_server), statuses(mail_app))

    # The e-mail: marking, precedence word, reference, DTG; plain text and HTML; a Message-ID of its own.
    assert first["Subject"].startswith(f"{MARKED}FLASH {reference} {dtg} "), first["Subject"]
    assert first["To"] == f"{email} <{email.lower()}@test.example>", first["To"]
    assert parts(first) == ["text/plain", "text/html"], parts(first)
    root = first["Message-ID"]
    assert re.fullmatch(rf"<{reference}\.notification-\d+-\d{{20}}@tracker\.test>", root or ""), root
    assert first["In-Reply-To"] is None and first["References"] is None, ("the first e-mail follows nothing", root)
    plain = first.get_body(("plain",)).get_content()
    html = first.get_body(("html",)).get_content()
    assert reference in plain and "http://tracker.test/links/ack/" in plain, plain
    assert "http://tracker.test/links/ack/" in html and "<html" in html.lower(), html

    # The webhook: signed as documented, over exactly these bytes, with this secret.
    [hook] = hooks(webhook_receiver)
    headers, body = hook["headers"], hook["body"]
    assert headers["Content-Type"] == "application/json", headers
    verify = documented_verify()
    signature = headers["X-Tracker-Signature"]
    assert re.fullmatch(r"t=\d+,v1=[0-9a-f]{64}", signature), signature
    assert verify(secret, signature, body), "the README's verify() must accept the real signature"
    assert not verify(secret + "x", signature, body), "a wrong secret must fail"
    assert not verify("another channel's secret", signature, body), "a wrong secret must fail"
    assert not verify(secret, signature, body.replace(reference.encode(), b"INC-1999-99999")), "changed body"
    assert not verify(secret, signature, body + b" "), "one byte more must fail"
    stale = re.sub(r"t=(\d+)", lambda m: f"t={int(m[1]) - 3600}", signature)
    assert not verify(secret, stale, body), "an hour-old timestamp is a replay"

    # The body: keys sorted, no spaces, and the keys the README documents.
    payload = hook["json"]
    assert body == json.dumps(payload, separators=(",", ":"), sort_keys=True).encode(), body
    documented = json.loads(readme_block("json", '"idempotency_key"'))
    assert sorted(payload) == sorted(documented), payload.keys()
    assert sorted(payload["incident"]) == sorted(documented["incident"]), payload["incident"].keys()
    assert sorted(payload["acknowledge"]) == sorted(documented["acknowledge"]), payload["acknowledge"]
    assert payload["event"] == headers["X-Tracker-Event"] == "incident.notified", (payload["event"], headers)
    assert headers["Idempotency-Key"] == payload["idempotency_key"], (headers, payload["idempotency_key"])
    assert payload["incident"]["reference"] == reference and payload["incident"]["precedence_name"] == "FLASH"
    assert payload["subject"].startswith(f"{MARKED}FLASH {reference} {dtg} "), payload["subject"]
    assert payload["recipient"] == webhook and payload["step"] == 1 and payload["loop"] == 0, payload
    assert payload["acknowledge"]["token"] and payload["acknowledge"]["api"] == "http://tracker.test/api/v1/acks"
    assert payload["acknowledge"]["url"].startswith("http://tracker.test/links/ack/"), payload["acknowledge"]

    # Nobody acknowledges: step 2 goes to the same desks, threaded under the first e-mail.
    assert sweep_when_due(mail_app, reference) == 1
    jobs.deliver(mail_app)
    escalated = smtp_server.wait_for(2)[1]
    assert escalated["Subject"] == f"{first['Subject']} ESCALATED", subjects(smtp_server)
    assert escalated["In-Reply-To"] == root and escalated["References"] == root, (root, dict(escalated))
    assert escalated["Message-ID"] != root, "every message has a Message-ID of its own"
    assert events(webhook_receiver) == ["incident.notified", "incident.escalated"], events(webhook_receiver)
    step_two = hooks(webhook_receiver)[1]
    assert step_two["json"]["step"] == 2 and verify(
        secret, step_two["headers"]["X-Tracker-Signature"], step_two["body"]
    )
    assert step_two["headers"]["Idempotency-Key"] != headers["Idempotency-Key"], "a new message, a new key"

    # An acknowledgement is news for both desks, and the e-mail stays in the same thread.
    response = client.post(
        f"/api/v1/incidents/{reference}/acknowledge", json={"note": "on it"}, headers=world.auth("liaison")
    )
    assert response.status_code == 200, response.get_json()
    jobs.deliver(mail_app)
    acknowledged = smtp_server.wait_for(3)[2]
    assert acknowledged["Subject"] == f"{first['Subject']} ACKNOWLEDGED", subjects(smtp_server)
    assert acknowledged["In-Reply-To"] == root and acknowledged["References"] == root, dict(acknowledged)
    assert "ACKNOWLEDGED by liaison" in acknowledged.get_body(("plain",)).get_content()
    assert events(webhook_receiver)[-1] == "incident.acknowledged", events(webhook_receiver)
    assert hooks(webhook_receiver)[-1]["json"]["acknowledge"] is None, "news needs no action"
    assert len({m["Message-ID"] for m in smtp_server.messages}) == 3, [m["Message-ID"] for m in smtp_server.messages]


def test_a_webhook_body_carries_the_incidents_marking_beside_its_facts(app, webhook_receiver):
    """A receiver that shows the structured facts (narrative, position) and not the text must still see
    how to handle them: the incident object holds the marking as the text's first and last lines do."""
    world = build_world(app, steps=(("L1",),))
    use_transport(app, world, "L1", "webhook", webhook_receiver.url)
    file_incident(app.test_client(), world, classification="RESTRICTED", releasable_to=[])
    jobs.deliver(app)
    [hook] = hooks(webhook_receiver)
    facts, text = hook["json"]["incident"], hook["json"]["text"].strip().splitlines()
    assert text[0] == text[-1] == "RESTRICTED // NOT RELEASABLE", text
    marking = (facts.get("classification"), facts.get("releasable_to"), facts.get("marking"))
    assert marking == ("RESTRICTED", [], "RESTRICTED // NOT RELEASABLE"), facts


@pytest.mark.parametrize(("letter", "word"), [("Z", "FLASH"), ("O", "IMMEDIATE"), ("P", "PRIORITY"), ("R", "ROUTINE")])
def test_an_email_subject_starts_with_the_marking_then_the_precedence_word_reference_and_dtg(
    mail_app, smtp_server, letter, word
):
    client = mail_app.test_client()
    world = build_world(mail_app, steps=(("L1",),))
    use_transport(mail_app, world, "L1", "email", "l1@test.example")
    filed = file_incident(client, world, precedence=letter, occurred_at="271405ZNOV26")
    jobs.deliver(mail_app)
    [mail] = smtp_server.wait_for(1)
    expected = f"{MARKED}{word} {filed['reference']} 271405ZNOV26 unsafe intercept"
    assert mail["Subject"] == expected, (mail["Subject"], statuses(mail_app))


# -- outages --------------------------------------------------------------------------------


@pytest.mark.both_databases  # delivery claims and retries
def test_an_outage_of_both_peers_loses_and_doubles_nothing(mail_app, smtp_server, webhook_receiver):
    client = mail_app.test_client()
    world, _secret = peer_world(mail_app, webhook_receiver, steps=(("L1", "L2"),), ack_seconds=ACK_SECONDS)
    smtp_server.stop()
    webhook_receiver.stop()
    references = [file_incident(client, world)["reference"] for _ in range(5)]

    outage_passes = 2
    for number in range(1, outage_passes + 1):
        assert jobs.deliver(mail_app) == 0, statuses(mail_app)
        waiting = statuses(mail_app)
        assert len(waiting) == 10, waiting
        assert all(s[3] == "pending" and s[4] == number and s[5] for s in waiting), waiting
        time.sleep(0.15)  # past the backoff (0.05 s, doubling, with jitter)
    with session_scope(mail_app) as session:
        for row in session.scalars(select(Notification)):
            assert row.next_attempt_at > row.attempts_made[-1].at, ("no backoff", row.id, row.next_attempt_at)
    failed = attempts_by_row(mail_app)
    assert all(
        [outcome for outcome, _code, _error in made] == ["transient"] * outage_passes for made in failed.values()
    ), failed
    assert all(error for made in failed.values() for _outcome, _code, error in made), failed
    assert smtp_server.messages == [] and webhook_receiver.requests == []

    smtp_server.start()
    webhook_receiver.start()
    deliver_until_idle(mail_app)

    mails = Counter(m["Message-ID"] for m in smtp_server.messages)
    keys = Counter(r["headers"]["Idempotency-Key"] for r in webhook_receiver.requests)
    assert len(mails) == 5 and set(mails.values()) == {1}, (mails, subjects(smtp_server))
    assert len(keys) == 5 and set(keys.values()) == {1}, keys
    assert sorted(m["X-Tracker-Reference"] for m in smtp_server.messages) == references, subjects(smtp_server)
    assert sorted(h["json"]["incident"]["reference"] for h in hooks(webhook_receiver)) == references
    final = statuses(mail_app)
    assert all(s[3] == "sent" and s[4] == outage_passes + 1 for s in final), final
    made = attempts_by_row(mail_app)
    assert sorted(made) == [s[0] for s in final], made
    assert all(
        [outcome for outcome, _code, _error in tries] == ["transient"] * outage_passes + ["sent"]
        for tries in made.values()
    ), made
    assert {code for tries in made.values() for _outcome, code, _error in tries[-1:]} == {"250", "200"}, made


# -- giving up ------------------------------------------------------------------------------


@pytest.mark.both_databases  # the deadline moved in SQL
def test_a_webhook_that_always_fails_is_dead_lettered_and_the_step_escalates_at_once(
    make_app, smtp_server, webhook_receiver
):
    app = make_app(**smtp_config(smtp_server), DELIVERY_MAX_ATTEMPTS=3, DELIVERY_RETRY_BASE_SECONDS=0.01)
    client = app.test_client()
    world = build_world(app, steps=(("L2",), ("L1",)), ack_seconds=ACK_SECONDS)
    use_transport(app, world, "L1", "email", "l1@test.example")
    use_transport(app, world, "L2", "webhook", webhook_receiver.url)
    webhook_receiver.status = 500
    reference = file_incident(client, world)["reference"]
    deadline_at_filing = incident(app, reference).next_escalation_at

    deliver_until_idle(app)

    [call, dead_letter] = statuses(app)
    assert call[1:5] == ("notified", "L2", "dead", 3), statuses(app)
    assert dead_letter[1:4] == ("dead_letter", "supervisor", "sent"), statuses(app)
    made = attempts_by_row(app)
    assert [(o, c) for o, c, _e in made[call[0]]] == [("transient", "500")] * 3, made
    keys = [r["headers"]["Idempotency-Key"] for r in webhook_receiver.requests]
    assert keys == [delivery.message_key(call[0], rows(app)[0].created_at)] * 3, "each retry: same message, same key"
    [mail] = smtp_server.wait_for(1)
    assert smtp_server.inbox.envelopes[0][1] == ["supervisor@test.example"], smtp_server.inbox.envelopes
    assert mail["Subject"].endswith(" DEAD LETTER") and mail["X-Tracker-Event"] == "incident.dead_letter", dict(mail)
    assert "could not be delivered to L2" in mail.get_body(("plain",)).get_content()

    found = incident(app, reference)
    [event] = [e for e in found.events if e.kind is EventKind.DEAD_LETTERED]
    assert event.details["recipient"] == "L2" and event.details["escalates_at_once"] is True, event.details
    assert "HTTP 500" in event.details["error"], event.details
    assert found.next_escalation_at == event.at < deadline_at_filing, (found.next_escalation_at, event.at)

    assert jobs.sweep(app) == 1, "the stranded step escalates at the next sweep, not in 600 s"
    deliver_until_idle(app)
    found = incident(app, reference)
    assert (found.current_step, found.status.value) == (2, "open"), (found.current_step, found.status)
    assert subjects(smtp_server)[1].endswith(" ESCALATED"), subjects(smtp_server)
    assert smtp_server.inbox.envelopes[1][1] == ["l1@test.example"], smtp_server.inbox.envelopes


@pytest.mark.parametrize(
    ("transport", "refusal", "transient"),
    [
        ("webhook", 404, False),
        ("webhook", 413, False),
        ("webhook", 408, True),  # the receiver timed out waiting for the request: was given up as a 4xx
        ("webhook", 429, True),
        ("webhook", 503, True),
        ("webhook", 501, False),  # the receiver does not do POST: was retried as a 5xx for the whole budget
        ("webhook", 505, False),  # nor our version of HTTP
        ("email", "550 5.1.1 no such mailbox", False),
        ("email", "451 4.3.0 try again later", True),
    ],
    ids=[
        "http-404-permanent",
        "http-413-permanent",
        "http-408-retried",
        "http-429-retried",
        "http-503-retried",
        "http-501-permanent",
        "http-505-permanent",
        "smtp-550-permanent",
        "smtp-451-retried",
    ],
)
def test_refusals_are_retried_or_given_up_by_their_code(
    mail_app, smtp_server, webhook_receiver, transport, refusal, transient
):
    client = mail_app.test_client()
    world = build_world(mail_app, steps=(("L1",),))
    if transport == "webhook":
        use_transport(mail_app, world, "L1", "webhook", webhook_receiver.url)
        webhook_receiver.status = refusal
        code = str(refusal)
    else:
        use_transport(mail_app, world, "L1", "email", "l1@test.example")
        smtp_server.answer(refusal)
        code = refusal[:3]
    file_incident(client, world)

    jobs.deliver(mail_app)
    call = rows(mail_app)[0]
    [(outcome, response_code, error)] = attempts_by_row(mail_app)[call.id]
    assert (outcome, response_code) == ("transient" if transient else "permanent", code), (outcome, response_code)
    assert code in error, error
    expected = NotificationStatus.PENDING if transient else NotificationStatus.DEAD
    assert (call.status, call.attempts) == (expected, 1), statuses(mail_app)

    webhook_receiver.status = 200
    smtp_server.answer("250 OK")
    deliver_until_idle(mail_app)  # which waits out the retry's backoff
    call = rows(mail_app)[0]
    tries = [o for o, _c, _e in attempts_by_row(mail_app)[call.id]]
    if transient:
        assert (call.status, tries) == (NotificationStatus.SENT, ["transient", "sent"]), statuses(mail_app)
    else:
        assert (call.status, tries) == (NotificationStatus.DEAD, ["permanent"]), statuses(mail_app)
    delivered = (
        [r["headers"]["Idempotency-Key"] for r in webhook_receiver.requests if r["headers"].get("Idempotency-Key")]
        if transport == "webhook"
        else [m["X-Tracker-Key"] for m in smtp_server.messages if m["X-Tracker-Event"] == "incident.notified"]
    )
    key = delivery.message_key(call.id, call.created_at)
    expected_keys = {("webhook", True): [key, key], ("webhook", False): [key], ("email", True): [key]}
    assert delivered == expected_keys.get((transport, transient), []), (delivered, subjects(smtp_server))


@pytest.mark.parametrize(
    ("security", "address", "lacking"),
    [
        ("starttls", "l1@test.example", "STARTTLS"),
        ("none", "desk@bücher.test", "SMTPUTF8"),
        ("none", "l1@test.example", "AUTH"),  # SMTP_USERNAME set, and a relay that takes no login
    ],
    ids=["no-starttls", "no-smtputf8", "no-auth"],
)
def test_a_relay_without_what_the_message_needs_is_given_up_at_once_saying_why(
    make_app, caplog, security, address, lacking
):
    """A relay that does not offer STARTTLS (SMTP_SECURITY = "starttls"), SMTPUTF8 for an address beyond ASCII,
    or AUTH for the login SMTP_USERNAME asks for, will not offer it at the next try either: the message was
    retried as an outage until its attempts ran out, and the supervisors were told only then. It is now
    dead-lettered at its first try, the reason on the row and in the log, and nothing reaches the relay."""
    server = SmtpServer(smtputf8=lacking != "SMTPUTF8").start()
    try:
        settings = {"SMTP_SECURITY": security, "SUPERVISOR_TRANSPORT": "outbox", "DELIVERY_MAX_ATTEMPTS": 5}
        if lacking == "AUTH":
            settings |= {"SMTP_USERNAME": "tracker", "SMTP_PASSWORD": "relay-password"}
        app = make_app(**{**smtp_config(server), **settings})
        world = build_world(app, steps=(("L1",),))
        use_transport(app, world, "L1", "email", address)
        file_incident(app.test_client(), world)
        with caplog.at_level(logging.WARNING, logger="tracker.jobs"):
            jobs.deliver(app)
    finally:
        server.stop()
    call = rows(app)[0]
    [(outcome, _code, error)] = attempts_by_row(app)[call.id]
    assert (call.status, outcome) == (NotificationStatus.DEAD, "permanent"), statuses(app)
    assert f"the mail relay 127.0.0.1:{server.port} does not offer {lacking}" in error, error
    assert call.last_error == error, call.last_error
    logged = [r.getMessage() for r in caplog.records if r.name == "tracker.jobs"]
    logged = [line for line in logged if f"offer {lacking}" in line]
    assert len(logged) == 1 and logged[0].endswith("(dead)"), [r.getMessage() for r in caplog.records]
    assert server.messages == [], subjects(server)


@pytest.mark.parametrize("status", [429, 503])
def test_a_receiver_that_says_when_to_come_back_is_not_tried_again_before(make_app, webhook_receiver, status):
    """A rate-limited (or down for maintenance) receiver's Retry-After was ignored: the message was tried again
    after the backoff (10 s), spending its attempts on refusals announced in advance until it was dead-lettered
    and the supervisors told. It now waits as asked, up to the longest backoff (10 s * 2^4)."""
    app = make_app(DELIVERY_RETRY_BASE_SECONDS=10, DELIVERY_MAX_ATTEMPTS=5)
    world = build_world(app, steps=(("L1",),))
    use_transport(app, world, "L1", "webhook", webhook_receiver.url)
    webhook_receiver.status, webhook_receiver.headers = status, {"Retry-After": "120"}
    file_incident(app.test_client(), world)

    jobs.deliver(app)
    call = rows(app)[0]
    [attempt] = attempts_by_row(app)[call.id]
    assert (call.status, attempt[:2]) == (NotificationStatus.PENDING, ("transient", str(status))), statuses(app)
    with session_scope(app) as session:
        tried = session.scalars(select(DeliveryAttempt.at).where(DeliveryAttempt.notification_id == call.id)).one()
    assert call.next_attempt_at >= tried + timedelta(seconds=120), (tried, call.next_attempt_at)

    webhook_receiver.headers = {"Retry-After": "86400"}  # a day: no longer than the policy's longest backoff
    with session_scope(app) as session:
        session.get(Notification, call.id).next_attempt_at = utcnow()
    jobs.deliver(app)
    call = rows(app)[0]
    with session_scope(app) as session:
        last = max(session.scalars(select(DeliveryAttempt.at).where(DeliveryAttempt.notification_id == call.id)))
    assert call.status is NotificationStatus.PENDING, statuses(app)
    assert last + timedelta(seconds=120) <= call.next_attempt_at <= last + timedelta(seconds=160), call.next_attempt_at


@pytest.mark.parametrize("quit_reply", ["421 4.3.2 closing down", "554 5.3.0 bye"])
def test_a_message_the_relay_accepted_is_sent_whatever_it_answers_to_quit(mail_app, smtp_server, quit_reply):
    """The relay has taken the message at the end of DATA: a QUIT answered with anything but 221 must not
    turn that into a retry (a second copy) or a dead letter (supervisors told of a failure that is none)."""
    world = build_world(mail_app, steps=(("L1",),))
    use_transport(mail_app, world, "L1", "email", "l1@test.example")
    smtp_server.answer_quit(quit_reply)
    file_incident(mail_app.test_client(), world)

    assert jobs.deliver(mail_app) == 1, statuses(mail_app)
    call = rows(mail_app)[0]
    assert call.status is NotificationStatus.SENT, (call.status, call.last_error)
    assert [o for o, _c, _e in attempts_by_row(mail_app)[call.id]] == ["sent"]
    assert len(smtp_server.messages) == 1, subjects(smtp_server)


# -- acknowledgement ------------------------------------------------------------------------


@pytest.mark.both_databases  # queued messages cancelled by a conditional UPDATE
@pytest.mark.parametrize("escalation_queued", [False, True], ids=["idle", "escalation-queued"])
def test_after_an_acknowledgement_only_the_acknowledged_news_arrives(
    mail_app, smtp_server, webhook_receiver, escalation_queued
):
    client = mail_app.test_client()
    world, _secret = peer_world(
        mail_app, webhook_receiver, steps=(("L1", "L2"), ("L1", "L2")), ack_seconds=SHORT_STEP_SECONDS, repeat=3
    )
    reference = file_incident(client, world)["reference"]
    jobs.deliver(mail_app)
    smtp_server.wait_for(1)
    assert events(webhook_receiver) == ["incident.notified"], events(webhook_receiver)
    deadline = incident(mail_app, reference).next_escalation_at
    if escalation_queued:  # the sweep queued step 2, due now, but the delivery job has not run yet
        assert sweep_when_due(mail_app, reference) == 1
    # The deadline the acknowledgement removes: step 1's, or step 2's, set by that sweep at its own "now" (it
    # was waited out as step 1's + SHORT_STEP_SECONDS, a second too long when idle, and some milliseconds short
    # of step 2's when queued).
    removed = incident(mail_app, reference).next_escalation_at

    response = client.post(
        f"/api/v1/incidents/{reference}/acknowledge", json={"note": "calling now"}, headers=world.auth("liaison")
    )
    assert response.status_code == 200, response.get_json()

    time.sleep(max(0.0, (removed - utcnow()).total_seconds()) + 0.05)
    assert jobs.sweep(mail_app) == 0, "acknowledged, yet escalated by the sweep job"
    deliver_until_idle(mail_app)
    for late in (timedelta(hours=1), timedelta(days=2)):
        assert sweep_at(mail_app, deadline + late) == 0, f"acknowledged, yet escalated at deadline + {late}"
        deliver_until_idle(mail_app)

    mails = [(m["Subject"], m["X-Tracker-Event"]) for m in smtp_server.messages]
    assert [event for _subject, event in mails] == ["incident.notified", "incident.acknowledged"], mails
    [acked_mail] = [m for m in smtp_server.messages if m["X-Tracker-Event"] == "incident.acknowledged"]
    assert acked_mail["Subject"].endswith(" ACKNOWLEDGED"), mails
    assert acked_mail["To"] == "L1 <l1@test.example>", acked_mail["To"]
    assert "ACKNOWLEDGED by liaison" in acked_mail.get_body(("plain",)).get_content()

    assert events(webhook_receiver) == ["incident.notified", "incident.acknowledged"], events(webhook_receiver)
    acked_hook = hooks(webhook_receiver)[1]["json"]
    assert acked_hook["incident"]["acknowledged_by"] == "liaison", acked_hook["incident"]
    assert acked_hook["subject"].endswith(" ACKNOWLEDGED") and "ACKNOWLEDGED by liaison" in acked_hook["text"]

    final = statuses(mail_app)
    expected = {"notified": "sent", "acknowledged": "sent", "escalated": "cancelled"}
    assert all(expected[kind] == status for _id, kind, _who, status, _n, _e in final), final
    assert sum(kind == "escalated" for _id, kind, *_ in final) == (2 if escalation_queued else 0), final
    with session_scope(mail_app) as session:
        kinds = [e.kind.value for e in session.scalars(select(TimelineEvent).order_by(TimelineEvent.id))]
    assert "escalated" not in kinds[kinds.index("acknowledged") :], kinds
