"""The call log on a phone: "Call started" stamps the time on the server (no script needed), then the
page of the call in progress takes what was said and the actions agreed, and "Call ended" stamps its
end. Routes on exchanges.bp, the exchange panel's blueprint (the links to them live there)."""

from datetime import timedelta

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from markupsafe import Markup
from wtforms.fields.choices import SelectChoice

from ..db import get_session
from ..errors import Forbidden, TrackerError, ValidationError
from ..http import idempotency
from ..http.access import requires
from ..http.transaction import committed
from ..models import Exchange, ExchangeState
from ..models.permissions import Permission
from ..services.exchanges import calls, exchanges
from ..services.incidents import handling
from ..timeutil import parse_due, parse_recent, utcnow
from .acting import explain
from .base_form import PAST_WHEN, id_of, version_of
from .bidi import formatted, isolated_sentence
from .call_forms import DUE_IN, CallForm, StartCallForm
from .exchanges import bp

# A request of ours said on the call: the choice says before it is made how it will stand on record.
UNAPPROVED = " (said on the call: recorded as by call, not approved)"
DUE_IN_SECONDS = {choice.value for choice in DUE_IN if choice.value}


def _me():
    return current_user._get_current_object()


def _limits() -> calls.Limits:
    return calls.Limits(current_app.config["MAX_FUTURE_SKEW_SECONDS"])


@bp.app_template_global()
def action_state(action) -> str:
    """done, overdue or open, for the call lists."""
    return calls.action_state(action, utcnow())


@bp.app_template_global()
def call_move(call) -> str:
    """The state the call moved its exchange to, in words: "meeting requested, by call, not approved"."""
    return calls.move_words(call)


@bp.app_template_global()
def their_speaker(call) -> Markup:
    """Their speaker as people say it, "Lt Col Orlov, head of the duty shift": the rank before the name, the post
    after a comma (each typed part isolated); nothing when none was given."""
    return isolated_sentence(calls.their_speaker(call))


def _moment(form, name: str, past: bool = True):
    """A typed time, or None; a bad one is a ValidationError naming the field. A time past (a call's start or
    end) is read as the filing form and the watch log read one, "2335Z" too; a due time (past=False) said as "1800Z"
    is left for the call to place (timeutil.parse_due: the first such moment from the call's start)."""
    text = (getattr(form, name).data or "").strip()
    if not text:
        return None
    try:
        return parse_recent(text, utcnow()) if past else parse_due(text)
    except ValueError as error:
        raise ValidationError(f"{getattr(form, name).label.text}: {error}", {name: str(error)}) from None


def _exchange_of(session, incident, value) -> Exchange | None:
    """The incident's exchange a query or the form names, or None."""
    exchange_id = id_of(value)
    exchange = session.get(Exchange, exchange_id) if exchange_id else None
    return exchange if exchange is not None and exchange.incident_id == incident.id else None


def _start_page(session, incident, form: StartCallForm, exchange, status: int = 200):
    """The "Call started" page for form: new, or as posted and refused (its problems beside its fields)."""
    lines = exchanges.counterpart_lines(session)
    may = exchanges.may_act(session, incident, _me())
    lines = [line for line in lines if may or exchanges.may_act(session, incident, _me(), line.id)]
    if not may and not lines:  # neither on a line the incident went to nor on a line to the other side
        abort(403)
    form.channel_id.choices = [
        SelectChoice(c.id, f"{c.name}{' · ' + c.counterpart if c.counterpart else ''}") for c in lines
    ]
    return render_template("web/calls/new.html", incident=incident, form=form, exchange=exchange), status


@bp.get("/incidents/<reference>/calls/new")
@requires(Permission.EXCHANGES_TALK)
def new_call(reference: str):
    """The "Call started" page: the line (the exchange's when coming from one), who called, one big button."""
    session = get_session()
    incident = handling.get_incident(session, reference)
    form = StartCallForm()
    exchange = _exchange_of(session, incident, request.args.get("exchange"))
    if exchange is not None:
        form.channel_id.data, form.exchange_id.data = exchange.channel_id, str(exchange.id)
    form.call_key.data = idempotency.new_key()
    return _start_page(session, incident, form, exchange)


