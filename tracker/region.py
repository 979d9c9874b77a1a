"""The deployment's region: named sectors (polygons) and border lines, from GeoJSON under config/,
and optionally the real borders of the world (REGION_BOUNDARIES = "natural_earth").

Distances to the border are geodesic to within metres at the ranges that matter here: the
point and the border are projected into an azimuthal equidistant projection centred on the point
(pyproj), where distances from the centre are true geodesic distances, and shapely finds the
nearest point of the line there.

The real borders come from Natural Earth's 1:10m Admin 0 countries (public domain; via the npm package
world-atlas 2.0.2, ISC), built by tools/build_boundaries.py into data/natural_earth_10m_boundaries.json.gz:
land borders (a line shared by two countries) and each country's coastline. With them, the distance
to the border is the smaller of
- on land or at sea, the distance to the nearest land border between two of REGION_STATES (all
  states when empty), and
- at sea only (outside every country), the distance to the territorial sea of each of those states
  other than the one whose coast is nearest to the point (whose waters it is in, or nearest to).
  A territorial sea is approximated as reaching 12 nautical miles (22.224 km, UNCLOS art. 3) from the
  state's coastline at the 1:10m scale taken as the normal baseline (art. 5), and no further than the
  median line with another state's coast (art. 15): so the distance to it is
  max(d_state - 22.224, (d_state - d_other) / 2, 0) km, d_state the distance to that state's coast and
  d_other to the nearest coast of any other state. Straight baselines (art. 7), bays, low-tide
  elevations, agreed maritime boundaries and the coastline's generalisation (a few hundred metres at
  this scale) are not modelled: a figure at sea is an estimate to within a few km.
The data loads once per process, on the first distance asked for (about half a second), not at start.
A distance then takes about 1 ms near the states named, a few ms at sea, 17 ms at worst (mid-Pacific,
7,000 km from Estonia and Russia): the lines are cut short and kept in an STRtree, searched within
300, 1,500 and 6,000 km of the point before everywhere. Polygons cut at 180 degrees (Russia, Fiji) are
mended as they are read, and the cut itself is no coastline.

numpy, shapely and pyproj are imported where a shape is first drawn or a distance measured, not with
this module: a process that never does (a CLI command, the list of commands) starts 0.3 s sooner. The
region file is checked at start all the same, by its GeoJSON structure (_geometry_problem), and a
deployment's own file by drawing its sectors too (invalid_sector; the demo's file is drawn by the tests).
"""

from __future__ import annotations

import gzip
import json
import math
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy
    from shapely.geometry.base import BaseGeometry

NATURAL_EARTH = "natural_earth"
NATURAL_EARTH_FILE = Path(__file__).resolve().parent / "data" / "natural_earth_10m_boundaries.json.gz"
NATURAL_EARTH_STATES_FILE = NATURAL_EARTH_FILE.with_name("natural_earth_10m_states.json")
TERRITORIAL_SEA_KM = 22.224  # 12 nautical miles
# The real borders are searched for within these distances of the point first, then everywhere.
SEARCH_RADII_KM = (300.0, 1500.0, 6000.0)
CHUNK_POINTS = 32  # long coastlines are cut into pieces of this many points, so a search reads only the near ones

BASIS_NATURAL_EARTH = "natural_earth_10m"
BASIS_FICTIONAL = "fictional"
BASIS_REGION_FILE = "region_file"


# What the reports call an incident with no sector: no sector may be named so, or its incidents would be
# counted with those that have none.
NO_SECTOR = "(none)"


def reserved_sector(name: str) -> bool:
    """Whether name is the word the reports use for no sector (any case, spaces around it)."""
    return name.strip().casefold() == NO_SECTOR


