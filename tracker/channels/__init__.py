"""Transports to contact channels, behind one small interface. Connect only when sending."""

import ipaddress
import re
import socket
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar
from urllib.parse import unquote, urlsplit

from ..text import masked, one_line, visible

T = TypeVar("T")


@dataclass(frozen=True)
class Message:
    """One message, ready for any transport."""

    key: str  # stable per message: the idempotency key webhook receivers can de-duplicate on
    event: str  # e.g. incident.escalated, channel.check
    recipient: str
    address: str
    subject: str
    text: str
    html: str
    message_id: str  # RFC 5322 Message-ID
    thread_id: str | None = None  # the Message-ID this one follows up (In-Reply-To, References)
    reference: str | None = None
    payload: dict = field(default_factory=dict)  # the JSON body facts for webhook receivers
    secret: str | None = None  # the channel's webhook signing secret

    def __post_init__(self) -> None:
        # What a reader sees (subject, text, HTML part) shows a bidirectional control as a marker ("[U+202E]"), as
        # the pages do (tracker.text.visible): a narrative kept before inputs refused them, or a row queued then,
        # would read reordered in the mail ("Passed 300 m" for "m 003"). Here, so that every way a message is put
        # together does it; a text to the other side holds none (refused at approval), so it is sent as approved.
        for name in ("subject", "text", "html"):
            object.__setattr__(self, name, visible(getattr(self, name)))


class DeliveryError(Exception):
    """A send failed; transient failures are retried, permanent ones are not."""

    def __init__(self, message: str, transient: bool = True, code: str | None = None, retry_after: float | None = None):
        # One line of text: a peer chooses much of what is said (an error answer's start, a relay's reply), and
        # it is kept on the message (a NUL PostgreSQL refuses, taking the delivery batch down), shown, logged. A
        # receiver refusing a message often quotes it, or the link in it: never a signed link's token kept so.
        super().__init__(masked(one_line(message)))
        self.transient = transient
        self.code = code
        self.retry_after = retry_after  # seconds the peer asked us to wait before trying again (Retry-After)


class Transport(Protocol):
    @property
    def name(self) -> str:
        """The transport's name, as channels store it (read-only: the transports are frozen)."""

    def send(self, message: Message) -> str | None:
        """Deliver the message and return the peer's response code, or raise DeliveryError."""

    def check_address(self, address: str) -> str | None:
        """Return why the address cannot work with this transport, or None when it can."""

    def unavailable(self) -> str | None:
        """Why this deployment cannot send anything over the transport (its configuration lacks what the
        transport needs), or None."""


def within(seconds: float, work: Callable[[], T]) -> T:
    """work's result, or what it raised, if it ends within seconds; else a transient DeliveryError. In a thread
    of its own: a library's timeouts bound each read from the socket, not the answer, so a receiver (on a
    counterpart line, the other side's) that sends a byte at a time held the delivery job, and every message
    after its own on every line, for as long as it liked. The thread is left to end by itself."""
    outcome: list[tuple[bool, Any]] = []

    def run() -> None:
        try:
            outcome.append((True, work()))
        except BaseException as exc:  # handed to the sending thread, which raises it
            outcome.append((False, exc))

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    if not outcome:
        raise DeliveryError(f"no whole answer within {seconds:g} s", transient=True)
    done, value = outcome[0]
    if not done:
        raise value
    return value


# Transports whose address is a credential: a webhook keeps its secret in the path or query (Slack's
# /services/T0/B0/XXXX), an Apprise URL in what follows its scheme (a bot's token, a password).
SECRET_ADDRESSES = ("webhook", "apprise")


def withheld(transport: str, address: str) -> str:
    """The address as someone who may not manage the line reads it: a webhook's scheme and host (what a
    desk needs to tell which hook it is), an Apprise URL's scheme; any other address as it is."""
    if transport not in SECRET_ADDRESSES:
        return address
    try:
        parts = urlsplit(address)
        scheme, host, port = parts.scheme, parts.hostname or "", f":{parts.port}" if parts.port else ""
    except ValueError:  # not a URL, or a port that is not a number (a bot's "id:token" in Apprise's place)
        scheme, host, port = address.partition("://")[0] if "://" in address else "", "", ""
    if transport == "webhook" and scheme and host:
        return f"{scheme}://{host}{port}/[path withheld]"
    return f"{scheme}://[withheld]" if scheme else "[withheld]"


