"""Escalation policies: the list with each ladder, create and edit (up to five step rows)."""

from flask import flash, redirect, render_template, url_for
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from ..db import get_session
from ..http.access import requires
from ..models import ContactChannel, EscalationPolicy, Precedence
from ..models.permissions import Permission
from ..services.incidents import ladder
from .acting import ask_first
from .admin import apply_change, bp, page, save
from .bidi import said
from .forms import PolicyForm


@bp.get("/policies")
@requires(Permission.POLICIES_MANAGE)
def policies():
    return render_template("web/admin/policies.html", policies=ladder.list_policies(get_session()))


def _form(policy: EscalationPolicy | None = None) -> PolicyForm:
    form = PolicyForm(obj=policy)
    channels = get_session().scalars(select(ContactChannel).order_by(ContactChannel.level, ContactChannel.name))
    named = [SelectChoice(str(c.id), f"L{c.level} · {c.name}" + ("" if c.active else " (inactive)")) for c in channels]
    for row in form.steps:
        row.channel_ids.choices = named
        row.fallback_channel_id.choices = [SelectChoice("", "none")] + named
    return form


def _used_rows(form: PolicyForm) -> list:
    """The step rows filled in; empty rows are ignored."""
    return [
        row
        for row in form.steps
        if row.channel_ids.data
        or row.ack_seconds.data is not None
        or row.fallback_channel_id.data
        or row.by_decision.data
    ]


def _data(form: PolicyForm, rows: list) -> dict:
    steps = [
        {
            "channel_ids": row.channel_ids.data,
            "ack_seconds": row.ack_seconds.data,
            "fallback_channel_id": row.fallback_channel_id.data,
            "by_decision": row.by_decision.data,
        }
        for row in rows
    ]
    return {
        "name": form.name.data,
        "description": form.description.data or "",
        "repeat": form.repeat.data,
        "steps": steps,
        "version": form.version.data,
    }


def _field_of(form: PolicyForm, rows: list):
    """Map the service's keys ("steps.2.channel_ids": the second step sent) to the rows' fields."""

    def field_of(key: str):
        head, _, rest = key.partition(".")
        if head == "steps":
            number, _, name = rest.partition(".")
            return rows[int(number) - 1][name] if number else form.steps[0].channel_ids
        return form[key] if key in form else None

    return field_of


def _submit(form: PolicyForm, policy: EscalationPolicy | None):
    rows = _used_rows(form)
    return save(form, lambda s: ladder.save_policy(s, _data(form, rows), policy), _field_of(form, rows))


@bp.route("/policies/new", methods=["GET", "POST"])
@requires(Permission.POLICIES_MANAGE)
def new_policy():
    form = _form()
    if form.validate_on_submit() and (policy := _submit(form, None)) is not None:
        flash(said("Policy “{name}” created.", name=policy.name), "success")
        return redirect(url_for("admin.policies"))
    return page("web/admin/policy_form.html", form, policy=None, precedences=list(Precedence))


@bp.route("/policies/<int:policy_id>/edit", methods=["GET", "POST"])
@requires(Permission.POLICIES_MANAGE)
def edit_policy(policy_id: int):
    policy = ladder.get_policy(get_session(), policy_id)
    form = _form(policy)
    if form.validate_on_submit() and _submit(form, policy) is not None:
        flash(
            said("Policy “{name}” saved; running incidents keep the ladder they started with.", name=policy.name),
            "success",
        )
        return redirect(url_for("admin.policies"))
    return page("web/admin/policy_form.html", form, policy=policy, precedences=list(Precedence))


@bp.post("/policies/<int:policy_id>/delete")
@requires(Permission.POLICIES_MANAGE)
def delete_policy(policy_id: int):
    policy = ladder.get_policy(get_session(), policy_id)
    back = url_for("admin.edit_policy", policy_id=policy_id)
    consequence = "Only a policy no routing rule uses can go; incidents filed under it keep their ladder."
    if asked := ask_first(said("Delete the escalation policy “{name}”?", name=policy.name), back, consequence):
        return asked
    if apply_change(lambda s: ladder.delete_policy(s, policy_id), "Policy deleted."):
        return redirect(url_for("admin.policies"))
    return redirect(url_for("admin.edit_policy", policy_id=policy_id))
