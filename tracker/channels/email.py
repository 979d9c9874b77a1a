"""E-mail over SMTP (standard library smtplib): STARTTLS or implicit TLS, optional login."""

import os
import smtplib
import ssl
from dataclasses import dataclass
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from functools import lru_cache
from typing import Any

from ..text import one_line
from . import DeliveryError, Message, within
from .hangup import Line


def compose(message: Message, sender: str) -> EmailMessage:
    """Build the MIME message: plain text and HTML, threaded by Message-ID and In-Reply-To.

    The recipient's name is a display name built by the standard library (headerregistry.Address
    quotes and escapes it), never pasted into the header: a channel named 'Ops, "x" <x@evil>' is
    one recipient, not two. Line breaks in a name or subject are spaces (names refuse them since,
    but a channel saved before must still get its messages). Raises ValueError or HeaderParseError
    for an address that is not one.
    """
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = recipient(message)
    mail["Subject"] = one_line(message.subject)
    mail["Date"] = formatdate(usegmt=True)
    mail["Message-ID"] = message.message_id
    if message.thread_id:
        mail["In-Reply-To"] = message.thread_id
        mail["References"] = message.thread_id
    mail["X-Tracker-Event"] = message.event
    mail["X-Tracker-Key"] = message.key
    if message.reference:
        mail["X-Tracker-Reference"] = message.reference
    mail.set_content(message.text)
    mail.add_alternative(message.html, subtype="html")
    return mail


def recipient(message: Message) -> Address:
    """The To: of a message: its recipient's name and the line's address, or the file drop's label (an outbox
    line's address may be a label such as "north-desk", which the standard library takes as a mailbox's name
    without a domain, not as an address)."""
    name = one_line(message.recipient)
    if "@" not in message.address:
        return Address(display_name=name, username=message.address, domain="")
    return Address(display_name=name, addr_spec=message.address)


def address_problem(address: str) -> str | None:
    """Why address is not one e-mail address as a channel or a user gives it (None: it is)."""
    _name, mail = parseaddr(address)
    if "@" not in mail or mail != address.strip():
        return "an e-mail address such as desk@example.org"
    try:  # what compose does with it: a local part beyond ASCII (дежурный@...) the standard library cannot address
        Address(addr_spec=mail)
    except (ValueError, HeaderParseError):
        return "an e-mail address whose part before the @ is in ASCII letters, digits and punctuation"
    return None


