"""The exchange panel of the incident page, its forms, and the board's list of open exchanges."""

import unicodedata
from datetime import datetime

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from ..db import get_session
from ..http.access import requires
from ..models import ExchangeState, MessageDirection
from ..models.permissions import Permission
from ..services.exchanges import exchanges, moves, releasability
from ..services.incidents import handling
from ..timeutil import format_dtg, parse_recent, utcnow
from .acting import act_on_incident, ask_first, kept_form, page_again
from .base_form import refusal, version_of
from .bidi import said
from .etags import conditional
from .forms import ExchangeActionForm, ExchangeMessageForm, OpenExchangeForm

bp = Blueprint("exchanges", __name__)
REFERENCE_MAX_LENGTH = 40  # Exchange.reference's column
S = ExchangeState
# The button that moves an exchange to each state a person may choose.
ACTIONS = {
    S.RECEIPT_CONFIRMED: "Record receipt confirmed",
    S.EXPLANATION_REQUESTED: "Request explanation",
    S.REPLY_RECEIVED: "Record reply",
    S.MEETING_REQUESTED: "Request meeting",
    S.MEETING_HELD: "Record meeting held",
    S.REFUSED: "Record refusal",
    S.NO_ANSWER: "Mark no answer",
    S.CLOSED: "Close exchange",
}


OPEN = "open-exchange"  # the prefix of the form that opens one (its text is not the comment's "text")


# The kinds "Record a message" offers as it is typed (a kind is a word of its own: another is taken): those that
# move the exchange, each said with what it does, and the plain one. "Reply" typed for "reply" was refused, and
# "answer" was kept as a message that stopped no clock.
MESSAGE_KINDS = [
    *(
        (kind, f"{'from them' if direction is MessageDirection.IN else 'to them'}: {state.value.replace('_', ' ')}")
        for state, (direction, kind) in exchanges.MESSAGE_OF.items()
    ),
    ("message", "either way: moves nothing"),
]


def _prefix(exchange_id: int) -> str:
    return f"exchange-{exchange_id}"


@bp.app_template_global()
def exchange_state(exchange) -> str:
    """The exchange's state in words: "notified" only once a text of ours went (opened with its notice still a
    draft, it said the other side had been told)."""
    if exchange.state is ExchangeState.NOTIFIED and not exchanges.told_any(exchange):
        return "opened, notice not sent yet"
    return exchange.state.value.replace("_", " ")


@bp.app_template_global()
def exchange_panel(incident) -> dict:
    """What the incident page's exchange panel shows and offers to the signed-in person."""
    session = get_session()
    may_act = exchanges.may_act(session, incident, current_user)
    busy = {x.channel_id for x in incident.exchanges if x.is_open}  # one open exchange per line
    lines = [line for line in exchanges.counterpart_lines(session) if line.id not in busy]
    open_form = kept_form(f"{OPEN}-") or OpenExchangeForm(prefix=OPEN)
    open_form.channel_id.choices = [
        SelectChoice(c.id, f"{c.name}{' · ' + c.counterpart if c.counterpart else ''}") for c in lines
    ]
    rows = []
    for exchange in incident.exchanges:
        rows.append(
            {
                "exchange": exchange,
                "may_act": may_act or exchanges.may_act(session, incident, current_user, exchange.channel_id),
                "actions": [(s.value, ACTIONS[s]) for s in exchanges.next_states(exchange)],
                "by_call": _moved_by_call(incident, exchange),
                "form": kept_form(f"{_prefix(exchange.id)}-")
                or ExchangeActionForm(prefix=_prefix(exchange.id), version=exchange.version),
                "message_form": kept_form(f"{_prefix(exchange.id)}-message-")
                or ExchangeMessageForm(prefix=f"{_prefix(exchange.id)}-message"),
            }
        )
    ours = [m.id for x in incident.exchanges for m in x.messages if m.direction is MessageDirection.OUT and m.serial]
    return {
        "rows": rows,
        "withheld": releasability.withheld_texts(session, ours),
        "kinds": MESSAGE_KINDS,
        "lines": lines,
        "may_open": bool(lines) and incident.acknowledged_at is not None and (may_act or _member_of_any(lines)),
        "open_form": open_form,
        # A call is logged on any counterpart line (web/calls.py), with or without an exchange.
        "may_log_call": may_act or _member_of_any(exchanges.counterpart_lines(session)),
    }


