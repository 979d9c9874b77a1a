"""Exchange routes: open an exchange with the other side, move it, record messages, list the open ones."""

from flask import url_for

from ..db import get_session
from ..http import wiring
from ..http.access import caller, requires
from ..http.idempotency import idempotent
from ..http.tokens import token_auth
from ..http.transaction import transactional
from ..models.permissions import Permission
from ..services.exchanges import exchanges, our_receipts, receipts
from ..services.incidents import handling
from ..timeutil import utcnow
from . import ERRORS, Created, bp
from .exchange_schemas import (
    ExchangeDetailOut,
    ExchangeMessageIn,
    ExchangeMessageOut,
    ExchangeOpenIn,
    ExchangeOut,
    ExchangeQuery,
    ExchangeTransitionIn,
    OurReceiptIn,
    ReceiptIn,
)

TAGS = ["Exchanges"]
READ = {code: ERRORS[code] for code in (403, 404)}
WRITE = {code: ERRORS[code] for code in (400, 403, 404, 409, 415)}


# The docs page's "Try it out" example, which works on the demo data (line 6 is its counterpart hotline, as in
# the README) once the incident is acknowledged: built from the fields' types, it named line 0.
OPEN_EXAMPLE = {"channel_id": 6, "text": "A drone of yours crossed the line at 1405Z and returned."}
# Then, once the notice is sent (message 1): their receipt given on the phone, our request for an explanation
# (drafted as message 2), their reply (message 3) and our receipt of it. Built from the fields' types, the
# transition named the first state, "notified", where the exchange stands already.
RECEIPT_EXAMPLE = {"by": "Lt Col Orlov, duty officer", "via": "call"}
TRANSITION_EXAMPLE = {"state": "explanation_requested", "text": "Explain the flight of your drone over the line."}
MESSAGE_EXAMPLE = {"direction": "in", "kind": "reply", "text": "A training drone lost its link and returned."}
OUR_RECEIPT_EXAMPLE = {"message_id": 3}


@bp.post("/incidents/<reference>/exchanges")
@bp.auth_required(token_auth)
@requires(Permission.EXCHANGES_TALK)
@bp.input(ExchangeOpenIn, arg_name="data", example=OPEN_EXAMPLE)
@idempotent
@bp.output(ExchangeDetailOut, status_code=201, headers=Created)
@bp.doc(tags=TAGS, summary="Open an exchange with the other side over a counterpart line", responses=WRITE)
@transactional
def open_exchange(reference, data):
    """Only once our own liaison has acknowledged the incident (409 before). A text is drafted as the
    notice (in messages, status draft): it goes out once a second person approved it
    (POST /exchange-messages/<id>/approve) and someone sent it (.../send). Liaison members of a notified
    line or of the counterpart line, supervisors, admins."""
    session = get_session()
    incident = handling.get_incident(session, reference)
    exchange = exchanges.open_exchange(session, incident, data["channel_id"], caller(), utcnow(), data.get("text"))
    return exchange, 201, {"Location": url_for("api.get_exchange", exchange_id=exchange.id)}


@bp.get("/incidents/<reference>/exchanges")
@bp.auth_required(token_auth)
@bp.output(ExchangeDetailOut(many=True))
@bp.doc(tags=TAGS, summary="The incident's exchanges with the other side, with their messages", responses=READ)
def list_for_incident(reference):
    session = get_session()
    return exchanges.for_incident(session, handling.get_incident(session, reference))


@bp.get("/exchanges")
@bp.auth_required(token_auth)
@bp.input(ExchangeQuery, location="query", arg_name="query")
@bp.output(ExchangeOut(many=True))
@bp.doc(tags=TAGS, summary="Exchanges and their clocks, overdue first, then the nearest deadline", responses=READ)
def list_exchanges(query):
    """?open=true lists the open ones, as the board shows them; ?reference= finds the one the other side quotes."""
    return exchanges.listing(get_session(), query.get("open"), reference=query.get("reference"))


@bp.get("/exchanges/<int:exchange_id>")
@bp.auth_required(token_auth)
@bp.output(ExchangeDetailOut)
@bp.doc(tags=TAGS, summary="An exchange: state, clock and every message each way", responses=READ)
def get_exchange(exchange_id):
    return exchanges.get_exchange(get_session(), exchange_id)


