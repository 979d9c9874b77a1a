"""Rate limits for sign-in and for everything that takes a token, per address and per account.

Counted in the database (services/throttle), so all web workers share one count. Over the limit,
the answer is 429 with Retry-After: the JSON envelope on the API, the error page on pages.
Behind a reverse proxy set PROXY_FIX_X_FOR so the client's address, not the proxy's, is counted.
"""

from flask import current_app, request

from .db import get_session
from .services.accounts import throttle
from .timeutil import utcnow


def address() -> str:
    return request.remote_addr or "unknown"


def _settings(limit_name: str) -> tuple[int, int]:
    return current_app.config[limit_name], current_app.config["RATE_LIMIT_WINDOW_SECONDS"]


def attempt(key: str, limit_name: str, what: str) -> None:
    """Refuse when key is over its limit, else count this attempt (committed at once)."""
    limit, window = _settings(limit_name)
    session, now = get_session(), utcnow()
    throttle.refuse_if_over(session, key, limit, window, now, what)
    throttle.hit(session, key, window, now)
    session.commit()


def refuse_if_over(key: str, limit_name: str, what: str) -> None:
    limit, window = _settings(limit_name)
    throttle.refuse_if_over(get_session(), key, limit, window, utcnow(), what)


def failed(key: str) -> None:
    """Count a failure for key (committed at once)."""
    _limit, window = _settings("TOKEN_FAILURES_PER_ADDRESS")
    session = get_session()
    throttle.hit(session, key, window, utcnow())
    session.commit()
