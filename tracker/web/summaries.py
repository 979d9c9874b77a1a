"""The summary panel of the incident page: what is releasable, and counterpart summaries drafted,
edited, approved and sent (the same services as the API; every form carries a CSRF token)."""

from collections.abc import Callable
from functools import cache
from typing import Any

from flask import Blueprint, flash, redirect, request, url_for
from flask_login import current_user
from wtforms import HiddenField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from ..db import get_session
from ..errors import NotFound
from ..http import wiring
from ..http.access import requires
from ..http.transaction import committed
from ..models import Exchange, SummaryStatus
from ..models.permissions import Permission
from ..services.exchanges import catalogues, exchanges, four_eyes, releasability, summaries
from ..services.incidents import handling
from ..timeutil import utcnow
from .acting import act_on_incident, kept_form, page_again
from .base_form import TrackerForm, id_of, version_of
from .exchange_receipts import language_name

bp = Blueprint("summaries", __name__)
# How each field reads on the page, in the order the form lists them.
TEXT = Length(max=summaries.TEXT_MAX_LENGTH)


class ReleasabilityForm(TrackerForm):
    """Only the CSRF token: the ticked boxes arrive as a list of field names."""


class DraftForm(TrackerForm):
    exchange_id = SelectField("For the exchange", choices=[], validators=[Optional()])
    language = SelectField("Second language", choices=[], validators=[Optional()])


class EditForm(TrackerForm):
    text = TextAreaField("English", validators=[InputRequired(), TEXT])
    text_second = TextAreaField("Second language", validators=[Optional(), TEXT])
    version = HiddenField(validators=[InputRequired()])


class ApproveForm(TrackerForm):
    version = HiddenField(validators=[InputRequired()])


class SendForm(TrackerForm):
    exchange_id = SelectField("Over the exchange", choices=[], validators=[InputRequired()])


def _exchange_choices(incident, blank: str | None = None, mine=None) -> list[SelectChoice]:
    """The incident's open exchanges, each with its line and language (mine: only those whose line mine(line) holds)."""
    first = [SelectChoice("", blank)] if blank else []
    return first + [
        SelectChoice(str(x.id), f"{x.channel.name} ({_in_words(x.language)})")
        for x in exchanges.for_incident(get_session(), incident)
        if x.is_open and (mine is None or mine(x.channel_id))
    ]


@bp.app_template_global()
def summary_panel(incident) -> dict:
    """What the incident page's summary panel shows and offers to the signed-in person: only what they may do. Staff
    of a line to the other side alone work summaries over their line's exchanges, not the incident's releasability
    nor a summary for no exchange (the services refuse those with 403)."""
    session = get_session()

    @cache  # asked of each line once: for a liaison officer each answer is a query or two (four_eyes.serves)
    def mine(line: int | None) -> bool:
        return exchanges.may_act(session, incident, current_user, line)

    here = mine(None)  # on the incident itself, not only over a line to the other side
    draft_form = DraftForm(prefix="draft")
    draft_form.exchange_id.choices = _exchange_choices(incident, "none yet" if here else None, mine)
    draft_form.language.choices = [SelectChoice("", "English only")] + [
        SelectChoice(lang, f"English and {_in_words(lang)}")
        for lang in catalogues.available()
        if lang != catalogues.SOURCE
    ]
    open_here = [x for x in exchanges.for_incident(session, incident) if x.is_open and mine(x.channel_id)]
    if len(open_here) == 1 and not draft_form.exchange_id.data:
        # The one exchange open is what a summary is drafted for, in its line's language: the form offered "none
        # yet" and English only, and a desk drafted a summary tied to nothing.
        [only] = open_here
        draft_form.exchange_id.data = str(only.id)
        if only.language in {choice.value for choice in draft_form.language.choices}:
            draft_form.language.data = only.language
    send_choices = _exchange_choices(incident, mine=mine)  # the same for every summary
    rows = []
    for summary in summaries.for_incident(session, incident):
        prefix = f"summary-{summary.id}"
        edit_form = kept_form(f"{prefix}-edit-") or EditForm(  # refused just now: as typed, its problem beside it
            formdata=None,
            prefix=f"{prefix}-edit",
            text=summary.text,
            text_second=summary.text_second,
            version=summary.version,
        )
        if summary.language:
            edit_form.text_second.label.text = f"Second language ({language_name(summary.language)})"
        send_form = SendForm(prefix=f"{prefix}-send", exchange_id=str(summary.exchange_id or ""))
        send_form.exchange_id.choices = list(send_choices)
        rows.append(
            {
                "summary": summary,
                "may_act": mine(summary.exchange.channel_id if summary.exchange else None),
                "problems": summaries.problems(summary),
                "edit_form": edit_form,
                "approve_form": ApproveForm(prefix=f"{prefix}-approve", version=summary.version),
                "send_form": send_form,
                **_four_eyes(summary),
            }
        )
    allowed = releasability.effective(incident)
    return {
        "may_mark": here,
        "may_draft": bool(draft_form.exchange_id.choices),
        "fields": [(name, label, allowed[name]) for name, label in releasability.LABELS.items()],
        "defaults": releasability.DEFAULTS,
        "releasability_form": ReleasabilityForm(prefix="releasability"),
        "draft_form": draft_form,
        "rows": rows,
        "draft": SummaryStatus.DRAFT,
        "approved": SummaryStatus.APPROVED,
    }


