"""Filing form, incident page, and the acknowledge / comment / resolve buttons."""

from datetime import timedelta
from typing import Any

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from markupsafe import Markup
from wtforms.fields.choices import SelectChoice

from .. import metrics
from ..db import get_session
from ..errors import Forbidden, TrackerError, ValidationError
from ..geo import parse_position
from ..http import idempotency, wiring
from ..http.access import requires
from ..http.transaction import committed
from ..models import CATEGORIES, Domain, categories_for
from ..models.permissions import Permission, may
from ..sentences import Sentence
from ..services.accounts import people
from ..services.engine import decisions
from ..services.exchanges import releasability
from ..services.incidents import detail, filing, handling, route_table
from ..timeutil import format_dtg, isoformat, parse_recent, utcnow
from . import filing_report, marking
from .acknowledging import AcknowledgeForm, note_again, note_as_comment, note_not_added
from .acting import act_on_incident, ask_first, kept_form, page_again
from .auth import safe_next
from .base_form import id_of, refusal
from .bidi import formatted, isolated, isolated_list, told
from .forms import ActionForm, CommentForm, IncidentForm, ResolveForm

bp = Blueprint("incidents", __name__, url_prefix="/incidents")


def _domain_choices():
    return [SelectChoice(d.value, d.value.replace("_", " / ") if d is Domain.CYBER_EM else d.value) for d in CATEGORIES]


def known_sectors() -> tuple[list[str], list[str]]:
    """The region's sectors, and those only a routing rule names (the demo's DRILL), each once."""
    # Once each: a sector may come in parts (the Coast's waters beyond the maritime boundary).
    names = list(dict.fromkeys(name for name, _ in current_app.extensions["tracker.region"].sectors))
    known = {name.casefold() for name in names}  # routing compares sectors without case
    ruled = {rule.sector for rule in route_table.current(get_session()).rules if rule.sector}
    return names, [name for name in sorted(ruled) if name.casefold() not in known]


def _sector_choices() -> list[SelectChoice]:
    """The known sectors (known_sectors); the empty choice leaves the sector to the position (filing derives
    it). Nothing else: a typed sector could be a typo that silently changes the route."""
    names, ruled = known_sectors()
    return (
        [SelectChoice("", "The position's sector")]
        + [SelectChoice(name, name, optgroup="Sectors of the region") for name in names]
        + [SelectChoice(name, name, optgroup="Named by a routing rule") for name in ruled]
    )


def _offer_releasability(form: IncidentForm) -> None:
    """Offer the releasable fields, ticked as their defaults on a new form."""
    form.releasable.choices = [SelectChoice(name, label) for name, label in releasability.LABELS.items()]
    if not form.is_submitted():
        form.releasable.data = [name for name, default in releasability.DEFAULTS.items() if default]
        form.releasability_shown.data = "1"


@bp.route("/new", methods=["GET", "POST"])
@requires(Permission.INCIDENTS_FILE)
def new():
    form = IncidentForm()
    form.domain.choices = _domain_choices()
    form.sector.choices = _sector_choices()
    marking.offer_choices(form)
    _offer_releasability(form)
    if not form.is_submitted():
        form.occurred_at.data = format_dtg(utcnow())
        form.reporting_unit.data = _me().last_reporting_unit  # the unit this officer filed for last
    # Every problem at once: the form's own checks, the typed time, position and CPA, and (on a refusal) filing's.
    valid = form.validate_on_submit()
    read = filing_report.readings(form, utcnow()) if form.is_submitted() else {}
    if form.is_submitted() and form.errors:
        problems = filing.report_problems(
            get_session(), filing_report.report(form, read), wiring.filing_limits(), utcnow()
        )
        filing_report.tell_beside(form, problems)
    elif valid:
        key = form.filing_key.data or ""  # none from a page rendered before the form had one
        if key and not idempotency.valid_key(key):
            abort(400, "The form's one-time key is damaged: open the form again.")
        try:
            with committed() as session:
                first = idempotency.claim_form(session, _me().id, key, utcnow()) if key else None
                if first is None:
                    draft = filing.IncidentDraft(**filing_report.report(form, read))
                    links = wiring.ack_links()
                    incident = filing.file_incident(session, draft, _me(), wiring.filing_limits(), utcnow(), links)
                    called = filing.lines_called(session, incident)
                    people.remember_reporting_unit(_me(), draft.reporting_unit)
                    filed = redirect(url_for("incidents.view", reference=incident.reference))
                    if key:
                        idempotency.keep_answer(session, _me().id, key, filed)
        except ValidationError as error:
            filing_report.tell_beside(form, error.details)
        except TrackerError as error:
            flash(told(error), "error")
        else:
            if first is not None:
                flash("This form was filed already (sent twice): here is the incident it filed.", "success")
                return redirect(first.location or url_for("board.board"))
            metrics.FILED.labels(incident.precedence.value).inc()
            skipped = [c["name"] for c in incident.step["channels"] if c["name"] not in called]
            flash(_filed(incident, called, skipped), "success")
            return filed
    if not form.filing_key.data:
        form.filing_key.data = idempotency.new_key()
    categories = {d.value: list(categories_for(d)) for d in CATEGORIES}
    return render_template("web/file.html", form=form, categories=categories), 422 if form.errors else 200


