"""Webhooks: an HTTP POST of a JSON payload, signed with HMAC-SHA256 over the timestamp and body."""

import contextlib
import hashlib
import hmac
import json
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from . import DeliveryError, Message, within

SIGNATURE_HEADER = "X-Tracker-Signature"
# The answers below 500 that another try may get past (Request Timeout, Too Many Requests).
TRANSIENT_CLIENT_ERRORS = (408, 429)
# The answers from 500 up that every try gets alike: the receiver does not do POST or what it needs (501 Not
# Implemented), or not our version of HTTP (505); RFC 9110 15.6.2 and 15.6.6. The others may pass.
PERMANENT_SERVER_ERRORS = (501, 505)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header value: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>." + body>."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


@dataclass(frozen=True)
class WebhookTransport:
    connect_timeout: float
    read_timeout: float
    proxy: str = ""  # WEBHOOK_PROXY: the http(s) proxy webhooks go through; empty: none (never the environment's)
    name: str = "webhook"

    def unavailable(self) -> str | None:
        return None

    def check_address(self, address: str) -> str | None:
        try:
            parts = urlsplit(address)
        except ValueError:  # "http://[::1/hook": an IPv6 host's bracket not closed
            return "an http:// or https:// URL (an IPv6 host in brackets, closed)"
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return "an http:// or https:// URL"
        import requests

        try:  # as send will prepare it: a port past 65535 or not a number, a space in the host, no host
            requests.Request("POST", address).prepare()
        except (requests.RequestException, ValueError):
            return "an http:// or https:// URL with a host, and a port of 1-65535 if one is given"
        return None

    def send(self, message: Message) -> str | None:
        if not message.secret:
            raise DeliveryError("the channel has no signing secret", transient=False)
        body = json.dumps(message.payload, separators=(",", ":"), sort_keys=True).encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "tracker-webhook/1",
            "Idempotency-Key": message.key,
            "X-Tracker-Event": message.event,
            SIGNATURE_HEADER: sign(message.secret, int(time.time()), body),
        }
        import requests  # on first send, as Apprise: a process that sends nothing never loads it

        from .hangup import Line

        # Only the status of a 2xx is read, and the start of an error's body: a huge answer is never held.
        line = Line()
        try:
            code, text, wait = within(
                self.connect_timeout + self.read_timeout,
                lambda: self._post(line.session(requests, self.proxy), message.address, body, headers),
            )
        except DeliveryError:  # its answer cut at the timeouts: hang up, or its thread reads on while it drips
            line.hang_up()
            raise
        except requests.RequestException as exc:
            # An address no request can be made to (saved before check_address refused it) stays so: given up at once.
            unusable = isinstance(exc, requests.exceptions.InvalidURL | requests.exceptions.MissingSchema)
            raise DeliveryError(
                f"{type(exc).__name__}: {_withheld(str(exc), message.address)}", transient=not unusable
            ) from exc
        if 200 <= code < 300:
            return str(code)
        # 408: the receiver gave up waiting for our request (RFC 9110 15.5.9: it may be repeated); 429: rate limited.
        # Any other 4xx (404, 413 a body too large, ...) is the same at every try, as are 501 and 505.
        transient = code in TRANSIENT_CLIENT_ERRORS or (code >= 500 and code not in PERMANENT_SERVER_ERRORS)
        # Kept on the message and logged: many servers quote the path they were sent to ("Cannot POST /...").
        said = _withheld(text, message.address)[:ERROR_TEXT_CHARACTERS]
        raise DeliveryError(
            f"HTTP {code} {said}", transient=transient, code=str(code), retry_after=wait if transient else None
        )

    def _post(self, session, address: str, body: bytes, headers: dict) -> tuple[int, str, float | None]:
        """POST with the session: the status code, the start of an error's body, and the seconds its
        Retry-After asks for."""
        with (
            session,
            session.post(
                address,
                data=body,
                headers=headers,
                allow_redirects=False,
                timeout=(self.connect_timeout, self.read_timeout),
                stream=True,  # the body is not read, beyond the start of an error's
            ) as response,
        ):
            text, wait = "", None
            if not 200 <= response.status_code < 300:
                start = response.raw.read(ERROR_TEXT_BYTES, decode_content=True) or b""
                text = start.decode(response.encoding or "utf-8", errors="replace")
                wait = retry_after(response.headers.get("Retry-After"))
            return response.status_code, text, wait


def retry_after(value: str | None) -> float | None:
    """The seconds a Retry-After header asks for (delta-seconds or an HTTP date, RFC 9110 10.2.3), or None."""
    value = (value or "").strip()
    if re.fullmatch(r"[0-9]{1,10}", value):
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):  # absent, or neither form
        return None
    when = when if when.tzinfo else when.replace(tzinfo=UTC)  # "-0000": UTC, as HTTP dates are
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


# How much of an error answer's body is read, and how much of it (the hook's address withheld) is kept on the message.
ERROR_TEXT_BYTES = 800
ERROR_TEXT_CHARACTERS = 200


def _withheld(text: str, address: str) -> str:
    """text without the address's path and query, which requests' errors quote ("Max retries exceeded with
    url: /services/T0/B0/XXXX"): many hooks keep their secret there, and the error is kept on the message
    (read by every token holder) and logged. requests rewrites a URL before it is quoted (%7e becomes ~,
    a space %20), so both spellings go, and whatever follows "url: ". The host stays: it is what a desk
    needs to see the fault."""
    import requests

    spellings = [address]
    with contextlib.suppress(requests.RequestException, ValueError):
        spellings.append(requests.Request("POST", address).prepare().url or "")
    quoted = set()
    for url in spellings:
        try:
            parts = urlsplit(url)
        except ValueError:  # "http://[::1/hook" (a bracket not closed): withheld whole, as nothing tells its path
            quoted.add(url)
            continue
        quoted |= {url, parts.path + (f"?{parts.query}" if parts.query else ""), parts.path, parts.query}
    for part in sorted(quoted - {"", "/"}, key=len, reverse=True):
        text = text.replace(part, "/[path withheld]")
    return _AFTER_URL.sub(r"\1/[path withheld]", text)


_AFTER_URL = re.compile(r"(\burl: )(?!/\[path withheld\])\S+")