@dataclass(frozen=True)
class Region:
    sector_areas: tuple[tuple[str, str], ...] = ()  # (name, GeoJSON polygon as text, lon/lat)
    border_lines: tuple[tuple[str, str], ...] = ()  # (name, GeoJSON line as text, lon/lat)
    fictional: bool = False  # the region file says it is made up ("fictional": true)
    boundaries: str = ""  # "natural_earth": distances to the real borders, not to the border lines
    states: tuple[str, ...] = ()  # with boundaries: the states whose borders count (empty: all)
    # Which sectors (by their place in sector_areas) lie beyond a border line, on the other side's side:
    # a sector's reach into waters it still answers for ("beyond_border": true), drawn as such on the map.
    beyond_border: frozenset[int] = frozenset()

    @cached_property
    def sectors(self) -> tuple[tuple[str, BaseGeometry], ...]:
        """(name, shapely polygon) of each sector, drawn on first use."""
        return _shapes(self.sector_areas)

    @cached_property
    def borders(self) -> tuple[tuple[str, BaseGeometry], ...]:
        """(name, shapely line) of each border line, drawn on first use."""
        return _shapes(self.border_lines)

    def sector_of(self, latitude: float, longitude: float) -> str | None:
        """The name of the first sector containing the point (boundary included), or None."""
        from shapely import Point

        point = Point(longitude, latitude)
        for name, polygon in self.sectors:
            if polygon.covers(point):
                return name
        return None

    def beyond_border_at(self, latitude: float, longitude: float) -> bool:
        """True when the sector the point lies in is a part beyond a border line (the other side's)."""
        from shapely import Point

        point = Point(longitude, latitude)
        for number, (_, polygon) in enumerate(self.sectors):
            if polygon.covers(point):
                return number in self.beyond_border
        return False

    def outside_sectors(self, latitude: float | None, longitude: float | None) -> bool:
        """True when the region has sectors and the position lies in none of them."""
        if latitude is None or longitude is None or not self.sectors:
            return False
        return self.sector_of(latitude, longitude) is None

    @property
    def border_basis(self) -> str | None:
        """What border_distance_km is measured against (None: no distance is measured)."""
        if self.boundaries == NATURAL_EARTH:
            return BASIS_NATURAL_EARTH
        if not self.borders:
            return None
        return BASIS_FICTIONAL if self.fictional else BASIS_REGION_FILE

    def border_distance_km(self, latitude: float, longitude: float) -> float | None:
        """Geodesic distance in km from the point to the nearest border (None: no borders)."""
        if self.boundaries == NATURAL_EARTH:
            return natural_earth().distance_km(latitude, longitude, wanted_states(self.states))
        if not self.borders:
            return None
        import shapely

        project = _projection(latitude, longitude)
        centre = shapely.Point(0, 0)
        return min(shapely.transform(line, project).distance(centre) for _, line in self.borders) / 1000


def invalid_sector(region: Region) -> str | None:
    """Why a sector is no valid polygon, by its name and shapely's reason (explain_validity: a ring that crosses
    itself, as a bow-tie does, a hole outside its polygon, parts that overlap), or None when every one is. Draws
    the sectors (shapely is loaded): the GeoJSON structure alone (_geometry_problem) cannot tell."""
    from shapely.validation import explain_validity

    for name, polygon in region.sectors:
        if not polygon.is_valid:
            return f"sector {name!r} is not a valid polygon: {explain_validity(polygon)}"
    return None


def _shapes(geometries: tuple[tuple[str, str], ...]) -> tuple[tuple[str, BaseGeometry], ...]:
    from shapely.geometry import shape

    return tuple((name, shape(json.loads(geometry))) for name, geometry in geometries)


def _projection(latitude: float, longitude: float):
    """lon/lat (degrees, arrays) -> metres in the azimuthal equidistant projection centred on the point."""
    import numpy
    from pyproj import Transformer

    # A PROJ pipeline, not from_crs: the same projection without a CRS database lookup (0.05 ms, not 10).
    local = Transformer.from_pipeline(
        "+proj=pipeline +step +proj=unitconvert +xy_in=deg +xy_out=rad "
        f"+step +proj=aeqd +lat_0={latitude} +lon_0={longitude} +ellps=WGS84"
    )

    def project(coordinates):
        x, y = local.transform(coordinates[:, 0], coordinates[:, 1])
        return numpy.column_stack([x, y])

    return project


