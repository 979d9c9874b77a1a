"""After-action report and incident exports (CSV, GeoJSON): supervisors and admins.

Liaison staff and duty officers read incidents one by one; the review across incidents, and the
bulk export of every field (narratives included), is the supervisors' job.
"""

from apiflask import Schema, fields
from apiflask.schemas import FileSchema
from apiflask.validators import Range

from ..db import get_session
from ..http import wiring
from ..http.access import requires
from ..http.fields import Count, Query
from ..http.reporting import (
    CsvQuery,
    ReportQuery,
    annual_csv_response,
    bom_field,
    csv_response,
    geojson_response,
    report_filter,
)
from ..http.tokens import token_auth
from ..models.permissions import Permission
from ..services.review import annual, reports
from ..timeutil import utcnow
from . import ERRORS, bp

RESPONSES = {code: ERRORS[code] for code in (403,)}


class TimeSummaryOut(Schema):
    count = fields.Integer()
    median_seconds = fields.Float(allow_none=True)
    p90_seconds = fields.Float(allow_none=True)


def _groups(description: str):
    return fields.Dict(
        keys=fields.String(), values=fields.Nested(TimeSummaryOut), metadata={"description": description}
    )


class TimeSectionOut(Schema):
    overall = fields.Nested(TimeSummaryOut)
    by_channel = _groups("channel name -> times (channels on the handling step)")
    by_level = _groups("L1-L5 -> times (levels of those channels)")
    by_precedence = _groups("Z, O, P, R -> times (the precedence now, after any amendment)")
    by_precedence_filed = _groups("Z, O, P, R -> times (the precedence as filed, before any amendment)")
    by_month = _groups("UTC month of reported_at (2026-11) -> times")


class ExchangeCountsOut(Schema):
    total = fields.Integer()
    answered = fields.Integer()
    answered_late = fields.Integer(metadata={"description": "part of answered: the reply came after a deadline"})
    refused = fields.Integer(metadata={"description": "not answered: the other side refused"})
    no_answer = fields.Integer(metadata={"description": "not answered or refused: marked no answer"})
    overdue = fields.Integer()
    open = fields.Integer()
    closed_unanswered = fields.Integer()


class AfterActionOut(Schema):
    marking = fields.String(
        metadata={
            "description": "the report's marking: the highest of the incidents it counts, as their export's",
            "examples": ["RESTRICTED // REL TO EASTLAND"],
        }
    )
    incidents_total = fields.Integer()
    ack_times = fields.Nested(TimeSectionOut)
    resolve_times = fields.Nested(TimeSectionOut)
    incidents_by_category = fields.Dict(keys=fields.String(), values=fields.Integer())
    incidents_by_sector = fields.Dict(keys=fields.String(), values=fields.Integer())
    exchanges = fields.Nested(ExchangeCountsOut)
    definitions = fields.Dict(keys=fields.String(), values=fields.String())


class FeatureCollectionOut(Schema):
    type = fields.String(metadata={"examples": ["FeatureCollection"]})
    marking = fields.String(
        metadata={"description": "the file's marking: the highest of its incidents' (each feature has its own)"}
    )
    features = fields.List(fields.Dict(), metadata={"description": "Point features; properties as the CSV columns"})
    skipped = fields.Integer(metadata={"description": "incidents left out: they have no position"})


def _definitions() -> str:
    return "\n".join(f"- **{key}**: {text}" for key, text in reports.DEFINITIONS.items())


@bp.get("/reports/after-action")
@bp.auth_required(token_auth)
@requires(Permission.REPORTS_READ)
@bp.input(ReportQuery, location="query", arg_name="query")
@bp.output(AfterActionOut)
@bp.doc(
    tags=["Reports"],
    summary="After-action report: times to acknowledge and resolve, incidents, exchanges",
    description="Supervisors and admins. Median and p90 in seconds per channel, level, precedence (now and "
    "as filed) and month; incidents per category and sector; exchanges answered versus overdue.\n\n" + _definitions(),
    responses=RESPONSES,
)
def after_action(query):
    return reports.after_action(get_session(), report_filter(query), wiring.markings())


