"""The receipt link the other side gets with each message of ours: GET shows the message by its header
(serial, reference, subject: never our incident number) in English and the line's language with a
"Confirm receipt" button; only the POST records their receipt (services/exchanges/receipts.py)."""

from flask import current_app, render_template, request
from markupsafe import Markup

from .. import dispatch
from ..db import get_session
from ..errors import ValidationError
from ..http.transaction import committed
from ..models.ladder import line_between
from ..services.engine.links import LinkRefused
from ..services.exchanges import catalogues, receipts
from ..timeutil import format_dtg, utcnow
from .bidi import formatted, isolated
from .links import OUTCOMES, _limit, bp


def _languages(language: str | None) -> list[str]:
    """English, then the line's language when it has one a catalogue serves."""
    languages = [catalogues.SOURCE]
    if language and language in catalogues.available() and language != catalogues.SOURCE:
        languages.append(language)
    return languages


def _texts(view: receipts.ReceiptView) -> list[tuple[str, dict]]:
    """The page's sentences in English, then in the line's language when it has one: (language, texts). Those
    naming what was typed (who confirmed, the line's stations) are markup, each name isolated."""
    languages = _languages(view.language)
    at = view.receipt_at or view.sent_at
    # The line by its two ends, each isolated: a station named in Arabic or Hebrew would draw the dash, the other
    # end and the sentence's full stop into its run. (Both ends are markup, so the line is: line_between adds " – ".)
    ours = view.our_station or current_app.config["OUR_STATION"]
    line = Markup(line_between(isolated(ours), isolated(view.their_end)))

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
            "sent": formatted(
                t(language, "Sent on {date} at {time} UTC ({dtg}) over {line}."),
                date=catalogues.long_date(language, view.sent_at.date()),
                time=f"{view.sent_at:%H:%M}",
                dtg=format_dtg(view.sent_at),
                line=line,
            ),
            "explain": t(
                language, "Pressing the button tells the sender that the message reached you. It records nothing else."
            ),
            "name": t(language, "Your name and post (optional)"),
            "name_refused": t(language, receipts.NAME_REFUSED, most=receipts.NAME_MAX_LENGTH),
            "done_title": t(language, "Receipt confirmed"),
            "done": formatted(
                t(language, "Receipt of message {serial} was recorded at {dtg} for {by}. Thank you."),
                serial=view.serial,
                dtg=format_dtg(at),
                by=isolated(view.receipt_by),
            ),
        }

    return [(language, texts(language)) for language in languages]


def _refused_texts(refused: LinkRefused, language: str | None) -> list[tuple[str, dict]]:
    """Why the link is refused, in English and then in the language its message was sent in."""
    heading = receipts.REFUSAL_HEADINGS.get(refused.reason, refused.message.rstrip("."))
    details, at = refused.details, "%Y-%m-%d %H:%M:%SZ"

    def texts(language: str) -> dict:
        t = catalogues.translate
        return {
            "heading": t(language, heading),
            # The message where it says more than the heading ("This link has expired." does not).
            "message": t(language, refused.message) if refused.message.rstrip(".") != heading else "",
            "used": formatted(
                t(language, receipts.USED_BY), by=isolated(details["used_by"]), at=details["used_at"].strftime(at)
            )
            if details.get("used_by")
            else "",
            "expired": t(language, receipts.EXPIRED_AT, at=details["expired_at"].strftime(at))
            if details.get("expired_at")
            else "",
            "nothing": t(language, receipts.NOTHING_CHANGED),
        }

    return [(each, texts(each)) for each in _languages(language)]


def _refused_receipt(token: str, refused: LinkRefused):
    """The refusal page of a receipt link, in the line's language beside English as the rest of what they see
    (English alone for a link that is not genuine: whose it is, nobody knows)."""
    language = receipts.language_of_link(get_session(), dispatch.signer(current_app), token)
    kind = OUTCOMES.get(refused.reason, "refused")
    page = render_template("links/receipt_refused.html", kind=kind, texts=_refused_texts(refused, language))
    return page, refused.status


@bp.get("/receipt/<token>")
def receipt(token: str):
    """Show the message and the button; nothing changes on a GET (mail scanners fetch links)."""
    _limit()
    try:
        view = receipts.inspect(get_session(), dispatch.signer(current_app), token, utcnow())
    except LinkRefused as refused:
        return _refused_receipt(token, refused)
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
        return _refused_receipt(token, refused)
    except ValidationError as error:
        try:  # a link used already says so whatever was typed with it, in their language as every refusal
            view = receipts.inspect(get_session(), signer, token, utcnow())
        except LinkRefused as refused:
            return _refused_receipt(token, refused)
        # The name as typed comes back beside its problem, not blank to be typed again.
        page = render_template(
            "links/receipt.html", view=view, texts=_texts(view), token=token, error=error, typed=name
        )
        return page, 422
    return render_template("links/receipt_done.html", view=view, texts=_texts(view))
