"""Every notation, in the spellings staff type, reads back to the place it was written from.

Hypothesis draws a position anywhere on the globe and writes it in one notation, with a spelling drawn
at random (hemisphere letters after or before the numbers or signed degrees, upper or lower case;
degree/minute/second signs in Unicode, ASCII, letters, words, colons or none; packed forms; the
longitude first when letters say which is which; the separator between the two). The parser must read
it back within the precision written: half a unit of the last decimal written (for MGRS the square
named, which `mgrs` reads as its centre).

MGRS covers the whole globe here: UTM zones from 80°S to 84°N and the polar UPS bands A, B, Y, Z
beyond them, which the `mgrs` package converts both ways.
"""

import itertools
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.geo import MGRS_MIN_DIGITS, parse_position, plain_degrees, to_mgrs

# 500 random positions a property (hypothesis also tries the edges: poles, the antimeridian, zero): the
# 2,000 these once took cost 21 s of a CI run that must stay under six minutes.
EXAMPLES = settings(max_examples=500, deadline=None, database=None)
LATITUDE = st.floats(-90, 90, allow_nan=False)
LONGITUDE = st.floats(-180, 180, allow_nan=False)

# (degrees, minutes, seconds) signs; the last two also written as words or letters.
DMS_SIGNS = [
    ("°", "'", '"'),
    ("°", "′", "″"),
    ("º", "’", "”"),  # a phone's keyboard
    ("°", "'", "''"),
    ("d", "m", "s"),
    ("d", "'", '"'),
    (" deg ", " min ", " sec "),
    ("*", "'", '"'),
]
# Between the numbers when no sign follows them.
BARE_JOINERS = [" ", ":", "-"]


def _split_fixed(value: float, units_per_degree: int, places: int) -> tuple[int, int, int]:
    """(degrees, whole units, hundredths-style remainder) of abs(value) rounded at `places` decimals of the unit."""
    scale = 10**places
    total = round(abs(value) * units_per_degree * scale)
    degrees, rest = divmod(total, units_per_degree * scale)
    return degrees, rest // scale, rest % scale


def _fraction(remainder: int, places: int) -> str:
    return f".{remainder:0{places}d}" if places else ""


def _spellings(bare_ok: bool) -> list[tuple]:
    """How the two coordinates are put together: hemisphere style, case, gap before the numbers, the
    longitude first (only when letters say which is which), the separator.

    bare_ok: the numbers alone say where the latitude ends (a space may separate signed coordinates).
    """
    found = []
    for style, lower, gap, longitude_first in itertools.product(
        ("after", "before", "sign"), (False, True), ("", " "), (False, True)
    ):
        if style == "sign":
            if lower or gap or longitude_first:
                continue
            separators = [", ", ",", "; ", " , ", " / "] + ([" "] if bare_ok else [])
        else:
            separators = [" ", ", ", ",", "  ", ""]
        found += [(style, lower, gap, longitude_first, separator) for separator in separators]
    return found


def _assemble(spelling, latitude: float, longitude: float, lat_text: str, lon_text: str) -> str:
    style, lower, gap, longitude_first, separator = spelling
    parts = []
    for value, text, letters in ((latitude, lat_text, "NS"), (longitude, lon_text, "EW")):
        letter = letters[0] if value >= 0 else letters[1]
        letter = letter.lower() if lower else letter
        if style == "after":
            parts.append(f"{text}{gap}{letter}")
        elif style == "before":
            parts.append(f"{letter}{gap}{text}")
        else:
            parts.append(f"-{text}" if value < 0 else text)
    if longitude_first:
        parts.reverse()
    return separator.join(parts)


def _close(position, latitude: float, longitude: float, tolerance: float, text: str) -> None:
    assert abs(position.latitude - latitude) <= tolerance + 1e-9, (text, position, latitude)
    assert abs(position.longitude - longitude) <= tolerance + 1e-9, (text, position, longitude)


# One draw each for the notation's own spelling and the position's: combinations listed once.
DECIMAL_FORMS = [
    (places, degree_sign, padded, spelling)
    for places in range(8)
    for degree_sign in ("", "°", "º", " deg")
    for padded in (False, True)
    for spelling in _spellings(bare_ok=True)
]


@EXAMPLES
@given(latitude=LATITUDE, longitude=LONGITUDE, form=st.sampled_from(DECIMAL_FORMS))
def test_decimal_degrees_read_back(latitude, longitude, form):
    places, degree_sign, padded, spelling = form
    lat_text, lon_text = (
        f"{abs(value):0{width + (places + 1 if places else 0)}.{places}f}" if padded else f"{abs(value):.{places}f}"
        for value, width in ((latitude, 2), (longitude, 3))
    )
    text = _assemble(spelling, latitude, longitude, lat_text + degree_sign, lon_text + degree_sign)
    _close(parse_position(text), latitude, longitude, 0.5 * 10**-places, text)


def _marks() -> list[tuple]:
    """(signs or None, joiner when no signs, a space after each sign, packed)."""
    bare = [(None, joiner, False, False) for joiner in BARE_JOINERS]
    signed = [(signs, "", spaced, False) for signs in DMS_SIGNS for spaced in (False, True)]
    return [*bare, *signed, (None, "", False, True)]


