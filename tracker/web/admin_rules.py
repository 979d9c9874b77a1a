"""Routing rules: the list in evaluation order, create, edit, move up or down, delete, and the
preview ("which route would this incident take?") that stores nothing."""

from flask import current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms.fields.choices import SelectChoice

from ..db import get_session
from ..errors import Conflict, ValidationError
from ..geo import parse_position
from ..http.access import requires
from ..models import Domain, EscalationPolicy, RoutingRule
from ..models.permissions import Permission
from ..services.incidents import ladder, route_table
from ..services.incidents.filing import sector_problem, with_named_sector
from ..services.incidents.routing import (
    RouteQuery,
    category_problem,
    check_query,
    choose_rule,
    locate,
    ordered_rules,
    snapshot_ladder,
)
from .acting import ask_first
from .admin import apply_change, bp, field_named, page, save, show_errors
from .admin_agreements import agreement_choices
from .base_form import id_of
from .bidi import formatted, isolated, said
from .forms import RoutePreviewForm, RuleForm

CRITERIA = ("domain", "category", "precedence", "min_escalation_risk", "sector", "within_border_km")
# What a rule sets on the incidents it routes, beside its policy.
SETS = ("agreement_id", "counterpart_state")
ATTRIBUTES = ("domain", "category", "precedence", "escalation_risk", "sector")  # of an incident
INVALID = "the incident's attributes are not valid"  # as routing.check_query says it


def _listed(session) -> list[RoutingRule]:
    """Every rule where evaluation meets it (inactive ones too, where they would sit), default last."""
    return list(
        session.scalars(
            select(RoutingRule)
            .order_by(RoutingRule.is_default, RoutingRule.position, RoutingRule.id)
            .options(selectinload(RoutingRule.policy))  # each rule names its policy: read for all at once
        )
    )


@bp.get("/rules")
@requires(Permission.RULES_MANAGE)
def rules():
    session = get_session()
    turn = {rule.id: n for n, rule in enumerate(ordered_rules(session), start=1)}
    return render_template(
        "web/admin/rules.html", rules=_listed(session), turn=turn, preview=RoutePreviewForm(formdata=None)
    )


def _form(rule: RoutingRule | None = None) -> RuleForm:
    form = RuleForm(obj=rule)
    policies = get_session().scalars(select(EscalationPolicy).order_by(EscalationPolicy.name))
    form.policy_id.choices = [SelectChoice(str(p.id), p.name) for p in policies]
    form.agreement_id.choices = agreement_choices(rule.agreement_id if rule is not None else None)
    return form


def _data(form: RuleForm, rule: RoutingRule | None) -> dict:
    # The default rule matches everything and is always active: only its name and policy change.
    fields = (
        ("name", "policy_id", *SETS)
        if rule is not None and rule.is_default
        else ("name", "policy_id", "active", *CRITERIA, *SETS)
    )
    return {**{name: form[name].data for name in fields}, "version": form.version.data}


@bp.route("/rules/new", methods=["GET", "POST"])
@requires(Permission.RULES_MANAGE)
def new_rule():
    form = _form()
    if form.validate_on_submit() and (rule := save(form, lambda s: ladder.save_rule(s, _data(form, None)))):
        flash(
            said("Routing rule “{name}” created; it is evaluated just before the default rule.", name=rule.name),
            "success",
        )
        return redirect(url_for("admin.rules"))
    return page("web/admin/rule_form.html", form, rule=None)


@bp.route("/rules/<int:rule_id>/edit", methods=["GET", "POST"])
@requires(Permission.RULES_MANAGE)
def edit_rule(rule_id: int):
    rule = ladder.get_rule(get_session(), rule_id)
    form = _form(rule)
    if form.validate_on_submit() and save(form, lambda s: ladder.save_rule(s, _data(form, rule), rule)):
        flash(said("Routing rule “{name}” saved.", name=rule.name), "success")
        return redirect(url_for("admin.rules"))
    return page("web/admin/rule_form.html", form, rule=rule)


@bp.post("/rules/<int:rule_id>/delete")
@requires(Permission.RULES_MANAGE)
def delete_rule(rule_id: int):
    rule = ladder.get_rule(get_session(), rule_id)
    consequence = "Incidents it would have routed go to the rules after it (in the end, the default rule)."
    if asked := ask_first(
        said("Delete the routing rule “{name}”?", name=rule.name), url_for("admin.rules"), consequence
    ):
        return asked
    apply_change(lambda s: ladder.delete_rule(s, rule_id), "Routing rule deleted.")
    return redirect(url_for("admin.rules"))