@bp.post("/incidents/<reference>/calls/new")
@requires(Permission.EXCHANGES_TALK)
def start_call(reference: str):
    """Start the call; refused, the page again with the form as posted (its one-time key too, still unused)."""
    session = get_session()
    incident = handling.get_incident(session, reference)
    form = StartCallForm()
    form.channel_id.choices = [SelectChoice(c.id, c.name) for c in exchanges.counterpart_lines(session)]
    exchange = _exchange_of(session, incident, form.exchange_id.data)
    if not form.validate():
        flash("No call was started: correct what is marked below.", "error")
        return _start_page(session, incident, form, exchange, 422)
    key = form.call_key.data or ""
    if key and not idempotency.valid_key(key):
        abort(400, "The form's one-time key is damaged: open the form again.")
    data = {"direction": form.direction.data, "channel_id": form.channel_id.data}
    if exchange_id := id_of(form.exchange_id.data):
        data["exchange_id"] = exchange_id
    try:
        with committed() as session:
            data["started_at"] = _moment(form, "started_at")
            first = idempotency.claim_form(session, _me().id, key, utcnow()) if key else None
            if first is None:  # a second tap on the button finds the call the first one started
                call = calls.log_call(session, incident, data, _me(), utcnow(), _limits())
                opened = redirect(_at_call(call.id))
                if key:
                    idempotency.keep_answer(session, _me().id, key, opened)
    except Forbidden:
        abort(403)
    except TrackerError as error:
        elsewhere = False
        for name, problem in error.details.items():
            if name in form and name not in ("csrf_token", "exchange_id", "call_key"):
                form[name].errors = [*form[name].errors, str(problem)]
            else:
                elsewhere = True
        # Said beside their fields, the problems are not said again above in field codes ("(started_at: ...)").
        said = explain(error) if elsewhere or not error.details else "correct what is marked below."
        flash(formatted("No call was started: {said}", said=said), "error")
        return _start_page(get_session(), incident, form, exchange, 422)
    if first is not None:
        return redirect(first.location or url_for("incidents.view", reference=reference))
    flash("Call started: the time is on record.", "success")
    return opened


def _filled(call) -> CallForm:
    """The call's form as the call stands; the times stay empty (typed only to back-time or correct)."""
    form = _offer_moves(call, CallForm(formdata=None))
    for name in (*calls.NAMES, *calls.SAID, "language"):
        getattr(form, name).data = getattr(call, name) or ""
    form.version.data = str(call.version)
    return form


def _offer_moves(call, form: CallForm) -> CallForm:
    """Offer the moves the call may make, and an ended call's end to correct (no "Call ended" stamps it now)."""
    moves = exchanges.next_states(call.exchange) if call.exchange is not None and call.moved_to is None else []
    form.moves_to.choices = [SelectChoice("", "no change")] + [
        SelectChoice(s.value, s.value.replace("_", " ") + (UNAPPROVED if s in calls.OURS_UNAPPROVED else ""))
        for s in moves
    ]
    if call.ended_at is not None:
        form.ended_at.label.text = f"Ended at (to correct it; {PAST_WHEN})"
        form.ended_at.description = ""
    return form


@bp.get("/calls/<int:call_id>")
@login_required
def view_call(call_id: int):
    """The call: in progress with its fields and "Call ended", or on record."""
    session = get_session()
    call = calls.get_call(session, call_id)
    may = exchanges.may_act(session, call.incident, _me(), call.channel_id)
    return render_template("web/calls/view.html", call=call, form=_filled(call) if may else None, now=utcnow())


def _actions(form: CallForm, now) -> list[dict]:
    """The action rows typed in: a text and a due time each (due in, or due at)."""
    drafts = []
    for row in form.actions.entries:
        n = row.name.rsplit("-", 1)[1]  # the row's own number (its place in the list may differ)
        text = (row.form.text.data or "").strip()
        if not text:
            continue
        try:
            due_at = _moment(row.form, "due_at", past=False)
        except ValidationError as error:  # named by its row, to stand beside it
            raise ValidationError(error.message, {f"actions.{n}.due_at": error.details["due_at"]}) from None
        if due_at is None and row.form.due_in.data:
            if row.form.due_in.data not in DUE_IN_SECONDS:
                raise ValidationError("pick a due time from the list", {f"actions.{n}.due_in": "not one of the list"})
            due_at = now + timedelta(seconds=int(row.form.due_in.data))
        if due_at is None:
            raise ValidationError("an agreed action needs its due time", {f"actions.{n}.due_at": "due in, or due at"})
        drafts.append({"text": text, "party": row.form.party.data, "due_at": due_at})
    return drafts


