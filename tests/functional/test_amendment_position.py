"""Amending the position through the API: PATCH takes position_text with latitude and longitude as filing takes
them (position, text alone, still works), read and refused alike; and the sector follows the position only when
it was derived from it: a sector the duty officer gave by hand stays unless the amendment gives one too."""

import pytest
from sqlalchemy import update

from tests.support import file_incident
from tracker.db import session_scope
from tracker.models import Incident

SOUTH = "54 06 07N 023 18 40E"  # 7 km west of the border, sector South
SOUTH_DECIMAL = (54.10194, 23.31111)
NORTH_DECIMAL = (54.412, 22.871)  # where incident_payload files, sector North
WARNING = "The position lies in sector South, not in North as the report says: check them."


def patch(client, world, reference: str, who: str = "duty", **facts):
    version = client.get(f"/api/v1/incidents/{reference}", headers=world.auth("supervisor")).get_json()["version"]
    return client.patch(f"/api/v1/incidents/{reference}", json={"version": version, **facts}, headers=world.auth(who))


def amended(client, world, reference: str, **facts) -> dict:
    answer = patch(client, world, reference, **facts)
    assert answer.status_code == 200, f"PATCH {facts}: {answer.status_code} {answer.get_json()}"
    return answer.get_json()


def refused(client, world, reference: str, **facts) -> dict:
    answer = patch(client, world, reference, **facts)
    assert answer.status_code == 422, f"PATCH {facts}: {answer.status_code} {answer.get_json()}"
    body = answer.get_json()
    assert body["error"]["code"] == "validation_error", body
    kept = client.get(f"/api/v1/incidents/{reference}", headers=world.auth("supervisor")).get_json()
    assert [e for e in kept["timeline"] if e["kind"] == "amended"] == [], "nothing amended"
    return body["error"]["details"]


def place(body: dict) -> tuple:
    return round(body["latitude"], 5), round(body["longitude"], 5), body["position_text"], body["sector"]


# -- the names filing uses -----------------------------------------------------------------------------------


def test_position_text_is_read_as_filing_reads_it(client, world):
    filed = file_incident(client, world, sector=...)
    answer = amended(client, world, filed["reference"], position_text=SOUTH)
    assert place(answer) == (*SOUTH_DECIMAL, SOUTH, "South"), place(answer)
    assert answer["amendment"]["fields"] == ["border_distance_km", "position", "sector"], answer["amendment"]


def test_position_text_with_latitude_and_longitude_that_agree_keeps_the_coordinates_sent(client, world):
    filed = file_incident(client, world, sector=...)
    answer = amended(client, world, filed["reference"], position_text=SOUTH, latitude=54.102, longitude=23.311)
    assert place(answer) == (54.102, 23.311, SOUTH, "South"), place(answer)


def test_latitude_and_longitude_alone_set_the_position_without_a_text(client, world):
    filed = file_incident(client, world, sector=...)
    answer = amended(client, world, filed["reference"], latitude=SOUTH_DECIMAL[0], longitude=SOUTH_DECIMAL[1])
    assert place(answer) == (*SOUTH_DECIMAL, None, "South"), place(answer)


def test_position_text_null_with_no_coordinates_takes_the_position_away(client, world):
    filed = file_incident(client, world, sector=...)
    answer = amended(client, world, filed["reference"], position_text=None)
    assert (answer["latitude"], answer["longitude"], answer["position_text"]) == (None, None, None), answer
    assert answer["sector"] == "North", "no place left to derive a sector from: it stays"


def test_the_old_name_position_still_works(client, world):
    filed = file_incident(client, world, sector=...)
    answer = amended(client, world, filed["reference"], position=SOUTH)
    assert place(answer) == (*SOUTH_DECIMAL, SOUTH, "South"), place(answer)


@pytest.mark.parametrize(
    ("facts", "field", "says"),
    [
        ({"position_text": SOUTH, "latitude": 54.412, "longitude": 22.871}, "position_text", "reads as 54.10194"),
        ({"position_text": "54 42 30 22 30"}, "position_text", "ambiguous"),
        ({"position_text": "٥٤.١, ٢٣.٣"}, "position_text", "ARABIC-INDIC DIGIT FIVE"),
        ({"position_text": "somewhere near the coast"}, "position_text", "could not read"),
        ({"position_text": "x" * 121}, "position_text", "Longer than maximum length 120"),
        ({"latitude": 54.1}, "longitude", "together"),
        ({"longitude": 23.3, "latitude": None}, "latitude", "together"),
        ({"latitude": 91, "longitude": 23.3}, "latitude", "90"),
        ({"latitude": "54.1", "longitude": "23.3"}, "latitude", "Not a valid number"),
        ({"position": SOUTH, "position_text": SOUTH}, "position", "not both"),
    ],
)
def test_a_position_that_cannot_be_read_is_refused_naming_the_field_filing_names(client, world, facts, field, says):
    filed = file_incident(client, world, sector=...)
    details = refused(client, world, filed["reference"], **facts)
    body = details.get("json", details)
    assert field in body and says in str(body[field]), details