# An e-mail address inside a URL (an Apprise mailto:// or a mail service's URL names its recipients so).
_MAILBOX = re.compile(r"[^\s/?#&=:;,@]+@([^\s/?#&=:;,@]+\.[^\s/?#&=:;,@]+)")
# A mailbox anywhere in a text (an address with a display name, one of a list): its address and its domain.
_NAMED_MAILBOX = re.compile(r"""([^\s<>()\[\]",;:@]+@([^\s<>()\[\]",;:@]+))""")
_DEFAULT_PORTS = {"http": 80, "https": 443}
# Apprise's plain web posts (its JSON, XML and Form services): a request to the server the URL names, as a
# webhook's; the "s" spelling over HTTPS.
_WEB_POSTS = {"json": "http", "xml": "http", "form": "http", "jsons": "https", "xmls": "https", "forms": "https"}


def reaches(address: str | None) -> set[str]:
    """What an address reaches, to tell whether two addresses join our side and the other's: the address
    itself; an e-mail address's domain (a line's, or a user's mailbox); a URL's host and port (the server a
    webhook's every path goes to, or an Apprise json://, xml:// or form:// posts to) and the domain of every
    e-mail address it names (an Apprise mailto://).
    A mail domain also reaches the web server of that name at the standard ports: one party's mail and web
    (eastland@eastland.test, https://eastland.test/ops) are one place. A domain or host is compared in one
    spelling: its IDNA (xn--) form, without the root's final dot."""
    folded = (address or "").strip().casefold()
    if not folded:
        return set()
    if "://" not in folded:
        # Every mailbox the text names, however it is spelled: "ops <hotline@eastland.test>" and a list
        # "hotline@eastland.test,noc@northmark.test" reach each of theirs (saved before lines refused such spellings,
        # they were judged as one address, and an internal line so spelled went to the other side's).
        found = {folded}
        for mailbox, domain in _NAMED_MAILBOX.findall(folded):
            found |= {mailbox, *_mail_domain(domain)}
        _, at, domain = folded.rpartition("@")
        return found | _mail_domain(domain) if at and "/" not in folded else found
    try:
        parts = urlsplit(folded)
    except ValueError:  # "http://[::1" (a bracket not closed): no host to compare
        return {folded}
    # The mailboxes it names after its host (a relay's account before it is no recipient), else the account
    # a mailto:// with no recipient sends to (Apprise: itself).
    named = _MAILBOX.findall(unquote(f"{parts.path}?{parts.query}"))
    if not named and parts.scheme in ("mailto", "mailtos") and "@" in parts.netloc:
        named = [parts.netloc.rpartition("@")[2].partition(":")[0]]
    found = {folded}.union(*(_mail_domain(domain) for domain in named))
    scheme = _WEB_POSTS.get(parts.scheme, parts.scheme)
    try:
        port = parts.port or _DEFAULT_PORTS.get(scheme)
    except ValueError:  # a port that is not a number: a bot's "id:token" in an Apprise URL's place
        return found
    if parts.hostname and scheme in _DEFAULT_PORTS:
        host = _domain(parts.hostname)
        found.add(f"//{host}:{port}")
        if _ip_address(host) is None:
            # A named host is its party's whatever the port: https://eastland.example:8443 is where their mail
            # domain eastland.example is (only the standard ports were, and an internal hook on 8443 took our
            # alerts there). An address is compared with its port: one host may serve both sides' receivers.
            found.add(f"@{host}")
    return found


def joined(mine: set[str], theirs: set[str]) -> bool:
    """Whether two reaches (reaches()) meet: a place both name, or a domain or host of one under one of the
    other's at the same port (noc@mail.eastland.test and hotline@eastland.test; https://www.eastland.test and
    https://eastland.test): a party's domain is theirs with every name under it. Said either way round: a line of
    ours at their parent domain meets theirs too, which a check may refuse that was fine; never the reverse."""
    if mine & theirs:
        return True
    return any(_under(one, other) or _under(other, one) for one in mine for other in theirs)