@bp.post("/exchanges/<int:exchange_id>/transitions")
@bp.auth_required(token_auth)
@requires(Permission.EXCHANGES_TALK)
@bp.input(ExchangeTransitionIn, arg_name="data", example=TRANSITION_EXAMPLE)
@bp.output(ExchangeDetailOut)
@bp.doc(tags=TAGS, summary="Move an exchange to its next state", responses=WRITE)
@transactional
def transition(exchange_id, data):
    """A state not allowed from here answers 409 with the allowed ones in details.allowed. Requesting
    an explanation or a meeting drafts the text (in messages, status draft, pending_state the state
    asked for): the exchange moves and its clock starts when a second person approved it and someone
    sent it. The rest record what came back and move at once."""
    session = get_session()
    exchange = exchanges.get_exchange(session, exchange_id)
    exchanges.transition(
        session,
        exchange,
        data["state"],
        caller(),
        utcnow(),
        data.get("text"),
        data.get("version"),
        data.get("via"),
    )
    return exchange


@bp.post("/exchanges/<int:exchange_id>/messages")
@bp.auth_required(token_auth)
@requires(Permission.EXCHANGES_TALK)
@bp.input(ExchangeMessageIn, arg_name="data", example=MESSAGE_EXAMPLE)
@idempotent
@bp.output(ExchangeMessageOut, status_code=201)
@bp.doc(tags=TAGS, summary="Draft a message to, or record one from, the other side", responses=WRITE)
@transactional
def record_message(exchange_id, data):
    """A message out is a draft (status draft): it goes out once a second person approved it and
    someone sent it (POST /exchange-messages/<id>/approve, .../send). A message in is on record at once."""
    session = get_session()
    exchange = exchanges.get_exchange(session, exchange_id)
    message = exchanges.record_message(
        session,
        exchange,
        data["direction"],
        data["kind"],
        data["text"],
        caller(),
        utcnow(),
        received_at=data.get("received_at"),
    )
    return message


@bp.get("/exchanges/<int:exchange_id>/messages")
@bp.auth_required(token_auth)
@bp.output(ExchangeMessageOut(many=True))
@bp.doc(tags=TAGS, summary="An exchange's messages each way, with their status (draft, approved, sent)", responses=READ)
def list_messages(exchange_id):
    """Oldest first; our drafts say whether they wait for approval (needs_approval) and who wrote them."""
    return exchanges.get_exchange(get_session(), exchange_id).messages


@bp.post("/exchanges/<int:exchange_id>/messages/<int:message_id>/receipt")
@bp.auth_required(token_auth)
@requires(Permission.EXCHANGES_TALK)
@bp.input(ReceiptIn, arg_name="data", example=RECEIPT_EXAMPLE)
@bp.output(ExchangeMessageOut)
@bp.doc(
    tags=TAGS,
    summary="Log the other side's receipt of a message of ours, given by call, message or voice",
    responses=WRITE,
)
@transactional
def record_receipt(exchange_id, message_id, data):
    """Liaison of the line, supervisors, admins. Moves a notified exchange to receipt_confirmed; 409 when
    the receipt is on record already. Never touches the incident's status, acknowledgement or ladder."""
    session = get_session()
    message = receipts.get_message(session, exchange_id, message_id)
    now = utcnow()  # a receipt given by voice is logged as it is given: its time is now unless back-timed
    return receipts.record(session, message, data.get("at") or now, data["by"], data["via"], caller(), now)


@bp.post("/exchanges/<int:exchange_id>/receipts")
@bp.auth_required(token_auth)
@requires(Permission.EXCHANGES_TALK)
@bp.input(OurReceiptIn, arg_name="data", example=OUR_RECEIPT_EXAMPLE)
@idempotent
@bp.output(ExchangeMessageOut, status_code=201)
@bp.doc(tags=TAGS, summary="Confirm to the other side that their message reached us", responses=WRITE)
@transactional
def confirm_their_message(exchange_id, data):
    """Sends the standard receipt (kind receipt, in English and the line's language, with its serial) at
    once: a formula with no word of ours needs no second person. 404 for a message not on the exchange,
    422 for one of ours or a line language whose catalogue has no receipt text, 409 when our receipt of
    it went out already or the exchange is closed."""
    session = get_session()
    exchange = exchanges.get_exchange(session, exchange_id)
    return our_receipts.confirm(session, exchange, data["message_id"], caller(), utcnow(), wiring.outgoing_settings())
