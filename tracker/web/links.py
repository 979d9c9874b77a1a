"""The one-click links in messages: GET shows what the link will do, only POST does it."""

from flask import Blueprint, current_app, render_template

from .. import dispatch
from ..db import get_session
from ..http import ratelimit
from ..http.transaction import committed
from ..http.wiring import the_app
from ..services.engine import linkuse
from ..services.engine.links import LinkRefused
from ..services.exchanges import receipts
from ..timeutil import utcnow

bp = Blueprint("links", __name__, url_prefix="/links")
PURPOSES = ("ack", "check")


def _limit() -> None:
    # Not a before_request hook: apiflask's spec builder expects those on API blueprints only.
    ratelimit.attempt(f"link:address:{ratelimit.address()}", "LINKS_PER_ADDRESS", "link uses from this address")


# How each refusal looks: a used link (or an incident handled already) is no fault of the reader's, an
# expired one needs a fresh message, anything else is refused outright. Each has its own heading, icon,
# colour class and wording (links/refused.html, static/links.css).
OUTCOMES = {"reused": "used", "handled": "used", "expired": "expired"}
HEADINGS = {
    **receipts.REFUSAL_HEADINGS,
    "handled": "Already handled",
    "counterpart": "This link cannot acknowledge",
    "counterpart_check": "This link cannot confirm the check",
    "inactive": "This line was deactivated",
    "readdressed": "This line's address changed",
    "receipt": "This is a receipt link",
    "unknown_key": "This link was signed with another key",
}


def _refused(purpose: str, refused: LinkRefused, token: str):
    if refused.reason == "invalid":  # a receipt link opened here is told so, as the API tells it
        try:
            linkuse.refuse_receipt(dispatch.signer(current_app), token, utcnow())
        except LinkRefused as receipt:
            refused = receipt
    kind = OUTCOMES.get(refused.reason, "refused")
    heading = HEADINGS.get(refused.reason, "This link is refused")
    page = render_template("links/refused.html", purpose=purpose, refused=refused, kind=kind, heading=heading)
    return page, refused.status


@bp.get("/<any(ack, check):purpose>/<token>")
def confirm(purpose: str, token: str):
    """Show the incident or check and a button; nothing changes on a GET."""
    _limit()
    try:
        view = linkuse.inspect(get_session(), dispatch.signer(current_app), purpose, token, utcnow())
    except LinkRefused as refused:
        return _refused(purpose, refused, token)
    return render_template("links/confirm.html", view=view, token=token)


@bp.post("/<any(ack, check):purpose>/<token>")
def act_on_link(purpose: str, token: str):
    """Acknowledge (or confirm the check) once; every later use is refused."""
    _limit()
    app = the_app()
    signer, rules = dispatch.signer(app), dispatch.health_rules(app)
    try:
        with committed() as session:
            view = linkuse.use_link(session, signer, purpose, token, utcnow(), rules, dispatch.idle_rules(app))
    except LinkRefused as refused:
        return _refused(purpose, refused, token)
    return render_template("links/done.html", view=view)
