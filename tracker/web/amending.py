"""The Amend page: correct a filed incident's facts (services/incidents/amending.py), with the problems
beside their fields, a clear word when someone changed the incident meanwhile, and after amending the
route routing would choose now and the texts for the other side that need approving again."""

from datetime import datetime

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup

from ..db import get_session
from ..errors import Conflict, Forbidden, ValidationError
from ..http import idempotency, wiring
from ..http.access import requires
from ..http.transaction import committed
from ..models import CATEGORIES, categories_for
from ..models.permissions import Permission
from ..services.incidents import amending, amendment_record, handling, measures, platform_words
from ..timeutil import format_dtg, utcnow
from . import amend_conflict, amend_forms
from .base_form import version_of
from .bidi import formatted, isolated_list
from .incidents import _domain_choices

bp = Blueprint("amend", __name__, url_prefix="/incidents")


@bp.app_template_global()
def may_amend(incident) -> bool:
    """Whether the signed-in person may amend the incident (for the incident page's link)."""
    return current_user.is_authenticated and amending.may_amend(get_session(), incident, current_user)


@bp.app_template_global()
def amended_lines(details: dict) -> list[tuple[str, str, str]]:
    """An amended event's facts as (label, before, after) in words."""
    return amendment_record.lines(details)


@bp.app_template_global()
def addenda(incident) -> list[dict]:
    """The narrative's addenda, first first (when, by whom, the text)."""
    return amendment_record.addenda(incident)


@bp.app_template_global()
def cpa_text(incident) -> str:
    """The closest point of approach as given: "0.3 NM (556 m) horizontally, 200 ft vertically"."""
    return measures.cpa_text(incident)


@bp.app_template_global()
def forces_text(observed) -> str:
    return measures.forces_text(observed)


@bp.app_template_global()
def platform_names(platform: dict) -> list[str]:
    """The other side's platform's names as typed, for the page to isolate each one."""
    return platform_words.names(platform)


@bp.app_template_global()
def platform_flags(platform: dict) -> list[str]:
    """Its transponder and radio contact in words, each only when known."""
    return platform_words.flags(platform)


@bp.route("/<reference>/amend", methods=["GET", "POST"])
@requires(Permission.INCIDENTS_AMEND)
def amend(reference: str):
    incident = _amendable(reference)
    shown = amend_forms.initial(incident)
    # A field the request does not carry keeps what the form showed: only what was sent can change.
    form = amend_forms.AmendForm(data=shown)
    form.domain.choices = _domain_choices()
    status, problem = 200, None
    platforms_sent = any(k.startswith("platforms-") for k in request.form)
    if form.is_submitted():
        amend_forms.hold_changes_to_the_rule(form, shown, platforms_sent)
    valid = form.validate_on_submit()
    if form.is_submitted() and not valid:
        amend_forms.read_typed(form, shown)
        problem = _amendings_problems(form, shown, platforms_sent, reference)
    if valid:
        asked = amend_forms.changes(form, shown, platforms_sent)
        addendum = form.narrative_addendum.data or ""
        version = version_of(form.version)
        key = form.amend_key.data or ""  # none from a page drawn before the form had one
        if key and not idempotency.valid_key(key):
            abort(400, "The form's one-time key is damaged: open the amend page again.")
        if version is None:  # an altered or cut-short form: no version the incident could have
            problem = "This form came back without the incident's version: open the amend page again."
        elif not form.errors:
            try:
                with committed() as session:
                    first = idempotency.claim_form(session, _me().id, key, utcnow()) if key else None
                    if first is None:
                        amendment = amending.Amendment(version, asked, addendum)
                        amended = amending.amend(
                            session,
                            reference,
                            amendment,
                            _me(),
                            wiring.filing_limits(),
                            utcnow(),
                            wiring.idle_rules(),
                            wiring.ack_links(),
                        )
                        done = redirect(url_for("incidents.view", reference=incident.reference))
                        if key:
                            idempotency.keep_answer(session, _me().id, key, done)
            except Conflict as error:
                incident, status = _amendable(reference), 409
                # The facts as they stand now with the officer's changes kept; an addition to the narrative only
                # adds, so it is kept to send again.
                others = amending.facts_amended_since(get_session(), incident, version)
                current = {**amend_forms.initial(incident), "narrative_addendum": addendum}
                kept = amend_conflict.keep(form, current, others, platforms_sent, _domain_choices())
                form = kept.form
                problem = _lost(error, kept, addendum)
            except Forbidden as error:
                if "precedence" not in error.details:
                    abort(403)
                form.precedence.errors.append(error.message)
                status = 403
            except ValidationError as error:
                problem, status = _place(form, error), 422
            else:
                if first is not None:
                    flash("This amendment was saved already (sent twice): here is the incident.", "success")
                    return redirect(first.location or url_for("incidents.view", reference=incident.reference))
                _tell(amended)
                return done
    if status == 200 and (form.errors or problem):
        status = 422
    if not form.amend_key.data:
        form.amend_key.data = idempotency.new_key()
    categories = {d.value: list(categories_for(d)) for d in CATEGORIES}
    page = render_template("web/amend.html", form=form, incident=incident, categories=categories, problem=problem)
    return page, status


