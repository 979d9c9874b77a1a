"""The map's data as GeoJSON: sectors, border lines, exercises and open incidents."""

from apiflask import Schema, fields
from apiflask.validators import OneOf
from flask import current_app

from ..db import get_session
from ..http.fields import Query, Text
from ..http.tokens import token_auth
from ..services.review import mapview
from ..timeutil import utcnow
from . import ERRORS, bp


class MapFeatureOut(Schema):
    type = fields.String(metadata={"examples": ["Feature"]})
    geometry = fields.Dict(metadata={"description": "GeoJSON geometry, WGS84 longitude/latitude"})
    properties = fields.Dict(
        metadata={
            "description": "kind (sector, border, exercise or incident) and its facts: a sector's name and "
            "beyond_border (true: its part beyond a border line, on the other side's side); an exercise's name, phase "
            "(running, upcoming or past), starts_at and ends_at; an incident's reference, precedence, status, "
            "category, occurred_at, occurred_dtg, outside_sectors, position (decimal, dms, mgrs) and marking"
        }
    )


class MapQuery(Query):
    exercises = Text(
        load_default="running",
        validate=OneOf(list(mapview.WHEN)),
        metadata={"description": "which exercises: " + "; ".join(f"{k}: {v}" for k, v in mapview.WHEN.items())},
    )


class MapOut(Schema):
    type = fields.String(metadata={"examples": ["FeatureCollection"]})
    region_configured = fields.Boolean(metadata={"description": "false: no sectors or border lines (REGION_FILE)"})
    unplaced = fields.List(fields.String(), metadata={"description": "open incidents without a position"})
    left_off = fields.Integer(
        metadata={"description": f"open incidents beyond the first {mapview.MAX_INCIDENTS} (most urgent, newest first)"}
    )
    features = fields.List(
        fields.Nested(MapFeatureOut),
        metadata={"description": "sectors, border lines, exercises, then incidents most urgent first"},
    )


@bp.get("/map")
@bp.auth_required(token_auth)
@bp.input(MapQuery, location="query", arg_name="query")
@bp.output(MapOut, content_type="application/geo+json")
@bp.doc(tags=["Map"], summary="The map as GeoJSON", responses={403: ERRORS[403]})
def get_map(query):
    """A FeatureCollection (RFC 7946) of the sectors, border lines, exercises (under way unless
    ?exercises= says otherwise) and incidents not yet resolved: what the map page draws."""
    now = utcnow()
    incidents, exercises, left_off = mapview.load(get_session(), now, query["exercises"])
    collection = mapview.feature_collection(
        current_app.extensions["tracker.region"], incidents, exercises, now, left_off
    )
    return collection, 200, {"Content-Type": "application/geo+json"}
