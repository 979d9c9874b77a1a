"""Exercise notices from text: a CSV file, and the web form, which uses the same columns.

The header row names the columns, in any order (see config/exercises.sample.csv); an empty cell
means "not given":

    name           required
    states         required; several separated by ';' (Eastland;Westland)
    starts_at      required: ISO 8601 with a zone (2026-12-01T06:00:00Z) or a DTG (010600ZDEC26)
    ends_at        required, the same forms; the interval is closed (both ends inside)
    area           a polygon, as WKT (POLYGON ((23.5 54.2, 24.2 54.2, 24.2 54.7, 23.5 54.2)),
                   longitude first) or as GeoJSON Polygon text
    centre         or a centre: decimal degrees (54.40 23.00), DMS (54 24 00N 023 00 00E) or MGRS
    radius_km      with the centre
    declared_size  troops, a whole number
    battle_tanks, armoured_combat_vehicles, artillery_pieces (100 mm and above), airborne_troops
                   (airborne or amphibious), aircraft_sorties (combat aircraft): whole numbers too
    notified_via   required: vienna_document, bilateral_briefing or voluntary_briefing
    notified_at    when the notice came, the same forms as starts_at
    notified_by    the notifying State; notified_to: the States told
    calendar_at    when the annual calendar listing it came (Vienna Document chapter VII; ours: when we
                   sent it), the same forms as starts_at
    snap           yes when carried out without advance notice (notified at its start); ours: yes for our own
    notes

Whole numbers may group their thousands by a comma, a space (also thin or no-break) or an apostrophe:
12700, 12,700, 12 700, 12'700; a point is refused ("12.700" and "12.7" are both ambiguous).

The import is all or nothing: one bad row and nothing is stored; the answer lists every bad row
by its number as a spreadsheet shows it (the header is row 1).
"""

import csv
import io
import re
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy.orm import Session

from ...errors import ValidationError
from ...geo import parse_position
from ...models import ExerciseNotice, NotifiedVia
from ...numbers import read_decimal
from ...timeutil import isoformat, parse_moment
from . import register
from .area import area_wkt, read_area
from .validity import FIGURES

COLUMNS = (
    "name",
    "states",
    "starts_at",
    "ends_at",
    "area",
    "centre",
    "radius_km",
    "declared_size",
    "battle_tanks",
    "armoured_combat_vehicles",
    "artillery_pieces",
    "airborne_troops",
    "aircraft_sorties",
    "notified_via",
    "notified_at",
    "notified_by",
    "notified_to",
    "calendar_at",
    "snap",
    "ours",
    "notes",
)
REQUIRED = ("name", "states", "starts_at", "ends_at", "notified_via")
MAX_ROWS = 1000
# Problems with the centre cell are reported under "centre", not the fields it fills.
_CENTRE_FIELDS = {"centre_latitude": "centre", "centre_longitude": "centre"}


# Thousands grouped by one separator used throughout: comma, space, no-break, thin or narrow
# no-break space, apostrophe or right single quotation mark (Swiss style).
_GROUPED = re.compile(r"[0-9]{1,3}(?P<sep>[, \u00a0\u2009\u202f'\u2019])[0-9]{3}(?:(?P=sep)[0-9]{3})*")
_YES = {"yes", "y", "true", "1", "x"}
_NO = {"no", "n", "false", "0"}


def whole_number(text: str) -> int:
    """A whole number as people type it: 12700, -5, or thousands grouped as 12,700 / 12 700 / 12'700."""
    text = text.strip()
    if re.fullmatch(r"-?[0-9]+", text):
        return int(text)
    if _GROUPED.fullmatch(text):
        return int(re.sub(r"[^0-9]", "", text))
    if "." in text:
        raise ValueError(f"not a whole number: {text!r} (a point could be a decimal mark: write 12700 or 12,700)")
    raise ValueError(f"not a whole number: {text!r}")


def yes_or_no(text: str) -> bool:
    word = text.strip().lower()
    if word in _YES or word in _NO:
        return word in _YES
    raise ValueError("yes or no")


