"""Filing through the JSON API: validation, routing, the snapshot, step 1 queued."""

import pytest
from sqlalchemy import select

from tests.functional.test_amendments import amend
from tests.support import file_incident, incident_payload
from tracker.db import session_scope
from tracker.models import Incident, Notification, TimelineEvent


@pytest.mark.both_databases  # the filing's rows written per engine; the ladder snapshot a JSON column
def test_filed_incident_is_routed_and_step_one_is_queued(client, world):
    body = file_incident(client, world)
    assert body["reference"].startswith("INC-20")
    assert body["status"] == "open" and body["current_step"] == 1
    assert body["ladder"]["rule_name"] == "Default"
    assert [s["channels"][0]["name"] for s in body["ladder"]["steps"]] == ["L1", "L2"]
    assert [(n["channel"], n["step"], n["status"]) for n in body["notifications"]] == [("L1", 1, "pending")]
    assert [e["kind"] for e in body["timeline"]] == ["filed", "routed"]
    assert body["next_escalation_at"].endswith("Z")


@pytest.mark.both_databases  # the time written by the filing's per-engine insert
def test_dtg_is_accepted_and_shown_back(client, world):
    body = file_incident(client, world, occurred_at="061620ZDEC25")
    assert body["occurred_at"] == "2025-12-06T16:20:00Z"
    assert body["occurred_dtg"] == "061620ZDEC25"


@pytest.mark.both_databases  # references come from an upsert written per engine
def test_references_count_up(client, world):
    first = file_incident(client, world)["reference"]
    second = file_incident(client, world)["reference"]
    assert int(second[-5:]) == int(first[-5:]) + 1


@pytest.mark.both_databases  # the filed incident read back: times, floats, JSON columns
def test_location_header_points_at_the_incident(client, world):
    response = client.post("/api/v1/incidents", json=incident_payload(), headers=world.auth("duty"))
    assert response.status_code == 201
    again = client.get(response.headers["Location"], headers=world.auth("liaison"))
    assert again.status_code == 200 and again.get_json()["reference"] == response.get_json()["reference"]


