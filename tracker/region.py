"""The deployment's region: named sectors (polygons) and border lines, from GeoJSON under config/.

Distances to the border are geodesic to within metres at the ranges that matter here: the
point and the border are projected into an azimuthal equidistant projection centred on the point
(pyproj), where distances from the centre are true geodesic distances, and shapely finds the
nearest point of the line there.
"""

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy
import shapely
from pyproj import Transformer
from shapely.geometry import LineString, MultiLineString, Point, shape
from shapely.geometry.base import BaseGeometry


@dataclass(frozen=True)
class Region:
    sectors: tuple[tuple[str, BaseGeometry], ...]  # (name, shapely polygon in lon/lat)
    borders: tuple[tuple[str, BaseGeometry], ...]  # (name, shapely line in lon/lat)

    def sector_of(self, latitude: float, longitude: float) -> str | None:
        """The name of the first sector containing the point (boundary included), or None."""
        point = Point(longitude, latitude)
        for name, polygon in self.sectors:
            if polygon.covers(point):
                return name
        return None

    def border_distance_km(self, latitude: float, longitude: float) -> float | None:
        """Geodesic distance in km from the point to the nearest border line (None: no borders)."""
        if not self.borders:
            return None
        # A PROJ pipeline, not from_crs: the same projection without a CRS database lookup (0.05 ms, not 10).
        local = Transformer.from_pipeline(
            "+proj=pipeline +step +proj=unitconvert +xy_in=deg +xy_out=rad "
            f"+step +proj=aeqd +lat_0={latitude} +lon_0={longitude} +ellps=WGS84"
        )

        def project(coordinates):
            x, y = local.transform(coordinates[:, 0], coordinates[:, 1])
            return numpy.column_stack([x, y])

        centre = Point(0, 0)
        return min(shapely.transform(line, project).distance(centre) for _, line in self.borders) / 1000


def parse(document: dict) -> Region:
    """Read a FeatureCollection: features with properties.kind "sector" (Polygon/MultiPolygon)
    or "border" (LineString/MultiLineString) and properties.name."""
    if document.get("type") != "FeatureCollection":
        raise ValueError("the region file must be a GeoJSON FeatureCollection")
    sectors, borders = [], []
    for number, feature in enumerate(document.get("features", []), start=1):
        properties = feature.get("properties") or {}
        kind, name = properties.get("kind"), properties.get("name")
        if not name:
            raise ValueError(f"feature {number} has no properties.name")
        geometry = shape(feature["geometry"])
        if kind == "sector" and geometry.geom_type in ("Polygon", "MultiPolygon"):
            sectors.append((name, geometry))
        elif kind == "border" and isinstance(geometry, LineString | MultiLineString):
            borders.append((name, geometry))
        else:
            raise ValueError(f"feature {number} ({name}): kind must be sector (polygon) or border (line)")
    return Region(tuple(sectors), tuple(borders))


@cache
def load(path: str) -> Region:
    """The region described by the GeoJSON file at path (an empty region when path is empty)."""
    if not path:
        return Region((), ())
    return parse(json.loads(Path(path).read_text()))
