"""The map's data: sectors, border lines, exercise areas and open incidents as one GeoJSON
FeatureCollection (RFC 7946), which the map page draws with Leaflet and /api/v1/map serves.

Exercise areas are sent whole, as notified: an area that reaches across the border line is drawn
across it. A circle is sent as a geodesic polygon (pyproj's Geod), since GeoJSON has no circle.
"""

import json
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from ...geo import Position, wgs84
from ...models import ExerciseNotice, Incident, IncidentStatus, Precedence
from ...models.enums import category_label
from ...models.labels import label
from ...timeutil import format_dtg, isoformat
from ..exercises.vienna import notice_of, notification_time
from ..incidents import marking

if TYPE_CHECKING:  # shapely is imported on first use (a process that draws no map never loads it)
    from shapely.geometry import MultiPolygon, Polygon

OPEN = (IncidentStatus.OPEN, IncidentStatus.ACKNOWLEDGED, IncidentStatus.EXHAUSTED)
CIRCLE_POINTS = 64
MAX_INCIDENTS = 2000
MAX_EXERCISES = 500
PAST_DAYS = 30
# Which exercises the map shows: the words people choose between, in the order they are offered.
WHEN = {
    "running": "under way",
    "upcoming": "upcoming",
    "past": f"over in the last {PAST_DAYS} days",
    "all": "all",
}


def circle(
    latitude: float, longitude: float, radius_km: float, points: int = CIRCLE_POINTS
) -> "Polygon | MultiPolygon":
    """A geodesic circle as a polygon of points vertices, each radius_km from the centre; one that
    reaches across the antimeridian is cut there into two polygons (RFC 7946, 3.1.9), not sent as a
    ring whose edges jump from +180 to -180 and back, which a map draws as a band round the globe."""
    from shapely.affinity import translate
    from shapely.geometry import MultiPolygon, Polygon, box

    azimuths = [360 * i / points for i in range(points)]
    lons, lats, _ = wgs84().fwd([longitude] * points, [latitude] * points, azimuths, [radius_km * 1000] * points)
    if (pole := _pole_inside(latitude, longitude, radius_km)) is not None:
        return _polar_cap(list(lons), list(lats), pole)
    # Each vertex on the centre's side of the antimeridian (pyproj folds longitudes into -180..180).
    unwrapped = [longitude + (lon - longitude + 180) % 360 - 180 for lon in lons]
    polygon = Polygon([(round(lon, 6), round(lat, 6)) for lon, lat in zip(unwrapped, lats, strict=True)])
    west, _, east, _ = polygon.bounds
    if west >= -180 and east <= 180:
        return polygon
    world = box(-180, -90, 180, 90)
    beyond = translate(polygon.difference(world), xoff=-360 if east > 180 else 360)
    parts = [p for piece in (polygon.intersection(world), beyond) for p in getattr(piece, "geoms", [piece])]
    return MultiPolygon([p for p in parts if isinstance(p, Polygon) and not p.is_empty])


def _pole_inside(latitude: float, longitude: float, radius_km: float) -> float | None:
    """90 or -90 if the circle holds that pole, else None."""
    for pole in (90.0, -90.0):
        _, _, metres = wgs84().inv(longitude, latitude, longitude, pole)
        if metres < radius_km * 1000:
            return pole
    return None


def _polar_cap(lons: list[float], lats: list[float], pole: float) -> "Polygon":
    """A circle round a pole: its edge runs once round the globe, so as a ring of its vertices it would
    leave the pole outside (a band with a wedge missing). In longitude and latitude it is the area
    between the edge and the pole: the edge from -180 to 180, closed along the pole's latitude."""
    from shapely.geometry import Polygon

    edge = sorted(zip(lons, lats, strict=True))
    (west_lon, west_lat), (east_lon, east_lat) = edge[0], edge[-1]
    # Where the edge crosses the antimeridian, between its easternmost and (a turn on) its westernmost vertex.
    span = west_lon + 360 - east_lon
    crossing = east_lat + (west_lat - east_lat) * ((180 - east_lon) / span if span else 0.5)
    ring = [(-180.0, crossing), *edge, (180.0, crossing), (180.0, pole), (-180.0, pole)]
    return Polygon([(round(lon, 6), round(lat, 6)) for lon, lat in ring])


def exercise_area(exercise: ExerciseNotice):
    """The exercise's area as a shapely (multi)polygon: its GeoJSON polygon, else its circle, else None."""
    if exercise.area:
        from shapely.geometry import shape

        geometry = exercise.area.get("geometry", exercise.area)  # a Feature is taken for its geometry
        area = shape(geometry)
        return area if area.geom_type in ("Polygon", "MultiPolygon") else None
    latitude, longitude, radius_km = exercise.centre_latitude, exercise.centre_longitude, exercise.radius_km
    if latitude is not None and longitude is not None and radius_km is not None:
        return circle(latitude, longitude, radius_km)
    return None


def phase(exercise: ExerciseNotice, now: datetime) -> str:
    """running, upcoming or past."""
    if exercise.starts_at > now:
        return "upcoming"
    return "past" if exercise.ends_at < now else "running"


