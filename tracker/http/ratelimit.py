"""Rate limits for sign-in and for everything that takes a token, per address and per account.

Counted in the database (services.accounts.throttle), so all web workers share one count. Over the
limit the answer is 429 with Retry-After: the JSON envelope on the API, the error page on pages.
Behind a reverse proxy set PROXY_FIX_X_FOR so the client's address, not the proxy's, is counted.

The bookkeeping is a short transaction of its own, committed at once whatever the request does
later, and never the request's session. It runs before the request's session begins: on SQLite a
writing transaction takes the write lock at BEGIN, so a second one opened while a writing request's
is open would wait for itself. Checking a credential that turns out good only reads (no write
lock); only a failure to count, or an attempt that always counts, writes.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TypeVar

from flask import current_app, g, request
from sqlalchemy.orm import Session

from ..db import session_scope
from ..errors import TrackerError
from ..services.accounts import throttle
from ..timeutil import utcnow

T = TypeVar("T")


def address() -> str:
    return request.remote_addr or "unknown"


def _settings(limit_name: str) -> tuple[int, int]:
    return current_app.config[limit_name], current_app.config["RATE_LIMIT_WINDOW_SECONDS"]


@contextmanager
def _own_transaction(reads_only: bool = False) -> Iterator[Session]:
    request_session = g.get("db_session")
    if request_session is not None and request_session.in_transaction():
        raise RuntimeError("rate-limit bookkeeping must run before the request's session begins")
    with session_scope(current_app, reads_only) as session:
        yield session


def attempt(key: str, limit_name: str, what: str) -> None:
    """Count this attempt and refuse it (429, uncounted) when key already spent its limit. Counted
    first, from the count the upsert returns: read first, attempts arriving together each read the
    same count and all got in."""
    limit, window = _settings(limit_name)
    now = utcnow()
    with _own_transaction() as session:
        throttle.refuse_over(throttle.hit(session, key, window, now) - 1, limit, window, now, what)


def count_failure(key: str, limit_name: str, now: datetime) -> None:
    """Count one failed attempt for key, in a transaction of its own."""
    _limit, window = _settings(limit_name)
    with _own_transaction() as session:
        throttle.hit(session, key, window, now)


def guarded(key: str, limit_name: str, what: str, check: Callable[[Session], T | None]) -> T | None:
    """Run check; when it finds nothing (None) or refuses (a TrackerError), refuse (429) if key is over
    its limit, else count the failure and say so (None, or the TrackerError raised again). What check
    finds is never refused for its key's failures, as a good bearer token is not (http.tokens)."""
    limit, window = _settings(limit_name)
    now = utcnow()
    refused: TrackerError | None = None
    with _own_transaction(reads_only=True) as session:
        try:
            found = check(session)
        except TrackerError as error:
            found, refused = None, error
        if found is None:
            throttle.refuse_if_over(session, key, limit, window, now, what)
    if found is None:
        with _own_transaction() as session:
            throttle.hit(session, key, window, now)
    if refused is not None:
        raise refused
    return found
