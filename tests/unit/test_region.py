"""Sectors and distances to the border, against known geodesic distances."""

import json

import pytest
from pyproj import Geod

from tracker.region import Region, invalid_sector, load, parse
from tracker.services.incidents.routing import RouteQuery, locate

WGS84 = Geod(ellps="WGS84")


def region_with(*features) -> Region:
    return parse({"type": "FeatureCollection", "features": list(features)})


def border(name, *coordinates):
    return {
        "type": "Feature",
        "properties": {"kind": "border", "name": name},
        "geometry": {"type": "LineString", "coordinates": [list(c) for c in coordinates]},
    }


def sector(name, west, south, east, north):
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {
        "type": "Feature",
        "properties": {"kind": "sector", "name": name},
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }


def dense(start, end, steps=400):
    """A border line with many vertices, as real border data has."""
    (x0, y0), (x1, y1) = start, end
    return [(x0 + (x1 - x0) * i / steps, y0 + (y1 - y0) * i / steps) for i in range(steps + 1)]


def nearest_geodesic_km(latitude, longitude, vertices) -> float:
    """The reference: WGS84 geodesic distance to the nearest of many vertices."""
    return min(WGS84.inv(longitude, latitude, x, y)[2] for x, y in vertices) / 1000


@pytest.mark.parametrize(
    ("latitude", "longitude", "start", "end"),
    [
        (0.0, 23.5, (23.0, -5.0), (23.0, 5.0)),  # a meridian border at the equator
        (54.0, 23.5, (23.0, 49.0), (23.0, 59.0)),  # a meridian border at 54 N
        (70.0, 24.0, (23.0, 65.0), (23.0, 75.0)),  # far north, where degrees of longitude are short
        (55.0, 23.0, (20.0, 54.0), (26.0, 54.0)),  # a border along the 54th parallel, a degree south
        (54.7, 22.1, (21.0, 54.0), (24.0, 55.5)),  # an oblique border
    ],
)
def test_distance_to_the_border_is_the_geodesic_distance(latitude, longitude, start, end):
    vertices = dense(start, end)
    region = region_with(border("line", *vertices))
    expected = nearest_geodesic_km(latitude, longitude, vertices)
    assert region.border_distance_km(latitude, longitude) == pytest.approx(expected, rel=0.002, abs=0.05)


def test_one_degree_of_latitude_from_the_54th_parallel_is_about_111_km():
    region = region_with(border("parallel", *dense((20.0, 54.0), (26.0, 54.0))))
    assert region.border_distance_km(55.0, 23.0) == pytest.approx(111.3, abs=0.5)


def test_a_point_on_the_border_is_zero_km_away_and_the_nearest_of_several_borders_counts():
    region = region_with(border("a", (23.0, 50.0), (23.0, 60.0)), border("b", (25.0, 50.0), (25.0, 60.0)))
    assert region.border_distance_km(55.0, 23.0) == pytest.approx(0.0, abs=0.001)
    assert region.border_distance_km(55.0, 24.9) < region.border_distance_km(55.0, 23.2)


def test_sector_of_a_point_and_no_sector_outside_them():
    region = region_with(sector("North", 21, 54.3, 23.4, 55.2), sector("South", 21, 53.5, 23.4, 54.3))
    assert region.sector_of(54.41, 22.87) == "North"
    assert region.sector_of(54.0, 22.0) == "South"
    assert region.sector_of(54.3, 22.0) in ("North", "South"), "a shared edge belongs to one of them"
    assert region.sector_of(40.0, 10.0) is None


def test_the_demo_region_ships_and_routing_locates_a_query():
    region = load("config/region.geojson")
    assert {name for name, _ in region.sectors} == {"Coast", "North", "South"} and len(region.borders) == 2
    query = locate(RouteQuery("air", "unsafe_intercept", "Z", "high", latitude=54.412, longitude=22.871), region)
    assert query.sector == "North" and 30 < query.border_distance_km < 35
    given = locate(
        RouteQuery("air", "unsafe_intercept", "Z", "high", sector="DRILL", latitude=54.4, longitude=22.8), region
    )
    assert given.sector == "DRILL", "a sector the officer gave wins"
    assert locate(RouteQuery("air", "unsafe_intercept", "Z", "high"), region).border_distance_km is None


@pytest.mark.parametrize(
    "document",
    [
        {"type": "Feature"},
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {"kind": "border"},
                    "geometry": {"type": "Point", "coordinates": [1, 2]},
                }
            ],
        },
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {"kind": "river", "name": "x"},
                    "geometry": {"type": "Point", "coordinates": [1, 2]},
                }
            ],
        },
    ],
)
def test_an_unusable_region_file_is_refused(document, tmp_path):
    with pytest.raises(ValueError):
        parse(json.loads(json.dumps(document)))


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ([], "must be a GeoJSON FeatureCollection"),
        ("region", "must be a GeoJSON FeatureCollection"),
        (None, "must be a GeoJSON FeatureCollection"),
        ({"type": "FeatureCollection", "features": [3]}, "feature 1 must be a GeoJSON Feature"),
        ({"type": "FeatureCollection", "features": [{"properties": "North"}]}, "feature 1 must be a GeoJSON Feature"),
        # A sector named 7 or ["A"] was kept: one no officer can type, and no form's list can offer.
        ({"type": "FeatureCollection", "features": [{"properties": {"kind": "sector", "name": 7}}]}, "must be a text"),
        ({"type": "FeatureCollection", "features": [{"properties": {"name": ["A"]}}]}, r"must be a text, not \['A'\]"),
        ({"type": "FeatureCollection", "features": [{"properties": {"name": "  "}}]}, "must be a text, not '  '"),
    ],
)
def test_a_region_file_of_other_json_is_refused_saying_so(document, problem):
    """Any JSON may be what REGION_FILE names: an array, a text or a feature that is no object ended every
    command, gunicorn and the scheduler in an AttributeError traceback instead of the configuration's one line."""
    with pytest.raises(ValueError, match=problem):
        parse(document)


