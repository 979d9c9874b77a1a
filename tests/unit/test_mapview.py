"""The map's projection, shapes and drawing, without a database or the web."""

import math
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from pyproj import Geod
from shapely.geometry import shape

from tracker.geo import parse_position
from tracker.models import Domain, IncidentStatus, Precedence
from tracker.region import Region, load
from tracker.services.review import mapview
from tracker.services.review.mapview import Bounds, Projection

WGS84 = Geod(ellps="WGS84")
REGION_FILE = Path(__file__).resolve().parents[2] / "config" / "region.geojson"
CSS = Path(__file__).resolve().parents[2] / "tracker" / "static" / "app.css"
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def incident(reference, precedence="O", latitude=54.4, longitude=22.9, status=IncidentStatus.OPEN, number=1):
    return SimpleNamespace(
        id=number,
        reference=reference,
        precedence=Precedence(precedence),
        status=status,
        latitude=latitude,
        longitude=longitude,
        position_text=None,
        category="unsafe_intercept",
        domain=Domain.AIR,
        sector=None,
        occurred_at=NOW - timedelta(minutes=number),
    )


def exercise(name="Iron Wolf", area=None, centre=None, radius_km=None):
    return SimpleNamespace(
        id=1,
        name=name,
        area=area,
        centre_latitude=centre[0] if centre else None,
        centre_longitude=centre[1] if centre else None,
        radius_km=radius_km,
        starts_at=NOW - timedelta(days=1),
        ends_at=NOW + timedelta(days=1),
    )


def square(west, south, east, north) -> dict:
    return {
        "type": "Polygon",
        "coordinates": [[[west, south], [east, south], [east, north], [west, north], [west, south]]],
    }


BOX = Bounds(21.0, 53.5, 23.5, 56.2)


def test_the_corners_of_the_bounds_are_the_corners_of_the_viewport():
    projection = Projection(BOX)
    assert projection.point(BOX.west, BOX.north) == (0, 0), "north-west corner"
    assert projection.point(BOX.east, BOX.south) == (projection.width, projection.height), "south-east corner"
    assert projection.point(BOX.east, BOX.north) == (projection.width, 0), "north-east corner"
    assert projection.point(BOX.west, BOX.south) == (0, projection.height), "south-west corner"


@pytest.mark.parametrize(
    "bounds", [BOX, Bounds(10.0, 59.0, 30.0, 61.0), Bounds(-1.0, -1.0, 1.0, 1.0)], ids=["tall", "wide", "equator"]
)
def test_the_map_fits_the_viewport_with_one_side_full(bounds):
    projection = Projection(bounds)
    assert projection.width <= mapview.WIDTH and projection.height <= mapview.MAX_HEIGHT, vars(projection)
    full_width = projection.width == pytest.approx(mapview.WIDTH, abs=0.1)
    full_height = projection.height == pytest.approx(mapview.MAX_HEIGHT, abs=0.1)
    assert full_width or full_height, f"neither side fills the viewport: {projection.width} x {projection.height}"


def test_north_is_up_and_east_is_right():
    projection = Projection(BOX)
    south_x, south_y = projection.point(22.0, 54.0)
    north_x, north_y = projection.point(22.0, 55.0)
    east_x, east_y = projection.point(23.0, 54.0)
    assert north_y < south_y and north_x == south_x, "y grows southward, meridians are vertical"
    assert east_x > south_x and east_y == south_y, "x grows eastward, parallels are horizontal"


def test_a_km_is_as_long_across_as_up_and_down_in_the_middle_of_the_map():
    projection = Projection(BOX)
    middle = (BOX.south + BOX.north) / 2
    (x0, y0), (x1, _) = projection.point(22.0, middle), projection.point(22.2, middle)
    _, (_, y2) = projection.point(22.0, middle), projection.point(22.0, middle + 0.2)
    km_across = WGS84.inv(22.0, middle, 22.2, middle)[2] / 1000
    km_up = WGS84.inv(22.0, middle, 22.0, middle + 0.2)[2] / 1000
    px_per_km_across, px_per_km_up = (x1 - x0) / km_across, (y0 - y2) / km_up
    assert px_per_km_across == pytest.approx(px_per_km_up, rel=0.01), (px_per_km_across, px_per_km_up)
    assert 1 / projection.km_per_px() == pytest.approx(px_per_km_up, rel=0.01)


def test_padding_grows_every_side_and_gives_a_lone_point_a_map_around_it():
    padded = BOX.padded(0.1)
    assert padded.west < BOX.west and padded.east > BOX.east and padded.south < BOX.south and padded.north > BOX.north
    lone = Bounds(22.0, 54.0, 22.0, 54.0).padded()
    assert lone.east - lone.west >= mapview.MIN_SPAN_DEGREES and lone.north - lone.south >= mapview.MIN_SPAN_DEGREES
    assert lone.covers(22.0, 54.0)


def test_a_circle_is_a_geodesic_polygon_of_the_radius():
    polygon = mapview.circle(54.3, 22.5, 25.0)
    ring = list(polygon.exterior.coords)
    assert len(ring) == mapview.CIRCLE_POINTS + 1 and ring[0] == ring[-1], len(ring)
    distances = [WGS84.inv(22.5, 54.3, lon, lat)[2] / 1000 for lon, lat in ring]
    assert all(d == pytest.approx(25.0, abs=0.001) for d in distances), (min(distances), max(distances))
    assert polygon.is_valid and polygon.contains(shape({"type": "Point", "coordinates": [22.5, 54.3]}))