def _spherical(latitude: float, longitude: float):
    """The same projection on a sphere, in numpy: within about 0.5 % of _projection and a hundred
    times faster, to pick the few lines that may be the nearest before measuring those exactly."""
    import numpy

    phi0, lambda0 = math.radians(latitude), math.radians(longitude)

    def project(coordinates):
        phi, dlambda = numpy.radians(coordinates[:, 1]), numpy.radians(coordinates[:, 0]) - lambda0
        cos_c = numpy.sin(phi0) * numpy.sin(phi) + numpy.cos(phi0) * numpy.cos(phi) * numpy.cos(dlambda)
        c = numpy.arccos(numpy.clip(cos_c, -1.0, 1.0))
        k = 6371008.8 * numpy.where(c < 1e-9, 1.0, c / numpy.sin(numpy.where(c < 1e-9, 1.0, c)))
        x = k * numpy.cos(phi) * numpy.sin(dlambda)
        y = k * (numpy.cos(phi0) * numpy.sin(phi) - numpy.sin(phi0) * numpy.cos(phi) * numpy.cos(dlambda))
        return numpy.column_stack([x, y])

    return project


class Boundaries:
    """The world's land borders and coastlines (Natural Earth 1:10m), cut into short lines, and the
    states' territory (to tell land from sea)."""

    def __init__(self, document: dict) -> None:
        import numpy
        import shapely

        arcs = [numpy.asarray(flat, dtype=float).reshape(-1, 2) for flat in document["arcs"]]
        pieces, first, second = [], [], []
        for arc, *states in [*document["borders"], *([a, s, -1] for a, s in document["coasts"])]:
            for points in _off_the_cut(arcs[arc]):
                for start in range(0, len(points) - 1, CHUNK_POINTS):
                    pieces.append(points[start : start + CHUNK_POINTS + 1])
                    first.append(states[0])
                    second.append(states[1])
        sizes = [len(piece) for piece in pieces]
        indices = numpy.repeat(numpy.arange(len(pieces)), sizes)
        self.lines = numpy.asarray(shapely.linestrings(numpy.concatenate(pieces), indices=indices))
        self.first = numpy.asarray(first)  # the state each line belongs to (a border: one of its two)
        self.second = numpy.asarray(second)  # a border: the other state; a coastline: -1
        self.tree = shapely.STRtree(self.lines)
        self.names = tuple(str(state["name"]) for state in document["states"])  # by state number
        self.codes = tuple(state["id"] for state in document["states"])  # ISO 3166-1 numeric, or None
        # Territory is drawn only when asked about (a state's polygons take a while to assemble).
        self._arcs = arcs
        self._rings = [state["polygons"] for state in document["states"]]
        self._territory: dict[int, BaseGeometry] = {}
        self._masks: dict[frozenset[int] | None, tuple[numpy.ndarray, numpy.ndarray]] = {}
        corners = [_corners(arcs, rings) for rings in self._rings]
        self._extent = shapely.STRtree([shapely.box(*corner) for corner in corners])

    def on_land(self, latitude: float, longitude: float) -> bool:
        import shapely

        point = shapely.Point(longitude, latitude)
        for state in self._extent.query(point).tolist():
            if state not in self._territory:
                self._territory[state] = _territory(self._arcs, self._rings[state])
                shapely.prepare(self._territory[state])
            if self._territory[state].covers(point):
                return True
        return False

    def distance_km(self, latitude: float, longitude: float, wanted: frozenset[int] | None) -> float | None:
        """The distance to the border (see the module's docstring); wanted: state numbers, None: all."""
        borders, coasts = self._relevant(wanted)
        point = (latitude, longitude, _spherical(latitude, longitude), _projection(latitude, longitude))
        distance, _ = self._nearest(point, borders)
        if not self.on_land(latitude, longitude):
            home_km, home = self._nearest(point, self.second < 0)  # whose waters it is in, or nearest to
            foreign_km, _ = self._nearest(point, coasts & (self.first != home))
            distance = min(distance, territorial_sea_km(foreign_km, home_km))
        return None if math.isinf(distance) else distance

    def _relevant(self, wanted: frozenset[int] | None) -> tuple[numpy.ndarray, numpy.ndarray]:
        """Which lines are land borders between two wanted states, and which are their coastlines."""
        import numpy

        if wanted not in self._masks:
            borders, coasts = self.second >= 0, self.second < 0
            if wanted is not None:
                borders = borders & numpy.isin(self.first, list(wanted)) & numpy.isin(self.second, list(wanted))
                coasts = coasts & numpy.isin(self.first, list(wanted))
            self._masks[wanted] = (borders, coasts)
        return self._masks[wanted]

    def _nearest(self, point: tuple, relevant: numpy.ndarray) -> tuple[float, int]:
        """The geodesic distance in km to the nearest of the relevant lines and its state (inf, -1: none),
        searched within growing distances of the point first, then everywhere; point: latitude,
        longitude and the two projections centred on it (_spherical, _projection)."""
        import numpy
        import shapely

        origin = shapely.Point(0, 0)
        latitude, longitude, spherical, projection = point
        for radius in (*SEARCH_RADII_KM, math.inf):
            near = self._within(latitude, longitude, radius) if radius < math.inf else numpy.flatnonzero(relevant)
            near = near[relevant[near]]
            if len(near) == 0:
                continue
            # On the sphere first (fast, within 0.5 %), then exactly for those that may be the nearest.
            rough = shapely.distance(shapely.transform(self.lines[near], spherical), origin)
            near = near[rough <= rough.min() * 1.01 + 500]
            exact = shapely.distance(shapely.transform(self.lines[near], projection), origin)
            best = int(numpy.argmin(exact))
            if exact[best] / 1000 <= radius:  # every line not searched is farther than radius
                return float(exact[best]) / 1000, int(self.first[near[best]])
        return math.inf, -1

    def _within(self, latitude: float, longitude: float, radius_km: float) -> numpy.ndarray:
        """The lines that may come within radius_km of the point: those meeting a lon/lat box that holds
        every such point (two boxes where it crosses 180 degrees)."""
        import numpy
        import shapely

        dlat = radius_km / 110.5  # a degree of latitude is at least 110.57 km
        south, north = max(latitude - dlat, -90.0), min(latitude + dlat, 90.0)
        dlon = 180.0
        if abs(latitude) + dlat < 89.0:
            dlon = min(radius_km / (111.3 * math.cos(math.radians(abs(latitude) + dlat))), 180.0)
        west, east = longitude - dlon, longitude + dlon
        boxes = [shapely.box(max(west, -180.0), south, min(east, 180.0), north)]
        if west < -180.0:
            boxes.append(shapely.box(west + 360.0, south, 180.0, north))
        if east > 180.0:
            boxes.append(shapely.box(-180.0, south, east - 360.0, north))
        return numpy.unique(self.tree.query(boxes)[1])


