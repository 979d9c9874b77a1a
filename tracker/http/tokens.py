"""Bearer tokens for the API: who is calling, checked under the per-address limit on wrong tokens."""

import logging

from apiflask import HTTPError, HTTPTokenAuth
from flask import current_app, request
from sqlalchemy.exc import OperationalError

from ..db import NO_WAIT, get_session, session_scope
from ..models import User, config_version
from ..services.accounts import people, throttle
from ..timeutil import utcnow
from . import ratelimit
from .wiring import the_app

log = logging.getLogger("tracker.tokens")
token_auth = HTTPTokenAuth(
    scheme="Bearer",
    description="An API token, issued once by `flask --app wsgi token create USERNAME`.",
)
LIMIT = "TOKEN_FAILURES_PER_ADDRESS"
WHAT = "wrong tokens from this address"


def user_for_token(token: str, record_use: bool = True) -> User | None:
    """The token's active user, in the request's session; a wrong token counts against its address,
    and once the address sent too many, a wrong token is refused (429). A good token is never refused
    for its address: one script with an old token behind an office's shared address locked every desk's
    integrations out for the window, and a token of 32 random bytes is not found by guessing, limited
    or not. A good token's "Last used" is
    written at most once a minute (people.mark_token_used), unless record_use is False (a metrics
    scrape writes nothing).

    The count, the token and its user are read in one statement of the request's own session; only
    a wrong token (counted) and a stale "Last used" (written) take a transaction of their own, after
    the request's session has given back what it began (rate-limit bookkeeping never runs inside it:
    see tracker.http.ratelimit)."""
    key = f"token:address:{ratelimit.address()}"
    limit, window = current_app.config[LIMIT], current_app.config["RATE_LIMIT_WINDOW_SECONDS"]
    now = utcnow()
    session = get_session()
    check = people.check_token(session, token, throttle.count_parameters(key, window, now))
    if check.user is None or check.token_id is None:
        session.rollback()
        throttle.refuse_over(check.attempts, limit, window, now, WHAT)  # over the limit: 429, not counted
        ratelimit.count_failure(key, LIMIT, now)
        return None
    if record_use and people.needs_last_used(check.last_used_at, now):
        session.rollback()  # the user is read again, in the request's new transaction, when next used
        _record_use(check.token_id)
    else:
        config_version.remember(session, check.config_stamp)  # a filing's routing reads no stamp of its own
    return check.user


def _record_use(token_id: int) -> None:
    """Write the token's last use in a short unit of work of its own, before the request's session
    begins its work, if the database lets it at once: a request never waits for SQLite's write lock
    to keep a token's "Last used" (the next use writes it)."""
    try:
        with session_scope(the_app()) as session:
            session.connection(execution_options={NO_WAIT: True})
            people.mark_token_used(session, token_id, utcnow())
    except OperationalError:
        log.info("last use of token %s not recorded: the database was busy", token_id)


@token_auth.verify_token
def _verify(token: str | None) -> User | None:
    return user_for_token(token) if token else None


@token_auth.error_processor
def _refused(error: HTTPError):
    """Say what was wrong with the credentials and what to do, not a bare "Unauthorized"."""
    if error.status_code != 401:
        return current_app.error_callback(error)  # type: ignore[attr-defined]
    scheme, _, token = request.headers.get("Authorization", "").strip().partition(" ")
    if not scheme:
        message, problem = "send your API token as Authorization: Bearer <token>", "missing"
    elif scheme.lower() != "bearer" or not token.strip():
        message, problem = "send your API token as Authorization: Bearer <token>", "not a bearer token"
    else:
        message = "the API token is not valid (unknown, revoked, or its user deactivated): ask an admin for a new one"
        problem = "not a valid token"
    refusal = HTTPError(401, message, {"Authorization": problem}, error.headers)
    return current_app.error_callback(refusal)  # type: ignore[attr-defined]
