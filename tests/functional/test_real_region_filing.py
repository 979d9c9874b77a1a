"""A real region through the API and the pages: sectors from a region file covering Ida-Virumaa and the
distance to the real Estonian-Russian border (Natural Earth); a warning for a position outside every
sector; and no distance measured on the fictional demo region in a summary to the other side."""

from pathlib import Path

import pytest

from tests.summaries_support import acknowledge
from tests.support import build_world, file_incident, sign_in
from tracker import region
from tracker.services.incidents.filing import OUTSIDE_SECTORS

SECTORS = Path(__file__).resolve().parents[1] / "data" / "ida_virumaa_sectors.geojson"
REAL = {"REGION_FILE": str(SECTORS), "REGION_BOUNDARIES": "natural_earth", "REGION_STATES": ["Estonia", "Russia"]}
BORDER_SENTENCE = "Distance to the nearest border line"


@pytest.fixture
def real_app(make_app):
    return make_app(**REAL)


def test_an_incident_west_of_narva_gets_its_sector_and_its_distance_to_the_real_border(real_app):
    client = real_app.test_client()
    world = build_world(real_app)
    filed = file_incident(
        client, world, latitude=59.38, longitude=28.02, position_text="59 22 48N 028 01 12E", sector=None
    )
    assert filed["sector"] == "Narva", filed
    assert filed["border_distance_km"] is not None and 1 < filed["border_distance_km"] < 15, filed
    assert filed["border_basis"] == "natural_earth_10m" and filed["warnings"] == [], filed
    shown = client.get(f"/api/v1/incidents/{filed['reference']}", headers=world.auth("duty")).get_json()
    assert (shown["sector"], shown["border_basis"], shown["warnings"]) == ("Narva", "natural_earth_10m", []), shown
    sign_in(client, "duty")
    page = client.get(f"/incidents/{filed['reference']}")
    assert page.status_code == 200 and "km from the border" in page.text and OUTSIDE_SECTORS not in page.text
    readback = client.get("/incidents/readback", query_string={"position": "59.38, 28.02"}).get_json()
    assert "outside" not in readback["position"], readback


def test_an_incident_outside_every_sector_is_filed_with_a_warning_in_the_api_and_on_its_page(real_app):
    client = real_app.test_client()
    world = build_world(real_app)
    filed = file_incident(client, world, latitude=59.75, longitude=26.5, position_text=None, sector=None)
    assert filed["sector"] is None and filed["warnings"] == [OUTSIDE_SECTORS], filed
    assert 15 < filed["border_distance_km"] < 20, "at sea: 12 NM off Gogland's coast"
    shown = client.get(f"/api/v1/incidents/{filed['reference']}", headers=world.auth("duty")).get_json()
    assert shown["warnings"] == [OUTSIDE_SECTORS], shown
    sign_in(client, "duty")
    page = client.get(f"/incidents/{filed['reference']}")
    assert page.status_code == 200 and OUTSIDE_SECTORS in page.text, page.text[:2000]
    readback = client.get("/incidents/readback", query_string={"position": "59.75, 26.5"}).get_json()
    assert "outside every sector" in readback["position"], readback


def test_the_real_borders_are_read_on_the_first_distance_not_when_the_app_starts(make_app, monkeypatch):
    def refuse():
        raise AssertionError("the Natural Earth data was read at start")

    monkeypatch.setattr(region, "natural_earth", refuse)
    app = make_app(**REAL)
    assert app.extensions["tracker.region"].border_basis == "natural_earth_10m"
    result = app.test_cli_runner().invoke(args=["user", "list"])
    assert result.exit_code == 0 and result.exception is None, (result.output, result.exception)


def summary_text(client, world, reference) -> str:
    acknowledge(client, world, reference)
    response = client.post(f"/api/v1/incidents/{reference}/summaries", json={}, headers=world.auth("liaison"))
    assert response.status_code == 201, response.get_json()
    return response.get_json()["text"]


def test_a_summary_states_a_real_distance_but_never_one_measured_on_the_fictional_region(app, client, world):
    # The demo region (config/region.geojson) is fictional: its distance stays ours.
    filed = file_incident(client, world, latitude=54.412, longitude=22.871)
    assert filed["border_basis"] == "fictional" and filed["border_distance_km"] is not None, filed
    text = summary_text(client, world, filed["reference"])
    assert BORDER_SENTENCE not in text and f"{filed['border_distance_km']:.1f} km" not in text, text


def test_a_summary_states_the_distance_to_the_real_border(real_app):
    client = real_app.test_client()
    world = build_world(real_app)
    filed = file_incident(client, world, latitude=59.38, longitude=28.02, position_text=None, sector=None)
    text = summary_text(client, world, filed["reference"])
    assert f"{BORDER_SENTENCE}: about {filed['border_distance_km']:.1f} km" in text, text