def territorial_sea_km(foreign_km: float, home_km: float) -> float:
    """The distance to another state's territorial sea from a point foreign_km off that state's coast
    and home_km off the nearest coast of any state (its own waters' state): 12 nautical miles off the
    coast, and no further than the median line between the two coasts."""
    if math.isinf(foreign_km):
        return math.inf
    return max(foreign_km - TERRITORIAL_SEA_KM, (foreign_km - home_km) / 2, 0.0)


@cache
def natural_earth() -> Boundaries:
    """The Natural Earth borders and coastlines, read once per process."""
    with gzip.open(NATURAL_EARTH_FILE, "rt", encoding="utf-8") as handle:
        return Boundaries(json.load(handle))


def _corners(arcs: list[numpy.ndarray], polygons: list) -> tuple[float, float, float, float]:
    """A state's bounding box from the arcs of its outer rings."""
    import numpy

    used = [arcs[i if i >= 0 else ~i] for rings in polygons for i in rings[0]]
    if not used:
        return (0.0, 0.0, 0.0, 0.0)
    points = numpy.concatenate(used)
    return (*points.min(axis=0), *points.max(axis=0))


def _territory(arcs: list[numpy.ndarray], polygons: list) -> BaseGeometry:
    """A state's (multi)polygon from TopoJSON rings of arc indices (~i: arc i reversed)."""
    import shapely

    parts = []
    for rings in polygons:
        coordinates = [_ring(arcs, ring) for ring in rings]
        if len(coordinates[0]) >= 4:  # an islet rounded to nothing is left out
            parts.append(shapely.Polygon(coordinates[0], [hole for hole in coordinates[1:] if len(hole) >= 4]))
    return shapely.MultiPolygon(parts)


