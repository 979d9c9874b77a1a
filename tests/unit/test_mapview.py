"""The map's shapes, exercise phases and GeoJSON, without a database or the web."""

import math
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from pyproj import Geod
from shapely.geometry import shape

from tracker.models import Domain, ExerciseNotice, IncidentStatus, NotifiedVia, Precedence
from tracker.region import load
from tracker.services.review import mapview

WGS84 = Geod(ellps="WGS84")
REGION_FILE = Path(__file__).resolve().parents[2] / "config" / "region.geojson"
CSS = Path(__file__).resolve().parents[2] / "tracker" / "static" / "map.css"
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
        classification="RESTRICTED",
        releasable_to=["Eastland"],
    )


def exercise(name="Iron Wolf", area=None, centre=None, radius_km=None, starts_in=timedelta(days=-1)):
    """An exercise of the register, not stored (the map reads its notification too: none on record here)."""
    return ExerciseNotice(
        id=1,
        name=name,
        area=area,
        centre_latitude=centre[0] if centre else None,
        centre_longitude=centre[1] if centre else None,
        radius_km=radius_km,
        starts_at=NOW + starts_in,
        ends_at=NOW + starts_in + timedelta(days=2),
        states=["Eastland"],
        notified_via=NotifiedVia.VIENNA_DOCUMENT,
        ours=False,
    )


def square(west, south, east, north) -> dict:
    return {
        "type": "Polygon",
        "coordinates": [[[west, south], [east, south], [east, north], [west, north], [west, south]]],
    }


def test_a_circle_is_a_geodesic_polygon_of_the_radius():
    polygon = mapview.circle(54.3, 22.5, 25.0)
    ring = list(polygon.exterior.coords)
    assert len(ring) == mapview.CIRCLE_POINTS + 1 and ring[0] == ring[-1], len(ring)
    distances = [WGS84.inv(22.5, 54.3, lon, lat)[2] / 1000 for lon, lat in ring]
    assert all(d == pytest.approx(25.0, abs=0.001) for d in distances), (min(distances), max(distances))
    assert polygon.is_valid and polygon.contains(shape({"type": "Point", "coordinates": [22.5, 54.3]}))


def test_a_circle_across_the_antimeridian_is_cut_there_not_drawn_round_the_globe():
    area = mapview.circle(65.0, 179.9, 30.0)  # the Bering Sea: 30 km either side of 180°
    assert area.is_valid and area.geom_type == "MultiPolygon", (area.geom_type, area.bounds)
    west, _, east, _ = area.bounds
    assert -180 <= west and east <= 180, area.bounds
    east_part, west_part = sorted(area.geoms, key=lambda part: -part.bounds[0])
    assert east_part.bounds[2] == 180 and west_part.bounds[0] == -180, "the two parts meet at the antimeridian"
    assert east_part.bounds[0] > 179 and west_part.bounds[2] < -179, "each part a few kilometres wide"
    for lon, lat in [*east_part.exterior.coords, *west_part.exterior.coords]:
        if abs(lon) != 180:
            assert WGS84.inv(179.9, 65.0, lon, lat)[2] / 1000 == pytest.approx(30.0, abs=0.001), (lon, lat)
    [feature] = mapview.feature_collection(
        SimpleNamespace(sectors=[], borders=[]), [], [exercise(centre=(65.0, 179.9), radius_km=30)], NOW
    )["features"]
    assert feature["geometry"]["type"] == "MultiPolygon", feature["geometry"]["type"]


@pytest.mark.parametrize(("latitude", "pole"), [(85.0, 90.0), (-87.0, -90.0)])
def test_a_circle_round_a_pole_holds_the_pole_and_not_the_rest_of_the_world(latitude, pole):
    """A circle holding a pole (the Barents Sea's big exercises reach past 85°N) was drawn as the ring of
    its vertices: a band round the globe with a wedge missing, and without the pole inside it."""
    area = mapview.circle(latitude, 20.0, 700.0)
    assert area.is_valid and area.geom_type == "Polygon", (area.geom_type, area.bounds)
    assert area.bounds[0] == -180 and area.bounds[2] == 180, area.bounds
    inside = [(20.0, latitude), (-170.0, pole - 0.1 * (pole / 90)), (100.0, pole - 0.5 * (pole / 90))]
    outside = [(20.0, latitude - 10 * (pole / 90)), (-160.0, latitude - 2 * (pole / 90))]
    for lon, lat in inside:
        assert area.contains(shape({"type": "Point", "coordinates": [lon, lat]})), ("inside", lon, lat)
        assert WGS84.inv(20.0, latitude, lon, lat)[2] / 1000 < 700.0
    for lon, lat in outside:
        assert not area.contains(shape({"type": "Point", "coordinates": [lon, lat]})), ("outside", lon, lat)
        assert WGS84.inv(20.0, latitude, lon, lat)[2] / 1000 > 700.0
    edge = [(lon, lat) for lon, lat in area.exterior.coords if abs(lon) != 180 and abs(lat) != 90]
    assert edge and all(
        WGS84.inv(20.0, latitude, lon, lat)[2] / 1000 == pytest.approx(700.0, abs=0.01) for lon, lat in edge
    )


