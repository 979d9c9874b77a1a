"""One tap to acknowledge: the form behind every Acknowledge button (board, My queue, the top of the
incident page), which rows of a list get one, the page drawn again when its note is refused, and "Acknowledge
all mine" on My queue, which lists what it will acknowledge and waits for a confirming POST."""

from urllib.parse import parse_qsl, urlsplit

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException
from wtforms import HiddenField, StringField
from wtforms.validators import Length, Optional

from ..db import get_session
from ..errors import TrackerError
from ..http import wiring
from ..http.access import requires
from ..http.transaction import committed
from ..models.permissions import Permission, may
from ..services.incidents import acknowledging
from ..services.incidents.handling import COMMENT_MAX_LENGTH
from ..timeutil import utcnow
from . import board
from .acting import page_again
from .base_form import TrackerForm, refusal
from .bidi import formatted, told
from .forms import CommentForm

bp = Blueprint("acknowledging", __name__)


class AcknowledgeForm(TrackerForm):
    """An Acknowledge button: the CSRF token, an optional note, and the page to go back to."""

    note = StringField("Note (optional)", validators=[Optional(), Length(max=COMMENT_MAX_LENGTH)])
    next = HiddenField()


def note_refused(form: AcknowledgeForm) -> str:
    """What to flash about a note the form refused."""
    return refusal(form.note) or f"A note is at most {COMMENT_MAX_LENGTH} characters: nothing was acknowledged."


def note_again(reference: str, form: AcknowledgeForm, back: str | None):
    """The page the Acknowledge button was on drawn again (422) with the note as typed and the refusal beside it:
    the board with its filters, My queue, else the incident page. A redirect there lost the note, and a note is
    typed on a phone in a hurry; nothing is acknowledged until a note that passes is sent."""
    problem = note_refused(form)
    form.note.errors = list(form.note.errors) or [problem]
    g.refused_ack = (reference, form)
    endpoint, asked = _page_of(back)
    if endpoint in ("board.board", "board.home"):
        flash(f"Nothing was acknowledged: {problem}", "error")
        return board.draw_board(asked, back), 422
    if endpoint == "board.queue":
        flash(f"Nothing was acknowledged: {problem}", "error")
        return board.draw_queue(), 422
    return page_again(reference, form, problem, "note")


def note_as_comment(note: str) -> CommentForm | None:
    """The incident page's comment form holding note, to offer it when the acknowledgement it came with is
    refused (someone acknowledged first): a flash and a redirect lost it. Offered, never added: the officer
    sends it, or not."""
    return CommentForm(formdata=None, text=note) if note else None


def note_not_added(error: TrackerError) -> str:
    """What the comment form offering a refused acknowledgement's note says above it."""
    said = "{refused}: your note was not added. It is in the comment below; add it if it still matters."
    return formatted(said, refused=told(error))


def _page_of(back: str | None) -> tuple[str | None, MultiDict]:
    """The endpoint a path of this site (safe_next's) is served by, and its query; (None, empty) for none."""
    if not back:
        return None, MultiDict()
    parts = urlsplit(back)
    try:
        adapter = current_app.url_map.bind_to_environ(request.environ)
        endpoint, _ = adapter.match(parts.path.removeprefix(request.script_root), method="GET")
    except HTTPException:  # no page there, or one that redirects (a missing slash)
        return None, MultiDict()
    return endpoint, MultiDict(parse_qsl(parts.query, keep_blank_values=True))


@bp.app_template_global()
def refused_ack(reference: str) -> AcknowledgeForm | None:
    """The Acknowledge form of that incident's row as refused in this request (note_again), else None."""
    kept = g.get("refused_ack")
    return kept[1] if kept and kept[0] == reference else None


@bp.app_template_global()
def acknowledgeable_ids(incidents) -> set[int]:
    """The ids of the listed incidents the signed-in person may acknowledge now (one query for the list)."""
    if not current_user.is_authenticated:
        return set()
    return acknowledging.acknowledgeable(get_session(), current_user._get_current_object(), incidents)


@bp.app_template_global()
def may_acknowledge() -> bool:
    """Whether the signed-in person's role acknowledges at all (the "Acknowledge all mine" button)."""
    return current_user.is_authenticated and may(current_user.role, Permission.INCIDENTS_HANDLE)


@bp.get("/queue/acknowledge-all")
@requires(Permission.INCIDENTS_HANDLE)
def confirm_all():
    """The confirm step: everything in my queue I may acknowledge, and one button that does it."""
    waiting = acknowledging.waiting_for(get_session(), current_user._get_current_object())
    return render_template("web/acknowledge_all.html", incidents=waiting, form=AcknowledgeForm())


@bp.post("/queue/acknowledge-all")
@requires(Permission.INCIDENTS_HANDLE)
def acknowledge_all():
    """Acknowledge what the confirm step listed (sent back as `reference` fields) and still waits in my queue."""
    form = AcknowledgeForm()
    references = request.form.getlist("reference")
    if not form.validate() and form.note.errors:  # the confirm step again, the note as typed (it was lost)
        flash(f"Nothing was acknowledged: {note_refused(form)}", "error")
        waiting = acknowledging.waiting_for(get_session(), current_user._get_current_object())
        return render_template("web/acknowledge_all.html", incidents=waiting, form=form), 422
    if not references:
        flash("Nothing was acknowledged: confirm the list first.", "error")
        return redirect(url_for(".confirm_all"))
    with committed() as session:
        me = current_user._get_current_object()
        outcome = acknowledging.acknowledge_mine(
            session, me, references, utcnow(), (form.note.data or "").strip(), wiring.idle_rules()
        )
    # Nothing left to do is no fault: someone else took them meanwhile, or they were never in my queue.
    flash(_said(outcome), "success" if outcome.done else "warning")
    return redirect(url_for("board.queue"))


def _said(outcome: acknowledging.Acknowledged) -> str:
    count = len(outcome.done)
    said = f"Acknowledged {count} incident{'' if count == 1 else 's'}"
    said += f": {', '.join(outcome.done)}." if outcome.done else "."
    if outcome.left:
        said += f" Left {len(outcome.left)} no longer waiting for you: {', '.join(outcome.left)}."
    return said
