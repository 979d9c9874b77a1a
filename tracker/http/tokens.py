"""Bearer tokens for the API: who is calling, checked under the per-address limit on wrong tokens."""

import logging

from apiflask import HTTPTokenAuth
from sqlalchemy.exc import OperationalError

from ..db import NO_WAIT, get_session, session_scope
from ..models import User
from ..services.accounts import people
from ..timeutil import utcnow
from . import ratelimit
from .wiring import the_app

log = logging.getLogger("tracker.tokens")
token_auth = HTTPTokenAuth(
    scheme="Bearer",
    description="An API token, issued once by `flask --app wsgi token create USERNAME`.",
)


def user_for_token(token: str, record_use: bool = True) -> User | None:
    """The token's active user, in the request's session; an address that sent too many wrong
    tokens is refused (429) before the check, and a wrong token counts against it. A good token's
    "Last used" is written at most once a minute (people.mark_token_used), unless record_use is
    False (a metrics scrape writes nothing)."""
    found = ratelimit.guarded(
        f"token:address:{ratelimit.address()}",
        "TOKEN_FAILURES_PER_ADDRESS",
        "wrong tokens from this address",
        lambda session: _found(session, token),
    )
    if found is None:
        return None
    user_id, token_id, stale = found
    if stale and record_use:  # most requests skip it: their token's last use on record is under a minute old
        _record_use(token_id)
    return get_session().get(User, user_id)


def _record_use(token_id: int) -> None:
    """Write the token's last use in a short unit of work of its own, before the request's session
    begins (the check above only read), if the database lets it at once: a request never waits for
    SQLite's write lock to keep a token's "Last used" (the next use writes it)."""
    try:
        with session_scope(the_app()) as session:
            session.connection(execution_options={NO_WAIT: True})
            people.mark_token_used(session, token_id, utcnow())
    except OperationalError:
        log.info("last use of token %s not recorded: the database was busy", token_id)


def _found(session, token: str) -> tuple[int, int, bool] | None:
    """(user id, token id, whether its last use on record is stale), or None for a wrong token."""
    row = people.token_for(session, token)
    return (row.user_id, row.id, people.needs_last_used(row, utcnow())) if row is not None else None


@token_auth.verify_token
def _verify(token: str | None) -> User | None:
    return user_for_token(token) if token else None
