"""Four eyes on the pages: our drafts to the other side on the exchange panel (reword, approve by a
second person, send) and the "Waiting for my approval" list of My queue. Same services as the API."""

from flask import abort, flash, redirect, url_for
from flask_login import current_user
from wtforms import HiddenField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from ..db import get_session
from ..errors import Forbidden, TrackerError
from ..http import wiring
from ..http.access import requires
from ..http.transaction import committed
from ..models import ExchangeMessage, MessageDirection, OutgoingStatus
from ..models.permissions import Permission
from ..services.exchanges import counterpart, exchanges, four_eyes, summaries
from ..timeutil import utcnow
from .acting import act_on_incident, explain, kept_form, page_again
from .base_form import TrackerForm, version_of
from .exchange_receipts import language_name
from .exchanges import bp, message_row

TEXT = Length(max=counterpart.TEXT_MAX_LENGTH)


class DraftEditForm(TrackerForm):
    text = TextAreaField("English", validators=[InputRequired(), TEXT])
    text_second = TextAreaField(
        "Second language",
        validators=[Optional(), TEXT],
        description="emptied, the translation is removed: their part then gives the English as written, said to be so",
    )
    version = HiddenField(validators=[InputRequired()])


class DraftVersionForm(TrackerForm):
    """Approve or send: the CSRF token and the version read."""

    version = HiddenField()


def _prefix(message_id: int, action: str) -> str:
    return f"draft-{message_id}-{action}"


@bp.app_template_global()
def draft_actions(message: ExchangeMessage) -> dict | None:
    """What the exchange panel offers on one of our unsent messages to the signed-in person (None for
    a message from them or one sent)."""
    if message.direction is not MessageDirection.OUT or message.status is OutgoingStatus.SENT:
        return None
    session, exchange = get_session(), message.exchange
    me = current_user._get_current_object()
    waits = counterpart.needs_approval(message)
    author = me.username in counterpart.authors(message)
    may_approve = waits and not author and four_eyes.may_approve(session, exchange.incident, me, exchange.channel_id)
    if not waits:
        why_not = ""
    elif author:
        why_not = "You wrote this text: " + four_eyes.DRAFTER_REFUSED.split(": ", 1)[1] + " approve it."
    elif not may_approve:
        why_not = "Waiting for a second person with the right to approve."
    else:
        why_not = ""
    stale = message.status is OutgoingStatus.APPROVED and waits
    edit_form = kept_form(f"{_prefix(message.id, 'edit')}-") or DraftEditForm(  # refused just now: as typed
        formdata=None,
        prefix=_prefix(message.id, "edit"),
        text=message.text,
        text_second=message.text_second,
        version=message.version,
    )
    if exchange.language:
        edit_form.text_second.label.text = f"In {language_name(exchange.language)}"
    closed = not exchange.is_open
    if closed:  # it never went, and nothing more goes on this exchange: nothing to approve, send or reword
        why_not = "Never sent: the exchange was closed first."
    return {
        "waits": waits,
        "stale": stale,
        "closed": closed,
        # The English reworded since the translation was written: said to whoever may approve or reword it.
        "translation_behind": waits and not closed and counterpart.translation_behind(session, message),
        "may_act": not closed and exchanges.may_act(session, exchange.incident, me, exchange.channel_id),
        "may_approve": may_approve,
        "why_not": why_not,
        "may_send": message.status is OutgoingStatus.APPROVED and not waits and exchange.is_open,
        "edit_form": edit_form,
        "approve_form": DraftVersionForm(prefix=_prefix(message.id, "approve"), version=message.version),
        "send_form": DraftVersionForm(prefix=_prefix(message.id, "send"), version=message.version),
    }


@bp.app_template_global()
def waiting_for_approval() -> dict:
    """Our texts and summaries that wait for the signed-in person's approval (not their own)."""
    session, me = get_session(), current_user._get_current_object()
    return {"messages": counterpart.waiting(session, me), "summaries": summaries.waiting(session, me)}


