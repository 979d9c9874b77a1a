"""The answer to a line check given on the line or by voice, logged on the line's check page.

A check over a counterpart line asks the other side to answer on the line itself (they have no link
into our tracker), so whoever took the answer logs it here: when, who, and one button per way it came.
"""

from flask import abort, current_app, flash, g, redirect, request, url_for
from flask_login import current_user
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from .. import dispatch
from ..db import get_session
from ..errors import Conflict, Forbidden, ValidationError
from ..http.access import requires
from ..http.transaction import committed
from ..http.wiring import the_app
from ..models.permissions import Permission
from ..services.engine import line_checks
from ..timeutil import format_dtg, parse_recent, utcnow
from .acting import kept_form
from .admin import bp
from .auth import safe_next
from .base_form import PAST_WHEN, TrackerForm
from .bidi import formatted, isolated, told

VIA_BUTTONS = {"voice": "Answered by voice", "line": "Answered on the line"}


class CheckAnswerForm(TrackerForm):
    at = StringField(
        f"Answered at ({PAST_WHEN})",
        validators=[DataRequired(), Length(max=40)],
        description="when they answered; not in the future",
    )
    by = StringField("Answered by (name, rank, post)", validators=[DataRequired(), Length(max=120)])


def _prefix(check_id: int) -> str:
    return f"answer-{check_id}"


@bp.app_template_global()
def check_answer_form(check) -> CheckAnswerForm:
    """The form that logs the answer to one pending check, the time filled in with now (as a DTG); refused in
    this request, the form as typed with its problems (_refused)."""
    kept = kept_form(f"{_prefix(check.id)}-")
    return kept or CheckAnswerForm(prefix=_prefix(check.id), at=format_dtg(utcnow()), formdata=None)


@bp.app_template_global()
def check_answer_buttons() -> dict[str, str]:
    return VIA_BUTTONS


@bp.post("/channels/<int:channel_id>/checks/<int:check_id>/answer")
@requires(Permission.EXCHANGES_TALK)  # and of this line (line_checks.ensure_may_answer)
def answer_check(channel_id: int, check_id: int):
    check = line_checks.get_check(get_session(), channel_id, check_id)
    try:
        line_checks.ensure_may_answer(check.channel, current_user._get_current_object())
    except Forbidden:
        abort(403)
    # Back where the form was: the line's check page, or My queue for the line's own staff.
    back = redirect(safe_next(request.form.get("next")) or url_for("admin.channel_checks", channel_id=channel_id))
    form = CheckAnswerForm(prefix=_prefix(check_id))
    via = request.form.get("via", "")
    try:
        at = parse_recent(form.at.data or "", utcnow()) if form.validate() else None
    except ValueError as exc:
        form.at.errors = [str(exc)]
        at = None
    if at is None or via not in VIA_BUTTONS:
        said = "; ".join(f"{form[name].label.text}: {' '.join(errors)}" for name, errors in form.errors.items())
        flash(f"The answer was not logged ({said or 'fill in when and who, and say how it came'}).", "error")
        return _refused(channel_id, form, back)
    rules = dispatch.health_rules(the_app())
    try:
        with committed():
            line_checks.record_answer(get_session(), check, at, form.by.data, via, utcnow(), rules)
    except (ValidationError, Conflict) as error:
        problems = "; ".join(f"{k}: {v}" for k, v in error.details.items() if isinstance(v, str))
        said = "{refused} ({problems})" if problems else "{refused}"
        flash(formatted(f"The answer was not logged: {said}.", refused=told(error), problems=problems), "error")
        for name, problem in error.details.items():
            if name in ("at", "by") and isinstance(problem, str):
                form[name].errors = [*form[name].errors, problem]
        return _refused(channel_id, form, back)
    how = "by voice" if via == "voice" else "on the line"
    text = "Check {check} answered {how} by {by}: the line works."
    flash(formatted(text, check=check_id, how=how, by=isolated(form.by.data)), "success")
    return back


def _refused(channel_id: int, form: CheckAnswerForm, back):
    """The page the form was on drawn again (422) with the form as typed and its problems beside its fields:
    My queue, or the line's check page; any other page it names is gone back to."""
    g.setdefault("kept_forms", {})[form._prefix] = form
    target = back.location
    if target == url_for("board.queue"):
        return current_app.view_functions["board.queue"](), 422
    if target == url_for("admin.channel_checks", channel_id=channel_id):
        return current_app.view_functions["admin.channel_checks"](channel_id=channel_id), 422
    return back
