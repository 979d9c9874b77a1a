"""Where a notified exercise takes place, and whether a point lies there. Pure functions.

An area is a GeoJSON Polygon geometry (WGS84 longitude, latitude) or a centre and a radius.
A polygon's edges are straight lines in longitude/latitude, as GeoJSON (RFC 7946) and the
region's sectors have them, and shapely decides containment. A circle is geodesic: a point is
inside when its WGS84 distance from the centre (pyproj's Geod) is at most the radius. A point
on the boundary of either counts as inside.

shapely and pyproj are imported where first used, not with this module: a process that never draws
an area (a CLI command, the list of commands) starts without them.
"""

import json
import math

from ...geo import plain, wgs84

# A point computed onto a slanted edge may miss it by a rounding error; 1e-9 degrees is ~0.1 mm.
EDGE_TOLERANCE_DEGREES = 1e-9
MAX_VERTICES = 2000


def _position_problem(position) -> str | None:
    if not isinstance(position, list | tuple) or len(position) not in (2, 3):
        return "each position must be [longitude, latitude]"
    if not all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in position):
        return "each position must hold two finite numbers"
    longitude, latitude = position[:2]
    if not -180 <= longitude <= 180:
        return f"longitude {longitude} is not between -180 and 180 (positions are [longitude, latitude])"
    if not -90 <= latitude <= 90:
        return f"latitude {latitude} is not between -90 and 90 (positions are [longitude, latitude])"
    return None


def _long_way_round(ring: list) -> str | None:
    """An edge more than 180 degrees of longitude long: typed across the antimeridian, it runs straight the
    other way round the Earth, and the area would hold every point between (the rest of the latitude band)."""
    for (lon_a, _, *_), (lon_b, _, *_) in zip(ring, ring[1:], strict=False):
        if abs(lon_b - lon_a) > 180:
            return (
                f"the edge from longitude {lon_a} to {lon_b} crosses the antimeridian, and a polygon's edges run "
                "straight in longitude (the long way round): give such an area as a centre and a radius"
            )
    return None


def polygon_problem(area) -> str | None:
    """Say what keeps area from being a valid GeoJSON Polygon geometry, or return None."""
    if not isinstance(area, dict) or area.get("type") != "Polygon":
        return 'must be a GeoJSON Polygon geometry: {"type": "Polygon", "coordinates": [[[lon, lat], ...]]}'
    rings = area.get("coordinates")
    if not isinstance(rings, list) or not rings or not all(isinstance(ring, list) for ring in rings):
        return "coordinates must be a list of rings, each a list of [longitude, latitude] positions"
    if sum(len(ring) for ring in rings) > MAX_VERTICES:
        return f"at most {MAX_VERTICES} positions"
    for ring in rings:
        if len(ring) < 4:
            return "a ring needs at least four positions (the last repeats the first)"
        for position in ring:
            if problem := _position_problem(position):
                return problem
        if list(ring[0][:2]) != list(ring[-1][:2]):
            return "a ring must end at the position it starts from"
        if problem := _long_way_round(ring):
            return problem
    import shapely
    from shapely.geometry import shape

    polygon = shape(area)
    if not polygon.is_valid:
        return f"not a valid polygon: {shapely.is_valid_reason(polygon)}"
    if polygon.area == 0:
        return "the polygon encloses no area"
    return None


def normalised(area: dict) -> dict:
    """The polygon as plain lists of [longitude, latitude] floats (any altitude dropped, -0 made 0)."""
    return {
        "type": "Polygon",
        "coordinates": [[[plain(float(p[0])), plain(float(p[1]))] for p in ring] for ring in area["coordinates"]],
    }


def read_area(text: str) -> dict:
    """Read a polygon written as WKT (POLYGON ((lon lat, ...))) or as GeoJSON; raise ValueError."""
    text = text.strip()
    if text.startswith("{"):
        try:
            area = json.loads(text)
        except ValueError:
            raise ValueError("not valid GeoJSON text") from None
        if isinstance(area, dict) and area.get("type") == "Feature":
            area = area.get("geometry")
    else:
        import shapely
        from shapely.errors import ShapelyError

        try:
            geometry = shapely.from_wkt(text)
        except ShapelyError:
            raise ValueError(
                "give WKT such as POLYGON ((23.5 54.2, 24.2 54.2, 24.2 54.7, 23.5 54.2)) or GeoJSON"
            ) from None
        if geometry.geom_type != "Polygon":
            raise ValueError(f"a {geometry.geom_type} is not a polygon")
        area = json.loads(shapely.to_geojson(geometry))
    problem = polygon_problem(area)
    if problem:
        raise ValueError(problem)
    return normalised(area)


def area_wkt(area: dict) -> str:
    """The polygon as WKT, for forms: every digit stored, each as short as it is written (24.5, 24.0123456789).
    Six decimals moved a vertex stored with more each time the form was saved unchanged."""
    import shapely
    from shapely.geometry import shape

    return shapely.to_wkt(shape(area), rounding_precision=-1, trim=True)


def in_polygon(area: dict, latitude: float, longitude: float) -> bool:
    """Whether the point lies inside the polygon or on its boundary."""
    import shapely
    from shapely.geometry import Point, shape

    return bool(shapely.dwithin(shape(area), Point(longitude, latitude), EDGE_TOLERANCE_DEGREES))


def distance_km(latitude: float, longitude: float, other_latitude: float, other_longitude: float) -> float:
    """The geodesic (WGS84) distance between two points in km."""
    return wgs84().inv(longitude, latitude, other_longitude, other_latitude)[2] / 1000


def in_circle(centre_latitude: float, centre_longitude: float, radius_km: float, latitude: float, longitude: float):
    """Whether the point lies at most radius_km (geodesic) from the centre."""
    return distance_km(centre_latitude, centre_longitude, latitude, longitude) <= radius_km


def covers(exercise, latitude: float, longitude: float) -> bool:
    """Whether the exercise's area (polygon, or centre and radius) holds the point, boundary included."""
    if exercise.area is not None:
        return in_polygon(exercise.area, latitude, longitude)
    if exercise.radius_km is None or exercise.centre_latitude is None or exercise.centre_longitude is None:
        return False
    return in_circle(exercise.centre_latitude, exercise.centre_longitude, exercise.radius_km, latitude, longitude)


def centre_of(exercise) -> tuple[float, float]:
    """(latitude, longitude) of the circle's centre or the polygon's centroid."""
    if exercise.area is not None:
        from shapely.geometry import shape

        centroid = shape(exercise.area).centroid
        return centroid.y, centroid.x
    return exercise.centre_latitude, exercise.centre_longitude
