"""The map page: sectors, border lines, active exercises and open incidents, drawn on the server."""

from flask import Blueprint, current_app, render_template, request
from flask_login import login_required

from ..db import get_session
from ..geo import parse_position
from ..services.review import mapview
from ..timeutil import utcnow

bp = Blueprint("mapview", __name__)


@bp.get("/map")
@login_required
def show():
    """The map; ?at= shows a position typed as decimal degrees, DMS, DDM or MGRS, read back in each."""
    region = current_app.extensions["tracker.region"]
    typed = request.args.get("at", "").strip()[:120]
    probe = problem = None
    if typed:
        try:
            probe = parse_position(typed)
        except ValueError as exc:
            problem = str(exc)
    incidents, exercises = mapview.load(get_session(), utcnow())
    picture = mapview.draw(region, incidents, exercises, probe)
    return render_template(
        "web/map.html",
        picture=picture,
        incidents=incidents,
        exercises=exercises,
        typed=typed,
        probe=probe,
        problem=problem,
        probe_sector=region.sector_of(probe.latitude, probe.longitude) if probe else None,
        probe_border_km=region.border_distance_km(probe.latitude, probe.longitude) if probe else None,
    ), (422 if problem else 200)