def _via(text: str) -> NotifiedVia:
    try:
        return NotifiedVia(text.strip().lower().replace(" ", "_").replace("-", "_"))
    except ValueError:
        raise ValueError("one of " + ", ".join(v.value for v in NotifiedVia)) from None


READERS = {
    "starts_at": parse_moment,
    "ends_at": parse_moment,
    "notified_at": parse_moment,
    "calendar_at": parse_moment,
    "radius_km": read_decimal,  # 0-9 only: float() also reads "٥٠", "1_0", "nan" and "1e3"
    **dict.fromkeys(FIGURES, whole_number),
    "snap": yes_or_no,
    "ours": yes_or_no,
    "notified_via": _via,
    "area": read_area,
    "states": lambda text: [s.strip() for s in text.split(";") if s.strip()],
}


def read_fields(given: Mapping[str, str | None], now: datetime | None = None) -> dict:
    """Turn the text of one row (or form) into the register's fields, checked (a notification time
    against now, when given); raise ValidationError naming each column that is wrong."""
    cells = {key: (given.get(key) or "").strip() for key in COLUMNS}
    data: dict = {key: cells[key] for key in ("name", "notes", "notified_by", "notified_to")}
    data.update(snap=False, ours=False)
    problems = {key: "must be given" for key in REQUIRED if not cells[key]}
    for key, read in READERS.items():
        if cells[key] and key not in problems:
            try:
                data[key] = read(cells[key])
            except ValueError as exc:
                problems[key] = str(exc)
    if cells["centre"]:
        try:
            position = parse_position(cells["centre"])
        except ValueError as exc:
            problems["centre"] = str(exc)
        else:
            data.update(centre_latitude=position.latitude, centre_longitude=position.longitude)
    values = {key: data.get(key) for key in register.FIELDS} | {"notes": data["notes"]}
    try:
        register.check(values, now)
    except ValidationError as error:
        for key, problem in error.details.items():
            problems.setdefault(_CENTRE_FIELDS.get(key, key), problem)
    if problems:
        raise ValidationError("the exercise notice is not valid", problems)
    return values


def _degrees(value: float | None) -> str:
    """Decimal degrees as a desk writes them (54.25000), with every digit stored when there are more: a form
    saved unchanged must not move the centre (5 places round 54.123456 to 54.12346, a metre off)."""
    if value is None:
        return ""
    text = f"{value:.5f}"
    return text if float(text) == value else repr(value)


def _shortest(value: float | None) -> str:
    """A number as short as it is written (15, 12.5), every digit kept: %g keeps six (12.345678 -> 12.3457)."""
    if value is None:
        return ""
    text = f"{value:g}"
    return text if float(text) == value else repr(value)


def to_fields(exercise: ExerciseNotice) -> dict[str, str]:
    """The exercise as the text of a row (or form), the inverse of read_fields."""
    circle = exercise.area is None
    return {
        "name": exercise.name,
        "states": "; ".join(exercise.states),
        "starts_at": isoformat(exercise.starts_at),
        "ends_at": isoformat(exercise.ends_at),
        "area": "" if exercise.area is None else area_wkt(exercise.area),
        "centre": f"{_degrees(exercise.centre_latitude)}, {_degrees(exercise.centre_longitude)}" if circle else "",
        "radius_km": _shortest(exercise.radius_km) if circle else "",
        **{key: "" if getattr(exercise, key) is None else str(getattr(exercise, key)) for key in FIGURES},
        "notified_via": exercise.notified_via.value,
        "notified_at": isoformat(exercise.notified_at) or "",
        "notified_by": exercise.notified_by or "",
        "notified_to": exercise.notified_to or "",
        "calendar_at": isoformat(exercise.calendar_at) or "",
        "snap": "yes" if exercise.snap else "",
        "ours": "yes" if exercise.ours else "",
        "notes": exercise.notes,
    }