@bp.get("/exports/incidents.csv")
@bp.auth_required(token_auth)
@requires(Permission.REPORTS_READ)
@bp.input(CsvQuery, location="query", arg_name="query")
@bp.output(
    FileSchema(type="string"),
    content_type="text/csv",
    description="the file's marking line (MARKING: ...), a header row, one row per incident",
)
@bp.doc(
    tags=["Reports"],
    summary="Export incidents as CSV",
    description="Supervisors and admins; the after-action report's filters. The first line is the file's "
    "marking, the highest of its incidents' (highest classification, releasable only where every incident is); "
    "each row has its own in the column marking. Times ISO 8601 UTC with a DTG "
    "column beside each; positions decimal and MGRS; the notified exercise an incident is linked to in the "
    "columns exercise_id and exercise. Text cells that start with = + - @ get a leading ' "
    "so that no spreadsheet runs them as formulas.",
    responses=RESPONSES,
)
def export_csv(query):
    return csv_response(report_filter(query), bom=query["bom"])


@bp.get("/exports/incidents.geojson")
@bp.auth_required(token_auth)
@requires(Permission.REPORTS_READ)
@bp.input(ReportQuery, location="query", arg_name="query")
@bp.output(FeatureCollectionOut, content_type="application/geo+json", description="RFC 7946 FeatureCollection")
@bp.doc(
    tags=["Reports"],
    summary="Export incidents as GeoJSON",
    description="Supervisors and admins; the after-action report's filters. A FeatureCollection of Point "
    "features ([longitude, latitude], WGS84) with the CSV's fields as properties. Incidents without a "
    "position are left out and counted in the top-level member `skipped`.",
    responses=RESPONSES,
)
def export_geojson(query):
    return geojson_response(report_filter(query))


class ReviewQuery(Query):
    year = Count(
        validate=Range(annual.FIRST_YEAR, annual.LAST_YEAR), metadata={"description": "UTC year; default: this one"}
    )


class ReviewCsvQuery(ReviewQuery):
    bom = bom_field()


class ReviewRowOut(Schema):
    year = fields.Integer()
    agreement = fields.String(metadata={"description": "its code, or (none)"})
    counterpart_state = fields.String(metadata={"description": "or (none)"})
    incidents = fields.Integer()
    incidents_by_category = fields.Dict(keys=fields.String(), values=fields.Integer())
    messages_sent = fields.Integer()
    receipts = fields.Integer()
    receipt_median_seconds = fields.Float(allow_none=True)
    receipt_max_seconds = fields.Float(allow_none=True)
    receipts_overdue = fields.Integer()
    replies = fields.Integer()
    reply_median_seconds = fields.Float(allow_none=True)
    reply_max_seconds = fields.Float(allow_none=True)
    exchanges = fields.Integer()
    answered = fields.Integer()
    refused = fields.Integer()
    no_answer = fields.Integer()
    overdue = fields.Integer()
    open = fields.Integer()


class ReviewOut(Schema):
    year = fields.Integer()
    marking = fields.String(
        metadata={
            "description": "the review's marking: the highest of the incidents it counts",
            "examples": ["RESTRICTED // REL TO EASTLAND"],
        }
    )
    rows = fields.List(fields.Nested(ReviewRowOut))
    definitions = fields.Dict(keys=fields.String(), values=fields.String())


def _review(query: dict) -> dict:
    return annual.review(get_session(), query.get("year") or utcnow().year, utcnow(), wiring.markings())


REVIEW_DEFINITIONS = "\n".join(f"- **{key}**: {text}" for key, text in annual.DEFINITIONS.items())


@bp.get("/reports/annual-review")
@bp.auth_required(token_auth)
@requires(Permission.REPORTS_READ)
@bp.input(ReviewQuery, location="query", arg_name="query")
@bp.output(ReviewOut)
@bp.doc(
    tags=["Reports"],
    summary="Annual review per agreement and counterpart state",
    description="Supervisors and admins. For a UTC year: incidents by category, messages sent, receipt and "
    "reply times, exchanges answered, refused, without answer, overdue, open.\n\n" + REVIEW_DEFINITIONS,
    responses=RESPONSES,
)
def annual_review(query):
    return _review(query)


@bp.get("/exports/annual-review.csv")
@bp.auth_required(token_auth)
@requires(Permission.REPORTS_READ)
@bp.input(ReviewCsvQuery, location="query", arg_name="query")
@bp.output(
    FileSchema(type="string"),
    content_type="text/csv",
    description="the review's marking line (MARKING: ...), a header row, one row per group",
)
@bp.doc(
    tags=["Reports"],
    summary="Export the annual review as CSV",
    description="The rows of GET /reports/annual-review under its marking (the first line, MARKING: ...: the "
    "highest of the incidents it counts, as the incidents export's); incidents by category in one cell "
    "(category=n; ...).",
    responses=RESPONSES,
)
def annual_review_csv(query):
    return annual_csv_response(_review(query), bom=query["bom"])
