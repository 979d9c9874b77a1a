"""What the exercise tests share: a notice in the demo region, and filing incidents around it.

The region (config/region.geojson) has its land border near longitude 23.4; Eastland lies east.
"""

from datetime import datetime, timedelta

from tests.support import World, file_checked
from tracker.db import session_scope
from tracker.models import ExerciseNotice, NotifiedVia
from tracker.timeutil import isoformat, utcnow

EXERCISES = "/api/v1/exercises"
# Longitude 23.5..24.0, latitude 54.0..54.5: Eastland, just across the border.
SQUARE = {"type": "Polygon", "coordinates": [[[23.5, 54.0], [24.0, 54.0], [24.0, 54.5], [23.5, 54.5], [23.5, 54.0]]]}
INSIDE = (54.25, 23.75)
ON_EDGE = (54.0, 23.75)
# ~100 m east of the square's east edge (a degree of longitude is ~65 km at 54.25 N).
JUST_EAST = (54.25, 24.0 + 0.0016)
# 7 km west of the border, in Northmark's sector South.
NEAR_BORDER = (54.1, 23.3)


def hours(n: float, now: datetime | None = None) -> datetime:
    """n hours from now (negative: ago), to the second."""
    return ((now or utcnow()) + timedelta(hours=n)).replace(microsecond=0)


def under_way(app, name: str, states: list[str]) -> None:
    """Store an exercise notified under the Vienna Document, under way for the next 8 hours, in a circle of 25 km
    at 53.95 N 22.95 E (in the region, west of the border): one shape on the map."""
    now = utcnow()
    with session_scope(app) as session:
        session.add(
            ExerciseNotice(name=name, states=states, starts_at=now - timedelta(hours=1),
                           ends_at=now + timedelta(hours=8), centre_latitude=53.95, centre_longitude=22.95,
                           radius_km=25, notified_via=NotifiedVia.VIENNA_DOCUMENT, created_by="test")
        )  # fmt: skip


def notice(**overrides) -> dict:
    """A valid exercise body for the API: the square, running from 3 hours ago to 1 hour ago."""
    body = {
        "name": "EASTERN RAMPART",
        "states": ["Eastland"],
        "starts_at": isoformat(hours(-3)),
        "ends_at": isoformat(hours(-1)),
        "area": SQUARE,
        "declared_size": 9500,
        "notified_via": "vienna_document",
        "notified_at": isoformat(hours(-24 * 40)),
        "notes": "Annual calendar, Chapter V.",
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not ...}


def circle(**overrides) -> dict:
    """The same, as a centre and a radius instead of a polygon."""
    return notice(**{"area": ..., "centre_latitude": 54.25, "centre_longitude": 23.75, "radius_km": 15, **overrides})


def create(client, world: World, who: str = "supervisor", **overrides) -> dict:
    response = client.post(EXERCISES, json=notice(**overrides), headers=world.auth(who))
    assert response.status_code == 201, f"creating the exercise failed: {response.status_code} {response.get_json()}"
    return response.get_json()


def file_at(client, world: World, position: tuple[float, float], occurred: datetime, **overrides) -> dict:
    """File an incident at a position and time (sector from the position), checked as the sweep does."""
    latitude, longitude = position
    where = {"latitude": latitude, "longitude": longitude, "position_text": None, "sector": None}
    return file_checked(client, world, occurred_at=isoformat(occurred), **{**where, **overrides})


def unusual(client, world: World, position: tuple[float, float], occurred: datetime) -> dict:
    """File unusual military activity (the category that calls for a notice) at a position and time."""
    return file_at(client, world, position, occurred, domain="land", category="unusual_military_activity")


def kinds(incident: dict) -> list[str]:
    return [event["kind"] for event in incident["timeline"]]
