"""-0.0 sent as a JSON latitude or longitude is 0: a typed "-0" always was (geo), but a JSON -0.0 was stored
as it came and shown as -0.0 in the API and -0.00000 on the pages, a sign that says nothing of the place."""

import math

import pytest
from sqlalchemy import select

from tests.exercise_support import EXERCISES, circle, notice
from tests.support import incident_payload
from tracker.db import session_scope
from tracker.models import ExerciseNotice, Incident

ZERO_SQUARE = {"type": "Polygon", "coordinates": [[[-0.0, -0.0], [1.0, -0.0], [1.0, 1.0], [-0.0, 1.0], [-0.0, -0.0]]]}


def positive(*numbers: float) -> bool:
    return all(n == 0 and math.copysign(1, n) == 1 for n in numbers)


@pytest.mark.both_databases  # PostgreSQL keeps the sign of a stored -0
def test_an_incident_filed_and_amended_at_minus_zero_is_stored_and_shown_at_zero(app, client, world):
    filed = client.post(
        "/api/v1/incidents", json=incident_payload(latitude=-0.0, longitude=-0.0), headers=world.auth("duty")
    )
    assert filed.status_code == 201, filed.text
    assert positive(filed.get_json()["latitude"], filed.get_json()["longitude"]), filed.text
    reference = filed.get_json()["reference"]
    read = client.get(f"/api/v1/incidents/{reference}", headers=world.auth("duty"))
    assert positive(read.get_json()["latitude"], read.get_json()["longitude"]), read.get_json()
    with session_scope(app) as session:
        incident = session.scalars(select(Incident).where(Incident.reference == reference)).one()
        assert positive(incident.latitude, incident.longitude), (incident.latitude, incident.longitude)

    moved = client.patch(
        f"/api/v1/incidents/{reference}",
        json={"version": read.get_json()["version"], "latitude": 1.5, "longitude": 2.5},
        headers=world.auth("duty"),
    )
    assert moved.status_code == 200, moved.text
    back = client.patch(
        f"/api/v1/incidents/{reference}",
        json={"version": moved.get_json()["version"], "latitude": -0.0, "longitude": -0.0},
        headers=world.auth("duty"),
    )
    assert back.status_code == 200, back.text
    assert positive(back.get_json()["latitude"], back.get_json()["longitude"]), back.get_json()
    with session_scope(app) as session:
        incident = session.scalars(select(Incident).where(Incident.reference == reference)).one()
        assert positive(incident.latitude, incident.longitude), (incident.latitude, incident.longitude)


@pytest.mark.both_databases
def test_an_exercise_centred_or_bounded_at_minus_zero_is_stored_at_zero(app, client, world):
    centred = client.post(
        EXERCISES,
        json=circle(name="ZERO CIRCLE", centre_latitude=-0.0, centre_longitude=-0.0),
        headers=world.auth("supervisor"),
    )
    assert centred.status_code == 201, centred.text
    assert positive(centred.get_json()["centre_latitude"], centred.get_json()["centre_longitude"]), centred.text
    bounded = client.post(
        EXERCISES, json=notice(name="ZERO SQUARE", area=ZERO_SQUARE), headers=world.auth("supervisor")
    )
    assert bounded.status_code == 201, bounded.text
    assert positive(*(n for ring in bounded.get_json()["area"]["coordinates"] for p in ring for n in p if n == 0))
    with session_scope(app) as session:
        stored = {e.name: e for e in session.scalars(select(ExerciseNotice))}
        assert positive(stored["ZERO CIRCLE"].centre_latitude, stored["ZERO CIRCLE"].centre_longitude)
        assert positive(*(n for ring in stored["ZERO SQUARE"].area["coordinates"] for p in ring for n in p if n == 0))