def _filed(incident, called: list[str], skipped: list[str]) -> Markup:
    """What filing did: the rule and policy that routed it and the lines notified or skipped, each name isolated."""
    said = formatted(
        "Filed {reference}: rule “{rule}”, policy “{policy}”; notified {called}",
        reference=incident.reference,
        rule=isolated(incident.ladder["rule_name"]),
        policy=isolated(incident.ladder["policy_name"]),
        called=isolated_list(called, "nobody (no usable line)"),
    )
    if skipped:
        return said + formatted(
            "; skipped {lines} (line down or not usable: see the timeline).", lines=isolated_list(skipped)
        )
    return said + "."


def _me():
    return current_user._get_current_object()


def _may_handle(incident) -> bool:
    try:
        handling.ensure_may_handle(get_session(), incident, current_user, "act on")
    except Forbidden:
        return False
    return True


# How long ago a time of occurrence is read back with a word to check it (an incident is filed in seconds, or
# within days when it is reported late; a year off, 1926 for 2026, is a slip).
LONG_AGO = timedelta(days=30)


@bp.get("/readback")
@login_required
def readback():
    """Read a typed time or position back in the other notations, for the form's hints; with a
    position, the sector it lies in ("" outside every sector), which the filing form offers."""
    answer: dict[str, Any] = {}
    if text := request.args.get("occurred_at", "").strip():
        try:
            now = utcnow()
            moment = parse_recent(text, now)
            # A time in the future is said as the form will refuse it, not read back as if it were good.
            wrong_time = filing.occurred_problem(moment, wiring.filing_limits(), now)
            # To the second, as every page shows a time; one long past said so, as a position outside every sector
            # is (070630Z DEC 1926 was filed without a word).
            said = f"{isoformat(moment.replace(microsecond=0))} = {format_dtg(moment)}"
            if (age := now - moment) > LONG_AGO:
                said += f" - {age.days:,} days ago: check the date"
            answer["occurred_at"] = wrong_time or said
        except ValueError as exc:
            answer["occurred_at"] = str(exc)
    if text := request.args.get("position", "").strip():
        try:
            pos = parse_position(text)
            answer["position"] = f"{pos.decimal} = {pos.ddm} = {pos.dms} = MGRS {pos.mgrs}"
            region = current_app.extensions["tracker.region"]
            answer["sector"] = region.sector_of(pos.latitude, pos.longitude) or ""
            if region.outside_sectors(pos.latitude, pos.longitude):
                answer["position"] += " - outside every sector of the region"
            elif region.beyond_border_at(pos.latitude, pos.longitude):
                # The sector's name apart from our words too (position_parts): the form's script isolates it.
                beyond = Sentence(
                    answer["position"] + " - beyond the border line, in the other side's part of sector {sector}",
                    {"sector": answer["sector"]},
                )
                answer["position"], answer["position_parts"] = str(beyond), beyond.as_json()
        except ValueError as exc:
            answer["position"] = str(exc)
    return jsonify(answer)


@bp.app_template_global()
def position(incident):
    """The incident's position in every notation staff use."""
    from ..geo import Position

    return Position(incident.latitude, incident.longitude, incident.position_text or "")


@bp.app_template_global()
def position_warnings(incident) -> list[Sentence]:
    """What staff should know about where the incident is placed (outside every sector...): each written
    |sentence, the sectors' names isolated."""
    return filing.position_warnings(incident, current_app.extensions["tracker.region"])


def _as_posted(kind):
    """The page's own form of that kind as refused in this request (acting.page_again), else a blank one."""
    kept = kept_form("")  # the comment and resolve forms have no prefix: the form kept is one of them
    return kept if isinstance(kept, kind) else kind(formdata=None)


# The timeline events the page and its live parts draw, the newest first, unless asked for all (?timeline=all): an
# incident of two thousand events cost its live poll a second of CPU every three seconds, for each page open on it.
TIMELINE_SHOWN = 100


