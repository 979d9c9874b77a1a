"""Markings on the pages: the classification select and releasable-to checkboxes (filing form and the
incident page's small form), the marking line every incident page shows top and bottom, and the route
that changes it."""

from flask import Blueprint, flash, redirect, url_for
from flask_login import current_user
from markupsafe import Markup
from wtforms import SelectField, SelectMultipleField, widgets
from wtforms.fields.choices import SelectChoice

from ..http import wiring
from ..http.access import requires
from ..models import Incident
from ..models.permissions import Permission
from ..services.incidents import handling, marking, remarking
from ..timeutil import utcnow
from .acting import act_on_incident
from .base_form import TrackerForm
from .bidi import isolated_sentence

bp = Blueprint("marking", __name__, url_prefix="/incidents")


class CheckboxesField(SelectMultipleField):
    """A multiple choice shown as a list of checkboxes (WTForms' documented recipe), usable on a phone
    where a multiple select is not."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class MarkingForm(TrackerForm):
    classification = SelectField("Classification", choices=[])
    releasable_to = CheckboxesField("Releasable to", choices=[], description="none ticked: not releasable")


def offer_choices(form) -> None:
    """Give a form's classification and releasable_to fields the deployment's lists."""
    markings = wiring.markings()
    form.classification.choices = [SelectChoice(c, c) for c in markings.classifications]
    form.releasable_to.choices = [SelectChoice(n, n) for n in markings.releasable_to]
    if form.classification.data is None:
        form.classification.data = markings.lowest
    if not form.is_submitted() and form.releasable_to.data is None:
        form.releasable_to.data = list(markings.releasable_to)  # the default: every configured counterpart


def form_for(incident: Incident) -> MarkingForm:
    """The incident page's marking form, filled with the marking as it stands."""
    form = MarkingForm(formdata=None, classification=incident.classification, releasable_to=incident.releasable_to)
    offer_choices(form)
    return form


def marking_shown(line: str) -> Markup:
    """A marking line on a page: its classification and each counterpart isolated (a name configured in Arabic or
    Hebrew would reorder the list and the caveat around it); mails, exports and the API carry it plain."""
    return isolated_sentence(marking.read(line))


def subject_shown(subject: str) -> Markup:
    """A message's subject on a page (marking.subject: the marking, " - ", then our own words): its marking's
    names isolated as in the marking line."""
    marking_line, separator, rest = subject.partition(marking.SUBJECT_SEPARATOR)
    return Markup("{}{}{}").format(marking_shown(marking_line), separator, rest)


def init_app(app) -> None:
    """Let every template write an incident's marking line, {{ marking_line(incident) }}, a file's or a
    brief's, {{ report.marking|marking }}, and a message's subject, {{ n.subject|marked_subject }}."""
    app.add_template_global(lambda incident: marking_shown(marking.of(incident)), "marking_line")
    app.add_template_filter(marking_shown, "marking")
    app.add_template_filter(subject_shown, "marked_subject")


@bp.post("/<reference>/marking")
@requires(Permission.INCIDENTS_HANDLE)
def change(reference: str):
    form = MarkingForm()
    offer_choices(form)
    if not form.validate():
        problems = "; ".join(f"{name}: {' '.join(errors)}" for name, errors in form.errors.items())
        flash(f"The marking was not changed ({problems}).", "error")
        return redirect(url_for("incidents.view", reference=reference, _anchor="marking"))
    user = current_user._get_current_object()

    def do(session):
        incident = handling.get_incident(session, reference)
        return remarking.change(
            session, incident, form.classification.data, form.releasable_to.data, user, utcnow(), wiring.markings()
        )

    return act_on_incident(
        reference, do, lambda i: Markup("Marking now {}.").format(marking_shown(marking.of(i))), anchor="marking"
    )