def load(session: Session, now: datetime, when: str = "running") -> tuple[list[Incident], list[ExerciseNotice], int]:
    """Incidents not yet resolved, and the exercises when asks for (a key of WHEN), and how many open
    incidents were left off. Beyond MAX_INCIDENTS the most urgent are kept, the newest first within a
    precedence, as the map lists them: the oldest ROUTINE go, never a new FLASH."""
    if when not in WHEN:
        raise ValueError(f"exercises: one of {', '.join(WHEN)}")
    rank = case({p.value: p.rank for p in Precedence}, value=Incident.precedence, else_=len(Precedence))
    incidents = list(
        session.scalars(
            select(Incident)
            .where(Incident.status.in_(OPEN))
            .order_by(rank, Incident.occurred_at.desc(), Incident.id.desc())
            .limit(MAX_INCIDENTS)
        )
    )
    left_off = 0
    if len(incidents) == MAX_INCIDENTS:
        total = session.scalar(select(func.count()).select_from(Incident).where(Incident.status.in_(OPEN))) or 0
        left_off = total - len(incidents)
    query = select(ExerciseNotice)
    if when == "running":
        query = query.where(ExerciseNotice.starts_at <= now, ExerciseNotice.ends_at >= now)
    elif when == "upcoming":
        query = query.where(ExerciseNotice.starts_at > now)
    elif when == "past":
        query = query.where(ExerciseNotice.ends_at < now, ExerciseNotice.ends_at >= now - timedelta(days=PAST_DAYS))
    exercises = session.scalars(query.order_by(ExerciseNotice.starts_at, ExerciseNotice.id).limit(MAX_EXERCISES))
    return incidents, list(exercises), left_off


def _where(incident: Incident) -> Position:
    """The position of an incident that has one (only those are drawn and exported)."""
    if incident.latitude is None or incident.longitude is None:
        raise ValueError(f"{incident.reference} has no position")
    return Position(incident.latitude, incident.longitude, incident.position_text or "")


def most_urgent_first(incidents: list[Incident]) -> list[Incident]:
    """FLASH before IMMEDIATE before PRIORITY before ROUTINE, the newest first within each."""
    newest_first = sorted(incidents, key=lambda i: (i.occurred_at, i.id), reverse=True)
    return sorted(newest_first, key=lambda i: i.precedence.rank)


def _geometry(geometry) -> dict:
    """The shape as GeoJSON, each polygon's exterior counter-clockwise and its holes clockwise: RFC 7946 (3.1.6)
    says a ring MUST follow the right-hand rule, and a circle's vertices come clockwise (azimuths turn from north
    to east), as may a polygon typed in or a deployment's region file."""
    import shapely

    return json.loads(shapely.to_geojson(shapely.orient_polygons(geometry)))


def _feature(geometry: dict, **properties) -> dict:
    return {"type": "Feature", "geometry": geometry, "properties": properties}


def _exercise(exercise: ExerciseNotice, area, now: datetime) -> dict:
    return _feature(
        _geometry(area),
        kind="exercise",
        id=exercise.id,
        name=exercise.name,
        phase=phase(exercise, now),
        starts_at=isoformat(exercise.starts_at),
        ends_at=isoformat(exercise.ends_at),
        starts_dtg=format_dtg(exercise.starts_at),
        ends_dtg=format_dtg(exercise.ends_at),
        states=list(exercise.states or []),
        radius_km=None if exercise.area else exercise.radius_km,
        # When the other side was told (ours: our first briefing); None: no notification on record.
        notified_at=isoformat(told := notification_time(notice_of(exercise))),
        notified_dtg=format_dtg(told) if told is not None else None,
    )


def _incident(incident: Incident, region) -> dict:
    where = _where(incident)
    return _feature(
        {"type": "Point", "coordinates": [incident.longitude, incident.latitude]},
        kind="incident",
        reference=incident.reference,
        precedence=incident.precedence.value,
        precedence_name=incident.precedence.name,
        status=incident.status.value,
        status_label=label(incident.status),
        domain=incident.domain.value,
        category=incident.category,
        category_label=category_label(incident.category),
        occurred_at=isoformat(incident.occurred_at),
        occurred_dtg=format_dtg(incident.occurred_at),
        sector=incident.sector,
        outside_sectors=region.outside_sectors(incident.latitude, incident.longitude),
        position={"decimal": where.decimal, "dms": where.dms, "mgrs": where.mgrs},
        marking=marking.of(incident),  # as each feature of the GeoJSON export: how to handle its position
    )


def feature_collection(
    region, incidents: list[Incident], exercises: list[ExerciseNotice], now: datetime, left_off: int = 0
) -> dict:
    """The map's data as a GeoJSON FeatureCollection, each feature with properties.kind: the sectors,
    the border lines, the exercises (with their phase at now), then the incidents most urgent first;
    left_off (a foreign member) counts the open incidents beyond MAX_INCIDENTS, drawn nowhere."""
    features = [
        _feature(_geometry(g), kind="sector", name=n, beyond_border=number in region.beyond_border)
        for number, (n, g) in enumerate(region.sectors)
    ]
    features += [_feature(_geometry(g), kind="border", name=n) for n, g in region.borders]
    features += [_exercise(e, area, now) for e in exercises if (area := exercise_area(e)) is not None]
    features += [_incident(i, region) for i in most_urgent_first(incidents) if i.latitude is not None]
    return {
        "type": "FeatureCollection",
        "region_configured": bool(region.sectors or region.borders),
        "unplaced": [i.reference for i in most_urgent_first(incidents) if i.latitude is None],
        "left_off": left_off,
        "features": features,
    }
