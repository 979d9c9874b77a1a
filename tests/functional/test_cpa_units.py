"""A closest point of approach's unit is read in any case through the API: "NM", as ICAO and a pilot write nautical
miles, was refused (422) where "nm" is the documented value. It is kept and answered as the documented value."""

import pytest
from sqlalchemy import select

from tests.support import file_incident, incident_payload
from tracker.db import session_scope
from tracker.models import Incident


@pytest.mark.parametrize(("horizontal", "vertical"), [("NM", "FT"), ("Nm", "Ft"), ("M", "M")])
def test_a_cpa_filed_with_its_unit_in_capitals_is_kept_and_answered_in_the_documented_spelling(
    app, client, world, horizontal, vertical
):
    filed = file_incident(
        client,
        world,
        cpa_horizontal={"value": 0.3, "unit": horizontal},
        cpa_vertical={"value": 200, "unit": vertical},
    )
    documented = (horizontal.lower(), vertical.lower())
    assert (filed["cpa_horizontal"]["unit"], filed["cpa_vertical"]["unit"]) == documented, filed
    with session_scope(app) as session:
        incident = session.scalar(select(Incident).where(Incident.reference == filed["reference"]))
        assert (incident.cpa_horizontal_unit, incident.cpa_vertical_unit) == documented


def test_an_amendment_takes_the_unit_in_capitals_too(app, client, world):
    filed = file_incident(client, world, cpa_horizontal={"value": 500, "unit": "m"})
    body = {"version": filed["version"], "cpa_horizontal": {"value": 0.25, "unit": "NM"}}
    amended = client.patch(f"/api/v1/incidents/{filed['reference']}", json=body, headers=world.auth("duty"))
    assert amended.status_code == 200, amended.get_json()
    given = amended.get_json()["cpa_horizontal"]
    assert (given["value"], given["unit"], given["text"]) == (0.25, "nm", "0.25 NM (463 m)"), given


@pytest.mark.parametrize("unit", ["km", "ＮＭ", "nmi", " nm"])
def test_a_unit_that_is_none_of_the_documented_ones_in_any_case_is_refused(client, world, unit):
    answer = client.post(
        "/api/v1/incidents",
        json=incident_payload(cpa_horizontal={"value": 0.3, "unit": unit}),
        headers=world.auth("duty"),
    )
    assert answer.status_code == 422, answer.get_json()
    assert answer.get_json()["error"]["details"]["cpa_horizontal"]["unit"] == ["Must be one of: m, ft, nm."]


def test_the_docs_say_any_case_is_read(client):
    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    assert "any case" in schemas["CpaHorizontalIn"]["properties"]["unit"]["description"]
    assert schemas["CpaHorizontalIn"]["properties"]["unit"]["pattern"] == "^(?:[mM]|[fF][tT]|[nN][mM])$"


def test_the_documented_unit_takes_any_case_as_the_server_does(client):
    """The OpenAPI document listed the lower-case units as an enum, so a client validating against it refused the
    README's own "NM", which the server takes."""
    import re

    unit = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]["CpaHorizontalIn"]["properties"][
        "unit"
    ]
    assert "enum" not in unit and all(re.fullmatch(unit["pattern"], typed) for typed in ("NM", "nm", "Ft", "m")), unit
    assert not re.fullmatch(unit["pattern"], "km"), unit