def _ring(arcs: list[numpy.ndarray], ring: list[int]) -> numpy.ndarray:
    import numpy

    pieces = [arcs[i] if i >= 0 else arcs[~i][::-1] for i in ring]
    return _one_side_of_the_cut(numpy.concatenate([pieces[0], *(piece[1:] for piece in pieces[1:])]))


def _off_the_cut(points: numpy.ndarray) -> list[numpy.ndarray]:
    """A border or coastline without its stretches along the antimeridian (where a polygon is cut, not
    a coast), each point on the cut put on the side of its neighbour."""
    import numpy

    on = numpy.abs(points[:, 0]) == 180.0
    if not on.any():
        return [points]
    runs, start = [], 0
    for segment in numpy.flatnonzero(on[:-1] & on[1:]).tolist():  # from point segment to segment + 1
        if segment > start:
            runs.append(points[start : segment + 1])
        start = segment + 1
    if start < len(points) - 1:
        runs.append(points[start:])
    return [_one_side_of_the_cut(run, closed=False) for run in runs]


def _one_side_of_the_cut(points: numpy.ndarray, closed: bool = True) -> numpy.ndarray:
    """The ring with its points on the antimeridian (longitude -180 or 180) on the side of their
    neighbours. A polygon cut at 180 degrees (Russia, Fiji, Antarctica) shares the cut's arc with the
    part across it, so in one of them the arc lies at the wrong end of the map, and the flat ring would
    run around the world (the sea at 67 N, 5 E was Russia's). A point between neighbours on both sides
    (Antarctica's closing along the pole) is left alone."""
    import numpy

    cut = numpy.abs(points[:, 0]) == 180.0
    off = numpy.flatnonzero(~cut)
    if not cut.any() or not len(off):
        return points
    fixed = points.copy()
    for index in numpy.flatnonzero(cut).tolist():
        at = int(numpy.searchsorted(off, index))
        if closed:  # a ring: its neighbours wrap around
            before, after = points[off[at - 1], 0], points[off[at % len(off)], 0]
        else:  # a line: an end on the cut has one neighbour
            before = points[off[max(at - 1, 0)], 0]
            after = points[off[min(at, len(off) - 1)], 0]
        if (before > 0) == (after > 0):
            fixed[index, 0] = 180.0 if before > 0 else -180.0
    return fixed


def check_states(states: tuple[str, ...]) -> None:
    """Refuse (ValueError) a name or code in REGION_STATES that is no state of the Natural Earth data;
    reads only the small list of names (natural_earth_10m_states.json), so it is cheap at start."""
    known = json.loads(NATURAL_EARTH_STATES_FILE.read_text())
    unknown = [given for given in states if not _matching(str(given), known)]
    if unknown:
        raise ValueError(f"REGION_STATES: no state {', '.join(map(repr, unknown))} in the Natural Earth data")


def _matching(given: str, names_and_codes) -> list[int]:
    key = given.strip().casefold()
    return [
        number
        for number, (name, code) in enumerate(names_and_codes)
        if key in (name.casefold(), (code or "").lstrip("0"), code)
    ]


@cache
def wanted_states(states: tuple[str, ...]) -> frozenset[int] | None:
    """The state numbers named in REGION_STATES (a name or ISO 3166-1 numeric code; None: all states)."""
    if not states:
        return None
    data = natural_earth()
    wanted, unknown = set(), []
    for given in states:
        numbers = _matching(str(given), zip(data.names, data.codes, strict=True))
        wanted.update(numbers) if numbers else unknown.append(given)
    if unknown:
        raise ValueError(f"REGION_STATES: no state {', '.join(map(repr, unknown))} in the Natural Earth data")
    return frozenset(wanted)