def test_routing_preview_stores_nothing(client, world, app):
    response = client.post(
        "/api/v1/routes/preview",
        json={"domain": "air", "category": "unsafe_intercept", "precedence": "Z", "escalation_risk": "high"},
        headers=world.auth("duty"),
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["rule"]["name"] == "Default" and body["policy"]["name"] == "Test ladder"
    assert body["ladder"]["steps"][0]["ack_seconds"] == 600
    with session_scope(app) as session:
        assert session.scalars(select(Incident)).all() == []
        assert session.scalars(select(Notification)).all() == []
        assert session.scalars(select(TimelineEvent)).all() == []


@pytest.mark.both_databases  # a new rule stamps the configuration by an upsert written per engine
def test_sector_and_border_distance_come_from_the_position_and_can_route(client, world, app):
    rule = client.post(
        "/api/v1/rules",
        json={"name": "Near the border", "within_border_km": 10, "policy_id": world.policy_id, "position": 5},
        headers=world.auth("admin"),
    )
    assert rule.status_code == 201, rule.get_json()
    near = file_incident(client, world, sector=..., latitude=54.102, longitude=23.311)
    assert near["sector"] == "South" and 5 < near["border_distance_km"] < 8, near
    assert near["ladder"]["rule_name"] == "Near the border"
    far = file_incident(client, world, sector=..., latitude=54.412, longitude=22.871)
    assert far["sector"] == "North" and 30 < far["border_distance_km"] < 35
    assert far["ladder"]["rule_name"] == "Default"
    given = file_incident(client, world, sector="coast", latitude=54.412, longitude=22.871)
    assert given["sector"] == "Coast", "a sector the officer gave is kept, in the region's spelling"
    unplaced = file_incident(client, world, sector=..., latitude=None, longitude=None)
    assert unplaced["sector"] is None and unplaced["border_distance_km"] is None
    preview = client.post(
        "/api/v1/routes/preview",
        json={
            "domain": "land",
            "category": "stray_fire",
            "precedence": "P",
            "escalation_risk": "serious",
            "latitude": 54.102,
            "longitude": 23.311,
        },
        headers=world.auth("duty"),
    ).get_json()
    assert preview["rule"]["name"] == "Near the border" and preview["sector"] == "South"


@pytest.mark.parametrize(
    ("given", "said"),
    [
        ({"position_text": "91, 23"}, "latitude must be between -90 and 90"),
        ({"position_text": "abc"}, "could not read"),
        ({"position_text": "54 42 30 22 30"}, "ambiguous"),
        ({"latitude": 54.1, "longitude": 23.3, "position_text": "60 00N 010 00E"}, "reads as 60.00000, 10.00000"),
    ],
)
def test_a_reported_position_that_cannot_be_read_or_disagrees_is_refused_never_guessed(client, world, app, given, said):
    body = {**incident_payload(latitude=None, longitude=None), **given}
    answer = client.post("/api/v1/incidents", json=body, headers=world.auth("duty"))
    assert answer.status_code == 422, answer.get_json()
    [problem] = answer.get_json()["error"]["details"]["position_text"]
    assert said in problem, problem
    with session_scope(app) as session:
        assert session.scalars(select(Incident)).all() == [], "nothing filed"


@pytest.mark.parametrize(
    ("latitude", "longitude", "text"),
    [
        (65.5, 180.0, "65 30N 180 00W"),  # one meridian, named from either side
        (65.5, -179.998, "65 30 00N 179 59 59E"),  # 20 m apart across the antimeridian
        (90.0, 0.0, "90 00N 045 00E"),  # at the pole every longitude is the same point
    ],
)
def test_a_reported_position_across_the_antimeridian_or_at_a_pole_agrees_with_its_coordinates(
    client, world, latitude, longitude, text
):
    body = incident_payload(sector=..., latitude=latitude, longitude=longitude, position_text=text)
    answer = client.post("/api/v1/incidents", json=body, headers=world.auth("duty"))
    assert answer.status_code == 201, answer.get_json()
    filed = answer.get_json()
    assert (filed["latitude"], filed["longitude"], filed["position_text"]) == (latitude, longitude, text)


@pytest.mark.parametrize(
    ("text", "latitude", "longitude"),
    [("54,5 22", 54.5, 22.0), ("54,4 22,9", 54.4, 22.9), ("54,5 22", 54.0, 5.36667)],
)
def test_a_position_with_a_decimal_comma_is_read_as_the_coordinates_sent_beside_it_say(
    client, world, text, latitude, longitude
):
    """A desk that writes decimal commas reports "54,5 22" and its system sends 54.5, 22 beside it: the text
    was refused as ambiguous although the coordinates said which reading was meant."""
    body = incident_payload(sector=..., latitude=latitude, longitude=longitude, position_text=text)
    answer = client.post("/api/v1/incidents", json=body, headers=world.auth("duty"))
    assert answer.status_code == 201, answer.get_json()
    filed = answer.get_json()
    assert (filed["latitude"], filed["longitude"], filed["position_text"]) == (latitude, longitude, text)


def test_a_position_with_a_decimal_comma_agreeing_with_neither_reading_is_refused(client, world, app):
    body = incident_payload(sector=..., latitude=60.0, longitude=10.0, position_text="54,5 22")
    answer = client.post("/api/v1/incidents", json=body, headers=world.auth("duty"))
    assert answer.status_code == 422, answer.get_json()
    [problem] = answer.get_json()["error"]["details"]["position_text"]
    assert "ambiguous" in problem, problem
    with session_scope(app) as session:
        assert session.scalars(select(Incident)).all() == [], "nothing filed"


@pytest.mark.both_databases  # a new rule stamps the configuration by an upsert written per engine
def test_a_sector_neither_the_region_nor_a_rule_names_is_refused_not_routed_by_default(client, world, app):
    # "Nroth" for "North": routing would take the default rule without a word.
    answer = client.post("/api/v1/incidents", json=incident_payload(sector="Nroth"), headers=world.auth("duty"))
    assert answer.status_code == 422, answer.get_json()
    problem = answer.get_json()["error"]["details"]["sector"][0]
    assert "no sector 'Nroth'" in problem and "Coast, North, South" in problem, problem
    with session_scope(app) as session:
        assert session.scalars(select(Incident)).all() == [], "nothing filed"
    rule = {"name": "Drill", "sector": "DRILL", "policy_id": world.policy_id, "position": 5}
    assert client.post("/api/v1/rules", json=rule, headers=world.auth("admin")).status_code == 201
    drill = file_incident(client, world, sector="drill")
    assert drill["sector"] == "DRILL" and drill["ladder"]["rule_name"] == "Drill", "a rule's sector, its spelling"


@pytest.mark.both_databases  # a new rule stamps the configuration by an upsert written per engine
def test_a_sector_the_position_contradicts_is_kept_with_a_warning(client, world):
    # 54.412, 22.871 lies in North: the report says South (it routes as given, and staff are told).
    given = file_incident(client, world, sector="South", latitude=54.412, longitude=22.871)
    assert given["sector"] == "South", given
    assert given["warnings"] == ["The position lies in sector North, not in South as the report says: check them."]
    agreeing = file_incident(client, world, sector="North", latitude=54.412, longitude=22.871)
    assert agreeing["warnings"] == [], agreeing
    rule = {"name": "Drill", "sector": "DRILL", "policy_id": world.policy_id, "position": 5}
    assert client.post("/api/v1/rules", json=rule, headers=world.auth("admin")).status_code == 201
    drill = file_incident(client, world, sector="DRILL", latitude=54.412, longitude=22.871)
    assert drill["warnings"] == [], "a drill's sector is no place: it contradicts no position"


@pytest.mark.both_databases  # a new rule stamps the configuration by an upsert written per engine
def test_the_sectors_stop_at_the_border_but_the_coast_desk_keeps_the_waters_beyond(client, world):
    """config/region.geojson: a position just across the land border is in none of our sectors (it was given
    North); one at sea beyond the maritime boundary still routes as Coast, and staff are told which side it is."""
    rule = {"name": "Coast desk", "sector": "Coast", "policy_id": world.policy_id, "position": 5}
    assert client.post("/api/v1/rules", json=rule, headers=world.auth("admin")).status_code == 201
    across = file_incident(client, world, sector=..., latitude=54.35, longitude=23.38)  # 1.3 km into Eastland
    assert across["sector"] is None and across["ladder"]["rule_name"] == "Default", across
    assert across["warnings"] == ["The position lies outside every sector of the region: check it."], across
    at_sea = file_incident(
        client, world, sector=..., domain="maritime", category="unsafe_manoeuvre", latitude=55.70, longitude=22.80
    )
    assert at_sea["sector"] == "Coast" and at_sea["ladder"]["rule_name"] == "Coast desk", at_sea
    assert at_sea["warnings"] == [
        "The position lies beyond the border line, in the other side's part of sector Coast: check it."
    ], at_sea
    ours = file_incident(client, world, sector=..., latitude=55.50, longitude=22.00)
    assert (ours["sector"], ours["warnings"]) == ("Coast", []), ours


def test_a_reported_position_alone_is_read_into_its_coordinates_and_locates_the_incident(client, world):
    filed = file_incident(client, world, latitude=None, longitude=None, position_text="34U FF 2142 3097", sector=None)
    assert (round(filed["latitude"], 3), round(filed["longitude"], 3)) == (54.412, 22.871), filed
    assert filed["position_text"] == "34U FF 2142 3097" and filed["sector"], filed


def test_an_airprox_class_on_a_land_incident_is_refused(client, world):
    domain, category = "land", "unintended_territory_entry"
    answer = client.post(
        "/api/v1/incidents",
        json=incident_payload(domain=domain, category=category, safety_risk="A"),
        headers=world.auth("duty"),
    )
    assert answer.status_code == 422, answer.get_data(True)
    assert "collision" in answer.get_json()["error"]["details"]["safety_risk"][0], answer.get_json()
    filed = client.post(
        "/api/v1/incidents", json=incident_payload(domain=domain, category=category), headers=world.auth("duty")
    )
    assert filed.status_code == 201, filed.get_data(True)


@pytest.mark.both_databases  # the amendment's conditional UPDATE on the version
def test_amending_an_air_incident_to_land_refuses_the_airprox_class_it_keeps(client, world):
    filed = file_incident(client, world)  # air, safety risk B
    answer = amend(client, world, filed["reference"], status=422, domain="land", category="unintended_territory_entry")
    assert "safety_risk" in answer["error"]["details"], answer
    cleared = amend(
        client, world, filed["reference"], domain="land", category="unintended_territory_entry", safety_risk=None
    )
    assert cleared["safety_risk"] is None, cleared


def test_a_time_of_occurrence_in_the_future_is_refused_with_the_time_in_utc_as_the_api_writes_it(client, world):
    """The refusal said 2099-...+00:00 where every answer and the README write times with Z."""
    response = client.post(
        "/api/v1/incidents", json=incident_payload(occurred_at="2099-01-02T03:04:00+02:00"), headers=world.auth("duty")
    )
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["error"]["details"]["occurred_at"] == ["2099-01-02T01:04:00Z is in the future"]
