"""Exercise notices: the register (running, upcoming, past), one exercise with its Vienna Document
checks and our reports of it, our own exercises and the briefings we gave, new, edit, delete, CSV
upload, and the calendar feed link. Everyone signed in reads; supervisors and admins change the
register and record our briefings."""

from flask import Blueprint, flash, g, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select

from ..db import get_session
from ..errors import ValidationError
from ..http import wiring
from ..http.access import requires
from ..http.transaction import committed
from ..models import Incident, IncidentStatus
from ..models.permissions import Permission, may
from ..services.exercises import briefings, checks, csv_import, register, vienna
from ..services.exercises.validity import VIA_LABELS
from ..timeutil import parse_recent, utcnow
from .acting import ask_first
from .admin import apply_change, page, save
from .bidi import said
from .exercise_forms import BriefingForm, ExerciseForm, ImportForm

bp = Blueprint("exercises", __name__, url_prefix="/exercises")
PAST_SHOWN = 50


@bp.app_template_global()
def exercise_via(exercise) -> str:
    """How the exercise was made known, in words."""
    return VIA_LABELS[exercise.notified_via]


@bp.app_template_global()
def via_label(value: str) -> str:
    """How an exercise was made known, from the code a brief keeps, in the words the register uses."""
    known = {via.value: words for via, words in VIA_LABELS.items()}
    return known.get(value, value.replace("_", " "))


@bp.app_template_global()
def notified_in_time_for(incident) -> bool:
    """Whether the exercise the incident lies in was notified by the time it happened."""
    return incident.exercise is not None and register.notified_by(incident.exercise, incident.occurred_at)


@bp.app_template_global()
def notification_time(exercise):
    """When the other side was told: the notice's time, or for ours our first briefing (None: not on record)."""
    return vienna.notification_time(vienna.notice_of(exercise))


@bp.app_template_global()
def days_before_start(briefing, exercise) -> str:
    """How far ahead of the start a briefing came, in the UTC calendar days the checks count (paragraph 38)."""
    ahead = vienna.days_ahead(briefing.briefed_at, exercise.starts_at)
    whole = f"{abs(ahead)} day{'s' if abs(ahead) != 1 else ''}"
    return f"{whole} (UTC calendar days)" if ahead >= 0 else f"{whole} after the start"


def _prime(exercises) -> None:
    """Work out the Vienna Document findings of the exercises not yet worked out in this request."""
    memo = g.setdefault("exercise_checks", {})
    missing = [e for e in exercises if e.id not in memo]
    if missing:
        memo.update(checks.check_all(get_session(), missing, wiring.vienna_rules()))


@bp.app_template_global()
def exercise_checks(exercise) -> list[vienna.Check]:
    """The exercise's Vienna Document findings, flags first, each citing its paragraph."""
    _prime([exercise])
    return sorted(g.exercise_checks[exercise.id], key=lambda c: c.severity != vienna.FLAG)


@bp.app_template_global()
def exercise_flags(exercise) -> list[vienna.Check]:
    """Only the flags: what the board's tag and the register's column show."""
    return vienna.flags(exercise_checks(exercise))


def _linked(session, shown) -> dict[int, list[str]]:
    """Exercise id -> references of the incidents linked to it, for the exercises shown."""
    rows = session.execute(
        select(Incident.exercise_id, Incident.reference)
        .where(Incident.exercise_id.in_([e.id for e in shown]), Incident.status != IncidentStatus.RESOLVED)
        .order_by(Incident.id)
    )
    linked: dict[int, list[str]] = {}
    for exercise_id, reference in rows:
        linked.setdefault(exercise_id, []).append(reference)
    return linked


@bp.get("/")
@requires(Permission.EXERCISES_READ)
def index():
    session, now = get_session(), utcnow()
    groups = {
        "Running": register.list_exercises(session, now, "running"),
        "Upcoming": register.list_exercises(session, now, "upcoming"),
        f"Past (latest {PAST_SHOWN})": register.list_exercises(session, now, "past", limit=PAST_SHOWN),
    }
    _prime([e for shown in groups.values() for e in shown])
    return render_template(
        "web/exercises/list.html",
        groups=groups,
        linked=_linked(session, [e for shown in groups.values() for e in shown]),
        feed=wiring.feed_link(current_user),
        may_write=may(current_user.role, Permission.EXERCISES_MANAGE),
    )


@bp.get("/ours")
@requires(Permission.EXERCISES_READ)
def ours():
    """Our own exercises and the briefings we gave the other side on each, with the same checks."""
    session = get_session()
    exercises = register.list_exercises(session, utcnow(), "all", ours=True)
    _prime(exercises)
    return render_template(
        "web/exercises/ours.html", exercises=exercises, may_write=may(current_user.role, Permission.EXERCISES_MANAGE)
    )


@bp.get("/<int:exercise_id>")
@requires(Permission.EXERCISES_READ)
def view(exercise_id: int):
    return _detail(register.get_exercise(get_session(), exercise_id), BriefingForm(formdata=None))


