"""Build the map page's offline base layer from world-atlas's countries-50m.json: GeoJSON of the land,
its coastlines and the land borders between countries.

world-atlas (version 2.0.2, ISC licence) packages Natural Earth's 1:50m Admin 0 countries (public domain)
as TopoJSON, each country a (multi)polygon of rings made of shared arcs (see tools/build_boundaries.py,
whose decoding this reuses). The output is a FeatureCollection of two features, each with
properties.kind:
- "land": every country's polygon merged (world-atlas's "land" object): its outline is the coastline
  (its only other edges lie on the edge of the world: the cut along 180 degrees and the South Pole);
- "border": the arcs shared by two countries, i.e. the land borders.
Coordinates keep three decimals (about 110 m), finer than the source's quantisation (about 400 m
by 190 m), and repeated points are dropped. The same input gives the same bytes.

    python tools/build_basemap.py path/to/countries-50m.json tracker/static/vendor/natural-earth/countries-50m.geojson

(`make vendor` fetches the package with npm and runs this.) Not part of the application: the map page
loads the output as a static file.
"""

import json
import sys
from collections import defaultdict
from pathlib import Path

from build_boundaries import decode_arcs, polygons_of

DECIMALS = 3
ATTRIBUTION = "Natural Earth 1:50m (public domain), via world-atlas 2.0.2 (ISC)"


def rounded(points) -> list[list[float]]:
    """[[lon, lat], ...] with DECIMALS decimals, repeated points dropped."""
    out: list[list[float]] = []
    for lon, lat in points:
        point = [round(lon, DECIMALS), round(lat, DECIMALS)]
        if not out or out[-1] != point:
            out.append(point)
    return out


def ring(arcs: list, indices: list[int]) -> list[list[float]]:
    """A closed ring from arc indices (~i: arc i reversed); arcs share their end points."""
    points: list = []
    for index in indices:
        arc = arcs[index] if index >= 0 else arcs[~index][::-1]
        points.extend(arc if not points else arc[1:])
    return rounded(points)


def build(topology: dict) -> dict:
    arcs = decode_arcs(topology)
    users: dict[int, set[int]] = defaultdict(set)
    for number, country in enumerate(topology["objects"]["countries"]["geometries"]):
        for polygon in polygons_of(country):
            for indices in polygon:
                for index in indices:
                    users[index if index >= 0 else ~index].add(number)
    land = []
    for geometry in topology["objects"]["land"]["geometries"]:
        for polygon in polygons_of(geometry):
            # A ring of fewer than four points after rounding encloses nothing at this scale.
            outer, *holes = (ring(arcs, indices) for indices in polygon)
            if len(outer) >= 4:
                land.append([outer, *(hole for hole in holes if len(hole) >= 4)])
    borders = [rounded(arcs[a]) for a, who in sorted(users.items()) if len(who) == 2]

    def feature(kind: str, geometry_type: str, coordinates: list) -> dict:
        return {
            "type": "Feature",
            "properties": {"kind": kind},
            "geometry": {"type": geometry_type, "coordinates": coordinates},
        }

    return {
        "type": "FeatureCollection",
        "attribution": ATTRIBUTION,
        "features": [
            feature("land", "MultiPolygon", land),
            feature("border", "MultiLineString", [line for line in borders if len(line) >= 2]),
        ],
    }


def main(source: str, target: str) -> None:
    document = build(json.loads(Path(source).read_text()))
    text = json.dumps(document, separators=(",", ":"))
    Path(target).write_text(text + "\n")
    counts = {f["properties"]["kind"]: len(f["geometry"]["coordinates"]) for f in document["features"]}
    print(f"{target}: {len(text) / 1e6:.2f} MB; {counts['land']} land polygons, {counts['border']} border lines")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
