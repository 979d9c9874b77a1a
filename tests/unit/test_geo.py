"""Positions typed as decimal degrees, DMS or MGRS, and read back in all three."""

import pytest

from tracker.geo import parse_position, to_mgrs

POINT = (54.41194, 22.87111)


@pytest.mark.parametrize(
    "text",
    [
        "54 24 43N 022 52 16E",
        "542443N0225216E",
        "54°24'43\"N 22°52'16\"E",
        "54:24:43N, 022:52:16E",
        "22 52 16E 54 24 43N",
        "54 24 43n 022 52 16e",
    ],
)
def test_degrees_minutes_seconds(text):
    position = parse_position(text)
    assert (round(position.latitude, 5), round(position.longitude, 5)) == POINT
    assert position.dms == "54°24'43\"N 022°52'16\"E"
    assert position.text == text.strip()


@pytest.mark.parametrize(
    ("text", "latitude", "longitude"),
    [
        ("54.412, 22.871", 54.412, 22.871),
        ("-33.9 151.2", -33.9, 151.2),
        ("0,0", 0, 0),
        ("54.412;22.871", 54.412, 22.871),
    ],
)
def test_decimal_degrees(text, latitude, longitude):
    position = parse_position(text)
    assert (position.latitude, position.longitude) == (latitude, longitude)


@pytest.mark.parametrize("text", ["34UFF2142330971", "34U FF 2142 3097", "34uff21423097"])
def test_mgrs_reads_back_at_ten_metre_precision(text):
    position = parse_position(text)
    assert abs(position.latitude - 54.412) < 0.001 and abs(position.longitude - 22.871) < 0.001
    assert position.mgrs == "34U FF 2142 3097"


def test_southern_and_western_hemispheres():
    position = parse_position("33 54 00S 151 12 00W")
    assert (position.latitude, position.longitude) == (-33.9, -151.2)
    assert position.dms == "33°54'00\"S 151°12'00\"W"


def test_mgrs_of_a_known_point():
    assert to_mgrs(54.412, 22.871) == "34U FF 2142 3097"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("91, 20", "latitude"),
        ("10, 181", "longitude"),
        ("hello", "MGRS"),
        ("34UFF214233097", "as many easting"),
        ("54 24 43N 55 10 00S", "one latitude"),
        ("", "decimal degrees"),
    ],
)
def test_unreadable_positions_say_what_is_understood(text, says):
    with pytest.raises(ValueError, match=says):
        parse_position(text)
