"""The apprise transport, proven against a real local HTTP server through Apprise's json:// URL."""

import json

import pytest

from tests.peers import dripping_till_hung_up, send_to_dripping
from tests.support import build_world, file_incident
from tracker import jobs
from tracker.channels import DeliveryError, Message
from tracker.channels.apprise import AppriseTransport
from tracker.db import session_scope
from tracker.services.incidents import ladder


def use_apprise(app, world, url: str) -> None:
    with session_scope(app) as session:
        channel = ladder.get_channel(session, world.channels["L1"])
        ladder.save_channel(
            session, {"transport": "apprise", "address": url}, app.extensions["tracker.transports"], channel
        )


def test_an_apprise_channel_receives_the_message(app, webhook_receiver):
    world = build_world(app)
    use_apprise(app, world, f"json://127.0.0.1:{webhook_receiver.port}/hook")
    reference = file_incident(app.test_client(), world)["reference"]
    assert jobs.deliver(app) == 1
    [request] = webhook_receiver.requests
    body = json.loads(request["body"])
    assert body["title"].startswith(f"UNCLASSIFIED // REL TO EASTLAND - IMMEDIATE {reference}"), body
    assert "Acknowledge with one click" in body["message"] and "/links/ack/" in body["message"]


def test_our_plain_text_reaches_a_service_that_shows_html_escaped_not_as_markup(app, webhook_receiver):
    """The body went without a declared format, so a service showing HTML (here json:// told format=html)
    got a narrative's "<b>" as markup and its lines run together."""
    world = build_world(app)
    use_apprise(app, world, f"json://127.0.0.1:{webhook_receiver.port}/hook?format=html")
    file_incident(app.test_client(), world, narrative="Pilot said <b>break off</b> & turned away.")
    assert jobs.deliver(app) == 1
    [request] = webhook_receiver.requests
    message = json.loads(request["body"])["message"]
    assert "&lt;b&gt;break" in message and "<b>" not in message, message
    assert "<br" in message, f"the text's lines are kept as lines: {message!r}"


def test_an_apprise_failure_is_retried(app, webhook_receiver):
    world = build_world(app)
    use_apprise(app, world, f"json://127.0.0.1:{webhook_receiver.port}/hook")
    webhook_receiver.status = 503
    client = app.test_client()
    reference = file_incident(client, world)["reference"]
    assert jobs.deliver(app) == 0
    [row] = client.get(f"/api/v1/incidents/{reference}", headers=world.auth("duty")).get_json()["notifications"]
    assert row["status"] == "pending" and row["attempts"] == 1 and "Apprise" in row["last_error"]


def test_a_url_apprise_does_not_know_is_refused_when_the_channel_is_saved(client, world):
    response = client.post(
        "/api/v1/channels",
        json={"name": "Chat", "level": 2, "transport": "apprise", "address": "nonsense://nowhere"},
        headers=world.auth("admin"),
    )
    assert response.status_code == 422, response.get_json()
    assert "address" in response.get_json()["error"]["details"]


def test_a_service_that_answers_a_byte_at_a_time_holds_the_delivery_no_longer_than_its_time_limit():
    """Apprise's timeouts, as the webhook's, bound each read, not the answer: a service (an Apprise URL on a
    counterpart line is the other side's) that sent its headers a byte at a time held the delivery job and
    every message after its own. The whole sending is cut at the time limit, a transient failure."""

    def send(address: str):
        message = Message(
            key="k1", event="incident.notified", recipient="Chat", address=address, subject="s", text="t",
            html="<p>t</p>", message_id="<a@test.example>",
        )  # fmt: skip
        return AppriseTransport(time_limit=2).send(message)

    answer, took = send_to_dripping(True, lambda port: f"json://127.0.0.1:{port}/hook", send, 15)
    assert took < 6, took
    assert isinstance(answer, DeliveryError) and answer.transient, answer