def _back(message: ExchangeMessage, done: bool = False):
    """To the incident page at the message acted on (its row in the exchange panel), where the focus lands once
    done; refused, at the page's top, where the flash line says why and takes the focus (static/app.js)."""
    reference = message.exchange.incident.reference
    return redirect(url_for("incidents.view", reference=reference, _anchor=message_row(message) if done else None))


def _do(message_id: int, action: str, form_class, do, done: str):
    """Check the form, run do(session, message, form) as one unit of work, flash the outcome, go back to
    the exchange panel. Refused drafters are told why (a flash line); others without the right get 403."""
    session = get_session()
    message = counterpart.get_message(session, message_id)
    form = form_class(prefix=_prefix(message_id, action))
    if not form.validate():
        flash(f"The form was not complete (a text is at most {counterpart.TEXT_MAX_LENGTH} characters).", "error")
        return _back(message)
    try:
        with committed():
            do(session, message, form)
    except Forbidden as refused:
        if refused.message != four_eyes.DRAFTER_REFUSED:
            abort(403)
        flash(refused.message, "error")
    except TrackerError as error:
        flash(explain(error), "error")
    else:
        flash(done, "success")
        return _back(message, done=True)
    return _back(message)


@bp.post("/exchange-messages/<int:message_id>/edit")
@requires(Permission.EXCHANGES_TALK)
def edit_draft(message_id: int):
    """Reword; refused, the incident page again with the wording as typed and the problem beside it."""
    message = counterpart.get_message(get_session(), message_id)
    reference = message.exchange.incident.reference
    form = DraftEditForm(prefix=_prefix(message_id, "edit"))
    if not form.validate():
        name, problem = next(iter(form.errors.items()))
        return page_again(reference, form, f"The text was not saved: {' '.join(problem)}", name)
    second = (form.text_second.data or "").strip() if message.exchange.language else None
    # The field shows the translation as it stands: emptied, it is taken away (as the API's "text_second": null).
    removed = second == "" and message.text_second is not None
    version = version_of(form.version) or -1
    return act_on_incident(
        reference,
        lambda session: counterpart.edit(
            session, message, form.text.data, second or None, version, _me(), utcnow(), remove_second=removed
        ),
        "Text saved as a draft"
        + (" without its translation" if removed else "")
        + ": a second person must approve it.",
        anchor=message_row(message),
        form=form,
    )


@bp.post("/exchange-messages/<int:message_id>/approve")
@requires(Permission.EXCHANGES_APPROVE)
def approve_draft(message_id: int):
    def do(session, message, form):
        # Only the wording the approver read: a form without its version approves nothing (409).
        counterpart.approve(session, message, _me(), utcnow(), version_of(form.version) or -1)

    return _do(message_id, "approve", DraftVersionForm, do, "Text approved: it may be sent now.")


@bp.post("/exchange-messages/<int:message_id>/send")
@requires(Permission.EXCHANGES_TALK)
def send_draft(message_id: int):
    session = get_session()
    message = counterpart.get_message(session, message_id)
    if DraftVersionForm(prefix=_prefix(message_id, "send")).validate():
        try:  # a change of the incident since approval: back to draft, kept (then the send refuses)
            with committed():
                if exchanges.withdraw_stale_approval(session, message, _me(), utcnow()):
                    flash(f"{four_eyes.STALE}.", "error")
                    return _back(message)
        except Forbidden:
            abort(403)

    def do(session, message, form):
        # Only the wording the sender read: one reworded or approved again since answers 409.
        version = version_of(form.version) or -1
        exchanges.send_message(session, message, _me(), utcnow(), wiring.outgoing_settings(), version)

    return _do(message_id, "send", DraftVersionForm, do, "Text queued for the other side.")


def _me():
    return current_user._get_current_object()
