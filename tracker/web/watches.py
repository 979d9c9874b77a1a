"""The watch pages: the desks and their watches, a watch with its log, the handover brief with the
outgoing officer's notes and the incoming officer's signature, and its printable record. Same
services as the API (services/watches); everyone signed in reads, the pages offer each person
only what they may do."""

from datetime import datetime

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from ..db import get_session
from ..errors import Conflict, ValidationError
from ..http import idempotency, wiring
from ..http.access import requires
from ..http.ratelimit import address
from ..http.transaction import committed
from ..models import Handover, Watch
from ..models.permissions import Permission, may
from ..services.watches import handover, log
from ..timeutil import format_dtg, parse_recent, utcnow
from .admin import page, save
from .bidi import said, told
from .watch_forms import EntryForm, HandoverForm, NotesForm, SignForm, StartWatchForm

bp = Blueprint("watches", __name__)


def _me():
    return current_user._get_current_object()


def _limits() -> log.Limits:
    return log.Limits(current_app.config["MAX_FUTURE_SKEW_SECONDS"])


def _watch_hours() -> float:
    return current_app.config["WATCH_HOURS"]


@bp.app_template_global()
def watches_due_for_relief() -> list[Watch]:
    """Open watches kept longer than WATCH_HOURS without a signed handover: the board, My queue and the
    watch pages say so, so that a desk left unrelieved (an officer gone, a handover never signed) is seen."""
    return log.unrelieved(get_session(), utcnow(), _watch_hours())


@bp.app_template_global()
def handovers_waiting_for_me() -> list:
    """The handovers prepared for the signed-in officer to sign: the board and My queue say so (the incoming officer
    lands there, and was told only on the Watch page, off the screen in a phone's navigation)."""
    return handover.waiting_for(get_session(), _me())


@bp.app_template_global()
def relief_due_at(watch: Watch) -> datetime | None:
    return log.relief_due_at(watch, _watch_hours())


@bp.app_template_global()
def due_for_relief(watch: Watch) -> bool:
    due = relief_due_at(watch)
    return due is not None and due <= utcnow()


@bp.app_template_filter("brief_time")
def brief_time(text: str | datetime | None) -> str:
    """A time of the brief (stored as ISO 8601) as staff read it, to the second as every page gives one, with its
    DTG: 2026-12-03 14:05:09Z · 031405ZDEC26."""
    if not text:
        return "–"
    at = datetime.fromisoformat(text) if isinstance(text, str) else text
    return f"{at:%Y-%m-%d %H:%M:%S}Z · {format_dtg(at)}"


@bp.app_template_filter("brief_moment")
def brief_moment(text: str | datetime) -> datetime:
    """A time of the brief (stored as ISO 8601) as a datetime, for a running clock (web/_clock.html)."""
    return datetime.fromisoformat(text) if isinstance(text, str) else text


# -- desks and watches ---------------------------------------------------------------------


def _start_form(form: StartWatchForm | None = None) -> StartWatchForm:
    form = form or StartWatchForm(formdata=None)
    if may(current_user.role, Permission.WATCHES_ASSIGN):
        form.officer.choices = [SelectChoice(u.username, u.username) for u in log.keepers(get_session())]
        if not form.officer.data:
            form.officer.data = current_user.username
    return form


def _index(form: StartWatchForm):
    session = get_session()
    watches = log.list_watches(session)
    open_watches = [w for w in watches if w.ends_at is None]
    return page(
        "web/watches/index.html",
        form,
        open_watches=open_watches,
        # One desk per officer: the watch I keep is where I log, and starting another could only be refused.
        mine=next((w for w in open_watches if w.officer_id == current_user.id), None),
        ended=[w for w in watches if w.ends_at is not None][:20],
        waiting=handover.waiting_for(session, _me()),
        desks=log.desks(session),
        may_keep=may(current_user.role, Permission.WATCHES_KEEP),
        may_assign=may(current_user.role, Permission.WATCHES_ASSIGN),
    )


@bp.get("/watches/")
@login_required
def index():
    """Open watches by desk, handovers waiting for my signature, the latest watches, and "Start"."""
    return _index(_start_form())


@bp.post("/watches/")
@requires(Permission.WATCHES_KEEP)
def start():
    form = _start_form(StartWatchForm())
    if form.validate_on_submit():
        officer = form.officer.data if may(current_user.role, Permission.WATCHES_ASSIGN) else None
        watch = save(form, lambda s: log.start_watch(s, _me(), utcnow(), form.desk.data, officer or None))
        if watch is not None:
            flash(
                said("Watch started at {desk}, kept by {officer}.", desk=watch.desk, officer=watch.officer.username),
                "success",
            )
            return redirect(url_for("watches.view", watch_id=watch.id))
    return _index(form)


def _watch_page(watch: Watch, entry_form: EntryForm, handover_form: HandoverForm):
    session = get_session()
    handover_form.incoming.choices = [SelectChoice("", "choose…")] + [
        SelectChoice(u.username, f"{u.username} · {u.role.label}")
        for u in log.keepers(session)
        if u.id != watch.officer_id
    ]
    if not entry_form.entry_key.data:
        entry_form.entry_key.data = idempotency.new_key()
    return page(
        "web/watches/watch.html",
        entry_form,
        watch=watch,
        entries=log.entries_of(session, watch),
        handovers=handover.handovers_of(session, watch),
        handover_form=handover_form,
        may_act=log.may_act_for(_me(), watch) and watch.ends_at is None,
    )


@bp.get("/watches/<int:watch_id>")
@login_required
def view(watch_id: int):
    """A watch: its officer, its log, and the handover (prepare one, or the one prepared)."""
    watch = log.get_watch(get_session(), watch_id)
    return _watch_page(watch, EntryForm(formdata=None), HandoverForm(formdata=None))