def _dms_text(value: float, width: int, places: int, marks) -> str:
    signs, joiner, spaced, _ = marks
    degrees, minutes, rest = _split_fixed(value, 3600, places)
    minutes, seconds = divmod(minutes, 60)
    seconds_text = f"{seconds:02d}{_fraction(rest, places)}"
    if signs is None:  # packed (542443N) when the joiner is empty
        return f"{degrees:0{width}d}{joiner}{minutes:02d}{joiner}{seconds_text}"
    space = " " if spaced else ""
    return f"{degrees:0{width}d}{signs[0]}{space}{minutes:02d}{signs[1]}{space}{seconds_text}{signs[2]}".strip()


# Packed, the two numbers need a letter or a comma between them; DMS alone always splits 3 + 3.
DMS_FORMS = [
    (places, marks, spelling)
    for places in range(4)
    for marks in _marks()
    for spelling in _spellings(bare_ok=not marks[3])
]


@EXAMPLES
@given(latitude=LATITUDE, longitude=LONGITUDE, form=st.sampled_from(DMS_FORMS))
def test_degrees_minutes_seconds_read_back(latitude, longitude, form):
    places, marks, spelling = form
    lat_text, lon_text = (_dms_text(v, w, places, marks) for v, w in ((latitude, 2), (longitude, 3)))
    text = _assemble(spelling, latitude, longitude, lat_text, lon_text)
    _close(parse_position(text), latitude, longitude, 0.5 * 10**-places / 3600, text)


def _ddm_text(value: float, width: int, places: int, marks) -> str:
    signs, joiner, spaced, _ = marks
    degrees, minutes, rest = _split_fixed(value, 60, places)
    minutes_text = f"{minutes:02d}{_fraction(rest, places)}"
    if signs is None:  # packed (5442.0N) when the joiner is empty
        return f"{degrees:0{width}d}{joiner}{minutes_text}"
    space = " " if spaced else ""
    return f"{degrees:0{width}d}{signs[0]}{space}{minutes_text}{signs[1]}".strip()


def _ddm_bare_ok(marks, places: int) -> bool:
    """Signed, unmarked and in whole minutes, 54 42 26 30 could be DMS: then a comma is needed."""
    signs, joiner, _, packed = marks
    return not packed and (places > 0 or signs is not None or joiner != " ")


DDM_FORMS = [
    (places, marks, spelling)
    for places in range(5)
    for marks in _marks()
    for spelling in _spellings(bare_ok=_ddm_bare_ok(marks, places))
]


@EXAMPLES
@given(latitude=LATITUDE, longitude=LONGITUDE, form=st.sampled_from(DDM_FORMS))
def test_degrees_and_decimal_minutes_read_back(latitude, longitude, form):
    places, marks, spelling = form
    lat_text, lon_text = (_ddm_text(v, w, places, marks) for v, w in ((latitude, 2), (longitude, 3)))
    text = _assemble(spelling, latitude, longitude, lat_text, lon_text)
    _close(parse_position(text), latitude, longitude, 0.5 * 10**-places / 60, text)


SPELLED = ("grouped", "compact", "lower")


def _metres_between(a: tuple[float, float], b: tuple[float, float]) -> float:
    (lat1, lon1), (lat2, lon2) = (tuple(map(math.radians, p)) for p in (a, b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6_371_008.8 * math.asin(min(1.0, math.sqrt(h)))


@EXAMPLES
@given(
    latitude=LATITUDE,
    longitude=LONGITUDE,
    form=st.sampled_from(list(itertools.product(range(MGRS_MIN_DIGITS // 2, 6), SPELLED))),
)
def test_mgrs_reads_back_within_its_square(latitude, longitude, form):
    digits, spelling = form
    grouped = to_mgrs(latitude, longitude, digits)
    text = {"grouped": grouped, "compact": grouped.replace(" ", ""), "lower": grouped.lower()}[spelling]
    position = parse_position(text)
    square = 10 ** (5 - digits)  # metres
    # The reference is read as its square's centre: the point is at most half its diagonal away (1 % for
    # the sphere standing in for the ellipsoid).
    distance = _metres_between((position.latitude, position.longitude), (latitude, longitude))
    assert distance <= square * math.sqrt(2) / 2 * 1.01 + 1, (text, latitude, longitude, distance)


@EXAMPLES
@given(LATITUDE, LONGITUDE)
def test_a_position_shown_in_plain_degrees_reads_back_exactly(latitude, longitude):
    """The amend form shows a position filed without its text in plain degrees; it reads back as the same place
    to the ten places shown (no exponent, no negative zero)."""
    text = f"{plain_degrees(latitude)}, {plain_degrees(longitude)}"
    assert "e" not in text.lower() and not text.startswith("-0, ") and not text.endswith(", -0"), text
    read = parse_position(text)
    assert abs(read.latitude - latitude) <= 0.5e-10 and abs(read.longitude - longitude) <= 0.5e-10, text
