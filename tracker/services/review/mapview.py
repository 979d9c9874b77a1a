"""The map: sectors, border lines, active exercise areas and open incidents, projected on the server
into SVG coordinates (no tiles, no scripts), and the same data as GeoJSON.

The projection is equirectangular with the longitude scaled by the cosine of the middle latitude:
over a region a few hundred km across, distances read off the map are true to within a percent,
and it needs nothing but arithmetic. pyproj's Geod draws the geodesic circles and the scale bar.
"""

import json
import math
from dataclasses import dataclass, field
from datetime import datetime

import shapely
from pyproj import Geod
from shapely.geometry import Point, Polygon, shape
from sqlalchemy import select
from sqlalchemy.orm import Session

from ...geo import Position
from ...models import ExerciseNotice, Incident, IncidentStatus, Precedence
from ...models.enums import category_label
from ...timeutil import format_dtg, isoformat

WGS84 = Geod(ellps="WGS84")
OPEN = (IncidentStatus.OPEN, IncidentStatus.ACKNOWLEDGED, IncidentStatus.EXHAUSTED)
CIRCLE_POINTS = 64
WIDTH, MAX_HEIGHT = 960.0, 760.0
MARGIN = 0.06  # of the span, added on every side of what is drawn
MIN_SPAN_DEGREES = 0.2  # a lone incident still gets a map around it
LEGEND_WIDTH, LEGEND_HEIGHT = 230.0, 330.0  # a column to the right of the map


@dataclass(frozen=True)
class Bounds:
    west: float
    south: float
    east: float
    north: float

    @classmethod
    def around(cls, geometries) -> "Bounds | None":
        """The box around shapely geometries in lon/lat (None when there are none)."""
        boxes = [g.bounds for g in geometries if g is not None and not g.is_empty]
        if not boxes:
            return None
        return cls(
            min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes)
        )

    def padded(self, fraction: float = MARGIN, min_span: float = MIN_SPAN_DEGREES) -> "Bounds":
        """Grow the box by fraction of its span on every side, and to at least min_span degrees."""
        grow_x = max(self.east - self.west, min_span) * (0.5 + fraction) - (self.east - self.west) / 2
        grow_y = max(self.north - self.south, min_span) * (0.5 + fraction) - (self.north - self.south) / 2
        return Bounds(
            self.west - grow_x, max(self.south - grow_y, -89.9), self.east + grow_x, min(self.north + grow_y, 89.9)
        )

    def covers(self, longitude: float, latitude: float) -> bool:
        return self.west <= longitude <= self.east and self.south <= latitude <= self.north


class Projection:
    """WGS84 lon/lat to SVG x/y over bounds: north-west corner at (0, 0), y grows southward, the
    longitude scaled by cos(middle latitude) so that a km is as long across as up and down."""

    def __init__(self, bounds: Bounds, width: float = WIDTH, max_height: float = MAX_HEIGHT):
        self.bounds = bounds
        self.x_factor = math.cos(math.radians((bounds.south + bounds.north) / 2))
        span_x = (bounds.east - bounds.west) * self.x_factor
        span_y = bounds.north - bounds.south
        self.scale = min(width / span_x, max_height / span_y)  # px per degree of latitude
        self.width = round(span_x * self.scale, 1)
        self.height = round(span_y * self.scale, 1)

    def point(self, longitude: float, latitude: float) -> tuple[float, float]:
        x = (longitude - self.bounds.west) * self.x_factor * self.scale
        y = (self.bounds.north - latitude) * self.scale
        return round(x, 1), round(y, 1)

    def points(self, coordinates) -> str:
        """An SVG points list ("x,y x,y ...") for lon/lat pairs."""
        return " ".join("{},{}".format(*self.point(lon, lat)) for lon, lat, *_ in coordinates)

    def path(self, geometry) -> str:
        """SVG path data for a (multi)polygon, holes included (draw with fill-rule evenodd)."""
        parts = getattr(geometry, "geoms", [geometry])
        rings = [ring for polygon in parts for ring in (polygon.exterior, *polygon.interiors)]
        return " ".join(f"M{self.points(ring.coords)}Z" for ring in rings)

    def km_per_px(self) -> float:
        middle = (self.bounds.west + self.bounds.east) / 2
        _, _, metres = WGS84.inv(middle, self.bounds.south, middle, self.bounds.north)
        return metres / 1000 / ((self.bounds.north - self.bounds.south) * self.scale)


