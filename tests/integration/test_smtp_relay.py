"""The e-mail transport against a relay that misbehaves at the socket: one that answers a byte at a time."""

import socket
import threading

import pytest

from tracker.channels import DeliveryError, Message
from tracker.channels.email import EmailTransport


def _message() -> Message:
    return Message(
        key="k1", event="incident.notified", recipient="L1", address="l1@test.example", subject="s", text="t",
        html="<p>t</p>", message_id="<a@test.example>",
    )  # fmt: skip


@pytest.mark.parametrize("where", ["greeting", "ehlo"])
def test_a_relay_that_answers_a_byte_at_a_time_is_cut_at_the_timeout_and_hung_up_on(where):
    """smtplib's timeout bounds each read, not the conversation: a relay that kept sending a line of its answer
    every fraction of the timeout held the delivery job, and every message queued after its own on every line,
    for as long as it went on. The conversation is now cut at the timeout, a transient failure, and hung up."""
    server = socket.create_server(("127.0.0.1", 0))
    hung_up, stop = threading.Event(), threading.Event()

    def drip():
        connection, _ = server.accept()
        with connection:
            if where == "ehlo":
                connection.sendall(b"220 relay.test ESMTP\r\n")
                connection.recv(65536)
            while not stop.wait(0.2):  # a reply that never ends: "220-" or "250-" continuation lines
                try:
                    connection.sendall(b"220-slow\r\n" if where == "greeting" else b"250-slow\r\n")
                except OSError:  # the tracker hung up
                    hung_up.set()
                    return

    threading.Thread(target=drip, daemon=True).start()
    transport = EmailTransport("127.0.0.1", server.getsockname()[1], "none", "", "", "t@tracker.test", timeout=1)
    outcome: list = []

    def send():
        try:
            outcome.append(transport.send(_message()))
        except DeliveryError as error:
            outcome.append(error)

    sending = threading.Thread(target=send, daemon=True)
    try:
        sending.start()
        sending.join(15)
        assert outcome, "the sending still talks to a relay that never finishes its answer"
        assert isinstance(outcome[0], DeliveryError) and outcome[0].transient, outcome
        assert hung_up.wait(15), "the connection to the dripping relay was left open"
    finally:
        stop.set()
        server.close()
