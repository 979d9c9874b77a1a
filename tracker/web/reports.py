"""The after-action report page with its charts, the exports a signed-in supervisor downloads
(the browser sends a session cookie, not a bearer token), and the printable incident."""

from flask import Blueprint, render_template, request
from flask_login import current_user, login_required
from marshmallow import ValidationError

from ..db import get_session
from ..http import wiring
from ..http.access import requires
from ..http.reporting import (
    TO_BEFORE_FROM,
    ReportQuery,
    annual_csv_response,
    csv_response,
    geojson_response,
    report_filter,
)
from ..models import Domain, Precedence, all_categories
from ..models.enums import category_label
from ..models.labels import label
from ..models.permissions import Permission
from ..numbers import read_whole
from ..services.review import annual, export, reports
from ..timeutil import utcnow
from .charts import bar_chart, count, duration
from .forms import category_outside
from .incidents import known_sectors

bp = Blueprint("reports", __name__)
TIME_SERIES = (("median", "bar-median"), ("p90", "bar-p90"))
FILTER_NAMES = ("from", "to", "domain", "category", "sector", "precedence")
# The filters as the report's form names them.
FILTER_LABELS = {
    "from": "Reported from",
    "to": "Reported before",
    "domain": "Domain",
    "category": "Category",
    "sector": "Sector",
    "precedence": "Precedence",
}
YEAR_PROBLEM = f"a year from {annual.FIRST_YEAR} to {annual.LAST_YEAR} in digits 0-9, such as 2026"


def _query() -> tuple[dict, dict, dict | list]:
    """The filters as given (for the form and the export links), loaded, and their problems."""
    given = {name: request.args.getlist(name) for name in FILTER_NAMES}
    given = {name: [v for v in values if v.strip()] for name, values in given.items()}
    given = {name: values for name, values in given.items() if values}
    # As the API's Query refuses them: a filter given twice was read as its first value, unsaid.
    once = "given more than once; this filter takes one value"
    twice = {name: [once] for name, values in given.items() if name != "precedence" and len(values) > 1}
    raw = {name: values if name == "precedence" else values[0] for name, values in given.items()}
    try:
        loaded = ReportQuery().load(raw)
    except ValidationError as error:
        return (
            given,
            {},
            _in_words({**error.messages, **twice}, raw) if isinstance(error.messages, dict) else error.messages,
        )
    return (given, {}, twice) if twice else (given, loaded, {})


def _in_words(problems: dict, raw: dict) -> dict:
    """The problems as the page says them, after its own labels and with categories in words: the API's name its
    parameters ("later than from") and list codes (unsafe_intercept, mid_air_collision_or_strike, ...)."""
    problems = {name: _sentences(said) for name, said in problems.items()}
    if "to" in problems:
        problems["to"] = ["must be later than Reported from" if m == TO_BEFORE_FROM else m for m in problems["to"]]
    domain = next((d for d in Domain if d.value == raw.get("domain")), None)
    if "category" in problems and domain is not None and (outside := category_outside(domain, raw.get("category"))):
        problems["category"] = [outside]
    return problems


def _sentences(said) -> list[str]:
    """A filter's problems as sentences: those of a list's values come keyed by their place ({"0": [...]})."""
    if isinstance(said, dict):
        return [sentence for value in said.values() for sentence in _sentences(value)]
    return [str(sentence) for sentence in said] if isinstance(said, list) else [str(said)]


def _told(problems: dict | list) -> str:
    """Every filter's problems in one line, each after the field's name on the report's form."""
    if not isinstance(problems, dict):
        return " ".join(_sentences(problems))
    return "; ".join(f"{FILTER_LABELS.get(name, name)}: {' '.join(said)}" for name, said in problems.items())


def moment(at) -> str:
    """A bound as the filter line says it: to the minute, with the seconds when it has any (a bound of
    23:59:30 said as 23:59 would claim incidents it leaves out)."""
    text = f"{at:%Y-%m-%d %H:%M}"
    if at.second or at.microsecond:
        text += f":{at:%S}" + (f".{at.microsecond:06d}".rstrip("0") if at.microsecond else "")
    return text + "Z"


def applied(query: dict) -> str:
    """The filters in force, in words, for the line above the report: "all time" when no period is set."""
    start, end = query.get("reported_from"), query.get("reported_to")
    if start and end:
        parts = [f"reported from {moment(start)} to before {moment(end)}"]
    elif start:
        parts = [f"reported from {moment(start)} on"]
    elif end:
        parts = [f"reported before {moment(end)}"]
    else:
        parts = ["all time"]
    if query.get("domain"):
        parts.append(f"domain {label(query['domain'])}")
    if query.get("category"):
        parts.append(f"category {category_label(query['category'])}")
    if query.get("sector"):
        parts.append(f"sector {query['sector']}")
    if query.get("precedence"):
        parts.append("precedence now " + ", ".join(f"{p.value} {p.name}" for p in query["precedence"]))
    else:
        parts.append("every precedence")
    return " · ".join(parts)


