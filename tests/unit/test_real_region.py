"""The real borders (REGION_BOUNDARIES = "natural_earth"): distances near Narva, at sea in the Gulf
of Finland and far inland, against WGS84 geodesic distances to the data's own vertices."""

import time

import numpy
import pytest
import shapely
from pyproj import Geod

from tracker import region
from tracker.region import TERRITORIAL_SEA_KM, load, natural_earth, territorial_sea_km, wanted_states

WGS84 = Geod(ellps="WGS84")
STATES = ("Estonia", "Russia")
NARVA_WEST = (59.38, 28.02)  # about 10 km west of Narva, on land
GULF_OF_FINLAND = (59.75, 26.5)  # at sea, north of Kunda: Estonian waters' edge; Gogland (Russia) 40 km north-east


def real(*states: str) -> region.Region:
    return load("", "natural_earth", tuple(states))


def number(name: str) -> int:
    return natural_earth().names.index(name)


def vertices(which) -> numpy.ndarray:
    data = natural_earth()
    return shapely.get_coordinates(data.lines[which(data)])


def nearest_km(latitude: float, longitude: float, points: numpy.ndarray) -> float:
    """The reference: the WGS84 geodesic distance to the nearest vertex (the data's lines are short)."""
    count = len(points)
    _, _, metres = WGS84.inv(numpy.full(count, longitude), numpy.full(count, latitude), points[:, 0], points[:, 1])
    return float(metres.min()) / 1000


def estonia_russia_border(data) -> numpy.ndarray:
    pair = [number("Estonia"), number("Russia")]
    return (data.second >= 0) & numpy.isin(data.first, pair) & numpy.isin(data.second, pair)


def coast_of(name: str):
    return lambda data: (data.first == number(name)) & (data.second < 0)


def test_west_of_narva_is_within_15_km_of_the_estonian_russian_land_border():
    distance = real(*STATES).border_distance_km(*NARVA_WEST)
    expected = nearest_km(*NARVA_WEST, vertices(estonia_russia_border))
    assert natural_earth().on_land(*NARVA_WEST), "the point is on land: only land borders count"
    assert 1 < distance < 15, distance
    assert distance == pytest.approx(expected, abs=0.3), (distance, expected)


def test_at_sea_the_distance_is_to_the_other_states_territorial_sea_12_nm_off_its_coast():
    distance = real(*STATES).border_distance_km(*GULF_OF_FINLAND)
    to_russia = nearest_km(*GULF_OF_FINLAND, vertices(coast_of("Russia")))
    to_estonia = nearest_km(*GULF_OF_FINLAND, vertices(coast_of("Estonia")))
    assert not natural_earth().on_land(*GULF_OF_FINLAND)
    assert to_estonia < to_russia, "Estonia's coast is the nearer: its own waters are not the border"
    assert distance == pytest.approx(to_russia - TERRITORIAL_SEA_KM, abs=0.3), (distance, to_russia, to_estonia)
    assert 15 < distance < 20, distance


def test_where_two_coasts_are_closer_than_24_nm_the_limit_is_the_median_line():
    # 15 km off the other state's coast, 5 km off the home state's: the median line is 5 km away, not 0.
    assert territorial_sea_km(15.0, 5.0) == pytest.approx(5.0)
    # Open water: 12 NM from the other state's coast; on the median line: 0.
    assert territorial_sea_km(60.0, 30.0) == pytest.approx(60 - TERRITORIAL_SEA_KM)
    assert territorial_sea_km(20.0, 20.0) == 0.0
    assert territorial_sea_km(float("inf"), 3.0) == float("inf"), "no other state's coast: no limit"


def test_at_sea_only_the_states_named_count_and_never_the_one_whose_waters_the_point_is_in():
    to_finland = nearest_km(*GULF_OF_FINLAND, vertices(coast_of("Finland")))
    with_finland = real("Estonia", "Finland").border_distance_km(*GULF_OF_FINLAND)
    assert with_finland == pytest.approx(to_finland - TERRITORIAL_SEA_KM, abs=0.3), (with_finland, to_finland)
    assert real("Estonia").border_distance_km(*GULF_OF_FINLAND) is None, "Estonia's own waters are no border"


