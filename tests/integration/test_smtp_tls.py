"""The e-mail transport over STARTTLS and implicit TLS with login, against a real aiosmtpd server
with a certificate from a test CA (trustme)."""

import pytest
from sqlalchemy import select

from tests.peers import PASSWORD, USER, TlsSmtpServer
from tests.support import build_world, file_incident
from tracker import jobs
from tracker.db import session_scope
from tracker.models import Notification, NotificationStatus
from tracker.services.incidents import ladder

# aiosmtpd warns about AUTH without STARTTLS; with implicit TLS the whole connection is encrypted.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")


def deliver_one(make_app, server, tmp_path, security, password=PASSWORD, trust=True):
    app = make_app(
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=server.port,
        SMTP_SECURITY=security,
        SMTP_USERNAME=USER,
        SMTP_PASSWORD=password,
        SMTP_CA_FILE=str(tmp_path / "ca.pem") if trust else "",
        SMTP_TIMEOUT_SECONDS=5,
    )
    world = build_world(app)
    with session_scope(app) as session:
        channel = ladder.get_channel(session, world.channels["L1"])
        ladder.save_channel(
            session,
            {"transport": "email", "address": "desk@test.example"},
            app.extensions["tracker.transports"],
            channel,
        )
    file_incident(app.test_client(), world)
    jobs.deliver(app)
    with session_scope(app) as session:
        notification = session.scalars(select(Notification).where(Notification.channel_id.is_not(None))).one()
        return notification.status, notification.last_error


@pytest.mark.parametrize("security, implicit", [("starttls", False), ("tls", True)])
def test_mail_goes_through_tls_with_a_login(make_app, ca, tmp_path, security, implicit):
    server = TlsSmtpServer(ca, implicit).start()
    try:
        status, error = deliver_one(make_app, server, tmp_path, security)
        assert status is NotificationStatus.SENT, error
        [mail] = server.wait_for(1)
        assert mail["To"].addresses[0].addr_spec == "desk@test.example", mail["To"]
        assert mail["Subject"].startswith("UNCLASSIFIED // REL TO EASTLAND - IMMEDIATE "), mail["Subject"]
    finally:
        server.stop()


def test_a_wrong_password_is_a_permanent_failure(make_app, ca, tmp_path):
    server = TlsSmtpServer(ca, implicit=False).start()
    try:
        status, error = deliver_one(make_app, server, tmp_path, "starttls", password="wrong")
        assert status is NotificationStatus.DEAD and error.startswith("SMTP 535"), error
        assert server.messages == []
    finally:
        server.stop()


@pytest.mark.parametrize("security, implicit", [("starttls", False), ("tls", True)])
def test_an_untrusted_certificate_is_refused_for_good_saying_why(make_app, ca, tmp_path, security, implicit):
    """A relay whose certificate our CA file does not vouch for is the relay's configuration or ours, as a wrong
    password is: the message is given up at once, saying so (it was retried until the retry budget ran out, and
    only then dead-lettered, which is what moves the step on to the next line)."""
    server = TlsSmtpServer(ca, implicit).start()
    try:
        status, error = deliver_one(make_app, server, tmp_path, security, trust=False)
        assert status is NotificationStatus.DEAD, (status, error)
        relay = f"the mail relay 127.0.0.1:{server.port}"
        assert error.startswith(f"{relay} has a certificate that failed verification "), error
        assert "SMTP_CA_FILE" in error, error
        assert server.messages == []
    finally:
        server.stop()
