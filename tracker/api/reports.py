"""After-action report and incident exports (CSV, GeoJSON): supervisors and admins.

Liaison staff and duty officers read incidents one by one; the review across incidents, and the
bulk export of every field (narratives included), is the supervisors' job.
"""

import re
from datetime import UTC, datetime

from apiflask import Schema, fields
from apiflask.schemas import FileSchema
from apiflask.validators import Length, OneOf
from flask import Response, json
from marshmallow import ValidationError, validates_schema

from ..auth import require_role, token_auth
from ..db import get_session
from ..models import Domain, Precedence, Role, all_categories
from ..services.review import export, reports
from ..timeutil import utcnow
from . import ERRORS, bp
from .fields import Moment, Text

REVIEWERS = (Role.SUPERVISOR, Role.ADMIN)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
RESPONSES = {code: ERRORS[code] for code in (403,)}


class Bound(Moment):
    """A moment (ISO 8601 with a zone, or a DTG), or a plain date meaning its 00:00Z."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str) and _DATE.match(value.strip()):
            try:
                return datetime.fromisoformat(value.strip()).replace(tzinfo=UTC)
            except ValueError as exc:
                raise ValidationError(str(exc)) from None
        return super()._deserialize(value, attr, data, **kwargs)


class ReportQuery(Schema):
    reported_from = Bound(data_key="from", metadata={"description": "reported at or after (a date: its 00:00Z)"})
    reported_to = Bound(data_key="to", metadata={"description": "reported before (exclusive)"})
    domain = fields.Enum(Domain, by_value=True)
    category = Text(validate=OneOf(all_categories()))
    sector = Text(validate=Length(min=1, max=120))
    precedence = fields.List(fields.Enum(Precedence, by_value=True), metadata={"description": "repeat for several"})

    @validates_schema
    def _from_before_to(self, data, **kwargs):
        start, end = data.get("reported_from"), data.get("reported_to")
        if start is not None and end is not None and start >= end:
            raise ValidationError("must be later than from", "to")


def report_filter(query: dict) -> reports.ReportFilter:
    """Turn a loaded ReportQuery into the services' filter."""
    return reports.ReportFilter(
        reported_from=query.get("reported_from"),
        reported_to=query.get("reported_to"),
        domain=query["domain"].value if query.get("domain") else None,
        category=query.get("category"),
        sector=query.get("sector"),
        precedence=tuple(p.value for p in query.get("precedence") or ()),
    )


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
    by_precedence = _groups("Z, O, P, R -> times")
    by_month = _groups("UTC month of reported_at (2026-11) -> times")


class ExchangeCountsOut(Schema):
    total = fields.Integer()
    answered = fields.Integer()
    answered_late = fields.Integer(metadata={"description": "part of answered: the reply came after a deadline"})
    overdue = fields.Integer()
    open = fields.Integer()
    closed_unanswered = fields.Integer()


class AfterActionOut(Schema):
    incidents_total = fields.Integer()
    ack_times = fields.Nested(TimeSectionOut)
    resolve_times = fields.Nested(TimeSectionOut)
    incidents_by_category = fields.Dict(keys=fields.String(), values=fields.Integer())
    incidents_by_sector = fields.Dict(keys=fields.String(), values=fields.Integer())
    exchanges = fields.Nested(ExchangeCountsOut)
    definitions = fields.Dict(keys=fields.String(), values=fields.String())


class FeatureCollectionOut(Schema):
    type = fields.String(metadata={"examples": ["FeatureCollection"]})
    features = fields.List(fields.Dict(), metadata={"description": "Point features; properties as the CSV columns"})
    skipped = fields.Integer(metadata={"description": "incidents left out: they have no position"})


def _definitions() -> str:
    return "\n".join(f"- **{key}**: {text}" for key, text in reports.DEFINITIONS.items())


@bp.get("/reports/after-action")
@bp.auth_required(token_auth)
@require_role(*REVIEWERS)
@bp.input(ReportQuery, location="query", arg_name="query")
@bp.output(AfterActionOut)
@bp.doc(
    tags=["Reports"],
    summary="After-action report: times to acknowledge and resolve, incidents, exchanges",
    description="Supervisors and admins. Median and p90 in seconds per channel, level, precedence "
    "and month; incidents per category and sector; exchanges answered versus overdue.\n\n" + _definitions(),
    responses=RESPONSES,
)
def after_action(query):
    return reports.after_action(get_session(), report_filter(query))


def _attachment(suffix: str) -> dict:
    return {"Content-Disposition": f'attachment; filename="incidents-{utcnow():%Y%m%dT%H%MZ}.{suffix}"'}


def csv_response(flt: reports.ReportFilter) -> Response:
    """Answer the CSV export (the web page's export link uses it too).

    Built whole before answering rather than streamed: a stream would keep the request's
    transaction open while the client reads, and on SQLite that holds the write lock.
    """
    body = "".join(export.incidents_csv(get_session(), flt))
    return Response(body, mimetype="text/csv", headers=_attachment("csv"))


def geojson_response(flt: reports.ReportFilter) -> Response:
    """Answer the GeoJSON export (the web page's export link uses it too)."""
    body = json.dumps(export.incidents_geojson(get_session(), flt))
    return Response(body, mimetype="application/geo+json", headers=_attachment("geojson"))


@bp.get("/exports/incidents.csv")
@bp.auth_required(token_auth)
@require_role(*REVIEWERS)
@bp.input(ReportQuery, location="query", arg_name="query")
@bp.output(FileSchema(type="string"), content_type="text/csv", description="header row, one row per incident")
@bp.doc(
    tags=["Reports"],
    summary="Export incidents as CSV",
    description="Supervisors and admins; the after-action report's filters. Times ISO 8601 UTC with a DTG "
    "column beside each; positions decimal and MGRS. Text cells that start with = + - @ get a leading ' "
    "so that no spreadsheet runs them as formulas.",
    responses=RESPONSES,
)
def export_csv(query):
    return csv_response(report_filter(query))


@bp.get("/exports/incidents.geojson")
@bp.auth_required(token_auth)
@require_role(*REVIEWERS)
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
