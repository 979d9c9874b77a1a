"""A webhook's path and query often hold its secret (a chat service's hook URL): the error of a failed
sending, kept on the message for every token holder and logged, names the host but not them. And a
receiver, which may be the other side's, cannot hold the delivery job by answering slowly."""

import logging

import pytest
from werkzeug import Request, Response

from tests.peers import HttpServer, dripping_till_hung_up, free_port, send_to_dripping
from tracker.channels import DeliveryError, Message
from tracker.channels.webhook import WebhookTransport


@pytest.mark.parametrize(
    "path",
    [
        "/services/T0AB/B0CD/s3cr3tPart?token=t0ken-value",
        "/services/T0AB/B0CD/s3cr3tPart%7eX?token=t0ken%2Dvalue",  # requests quotes it as ~ and -
        "/services/T0AB/B0CD/s3cr3tPart X?token=t0ken value",  # and these as %20
    ],
)
def test_a_refused_connection_is_reported_without_the_hooks_path_or_query(path):
    address = f"http://127.0.0.1:{free_port()}{path}"  # nothing listens
    with pytest.raises(DeliveryError) as refused:
        WebhookTransport(connect_timeout=2, read_timeout=2).send(_message(address))
    error = str(refused.value)
    assert refused.value.transient and error.startswith("ConnectionError: "), error
    assert "127.0.0.1" in error and "/[path withheld]" in error, error
    assert not [part for part in ("s3cr3tPart", "t0ken", "/services/") if part in error], error


@pytest.mark.parametrize("echo", ["path", "url"])
def test_an_error_answer_that_quotes_the_hook_is_kept_without_its_path_or_query(echo):
    """Many servers answer a wrong route with the path it was sent to ("Cannot POST /services/..."): the start
    of that answer is kept on the message (read by every token holder, told to the supervisors in a dead
    letter, logged) and must not carry the hook's secret either."""
    path, query = "/services/T0AB/B0CD/s3cr3tPart", "token=t0ken-value"
    server = HttpServer(host="127.0.0.1", port=free_port())

    def answer(request: Request) -> Response:
        said = request.full_path if echo == "path" else request.url
        return Response(f"Cannot POST {said}", status=404)

    server.expect_request(path, method="POST").respond_with_handler(answer)
    server.start()
    try:
        with pytest.raises(DeliveryError) as refused:
            address = f"http://127.0.0.1:{server.port}{path}?{query}"
            WebhookTransport(connect_timeout=2, read_timeout=2).send(_message(address))
    finally:
        server.clear()
        server.stop()
    error = str(refused.value)
    assert refused.value.code == "404" and not refused.value.transient, error
    assert error.startswith("HTTP 404 Cannot POST ") and "/[path withheld]" in error, error
    assert not [part for part in ("s3cr3tPart", "t0ken", "/services/") if part in error], error


def test_a_hooks_path_never_reaches_the_log_even_at_debug_level(debug_logging, caplog):
    """LOG_LEVEL = "DEBUG", set to find a fault, made the HTTP library log each request's path and query
    ("POST /services/T0/B0/XXXX"): the hook's secret, in a log that is kept and shipped elsewhere."""
    caplog.set_level(logging.DEBUG)
    path = "/services/T0AB/B0CD/s3cr3tPart"
    server = HttpServer(host="127.0.0.1", port=free_port())
    server.expect_request(path, method="POST").respond_with_data("ok")
    server.start()
    try:
        address = f"http://127.0.0.1:{server.port}{path}?token=t0ken-value"
        assert WebhookTransport(connect_timeout=2, read_timeout=2).send(_message(address)) == "200"
    finally:
        server.clear()
        server.stop()
    ours = [record for record in caplog.records if record.name != "werkzeug"]  # the receiver's own request log
    logged = "\n".join(f"{record.name}: {record.getMessage()}" for record in ours)
    assert "s3cr3tPart" not in logged and "t0ken" not in logged, logged