def test_an_exercise_area_is_its_polygon_its_circle_or_nothing():
    polygon = mapview.exercise_area(exercise(area=square(22.0, 54.0, 22.5, 54.4)))
    assert polygon.bounds == (22.0, 54.0, 22.5, 54.4)
    as_feature = mapview.exercise_area(exercise(area={"type": "Feature", "geometry": square(22, 54, 23, 55)}))
    assert as_feature.bounds == (22, 54, 23, 55)
    assert mapview.exercise_area(exercise(centre=(54.3, 22.5), radius_km=10)).geom_type == "Polygon"
    assert mapview.exercise_area(exercise()) is None, "no area and no circle"


def test_an_exercise_is_running_upcoming_or_past_at_a_moment():
    phases = [mapview.phase(exercise(starts_in=timedelta(days=d)), NOW) for d in (-1, -2, 1, -3)]
    assert phases == ["running", "running", "upcoming", "past"], "running from its start to its end, both included"


def test_every_precedence_has_a_marker_colour_in_the_stylesheet():
    css = CSS.read_text()
    missing = [p.value for p in Precedence if not re.search(rf"\.map-marker\.prec-{p.value} \{{ background:", css)]
    assert missing == [], f"no map marker colour in map.css for precedence {missing}"


def test_incidents_come_most_urgent_first_and_newest_first_within_a_precedence():
    incidents = [
        incident("INC-1", "R", number=1),
        incident("INC-2", "Z", number=2),
        incident("INC-3", "P", status=IncidentStatus.EXHAUSTED, number=3),
        incident("INC-4", "Z", number=4),
    ]
    ordered = [i.reference for i in mapview.most_urgent_first(incidents)]
    assert ordered == ["INC-2", "INC-4", "INC-3", "INC-1"], "INC-2 occurred a minute after INC-4"


def test_the_feature_collection_holds_every_kind_with_valid_geometry():
    region = load(str(REGION_FILE))
    incidents = [incident("INC-1"), incident("INC-2", latitude=None), incident("INC-FAR", "Z", 60.0, 30.0, number=2)]
    collection = mapview.feature_collection(region, incidents, [exercise(centre=(54.3, 22.5), radius_km=15)], NOW)
    assert collection["type"] == "FeatureCollection" and collection["unplaced"] == ["INC-2"]
    kinds = [f["properties"]["kind"] for f in collection["features"]]
    # Four sector features: Coast, its waters beyond the maritime boundary (a part of its own), North, South.
    assert kinds == ["sector"] * 4 + ["border"] * 2 + ["exercise", "incident", "incident"], kinds
    sectors = [(f["properties"]["name"], f["properties"]["beyond_border"]) for f in collection["features"][:4]]
    assert sectors == [("Coast", False), ("Coast", True), ("North", False), ("South", False)], sectors
    for feature in collection["features"]:
        geometry = shape(feature["geometry"])
        assert geometry.is_valid and not geometry.is_empty, feature
    far, near = collection["features"][-2:]
    assert far["properties"]["reference"] == "INC-FAR" and far["properties"]["outside_sectors"] is True, "FLASH first"
    assert near["geometry"] == {"type": "Point", "coordinates": [22.9, 54.4]}
    assert near["properties"]["outside_sectors"] is False and near["properties"]["category_label"] == "unsafe intercept"
    assert near["properties"]["position"]["mgrs"].startswith("34U"), near["properties"]
    assert near["properties"]["marking"] == "RESTRICTED // REL TO EASTLAND", near["properties"]
    area = collection["features"][-3]["properties"]
    assert math.isclose(area["radius_km"], 15) and area["phase"] == "running", area


def test_an_exercise_area_is_sent_whole_however_far_it_reaches():
    region = load(str(REGION_FILE))
    reaching = exercise(area=square(22.0, 54.0, 30.0, 58.0))  # far beyond every sector and border line
    features = mapview.feature_collection(region, [], [reaching], NOW)["features"]
    [feature] = [f for f in features if f["properties"]["kind"] == "exercise"]
    assert shape(feature["geometry"]).bounds == (22.0, 54.0, 30.0, 58.0)


CLOCKWISE_SQUARE = {
    "type": "Polygon",
    "coordinates": [[[23.5, 54.0], [23.5, 54.5], [24.0, 54.5], [24.0, 54.0], [23.5, 54.0]]],
}


@pytest.mark.parametrize(
    "area",
    [
        {"centre": (54.3, 22.5), "radius_km": 15},
        {"centre": (-16.5, 179.9), "radius_km": 100},  # cut at the antimeridian: two polygons
        {"centre": (-89.5, 0.0), "radius_km": 100},  # round the south pole
        {"area": CLOCKWISE_SQUARE},
    ],
    ids=["circle", "antimeridian", "south-pole", "clockwise-polygon"],
)
def test_every_exercise_ring_follows_the_right_hand_rule(area):
    """RFC 7946 3.1.6: exterior rings counter-clockwise (a circle's vertices come clockwise, by azimuth)."""
    features = mapview.feature_collection(load(str(REGION_FILE)), [], [exercise(**area)], NOW)["features"]
    polygons = [shape(f["geometry"]) for f in features if f["geometry"]["type"] in ("Polygon", "MultiPolygon")]
    rings = [ring for p in polygons for part in getattr(p, "geoms", [p]) for ring in [part.exterior]]
    assert rings and all(ring.is_ccw for ring in rings), [r.is_ccw for r in rings]