def parse(document: object, boundaries: str = "", states: tuple[str, ...] = ()) -> Region:
    """Read a FeatureCollection: features with properties.kind "sector" (Polygon/MultiPolygon)
    or "border" (LineString/MultiLineString) and properties.name; a top-level "fictional": true
    marks a made-up region (distances measured on it are not told to the other side); a sector with
    properties.beyond_border true is a part of it beyond a border line (its name routes as the sector's)."""
    # Any JSON reads: an array, a text or a feature that is no object ended the start in an AttributeError.
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise ValueError("the region file must be a GeoJSON FeatureCollection")
    sectors: list[tuple[str, str]] = []
    borders: list[tuple[str, str]] = []
    beyond: set[int] = set()
    for number, feature in enumerate(document.get("features", []), start=1):
        if not isinstance(feature, dict) or not isinstance(properties := feature.get("properties") or {}, dict):
            raise ValueError(f"feature {number} must be a GeoJSON Feature, its properties an object")
        kind, name = properties.get("kind"), properties.get("name")
        if not name:
            raise ValueError(f"feature {number} has no properties.name")
        if not isinstance(name, str) or not name.strip():  # 7 or ["A"]: a sector no officer can type or pick
            raise ValueError(f"feature {number}: properties.name must be a text, not {name!r}")
        geometry, shapes = feature["geometry"], _KINDS.get(kind) if isinstance(kind, str) else None
        if shapes is None or not isinstance(geometry, dict) or geometry.get("type") not in shapes:
            raise ValueError(f"feature {number} ({name}): kind must be sector (polygon) or border (line)")
        if problem := _geometry_problem(geometry):
            raise ValueError(f"feature {number} ({name}): {problem}")
        if kind == "sector" and reserved_sector(name):
            raise ValueError(f"feature {number}: {NO_SECTOR!r} is what the reports call no sector; name it otherwise")
        if not isinstance(across := properties.get("beyond_border", False), bool) or (across and kind != "sector"):
            raise ValueError(f"feature {number} ({name}): beyond_border must be true or false, and only on a sector")
        if across:
            beyond.add(len(sectors))
        (sectors if kind == "sector" else borders).append((name, json.dumps(geometry)))
    fictional = document.get("fictional", False)
    if not isinstance(fictional, bool):
        raise ValueError("fictional must be true or false")
    return Region(tuple(sectors), tuple(borders), fictional, boundaries, tuple(states), frozenset(beyond))


_KINDS: dict[str, tuple[str, ...]] = {
    "sector": ("Polygon", "MultiPolygon"),
    "border": ("LineString", "MultiLineString"),
}
# How deep a geometry's lists of positions lie in its coordinates.
_DEPTH = {"LineString": 0, "MultiLineString": 1, "Polygon": 1, "MultiPolygon": 2}


def _geometry_problem(geometry: dict) -> str | None:
    """What keeps a GeoJSON (multi)polygon or (multi)line from being drawn, or None: the checks shapely
    would make, without loading it at start."""
    lines: list = [geometry.get("coordinates")]
    for _ in range(_DEPTH[geometry["type"]]):
        if not all(isinstance(part, list) and part for part in lines):
            return f"the coordinates are not nested as a {geometry['type']}'s"
        lines = [line for part in lines for line in part]
    least = 4 if "Polygon" in geometry["type"] else 2  # a ring closes on its first position
    for line in lines:
        if not isinstance(line, list) or not all(_is_position(position) for position in line):
            return f"each position must be [longitude, latitude] in finite numbers, nested as a {geometry['type']}'s"
        if len(line) < least:
            return f"each {'ring' if least == 4 else 'line'} needs at least {least} positions"
    return None


def _is_position(position: object) -> bool:
    return (
        isinstance(position, list)
        and len(position) in (2, 3)
        and all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in position)
    )


@cache
def load(path: str, boundaries: str = "", states: tuple[str, ...] = ()) -> Region:
    """The region described by the GeoJSON file at path (no sectors nor border lines when path is
    empty), measuring distances to the real borders with boundaries "natural_earth" (read lazily)."""
    if boundaries not in ("", NATURAL_EARTH):
        raise ValueError(f"REGION_BOUNDARIES must be empty or {NATURAL_EARTH!r}, not {boundaries!r}")
    if not path:
        return Region((), (), False, boundaries, tuple(states))
    return parse(json.loads(Path(path).read_text()), boundaries, tuple(states))