def _four_eyes(summary) -> dict:
    """Whether the summary waits for approval, and whether the signed-in person may give it (or why not)."""
    waits, me = summaries.needs_approval(summary), _me()
    author = me.username in summaries.authors(summary)
    channel_id = summary.exchange.channel_id if summary.exchange else None
    may_approve = waits and not author and four_eyes.may_approve(get_session(), summary.incident, me, channel_id)
    why_not = "You wrote this summary: a second person must approve it." if waits and author else ""
    if waits and not author and not may_approve:
        why_not = "Waiting for a second person with the right to approve."
    stale = waits and summary.status is SummaryStatus.APPROVED
    closed = ""
    if summary.exchange is not None and not summary.exchange.is_open and summary.status is SummaryStatus.DRAFT:
        closed = "Its exchange is closed: nothing more goes to the other side on it, so it waits for no approval."
    return {"waits": waits, "may_approve": may_approve, "why_not": why_not, "stale": stale, "closed": closed}


def _act(reference: str, do, done: str, anchor: str | Callable[[Any], str] = "summary"):
    """Act, then back to the summary panel, or to the summary acted on (anchor), where the focus lands."""
    return act_on_incident(reference, do, done, anchor=anchor)


def _refused(reference: str, message: str):
    """Back to the incident page's top, where the flash line says why and takes the focus (static/app.js)."""
    flash(message, "error")
    return redirect(url_for("incidents.view", reference=reference))


def _me():
    return current_user._get_current_object()


def _exchange(exchange_id: str | None) -> Exchange | None:
    """The exchange the form names, None when it names none; 404 for an id no exchange has."""
    if not (exchange_id or "").strip():
        return None
    number = id_of(exchange_id)
    if number is None:
        raise NotFound(f"no exchange {str(exchange_id)[:40]!r}", {"exchange_id": "not an exchange's id"})
    return exchanges.get_exchange(get_session(), number)


@bp.post("/incidents/<reference>/releasability")
@requires(Permission.EXCHANGES_TALK)
def change_releasability(reference: str):
    incident = handling.get_incident(get_session(), reference)
    if not ReleasabilityForm(prefix="releasability").validate():
        return _refused(incident.reference, "The form expired; try again.")
    ticked = set(request.form.getlist("releasable"))
    changes = {name: name in ticked for name in releasability.FIELDS}
    return _act(
        incident.reference,
        lambda s: summaries.change_releasability(s, incident, changes, _me(), utcnow()),
        "Releasability saved.",
    )


@bp.post("/incidents/<reference>/summaries")
@requires(Permission.EXCHANGES_TALK)
def draft(reference: str):
    incident = handling.get_incident(get_session(), reference)
    form = DraftForm(prefix="draft")
    form.exchange_id.choices = _exchange_choices(incident, "none yet")
    form.language.choices = [SelectChoice("", "English only")] + [
        SelectChoice(x, f"English and {_in_words(x)}") for x in catalogues.available()
    ]
    if not form.validate():
        return _refused(incident.reference, "Choose an open exchange and a language the tracker has.")
    return _act(
        incident.reference,
        lambda s: summaries.draft(
            s, incident, _exchange(form.exchange_id.data), _me(), utcnow(), form.language.data or None
        ),
        "Summary drafted from the releasable fields: read it, edit it, approve it.",
        anchor=lambda made: f"summary-{made.id}",  # the new draft, not the whole panel, takes the focus
    )


def _summary_form(summary_id: int, form_class, suffix: str):
    summary = summaries.get_summary(get_session(), summary_id)
    return summary, form_class(prefix=f"summary-{summary_id}-{suffix}")


@bp.post("/summaries/<int:summary_id>/edit")
@requires(Permission.EXCHANGES_TALK)
def edit(summary_id: int):
    summary, form = _summary_form(summary_id, EditForm, "edit")
    reference = summary.incident.reference
    if not form.validate():  # the page again with the wording as typed, the problem beside it
        name, problem = next(iter(form.errors.items()))
        return page_again(reference, form, f"The summary was not saved: {' '.join(problem)}", name)
    second = form.text_second.data if summary.language else None
    return act_on_incident(
        reference,
        lambda s: summaries.edit(s, summary, form.text.data, second, version_of(form.version) or -1, _me(), utcnow()),
        "Summary saved as a draft.",
        anchor=f"summary-{summary.id}",
        form=form,
    )


@bp.post("/summaries/<int:summary_id>/approve")
@requires(Permission.EXCHANGES_APPROVE)
def approve(summary_id: int):
    summary, form = _summary_form(summary_id, ApproveForm, "approve")
    if not form.validate():
        return _refused(summary.incident.reference, "The form expired; try again.")
    if _me().username in summaries.authors(summary):  # four eyes: told why, not a bare 403
        return _refused(summary.incident.reference, four_eyes.DRAFTER_REFUSED)
    return _act(
        summary.incident.reference,
        lambda s: summaries.approve(s, summary, _me(), utcnow(), version_of(form.version) or -1),
        "Summary approved: it may be sent now.",
        f"summary-{summary_id}",
    )


@bp.post("/summaries/<int:summary_id>/send")
@requires(Permission.EXCHANGES_TALK)
def send(summary_id: int):
    summary, form = _summary_form(summary_id, SendForm, "send")
    form.exchange_id.choices = _exchange_choices(summary.incident)
    if not form.validate():
        return _refused(summary.incident.reference, "Choose an open exchange to send the summary over.")
    with committed():  # the incident changed since approval: back to draft, and that is kept
        withdrawn = summaries.withdraw_stale_approval(get_session(), summary, _me(), utcnow())
    if withdrawn:
        return _refused(summary.incident.reference, f"{four_eyes.STALE}.")
    return _act(
        summary.incident.reference,
        lambda s: summaries.send(
            s, summary, _exchange(form.exchange_id.data), _me(), utcnow(), wiring.outgoing_settings()
        ),
        "Summary queued for the other side.",
        f"summary-{summary_id}",
    )


def _in_words(language: str | None) -> str:
    """A line's or summary's second language as staff read it: "Russian", or "English only"."""
    return language_name(language) if language else "English only"
