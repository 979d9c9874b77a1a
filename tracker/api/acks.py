"""POST /api/v1/acks: a webhook receiver acknowledges with the signed token from the payload."""

from .. import dispatch
from ..db import get_session
from ..http import ratelimit
from ..http.transaction import committed
from ..http.wiring import the_app
from ..services.engine import linkuse
from ..timeutil import utcnow
from . import ERRORS, bp
from .schemas import LinkIn, LinkOut


@bp.post("/acks")
@bp.input(LinkIn, arg_name="data")
@bp.output(LinkOut)
@bp.doc(
    tags=["Incidents"],
    summary="Acknowledge an incident (or confirm a line check) with a signed token from a message",
    responses={
        **{code: ERRORS[code] for code in (409, 415)},
        400: "The body is not valid JSON, or the token is not one of ours as sent (altered, cut short, signed for "
        "another use): the error's code says which (link_invalid for the token)",
        403: "The link was made for a line to the other side, or for a line deactivated since",
        410: "The link has expired",
        429: "Too many token uses from this address; see Retry-After",
    },
)
def use_token(data):
    """No bearer token: the signed, single-use token is the credential.

    The docs page offers no example: the token is made for one message, and only that message holds it (a
    webhook body's `acknowledge.token`, or a check's `confirm.token`): {"token": "<the token from the message>"}."""
    ratelimit.attempt(f"link:address:{ratelimit.address()}", "LINKS_PER_ADDRESS", "token uses from this address")
    session = get_session()
    app = the_app()
    with committed():
        view = linkuse.use_any_link(
            session, dispatch.signer(app), data["token"], utcnow(), dispatch.health_rules(app), dispatch.idle_rules(app)
        )
    return {
        "purpose": view.purpose,
        "reference": view.reference,
        "status": view.status,
        "acknowledged_by": view.acknowledged_by,
    }