@pytest.mark.parametrize("special", ["NaN", "Infinity", "-Infinity"])
def test_a_latitude_sent_as_nan_or_infinity_is_refused(client, world, special):
    filed = file_incident(client, world, sector=...)
    version = filed["version"]
    body = f'{{"version": {version}, "latitude": {special}, "longitude": 23.3}}'
    answer = client.patch(
        f"/api/v1/incidents/{filed['reference']}",
        data=body,
        content_type="application/json",
        headers=world.auth("duty"),
    )
    assert answer.status_code in (400, 422), (special, answer.status_code, answer.get_json())
    assert answer.get_json()["error"]["code"] in ("validation_error", "bad_request"), answer.get_json()


def test_the_openapi_document_names_position_text_latitude_and_longitude_and_marks_position_deprecated(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    amendment = spec["components"]["schemas"]["AmendmentIn"]["properties"]
    assert {"position_text", "latitude", "longitude", "position"} <= set(amendment), sorted(amendment)
    assert amendment["position"].get("deprecated") is True, amendment["position"]


# -- the sector: derived follows, given stays ---------------------------------------------------------------------


def test_a_sector_derived_from_the_position_follows_it(client, world):
    filed = file_incident(client, world, sector=...)
    assert (filed["sector"], filed["sector_given"]) == ("North", False), filed
    answer = amended(client, world, filed["reference"], position_text=SOUTH)
    assert (answer["sector"], answer["sector_given"]) == ("South", False), answer
    assert answer["warnings"] == []


def test_a_sector_given_by_hand_stays_when_the_position_moves_and_the_page_warns(client, world):
    filed = file_incident(client, world, sector="North")
    assert (filed["sector"], filed["sector_given"]) == ("North", True), filed
    answer = amended(client, world, filed["reference"], position_text=SOUTH)
    assert (answer["sector"], answer["sector_given"]) == ("North", True), answer
    assert answer["amendment"]["fields"] == ["border_distance_km", "position"], answer["amendment"]
    assert answer["warnings"] == [WARNING], answer["warnings"]


def test_an_amendment_giving_the_sector_too_changes_it(client, world):
    filed = file_incident(client, world, sector="North")
    answer = amended(client, world, filed["reference"], position_text=SOUTH, sector="coast")
    assert (answer["sector"], answer["sector_given"]) == ("Coast", True), answer


def test_an_empty_sector_hands_it_back_to_the_position(client, world):
    filed = file_incident(client, world, sector="North")
    answer = amended(client, world, filed["reference"], position_text=SOUTH, sector="")
    assert (answer["sector"], answer["sector_given"]) == ("South", False), answer
    details = [e for e in answer["timeline"] if e["kind"] == "amended"][0]["details"]
    assert details["before"]["sector_given"] is True and details["after"]["sector_given"] is False, details


def test_handing_an_equal_sector_back_to_the_position_is_an_amendment_of_how_it_came(client, world):
    filed = file_incident(client, world, sector="North")
    answer = amended(client, world, filed["reference"], sector="")
    assert (answer["sector"], answer["sector_given"]) == ("North", False), answer
    assert answer["amendment"]["fields"] == ["sector_given"], answer["amendment"]
    moved = amended(client, world, filed["reference"], position_text=SOUTH)
    assert moved["sector"] == "South", "from now on it follows the position"


@pytest.mark.parametrize(
    ("sector", "stored", "follows"),
    [
        (..., "North", True),  # derived: the sector the position lies in
        ("North", "North", True),  # the same as the position's: nothing tells it was given by hand
        ("Coast", "Coast", False),  # not the position's sector: given by hand
    ],
)
def test_an_incident_filed_before_the_sector_was_recorded_is_judged_by_its_position(
    app, client, world, sector, stored, follows
):
    filed = file_incident(client, world, sector=sector)
    with session_scope(app) as session:  # as migration 0025 leaves an incident filed before it
        session.execute(update(Incident).where(Incident.reference == filed["reference"]).values(sector_given=None))
    assert (
        client.get(f"/api/v1/incidents/{filed['reference']}", headers=world.auth("duty")).get_json()["sector_given"]
        is None
    )
    answer = amended(client, world, filed["reference"], position_text=SOUTH)
    assert answer["sector"] == ("South" if follows else stored), answer
    assert answer["sector_given"] is (not follows), answer
    assert "sector_given" not in answer["amendment"]["fields"], "writing down what was inferred is no amendment"


def test_a_sector_given_without_a_position_stays_when_one_is_added(client, world):
    filed = file_incident(client, world, sector="Coast", latitude=None, longitude=None, position_text=...)
    assert (filed["sector"], filed["sector_given"], filed["latitude"]) == ("Coast", True, None), filed
    answer = amended(client, world, filed["reference"], position_text=SOUTH)
    assert (answer["sector"], answer["sector_given"]) == ("Coast", True), answer
