"""What makes an exercise notice complete and valid (pure functions, no database)."""

import math
from datetime import datetime, timedelta
from typing import TypeGuard

from ... import text
from ...errors import ValidationError
from ...models import NotifiedVia
from ...timeutil import isoformat
from .area import normalised, polygon_problem

FIELDS = (
    "name",
    "states",
    "starts_at",
    "ends_at",
    "area",
    "centre_latitude",
    "centre_longitude",
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
# The declared figures, as the Vienna Document counts them (see vienna_rules.FIGURES); troops are declared_size.
FIGURES = (
    "declared_size",
    "battle_tanks",
    "armoured_combat_vehicles",
    "artillery_pieces",
    "airborne_troops",
    "aircraft_sorties",
)
MAX_FIGURE = 10_000_000
# A notification or briefing is recorded once received or given: a time ahead of now by more than this is a slip.
FUTURE_SKEW = timedelta(minutes=5)
WHO = {"notified_by": 80, "notified_to": 200}
CIRCLE = ("centre_latitude", "centre_longitude", "radius_km")
# No exercise area is wider; a radius typed in metres instead of km is caught.
MAX_RADIUS_KM = 1000.0
MAX_STATES = 30


def _number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _aware(value: object) -> TypeGuard[datetime]:
    return isinstance(value, datetime) and value.tzinfo is not None


def _circle_problems(values: dict) -> dict:
    problems = {}
    given = [key for key in CIRCLE if values.get(key) is not None]
    if values.get("area") is not None:
        if given:
            problems["area"] = "give a polygon area or a centre and radius, not both"
        elif problem := polygon_problem(values["area"]):
            problems["area"] = problem
        return problems
    if not given:
        return {"area": "give a polygon area, or a centre (latitude and longitude) and a radius"}
    for key in CIRCLE:
        if key not in given:
            problems[key] = "needed with " + " and ".join(k for k in given)
    latitude, longitude, radius = (values.get(key) for key in CIRCLE)
    if latitude is not None and not (_number(latitude) and -90 <= latitude <= 90):
        problems["centre_latitude"] = "must be a number between -90 and 90"
    if longitude is not None and not (_number(longitude) and -180 <= longitude <= 180):
        problems["centre_longitude"] = "must be a number between -180 and 180"
    if radius is not None and not (_number(radius) and 0 < radius <= MAX_RADIUS_KM):
        problems["radius_km"] = f"must be more than 0 and at most {MAX_RADIUS_KM:g} km"
    return problems


def _name_problem(value) -> str | None:
    return text.name_problem(value) if isinstance(value, str) else None


def check(values: dict, now: datetime | None = None) -> None:
    """Raise ValidationError naming every field of a complete exercise notice that is wrong."""
    problems = {}
    name = values.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        problems["name"] = "give a name of 1 to 200 characters"
    states = values.get("states")
    if (
        not isinstance(states, list)
        or not 1 <= len(states) <= MAX_STATES
        or not all(isinstance(s, str) and 0 < len(s.strip()) <= 60 for s in states)
    ):
        problems["states"] = f"give 1 to {MAX_STATES} states, each a name of 1 to 60 characters"
    starts, ends = values.get("starts_at"), values.get("ends_at")
    for key, moment in (("starts_at", starts), ("ends_at", ends)):
        if not _aware(moment):
            problems[key] = "give a time with a zone"
    if _aware(starts) and _aware(ends) and ends <= starts:
        problems["ends_at"] = f"must be after starts_at ({isoformat(starts)})"
    problems.update(_circle_problems(values))
    for key in FIGURES:
        size = values.get(key)
        if size is not None and not (isinstance(size, int) and not isinstance(size, bool) and 0 <= size <= MAX_FIGURE):
            problems[key] = f"must be a whole number from 0 to {MAX_FIGURE}"
    for key, longest in WHO.items():
        who = values.get(key)
        if who is not None and (not isinstance(who, str) or len(who) > longest):
            problems[key] = f"at most {longest} characters"
    for key in ("snap", "ours"):  # None: not given, false
        if values.get(key) is not None and not isinstance(values[key], bool):
            problems[key] = "true or false"
    if not isinstance(values.get("notified_via"), NotifiedVia):
        problems["notified_via"] = "one of " + ", ".join(v.value for v in NotifiedVia)
    notified_at = values.get("notified_at")
    if notified_at is not None and not _aware(notified_at):
        problems["notified_at"] = "give a time with a zone"
    elif notified_at is not None and now is not None and notified_at > now + FUTURE_SKEW:
        # When the notification reached us: a time ahead of now is a slip, and would be judged "in time".
        problems["notified_at"] = f"{notified_at:%Y-%m-%d %H:%MZ} is in the future: give when the notification came"
    calendar_at = values.get("calendar_at")
    if calendar_at is not None and not _aware(calendar_at):
        problems["calendar_at"] = "give a time with a zone"
    elif calendar_at is not None and now is not None and calendar_at > now + FUTURE_SKEW:
        problems["calendar_at"] = f"{calendar_at:%Y-%m-%d %H:%MZ} is in the future: give when the annual calendar came"
    notes = values.get("notes")
    if not isinstance(notes, str) or len(notes) > 4000:
        problems["notes"] = "at most 4000 characters"
    # The same text rule as the API's fields (tracker.text): the CSV import and the form come here. Names
    # stand on one line (the map's tooltips, the register, calendar summaries): no controls in them.
    for key, rule in (("name", text.name_problem), ("notes", text.problem), *((k, text.name_problem) for k in WHO)):
        if isinstance(values.get(key), str) and (found := rule(values[key])):
            problems[key] = found
    if isinstance(states, list) and (found := next(filter(None, map(_name_problem, states)), None)):
        problems["states"] = found
    if problems:
        raise ValidationError("the exercise notice is not valid", problems)


def clean(values: dict) -> dict:
    """Checked values as stored: names trimmed, the polygon as plain lists of floats."""
    values = {**values, "name": values["name"].strip(), "states": [s.strip() for s in values["states"]]}
    for key in WHO:  # blank is not given
        values[key] = (values[key] or "").strip() or None
    if values["area"] is not None:
        values["area"] = normalised(values["area"])
    return values


def complete(data: dict) -> dict:
    """Every field of the register from data (missing ones None, notes "", snap and ours false), the
    channel as NotifiedVia."""
    values = {key: data.get(key) for key in FIELDS}
    values["notes"] = values["notes"] if values["notes"] is not None else ""
    for key in ("snap", "ours"):
        values[key] = False if values[key] is None else values[key]
    if isinstance(values["notified_via"], str) and values["notified_via"] in {v.value for v in NotifiedVia}:
        values["notified_via"] = NotifiedVia(values["notified_via"])
    return values


VIA_LABELS = {
    NotifiedVia.VIENNA_DOCUMENT: "Vienna Document notification",
    NotifiedVia.BILATERAL_BRIEFING: "bilateral briefing",
    NotifiedVia.VOLUNTARY_BRIEFING: "voluntary briefing",
}
