"""Hang up on a receiver whose answer was cut (channels.within): the sending thread, left to end by itself,
would otherwise go on reading for as long as the receiver kept dripping bytes, one thread and one connection
more for every message sent to it.

requests offers no handle on the socket of a request under way, nor a deadline for a whole answer (its read
timeout bounds each read), so each sending gets its own session whose urllib3 connections report their
sockets here; shutting one down wakes the thread blocked reading it, a connection to the proxy (WEBHOOK_PROXY)
too. The e-mail transport hangs up on its relay the same way (channels.email).

Apprise makes its own requests, with requests' module functions (requests.post ...), each of which makes a
session of its own, in a worker thread of its pool that runs in a copy of the caller's context: while a
sending is under way (Line.sessions, a context variable), every session made in its context is that
sending's as the webhook's is (requests.Session's start is wrapped once, for this).
"""

import contextlib
import contextvars
import os
import socket
import threading
from collections.abc import Iterator
from typing import Any

from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool


class Line:
    """The sockets one sending opened, hung up at once when it is abandoned (also one opened after)."""

    def __init__(self) -> None:
        self._sockets: list[socket.socket] = []
        self._abandoned = False
        self._lock = threading.Lock()

    def opened(self, sock: Any) -> None:
        with self._lock:
            self._sockets.append(sock)
            abandoned = self._abandoned
        if abandoned:
            _shut(sock)

    def hang_up(self) -> None:
        with self._lock:
            self._abandoned = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shut(sock)

    def session(self, requests: Any, proxy: str = "") -> Any:
        """A requests session whose connections report their sockets to this line, going through proxy (an http
        or https URL; empty: straight to the receiver). Nothing is taken from the environment but the CA bundle
        requests reads there (REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE): an HTTP(S)_PROXY or ALL_PROXY set for other
        programs sent our alerts, and the hook's secret path, through a proxy nobody chose for them, and a
        ~/.netrc entry for the receiver's host added its credentials to every request."""
        session = requests.Session()
        self._configure(session, requests, proxy)
        return session

    @contextlib.contextmanager
    def sessions(self, requests: Any, proxy: str = "") -> Iterator[None]:
        """While in this block, every requests session made in this context (Apprise's, made by requests.post and
        the like, in its pool's threads too) is this line's, as `session` makes one: no proxy but proxy, nothing
        from the environment, its sockets hung up with the line."""
        _wrap_sessions(requests)
        token = _SENDING.set((self, proxy))
        try:
            yield
        finally:
            _SENDING.reset(token)

    def _configure(self, session: Any, requests: Any, proxy: str) -> None:
        line = self

        class Plain(HTTPConnection):
            def connect(self) -> None:
                super().connect()
                line.opened(self.sock)

        class Secure(HTTPSConnection):
            def connect(self) -> None:
                super().connect()
                line.opened(self.sock)

        class PlainPool(HTTPConnectionPool):
            ConnectionCls = Plain

        class SecurePool(HTTPSConnectionPool):
            ConnectionCls = Secure

        pools = {"http": PlainPool, "https": SecurePool}

        class Adapter(requests.adapters.HTTPAdapter):
            def proxy_manager_for(self, proxy: str, **options: Any) -> Any:
                manager = super().proxy_manager_for(proxy, **options)
                manager.pool_classes_by_scheme = pools  # the proxy's connections are this line's too
                return manager

        session.trust_env = False
        session.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
        session.proxies = {"http": proxy, "https": proxy} if proxy else {}
        adapter = Adapter()
        adapter.poolmanager.pool_classes_by_scheme = pools
        session.mount("http://", adapter)
        session.mount("https://", adapter)


# The sending under way in this context, if any: (its line, its proxy).
_SENDING: contextvars.ContextVar[tuple[Line, str] | None] = contextvars.ContextVar("sending", default=None)


def _wrap_sessions(requests: Any) -> None:
    """Make each requests session started in a context with a sending under way that sending's (once a process)."""
    start = requests.Session.__init__
    if getattr(start, "joins_the_sending", False):
        return

    def __init__(session: Any, *args: Any, **kwargs: Any) -> None:
        start(session, *args, **kwargs)
        sending = _SENDING.get()
        if sending is not None:
            line, proxy = sending
            line._configure(session, requests, proxy)

    __init__.joins_the_sending = True  # type: ignore[attr-defined]
    requests.Session.__init__ = __init__


def _shut(sock: Any) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
