"""What a report measures: the closest point of approach in the unit it was given in, and the forces
our own report saw of an exercise. Pure functions.

A closest point of approach is stored normalised (horizontal in whole metres, vertical in whole feet,
the columns routing, reports and the other side's texts read) with the unit it was given in, and shown
as given: "0.3 NM (556 m)". The value shown is the shortest number in that unit that normalises to
the stored one (as Python's float repr picks the shortest digits that read back the same), so a report
of 500 ft horizontally, kept as 152 m, reads "500 ft (152 m)" and not "499 ft". We looked at pint for
the conversions: three fixed factors do not need a units registry.
"""

import math

from ...errors import ValidationError
from ...models import Incident

FEET_IN_METRES = 0.3048
METRES_IN_NAUTICAL_MILE = 1852.0
# Metres per unit horizontally, feet per unit vertically.
HORIZONTAL = {"m": 1.0, "ft": FEET_IN_METRES, "nm": METRES_IN_NAUTICAL_MILE}
VERTICAL = {"ft": 1.0, "m": 1 / FEET_IN_METRES}
HORIZONTAL_MAX_M = 1_000_000
VERTICAL_MAX_FT = 100_000
LABELS = {"m": "m", "ft": "ft", "nm": "NM"}

# What our report saw of an exercise, in the Vienna Document's counts (chapter V: the thresholds of
# paragraphs 40.1.1 and 40.2.1).
OBSERVED_FORCES = (
    "troops",
    "battle_tanks",
    "armoured_combat_vehicles",
    "artillery_pieces",
    "airborne_troops",
    "aircraft_sorties",
)
FORCE_LABELS = {
    "troops": "troops",
    "battle_tanks": "battle tanks",
    "armoured_combat_vehicles": "armoured combat vehicles",
    "artillery_pieces": "artillery pieces",
    "airborne_troops": "airborne or amphibious troops",
    "aircraft_sorties": "aircraft sorties",
}
FORCE_MAX = 10_000_000


def normalise(value: float, per_unit: float) -> int:
    """A value in its unit as whole base units (metres, feet), halves rounded up."""
    return math.floor(value * per_unit + 0.5)


def _normalised(given: dict | None, per_unit: dict[str, float], maximum: int, name: str) -> tuple:
    if given is None:
        return None, None
    value, unit = given.get("value"), given.get("unit")
    if unit not in per_unit:
        raise ValidationError(f"the {name} unit is one of {', '.join(per_unit)}", {name: f"unknown unit {unit!r}"})
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise ValidationError(f"the {name} is a number, 0 or more", {name: "not a number of 0 or more"})
    stored = normalise(value, per_unit[unit])
    if stored > maximum:
        raise ValidationError(f"the {name} is too large", {name: f"at most {maximum / per_unit[unit]:g} {unit}"})
    return stored, unit


def cpa_columns(horizontal: dict | None, vertical: dict | None) -> dict:
    """The incident columns of a closest point of approach given as {"value", "unit"} each (None: not
    known): horizontal in m, ft or nm, vertical in ft or m. Raise ValidationError naming each part that is wrong."""
    try:
        metres, horizontal_unit = _normalised(horizontal, HORIZONTAL, HORIZONTAL_MAX_M, "cpa_horizontal")
        feet, vertical_unit = _normalised(vertical, VERTICAL, VERTICAL_MAX_FT, "cpa_vertical")
    except ValidationError as refused:
        # Both parts told at once: a wrong vertical was told only once the horizontal was mended.
        problems = {}
        parts = (
            (horizontal, HORIZONTAL, HORIZONTAL_MAX_M, "cpa_horizontal"),
            (vertical, VERTICAL, VERTICAL_MAX_FT, "cpa_vertical"),
        )
        for given, per_unit, maximum, name in parts:
            try:
                _normalised(given, per_unit, maximum, name)
            except ValidationError as wrong:
                problems.update(wrong.details)
        raise ValidationError(refused.message, problems) from None
    return {
        "cpa_horizontal_m": metres,
        "cpa_horizontal_unit": horizontal_unit,
        "cpa_vertical_ft": feet,
        "cpa_vertical_unit": vertical_unit,
    }


