"""Who may see a page: sign-in and the same roles as the API."""

from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from ..models import Role

FILERS = (Role.DUTY_OFFICER, Role.SUPERVISOR, Role.ADMIN)
ADMINS = (Role.ADMIN,)


def roles_required(*roles: Role):
    """Signed in, and with one of the roles (403 otherwise)."""

    def decorate(view):
        @wraps(view)
        @login_required
        def wrapper(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorate
