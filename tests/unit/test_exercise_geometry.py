"""Whether a notified exercise holds a moment and a point: polygons (edges included), geodesic
circles, and the closed time interval; and what makes an area or a notice invalid."""

from datetime import UTC, datetime, timedelta

import pytest
from pyproj import Geod

from tracker.errors import ValidationError
from tracker.models import ExerciseNotice, NotifiedVia
from tracker.services.exercises import area as exercise_area
from tracker.services.exercises import register

START = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)
END = datetime(2026, 11, 29, 18, 0, tzinfo=UTC)
# A square of one degree: longitude 23..24, latitude 54..55.
SQUARE = {"type": "Polygon", "coordinates": [[[23.0, 54.0], [24.0, 54.0], [24.0, 55.0], [23.0, 55.0], [23.0, 54.0]]]}
TRIANGLE = {"type": "Polygon", "coordinates": [[[23.0, 54.0], [24.0, 55.0], [24.0, 54.0], [23.0, 54.0]]]}
CENTRE = (54.5, 23.5)
RADIUS_KM = 10.0
WGS84 = Geod(ellps="WGS84")


def polygon_exercise(area=SQUARE) -> ExerciseNotice:
    return ExerciseNotice(name="SQUARE", states=["Eastland"], starts_at=START, ends_at=END, area=area)


def circle_exercise() -> ExerciseNotice:
    latitude, longitude = CENTRE
    return ExerciseNotice(
        name="CIRCLE",
        states=["Eastland"],
        starts_at=START,
        ends_at=END,
        centre_latitude=latitude,
        centre_longitude=longitude,
        radius_km=RADIUS_KM,
    )


def from_centre(metres: float, azimuth: float = 0.0) -> tuple[float, float]:
    """(latitude, longitude) of the point this far from the circle's centre, on this bearing."""
    longitude, latitude, _ = WGS84.fwd(CENTRE[1], CENTRE[0], azimuth, metres)
    return latitude, longitude


@pytest.mark.parametrize(
    ("label", "latitude", "longitude", "inside"),
    [
        ("in the middle", 54.5, 23.5, True),
        ("on the south edge", 54.0, 23.5, True),
        ("on the east edge", 54.5, 24.0, True),
        ("on a corner", 55.0, 23.0, True),
        ("~100 m south of the south edge", 54.0 - 0.0009, 23.5, False),
        ("~100 m east of the east edge", 54.5, 24.0 + 0.00155, False),
        ("~100 m north of the north edge", 55.0 + 0.0009, 23.5, False),
    ],
)
def test_polygon_holds_points_inside_and_on_its_edges_only(label, latitude, longitude, inside):
    exercise = polygon_exercise()
    assert exercise_area.covers(exercise, latitude, longitude) is inside, f"{label}: ({latitude}, {longitude})"


def test_a_point_on_a_slanted_edge_counts_as_inside():
    # (54.5, 23.5) lies on the triangle's hypotenuse from (23, 54) to (24, 55).
    assert exercise_area.covers(polygon_exercise(TRIANGLE), 54.5, 23.5), "the hypotenuse is part of the area"
    assert not exercise_area.covers(polygon_exercise(TRIANGLE), 54.5 + 0.001, 23.5), "~110 m beyond the hypotenuse"


@pytest.mark.parametrize(
    ("label", "metres", "azimuth", "inside"),
    [
        ("the centre", 0, 0, True),
        ("9.9 km north", 9_900, 0, True),
        ("1 mm inside the rim, east", RADIUS_KM * 1000 - 0.001, 90, True),
        ("100 m beyond the rim, north", RADIUS_KM * 1000 + 100, 0, False),
        ("100 m beyond the rim, south-west", RADIUS_KM * 1000 + 100, 225, False),
    ],
)
def test_circle_is_geodesic(label, metres, azimuth, inside):
    latitude, longitude = from_centre(metres, azimuth)
    held = exercise_area.covers(circle_exercise(), latitude, longitude)
    distance = exercise_area.distance_km(*CENTRE, latitude, longitude)
    assert held is inside, f"{label}: ({latitude:.6f}, {longitude:.6f}) is {distance:.4f} km from the centre"


@pytest.mark.parametrize(
    ("label", "moment", "inside"),
    [
        ("at the start", START, True),
        ("at the end", END, True),
        ("in between", START + (END - START) / 2, True),
        ("one second before the start", START - timedelta(seconds=1), False),
        ("one second after the end", END + timedelta(seconds=1), False),
    ],
)
@pytest.mark.parametrize("make", [polygon_exercise, circle_exercise], ids=["polygon", "circle"])
def test_time_interval_is_closed(make, label, moment, inside):
    exercise = make()
    assert register.holds(exercise, moment, *CENTRE) is inside, f"{exercise.name} {label}: {moment.isoformat()}"


def test_outside_the_area_is_outside_even_in_time():
    assert not register.holds(polygon_exercise(), START, 56.0, 23.5), "a point 1° north of the square"


@pytest.mark.parametrize(
    ("area", "complaint"),
    [
        ({"type": "Point", "coordinates": [23, 54]}, "GeoJSON Polygon"),
        ({"type": "Polygon", "coordinates": [[[23, 54], [24, 54], [23, 54]]]}, "at least four positions"),
        ({"type": "Polygon", "coordinates": [[[23, 54], [24, 54], [24, 55], [23, 55]]]}, "end at the position"),
        ({"type": "Polygon", "coordinates": [[[23, 54], [24, 55], [24, 54], [23, 55], [23, 54]]]}, "Self-intersection"),
        ({"type": "Polygon", "coordinates": [[[23, 54], [190, 54], [24, 55], [23, 54]]]}, "longitude 190"),
        ({"type": "Polygon", "coordinates": [[[54, 23], [54, 95], [55, 95], [54, 23]]]}, "latitude 95"),
        ({"type": "Polygon", "coordinates": [[[23, 54], ["24", 54], [24, 55], [23, 54]]]}, "two finite numbers"),
        ({"type": "Polygon", "coordinates": [[[23, 54], [24, 54], [25, 54], [23, 54]]]}, "not a valid polygon"),
        # The Bering Sea typed across the antimeridian: straight in longitude, it is the rest of the world.
        (
            {"type": "Polygon", "coordinates": [[[179, 59], [-179, 59], [-179, 61], [179, 61], [179, 59]]]},
            "antimeridian",
        ),
    ],
)
def test_invalid_polygons_are_explained(area, complaint):
    problem = exercise_area.polygon_problem(area)
    assert problem is not None and complaint in problem, f"{area}: {problem!r}"


@pytest.mark.parametrize(
    "text",
    [
        "POLYGON ((23 54, 24 54, 24 55, 23 55, 23 54))",
        '{"type": "Polygon", "coordinates": [[[23, 54], [24, 54], [24, 55], [23, 55], [23, 54]]]}',
        '{"type": "Feature", "properties": {}, "geometry": '
        '{"type": "Polygon", "coordinates": [[[23, 54], [24, 54], [24, 55], [23, 55], [23, 54]]]}}',
    ],
    ids=["wkt", "geojson", "feature"],
)
def test_areas_are_read_from_wkt_or_geojson(text):
    assert exercise_area.read_area(text) == SQUARE, text


@pytest.mark.parametrize(
    ("text", "complaint"),
    [("POLYGON ((23 54, 24 54", "give WKT"), ("POINT (23 54)", "not a polygon"), ("{nope", "not valid GeoJSON")],
)
def test_unreadable_areas_say_why(text, complaint):
    with pytest.raises(ValueError, match=complaint):
        exercise_area.read_area(text)


def valid_notice(**overrides) -> dict:
    notice = {
        "name": "EASTERN RAMPART",
        "states": ["Eastland"],
        "starts_at": START,
        "ends_at": END,
        "area": None,
        "centre_latitude": 54.5,
        "centre_longitude": 23.5,
        "radius_km": 10.0,
        "declared_size": 9500,
        "notified_via": NotifiedVia.VIENNA_DOCUMENT,
        "notified_at": None,
        "notes": "",
    }
    return {**notice, **overrides}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"ends_at": START}, "ends_at"),
        ({"ends_at": START - timedelta(hours=1)}, "ends_at"),
        ({"area": SQUARE}, "area"),
        ({"centre_latitude": None, "centre_longitude": None, "radius_km": None}, "area"),
        ({"radius_km": 0}, "radius_km"),
        ({"radius_km": float("nan")}, "radius_km"),
        ({"radius_km": None}, "radius_km"),
        ({"centre_latitude": 91}, "centre_latitude"),
        ({"states": []}, "states"),
        ({"states": ["  "]}, "states"),
        ({"declared_size": -1}, "declared_size"),
        ({"starts_at": datetime(2026, 11, 27, 6, 0)}, "starts_at"),
        ({"notified_via": "smoke_signals"}, "notified_via"),
        ({"name": " "}, "name"),
        ({"notes": "a\x00b"}, "notes"),
    ],
)
def test_invalid_notices_name_the_field(overrides, field):
    with pytest.raises(ValidationError) as refused:
        register.check(valid_notice(**overrides))
    assert field in refused.value.details, f"{overrides}: {refused.value.details}"


def test_a_valid_notice_passes():
    register.check(valid_notice())
    register.check(valid_notice(area=SQUARE, centre_latitude=None, centre_longitude=None, radius_km=None))