@pytest.mark.parametrize(
    ("address", "said"),
    [
        ("syslog://", "syslog:// goes to this server's own system log"),
        ("rsyslog://logs.northmark.test", "rsyslog:// goes to a log server over UDP"),
        ("dbus://", "dbus:// goes to this server's own screen"),
        ("json://desk.northmark.test/in, form://gw.eastland.test/in", "holds 2 (json://, form://)"),
    ],
)
def test_an_apprise_url_no_desk_reads_or_two_in_one_address_is_refused_naming_the_scheme(client, world, address, said):
    """Apprise took syslog:// (the tracker's own log) or rsyslog:// (UDP, confirming nothing) and reported each
    message sent: the ladder counted the line told and waited while nobody was. It also read two URLs in one
    address as two services, the second unseen by whoever reads the line's withheld address."""
    body = {"name": "Chat", "level": 2, "transport": "apprise", "address": address}
    response = client.post("/api/v1/channels", json=body, headers=world.auth("admin"))
    assert response.status_code == 422, response.get_json()
    [message] = response.get_json()["error"]["details"]["address"]
    assert said in message and "\n" not in message, message


def test_a_line_saved_at_syslog_before_the_rule_is_not_counted_as_told():
    """Stored before the rule, such a line's message is refused at sending, for good: dead-lettered, the
    supervisors told, rather than reported sent into the tracker's own log."""
    message = Message(
        key="k1", event="incident.notified", recipient="Chat", address="syslog://", subject="s", text="t",
        html="<p>t</p>", message_id="<a@test.example>",
    )  # fmt: skip
    with pytest.raises(DeliveryError) as refused:
        AppriseTransport().send(message)
    assert not refused.value.transient and "syslog://" in str(refused.value)


def _message(address: str) -> Message:
    return Message(
        key="k1", event="incident.notified", recipient="Chat", address=address, subject="s", text="t",
        html="<p>t</p>", message_id="<a@test.example>",
    )  # fmt: skip


def test_a_proxy_set_in_the_environment_for_other_programs_is_not_used(webhook_receiver, proxy, monkeypatch):
    """Apprise's requests took HTTP_PROXY, HTTPS_PROXY and ALL_PROXY from the environment (requests' module
    functions, which its services call, read them): a proxy set on the host for other programs carried the
    messages of every Apprise line, and the URL's secret, through it. They go as a webhook's do now."""
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, f"http://127.0.0.1:{proxy.port}")
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    AppriseTransport(time_limit=5).send(_message(f"json://127.0.0.1:{webhook_receiver.port}/hook"))
    assert (len(webhook_receiver.requests), len(proxy.requests)) == (1, 0), proxy.requests


def test_apprise_goes_through_the_proxy_the_configuration_names(webhook_receiver, proxy, monkeypatch):
    """WEBHOOK_PROXY, and only it, routes Apprise's requests through a proxy, as it does a webhook's."""
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.setenv(name, "127.0.0.1")  # not read either
    transport = AppriseTransport(time_limit=5, proxy=f"http://127.0.0.1:{proxy.port}")
    transport.send(_message(f"json://127.0.0.1:{webhook_receiver.port}/hook"))
    assert (len(webhook_receiver.requests), len(proxy.requests)) == (0, 1), webhook_receiver.requests


def test_a_service_still_dripping_when_the_sending_is_cut_is_hung_up_on():
    """Cutting the sending at the time limit freed the delivery job, but Apprise's thread went on reading for as
    long as the service kept dripping: one thread and one connection more for every message sent to it."""
    with dripping_till_hung_up() as (port, hung_up):
        with pytest.raises(DeliveryError) as cut:
            AppriseTransport(time_limit=1).send(_message(f"json://127.0.0.1:{port}/hook"))
        assert cut.value.transient, cut.value
        # Hung up as the sending is cut (the receiver notices at its next drip, 0.1 s on); left to Apprise, its
        # thread let go about 10 s later.
        assert hung_up.wait(5), "the connection to the dripping service was left open"