def _amendable(reference: str):
    session = get_session()
    incident = handling.get_incident(session, reference)
    try:
        amending.ensure_may_amend(session, incident, _me())
    except Forbidden:
        abort(403)
    return incident


def _amendings_problems(form: amend_forms.AmendForm, shown: dict, platforms_sent: bool, reference: str) -> str | None:
    """Put amending's own problems (amending.problems) with what the form's checks passed beside their fields, for
    a form those checks refused: a sector nobody names, an addition too long, an airprox class on a land incident,
    a time after the report, a CPA too large in its unit were told only once the form's own were mended. A field
    the form tells a problem of keeps the form's words; return what belongs to no field."""
    asked = amend_forms.changes(form, shown, platforms_sent)
    addendum = "" if form.narrative_addendum.errors else form.narrative_addendum.data or ""
    amendment = amending.Amendment(0, asked, addendum)
    found = amending.problems(get_session(), reference, amendment, _me(), wiring.filing_limits(), utcnow())
    elsewhere = []
    for name, why in amend_forms.problems(found):
        target = amend_forms.field_for(form, name)
        if target is None:
            elsewhere.append(str(why))
        elif not target.errors:
            target.errors.append(str(why))
    return "; ".join(elsewhere) or None


def _place(form: amend_forms.AmendForm, error: ValidationError) -> str | None:
    """Put each problem beside its field; return what belongs to no field."""
    elsewhere = []
    for name, why in amend_forms.problems(error.details):
        target = amend_forms.field_for(form, name)
        if target is None:
            elsewhere.append(str(why))
        else:
            target.errors.append(str(why))
    return "; ".join([error.message, *elsewhere]) if elsewhere else None


def _lost(error: Conflict, kept: amend_conflict.Kept, addendum: str) -> str:
    """Say that nothing was saved, which of the officer's changes the form keeps (what is on record now beside
    each), and which fields someone else changed meanwhile (what the form sent beside each)."""
    said = f"{error.message}. Nothing was saved; the form now shows the facts as they stand"
    if kept.mine:
        said += f", except what you changed, kept with what is on record now beside it: {', '.join(kept.mine)}"
    if kept.theirs:
        said += f". Changed meanwhile, with what your form held beside it: {', '.join(kept.theirs)}"
    said += ". Check them and send the form again to amend." if kept.mine or kept.theirs else "."
    return said + (" Your addition to the narrative is kept below: send it again." if addendum.strip() else "")


def _tell(amended: amending.Amended) -> None:
    """Say what the amendment did: the facts, the deadline, the lines told of a raised precedence, the route
    routing would choose now, the texts for the other side that need approving again."""
    facts = [label.lower() for label, _, _ in amendment_record.lines(amended.event.details)]
    if amended.event.details.get("addendum"):  # an addition made with other changes is said too
        facts.append("narrative added to")
    said = [f"Amended {amended.incident.reference}: {'; '.join(facts)}."]
    if amended.deadline and amended.deadline["after"] != amended.deadline["before"]:
        after = datetime.fromisoformat(amended.deadline["after"])
        if amended.deadline["of"] == "escalation":
            said.append(f"Step {amended.deadline['step']} now escalates at {after:%H:%M}Z ({format_dtg(after)}).")
        else:
            said.append(f"The acknowledgement timeout now runs out at {after:%H:%M}Z ({format_dtg(after)}).")
    if amended.told:
        said.append(
            formatted("Told of the raised precedence and its deadline: {lines}.", lines=isolated_list(amended.told))
        )
    if amended.reroute:
        said.append(f"Re-route preview: {amended.reroute['note']}.")
    if amended.related is not None:  # moved in place, time or category: its related incidents were looked for again
        found = [f"{what} {', '.join(refs)}" for what, refs in amended.related.items() if refs]
        said.append(f"Related incidents looked for again: {'; '.join(found) or 'no change'}.")
    if amended.reapproval:
        texts = ", ".join(f"{text['kind']} {text['id']}" for text in amended.reapproval)
        said.append(f"Approved for the other side, now to approve again: {texts}.")
    flash(Markup(" ").join(said), "success")


def _me():
    return current_user._get_current_object()
