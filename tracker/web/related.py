"""Related incidents on the incident page: confirm or dismiss a suggestion, see the pattern."""

from flask import Blueprint
from flask_login import current_user

from ..db import get_session
from ..errors import Forbidden
from ..http.access import requires
from ..models import IncidentLink
from ..models.permissions import Permission
from ..services.incidents import related
from ..timeutil import utcnow
from .acting import act_on_incident

bp = Blueprint("related", __name__, url_prefix="/incidents")


def _decide(reference: str, link_id: int, decide, done: str):
    def said(link: IncidentLink) -> str:
        return f"Link {link.incident.reference} – {link.related.reference} {done}."

    return act_on_incident(
        reference,
        lambda session: decide(session, reference, link_id, current_user._get_current_object(), utcnow()),
        said,
        anchor="related",
    )


@bp.post("/<reference>/related/<int:link_id>/confirm")
@requires(Permission.RELATED_DECIDE)
def confirm(reference: str, link_id: int):
    return _decide(reference, link_id, related.confirm, "confirmed")


@bp.post("/<reference>/related/<int:link_id>/dismiss")
@requires(Permission.RELATED_DECIDE)
def dismiss(reference: str, link_id: int):
    return _decide(reference, link_id, related.dismiss, "dismissed")


@bp.app_template_global()
def related_for(incident) -> dict:
    """What the incident page's related section shows: suggestions, decided links, the pattern,
    and the ids of the suggestions the signed-in user may decide."""
    session = get_session()
    found = related.relations(session, incident)
    return {
        "suggested": [r for r in found if r.link.state.value == "suggested"],
        "decided": [r for r in found if r.link.state.value != "suggested"],
        "pattern": related.pattern(session, incident),
        "decidable": {r.link.id for r in found if _may_decide(session, r.link)},
    }


def _may_decide(session, link) -> bool:
    if link.state.value != "suggested" or not current_user.is_authenticated:
        return False
    try:
        related.ensure_may_decide(session, link, current_user)
    except Forbidden:
        return False
    return True