def _moved_by_call(incident, exchange) -> dict | None:
    """The timeline's record of the call that moved the exchange to the state it is in, if a call did
    (its last change of state; a receipt or the engine since leaves none): "by call 3, not approved".
    The page has the incident's events loaded; the API reads the same (moves.moved_by_call)."""
    return moves.last_move_by_call(sorted(incident.events, key=lambda e: e.id, reverse=True), exchange)


@bp.app_template_filter("moment")
def moment(text: str | None) -> str:
    """A time stored as ISO 8601 in a timeline event, as staff read it: 14:05:00Z (271405ZNOV26)."""
    if not text:
        return "-"
    at = datetime.fromisoformat(text)
    return f"{at:%H:%M:%S}Z ({format_dtg(at)})"


def _member_of_any(lines) -> bool:
    return any(current_user.id in {u.id for u in line.members} for line in lines)


def _act(reference: str, do, done: str, form, lands):
    """Act, then back to the incident page at what was acted on, where the keyboard's focus lands (static/app.js):
    lands(what do returned) names it. Refused, the incident page again with the form as posted (acting.page_again)."""
    return act_on_incident(reference, do, done, anchor=lands, form=form)


def heading_of(exchange) -> str:
    """The id of the exchange's heading on the panel, its line and the state it is in: where the focus lands once
    it was opened or moved (and where /exchanges/find goes)."""
    return f"exchange-{exchange.id}-heading"


def message_row(message) -> str:
    """The id of a message's row on the panel: where the focus lands once it was recorded, reworded or approved, its
    receipt logged or its text sent."""
    return f"message-{message.id}"


def _drafted(exchange) -> str:
    """The row of the text a move of ours just drafted (its newest message): the next thing to act on, approving it
    (the exchange itself moves once it is sent)."""
    return message_row(max(exchange.messages, key=lambda m: m.id))


def first_problem(form) -> tuple[str | None, str | None]:
    """The first field wrong in a form that did not validate, and what is wrong with it."""
    for name, errors in form.errors.items():
        return name, " ".join(errors) if isinstance(errors, list) else str(errors)
    return None, None


def _me():
    return current_user._get_current_object()


@bp.post("/incidents/<reference>/exchanges")
@requires(Permission.EXCHANGES_TALK)
def open_exchange(reference: str):
    session = get_session()
    incident = handling.get_incident(session, reference)
    form = OpenExchangeForm(prefix=OPEN)
    form.channel_id.choices = [SelectChoice(c.id, c.name) for c in exchanges.counterpart_lines(session)]
    if not form.validate():
        name, _ = first_problem(form)
        said = refusal(form.text) or "Choose an active counterpart line (a notice is at most 8000 characters)."
        return page_again(incident.reference, form, said, name)
    return _act(
        incident.reference,
        lambda s: exchanges.open_exchange(s, incident, form.channel_id.data, _me(), utcnow(), form.text.data),
        "Exchange opened." + (" The notice is a draft: a second person must approve it." if form.text.data else ""),
        form,
        heading_of,
    )


@bp.post("/exchanges/<int:exchange_id>/transition")
@requires(Permission.EXCHANGES_TALK)
def transition(exchange_id: int):
    exchange = exchanges.get_exchange(get_session(), exchange_id)
    reference = exchange.incident.reference
    form = ExchangeActionForm(prefix=_prefix(exchange_id))
    version = version_of(form.version)
    try:
        state = S(form.state.data or "")
    except ValueError:
        state = None
    if not form.validate() or state is None:
        name, problem = first_problem(form)
        return page_again(reference, form, problem or "That is not a state an exchange can take.", name)
    if version is None:  # an altered or cut-short form: taken, it moved an exchange someone else had moved since
        return page_again(reference, form, "This form came back without the exchange's version: reload the page.")
    label = state.value.replace("_", " ")
    if state in ENDINGS and (asked := _ask_before_ending(exchange, state, reference)):
        return asked
    ours = exchanges.MESSAGE_OF.get(state, (None,))[0] is MessageDirection.OUT
    return _act(
        reference,
        lambda s: exchanges.transition(
            s,
            exchange,
            state,
            _me(),
            utcnow(),
            form.text.data,
            version,
            _via(form) if state is S.RECEIPT_CONFIRMED else None,
        ),
        f"Text drafted for “{label}”: the exchange moves once a second person approved it and it is sent."
        if ours
        else said("Exchange over {line}: ", line=exchange.channel.name) + f"{label}.",
        form,
        _drafted if ours else heading_of,
    )


