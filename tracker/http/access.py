"""The one permission decorator, for API routes and pages alike: the caller must hold the
permission in tracker.models.permissions.GRANTS. On the API the caller is the bearer token's user
(put @bp.auth_required(token_auth) above it); on pages the signed-in user, and someone not signed
in goes to the sign-in page."""

from collections.abc import Callable
from functools import wraps
from typing import Any

import flask_login
from flask import current_app

from ..db import get_session
from ..errors import Forbidden, Unauthorized
from ..models import User, config_log
from ..models.permissions import Permission, holders, may
from .errors import wants_html
from .tokens import token_auth


def current_principal() -> User | None:
    """The caller: the signed-in user on pages, the bearer token's user on the API."""
    if wants_html():
        user = flask_login.current_user
        return user._get_current_object() if user.is_authenticated else None
    return token_auth.current_user


def caller() -> User:
    """The caller of a route that requires sign-in or a token (401 if there is none)."""
    user = current_principal()
    if user is None:
        raise Unauthorized("sign in or send a valid bearer token")
    return user


def requires(permission: Permission) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Refuse (403) a caller whose role does not hold permission; the view records which it needs."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            user = current_principal()
            if user is None:
                if not wants_html():
                    raise Unauthorized("send a valid bearer token")
                return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
            if not may(user.role, permission):
                raise Forbidden(
                    f"{user.username} ({user.role.label}) may not do this",
                    {"needs": permission.value, "allowed_roles": [role.value for role in holders(permission)]},
                )
            # Whom the request's changes of configuration are recorded as made by (models.config_log).
            get_session().info[config_log.ACTOR] = user.username
            return view(*args, **kwargs)

        wrapper.permission = permission  # type: ignore[attr-defined]  # read by the authorization matrix test
        return wrapper

    return decorate
