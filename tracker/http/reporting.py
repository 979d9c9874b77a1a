"""The after-action report's filters and the incident exports, shared by the API and the report
page (whose export links the browser follows with its session cookie, not a bearer token)."""

from apiflask import fields
from apiflask.validators import Length, OneOf
from flask import Response, json
from marshmallow import ValidationError, validates_schema

from ..db import get_session
from ..models import Domain, Precedence, all_categories
from ..services.review import annual, export, reports
from ..timeutil import utcnow
from . import wiring
from .fields import Bound, DomainAndCategory, Query, Text

# A window that closes before it opens: said of "to" (the page words it after its own labels).
TO_BEFORE_FROM = "must be later than from"


class ReportQuery(Query, DomainAndCategory):
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
            raise ValidationError(TO_BEFORE_FROM, "to")


# UTF-8's byte-order mark: Excel, which staff open exports in, reads a CSV as UTF-8 only when it begins
# with one (without it Cyrillic names and narratives show garbled). The report pages' links send it;
# the API sends it when asked (?bom=true), as scripts reading the file may not expect it.
BOM = "\ufeff"


def bom_field() -> fields.Boolean:
    """The CSV exports' ?bom= (default false)."""
    description = (
        "true: begin with a UTF-8 byte-order mark, so that Excel reads the file as UTF-8 "
        "(as the report pages' export links do)"
    )
    return fields.Boolean(load_default=False, metadata={"description": description})


class CsvQuery(ReportQuery):
    bom = bom_field()


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


def _attachment(suffix: str) -> dict:
    return {"Content-Disposition": f'attachment; filename="incidents-{utcnow():%Y%m%dT%H%MZ}.{suffix}"'}


def csv_response(flt: reports.ReportFilter, bom: bool = False) -> Response:
    """Answer the CSV export (the web page's export link uses it too).

    Built whole before answering rather than streamed: a stream would keep the request's
    transaction open while the client reads, and on SQLite that holds the write lock.
    """
    body = (BOM if bom else "") + "".join(export.incidents_csv(get_session(), flt, wiring.markings()))
    return Response(body, mimetype="text/csv", headers=_attachment("csv"))


def annual_csv_response(report: dict, bom: bool = False) -> Response:
    """Answer the annual review as CSV (the API and the report page's link)."""
    body = (BOM if bom else "") + "".join(annual.review_csv(report))
    headers = {"Content-Disposition": f'attachment; filename="annual-review-{report["year"]}.csv"'}
    return Response(body, mimetype="text/csv", headers=headers)


def geojson_response(flt: reports.ReportFilter) -> Response:
    """Answer the GeoJSON export (the web page's export link uses it too)."""
    body = json.dumps(export.incidents_geojson(get_session(), flt, wiring.markings()))
    return Response(body, mimetype="application/geo+json", headers=_attachment("geojson"))