def circle(latitude: float, longitude: float, radius_km: float, points: int = CIRCLE_POINTS) -> Polygon:
    """A geodesic circle as a polygon of points vertices, each radius_km from the centre."""
    azimuths = [360 * i / points for i in range(points)]
    lons, lats, _ = WGS84.fwd([longitude] * points, [latitude] * points, azimuths, [radius_km * 1000] * points)
    return Polygon([(round(lon, 6), round(lat, 6)) for lon, lat in zip(lons, lats, strict=True)])


def exercise_area(exercise: ExerciseNotice):
    """The exercise's area as a shapely (multi)polygon: its GeoJSON polygon, else its circle, else None."""
    if exercise.area:
        geometry = exercise.area.get("geometry", exercise.area)  # a Feature is taken for its geometry
        area = shape(geometry)
        return area if area.geom_type in ("Polygon", "MultiPolygon") else None
    latitude, longitude, radius_km = exercise.centre_latitude, exercise.centre_longitude, exercise.radius_km
    if latitude is not None and longitude is not None and radius_km is not None:
        return circle(latitude, longitude, radius_km)
    return None


def nice_length(km: float) -> float:
    """The largest 1, 2 or 5 times a power of ten that is not above km."""
    power = 10 ** math.floor(math.log10(km))
    return max(step * power for step in (1, 2, 5) if step * power <= km)


def load(session: Session, now: datetime) -> tuple[list[Incident], list[ExerciseNotice]]:
    """Incidents not yet resolved, and exercises under way now."""
    incidents = session.scalars(
        select(Incident).where(Incident.status.in_(OPEN)).order_by(Incident.occurred_at, Incident.id).limit(2000)
    )
    exercises = session.scalars(
        select(ExerciseNotice)
        .where(ExerciseNotice.starts_at <= now, ExerciseNotice.ends_at >= now)
        .order_by(ExerciseNotice.starts_at, ExerciseNotice.id)
    )
    return list(incidents), list(exercises)


def _where(incident: Incident) -> Position:
    """The position of an incident that has one (only those are drawn, described and exported)."""
    if incident.latitude is None or incident.longitude is None:
        raise ValueError(f"{incident.reference} has no position")
    return Position(incident.latitude, incident.longitude, incident.position_text or "")


def describe(incident: Incident) -> str:
    """The tooltip of a marker: what, when, and where in every notation staff use."""
    where = _where(incident)
    return "\n".join(
        (
            f"{incident.reference} · {incident.precedence.name} · {incident.status.value}",
            f"{category_label(incident.category)} · {format_dtg(incident.occurred_at)}",
            where.decimal,
            where.dms,
            f"MGRS {where.mgrs}",
        )
    )


@dataclass(frozen=True)
class Area:
    name: str
    path: str
    label: tuple[float, float]
    title: str = ""


@dataclass(frozen=True)
class Line:
    name: str
    parts: tuple[str, ...]


@dataclass(frozen=True)
class Marker:
    reference: str
    precedence: str
    status: str
    x: float
    y: float
    title: str


@dataclass(frozen=True)
class ScaleBar:
    km: float
    px: float


@dataclass
class Picture:
    """Everything the map template draws, in SVG coordinates."""

    region_configured: bool
    projection: Projection | None = None
    sectors: list[Area] = field(default_factory=list)
    borders: list[Line] = field(default_factory=list)
    exercises: list[Area] = field(default_factory=list)
    markers: list[Marker] = field(default_factory=list)
    outside: list[Incident] = field(default_factory=list)  # positioned beyond the map's edge
    unplaced: list[Incident] = field(default_factory=list)  # no position given
    scale: ScaleBar | None = None
    probe: tuple[float, float] | None = None
    precedences: tuple[Precedence, ...] = tuple(Precedence)

    @property
    def view_width(self) -> float:
        return self._projected().width + LEGEND_WIDTH

    @property
    def view_height(self) -> float:
        return max(self._projected().height, LEGEND_HEIGHT)

    def _projected(self) -> Projection:
        if self.projection is None:  # nothing to place: the template draws no map
            raise AttributeError("a picture with nothing placed has no size")
        return self.projection