def test_an_apprise_urls_secret_never_reaches_the_log_even_at_debug_level(debug_logging, caplog):
    """Apprise logs at DEBUG the URL each service is posted to ("JSON POST URL: ...", "Telegram POST URL:
    .../bot<token>/..."): a chat service's secret, in a log that is kept and shipped elsewhere."""
    from tracker.channels.apprise import AppriseTransport

    caplog.set_level(logging.DEBUG)
    path = "/services/T0AB/B0CD/s3cr3tPart"
    server = HttpServer(host="127.0.0.1", port=free_port())
    server.expect_request(path, method="POST").respond_with_data("ok")
    server.start()
    try:
        AppriseTransport(time_limit=5).send(_message(f"json://127.0.0.1:{server.port}{path}"))
        assert len(server.log) == 1, "delivered"
    finally:
        server.clear()
        server.stop()
    ours = [record for record in caplog.records if record.name != "werkzeug"]  # the receiver's own request log
    logged = "\n".join(f"{record.name}: {record.getMessage()}" for record in ours)
    assert "s3cr3tPart" not in logged, logged


def _message(address: str) -> Message:
    return Message(
        key="k1", event="incident.notified", recipient="L1", address=address, subject="s", text="t",
        html="<p>t</p>", message_id="<a@test.example>", secret="signing-secret",
    )  # fmt: skip


@pytest.mark.parametrize("head", [True, False], ids=["headers", "body"])
def test_a_receiver_that_answers_a_byte_at_a_time_holds_the_delivery_no_longer_than_the_timeouts(head):
    """requests' read timeout bounds each read, not the answer: a hook (the other side's, on a counterpart
    line) that kept sending a byte a second held the delivery job, and every message queued after its own,
    for as long as it went on. Its answer is cut at the two timeouts together, a transient failure."""
    # Half-second timeouts, the receiver dripping every 0.1 s (tests/peers.py Dripping): each byte five times
    # within the read timeout as with 1 s and 0.2 s, and the answer cut at 1 s, not 2 s.
    transport = WebhookTransport(connect_timeout=0.5, read_timeout=0.5)
    answer, took = send_to_dripping(
        head, lambda port: f"http://127.0.0.1:{port}/hook", lambda address: transport.send(_message(address)), 10
    )
    assert took < 5, took
    if head:  # no whole answer: tried again later
        assert isinstance(answer, DeliveryError) and answer.transient, answer
    else:  # a 200 is taken at its status: the body is not read
        assert answer == "200", answer


def test_a_receiver_still_dripping_when_its_answer_is_cut_is_hung_up_on():
    """Cutting the answer at the timeouts freed the delivery job, but the sending thread went on reading for as
    long as the receiver (the other side's, on a counterpart line) kept dripping: one thread and one connection
    more for every message and every line check sent to it, for weeks. The connection is now hung up."""
    with dripping_till_hung_up() as (port, hung_up):
        with pytest.raises(DeliveryError) as cut:  # at 1 s, the two timeouts together
            WebhookTransport(connect_timeout=0.5, read_timeout=0.5).send(_message(f"http://127.0.0.1:{port}/hook"))
        assert cut.value.transient, cut.value
        assert hung_up.wait(15), "the connection to the dripping receiver was left open"


@pytest.mark.both_databases  # PostgreSQL cannot store a NUL: the failure must still be recorded
def test_what_the_other_sides_receiver_answers_is_kept_as_text_without_nul_or_terminal_escapes(app, world):
    """A receiver, which may be the other side's, chooses the start of its error answer, and we keep it on the
    message (read on our pages, told to the supervisors, logged): a NUL in it made PostgreSQL refuse the
    failure itself, and a terminal escape went on to the log of whoever reads it in a shell."""
    from sqlalchemy import select

    from tests.exchange_support import acknowledged_incident, add_counterpart_line, open_exchange
    from tracker import jobs
    from tracker.db import session_scope
    from tracker.models import DeliveryAttempt, Notification, NotificationKind

    server = HttpServer(host="127.0.0.1", port=free_port())
    said = "refused\x00 by \x1b[31mEastland\x1b[0m\x07 gateway\r\nX-Injected: 1"
    server.expect_request("/in", method="POST").respond_with_response(Response(said, status=503))
    server.start()
    try:
        add_counterpart_line(
            app, world, "Eastland gateway", transport="webhook", address=f"http://127.0.0.1:{server.port}/in"
        )
        client = app.test_client()
        open_exchange(client, world, acknowledged_incident(client, world), line="Eastland gateway")
        jobs.deliver(app)
    finally:
        server.clear()
        server.stop()
    with session_scope(app) as session:
        row = session.scalar(select(Notification).where(Notification.kind == NotificationKind.COUNTERPART))
        attempts = session.scalars(select(DeliveryAttempt).where(DeliveryAttempt.notification_id == row.id)).all()
        kept = [row.last_error, *(a.error for a in attempts)]
    assert attempts and row.last_error and "Eastland" in row.last_error, kept
    for error in kept:
        assert not any(c in error for c in "\x00\x1b\x07\r\n"), repr(error)


