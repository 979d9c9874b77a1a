"""The admin page of the routing configuration's record (models.config_log): who added, changed or deleted
which line, policy, routing rule or agreement, when, and each fact before and after. Supervisors and admins."""

from flask import render_template, request

from ..db import get_session
from ..http.access import requires
from ..models.labels import PRECEDENCE, label
from ..models.permissions import Permission
from ..services.review import config_history
from ..timeutil import duration
from .admin import bp

PER_PAGE = 100
# The facts a rule keeps as codes of the catalogue (what it matches), said in words.
CODED = ("domain", "category", "min_escalation_risk")


@bp.get("/changes")
@requires(Permission.CONFIG_HISTORY)
def changes():
    page = request.args.get("page", "1")
    asked = int(page) if page.isascii() and page.isdigit() and 0 < len(page) < 7 and int(page) > 0 else 1
    session = get_session()
    pages = max(1, -(-config_history.count(session) // PER_PAGE))
    number = min(asked, pages)  # a page past the last shows the last, not "no change recorded yet"
    items, total = config_history.changes(session, None, None, number, PER_PAGE)
    named = config_history.names(session)
    return render_template("web/admin/changes.html", changes=items, page=number, pages=pages, total=total, named=named)


@bp.app_template_filter("fact_name")
def fact_name(fact: str) -> str:
    """A recorded fact's name in words: "reply_deadline_seconds" is the reply deadline (its value says the unit)."""
    return fact.removesuffix("_seconds").removesuffix("_id").replace("_", " ")


@bp.app_template_filter("fact_value")
def fact_value(value: object, fact: str, named: dict | None = None) -> str:
    """A recorded fact's value as the pages say it, not as JSON: none as "–", yes or no, spans in words
    ("2 d", not 172800), lists joined, a policy, agreement or line by its name (named: by fact, the names of
    the ids as they are now; one deleted since keeps its id)."""
    if value is None or value == "" or value == [] or value == {}:
        return "–"
    if named and fact in named and isinstance(value, int) and value in named[fact]:
        return named[fact][value]
    if isinstance(value, bool):
        return "yes" if value else "no"
    if fact.endswith("_seconds") and isinstance(value, int | float):
        return duration(value)
    if fact == "precedence":
        return PRECEDENCE.get(str(value), str(value))  # "Z FLASH", as the filing form offers it
    if fact in CODED:
        return label(value)  # "cyber / electromagnetic", "GNSS jamming", "near-routine", as the Routing page says them
    if isinstance(value, list):
        return ", ".join(fact_value(item, "") for item in value)
    if isinstance(value, dict):  # a line's receipt deadlines: seconds per precedence letter
        return "; ".join(f"{key}: {fact_value(item, fact)}" for key, item in value.items())
    return str(value)
