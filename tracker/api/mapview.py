"""The map's data as GeoJSON: sectors, border lines, active exercises and open incidents."""

from apiflask import Schema, fields
from flask import current_app

from ..db import get_session
from ..http.tokens import token_auth
from ..services.review import mapview
from ..timeutil import utcnow
from . import ERRORS, bp


class MapFeatureOut(Schema):
    type = fields.String(metadata={"examples": ["Feature"]})
    geometry = fields.Dict(metadata={"description": "GeoJSON geometry, WGS84 longitude/latitude"})
    properties = fields.Dict(
        metadata={
            "description": "kind (sector, border, exercise or incident) and its facts: an incident's reference, "
            "precedence, status, category, occurred_at, occurred_dtg and position (decimal, dms, mgrs)"
        }
    )


class MapOut(Schema):
    type = fields.String(metadata={"examples": ["FeatureCollection"]})
    region_configured = fields.Boolean(metadata={"description": "false: no sectors or border lines (REGION_FILE)"})
    unplaced = fields.List(fields.String(), metadata={"description": "open incidents without a position"})
    features = fields.List(fields.Nested(MapFeatureOut))


@bp.get("/map")
@bp.auth_required(token_auth)
@bp.output(MapOut, content_type="application/geo+json")
@bp.doc(tags=["Map"], summary="The map as GeoJSON", responses={403: ERRORS[403]})
def get_map():
    """A FeatureCollection (RFC 7946) of the sectors, border lines, exercises under way and
    incidents not yet resolved: what the map page draws."""
    incidents, exercises = mapview.load(get_session(), utcnow())
    collection = mapview.feature_collection(current_app.extensions["tracker.region"], incidents, exercises)
    return collection, 200, {"Content-Type": "application/geo+json"}