@dataclass(frozen=True)
class EmailTransport:
    """Send through the deployment's mail relay; the channel's address is the recipient."""

    host: str
    port: int
    security: str  # "starttls", "tls" (implicit) or "none"
    username: str
    password: str
    sender: str
    timeout: float
    ca_file: str = ""  # trust these CAs instead of the system's (a private relay's own CA)
    name: str = "email"

    @classmethod
    def from_config(cls, config) -> "EmailTransport":
        return cls(
            config["SMTP_HOST"],
            int(config["SMTP_PORT"]),
            config["SMTP_SECURITY"],
            config["SMTP_USERNAME"],
            config["SMTP_PASSWORD"],
            config["SMTP_FROM"],
            float(config["SMTP_TIMEOUT_SECONDS"]),
            config["SMTP_CA_FILE"],
        )

    def check_address(self, address: str) -> str | None:
        return address_problem(address)

    def unavailable(self) -> str | None:
        if not self.host.strip():
            return "no mail relay is configured (SMTP_HOST is not set): set it, or choose another transport"
        return None

    def send(self, message: Message) -> str | None:
        if not self.host:
            raise DeliveryError("SMTP_HOST is not configured", transient=False)
        try:
            mail = compose(message, self.sender)
        except (ValueError, HeaderParseError) as exc:  # a retry would build the same message: give up now
            raise DeliveryError(f"cannot address the message: {exc}", transient=False) from exc
        # The whole conversation is cut at the timeout (channels.within), as a webhook's answer is: smtplib's
        # timeout bounds each read, so a relay that answered a byte at a time held the delivery job, and every
        # message after this one on every line, for as long as it went on. Cut, it is hung up on.
        line = Line()
        try:
            refused = within(self.timeout, lambda: self._converse(mail, message.address, line))
        except DeliveryError:
            line.hang_up()
            raise
        except smtplib.SMTPRecipientsRefused as exc:
            code = min(c for c, _ in exc.recipients.values())
            raise DeliveryError(f"recipient refused: {exc.recipients}", transient=code < 500, code=str(code)) from exc
        except smtplib.SMTPNotSupportedError as exc:  # a capability _converse did not ask about by name
            raise DeliveryError(f"{self._relay()} {exc} (no retry gives it that)", transient=False) from exc
        except smtplib.SMTPResponseException as exc:
            detail = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else exc.smtp_error
            raise DeliveryError(
                f"SMTP {exc.smtp_code} {detail}", transient=exc.smtp_code < 500, code=str(exc.smtp_code)
            ) from exc
        except ssl.SSLCertVerificationError as exc:  # the relay's certificate or our CA file: no retry mends either
            raise DeliveryError(
                f"{self._relay()} has a certificate that failed verification ({exc.verify_message or exc}): "
                "renew the relay's certificate, or name its CA in SMTP_CA_FILE (no retry gives it that)",
                transient=False,
            ) from exc
        except (TimeoutError, smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"{type(exc).__name__}: {exc}", transient=True) from exc
        if refused:
            raise DeliveryError(f"recipient refused: {refused}", transient=False)
        return "250"

    def _converse(self, mail: EmailMessage, address: str, line: Line) -> dict:
        """Hand the relay the message; what it refused of its recipients."""
        smtp = self._connect(line)
        try:
            sender = parseaddr(self.sender)[1]
            self._require(smtp, "auth", bool(self.username), "a login, which SMTP_USERNAME asks for")
            if self.username:
                smtp.login(self.username, self.password)
            international = not f"{sender}{address}".isascii()
            self._require(smtp, "smtputf8", international, f"an address beyond ASCII ({address} from {sender})")
            return smtp.send_message(mail, from_addr=sender, to_addrs=[address])
        finally:
            _close(smtp)

    def _connect(self, line: Line) -> smtplib.SMTP:
        if self.security == "tls":
            return _SecureRelay(line, self.host, self.port, timeout=self.timeout, context=tls_context(self.ca_file))
        smtp = _PlainRelay(line, self.host, self.port, timeout=self.timeout)
        if self.security == "starttls":
            try:
                self._require(smtp, "starttls", True, 'TLS, which SMTP_SECURITY = "starttls" asks for')
                smtp.starttls(context=tls_context(self.ca_file))
            except BaseException:
                smtp.close()
                raise
        return smtp

    def _require(self, smtp: smtplib.SMTP, extension: str, needed: bool, what: str) -> None:
        """Give up on the message for good when the relay does not offer an extension it needs: that is the
        relay's configuration, or ours, and trying again only spends the retries (smtplib raised
        SMTPNotSupportedError, which was retried as an outage until the message was dead-lettered)."""
        if not needed:
            return
        smtp.ehlo_or_helo_if_needed()
        if not smtp.has_extn(extension):
            raise DeliveryError(
                f"{self._relay()} does not offer {extension.upper()}, needed for {what}: "
                "configure the relay to offer it, or name one that does (no retry gives it that)",
                transient=False,
            )

    def _relay(self) -> str:
        return f"the mail relay {self.host}:{self.port}"


def tls_context(ca_file: str) -> ssl.SSLContext:
    """The context that checks the relay's certificate against ca_file (the system's store when empty).

    Loading a store costs some 20 ms of CPU, and a context was made for every message, even one sent
    without TLS. One is made for each CA file as it stands on disk (its modification time and size),
    so a file replaced by a renewed CA is read again at the next message. Raises OSError for a file
    that is gone (a failure to send, retried)."""
    if not ca_file:
        return _context("", None)
    state = os.stat(ca_file)
    return _context(ca_file, (state.st_mtime_ns, state.st_size))


@lru_cache(maxsize=8)
def _context(ca_file: str, _state: tuple[int, int] | None) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=ca_file or None)


@dataclass(frozen=True)
class _Relay:
    """A conversation with the relay as hangup.Line hangs it up: its socket as it is then (STARTTLS replaces it)."""

    smtp: smtplib.SMTP

    def shutdown(self, how: int) -> None:
        if self.smtp.sock is not None:
            self.smtp.sock.shutdown(how)


class _Reporting:
    """A relay's conversation that reports itself to a line as it opens it (before the greeting, which may drip),
    through the hook smtplib's own SMTP_SSL opens its socket by."""

    def __init__(self, line: Line, *args: Any, **kwargs: Any) -> None:
        self.line = line
        super().__init__(*args, **kwargs)

    def _get_socket(self, host: Any, port: Any, timeout: Any) -> Any:
        self.line.opened(_Relay(self))  # type: ignore[arg-type]  # mixed into smtplib.SMTP below
        return super()._get_socket(host, port, timeout)  # type: ignore[misc]  # private in typeshed


class _PlainRelay(_Reporting, smtplib.SMTP):
    pass


class _SecureRelay(_Reporting, smtplib.SMTP_SSL):
    pass


def _close(smtp: smtplib.SMTP) -> None:
    """Say QUIT and hang up. The relay took the message or refused it before this: whatever it answers
    QUIT (a relay closing down says 421) changes neither, so it is not an error (`with smtp` raised it)."""
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()