def _moment(form: EntryForm) -> datetime | None:
    text = (form.at.data or "").strip()
    if not text:
        return None
    try:
        return parse_recent(text, utcnow())
    except ValueError as error:
        form.at.errors = [*form.at.errors, str(error)]
        raise


@bp.post("/watches/<int:watch_id>/entries")
@requires(Permission.WATCHES_KEEP)
def add_entry(watch_id: int):
    watch = log.get_watch(get_session(), watch_id)
    form = EntryForm()
    if form.validate_on_submit():
        key = form.entry_key.data or ""  # none from a page drawn before the form had one
        if key and not idempotency.valid_key(key):
            abort(400, "The form's one-time key is damaged: open the watch page again.")
        try:
            at = _moment(form)
        except ValueError:
            pass
        else:

            def add(session) -> bool:
                """Log the line; False when this form logged it already (sent twice)."""
                if key and idempotency.claim_form(session, _me().id, key, utcnow()) is not None:
                    return False
                log.add_entry(session, watch, _me(), utcnow(), form.text.data, at, form.incident.data, _limits())
                if key:
                    logged = redirect(url_for("watches.view", watch_id=watch_id, _anchor="log"))
                    idempotency.keep_answer(session, _me().id, key, logged)
                return True

            done = save(form, add)
            if done is not None:
                flash("Logged." if done else "This line was logged already (sent twice).", "success")
                return redirect(url_for("watches.view", watch_id=watch_id, _anchor="log"))
    return _watch_page(watch, form, HandoverForm(formdata=None))


@bp.post("/watches/<int:watch_id>/handover")
@requires(Permission.WATCHES_KEEP)
def prepare(watch_id: int):
    """Prepare the brief for the officer chosen, with the notes; on to the handover page."""
    watch = log.get_watch(get_session(), watch_id)
    form = HandoverForm()
    if form.validate_on_submit():
        if not form.incoming.data:
            form.incoming.errors = ["Choose who takes over."]
        else:
            prepared = save(
                form,
                lambda s: handover.prepare(
                    s, watch, _me(), form.incoming.data, utcnow(), form.notes.data or "", wiring.markings()
                ),
            )
            if prepared is not None:
                flash(
                    said("Brief prepared for {who}: they sign for it here.", who=prepared.incoming_officer.username),
                    "success",
                )
                return redirect(url_for("watches.handover_page", handover_id=prepared.id))
    return _watch_page(watch, EntryForm(formdata=None), form)


# -- the handover --------------------------------------------------------------------------


def _handover_page(found: Handover, notes_form: NotesForm | None = None):
    me = _me()
    signed = found.signed_at is not None
    outgoing_side = log.may_act_for(me, found.from_watch)
    if notes_form is None:
        notes_form = NotesForm(formdata=None, notes=found.notes)
    return page(
        "web/watches/handover.html",
        notes_form,
        handover=found,
        brief=found.brief,
        may_note=outgoing_side and not signed,
        may_regenerate=(outgoing_side or me.id == found.incoming_officer_id) and not signed,
        may_sign=me.id == found.incoming_officer_id and not signed,
        sign_form=SignForm(formdata=None, digest=handover.digest(found)),
    )


@bp.get("/handovers/<int:handover_id>")
@login_required
def handover_page(handover_id: int):
    """The brief, the notes and the signature (or the button to sign, for the incoming officer)."""
    return _handover_page(handover.get_handover(get_session(), handover_id))


@bp.post("/handovers/<int:handover_id>/notes")
@requires(Permission.WATCHES_KEEP)
def notes(handover_id: int):
    found = handover.get_handover(get_session(), handover_id)
    form = NotesForm()
    if form.validate_on_submit():
        if save(form, lambda s: handover.set_notes(s, found, _me(), form.notes.data or "")) is not None:
            flash("Notes saved.", "success")
            return redirect(url_for("watches.handover_page", handover_id=handover_id, _anchor="notes"))
    return _handover_page(found, form)


@bp.post("/handovers/<int:handover_id>/brief")
@requires(Permission.WATCHES_KEEP)
def regenerate(handover_id: int):
    found = handover.get_handover(get_session(), handover_id)
    try:
        with committed() as session:
            handover.regenerate(session, found, _me(), utcnow(), markings=wiring.markings())
    except (ValidationError, Conflict) as error:
        flash(told(error), "error")
    else:
        flash("Brief taken again as of now.", "success")
    return redirect(url_for("watches.handover_page", handover_id=handover_id))


@bp.post("/handovers/<int:handover_id>/sign")
@requires(Permission.WATCHES_KEEP)
def sign(handover_id: int):
    found = handover.get_handover(get_session(), handover_id)
    form = SignForm()
    if not form.validate_on_submit():
        flash("The form expired: read the handover again and sign.", "error")
        return redirect(url_for("watches.handover_page", handover_id=handover_id))
    try:
        with committed() as session:
            handover.sign(session, found, _me(), utcnow(), form.digest.data or None, address())
    except (ValidationError, Conflict) as error:
        flash(told(error), "error")
        return redirect(url_for("watches.handover_page", handover_id=handover_id))
    flash(said("Signed: you have the watch at {desk}.", desk=found.from_watch.desk), "success")
    return redirect(url_for("watches.handover_page", handover_id=handover_id))


@bp.get("/handovers/<int:handover_id>/print")
@login_required
def print_handover(handover_id: int):
    """The handover on paper: who to whom, the brief as it was prepared, the notes, the signature."""
    found = handover.get_handover(get_session(), handover_id)
    return render_template("web/watches/handover_print.html", handover=found, brief=found.brief, printed_at=utcnow())
