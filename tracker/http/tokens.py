"""Bearer tokens for the API: who is calling, checked under the per-address limit on wrong tokens."""

from apiflask import HTTPTokenAuth

from ..db import get_session
from ..models import User
from ..services.accounts import people
from . import ratelimit

token_auth = HTTPTokenAuth(
    scheme="Bearer",
    description="An API token, issued once by `flask --app wsgi token create USERNAME`.",
)


def user_for_token(token: str) -> User | None:
    """The token's active user, in the request's session; an address that sent too many wrong
    tokens is refused (429) before the check, and a wrong token counts against it."""
    user_id = ratelimit.guarded(
        f"token:address:{ratelimit.address()}",
        "TOKEN_FAILURES_PER_ADDRESS",
        "wrong tokens from this address",
        lambda session: _user_id(session, token),
    )
    return get_session().get(User, user_id) if user_id is not None else None


def _user_id(session, token: str) -> int | None:
    user = people.user_for_token(session, token)
    return user.id if user is not None else None


@token_auth.verify_token
def _verify(token: str | None) -> User | None:
    return user_for_token(token) if token else None