@bp.post("/calls/<int:call_id>")
@requires(Permission.EXCHANGES_TALK)
def save_call(call_id: int):
    """Save what was typed; the "Call ended" button also stamps the end."""
    session = get_session()
    call = calls.get_call(session, call_id)
    if not exchanges.may_act(session, call.incident, _me(), call.channel_id):
        abort(403)
    form = _offer_moves(call, CallForm())
    if not form.validate():
        return _again(call, form, "Nothing saved: see the fields marked.")
    end = "end" in request.form
    version = version_of(form.version)
    if version is None:  # an altered or cut-short form: saved, it wrote over whatever was saved since it was drawn
        return _again(call, form, "This form came back without the call's version: open the call again.")
    agreed_before = {action.id for action in call.actions}
    try:
        with committed() as session:
            now = utcnow()
            # Only what the form sent: a field it did not carry keeps what is on record (it was emptied).
            sent = (*calls.NAMES, *calls.SAID, "language")
            data = {name: form[name].data for name in sent if form[name].name in request.form}
            data.update(started_at=_moment(form, "started_at"), ended_at=_moment(form, "ended_at"))
            data["actions"] = _actions(form, now)
            data["moves_to"] = ExchangeState(form.moves_to.data) if form.moves_to.data else None
            calls.update_call(session, call, data, _me(), now, _limits(), end=end, expected_version=version)
    except Forbidden:
        abort(403)
    except ValidationError as error:
        return _again(call, form, _placed(form, error))
    except (TrackerError, ValueError) as error:
        return _again(call, form, explain(error) if isinstance(error, TrackerError) else str(error))
    flash("Call ended: on record." if end else "Call saved.", "success")
    added = [action.id for action in call.actions if action.id not in agreed_before]
    return redirect(_at_call(call_id, added[0] if added else None))


def _at_call(call_id: int, action_id: int | None = None) -> str:
    """The call's page at what was just done, where the keyboard's focus lands (static/app.js): the agreed action
    done, or the first one added (its Done button next); else the call's heading, which says whether it is in
    progress or ended (on a call just started, the next Tab is what they said). A refusal names no place: the page
    drawn again (422) or its top, where the message saying why takes the focus."""
    anchor = f"action-{action_id}" if action_id is not None else f"call-{call_id}"
    return url_for("exchanges.view_call", call_id=call_id, _anchor=anchor)


def _again(call, form: CallForm, problem: str):
    """The call's page again with what was typed kept and the problems beside their fields (422): a typo
    in a time must not cost the words of a call in progress."""
    flash(problem, "error")
    page = render_template("web/calls/view.html", call=call, form=form, now=utcnow())
    return page, 422


def _placed(form: CallForm, error: ValidationError) -> str:
    """Put each detail beside its field ("actions.1.due_at": the second action's); say what fits none."""
    elsewhere = []
    for key, why in error.details.items():
        target = _field(form, key)
        if target is None:
            elsewhere.append(f"{key.replace('_', ' ')}: {why}")
        else:
            target.errors = [*target.errors, str(why)]
    return "; ".join(["Nothing saved", *elsewhere]) if elsewhere else "Nothing saved: see the fields marked."


def _field(form: CallForm, key: str):
    parts = key.split(".")
    if len(parts) == 3 and parts[0] == "actions":
        rows = [row.form for row in form.actions.entries if row.name == f"actions-{parts[1]}"]
        return rows[0][parts[2]] if rows and parts[2] in rows[0] else None
    return form[key] if key in form else None


@bp.post("/actions/<int:action_id>/done")
@requires(Permission.EXCHANGES_TALK)
def action_done(action_id: int):
    session = get_session()
    action = calls.get_action(session, action_id)
    call_id = action.call_id
    try:
        with committed() as session:
            calls.mark_done(session, action, _me(), utcnow())
    except Forbidden:
        abort(403)
    except TrackerError as error:
        flash(explain(error), "error")  # at the page's top, where this line takes the focus (static/app.js)
        return redirect(url_for("exchanges.view_call", call_id=call_id))
    flash("Agreed action done.", "success")
    return redirect(_at_call(call_id, action_id))