def test_an_exercise_area_is_its_polygon_its_circle_or_nothing():
    polygon = mapview.exercise_area(exercise(area=square(22.0, 54.0, 22.5, 54.4)))
    assert polygon.bounds == (22.0, 54.0, 22.5, 54.4)
    as_feature = mapview.exercise_area(exercise(area={"type": "Feature", "geometry": square(22, 54, 23, 55)}))
    assert as_feature.bounds == (22, 54, 23, 55)
    assert mapview.exercise_area(exercise(centre=(54.3, 22.5), radius_km=10)).geom_type == "Polygon"
    assert mapview.exercise_area(exercise()) is None, "no area and no circle"


@pytest.mark.parametrize(("km", "nice"), [(123, 100), (47, 20), (9.9, 5), (1, 1), (0.7, 0.5)])
def test_the_scale_bar_takes_a_round_length(km, nice):
    assert mapview.nice_length(km) == pytest.approx(nice)


def test_every_precedence_has_a_marker_colour_in_the_stylesheet():
    css = CSS.read_text()
    missing = [
        p.value for p in Precedence if not re.search(rf"svg\.map \.marker\.prec-{p.value} circle \{{ fill:", css)
    ]
    assert missing == [], f"no map marker colour in app.css for precedence {missing}"


def test_markers_carry_precedence_and_status_and_flash_is_drawn_last():
    incidents = [
        incident("INC-1", "Z", number=1),
        incident("INC-2", "R", number=2),
        incident("INC-3", "P", status=IncidentStatus.EXHAUSTED, number=3),
    ]
    picture = mapview.draw(load(str(REGION_FILE)), incidents, [])
    drawn = [(m.reference, m.precedence, m.status) for m in picture.markers]
    assert drawn == [("INC-2", "R", "open"), ("INC-3", "P", "exhausted"), ("INC-1", "Z", "open")], drawn


def test_a_tooltip_gives_the_position_in_decimal_dms_and_mgrs():
    title = mapview.describe(incident("INC-7", latitude=54.412, longitude=22.871))
    assert "54.41200, 22.87100" in title and "54°24'43\"N 022°52'16\"E" in title and "MGRS 34U FF 2142 3097" in title
    assert "INC-7" in title and "IMMEDIATE" in title and "unsafe intercept" in title, title


def test_the_region_is_drawn_named_and_incidents_beyond_it_or_without_position_are_listed():
    region = load(str(REGION_FILE))
    far, unplaced = incident("INC-FAR", latitude=60.0, longitude=30.0), incident("INC-NONE", latitude=None)
    picture = mapview.draw(region, [incident("INC-IN"), far, unplaced], [exercise(centre=(54.3, 22.5), radius_km=20)])
    assert picture.region_configured
    assert [s.name for s in picture.sectors] == [name for name, _ in region.sectors]
    assert [b.name for b in picture.borders] == [name for name, _ in region.borders]
    assert [m.reference for m in picture.markers] == ["INC-IN"]
    assert picture.outside == [far] and picture.unplaced == [unplaced]
    assert [e.name for e in picture.exercises] == ["Iron Wolf"]
    assert picture.scale.km > 0 and 0 < picture.scale.px <= mapview.LEGEND_WIDTH, picture.scale


def test_without_a_region_the_incidents_and_exercises_set_the_extent():
    incidents = [incident("INC-A", latitude=10.0, longitude=20.0), incident("INC-B", latitude=10.5, longitude=21.0)]
    picture = mapview.draw(Region((), ()), incidents, [exercise(area=square(20.2, 10.1, 20.4, 10.3))])
    assert not picture.region_configured and picture.sectors == [] and picture.borders == []
    assert [m.reference for m in picture.markers] == ["INC-A", "INC-B"]
    for marker in picture.markers:
        assert 0 < marker.x < picture.projection.width and 0 < marker.y < picture.projection.height, marker


def test_without_a_region_or_any_position_there_is_nothing_to_project():
    picture = mapview.draw(Region((), ()), [incident("INC-X", latitude=None)], [])
    assert picture.projection is None and [i.reference for i in picture.unplaced] == ["INC-X"]


def test_a_typed_position_is_marked_on_the_map():
    picture = mapview.draw(load(str(REGION_FILE)), [], [], parse_position("34U FF 2142 3097"))
    x, y = picture.probe
    assert (x, y) == pytest.approx(picture.projection.point(22.871, 54.412), abs=0.2)


def test_the_feature_collection_holds_every_kind_with_valid_geometry():
    region = load(str(REGION_FILE))
    collection = mapview.feature_collection(
        region, [incident("INC-1"), incident("INC-2", latitude=None)], [exercise(centre=(54.3, 22.5), radius_km=15)]
    )
    assert collection["type"] == "FeatureCollection" and collection["unplaced"] == ["INC-2"]
    kinds = [f["properties"]["kind"] for f in collection["features"]]
    assert kinds == ["sector"] * 3 + ["border"] * 2 + ["exercise", "incident"], kinds
    for feature in collection["features"]:
        geometry = shape(feature["geometry"])
        assert geometry.is_valid and not geometry.is_empty, feature
    point = collection["features"][-1]
    assert point["geometry"] == {"type": "Point", "coordinates": [22.9, 54.4]}
    assert point["properties"]["position"]["mgrs"].startswith("34U"), point["properties"]
    assert math.isclose(collection["features"][-2]["properties"]["radius_km"], 15)
