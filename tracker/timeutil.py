"""UTC time helpers and military date-time groups (DTG, DDHHMMZMONYY, or with the year in four digits:
DDHHMMZMONYYYY). Pure functions."""

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import overload

from .text import foreign_digit

# The times the tracker handles: a DTG's two-digit year names 2000-2099, and no record or exercise lies outside
# 1900-2100. Beyond year 1 or 9999 a time cannot even be moved by a zone offset or a search window
# (OverflowError), so every parser refuses what lies outside, as a ValueError naming the bounds.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2101, 1, 1, tzinfo=UTC)  # exclusive: the whole of 2100 is in
MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
# ASCII only: regex \d also matches Arabic-Indic or fullwidth digits, which int() then reads as numbers.
_DTG = re.compile(r"^([0-9]{2})([0-9]{2})([0-9]{2})([A-IK-Z])([A-Z]{3})([0-9]{2}|[0-9]{4})\Z")
# DDHHMM then the month with no zone letter between (061530DEC26), or with J, the local time of whoever reads it.
_NO_ZONE = re.compile(r"^[0-9]{6}[A-Z]{3}(?:[0-9]{2}|[0-9]{4})\Z")
_LOCAL_ZONE = re.compile(r"^[0-9]{6}J[A-Z]{3}(?:[0-9]{2}|[0-9]{4})\Z")
# Whitespace of any kind (a no-break space pasted from a document) between a DTG's parts, which are read without it.
_ANY_SPACE = re.compile(r"\s+")
# What a time is written with: ASCII digits, letters, signs and spaces. Anything else is refused before reading:
# "ſ" upper-cases to S (ſep26 read as SEP), and a digit of another script would be read by int().
_NOT_ASCII = re.compile(r"[^\x20-\x7e]")


