"""The receipt link the other side gets with each message of ours: GET shows the message by its header
(serial, reference, subject: never our incident number) in English and the line's language with a
"Confirm receipt" button; only the POST records their receipt (services/exchanges/receipts.py)."""

from flask import current_app, render_template, request

from .. import dispatch
from ..db import get_session
from ..errors import ValidationError
from ..http.transaction import committed
from ..models.ladder import line_between
from ..services.engine.links import LinkRefused
from ..services.exchanges import catalogues, receipts
from ..timeutil import format_dtg, utcnow
from .links import _limit, _refused, bp


def _texts(view: receipts.ReceiptView) -> list[tuple[str, dict]]:
    """The page's sentences in English, then in the line's language when it has one: (language, texts)."""
    languages = [catalogues.SOURCE]
    if view.language and view.language in catalogues.available() and view.language != catalogues.SOURCE:
        languages.append(view.language)
    at = view.receipt_at or view.sent_at

    def texts(language: str) -> dict:
        t = catalogues.translate
        return {
            "title": t(language, "Confirm receipt"),
            "message": t(
                language,
                "Message {serial}, reference {reference}: {subject}",
                serial=view.serial,
                reference=view.reference,
                subject=t(language, view.subject),
            ),
            "sent": t(
                language,
                "Sent on {date} at {time} UTC ({dtg}) over {line}.",
                date=catalogues.long_date(language, view.sent_at.date()),
                time=f"{view.sent_at:%H:%M}",
                dtg=format_dtg(view.sent_at),
                line=line_between(view.our_station or current_app.config["OUR_STATION"], view.their_end),
            ),
            "explain": t(
                language, "Pressing the button tells the sender that the message reached you. It records nothing else."
            ),
            "name": t(language, "Your name and post (optional)"),
            "done_title": t(language, "Receipt confirmed"),
            "done": t(
                language,
                "Receipt of message {serial} was recorded at {dtg} for {by}. Thank you.",
                serial=view.serial,
                dtg=format_dtg(at),
                by=view.receipt_by or "",
            ),
        }

    return [(language, texts(language)) for language in languages]


@bp.get("/receipt/<token>")
def receipt(token: str):
    """Show the message and the button; nothing changes on a GET (mail scanners fetch links)."""
    _limit()
    try:
        view = receipts.inspect(get_session(), dispatch.signer(current_app), token, utcnow())
    except LinkRefused as refused:
        return _refused("receipt", refused)
    if view.receipt_at is not None:  # given by voice or a message meanwhile: say so, offer no button
        return render_template("links/receipt_done.html", view=view, texts=_texts(view))
    return render_template("links/receipt.html", view=view, texts=_texts(view), token=token, error=None)


@bp.post("/receipt/<token>")
def confirm_receipt(token: str):
    """Record their receipt once; a second use shows "used already" (and changes nothing)."""
    _limit()
    signer, name = dispatch.signer(current_app), request.form.get("name", "")
    try:
        with committed() as session:
            view = receipts.confirm_by_link(session, signer, token, utcnow(), name)
    except LinkRefused as refused:
        return _refused("receipt", refused)
    except ValidationError as error:
        view = receipts.inspect(get_session(), signer, token, utcnow())
        # The name as typed comes back beside its problem, not blank to be typed again.
        page = render_template(
            "links/receipt.html", view=view, texts=_texts(view), token=token, error=error, typed=name
        )
        return page, 422
    return render_template("links/receipt_done.html", view=view, texts=_texts(view))