def _via(form: ExchangeActionForm) -> str | None:
    """How they confirmed receipt, as chosen ("not said": None)."""
    return form.via.data or None


# States that end the conversation or say the other side refused or kept silent: asked first (no way back).
ENDINGS = {
    S.CLOSED: ("Close the exchange over {line}?", "Close", "Nothing more goes over it; it cannot be reopened."),
    S.REFUSED: ("Record that the other side refused, over {line}?", "Record refusal", "This is on record for good."),
    S.NO_ANSWER: ("Mark the exchange over {line} as unanswered?", "Mark no answer", "This is on record for good."),
}


def _ask_before_ending(exchange, state, reference: str):
    question, label, consequence = ENDINGS[state]
    back = url_for("incidents.view", reference=reference, _anchor=heading_of(exchange))  # not ended: back at it
    return ask_first(said(question, line=exchange.channel.name), back, consequence, label=label)


@bp.post("/exchanges/<int:exchange_id>/messages")
@requires(Permission.EXCHANGES_TALK)
def record_message(exchange_id: int):
    exchange = exchanges.get_exchange(get_session(), exchange_id)
    reference = exchange.incident.reference
    form = ExchangeMessageForm(prefix=f"{_prefix(exchange_id)}-message")
    if not form.validate():
        name, problem = first_problem(form)
        # The field named, not "needs its text and a direction" before every problem (a NUL in the kind read so).
        label = form[name].label.text if name and name in form else "The message"
        return page_again(reference, form, f"{label}: {problem}", name)
    direction = MessageDirection(form.direction.data)
    try:  # their message takes the time it reached us, when the liaison gives it
        received = parse_recent(form.received_at.data, utcnow()) if form.received_at.data else None
    except ValueError as error:
        return page_again(reference, form, f"received at: {error}", "received_at")
    return _act(
        reference,
        lambda s: exchanges.record_message(
            s,
            exchange,
            direction,
            form.kind.data,
            form.text.data,
            _me(),
            utcnow(),
            received_at=received,
        ),
        "Message drafted: a second person must approve it before it is sent."
        if direction is MessageDirection.OUT
        else "Message from the other side recorded.",
        form,
        message_row,
    )


@bp.app_template_global()
def exchange_reference_example() -> str:
    """A reference of ours as the other side quotes it, with this deployment's prefix and this year's number."""
    return f"{current_app.config['EXCHANGE_REFERENCE_PREFIX']}-{utcnow().year}-0007"


@bp.get("/exchanges/find")
@login_required
def find():
    """The exchange the other side quotes by its reference (as they say it on the line, any case): to its
    incident's page at that exchange; a reference nobody holds answers 404 saying so."""
    quoted = request.args.get("reference", "").strip()
    if not quoted or len(quoted) > REFERENCE_MAX_LENGTH or not quoted.isascii():
        message = f"Give the reference the other side quotes, such as {exchange_reference_example()}."
        if quoted and not quoted.isascii():  # said as it is: "give the reference" read as if nothing was typed
            at, odd = next((n, c) for n, c in enumerate(quoted, start=1) if not c.isascii())
            named = unicodedata.name(odd, "a control character")
            message = (
                f"The reference typed holds U+{ord(odd):04X} {named} at character {at}: ours are written in "
                f"ASCII letters and digits only, such as {exchange_reference_example()}."
            )
        elif len(quoted) > REFERENCE_MAX_LENGTH:
            message = (
                f"{len(quoted):,} characters: no reference of ours is longer than {REFERENCE_MAX_LENGTH}. {message}"
            )
        page = render_template("web/find_exchange.html", title="No reference", quoted=quoted, message=message)
        return page, 422
    found = exchanges.listing(get_session(), reference=quoted, limit=1)
    if not found:
        message = (
            f"No exchange is known by {quoted!r}: check it with them "
            f"(our references read like {exchange_reference_example()})."
        )
        page = render_template("web/find_exchange.html", title="No such exchange", quoted=quoted, message=message)
        return page, 404
    [exchange] = found
    return redirect(url_for("incidents.view", reference=exchange.incident.reference, _anchor=heading_of(exchange)))


@bp.get("/board/exchanges/rows")
@login_required
def board_rows():
    """The board's open exchanges alone, for the page's own polling (304 while unchanged)."""
    return conditional(render_template("web/_exchange_rows.html", exchanges=exchanges.listing(get_session(), True)))
