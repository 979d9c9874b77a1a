"""-0.0 sent as a JSON latitude or longitude is 0: a typed "-0" always was (geo), but a JSON -0.0 was stored
as it came and shown as -0.0 in the API and -0.00000 on the pages, a sign that says nothing of the place."""

import math

import pytest
from sqlalchemy import select

from tests.exercise_support import EXERCISES, circle, notice
from tests.support import incident_payload
from tracker.db import session_scope
from tracker.models import EventKind, ExerciseNotice, Incident, TimelineEvent
from tracker.services.incidents import timeline
from tracker.timeutil import utcnow

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


LEGACY_AMENDMENT = {
    "fields": ["position"],
    "before": {"position": {"text": "", "latitude": -0.0, "longitude": -0.0}},
    "after": {"position": {"text": "1 2", "latitude": 1.0, "longitude": 2.0}},
    "addendum": "",
}


@pytest.mark.both_databases
def test_a_timeline_event_holding_minus_zero_is_served_and_stored_at_zero(app, client, world):
    """The pages read such an event's position as 0 (models.labels); the API served the -0.0 it holds. An event
    recorded before migration 0027 is never rewritten (the audit chain seals it as stored): it is served at 0, and
    one recorded now is stored at 0."""
    filed = client.post("/api/v1/incidents", json=incident_payload(), headers=world.auth("duty"))
    reference = filed.get_json()["reference"]
    with session_scope(app) as session:
        incident = session.scalars(select(Incident).where(Incident.reference == reference)).one()
        session.add(TimelineEvent(incident=incident, kind=EventKind.AMENDED, actor="duty", details=LEGACY_AMENDMENT))
        recorded = timeline.record(session, incident, EventKind.COMMENTED, "duty", utcnow(), where=[-0.0, {"x": -0.0}])
        session.flush()
        recorded_id = recorded.id
    with session_scope(app) as session:
        stored = session.get(TimelineEvent, recorded_id).details["where"]
        assert positive(stored[0], stored[1]["x"]), stored

    read = client.get(f"/api/v1/incidents/{reference}", headers=world.auth("duty"))
    served = {event["kind"]: event["details"] for event in read.get_json()["timeline"]}
    before = served["amended"]["before"]["position"]
    assert positive(before["latitude"], before["longitude"]), served["amended"]
    assert positive(served["commented"]["where"][0], served["commented"]["where"][1]["x"]), served["commented"]