@pytest.mark.parametrize(
    ("place", "latitude", "longitude", "on_land"),
    [
        ("the Norwegian Sea", 67.0, 5.0, False),
        ("the Chukchi Sea", 68.0, -175.0, False),
        ("Chukotka, west of 180", 66.0, 170.0, True),
        ("Chukotka, east of 180", 66.5, -171.0, True),
    ],
)
def test_polygons_cut_at_180_degrees_stay_on_their_side_of_the_map(place, latitude, longitude, on_land):
    # Russia's rings shared the cut's arc with the part across 180 and ran around the world in between.
    assert natural_earth().on_land(latitude, longitude) is on_land, place


@pytest.mark.parametrize("latitude", [-16.2, 65.2, 71.0])
def test_the_nearest_coast_is_found_across_180_degrees_and_the_cut_itself_is_no_coast(latitude):
    data, everywhere = natural_earth(), real()
    coasts = vertices(lambda data: data.second < 0)
    coasts = coasts[(abs(coasts[:, 1] - latitude) < 2) & (abs(coasts[:, 0]) > 176)]  # each is within 30 km of one
    for longitude in (179.99, -179.99):
        point = (latitude, longitude, region._spherical(latitude, longitude), region._projection(latitude, longitude))
        found, _ = data._nearest(point, data.second < 0)
        expected = nearest_km(latitude, longitude, coasts)  # to a vertex: at most a segment's length more
        assert expected - 7 < found <= expected + 0.01, (latitude, longitude, found, expected)
    east, west = everywhere.border_distance_km(latitude, 179.99), everywhere.border_distance_km(latitude, -179.99)
    apart = WGS84.inv(179.99, latitude, -179.99, latitude)[2] / 1000  # 0.02 degrees: 0.8 to 2.1 km
    assert abs(east - west) <= apart + 0.01, (latitude, east, west, apart)


def test_a_distance_stays_in_low_milliseconds_wherever_the_point_is():
    named = real(*STATES)
    named.border_distance_km(*NARVA_WEST)  # the data and the two states' territory, read once
    started = time.perf_counter()
    for latitude, longitude in [NARVA_WEST, GULF_OF_FINLAND, (40.4, -3.7), (0.0, -150.0), (57.0, 19.0)]:
        named.border_distance_km(latitude, longitude)
    # About 25 ms for the five here (the mid-Pacific one, 7,000 km from both states, takes 17 ms).
    assert time.perf_counter() - started < 0.5, "a filing must not wait on the distance to the border"


@pytest.mark.parametrize(
    ("place", "latitude", "longitude", "low", "high"),
    [("Viljandi", 58.364, 25.597, 100, 200), ("Madrid", 40.4, -3.7, 2500, 3200)],
)
def test_far_inland_the_distance_is_to_the_land_border_between_the_states_named(place, latitude, longitude, low, high):
    distance = real(*STATES).border_distance_km(latitude, longitude)
    expected = nearest_km(latitude, longitude, vertices(estonia_russia_border))
    assert low < distance < high, (place, distance)
    assert distance == pytest.approx(expected, rel=0.002, abs=0.3), (place, distance, expected)


def test_with_no_states_named_every_border_counts():
    assert real().border_distance_km(40.4, -3.7) < 400, "Madrid is a few hundred km from Portugal and France"


def test_states_are_named_by_name_or_iso_numeric_code_and_an_unknown_one_is_refused():
    assert (
        wanted_states(("estonia", "643"))
        == wanted_states(("Estonia", "Russia"))
        == {
            number("Estonia"),
            number("Russia"),
        }
    )
    with pytest.raises(ValueError, match="Atlantis"):
        wanted_states(("Estonia", "Atlantis"))


def test_the_basis_of_the_distance():
    assert real(*STATES).border_basis == "natural_earth_10m"
    assert load("config/region.geojson").border_basis == "fictional"
    assert load("tests/data/ida_virumaa_sectors.geojson").border_basis is None, "no border lines: no distance"
    assert load("").border_basis is None
    assert region.parse({"type": "FeatureCollection", "features": []}).fictional is False


def test_outside_every_sector_only_when_there_are_sectors():
    sectors = load("tests/data/ida_virumaa_sectors.geojson", "natural_earth", STATES)
    assert sectors.sector_of(*NARVA_WEST) == "Narva" and not sectors.outside_sectors(*NARVA_WEST)
    assert sectors.outside_sectors(*GULF_OF_FINLAND)
    assert not sectors.outside_sectors(None, None)
    assert not real(*STATES).outside_sectors(*GULF_OF_FINLAND), "no sectors configured: nothing to be outside of"
