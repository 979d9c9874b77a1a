"""A webhook's path and query often hold its secret (a chat service's hook URL): the error of a failed
sending, kept on the message for every token holder and logged, names the host but not them."""

import pytest

from tests.peers import free_port
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
    message = Message(
        key="k1", event="incident.notified", recipient="L1", address=address, subject="s", text="t",
        html="<p>t</p>", message_id="<a@test.example>", secret="signing-secret",
    )  # fmt: skip
    with pytest.raises(DeliveryError) as refused:
        WebhookTransport(connect_timeout=2, read_timeout=2).send(message)
    error = str(refused.value)
    assert refused.value.transient and error.startswith("ConnectionError: "), error
    assert "127.0.0.1" in error and "/[path withheld]" in error, error
    assert not [part for part in ("s3cr3tPart", "t0ken", "/services/") if part in error], error