def shaped(kind: str, geometry_type: str, coordinates) -> dict:
    geometry = {"type": geometry_type, "coordinates": coordinates}
    return {"type": "Feature", "properties": {"kind": kind, "name": "x"}, "geometry": geometry}


@pytest.mark.parametrize(
    ("feature", "problem"),
    [
        (shaped("sector", "Polygon", [[[21, 54], [22, 54], [21, 54]]]), "each ring needs at least 4 positions"),
        (shaped("sector", "MultiPolygon", [[[21, 54], [22, 54], [22, 55], [21, 54]]]), "nested as a MultiPolygon"),
        (shaped("sector", "Polygon", []), "not nested"),
        (shaped("border", "LineString", [[21, 54]]), "each line needs at least 2 positions"),
        (shaped("border", "MultiLineString", [[[21, 54], ["22", 55]]]), "finite numbers"),
        (shaped("border", "LineString", [[21, 54], [22, float("nan")]]), "finite numbers"),
    ],
)
def test_a_shape_that_cannot_be_drawn_is_refused_at_start_without_drawing_it(feature, problem):
    """Checked by its GeoJSON structure when the app starts; drawn with shapely only on first use."""
    with pytest.raises(ValueError, match=f"feature 1 \\(x\\): .*{problem}"):
        parse({"type": "FeatureCollection", "features": [feature]})


def test_shapes_are_drawn_on_first_use():
    region = region_with(sector("North", 21, 54.3, 23.4, 55.2), border("line", (23.0, 50.0), (23.0, 60.0)))
    assert "sectors" not in vars(region) and "borders" not in vars(region)
    assert region.sector_of(54.41, 22.87) == "North"
    assert [(name, shape.geom_type) for name, shape in region.sectors] == [("North", "Polygon")]
    assert [(name, shape.geom_type) for name, shape in region.borders] == [("line", "LineString")]


def test_a_sector_that_is_no_valid_polygon_is_named_with_shapelys_reason():
    """What the GeoJSON structure cannot tell (the app's start refuses it: tests/unit/test_config.py)."""
    hole_outside = sector("Holed", 21, 54, 22, 55)
    hole_outside["geometry"]["coordinates"].append([[23, 54], [23.5, 54], [23.5, 54.5], [23, 54]])
    assert invalid_sector(region_with(sector("North", 21, 54, 22, 55))) is None
    assert invalid_sector(region_with(sector("North", 21, 54, 22, 55), hole_outside)) == (
        "sector 'Holed' is not a valid polygon: Hole lies outside shell[23 54]"
    )


@pytest.mark.parametrize("name", ["(none)", " (NONE) "])
def test_no_sector_may_be_named_as_the_reports_call_no_sector(name):
    """The reports count the incidents without a sector under "(none)": a sector so named would merge with them."""
    with pytest.raises(ValueError, match="what the reports call no sector"):
        region_with(sector(name, 21, 54, 22, 55))
    assert region_with(sector("None", 21, 54, 22, 55)).sector_of(54.5, 21.5) == "None"


def test_a_sector_part_beyond_a_border_line_routes_under_the_sector_name_and_is_known_as_beyond():
    """The Coast's waters beyond the maritime boundary: a part of its own, marked, with the sector's name."""
    beyond = sector("Coast", 21, 55.5, 23.4, 56.2)
    beyond["properties"]["beyond_border"] = True
    region = region_with(sector("Coast", 21, 55.2, 23.4, 55.5), beyond, border("sea", (21.0, 55.5), (23.4, 55.5)))
    assert region.beyond_border == frozenset({1}), region
    assert (region.sector_of(55.8, 22.0), region.beyond_border_at(55.8, 22.0)) == ("Coast", True)
    assert (region.sector_of(55.3, 22.0), region.beyond_border_at(55.3, 22.0)) == ("Coast", False)
    assert region.beyond_border_at(50.0, 10.0) is False, "in no sector: not beyond one either"


@pytest.mark.parametrize(
    ("properties", "problem"),
    [
        ({"kind": "sector", "name": "Coast", "beyond_border": "yes"}, "beyond_border must be true or false"),
        ({"kind": "sector", "name": "Coast", "beyond_border": 1}, "beyond_border must be true or false"),
        ({"kind": "border", "name": "line", "beyond_border": True}, "only on a sector"),
    ],
)
def test_a_beyond_border_mark_that_is_no_yes_or_no_on_a_sector_is_refused(properties, problem):
    feature = sector("x", 21, 54, 22, 55) if properties["kind"] == "sector" else border("x", (21, 54), (22, 55))
    feature["properties"] = properties
    with pytest.raises(ValueError, match=problem):
        region_with(feature)
