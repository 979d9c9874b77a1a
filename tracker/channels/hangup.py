"""Hang up on a receiver whose answer was cut (channels.within): the sending thread, left to end by itself,
would otherwise go on reading for as long as the receiver kept dripping bytes, one thread and one connection
more for every message sent to it.

requests offers no handle on the socket of a request under way, nor a deadline for a whole answer (its read
timeout bounds each read), so each sending gets its own session whose urllib3 connections report their
sockets here; shutting one down wakes the thread blocked reading it, a connection to the proxy (WEBHOOK_PROXY)
too. The e-mail transport hangs up on its relay the same way (channels.email).
"""

import contextlib
import os
import socket
import threading
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

        session = requests.Session()
        session.trust_env = False
        session.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
        if proxy:
            session.proxies = {"http": proxy, "https": proxy}
        adapter = Adapter()
        adapter.poolmanager.pool_classes_by_scheme = pools
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        return session


def _shut(sock: Any) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