def _swap(session, movable: list[RoutingRule], one: int, other: int) -> None:
    """Trade the positions of two rules through ladder.save_rule."""
    if len({rule.position for rule in movable}) < len(movable):
        # Equal positions (possible through the API) leave the order to the ids: spread them out first.
        for n, rule in enumerate(movable, start=1):
            ladder.save_rule(session, {"position": n * 10}, rule)
    first, second = movable[one], movable[other]
    first_position, second_position = first.position, second.position
    ladder.save_rule(session, {"position": second_position}, first)
    ladder.save_rule(session, {"position": first_position}, second)


@bp.post("/rules/<int:rule_id>/move/<any(up, down):direction>")
@requires(Permission.RULES_MANAGE)
def move_rule(rule_id: int, direction: str):
    session = get_session()
    rule = ladder.get_rule(session, rule_id)
    movable = [r for r in _listed(session) if not r.is_default]
    if rule.is_default:
        flash("The default rule is always evaluated last.", "error")
        return redirect(url_for("admin.rules"))
    one = movable.index(rule)
    other = one - 1 if direction == "up" else one + 1
    seen = id_of(request.args.get("past"))  # the rule it passed on the page it was pressed on
    if seen is not None and 0 <= other < len(movable) and movable[other].id != seen:
        flash(
            formatted(
                "Not moved: the rules were reordered since this page was read, and “{name}” no longer stands next to "
                "the rule it showed. Look at the order as it is now, and move it again if need be.",
                name=isolated(rule.name),
            ),
            "error",
        )
        return redirect(url_for("admin.rules"))
    if 0 <= other < len(movable):
        moved = formatted("Moved “{name}” {direction}.", name=isolated(rule.name), direction=direction)
        apply_change(lambda s: _swap(s, movable, one, other), moved)
    else:
        where = "first" if direction == "up" else "last before the default"
        flash(formatted("“{name}” is {where} already.", name=isolated(rule.name), where=where), "error")
    return redirect(url_for("admin.rules"))


def _tell_attribute_problems(form: RoutePreviewForm, session, region) -> None:
    """Put a sector nobody names and a category of another domain beside their fields, both, in the words filing
    and routing refuse them in (filing.sector_problem, routing.category_problem), of what the form's checks passed:
    the preview told the sector, then the category, each once what came before it was mended."""
    problems = {}
    sector = None if form.sector.errors else form.sector.data
    if sector and (wrong := sector_problem(session, region, sector)):
        problems["sector"] = wrong
    domain, category = form.domain.data, form.category.data
    if isinstance(domain, Domain) and not form.category.errors and (wrong := category_problem(domain, category)):
        problems["category"] = wrong
    if problems:
        show_errors(form, ValidationError(INVALID, problems), field_named(form))


def _position(form: RoutePreviewForm) -> dict | None:
    """The position typed, as filing reads it ({} when none); None, with the problem beside the field, when it
    cannot be read: positions are never guessed."""
    if not form.position.data:
        return {}
    try:
        found = parse_position(form.position.data)
    except ValueError as error:
        form.position.errors = [str(error)]
        return None
    return {"latitude": found.latitude, "longitude": found.longitude}


@bp.get("/rules/preview")
@requires(Permission.RULES_MANAGE)
def preview_route():
    """Which rule, policy and ladder an incident with these attributes would take; stores nothing."""
    form = RoutePreviewForm(formdata=request.args or None)
    answer = None
    session, region = get_session(), current_app.extensions["tracker.region"]
    # Every problem at once: the form's own checks, the position typed, and (on a refusal) the sector and category.
    valid = bool(request.args) and form.validate()
    at = _position(form) if request.args and not form.position.errors else None
    if valid and at is not None:
        given = RouteQuery(**{name: form[name].data for name in ATTRIBUTES}, **at)
        try:
            # The sector as filing reads it: one nobody names is refused there, not routed to the default rule;
            # a position gives the sector (unless named) and the distance a rule "within km" looks at.
            query = locate(with_named_sector(given, region, route_table.current(session), INVALID), region)
            check_query(query)
            rule = choose_rule(session, query)
        except ValidationError:
            _tell_attribute_problems(form, session, region)
        except Conflict as error:
            show_errors(form, error, field_named(form))
        else:
            answer = {"rule": rule, "ladder": snapshot_ladder(rule, query.precedence), "query": query}
    elif request.args:
        _tell_attribute_problems(form, session, region)
    status = 422 if request.args and answer is None else 200
    return render_template("web/admin/route.html", preview=form, answer=answer), status
