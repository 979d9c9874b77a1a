"""Agreements (admins): the list, create and edit, on the same service as the API."""

from flask import flash, redirect, render_template, url_for
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from ..db import get_session
from ..errors import ValidationError
from ..http.access import requires
from ..models import Agreement
from ..models.permissions import Permission
from ..services.exchanges import agreements
from .admin import bp, field_named, page, save
from .base_form import TrackerForm, VersionField


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class AgreementForm(TrackerForm):
    version = VersionField()
    code = StringField(
        "Code", validators=[DataRequired(), Length(max=40)], filters=[_strip], description="e.g. INCSEA-1972"
    )
    title = StringField("Title", validators=[DataRequired(), Length(max=200)], filters=[_strip])
    counterpart_state = StringField(
        "Counterpart state",
        validators=[Optional(), Length(max=80)],
        filters=[_strip],
        description="blank: multilateral",
    )
    default_article = StringField("Article cited by default", validators=[Optional(), Length(max=120)])
    articles = TextAreaField(
        "Article per kind of message",
        validators=[Optional(), Length(max=2000)],
        description=f"one per line, kind: article; kinds: {', '.join(agreements.KINDS)}",
    )
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=4000)])
    active = BooleanField("Active", default=True)


def agreement_choices(current: int | None = None) -> list[SelectChoice]:
    """The agreements in force as a select offers them, after a blank choice for none; and the one the line or
    rule names already (current), if it was deactivated since, said so."""
    found = [a for a in agreements.listing(get_session()) if a.active or a.id == current]
    shown = [SelectChoice(str(a.id), f"{a.code} · {a.title}" + ("" if a.active else " (inactive)")) for a in found]
    return [SelectChoice("", "none"), *shown]


def articles_text(articles: dict) -> str:
    return "\n".join(f"{kind}: {article}" for kind, article in (articles or {}).items())


def parse_articles(text: str) -> dict[str, str]:
    """Read "kind: article" lines; refuse (422) a line without a colon, and a kind given twice (the last one was
    kept, and the first dropped without a word)."""
    found: dict[str, str] = {}
    lines: dict[str, int] = {}
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        kind, colon, article = line.partition(":")
        if not colon:
            raise ValidationError("the articles are not valid", {"articles": f"line {number}: write kind: article"})
        if kind.strip() in lines:
            said = f"line {number}: {kind.strip()} has its article on line {lines[kind.strip()]} already: keep one"
            raise ValidationError("the articles are not valid", {"articles": said})
        found[kind.strip()], lines[kind.strip()] = article.strip(), number
    return found


def _data(form: AgreementForm) -> dict:
    texts = ("code", "title", "counterpart_state", "default_article", "notes")
    return {
        **{name: form[name].data or "" for name in texts},
        "active": bool(form.active.data),
        "version": form.version.data,
    }


def _save(form: AgreementForm, agreement: Agreement | None):
    def change(session):
        data = {**_data(form), "articles": parse_articles(form.articles.data)}
        return agreements.save(session, data, agreement)

    return save(form, change, field_named(form))


@bp.get("/agreements")
@requires(Permission.AGREEMENTS_MANAGE)
def agreements_list():
    return render_template("web/admin/agreements.html", agreements=agreements.listing(get_session()))


@bp.route("/agreements/new", methods=["GET", "POST"])
@requires(Permission.AGREEMENTS_MANAGE)
def new_agreement():
    form = AgreementForm()
    if form.validate_on_submit() and (agreement := _save(form, None)):
        flash(f"Agreement {agreement.code} created.", "success")
        return redirect(url_for("admin.agreements_list"))
    return page("web/admin/agreement_form.html", form, agreement=None)


@bp.route("/agreements/<int:agreement_id>/edit", methods=["GET", "POST"])
@requires(Permission.AGREEMENTS_MANAGE)
def edit_agreement(agreement_id: int):
    agreement = agreements.get(get_session(), agreement_id)
    form = AgreementForm(obj=agreement)
    if not form.is_submitted():
        form.articles.data = articles_text(agreement.articles)
    if form.validate_on_submit() and _save(form, agreement):
        flash(f"Agreement {agreement.code} saved.", "success")
        return redirect(url_for("admin.agreements_list"))
    return page("web/admin/agreement_form.html", form, agreement=agreement)
