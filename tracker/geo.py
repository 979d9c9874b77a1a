"""Positions as people type them: decimal degrees, degrees-minutes-seconds (DMS), degrees and decimal
minutes (DDM), or MGRS. Pure functions.

MGRS conversion uses the `mgrs` package. The coordinate reader is ours: no maintained library reads the
free forms staff type (54 24 43N 022 52 16E, N54 42.000 E026 30.000, 44.1 N 33.0 E, 542443N0225216E).
It reads in three steps: cut the text into tokens (numbers, degree/minute/second signs, hemisphere
letters, separators); group the numbers into two coordinates (by the hemisphere letters, else the degree
signs, else a comma, else an even split); check each coordinate. Whatever could be read two ways or
breaks a rule is refused with the reading shown: a position is never stored on a guess.
"""

import re
import unicodedata
from dataclasses import dataclass, replace
from functools import cache
from typing import TYPE_CHECKING

from .text import foreign_digit, unseen

if TYPE_CHECKING:  # mgrs and pyproj are imported on first use: most processes never convert a position
    import mgrs
    from pyproj import Geod, Transformer

# MGRS: a UTM zone and band, or a polar (UPS) band A, B, Y or Z; the 100-km square; the digits, in one group or
# two. ASCII only (re.ASCII): with Unicode case folding "ſ" is an S and "K" (the Kelvin sign) a K. Each part
# matches one way only, so text that is not MGRS is refused in one pass (no backtracking over its digits).
_MGRS = re.compile(
    r"^\s*(?:[0-9]{1,2}\s*[C-HJ-NP-X]|[ABYZ])\s*[A-HJ-NP-Z]{2}\s*([0-9]+)(?:\s+([0-9]+))?\s*$", re.IGNORECASE | re.ASCII
)
# The longest position read: the column keeps 120 characters, and no notation needs more. A longer text is refused
# before it is read (it could only be a slip, or someone making the reader work).
MAX_LENGTH = 120
# Any whitespace a phone or a pasted document puts between the parts (no-break, thin, ideographic spaces) is a
# space; the reader itself is ASCII (re.ASCII), so that only 0-9 are digits and only A-Z letters.
_ANY_SPACE = re.compile(r"\s")


@cache
def _converter() -> "mgrs.MGRS":
    import mgrs

    return mgrs.MGRS()


@cache
def wgs84() -> "Geod":
    """The WGS84 ellipsoid's geodesics (pyproj), made once per process on first use."""
    from pyproj import Geod

    return Geod(ellps="WGS84")


# The signs as typed, with their common substitutes (a phone's curly quotes, two apostrophes, letters).
_TOKEN = re.compile(
    r"""(?P<space>\s+)
      | (?P<number>[-+\u2212]?[0-9]+(?:\.[0-9]+)?)
      | (?P<deg>°|º|˚|⁰|\*|degrees|degree|deg|d)
      | (?P<sec>''|′′|″|"|”|“|ʺ|sec)
      | (?P<min>′|'|’|‘|´|`|ʹ|min|m)
      | (?P<hemisphere>[NSEW])
      | (?P<sep>[,;/])
      | (?P<join>:)
    """,
    re.IGNORECASE | re.VERBOSE | re.ASCII,
)
_ROLES = ("deg", "min", "sec")
_SIGNS = "°'\""
HELP = (
    "give decimal degrees (54.412, 22.871), degrees-minutes-seconds (54 24 43N 022 52 16E), "
    "degrees and decimal minutes (54 24.72N 022 52.27E) or MGRS (34U FF 2142 3097)"
)


def plain(degrees: float) -> float:
    """The degrees with -0 made 0: a JSON -0.0 (or a sum that lands on it) would be stored and shown as
    -0.00000, a sign that says nothing about where the point is."""
    return degrees + 0.0