def _time_chart(chart_id: str, title: str, groups: dict, label=str):
    rows = [(label(key), (g["median_seconds"], g["p90_seconds"])) for key, g in groups.items()]
    return bar_chart(chart_id, title, rows, TIME_SERIES, duration)


def _count_chart(chart_id: str, title: str, counts: dict, series: str = "incidents", named=str):
    """A bar per key, named as the table beside it names it (a category by its label, a sector as it is)."""
    rows = [(named(key), (n,)) for key, n in counts.items()]
    return bar_chart(chart_id, title, rows, ((series, "bar-count"),), count, ticks=(0, 1))


def charts(report: dict) -> list:
    """The page's charts, from the report's numbers."""
    prec = {p.value: f"{p.value} {p.name}" for p in Precedence}
    ack, resolve, ex = report["ack_times"], report["resolve_times"], report["exchanges"]
    outcomes = {
        key.replace("_", " "): ex[key]
        for key in ("answered", "refused", "no_answer", "overdue", "open", "closed_unanswered")
    }
    return [
        _time_chart("ack-precedence", "Time to acknowledge per precedence now", ack["by_precedence"], prec.get),
        _time_chart("ack-channel", "Time to acknowledge per channel", ack["by_channel"]),
        _time_chart("resolve-precedence", "Time to resolve per precedence now", resolve["by_precedence"], prec.get),
        _time_chart("resolve-channel", "Time to resolve per channel", resolve["by_channel"]),
        _count_chart("category", "Incidents per category", report["incidents_by_category"], named=category_label),
        _count_chart("sector", "Incidents per sector", report["incidents_by_sector"]),
        _count_chart("exchanges", "Exchanges with the other side: answered versus overdue", outcomes, "exchanges"),
    ]


@bp.get("/reports")
@requires(Permission.REPORTS_READ)
def report():
    given, query, problems = _query()
    data = None if problems else reports.after_action(get_session(), report_filter(query), wiring.markings())
    return render_template(
        "web/reports.html",
        report=data,
        charts=charts(data) if data else [],
        given=given,
        applied=None if problems else applied(query),
        problems=problems,
        domains=list(Domain),
        categories=all_categories(),
        sectors=[name for names in known_sectors() for name in names],
        precedences=list(Precedence),
        definitions=reports.DEFINITIONS,
        time_rows=reports.time_rows,
    ), (422 if problems else 200)


def _export(respond):
    given, query, problems = _query()
    if problems:
        message = f"The filters are not valid: {_told(problems)}."
        return render_template("web/error.html", code=422, title="Bad filter", message=message), 422
    return respond(report_filter(query))


@bp.get("/reports/incidents.csv")
@requires(Permission.REPORTS_READ)
def export_csv():
    return _export(lambda flt: csv_response(flt, bom=True))  # for Excel, where staff open it


@bp.get("/reports/incidents.geojson")
@requires(Permission.REPORTS_READ)
def export_geojson():
    return _export(geojson_response)


def _year() -> int | None:
    """The review's year from ?year= (default: this UTC year); None when it is not a year."""
    given = request.args.get("year", "").strip()
    if not given:
        return utcnow().year
    try:  # 0-9 only: isdecimal() and int() also read "٢٠٢٦" (Arabic-Indic digits) as 2026
        year = read_whole(given)
    except ValueError:
        return None
    return year if annual.FIRST_YEAR <= year <= annual.LAST_YEAR else None


@bp.get("/reports/review")
@requires(Permission.REPORTS_READ)
def review():
    """The annual review per agreement and counterpart State (its CSV holds the same rows)."""
    year = _year()
    if year is None:  # the form again, the year as typed and the problem beside it
        typed = request.args.get("year", "")
        return render_template("web/review.html", review=None, typed=typed, problem=YEAR_PROBLEM), 422
    data = annual.review(get_session(), year, utcnow(), wiring.markings())
    return render_template("web/review.html", review=data, columns=annual.COLUMNS)


@bp.get("/reports/review.csv")
@requires(Permission.REPORTS_READ)
def review_csv():
    year = _year()
    if year is None:
        return render_template("web/error.html", code=422, title="Bad year", message=YEAR_PROBLEM), 422
    return annual_csv_response(annual.review(get_session(), year, utcnow(), wiring.markings()), bom=True)


@bp.get("/incidents/<reference>/print")
@login_required
def print_incident(reference: str):
    """One incident on paper: every fact, the whole timeline, messages and exchanges."""
    incident, exchanges = export.printable(get_session(), reference)
    return render_template(
        "web/incident_print.html", incident=incident, exchanges=exchanges, printed_at=utcnow(), user=current_user
    )