def units(metres: int | None, horizontal_unit: str | None, feet: int | None, vertical_unit: str | None) -> dict:
    """The unit columns of a closest point of approach: as given, or the stored unit (m, ft) for a value
    given without one (the API's cpa_horizontal_m and cpa_vertical_ft); None where there is no value."""
    return {
        "cpa_horizontal_unit": None if metres is None else horizontal_unit if horizontal_unit in HORIZONTAL else "m",
        "cpa_vertical_unit": None if feet is None else vertical_unit if vertical_unit in VERTICAL else "ft",
    }


def as_given(stored: int, unit: str, per_unit: float) -> float:
    """The shortest number in unit that normalises to stored; of equally short ones, the nearest to
    the exact conversion."""
    exact = stored / per_unit
    if per_unit == 1.0:
        return float(stored)
    low, high = (stored - 0.5) / per_unit, (stored + 0.5) / per_unit
    for exponent in range(6, -5, -1):
        step = 10.0**exponent
        candidates = [n * step for n in range(math.ceil(low / step), math.floor(high / step) + 1)]
        found = [round(c, 4) for c in candidates if normalise(round(c, 4), per_unit) == stored]
        if found:
            return min(found, key=lambda c: abs(c - exact))
    return round(exact, 4)


def _number(value: float) -> str:
    return f"{value:.4f}".rstrip("0").rstrip(".")


def horizontal(incident: Incident) -> dict | None:
    """The horizontal closest point of approach as given: value, unit, metres and the words shown."""
    metres = incident.cpa_horizontal_m
    if metres is None:
        return None
    unit = incident.cpa_horizontal_unit if incident.cpa_horizontal_unit in HORIZONTAL else "m"
    value = as_given(metres, unit, HORIZONTAL[unit])
    text = f"{_number(value)} {LABELS[unit]}" + ("" if unit == "m" else f" ({metres} m)")
    return {"value": value, "unit": unit, "metres": metres, "text": text}


def vertical(incident: Incident) -> dict | None:
    """The vertical closest point of approach as given: value, unit, feet and the words shown."""
    feet = incident.cpa_vertical_ft
    if feet is None:
        return None
    unit = incident.cpa_vertical_unit if incident.cpa_vertical_unit in VERTICAL else "ft"
    value = as_given(feet, unit, VERTICAL[unit])
    text = f"{_number(value)} {LABELS[unit]}" + ("" if unit == "ft" else f" ({feet} ft)")
    return {"value": value, "unit": unit, "feet": feet, "text": text}


def cpa_text(incident: Incident) -> str:
    """The closest point of approach in words, as given: "0.3 NM (556 m) horizontally, 200 ft vertically"."""
    parts = []
    if (h := horizontal(incident)) is not None:
        parts.append(f"{h['text']} horizontally")
    if (v := vertical(incident)) is not None:
        parts.append(f"{v['text']} vertically")
    return ", ".join(parts)


def forces(given: dict | None) -> dict | None:
    """Observed forces as stored: whole numbers of 0 or more under the known keys, the blanks left out
    (None when nothing is left). Raise ValidationError naming each wrong entry."""
    if given is None:
        return None
    if not isinstance(given, dict):
        raise ValidationError("observed forces are a mapping", {"observed_forces": "not a mapping"})
    problems = {}
    for key, value in given.items():
        if key not in OBSERVED_FORCES:
            problems[f"observed_forces.{key}"] = f"not one of {', '.join(OBSERVED_FORCES)}"
        elif value is not None and not _whole(value, FORCE_MAX):
            problems[f"observed_forces.{key}"] = f"a whole number from 0 to {FORCE_MAX}"
    if problems:
        raise ValidationError("the observed forces are not valid", problems)
    kept = {key: given[key] for key in OBSERVED_FORCES if given.get(key) is not None}
    return kept or None


def _whole(value, maximum: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= maximum


def forces_text(observed: dict | None) -> str:
    """Observed forces in words, in the Vienna Document's order: "3000 troops, 40 battle tanks"."""
    counted = observed or {}
    return ", ".join(f"{counted[key]} {FORCE_LABELS[key]}" for key in OBSERVED_FORCES if key in counted)