def draw(region, incidents: list[Incident], exercises: list[ExerciseNotice], probe: Position | None = None) -> Picture:
    """Project the region, the exercises, the incidents (and a position someone typed) into a Picture."""
    picture = Picture(region_configured=bool(region.sectors or region.borders))
    areas = [(e, a) for e in exercises if (a := exercise_area(e)) is not None]
    placed = [(i, _where(i)) for i in incidents if i.latitude is not None]
    picture.unplaced = [i for i in incidents if i.latitude is None]
    if picture.region_configured:
        bounds = Bounds.around([g for _, g in (*region.sectors, *region.borders)])
    else:  # no region: whatever there is to show decides the extent
        extra = [Point(probe.longitude, probe.latitude)] if probe else []
        bounds = Bounds.around([Point(w.longitude, w.latitude) for _, w in placed] + [a for _, a in areas] + extra)
    if bounds is None:
        picture.unplaced = incidents
        return picture
    project = picture.projection = Projection(bounds.padded())
    for name, polygon in region.sectors:
        label = polygon.representative_point()
        picture.sectors.append(Area(name, project.path(polygon), project.point(label.x, label.y)))
    for name, line in region.borders:
        parts = getattr(line, "geoms", [line])
        picture.borders.append(Line(name, tuple(project.points(part.coords) for part in parts)))
    for exercise, area in areas:
        label = area.representative_point()
        when = f"{format_dtg(exercise.starts_at)} to {format_dtg(exercise.ends_at)}"
        picture.exercises.append(Area(exercise.name, project.path(area), project.point(label.x, label.y), when))
    # The most urgent are drawn last, on top.
    for incident, where in sorted(placed, key=lambda p: (-p[0].precedence.rank, p[0].occurred_at, p[0].id)):
        if not project.bounds.covers(where.longitude, where.latitude):
            picture.outside.append(incident)
            continue
        x, y = project.point(where.longitude, where.latitude)
        picture.markers.append(
            Marker(incident.reference, incident.precedence.value, incident.status.value, x, y, describe(incident))
        )
    if probe and project.bounds.covers(probe.longitude, probe.latitude):
        picture.probe = project.point(probe.longitude, probe.latitude)
    km = nice_length(min(project.width / 4, LEGEND_WIDTH - 60) * project.km_per_px())
    picture.scale = ScaleBar(km, round(km / project.km_per_px(), 1))
    return picture


def _geometry(geometry) -> dict:
    return json.loads(shapely.to_geojson(geometry))


def _feature(geometry: dict, **properties) -> dict:
    return {"type": "Feature", "geometry": geometry, "properties": properties}


def feature_collection(region, incidents: list[Incident], exercises: list[ExerciseNotice]) -> dict:
    """The map's data as a GeoJSON FeatureCollection (RFC 7946), each feature with properties.kind."""
    features = [_feature(_geometry(g), kind="sector", name=n) for n, g in region.sectors]
    features += [_feature(_geometry(g), kind="border", name=n) for n, g in region.borders]
    for exercise in exercises:
        area = exercise_area(exercise)
        if area is not None:
            features.append(
                _feature(
                    _geometry(area),
                    kind="exercise",
                    id=exercise.id,
                    name=exercise.name,
                    starts_at=isoformat(exercise.starts_at),
                    ends_at=isoformat(exercise.ends_at),
                    radius_km=None if exercise.area else exercise.radius_km,
                )
            )
    for incident in incidents:
        if incident.latitude is None:
            continue
        where = _where(incident)
        features.append(
            _feature(
                {"type": "Point", "coordinates": [incident.longitude, incident.latitude]},
                kind="incident",
                reference=incident.reference,
                precedence=incident.precedence.value,
                precedence_name=incident.precedence.name,
                status=incident.status.value,
                domain=incident.domain.value,
                category=incident.category,
                occurred_at=isoformat(incident.occurred_at),
                occurred_dtg=format_dtg(incident.occurred_at),
                sector=incident.sector,
                position={"decimal": where.decimal, "dms": where.dms, "mgrs": where.mgrs},
            )
        )
    return {
        "type": "FeatureCollection",
        "region_configured": bool(region.sectors or region.borders),
        "unplaced": [i.reference for i in incidents if i.latitude is None],
        "features": features,
    }
