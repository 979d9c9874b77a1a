"""Admin pages: channels, policies, routing rules and users, on the same services as the API.

Supervisors see the channels and test them; everything else here is for admins. The routes
live in admin_channels, admin_policies, admin_rules and admin_users; this module holds the
blueprint and what they share: running one service call and showing its complaints next to
the form's fields, and secrets shown only once.
"""

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import login_required
from markupsafe import Markup

from ..db import get_session
from ..errors import Conflict, ValidationError
from ..http.transaction import committed
from .bidi import formatted, told

bp = Blueprint("admin", __name__, url_prefix="/admin")


def blueprint() -> Blueprint:
    """The blueprint with every admin page on it."""
    from . import (  # noqa: F401  (routes register on import)
        admin_agreements,
        admin_changes,
        admin_channels,
        admin_check_answers,
        admin_policies,
        admin_rules,
        admin_users,
    )

    return bp


@bp.get("/")
@login_required
def index():
    return redirect(url_for("admin.channels"))


def save(form, change, field_of=None):
    """Run change(session), one service call, and commit; return its result.

    When the service refuses, roll back, put its complaints next to the fields they name
    (field_of maps a detail's key to a field) and return None.
    """
    try:
        with committed():
            return change(get_session())
    except (ValidationError, Conflict) as error:
        show_errors(form, error, field_of or field_named(form))
        return None


def apply_change(change, done: str) -> bool:
    """Run change(session) for a button, commit and flash done; or roll back and flash why not."""
    try:
        with committed():
            change(get_session())
    except (ValidationError, Conflict) as error:
        refused = told(error)
        flash(refused[:1].upper() + refused[1:] + ".", "error")
        return False
    flash(done, "success")
    return True


def field_named(form):
    """Map a service's detail key to the form's field of that name (None: no such field)."""
    return lambda key: form[key] if key in form else None


def show_errors(form, error: ValidationError | Conflict, field_of) -> None:
    """Each detail next to its field (field_of(None) for an error without details); what
    names no field goes above the form."""
    placed = False
    for key, detail in error.details.items() or [(None, None)]:
        field = field_of(key)
        if key == "version" and field is not None:  # saved by someone else since: above the form, not hidden
            said = error.message.split(":")[0]  # "the rule was saved by someone else since you read it (...)"
            form.form_errors.append(f"{said[:1].upper()}{said[1:]}. {SAVED_OVER}")
            field.data = detail  # the version now: saved again, the form puts its facts over theirs, knowingly
            placed = True
        elif field is not None:
            field.errors = [*field.errors, _explain(error, detail)]
            placed = True
    if not placed:
        form.form_errors.append(told(error))


SAVED_OVER = (
    "Nothing was saved; what you typed is below. Open the page again in another tab to see their change, "
    "or save this form again to put yours over it."
)


def _explain(error, detail) -> str | Markup:
    # A ValidationError's details are sentences ("no such users: bob"); a Conflict's are values.
    if isinstance(error, Conflict) or not isinstance(detail, str) or " " not in detail:
        return told(error)
    return detail if len(error.details) > 1 else formatted("{refused}: {detail}", refused=told(error), detail=detail)


def page(template: str, form, **context):
    """Render a form's page: 422 when a submitted form comes back with errors."""
    return render_template(template, form=form, **context), 422 if form.is_submitted() else 200


def shown_once(label: str, text: str) -> dict:
    """A secret (an API token, a signing secret) for the page that answers its creation, and no other: it
    is shown there once and kept nowhere, neither in the session cookie (signed, not encrypted: it crossed
    the network twice in headers a proxy may log) nor on the server. That answer is never cached."""
    return {"label": label, "text": text}
