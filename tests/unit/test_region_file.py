"""The demo region file (config/region.geojson) as drawn: sectors that stop at the border lines.

Our sectors are ours: none may reach across a border line into Eastland (a desk officer saw them inside
Eastland on the map, and a position just across the land border was given one of our sectors). The one
exception is marked in the file: the Coast sector's waters beyond the maritime boundary, a part of its own
("beyond_border": true) that meets ours along the line, so that incidents at sea there still route as Coast.
"""

import json
from pathlib import Path

import pytest
from shapely.geometry import LinearRing, shape

from tracker.region import load

REGION_FILE = Path(__file__).resolve().parents[2] / "config" / "region.geojson"
FEATURES = json.loads(REGION_FILE.read_text())["features"]
SECTORS = [f for f in FEATURES if f["properties"]["kind"] == "sector"]
BORDERS = [f for f in FEATURES if f["properties"]["kind"] == "border"]


def label(feature: dict) -> str:
    beyond = " (beyond the border)" if feature["properties"].get("beyond_border") else ""
    return feature["properties"]["name"] + beyond


def rings(feature: dict) -> list:
    geometry = feature["geometry"]
    polygons = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
    return [ring for polygon in polygons for ring in polygon]


@pytest.mark.parametrize("feature", SECTORS, ids=label)
def test_each_sector_is_a_valid_polygon_with_closed_counter_clockwise_exterior(feature):
    """RFC 7946, 3.1.6: rings closed, exterior counter-clockwise, holes clockwise."""
    polygon = shape(feature["geometry"])
    assert polygon.is_valid and not polygon.is_empty, (label(feature), feature["geometry"])
    for ring in rings(feature):
        assert ring[0] == ring[-1], f"{label(feature)}: the ring does not close: {ring}"
    exterior = feature["geometry"]["coordinates"][0]
    assert LinearRing(exterior).is_ccw, f"{label(feature)}: exterior ring clockwise: {exterior}"


@pytest.mark.parametrize("border", BORDERS, ids=lambda f: f["properties"]["name"])
@pytest.mark.parametrize("sector", SECTORS, ids=label)
def test_no_sector_crosses_a_border_line(sector, border):
    """The line may run along a sector's edge (its boundary), never through its inside."""
    polygon, line = shape(sector["geometry"]), shape(border["geometry"])
    inside = line.intersection(polygon).difference(polygon.boundary)
    assert line.relate_pattern(polygon, "F********"), (
        f"{border['properties']['name']} runs {inside.length:.4f} degrees through sector {label(sector)}: "
        f"{inside.wkt[:300]}"
    )


def test_no_two_sectors_overlap():
    for number, first in enumerate(SECTORS):
        for second in SECTORS[number + 1 :]:
            a, b = shape(first["geometry"]), shape(second["geometry"])
            assert a.relate_pattern(b, "F********"), (
                f"sectors {label(first)} and {label(second)} overlap by {a.intersection(b).area:.5f} square degrees"
            )


@pytest.mark.parametrize(
    ("latitude", "longitude", "sector", "beyond", "where"),
    [
        (54.35, 23.38, None, False, "1.3 km east of the land border: Eastland"),
        (54.80, 23.47, None, False, "just east of the land border's easternmost bend: Eastland"),
        (54.80, 23.43, "North", False, "just west of that bend: ours"),
        (55.22, 23.405, "Coast", False, "just west of the land border near the coast: ours"),
        (53.60, 23.45, "South", False, "south of the land border's end, on our side of its line"),
        (53.60, 23.55, None, False, "south-east of the land border's end"),
        (55.50, 22.00, "Coast", False, "our side of the maritime boundary"),
        (55.70, 22.80, "Coast", True, "the other side of the maritime boundary: still the Coast desk's"),
        (54.412, 22.871, "North", False, "the demo's first incident"),
        (54.102, 23.311, "South", False, "Border Guard Post 7's incident, 6 km inside Northmark"),
    ],
)
def test_positions_near_the_border_lie_in_the_sector_of_their_side(latitude, longitude, sector, beyond, where):
    region = load(str(REGION_FILE))
    found = (region.sector_of(latitude, longitude), region.beyond_border_at(latitude, longitude))
    assert found == (sector, beyond), f"{latitude}, {longitude} ({where})"
