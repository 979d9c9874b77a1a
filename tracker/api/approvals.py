"""Four eyes over the API: our drafts to the other side are edited, approved by a second person, then
sent; GET /approvals lists what waits for the caller's approval (texts and summaries)."""

from apiflask import Schema, fields

from ..db import get_session
from ..errors import Conflict
from ..http import wiring
from ..http.access import caller, requires
from ..http.tokens import token_auth
from ..http.transaction import committed, transactional
from ..models.permissions import Permission
from ..services.exchanges import counterpart, exchanges, four_eyes, summaries
from ..timeutil import utcnow
from . import ERRORS, bp
from .exchange_schemas import (
    ExchangeMessageApproveIn,
    ExchangeMessageEditIn,
    ExchangeMessageOut,
    ExchangeMessageSendIn,
)
from .summaries import SummaryOut

TAGS = ["Exchanges"]
READ = {code: ERRORS[code] for code in (403, 404)}
WRITE = {code: ERRORS[code] for code in (400, 403, 404, 409, 415)}


class WaitingMessageOut(ExchangeMessageOut):
    incident = fields.String(attribute="exchange.incident.reference", metadata={"examples": ["INC-2026-00042"]})
    counterpart = fields.String(attribute="exchange.channel.counterpart", allow_none=True)


class WaitingSummaryOut(SummaryOut):
    """SummaryOut as nested in ApprovalsOut (a class of its own: see schemas.TimelineEntryOut)."""


class ApprovalsOut(Schema):
    messages = fields.List(fields.Nested(WaitingMessageOut), metadata={"description": "texts, oldest first"})
    summaries = fields.List(fields.Nested(WaitingSummaryOut), metadata={"description": "summaries, oldest first"})


@bp.get("/approvals")
@bp.auth_required(token_auth)
@bp.output(ApprovalsOut)
@bp.doc(tags=TAGS, summary="What waits for your approval before it goes to the other side", responses=READ)
def waiting_for_approval():
    """Drafts (and texts whose incident changed since approval) you may approve: not your own, on lines
    you serve unless you approve on any line. Empty for those who may approve nothing."""
    session, me = get_session(), caller()
    return {"messages": counterpart.waiting(session, me), "summaries": summaries.waiting(session, me)}


# The docs page's "Try it out" examples, which work as they are on the notice drafted by the exchange's own
# example (version 1): reworded by its drafter (2), approved by a second person (3), sent.
EDIT_EXAMPLE = {"text": "A drone of yours crossed the line at 1405Z and returned after 4 minutes.", "version": 1}
APPROVE_EXAMPLE = {"version": 2}
SEND_EXAMPLE = {"version": 3}


@bp.patch("/exchange-messages/<int:message_id>")
@bp.auth_required(token_auth)
@requires(Permission.EXCHANGES_TALK)
@bp.input(ExchangeMessageEditIn, arg_name="data", example=EDIT_EXAMPLE)
@bp.output(ExchangeMessageOut)
@bp.doc(tags=TAGS, summary="Reword a draft (or an approved text) to the other side", responses=WRITE)
@transactional
def edit_message(message_id, data):
    """The text is a draft again and needs a second person's approval; you become one of its authors
    (who may not approve it). "text_second": null removes its translation. 409 when it changed since you
    read it or was sent; 422 for content that is not releasable."""
    session = get_session()
    message = counterpart.get_message(session, message_id)
    texts = (data.get("text"), data.get("text_second"))
    removed = "text_second" in data and data["text_second"] is None  # null, not left out: take it away
    return counterpart.edit(session, message, *texts, data["version"], caller(), utcnow(), remove_second=removed)


@bp.post("/exchange-messages/<int:message_id>/approve")
@bp.auth_required(token_auth)
@requires(Permission.EXCHANGES_APPROVE)
@bp.input(ExchangeMessageApproveIn, arg_name="data", example=APPROVE_EXAMPLE)
@bp.output(ExchangeMessageOut)
@bp.doc(tags=TAGS, summary="Approve a text to the other side (a second person)", responses=WRITE)
@transactional
def approve_message(message_id, data):
    """403 "an author of the text (its drafter, or whoever changed its wording) cannot approve it: a second person
    must" for its drafter or last editor; supervisors and admins approve on any line, liaison officers on the
    lines they serve. Records who and when on the timeline, and the incident's facts the approval covers."""
    session = get_session()
    message = counterpart.get_message(session, message_id)
    return counterpart.approve(session, message, caller(), utcnow(), data["version"])


@bp.post("/exchange-messages/<int:message_id>/send")
@bp.auth_required(token_auth)
@requires(Permission.EXCHANGES_TALK)
@bp.input(ExchangeMessageSendIn, arg_name="data", example=SEND_EXAMPLE)
@bp.output(ExchangeMessageOut)
@bp.doc(tags=TAGS, summary="Send an approved text over its counterpart line", responses=WRITE)
def send_message(message_id, data):
    """Anyone who may act on the exchange (its drafter too). Moves the exchange to the state the text
    carries (pending_state), then releases it: serial, agreement, receipt clock. 409 "the incident changed
    since approval: approve it again" when the incident's facts changed since approval (the text is then a
    draft again; that change is kept); 409 when it is not approved; 422 when no longer releasable."""
    session = get_session()
    with committed():
        message = counterpart.get_message(session, message_id)
        withdrawn = exchanges.withdraw_stale_approval(session, message, caller(), utcnow())
    if withdrawn:
        raise Conflict(four_eyes.STALE, {"status": message.status.value, "version": message.version})
    with committed():
        message = counterpart.get_message(session, message_id)
        settings = wiring.outgoing_settings()
        exchanges.send_message(session, message, caller(), utcnow(), settings, data.get("version"))
    return message
