"""The map page (Leaflet, from the app's own static files: no tile server, no other host), its data
as JSON, and a typed position read back in every notation and placed on the map."""

from flask import Blueprint, current_app, render_template, request
from flask_login import login_required

from ..db import get_session
from ..geo import parse_position
from ..http.errors import envelope
from ..models import Precedence
from ..services.review import mapview
from ..text import visible_in
from ..timeutil import utcnow

bp = Blueprint("mapview", __name__)
MAX_TYPED = 120  # of the text typed, echoed in a refusal


def _readback(typed: str) -> dict:
    """A typed position (decimal degrees, DMS, DDM or MGRS) in every notation, with its sector and
    distance to the border; raise ValueError saying how it was read when it cannot be."""
    region = current_app.extensions["tracker.region"]
    where = parse_position(typed)
    border_km = region.border_distance_km(where.latitude, where.longitude)
    return {
        "latitude": where.latitude,
        "longitude": where.longitude,
        "decimal": where.decimal,
        "ddm": where.ddm,
        "dms": where.dms,
        "mgrs": where.mgrs,
        "sector": region.sector_of(where.latitude, where.longitude),
        "outside_sectors": region.outside_sectors(where.latitude, where.longitude),
        "border_km": None if border_km is None else round(border_km, 1),
    }


@bp.get("/map")
@login_required
def show():
    """The map; ?at= marks a position typed in any notation (the search box does the same without a reload)."""
    region = current_app.extensions["tracker.region"]
    typed = request.args.get("at", "").strip()  # whole: cut short, a position could read as another place
    when = request.args.get("exercises", "running")
    probe = problem = None
    if typed:
        try:
            probe = _readback(typed)
        except ValueError as exc:
            problem = str(exc)
    return render_template(
        "web/map.html",
        typed=typed[:MAX_TYPED],
        probe=probe,
        problem=problem,
        when=when if when in mapview.WHEN else "running",
        choices=mapview.WHEN,
        precedences=tuple(Precedence),
        region_configured=bool(region.sectors or region.borders),
        beyond_border=bool(region.beyond_border),
    ), (422 if problem else 200)


@bp.get("/map/data")
@login_required
def data():
    """The map's GeoJSON: sectors, border lines, the exercises ?exercises= asks for, open incidents."""
    when = request.args.get("exercises", "running")
    if when not in mapview.WHEN:
        return envelope("validation_error", f"exercises: one of {', '.join(mapview.WHEN)}", {"exercises": when}, 422)
    now = utcnow()
    incidents, exercises, left_off = mapview.load(get_session(), now, when)
    region = current_app.extensions["tracker.region"]
    collection = mapview.feature_collection(region, incidents, exercises, now, left_off)
    return visible_in(collection)  # the page writes its names as they come: a stored control as its marker


@bp.get("/map/position")
@login_required
def position():
    """A typed position (?q=) read back in every notation, or 422 saying how it was read."""
    typed = request.args.get("q", "").strip()  # whole: geo.parse_position refuses what is too long
    try:
        return _readback(typed)
    except ValueError as exc:
        return envelope("validation_error", str(exc), {"q": typed[:MAX_TYPED]}, 422)
