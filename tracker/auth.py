"""Who is calling: bearer tokens for the API, and role checks shared by every route."""

from functools import wraps

from apiflask import HTTPTokenAuth

from . import ratelimit
from .db import get_session
from .errors import Forbidden
from .models import Role, User
from .services.accounts import people

token_auth = HTTPTokenAuth(
    scheme="Bearer",
    description="An API token, issued once by `flask --app wsgi token create USERNAME`.",
)


@token_auth.verify_token
def _verify(token: str | None) -> User | None:
    """The token's user; an address that sent too many wrong tokens is refused (429) before the check."""
    if not token:
        return None
    key = f"token:address:{ratelimit.address()}"
    ratelimit.refuse_if_over(key, "TOKEN_FAILURES_PER_ADDRESS", "wrong tokens from this address")
    user = people.user_for_token(get_session(), token)
    if user is None:
        ratelimit.failed(key)
    return user


def current_user() -> User:
    return token_auth.current_user


def require_role(*roles: Role):
    """Refuse (403) a signed-in user whose role is not one of roles."""

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            user = current_user()
            if user.role not in roles:
                raise Forbidden(
                    f"{user.username} ({user.role.value}) may not do this",
                    {"allowed_roles": [r.value for r in roles]},
                )
            return view(*args, **kwargs)

        return wrapper

    return decorate


FILERS = (Role.DUTY_OFFICER, Role.SUPERVISOR, Role.ADMIN)
ADMINS = (Role.ADMIN,)