def plain_values(value: object) -> object:
    """A JSON value with every -0.0 in it made 0.0 (plain), at any depth: a timeline event's details keep what
    they were given, and an event recorded before migration 0027 holds a -0 position that the pages read as 0."""
    if isinstance(value, float):
        return plain(value)
    if isinstance(value, dict):
        return {key: plain_values(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain_values(item) for item in value]
    return value


@dataclass(frozen=True)
class Position:
    latitude: float
    longitude: float
    text: str  # as typed

    def __post_init__(self) -> None:
        object.__setattr__(self, "latitude", plain(self.latitude))
        object.__setattr__(self, "longitude", plain(self.longitude))

    @property
    def decimal(self) -> str:
        return f"{self.latitude:.5f}, {self.longitude:.5f}"

    @property
    def dms(self) -> str:
        return f"{_dms(self.latitude, 'NS', 2)} {_dms(self.longitude, 'EW', 3)}"

    @property
    def ddm(self) -> str:
        return f"{_ddm(self.latitude, 'NS', 2)} {_ddm(self.longitude, 'EW', 3)}"

    @property
    def mgrs(self) -> str:
        """MGRS at 10 m, or at 1 m where the position was typed so (a 10-digit reference read back with 8 dropped the
        metres its writer gave)."""
        return to_mgrs(self.latitude, self.longitude, _typed_mgrs_digits(self.text))


def plain_degrees(value: float) -> str:
    """Decimal degrees as a desk writes them and parse_position reads them: to at most ten places (a hundredth
    of a millimetre), the zeros after the last digit dropped; never an exponent ("1e-05" is "0.00001"), nor a
    negative zero."""
    text = f"{value:.10f}".rstrip("0").removesuffix(".")
    return "0" if text == "-0" else text


def agrees(position: Position, latitude: float, longitude: float, degrees: float) -> bool:
    """Whether latitude and longitude lie within `degrees` of the position on each axis: the longitude measured
    the short way round (180°E is 180°W), and not at all at a pole, where every meridian meets."""
    if abs(latitude - position.latitude) > degrees:
        return False
    if 90 in (abs(latitude), abs(position.latitude)):
        return True
    apart = abs(longitude - position.longitude) % 360
    return min(apart, 360 - apart) <= degrees


def _dms(value: float, hemispheres: str, width: int) -> str:
    hemisphere = hemispheres[0] if value >= 0 else hemispheres[1]
    seconds = round(abs(value) * 3600)
    degrees, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{degrees:0{width}d}°{minutes:02d}'{seconds:02d}\"{hemisphere}"


def _ddm(value: float, hemispheres: str, width: int) -> str:
    hemisphere = hemispheres[0] if value >= 0 else hemispheres[1]
    thousandths = round(abs(value) * 60_000)  # of a minute
    degrees, rest = divmod(thousandths, 60_000)
    minutes, rest = divmod(rest, 1000)
    return f"{degrees:0{width}d}°{minutes:02d}.{rest:03d}'{hemisphere}"


def _typed_mgrs_digits(text: str) -> int:
    """How many digits each way an MGRS read-back shows for a position typed as text: 5 for a 1 m reference, else
    the 10 m default (a coarser reference is read as its square's centre, finer than it was given)."""
    match = _MGRS.match(_ANY_SPACE.sub(" ", text or ""))
    if match is None:
        return 4
    return 5 if len(match[1] + (match[2] or "")) == MGRS_MAX_DIGITS else 4


def to_mgrs(latitude: float, longitude: float, digits: int = 4) -> str:
    """MGRS at 10-m precision (4 digits each way) by default, grouped for reading."""
    if -1e-7 < latitude < 0:
        # Within 11 mm south of the equator `mgrs` writes band M with a northing it cannot read back.
        latitude = 0.0
    raw = _converter().toMGRS(latitude, longitude, MGRSPrecision=digits)
    numbers = raw[len(raw) - 2 * digits :]
    square = raw[len(raw) - 2 * digits - 2 : len(raw) - 2 * digits]
    zone_band = raw[: len(raw) - 2 * digits - 2]
    return f"{zone_band} {square} {numbers[:digits]} {numbers[digits:]}"


class _Refused(ValueError):
    """A rule one coordinate breaks; parse_position puts the whole reading in front of it."""


@dataclass(frozen=True)
class _Number:
    text: str  # digits as typed, without the sign
    sign: str = ""  # "-" or "+" as typed
    mark: str | None = None  # "deg", "min" or "sec" when a sign followed the number

    @property
    def whole(self) -> str:
        return self.text.split(".")[0]


@dataclass(frozen=True)
class _Coordinate:
    numbers: tuple[_Number, ...]
    hemisphere: str | None

    def reading(self) -> str:
        """The coordinate as it was read, each number with its sign: 54°42.0'N."""
        out = self.numbers[0].sign if self.numbers else ""
        for index, number in enumerate(self.numbers):
            text = number.text
            if index == 0:  # degrees without the padding zeros: 026 -> 26
                text = text.lstrip("0") or "0"
                text = "0" + text if text.startswith(".") else text
            role = number.mark or (_ROLES[index] if index < len(_ROLES) else None)
            out += text + _SIGNS[_ROLES.index(role)] if role else f" {text}"
        return out + (self.hemisphere or "")


def _tokens(text: str) -> list[tuple[str, str, bool]]:
    """Cut the text into (kind, text, glued to the previous token) triples."""
    tokens: list[tuple[str, str, bool]] = []
    at, glued = 0, False
    while at < len(text):
        match = _TOKEN.match(text, at)
        if match is None:
            start = max(text.rfind(" ", 0, at), text.rfind(",", 0, at)) + 1
            word = text[start:].split()[0]
            raise ValueError(f"could not read “{word}”; {HELP}")
        kind = match.lastgroup or ""
        if kind == "space":
            glued = False
        else:
            tokens.append((kind, match[0], glued))
            glued = True
        at = match.end()
    return _reinterpreted(tokens)


def _reinterpreted(tokens: list[tuple[str, str, bool]]) -> list[tuple[str, str, bool]]:
    """A hyphen glued between two numbers joins them (54-24-43N), elsewhere it is a minus; an s glued after
    the seconds' number, when the minutes were written with m, is the seconds sign (54d24m43s)."""
    out: list[tuple[str, str, bool]] = []
    for kind, text, glued in tokens:
        previous = out[-1] if out else None
        if kind == "number" and text[0] == "-" and glued and previous and previous[0] == "number":
            out += [("join", "-", True), ("number", text[1:], True)]
            continue
        if (
            kind == "hemisphere"
            and text.upper() == "S"
            and glued
            and len(out) >= 2
            and previous is not None
            and previous[0] == "number"
            and out[-2][0] == "min"
            and out[-2][1].lower().startswith("m")
        ):
            out.append(("sec", text, glued))
            continue
        out.append((kind, text, glued))
    return out


def _items(text: str) -> list:
    """Numbers carrying their signs, hemisphere letters, "," for a separator and ":" for a joiner."""
    items: list = []
    for kind, token, _ in _tokens(text):
        if kind == "number":
            sign = {"\u2212": "-"}.get(token[0], token[0]) if token[0] in "+-\u2212" else ""
            items.append(_Number(token.lstrip("+-\u2212"), sign))
        elif kind in _ROLES:
            if not items or not isinstance(items[-1], _Number) or items[-1].mark:
                raise ValueError(f"the sign “{token}” follows no number; {HELP}")
            items[-1] = replace(items[-1], mark=kind)
        elif kind == "hemisphere":
            items.append(token.upper())
        else:
            items.append("," if kind == "sep" else ":")
    return items


def _segment(items: list) -> tuple[list[_Number], list[str]]:
    """The numbers of a stretch between hemisphere letters and what links each to the next (" ", "," or ":")."""
    numbers: list[_Number] = []
    links: list[str] = []
    pending = " "
    for item in items:
        if isinstance(item, _Number):
            if numbers:
                links.append(pending)
            elif pending == ":":
                raise ValueError(f"a colon or hyphen with no number before it; {HELP}")
            numbers.append(item)
            pending = " "
        elif pending != " ":
            raise ValueError(f"“{pending}” and “{item}” with no number between them; {HELP}")
        else:
            pending = item
    if pending == ":":
        raise ValueError(f"a colon or hyphen with no number after it; {HELP}")
    return numbers, links


def _plain(numbers: list[_Number]) -> str:
    return " ".join(_Coordinate(tuple(numbers), None).reading().split()) if numbers else ""


def _split(numbers: list[_Number], links: list[str], hemispheres=(None, None)) -> tuple[_Coordinate, _Coordinate]:
    """Two coordinates from numbers with no hemisphere letter between them: cut at the comma, else before
    the second degree sign, else where the only well-formed reading has both in one notation."""

    def cut(k: int) -> tuple[_Coordinate, _Coordinate]:
        return _Coordinate(tuple(numbers[:k]), hemispheres[0]), _Coordinate(tuple(numbers[k:]), hemispheres[1])

    commas = [k + 1 for k, link in enumerate(links) if link == ","]
    degrees = [k for k, number in enumerate(numbers) if number.mark == "deg"]
    if len(commas) > 1:
        raise ValueError(f"{len(commas) + 1} groups of numbers between commas: a position has two; {HELP}")
    if commas:
        return cut(commas[0])
    if len(degrees) == 2 and degrees[0] == 0 and links[degrees[1] - 1] != ":":
        return cut(degrees[1])
    if len(numbers) < 2:
        raise ValueError(f"read as {_plain(numbers)}? a position needs a latitude and a longitude; {HELP}")
    readings = [cut(k) for k in range(1, len(numbers)) if links[k - 1] != ":" and _well_formed(*cut(k))]
    if not readings:
        raise ValueError(f"read as {_plain(numbers)}? cannot tell where the latitude ends; {HELP}")
    if len(readings) == 1 and len(readings[0][0].numbers) == len(readings[0][1].numbers):
        return readings[0]
    shown = " or as ".join(f"{a.reading()} {b.reading()} ({_notation(a)}, {_notation(b)})" for a, b in readings)
    doubt = "ambiguous" if len(readings) > 1 else "latitude and longitude in different notations"
    raise ValueError(f"{doubt}: read as {shown}? mark the hemispheres (N/S, E/W) or put a comma after the latitude")


def _well_formed(*coordinates: _Coordinate) -> bool:
    try:
        for coordinate in coordinates:
            _check_form(coordinate, "coordinate")
    except _Refused:
        return False
    return True


def _notation(coordinate: _Coordinate) -> str:
    return ("decimal degrees", "DDM", "DMS")[min(len(coordinate.numbers), 3) - 1]


def _whole(numbers: list[_Number], links: list[str], hemisphere: str) -> _Coordinate:
    if "," in links:
        raise ValueError(f"read as {_plain(numbers)}{hemisphere}? a separator (, ; or /) inside one coordinate; {HELP}")
    return _Coordinate(tuple(numbers), hemisphere)


def _coordinates(text: str) -> tuple[_Coordinate, _Coordinate]:
    """Group the numbers into two coordinates, by hemisphere letters where there are some."""
    items = _items(text)
    letters = [k for k, item in enumerate(items) if isinstance(item, str) and item in "NSEW"]
    if not letters:
        return _split(*_segment(items))
    if len(letters) != 2:
        given = ", ".join(items[k] for k in letters)
        raise ValueError(
            f"hemisphere letters {given}: give two, one N or S for the latitude and one E or W for the longitude "
            "(or neither, with signed degrees)"
        )
    first, second = items[letters[0]], items[letters[1]]
    cut = (items[: letters[0]], items[letters[0] + 1 : letters[1]], items[letters[1] + 1 :])
    a, b, c = (_segment(part) for part in cut)
    if a[0] and b[0] and not c[0]:  # 54 42.0N 026 30.0E
        return _whole(*a, first), _whole(*b, second)
    if not a[0] and b[0] and c[0]:  # N54 42.000 E026 30.000
        return _whole(*b, first), _whole(*c, second)
    if a[0] and not b[0] and c[0]:  # 54 42N E026 30
        return _whole(*a, first), _whole(*c, second)
    if not a[0] and b[0] and not c[0]:  # N 54 42, 26 30 E
        return _split(*b, hemispheres=(first, second))
    raise ValueError(f"cannot tell which numbers the letters {first} and {second} belong to; {HELP}")


def _unpacked(coordinate: _Coordinate, axis: str) -> _Coordinate:
    """542443N -> 54 24 43N: a lone number with four digits or more before its decimals is packed."""
    if len(coordinate.numbers) != 1 or len(coordinate.numbers[0].whole) < 4:
        return coordinate
    number = coordinate.numbers[0]
    width = 2 if axis == "latitude" else 3
    if number.mark or len(number.whole) not in (width + 2, width + 4):
        raise ValueError(
            f"read {number.sign}{number.text}{coordinate.hemisphere or ''} as a packed {axis}? it takes "
            f"{width + 2} digits ({'D' * width}MM) or {width + 4} ({'D' * width}MMSS) before any decimals"
        )
    whole, decimals = number.whole, number.text[len(number.whole) :]
    pieces = [whole[:width], whole[width : width + 2], whole[width + 2 :]]
    pieces = [piece for piece in pieces if piece]
    pieces[-1] += decimals
    numbers = [_Number(pieces[0], number.sign), *(_Number(piece) for piece in pieces[1:])]
    return _Coordinate(tuple(numbers), coordinate.hemisphere)


def _check_form(coordinate: _Coordinate, axis: str) -> None:
    """Degrees, minutes, seconds in that order; a sign on the first only; decimals on the last only."""
    numbers = coordinate.numbers
    if len(numbers) > 3:
        raise _Refused(f"{len(numbers)} numbers for the {axis}: at most degrees, minutes and seconds")
    for index, number in enumerate(numbers):
        if number.mark and _ROLES.index(number.mark) != index:
            names = ("degrees", "minutes", "seconds")
            raise _Refused(
                f"the {axis}'s {('first', 'second', 'third')[index]} number is marked as "
                f"{names[_ROLES.index(number.mark)]}: give {', '.join(names[: index + 1])}"
            )
        if index and number.sign:
            raise _Refused(f"a sign belongs before the degrees, not before {number.text}")
        if "." in number.text and index < len(numbers) - 1:
            raise _Refused(f"only the last number of a coordinate may have decimals ({number.text} comes before more)")


def _value(coordinate: _Coordinate, axis: str) -> float:
    """The signed degrees of one coordinate; _Refused names the rule it breaks."""
    _check_form(coordinate, axis)
    numbers = coordinate.numbers
    values = [float(number.text) for number in numbers]
    for name, amount in zip(("minutes", "seconds"), values[1:], strict=False):
        if amount >= 60:
            raise _Refused(f"{name} must be below 60")
    degrees = values[0] + sum(amount / 60**power for power, amount in enumerate(values[1:], start=1))
    sign, hemisphere = numbers[0].sign, coordinate.hemisphere
    if sign and hemisphere and (sign == "-") != (hemisphere in "SW"):
        raise _Refused(f"the sign {sign} and the letter {hemisphere} say opposite hemispheres")
    if sign == "-" or (hemisphere and hemisphere in "SW"):
        degrees = -degrees
    limit = 90 if axis == "latitude" else 180
    if not -limit <= degrees <= limit:
        raise _Refused(f"{axis} must be between -{limit} and {limit}")
    return plain(degrees)  # "-0 -0" would otherwise be stored and shown as -0.00000


def _axes(first: _Coordinate, second: _Coordinate) -> tuple[_Coordinate, _Coordinate, bool]:
    """(latitude, longitude, typed the other way round): as the letters say, else in the order typed."""
    if first.hemisphere is None or second.hemisphere is None:
        return first, second, False
    kinds = ["latitude" if h in "NS" else "longitude" for h in (first.hemisphere, second.hemisphere)]
    if kinds[0] == kinds[1]:
        raise _Refused(f"two {kinds[0]}s; give one latitude (N/S) and one longitude (E/W)")
    return (first, second, False) if kinds[0] == "latitude" else (second, first, True)


# The coarsest MGRS reference read as a position: 100 m squares (6 digits). A 1 or 10 km square read as its
# centre could place the incident 0.7 or 7 km from where it was (and its border distance with it): refused.
MGRS_MIN_DIGITS = 6
MGRS_MAX_DIGITS = 10  # 1 m squares: the finest MGRS writes


def _from_mgrs(text: str, match: re.Match) -> Position:
    easting, northing = match[1], match[2] or ""
    if len(easting + northing) % 2 or (northing and len(easting) != len(northing)):
        # "90455 650" is not "9045 5650": the digits are not moved from one group to the other.
        raise ValueError("MGRS needs as many easting as northing digits")
    if len(easting + northing) < MGRS_MIN_DIGITS:
        raise ValueError(
            f"{text.strip()} names a square of {10 ** (5 - len(easting + northing) // 2):,} m: give at least "
            f"{MGRS_MIN_DIGITS} digits (100 m), 8 (10 m) as reports do"
        )
    if len(easting + northing) > MGRS_MAX_DIGITS:
        raise ValueError(
            f"{text.strip()} has {len(easting + northing) // 2} digits each way: MGRS takes at most "
            f"{MGRS_MAX_DIGITS // 2} (1 m); check for a doubled digit"
        )
    reference = re.sub(r"\s+", "", text).upper()
    zone = re.match(r"[0-9]*", reference)[0]  # type: ignore[index]  # matches, if only the empty string
    if zone and not 1 <= int(zone) <= 60:
        raise ValueError(f"{text.strip()}: MGRS grid zones are numbered 1 to 60, not {zone}")
    numbers = easting + northing
    named = reference[: len(reference) - len(numbers) - 2].lstrip("0")
    try:
        latitude, longitude = _converter().toLatLon(reference)
    except Exception:  # mgrs raises several types, saying only "String Error", which tells a desk officer nothing
        square = reference[len(reference) - len(numbers) - 2 : len(reference) - len(numbers)]
        raise ValueError(_unknown_square(text.strip(), named, square)) from None
    if not _square_touches(named, latitude, longitude, len(numbers) // 2):
        found = _grid_zone(latitude, longitude)
        raise ValueError(
            f"{text} is not in grid zone {named}: read there, it lies in {found} "
            f"({latitude:.5f}, {longitude:.5f}); check the zone, band and 100-km square"
        )
    return Position(latitude, longitude, text)


# Svalbard's zones 31X, 33X, 35X and 37X are widened over these three, which MGRS therefore never names.
_NO_GRID_ZONES = ("32X", "34X", "36X")


def _unknown_square(text: str, zone: str, square: str) -> str:
    """Why `mgrs` could not read a reference whose parts each have the right form: its grid zone does not exist,
    or the zone has no 100-km square of those letters (each zone uses its own set of them)."""
    if zone in _NO_GRID_ZONES:
        return f"{text}: there is no grid zone {zone} (Svalbard's zones 31X, 33X, 35X and 37X cover it); check the zone"
    return f"{text}: grid zone {zone} has no 100-km square {square}; check the zone, band and square letters"


def _grid_zone(latitude: float, longitude: float) -> str:
    """The grid zone a point lies in as MGRS names it: a UTM zone and band ("34U"), or a polar band ("Z")."""
    return to_mgrs(latitude, (longitude + 180) % 360 - 180, 1).split()[0].lstrip("0")


_POLAR = ("A", "B", "Y", "Z")  # the UPS bands, beyond 84°N and 80°S


@cache
def _grid(zone: str) -> "Transformer":
    """WGS84 degrees to the easting and northing of a grid zone's UTM zone or polar (UPS) projection."""
    from pyproj import Transformer

    if zone in _POLAR:
        code = 32761 if zone in "AB" else 32661
    else:
        code = (32600 if zone[-1] >= "N" else 32700) + int(zone[:-1])
    return Transformer.from_crs(4326, code, always_xy=True)


# Grid zones are bounded by these parallels and by meridians 6° apart (3° apart where Norway's and
# Svalbard's zones are cut differently, and at the polar bands' 0°/180° line).
_BAND_EDGES = (*range(-80, 80, 8), 84)
_ZONE_EDGES = range(-180, 181, 3)


def _square_touches(zone: str, latitude: float, longitude: float, digits: int) -> bool:
    """Whether the square a reference names (read as its centre, `digits` each way) lies at least partly in
    the grid zone it names. `mgrs` reads any square letters in any zone, placing them wherever the
    arithmetic goes (a zone-1 square across the antimeridian, band T's letters at 54°N): that is a guess.

    Tried at the square's corners and, as a zone's parallels bend (away from its central meridian, or
    round a pole), at the edge points nearest the central meridian or the pole, where the square reaches
    farthest north or south; then, for a square over a corner of grid zones, just beside that corner.
    """
    half = 10.0 ** (5 - digits) / 2
    grid = _grid(zone)
    x, y = grid.transform(longitude, latitude)  # `mgrs` reads a reference as its square's centre
    west, south, east, north = x - half, y - half, x + half, y + half
    polar = zone in _POLAR
    middle = 2_000_000.0 if polar else 500_000.0  # the pole's or the central meridian's easting
    nearest_x = min(max(middle, west), east)
    xs = [west, east, west, east, nearest_x, nearest_x] + ([nearest_x] if polar else [])
    ys = [south, south, north, north, south, north] + ([min(max(middle, south), north)] if polar else [])
    longitudes, latitudes = grid.transform(xs, ys, direction="INVERSE")
    points = [(lat, lon) for lat, lon in zip(latitudes, longitudes, strict=True) if -90 <= lat <= 90]
    if any(_grid_zone(lat, lon) == zone for lat, lon in points):
        return True
    edges = [(lat, lon) for lat in _BAND_EDGES for lon in _ZONE_EDGES if min(latitudes) <= lat <= max(latitudes)]
    if not edges:
        return False
    edge_xs, edge_ys = grid.transform([lon for _, lon in edges], [lat for lat, _ in edges])
    step = 1e-7  # degrees: about a centimetre
    return any(
        _grid_zone(lat + dlat, lon + dlon) == zone
        for (lat, lon), edge_x, edge_y in zip(edges, edge_xs, edge_ys, strict=True)
        if west < edge_x < east and south < edge_y < north
        for dlat in (-step, step)
        for dlon in (-step, step)
        if -90 <= lat + dlat <= 90
    )


def unseen_character(text: str) -> str | None:
    """Why a position holding a character nobody sees (a zero-width space pasted in, the left-to-right mark of a
    right-to-left keyboard) is refused, naming it and where it stands; None when it holds none. It was refused as
    "could not read “”", or quoted with the mark hidden in a reading that looked right."""
    for at, character in enumerate(text, start=1):
        if unseen(character) and character not in "\t\n\r":
            name = unicodedata.name(character, "a control character")
            return f"it holds U+{ord(character):04X} {name} at character {at}, which nobody sees: remove it"
    return None


def parse_position(text: str) -> Position:
    """Read decimal degrees, DMS, DDM or MGRS; refuse, showing the reading, what is ambiguous or wrong."""
    typed = text.strip()
    if not typed:
        raise ValueError(HELP[0].upper() + HELP[1:])
    if len(typed) > MAX_LENGTH:
        raise ValueError(f"{len(typed):,} characters: a position takes at most {MAX_LENGTH}; {HELP}")
    if found := foreign_digit(typed):
        raise ValueError(found)
    if found := unseen_character(typed):
        raise ValueError(found)
    text = _ANY_SPACE.sub(" ", typed)
    if match := _MGRS.match(text):
        return replace(_from_mgrs(text, match), text=typed)
    if not _DECIMAL_COMMA.search(text):
        return replace(_read(text), text=typed)
    return _comma_read(text, typed)


def parse_position_beside(text: str, latitude: float, longitude: float, degrees: float) -> Position:
    """parse_position for a text sent with its latitude and longitude: a comma between digits that may be a
    decimal comma ("54,5 22") is read the one way that agrees with them (within `degrees`, as `agrees`); the
    coordinates say what the text meant, so nothing is guessed. Refused as parse_position refuses otherwise."""
    try:
        return parse_position(text)
    except ValueError:
        typed = text.strip()
        spaced = _ANY_SPACE.sub(" ", typed)
        if len(typed) > MAX_LENGTH or foreign_digit(typed) or _MGRS.match(spaced) or not _DECIMAL_COMMA.search(spaced):
            raise
        readings = (_readable(spaced), _readable(_DECIMAL_COMMA.sub(".", spaced)))
        agreeing = [r for r in readings if r is not None and agrees(r, latitude, longitude, degrees)]
        if len(agreeing) != 1:
            raise
        return replace(agreeing[0], text=typed)


def _comma_read(text: str, typed: str) -> Position:
    # A comma between two digits separates latitude and longitude ("54.412,22.871"), or is a decimal comma
    # ("54,5 22" for 54.5, 22, typed on a desk whose numbers are written so): read both ways, and refuse when both
    # read, or say the decimal reading when only it reads.
    as_decimal = _readable(_DECIMAL_COMMA.sub(".", text))
    try:
        as_separator = _read(text)
    except ValueError as refusal:
        if as_decimal is None:
            raise
        raise ValueError(f"{refusal}; with a decimal comma it reads {as_decimal.decimal}: {_DECIMAL_POINT}") from None
    if as_decimal is not None:
        raise ValueError(
            f"ambiguous: read as {as_separator.decimal} with the comma between latitude and longitude, or as "
            f"{as_decimal.decimal} with a decimal comma? {_DECIMAL_POINT}"
        )
    return replace(as_separator, text=typed)


# A comma glued to the digit after it, and to the one before or after a stray space: a separator (54.412,22.871)
# or a decimal comma (54,5 for 54.5; "59 ,5 27" was read as 59, 5 27 with no doubt raised).
_DECIMAL_COMMA = re.compile(r"(?<=[0-9]) *,(?=[0-9])")
_DECIMAL_POINT = "write decimals with a point (54.5), and a space after a comma between latitude and longitude"


def _readable(text: str) -> Position | None:
    try:
        return _read(text)
    except ValueError:
        return None


def _read(text: str) -> Position:
    """Read degrees (decimal, DMS or DDM) from text whose spaces are plain; the text kept is the one given."""
    first, second = _coordinates(text)
    shown = f"{first.reading()} {second.reading()}"
    try:
        latitude, longitude, swapped = _axes(first, second)
        latitude, longitude = _unpacked(latitude, "latitude"), _unpacked(longitude, "longitude")
        shown = " ".join(c.reading() for c in ((longitude, latitude) if swapped else (latitude, longitude)))
        return Position(_value(latitude, "latitude"), _value(longitude, "longitude"), text)
    except _Refused as refusal:
        raise ValueError(f"read as {shown}? {refusal}") from None