def test_a_proxy_set_in_the_environment_for_other_programs_is_not_used(webhook_receiver, proxy, monkeypatch):
    """requests takes HTTP_PROXY, HTTPS_PROXY and ALL_PROXY from the environment unless told not to: a proxy set on
    the host for package downloads carried every alert to our desks, and each hook's secret path, through it,
    and a proxy that was down failed them all, without a word of it in the configuration."""
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, f"http://127.0.0.1:{proxy.port}")
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)

    assert WebhookTransport(connect_timeout=2, read_timeout=2).send(_message(webhook_receiver.url)) == "200"
    assert (len(webhook_receiver.requests), len(proxy.requests)) == (1, 0), proxy.requests


def test_webhooks_go_through_the_proxy_the_configuration_names(webhook_receiver, proxy, monkeypatch):
    """WEBHOOK_PROXY, and only it, routes webhooks through a proxy (a network whose hooks are reached so)."""
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.setenv(name, "127.0.0.1")  # not read either: the setting is the whole story
    transport = WebhookTransport(connect_timeout=2, read_timeout=2, proxy=f"http://127.0.0.1:{proxy.port}")

    assert transport.send(_message(webhook_receiver.url)) == "200"
    assert (len(webhook_receiver.requests), len(proxy.requests)) == (0, 1), webhook_receiver.requests
    assert proxy.requests[0]["headers"]["Idempotency-Key"] == "k1", proxy.requests


@pytest.mark.parametrize(
    "address",
    ["http://127.0.0.1:99999/hook?token=t0ken", "http://desk .test/hook?token=t0ken", "http://[::1/hook?token=t0ken"],
)
def test_a_line_saved_with_an_address_no_request_can_go_to_is_given_up_at_once(address):
    """Saved before such addresses were refused (or written to the database by hand): each message failed in the
    URL parser, was retried as an outage until its attempts ran out, and one whose bracket was not closed ended
    in a ValueError raised while its error was being written. Now a permanent failure, its secret withheld."""
    with pytest.raises(DeliveryError) as refused:
        WebhookTransport(connect_timeout=1, read_timeout=1).send(_message(address))
    error = str(refused.value)
    assert not refused.value.transient and error.startswith("InvalidURL: "), error
    assert "t0ken" not in error, error


@pytest.mark.parametrize("echo", ["body", "link"])
def test_a_receiver_that_quotes_our_message_never_puts_its_signed_link_on_our_pages(app, world, echo):
    """A receiver refusing a message often quotes it ("invalid payload: {...}") or the link in it. The start of
    its answer is kept on the message, shown on the incident's page and in the API to every token holder, told
    to the supervisors and logged: the acknowledge link's token (the one-click link itself) came with it."""
    import json

    from sqlalchemy import select

    from tests.support import file_incident, switch_channel
    from tracker import jobs
    from tracker.db import session_scope
    from tracker.models import DeliveryAttempt, Notification

    def answer(request: Request) -> Response:
        body = request.get_data(as_text=True)
        return Response(f"refused: {body if echo == 'body' else json.loads(body)['acknowledge']['url']}", status=400)

    server = HttpServer(host="127.0.0.1", port=free_port())
    server.expect_request("/in", method="POST").respond_with_handler(answer)
    server.start()
    try:
        switch_channel(app, world.channels["L1"], transport="webhook", address=f"http://127.0.0.1:{server.port}/in")
        client = app.test_client()
        reference = file_incident(client, world)["reference"]
        jobs.deliver(app)
    finally:
        server.clear()
        server.stop()
    with session_scope(app) as session:
        row = session.scalar(select(Notification).where(Notification.channel_id == world.channels["L1"]))
        token = row.payload["acknowledge"]["token"]
        attempts = session.scalars(select(DeliveryAttempt).where(DeliveryAttempt.notification_id == row.id)).all()
        kept = [row.last_error, *(a.error for a in attempts)]
    shown = client.get(f"/api/v1/incidents/{reference}", headers=world.auth("duty")).get_data(as_text=True)
    assert (
        row.last_error.startswith("HTTP 400 refused: ")
        and row.last_error in json.loads(shown)["notifications"][0]["last_error"]
    ), (kept, shown)
    for text in (*kept, shown):
        assert token[:20] not in text and token.rsplit(".", 1)[1] not in text, text