def _detail(exercise, form):
    session = get_session()
    reports = session.scalars(
        select(Incident).where(Incident.exercise_id == exercise.id).order_by(Incident.occurred_at, Incident.id)
    ).all()
    return render_template(
        "web/exercises/detail.html",
        exercise=exercise,
        form=form,
        reports=reports,
        seen=vienna.most_observed(r.observed_forces for r in reports if r.observed_forces),
        figures=[(vienna.LABELS[name], getattr(exercise, column), name) for name, column in vienna.COLUMNS.items()],
        status=register.status_of(exercise, utcnow()),
        may_write=may(current_user.role, Permission.EXERCISES_MANAGE),
    ), 422 if form.is_submitted() else 200


BRIEFINGS = "briefings-title"  # the briefings' heading: a briefing recorded, or refused, shows the page there


@bp.post("/<int:exercise_id>/briefings")
@requires(Permission.EXERCISES_MANAGE)
def brief(exercise_id: int):
    """Record a briefing we gave on one of our own exercises."""
    exercise = register.get_exercise(get_session(), exercise_id)
    form = BriefingForm()
    if form.validate_on_submit():
        data = {"briefed_to": form.briefed_to.data or "", "via": form.via.data, "content": form.content.data or ""}
        try:
            data["briefed_at"] = parse_recent(form.briefed_at.data or "", utcnow())
        except ValueError as exc:
            form.briefed_at.errors = [*form.briefed_at.errors, str(exc)]
        else:
            if save(form, lambda s: briefings.record_briefing(s, exercise, data, current_user.username, utcnow())):
                flash(said("Briefing on “{name}” recorded.", name=exercise.name), "success")
                return redirect(url_for("exercises.view", exercise_id=exercise_id, _anchor=BRIEFINGS))
    return _detail(exercise, form)


@bp.route("/new", methods=["GET", "POST"])
@requires(Permission.EXERCISES_MANAGE)
def new():
    form = ExerciseForm()
    if form.validate_on_submit():
        created = save(
            form,
            lambda s: register.create_exercise(
                s, csv_import.read_fields(form.cells(), utcnow()), current_user.username, utcnow(), wiring.border_km()
            ),
        )
        if created is not None:
            flash(said("Exercise “{name}” entered.", name=created.name), "success")
            return redirect(url_for("exercises.index"))
    return page("web/exercises/form.html", form, exercise=None)


@bp.route("/<int:exercise_id>/edit", methods=["GET", "POST"])
@requires(Permission.EXERCISES_MANAGE)
def edit(exercise_id: int):
    exercise = register.get_exercise(get_session(), exercise_id)
    form = ExerciseForm(data=csv_import.to_fields(exercise))  # what is posted replaces these
    if form.validate_on_submit():
        saved = save(
            form,
            lambda s: register.update_exercise(
                s,
                exercise,
                csv_import.read_fields(form.cells(), utcnow()),  # checked with now: every problem at once
                current_user.username,
                utcnow(),
                wiring.border_km(),
            ),
        )
        if saved is not None:
            flash(said("Exercise “{name}” saved.", name=saved.name), "success")
            return redirect(url_for("exercises.index"))
    return page("web/exercises/form.html", form, exercise=exercise)


@bp.post("/<int:exercise_id>/delete")
@requires(Permission.EXERCISES_MANAGE)
def delete(exercise_id: int):
    exercise = register.get_exercise(get_session(), exercise_id)
    back = url_for("exercises.edit", exercise_id=exercise_id)
    consequence = "The incidents it holds lose their link to it (their timelines say so)."
    if asked := ask_first(
        said("Delete the exercise “{name}” from the register?", name=exercise.name), back, consequence
    ):
        return asked

    def remove(session):
        register.delete_exercise(session, exercise_id, current_user.username, utcnow(), wiring.border_km())

    if apply_change(remove, "Exercise deleted; its incidents no longer refer to it."):
        return redirect(url_for("exercises.index"))
    return redirect(url_for("exercises.edit", exercise_id=exercise_id))


@bp.route("/import", methods=["GET", "POST"])
@requires(Permission.EXERCISES_MANAGE)
def upload():
    """Import a CSV file: every row, or none, with each bad row listed."""
    form, refused = ImportForm(), None
    if form.validate_on_submit():
        try:
            with committed() as session:
                text = form.file.data.read().decode("utf-8-sig")
                created = csv_import.import_csv(session, text, current_user.username, utcnow(), wiring.border_km())
        except UnicodeDecodeError:
            form.file.errors.append("The file is not UTF-8 text: save it as CSV UTF-8.")
        except ValidationError as error:
            refused = error
        else:
            flash(f"Imported {len(created)} exercises.", "success")
            return redirect(url_for("exercises.index"))
    return page("web/exercises/import.html", form, refused=refused, columns=csv_import.COLUMNS)
