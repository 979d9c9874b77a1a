"""The other side's receipt on the incident page: each message of ours shows whether their receipt is
due, overdue or recorded, and our staff log a receipt given by call, message or voice (the other side
may also use the receipt link in the message: tracker/web/receipt_links.py)."""

from flask_login import current_user
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from ..db import get_session
from ..http import wiring
from ..http.access import requires
from ..models.permissions import Permission
from ..services.exchanges import exchanges, message_format, our_receipts, receipts
from ..timeutil import format_dtg, parse_recent, utcnow
from .acting import act_on_incident, kept_form, page_again
from .base_form import PAST_WHEN, TrackerForm
from .exchanges import bp, first_problem, message_row

VIA_LABELS = {"call": "on a call", "message": "by a message", "voice": "by voice on the line"}


@bp.app_template_filter("receipt_via")
def receipt_via(via: str | None) -> str:
    """How a receipt came, in words ("link": their receipt link; None: recorded without saying how)."""
    if via is None:
        return "how not said"
    return {**VIA_LABELS, "link": "by their receipt link"}.get(via, via)


@bp.app_template_filter("language_name")
def language_name(code: str | None) -> str:
    """A line's language by name ("ru": Russian)."""
    return message_format.LANGUAGE_NAMES.get(code or "", code or "")


class ReceiptForm(TrackerForm):
    at = StringField(
        f"Received at ({PAST_WHEN})",
        validators=[DataRequired(), Length(max=40)],
        description="when they confirmed; not in the future",
    )
    by = StringField("Confirmed by (name, rank, post)", validators=[DataRequired(), Length(max=120)])
    via = SelectField("How", choices=[SelectChoice(v, VIA_LABELS[v]) for v in receipts.LOGGED_VIA])


def _prefix(message_id: int) -> str:
    return f"receipt-{message_id}"


@bp.app_template_global()
def receipt_form(message) -> ReceiptForm:
    """The form that logs the receipt of one message, the time filled in with now (as a DTG)."""
    kept = kept_form(f"{_prefix(message.id)}-")  # refused just now: as posted, its problem beside it
    return kept or ReceiptForm(prefix=_prefix(message.id), at=format_dtg(utcnow()), formdata=None)


@bp.app_template_global()
def awaited_receipt(exchange):
    """The oldest message of the exchange whose receipt is still awaited, or None (the panel's clock line)."""
    return receipts.pending(exchange)


@bp.post("/exchanges/<int:exchange_id>/messages/<int:message_id>/receipt")
@requires(Permission.EXCHANGES_TALK)
def record_receipt(exchange_id: int, message_id: int):
    message = receipts.get_message(get_session(), exchange_id, message_id)
    reference = message.exchange.incident.reference
    form = ReceiptForm(prefix=_prefix(message_id))
    try:
        at = parse_recent(form.at.data or "", utcnow()) if form.validate() else None
    except ValueError as exc:
        form.at.errors = [str(exc)]
        at = None
    if at is None:
        name, problem = first_problem(form)
        return page_again(
            reference, form, f"the receipt was not recorded: {problem or 'fill in when, who and how'}", name
        )
    user = current_user._get_current_object()
    return act_on_incident(
        reference,
        lambda s: receipts.record(s, message, at, form.by.data, form.via.data, user, utcnow()),
        f"Receipt of serial {message.serial or 0:04d}/{message.serial_year} recorded.",
        anchor=message_row(message),
        form=form,
    )


@bp.app_template_global()
def our_receipt_of(message):
    """Our receipt of one message of theirs, sent already, or None."""
    return our_receipts.sent_for(message)


@bp.post("/exchanges/<int:exchange_id>/messages/<int:message_id>/our-receipt")
@requires(Permission.EXCHANGES_TALK)
def send_our_receipt(exchange_id: int, message_id: int):
    """Send the standard receipt of one message of theirs, at once (a formula with no word of ours: no second
    person). The pages could not: a desk had to use the API to confirm a message the other side sent."""
    message = receipts.get_message(get_session(), exchange_id, message_id)
    reference = message.exchange.incident.reference
    user = current_user._get_current_object()

    def send(session):
        exchange = exchanges.get_exchange(session, exchange_id)
        return our_receipts.confirm(session, exchange, message_id, user, utcnow(), wiring.outgoing_settings())

    return act_on_incident(
        reference,
        send,
        lambda sent: f"Our receipt of their message sent: serial {sent.serial or 0:04d}/{sent.serial_year}.",
        anchor=message_row(message),
    )
