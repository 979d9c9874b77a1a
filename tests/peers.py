"""Real network peers for integration tests: an SMTP server (plain, or TLS with a login) and an HTTP webhook
receiver."""

import contextlib
import email
import email.policy
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response


def free_port() -> int:
    """A port nobody listens on now (aiosmtpd needs a real number; port 0 does not work with it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class HttpServer(HTTPServer):
    """pytest-httpserver's server, stopped in a few milliseconds: its thread polls for the stop every 0.5 s
    (socketserver's default), so each stop() waited 0.25 s on average and up to 0.5 s, the test's or its
    fixture's teardown sleeping on nothing (53 teardowns over 0.2 s in a run, 29 s of the workers' time).
    A request is answered as soon as it comes, whatever the interval: only the stop is waited for less."""

    def thread_target(self) -> None:
        assert self.server is not None
        self.server.serve_forever(poll_interval=0.02)


class _Inbox:
    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.reply = "250 OK"
        self.quit_reply = "221 Bye"
        self.lock = threading.Lock()

    async def handle_QUIT(self, server, session, envelope):
        return self.quit_reply

    async def handle_DATA(self, server, session, envelope):
        if self.reply.startswith("250"):
            with self.lock:
                self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
                self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return self.reply


@dataclass
class SmtpServer:
    """aiosmtpd on a fixed free port; stop() and start() again on the same port to fake an outage."""

    port: int = field(default_factory=free_port)
    inbox: _Inbox = field(default_factory=_Inbox)
    controller: Controller | None = None
    smtputf8: bool = True  # offer SMTPUTF8 (addresses beyond ASCII), as aiosmtpd's Controller does by default

    @property
    def messages(self):
        with self.inbox.lock:
            return list(self.inbox.messages)

    def answer(self, reply: str) -> None:
        """Reply to DATA with this line from now on, e.g. "451 try later" or "550 no such user"."""
        self.inbox.reply = reply

    def answer_quit(self, reply: str) -> None:
        """Reply to QUIT with this line from now on (a relay closing down answers "421 ...")."""
        self.inbox.quit_reply = reply

    def start(self) -> "SmtpServer":
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port, enable_SMTPUTF8=self.smtputf8)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def wait_for(self, count: int, timeout: float = 10) -> list:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.messages) >= count:
                return self.messages
            time.sleep(0.05)
        raise AssertionError(f"expected {count} e-mails within {timeout}s, got {len(self.messages)}")


# The login TlsSmtpServer takes (SMTP_USERNAME, SMTP_PASSWORD).
USER, PASSWORD = "tracker", "relay-password"


def authenticate(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535 itself


class TlsSmtpServer(SmtpServer):
    """aiosmtpd that demands STARTTLS (or speaks TLS from the first byte) and a login, with a certificate from
    a test CA (trustme; the `ca` fixture of tests/integration)."""

    def __init__(self, ca: trustme.CA, implicit: bool):
        super().__init__()
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1").configure_cert(self.context)
        self.implicit = implicit

    def start(self):
        # AUTH PLAIN only: smtplib would otherwise try LOGIN after a refused PLAIN.
        options: dict[str, Any] = {"authenticator": authenticate, "auth_required": True}
        options["auth_exclude_mechanism"] = ["LOGIN"]
        if self.implicit:  # the whole connection is TLS; aiosmtpd only knows STARTTLS as "TLS"
            options.update(ssl_context=self.context, auth_require_tls=False)
        else:
            options.update(tls_context=self.context, require_starttls=True, auth_require_tls=True)
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port, **options)
        self.controller.start()
        return self


@dataclass
class WebhookReceiver:
    """A real local HTTP server recording every request; status decides what it answers."""

    port: int = field(default_factory=free_port)
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)  # sent with every answer, e.g. Retry-After
    requests: list[dict] = field(default_factory=list)
    server: HttpServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def _handle(self, request: Request) -> Response:
        self.requests.append({"headers": dict(request.headers), "body": request.get_data(), "path": request.path})
        return Response("ok" if self.status < 400 else "no", status=self.status, headers=self.headers)

    def start(self) -> "WebhookReceiver":
        self.server = HttpServer(host="127.0.0.1", port=self.port)
        self.server.expect_request("/hook", method="POST").respond_with_handler(self._handle)
        self.server.start()
        return self

    def stop(self) -> None:
        if self.server is not None and self.server.is_running():
            self.server.clear()
            self.server.stop()
        self.server = None


class Dripping:
    """A receiver that answers a byte at a time, each well within the read timeout, and never finishes:
    after its status line, in its headers (head=True) or in a chunked body of a 200 (head=False)."""

    def __init__(self, head: bool):
        self.head, self.stop = head, threading.Event()
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        connection, _ = self.server.accept()
        with connection:
            connection.recv(65536)
            start = b"HTTP/1.1 200 OK\r\n" + (b"" if self.head else b"Transfer-Encoding: chunked\r\n\r\n")
            connection.sendall(start)
            while not self.stop.wait(0.1):  # five times within the shortest read timeout the tests set (0.5 s)
                with contextlib.suppress(OSError):
                    connection.sendall(b"X" if self.head else b"1\r\nx\r\n")

    def close(self):
        self.stop.set()
        self.server.close()


@contextlib.contextmanager
def dripping_till_hung_up():
    """A receiver that answers a status line, then a header line five times a second, never finishing, and
    notes when the other end hangs up: yields its port and an Event set then."""
    server = socket.create_server(("127.0.0.1", 0))
    hung_up, stop = threading.Event(), threading.Event()

    def drip():
        connection, _ = server.accept()
        with connection:
            connection.recv(65536)
            connection.sendall(b"HTTP/1.1 200 OK\r\n")
            while not stop.wait(0.1):
                try:
                    connection.sendall(b"X-Slow: x\r\n")
                except OSError:  # the tracker hung up
                    hung_up.set()
                    return

    threading.Thread(target=drip, daemon=True).start()
    try:
        yield server.getsockname()[1], hung_up
    finally:
        stop.set()
        server.close()


def send_to_dripping(head: bool, address_of, send, wait: float) -> tuple[object, float]:
    """Send (send(address)) to a Dripping receiver (head: where it drips), in a thread waited for at most wait
    seconds; the transport's outcome (its answer, or the DeliveryError it raised) and how long it took."""
    from tracker.channels import DeliveryError

    receiver, outcome = Dripping(head), []

    def run():
        try:
            outcome.append(send(address_of(receiver.port)))
        except DeliveryError as error:
            outcome.append(error)

    sending = threading.Thread(target=run, daemon=True)
    started = time.monotonic()
    sending.start()
    sending.join(wait)
    receiver.close()
    took = time.monotonic() - started
    assert outcome, f"the sending still ran after {took:.0f} s"
    return outcome[0], took