def utcnow() -> datetime:
    """Return the current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def zone_offset(letter: str) -> timedelta:
    """Return the UTC offset of a military time-zone letter (Z=0, A-M east without J, N-Y west)."""
    if letter == "Z":
        return timedelta(0)
    if "A" <= letter <= "I":
        return timedelta(hours=ord(letter) - ord("A") + 1)
    if "K" <= letter <= "M":
        return timedelta(hours=ord(letter) - ord("K") + 10)
    if "N" <= letter <= "Y":
        return -timedelta(hours=ord(letter) - ord("N") + 1)
    raise ValueError(f"unknown time-zone letter {letter!r}")


def parse_dtg(text: str) -> datetime:
    """Parse a date-time group such as 061620ZDEC17 into an aware UTC datetime. The year may be written in
    four digits (061620ZDEC2017), as some staff and formats write it: it names the same time, never a guess."""
    compact = _compact(text)
    match = _DTG.match(compact)
    if not match:
        raise ValueError(_not_a_dtg(compact))
    day, hour, minute, zone, month, year = match.groups()
    if month not in MONTHS:
        raise ValueError(f"unknown month {month!r} in date-time group")
    if int(hour) > 23:
        raise ValueError("hour must be 00-23 (midnight is 0000, never 2400)")
    try:
        local = datetime(
            int(year) + (2000 if len(year) == 2 else 0), MONTHS.index(month) + 1, int(day), int(hour), int(minute)
        )
    except ValueError as exc:
        raise ValueError(f"impossible date-time group: {exc}") from None
    try:
        return in_range((local - zone_offset(zone)).replace(tzinfo=UTC))
    except OverflowError:  # year 1 moved west of UTC
        raise ValueError(_RANGE) from None


def _not_a_dtg(compact: str) -> str:
    """Why the text is no date-time group: where a letter is missing or not a zone, said so."""
    expected = "expected DDHHMMZMONYY, e.g. 061620ZDEC17 or 061620ZDEC2017"
    if _NO_ZONE.match(compact):
        return (
            f"a date-time group names its time zone after the time (Z for UTC: {compact[:6]}Z{compact[6:]}); {expected}"
        )
    if _LOCAL_ZONE.match(compact):
        return (
            "J (the writer's local time) names no zone a server can read: give the zone letter (Z for UTC); " + expected
        )
    return f"not a date-time group ({expected})"


def _compact(text: str) -> str:
    """The text as a DTG is matched: upper case, without spaces; ValueError for a character no time is written
    with (checked first: str.upper() turns some letters of other scripts into A-Z)."""
    text = _ANY_SPACE.sub("", text)
    if found := foreign_digit(text):
        raise ValueError(found)
    if other := _NOT_ASCII.search(text):
        character = other[0]
        name = unicodedata.name(character, f"U+{ord(character):04X}")
        raise ValueError(f"“{character}” ({name}) is not part of a time: write it with 0-9, A-Z, - + : and .")
    return text.upper()


def format_dtg(moment: datetime) -> str:
    """Format an aware datetime as a Zulu date-time group, e.g. 061620ZDEC17; outside 2000-2099 with the
    year whole (271405ZNOV1999), since two digits name 2000-2099 only and 99 would read back as 2099."""
    z = moment if moment.tzinfo is UTC else moment.astimezone(UTC)
    year = z.year % 100 if 2000 <= z.year <= 2099 else z.year
    # Fields, not strftime: a message shows three DTGs, and strftime cost four times as much.
    return f"{z.day:02}{z.hour:02}{z.minute:02}Z{MONTHS[z.month - 1]}{year:02}"


# A time of day (HHMM) or a day and time (DDHHMM) written without the zone letter a short form takes.
_DIGITS_NO_ZONE = re.compile(r"[0-9]{4}|[0-9]{6}")


def parse_moment(text: str) -> datetime:
    """Parse ISO 8601 with an explicit zone, or a DTG; return an aware UTC datetime."""
    text = text.strip()
    compact = _compact(text)
    # A DTG missing its zone letter, or written with J, is told so by parse_dtg: read as ISO 8601 it was
    # answered "expected ISO 8601 ... or a date-time group", which does not say what is missing.
    if _DTG.match(compact) or _NO_ZONE.match(compact) or _LOCAL_ZONE.match(compact):
        return parse_dtg(text)
    if _DIGITS_NO_ZONE.fullmatch(compact):  # 0605, 070605: a short form without its Z, not a malformed ISO date
        raise ValueError(
            f"{compact} has no zone letter: {compact}Z if it is UTC, else the whole date-time group "
            "(DDHHMMZMONYY, such as 271405ZNOV26)"
        )
    try:
        moment = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError as exc:
        raise ValueError(_iso_problem(str(exc))) from None
    if moment.tzinfo is None:
        raise ValueError("ISO 8601 time needs a zone (Z or +hh:mm); local times are ambiguous")
    try:
        utc = in_range(moment.astimezone(UTC))
    except OverflowError:  # the offset pushes it past year 1 or 9999
        raise ValueError(_RANGE) from None
    if not _WEST <= moment.utcoffset() <= _EAST:  # type: ignore[operator]  # aware: an offset
        raise ValueError("no zone is that far from UTC: the offset lies between -12:00 and +14:00")
    return utc


# A Zulu time said without its date: "0027Z" (the time alone) or "060027Z" (a day-time group, without month and
# year), always in Zulu time.
_SHORT = re.compile(r"^([0-9]{2})?([0-9]{2})([0-9]{2})Z\Z")
# A clock a little ahead of the server's, or a minute typed rounded up: 1530Z typed at 15:29:40 is this afternoon's,
# not yesterday's (nor 061530Z last month's). As much as MAX_FUTURE_SKEW_SECONDS tolerates by default; the
# callers' own check of a time to come applies to what is read.
RECENT_AHEAD = timedelta(minutes=5)


@dataclass(frozen=True)
class ZuluTime:
    """A Zulu time said without its date, "1800Z", or with its day only, "071800Z": which moment it names depends
    on when it was said. A time of the last days (a watch log line, a call's start) is the latest such moment by
    then (last_by); a due time agreed on a call is the first at or after the call's start (first_from)."""

    day: int | None
    hour: int
    minute: int

    def last_by(self, moment: datetime) -> datetime:
        """The latest such moment at or before moment."""
        return self._nearest(moment, -1)

    def first_from(self, moment: datetime) -> datetime:
        """The earliest such moment at or after moment."""
        return self._nearest(moment, 1)

    def _nearest(self, moment: datetime, way: int) -> datetime:
        z = moment.astimezone(UTC)
        if self.day is None:
            found = z.replace(hour=self.hour, minute=self.minute, second=0, microsecond=0)
            return found if (found - z) * way >= timedelta(0) else found + timedelta(days=way)
        year, month = z.year, z.month
        for _ in range(3):  # this month, or the next (last) one that has the day (31 after a month of 30)
            try:
                found = datetime(year, month, self.day, self.hour, self.minute, tzinfo=UTC)
            except ValueError:  # no such day in that month: the next one over
                pass
            else:
                if (found - z) * way >= timedelta(0):
                    return found
            month += way
            year, month = (year + 1, 1) if month > 12 else (year - 1, 12) if month < 1 else (year, month)
        months = "last" if way < 0 else "coming"
        raise ValueError(f"no day {self.day:02} in the {months} months: give the whole date-time group (DDHHMMZMONYY)")


def read_zulu(text: str) -> ZuluTime | None:
    """The Zulu time said without its date (ZuluTime), or None for text of another shape; ValueError for an hour or
    minute that does not exist."""
    match = _SHORT.match(_compact(text))
    if not match:
        return None
    day, hour, minute = match.groups()
    if int(hour) > 23 or int(minute) > 59:
        raise ValueError(f"no such time {hour}{minute}Z: hours 00-23, minutes 00-59 (midnight is 0000, never 2400)")
    return ZuluTime(int(day) if day is not None else None, int(hour), int(minute))


def parse_recent(text: str, now: datetime) -> datetime:
    """Parse a moment as parse_moment does, or a Zulu time alone (0027Z) or with its day (060027Z) as the latest
    such moment at or before now (RECENT_AHEAD after it at most): how a watch keeper back-times a log line. Never a
    moment to come beyond a clock's skew."""
    zulu = read_zulu(text)
    return parse_moment(text) if zulu is None else zulu.last_by(now + RECENT_AHEAD)


def parse_due(text: str) -> datetime | ZuluTime:
    """Parse a due time: a moment as parse_moment does, or a Zulu time without its date (1800Z, 071800Z), left as a
    ZuluTime for whoever knows when it was said to place (a call's actions: the first such moment from the call's
    start)."""
    zulu = read_zulu(text)
    if zulu is not None and zulu.day is not None and not 1 <= zulu.day <= 31:  # placed later, where it cannot fail
        raise ValueError(f"no day {zulu.day:02} in any month: give the whole date-time group (DDHHMMZMONYY)")
    return parse_moment(text) if zulu is None else zulu


# The furthest any time zone lies from UTC (Baker Island, Line Islands): an offset beyond is a slip
# (+23:59 for +02:39?), and reading it as given would put the time a day off.
_WEST, _EAST = -timedelta(hours=12), timedelta(hours=14)


_RANGE = f"must lie between {EARLIEST:%Y-%m-%d} and {LATEST.year - 1}-12-31 (UTC)"


def _iso_problem(said: str) -> str:
    """What to tell of ISO 8601 text datetime.fromisoformat refused, from what it said: text of another
    shape, or the right shape naming a day or time that does not exist (29 February 2026, 23:59:60)."""
    if said.startswith("Invalid isoformat string"):
        return "expected ISO 8601 with a zone (2026-11-27T14:05:00Z) or a date-time group (271405ZNOV26)"
    if said.startswith("year "):  # year 0
        return _RANGE
    if said.startswith("offset "):  # +24:00 and beyond
        return "the zone offset must be under 24 hours (+02:00, -05:00)"
    return f"no such date or time: {said}"  # "day is out of range for month", "second must be in 0..59"


def in_range(moment: datetime) -> datetime:
    """Return the aware moment if the tracker can handle it (EARLIEST <= moment < LATEST), else raise ValueError."""
    if not EARLIEST <= moment < LATEST:
        raise ValueError(_RANGE)
    return moment


@overload
def isoformat(moment: datetime) -> str: ...


@overload
def isoformat(moment: None) -> None: ...


@overload
def isoformat(moment: datetime | None) -> str | None: ...


def isoformat(moment: datetime | None) -> str | None:
    """Format an aware datetime as ISO 8601 in UTC with a Z."""
    if moment is None:
        return None
    z = moment if moment.tzinfo is UTC else moment.astimezone(UTC)
    return z.isoformat().replace("+00:00", "Z")


def duration(seconds: float | None) -> str:
    """A span in words, as staff say it: 30 s, 6 min 5 s, 10 min, 2 h 30 min, 1 d 2 h ("–" for none).

    Two units at most, the smaller dropped when it is zero: seconds count under an hour only (a
    countdown ticks them), minutes under a day only.
    """
    if seconds is None:
        return "–"
    whole = round(seconds)
    sign, whole = ("-", -whole) if whole < 0 else ("", whole)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        (big, big_unit), (small, small_unit) = (days, "d"), (hours, "h")
    elif hours:
        (big, big_unit), (small, small_unit) = (hours, "h"), (minutes, "min")
    elif minutes:
        (big, big_unit), (small, small_unit) = (minutes, "min"), (secs, "s")
    else:
        return f"{sign}{secs} s"
    return f"{sign}{big} {big_unit}" + (f" {small} {small_unit}" if small else "")


def countdown(deadline: datetime, now: datetime) -> str:
    """Time left before deadline, as the pages say it: "in 6 min 5 s", or "due now" once it passed."""
    left = round((deadline - now).total_seconds())
    return f"in {duration(left)}" if left > 0 else "due now"


def to_the_second(moment: datetime | str | None) -> str:
    """A time as people read it, to the second in UTC with its zone: 2026-12-03 08:00:09Z ("–" for none).

    Takes a datetime or the ISO 8601 text a timeline event or a message stores (never shows microseconds).
    """
    if moment is None or moment == "":
        return "–"
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    if moment.tzinfo is None:  # stored times are UTC
        moment = moment.replace(tzinfo=UTC)
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M:%S}Z"