def _under(inner: str, outer: str) -> bool:
    """Whether inner is a domain (@name) or a host and port (//name:port) under outer's name."""
    if inner.startswith("@") and outer.startswith("@"):
        return _name_under(inner[1:], outer[1:])
    if inner.startswith("//") and outer.startswith("//"):
        inner_host, _, inner_port = inner[2:].rpartition(":")
        outer_host, _, outer_port = outer[2:].rpartition(":")
        return inner_port == outer_port and _name_under(inner_host, outer_host)
    return False


def _name_under(inner: str, outer: str) -> bool:
    """A name under another (mail.eastland.test under eastland.test); an IP address is under nothing, nor has
    anything under it."""
    return bool(outer) and inner.endswith(f".{outer}") and _ip_address(outer) is None and _ip_address(inner) is None


def _mail_domain(domain: str) -> set[str]:
    """What a mail domain reaches: its mailboxes, and its web server at the standard ports."""
    name = _domain(domain)
    return {f"@{name}", *(f"//{name}:{port}" for port in _DEFAULT_PORTS.values())}


def _domain(name: str) -> str:
    """A domain as DNS reads it: "bücher.test." and "xn--bcher-kva.test" are one; an IP address as the resolver
    reads it: "127.1", "0x7f000001", "2130706433" and "::ffff:127.0.0.1" are 127.0.0.1, as the loopback is by any
    address or name (LOOPBACK)."""
    name = name.rstrip(".")
    if (address := _ip_address(name)) is not None:
        return address
    if name == "localhost" or name.endswith(".localhost"):  # the loopback by name (RFC 6761), never looked up
        return LOOPBACK
    try:
        return name.encode("idna").decode("ascii")
    except UnicodeError:  # not a name IDNA can spell (an empty label, one too long): compared as typed
        return name


# This host, however it is named (127.0.0.1, 127.0.0.2, ::1, localhost): one place, where a server listening on
# every address answers each of them.
LOOPBACK = "127.0.0.1"

# What the C library's inet_aton reads as an IPv4 address (a host named so is never looked up by name): dotted
# parts, each decimal, octal (0...) or hexadecimal (0x...), and fewer than four of them ("127.1").
_IPV4_SPELLING = re.compile(r"(?:0x[0-9a-f]*|[0-9]+)(?:\.(?:0x[0-9a-f]*|[0-9]+)){0,3}")


def _ip_address(name: str) -> str | None:
    """An IP address's one spelling (IPv4 dotted decimal, IPv6 compressed, an IPv4-mapped IPv6 address as its
    IPv4 one), or None for a name."""
    try:
        address: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(name)
    except ValueError:
        if not _IPV4_SPELLING.fullmatch(name):
            return None
        try:
            address = ipaddress.IPv4Address(socket.inet_aton(name))
        except OSError:
            return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return LOOPBACK if address.is_loopback else str(address)


def build_transports(config: Mapping[str, Any]) -> dict[str, Transport]:
    """Return the transports this deployment offers, by name."""
    from .apprise import AppriseTransport
    from .email import EmailTransport
    from .filedrop import FileDropTransport
    from .webhook import WebhookTransport

    transports: list[Transport] = [
        FileDropTransport(config["OUTBOX_DIR"], config["SMTP_FROM"]),
        EmailTransport.from_config(config),
        WebhookTransport(
            config["WEBHOOK_CONNECT_TIMEOUT_SECONDS"], config["WEBHOOK_READ_TIMEOUT_SECONDS"], config["WEBHOOK_PROXY"]
        ),
        AppriseTransport(
            config["WEBHOOK_CONNECT_TIMEOUT_SECONDS"] + config["WEBHOOK_READ_TIMEOUT_SECONDS"], config["WEBHOOK_PROXY"]
        ),
    ]
    return {t.name: t for t in transports}
