"""Positions as people type them: decimal degrees, degrees-minutes-seconds, or MGRS. Pure functions.

MGRS conversion uses the `mgrs` package; the DMS pattern is ours (no maintained library parses
the free forms staff type, such as 54 24 43N 022 52 16E or 542443N0225216E).
"""

import re
from dataclasses import dataclass

import mgrs

_DECIMAL = re.compile(r"^\s*([-+]?\d{1,2}(?:\.\d+)?)\s*[,;\s]\s*([-+]?\d{1,3}(?:\.\d+)?)\s*$")
_DMS_PART = r"(\d{1,3})[°\s:]*(\d{1,2})?['′\s:]*(\d{1,2}(?:\.\d+)?)?[\"″\s]*([NSEW])"
_DMS = re.compile(rf"^\s*{_DMS_PART}\s*,?\s*{_DMS_PART}\s*$", re.IGNORECASE)
_DMS_PACKED = re.compile(r"^\s*(\d{2})(\d{2})(\d{2}(?:\.\d+)?)([NS])\s*(\d{3})(\d{2})(\d{2}(?:\.\d+)?)([EW])\s*$", re.I)
_MGRS = re.compile(r"^\s*\d{1,2}[C-HJ-NP-X]\s*[A-HJ-NP-Z]{2}\s*(\d+)\s*(\d*)\s*$", re.IGNORECASE)
_converter = mgrs.MGRS()


@dataclass(frozen=True)
class Position:
    latitude: float
    longitude: float
    text: str  # as typed

    @property
    def decimal(self) -> str:
        return f"{self.latitude:.5f}, {self.longitude:.5f}"

    @property
    def dms(self) -> str:
        return f"{_dms(self.latitude, 'NS', 2)} {_dms(self.longitude, 'EW', 3)}"

    @property
    def mgrs(self) -> str:
        return to_mgrs(self.latitude, self.longitude)


def _dms(value: float, hemispheres: str, width: int) -> str:
    hemisphere = hemispheres[0] if value >= 0 else hemispheres[1]
    seconds = round(abs(value) * 3600)
    degrees, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{degrees:0{width}d}°{minutes:02d}'{seconds:02d}\"{hemisphere}"


def to_mgrs(latitude: float, longitude: float, digits: int = 4) -> str:
    """MGRS at 10-m precision (4 digits each way) by default, grouped for reading."""
    raw = _converter.toMGRS(latitude, longitude, MGRSPrecision=digits)
    numbers = raw[len(raw) - 2 * digits :]
    square = raw[len(raw) - 2 * digits - 2 : len(raw) - 2 * digits]
    zone_band = raw[: len(raw) - 2 * digits - 2]
    return f"{zone_band} {square} {numbers[:digits]} {numbers[digits:]}"


def _checked(latitude: float, longitude: float, text: str) -> Position:
    if not -90 <= latitude <= 90:
        raise ValueError("latitude must be between -90 and 90")
    if not -180 <= longitude <= 180:
        raise ValueError("longitude must be between -180 and 180")
    return Position(latitude, longitude, text.strip())


def _from_dms(parts: tuple) -> tuple[float, float]:
    values = []
    for degrees, minutes, seconds, hemisphere in (parts[:4], parts[4:]):
        value = int(degrees) + int(minutes or 0) / 60 + float(seconds or 0) / 3600
        values.append((-value if hemisphere.upper() in "SW" else value, hemisphere.upper()))
    (first, h1), (second, h2) = values
    if h1 in "EW" and h2 in "NS":
        first, second = second, first
    elif not (h1 in "NS" and h2 in "EW"):
        raise ValueError("give one latitude (N/S) and one longitude (E/W)")
    return first, second


def parse_position(text: str) -> Position:
    """Read decimal degrees, DMS or MGRS; raise ValueError saying which forms are understood."""
    text = text.strip()
    if match := _DECIMAL.match(text):
        return _checked(float(match[1]), float(match[2]), text)
    if match := (_DMS_PACKED.match(text) or _DMS.match(text)):
        latitude, longitude = _from_dms(match.groups())
        return _checked(latitude, longitude, text)
    if match := _MGRS.match(text):
        compact = re.sub(r"\s+", "", text).upper()
        if len(match[1] + match[2]) % 2:
            raise ValueError("MGRS needs as many easting as northing digits")
        try:
            latitude, longitude = _converter.toLatLon(compact)
        except Exception as exc:  # mgrs raises several types for malformed input
            raise ValueError(f"not a valid MGRS reference: {exc}") from None
        return _checked(latitude, longitude, text)
    raise ValueError(
        "give decimal degrees (54.412, 22.871), degrees-minutes-seconds (54 24 43N 022 52 16E) "
        "or MGRS (34U FF 2142 3097)"
    )