def _rows(text: str) -> tuple[list[tuple[int, dict]], dict]:
    """(row number, cells) of each non-empty row, and the problems of the header.

    Rows are numbered as a spreadsheet numbers them, one per record (a cell's own line breaks are no new
    row, a blank line is one), not by the lines of the file (csv.DictReader's line_num). Cells are keyed
    as DictReader keys them: the last of a column named twice, those beyond the header under None."""
    text = text.lstrip("\ufeff")
    _closed(text)
    records = csv.reader(io.StringIO(text, newline=""), skipinitialspace=True)
    header = [name.strip().lower() for name in next(records, [])]
    if not header:
        return [], {"csv": "empty: the first row must name the columns"}
    unknown = sorted(set(header) - set(COLUMNS))
    missing = [name for name in REQUIRED if name not in header]
    # csv.DictReader keeps the last cell of a column named twice: the earlier would be dropped unread.
    twice = sorted({name for name in header if header.count(name) > 1})
    problems = {}
    if unknown:
        problems["unknown_columns"] = f"{', '.join(unknown)} (the columns are {', '.join(COLUMNS)})"
    if missing:
        problems["missing_columns"] = ", ".join(missing)
    if twice:
        problems["duplicate_columns"] = f"{', '.join(twice)} (name each column once)"
    rows = []
    for number, record in enumerate(records, start=2):
        cells: dict = dict(zip(header, record, strict=False))
        if len(record) > len(header):
            cells[None] = record[len(header) :]
        if any(value.strip() for key, value in cells.items() if key is not None):
            rows.append((number, cells))
    return rows, problems


def _closed(text: str) -> None:
    """Refuse (csv.Error, naming its line) a file whose quoted cell is never closed: read leniently, it took the rest of
    the file into one cell, one row whose every other column was "must be given". Only that: what else a strict
    reader refuses (a space after a closing quote) was read, and is still."""
    strict = csv.reader(io.StringIO(text, newline=""), skipinitialspace=True, strict=True)
    while True:  # past what else it refuses (it goes on at the next line), to a quote left open further down
        try:
            next(strict)
        except StopIteration:
            return
        except csv.Error as exc:
            if "unexpected end of data" in str(exc):
                raise csv.Error(f"line {strict.line_num}: a quoted cell whose closing quote is missing") from None


def read_csv(text: str, now: datetime | None = None) -> list[tuple[int, dict]]:
    """(row number, register fields) of every row; raise ValidationError listing every bad row."""
    try:
        rows, problems = _rows(text)
    except csv.Error as exc:
        raise ValidationError("the file is not valid CSV; nothing was imported", {"csv": str(exc)}) from None
    if problems:
        raise ValidationError("the header row is not valid; nothing was imported", problems)
    if not rows:
        raise ValidationError("the file holds no exercises", {"csv": "no rows after the header"})
    if len(rows) > MAX_ROWS:
        raise ValidationError(f"at most {MAX_ROWS} exercises per file", {"csv": f"{len(rows)} rows"})
    found: list[tuple[int, dict]] = []
    bad: dict[str, dict] = {}
    seen: dict[tuple[str, datetime], int] = {}  # (name folded, start): first row
    for number, cells in rows:
        try:
            if None in cells:
                raise ValidationError("too many cells", {"row": "more cells than the header has columns"})
            values = read_fields(cells, now)
        except ValidationError as error:
            bad[f"row {number}"] = error.details
            continue
        key = (values["name"].strip().casefold(), values["starts_at"])
        if key in seen:
            bad[f"row {number}"] = {"name": f"the same exercise and start as row {seen[key]}"}
        seen.setdefault(key, number)
        found.append((number, values))
    if bad:
        raise ValidationError(f"{len(bad)} of {len(rows)} rows are not valid; nothing was imported", bad)
    return found


def import_csv(
    session: Session, text: str, actor: str, now: datetime, border_km: float = register.NO_NOTICE_BORDER_KM
) -> list[ExerciseNotice]:
    """Enter every exercise of a CSV file in the register, or none (the caller's transaction)."""
    rows = read_csv(text, now)
    register.lock_register(session)  # before looking: the same file imported at once is refused here, row by row
    known = {
        f"row {number}": {"name": f"exercise {values['name']!r} with this start is in the register already (id {id_})"}
        for number, values in rows
        if (id_ := register.find_same(session, values["name"].strip(), values["starts_at"])) is not None
    }
    if known:
        raise ValidationError(
            f"{len(known)} of {len(rows)} rows are in the register already; nothing was imported", known
        )
    return [register.create_exercise(session, values, actor, now, border_km) for _, values in rows]