def page_context(reference: str) -> dict:
    """What the incident page and its live parts (web/live.py) are drawn from."""
    incident = detail.incident_page(get_session(), reference)
    whole = request.args.get("timeline") == "all"
    events = list(reversed(incident.events))
    comment_form = _as_posted(CommentForm)
    if not comment_form.comment_key.data:  # a refused comment keeps its key for the corrected one
        comment_form.comment_key.data = idempotency.new_key()
    return {
        "incident": incident,
        "may_handle": _may_handle(incident),
        "action": ActionForm(),
        "ack_form": _as_posted(AcknowledgeForm),
        "comment_form": comment_form,
        "resolve_form": _as_posted(ResolveForm),
        "marking_form": marking.form_for(incident),
        "may_decide": may(current_user.role, Permission.INCIDENTS_DECIDE),
        "timeline": events if whole else events[:TIMELINE_SHOWN],
        "timeline_total": len(events),
        "timeline_whole": whole,
    }


@bp.get("/<reference>")
@login_required
def view(reference: str):
    return render_template("web/incident.html", **page_context(reference))


@bp.post("/<reference>/acknowledge")
@requires(Permission.INCIDENTS_HANDLE)
def acknowledge(reference: str):
    """One tap from the board, My queue or the incident page (an optional note), then back to that page."""
    form = AcknowledgeForm()
    back = safe_next(form.next.data)  # a damaged one is no page to go back to: the incident's own
    if not form.validate() and form.note.errors:
        return note_again(reference, form, back)
    note = (form.note.data or "").strip()
    own_page = back is not None and back.partition("?")[0] == url_for("incidents.view", reference=reference)
    return act_on_incident(
        reference,
        lambda s: handling.acknowledge(s, reference, _me(), utcnow(), note, idle=wiring.idle_rules()),
        lambda incident: f"Acknowledged {incident.reference}: the escalation has stopped.",
        back=back,
        form=note_as_comment(note),  # refused (acknowledged first by someone else): the note offered as a comment
        why=note_not_added,
        # A list's row (web/_incident_rows.html); on the incident's own page the line saying so is the place.
        lands=None if own_page else f"incident-{reference}",
    )


@bp.post("/<reference>/decision")
@requires(Permission.INCIDENTS_DECIDE)
def decide(reference: str):
    """Confirm the step waiting for a decision (the page sends the step it showed)."""
    given = request.form.get("step")
    # The step the page showed, in 0-9 (type=int also read "٢" as 2, and made any other text "no step", which
    # confirms whatever waits): a step that is no number matches none.
    step = None if given is None else (id_of(given) or 0)

    def confirm(session):
        incident = handling.get_incident(session, reference)
        return decisions.confirm(session, incident, _me(), utcnow(), wiring.ack_links(), step)

    def done(incident) -> str:
        called = isolated_list((c["name"] for c in incident.step["channels"]), "no usable channel")
        return formatted("Step {step} confirmed: {called} called.", step=incident.current_step, called=called)

    return act_on_incident(reference, confirm, done)


@bp.post("/<reference>/comments")
@login_required
def comment(reference: str):
    form = CommentForm()
    if not form.validate():
        problem = refusal(form.text) or "A comment needs text (up to 4000 characters)."
        return page_again(reference, form, problem, "text")
    key = form.comment_key.data or ""  # none from a page drawn before the form had one
    if key and not idempotency.valid_key(key):
        abort(400, "The form's one-time key is damaged: open the page again.")

    def add(session) -> bool:
        """Add the comment; False when this form added it already (sent twice)."""
        if key and idempotency.claim_form(session, _me().id, key, utcnow()) is not None:
            return False
        handling.comment(session, reference, _me(), utcnow(), form.text.data)
        if key:
            added = redirect(url_for("incidents.view", reference=reference, _anchor="timeline"))
            idempotency.keep_answer(session, _me().id, key, added)
        return True

    return act_on_incident(
        reference,
        add,
        lambda added: f"Comment added to {reference}." if added else "This comment was added already (sent twice).",
        anchor="timeline",  # where it now stands, first; not the page's top, screens away on a phone
        form=form,
    )


@bp.post("/<reference>/resolve")
@requires(Permission.INCIDENTS_HANDLE)
def resolve(reference: str):
    form = ResolveForm()
    if not form.validate():
        return page_again(reference, form, refusal(form.resolution) or "Say how it was resolved.", "resolution")
    consequence = "Its ladder stops for good and it leaves the board; a resolved incident is not reopened."
    if asked := ask_first(
        f"Resolve {reference}?", url_for("incidents.view", reference=reference), consequence, "Resolve"
    ):
        return asked
    return act_on_incident(
        reference,
        lambda s: handling.resolve(s, reference, _me(), utcnow(), form.resolution.data),
        form=form,
    )
