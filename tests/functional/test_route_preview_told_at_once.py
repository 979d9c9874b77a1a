"""A refused route preview tells every problem in its first answer, as a refused filing does: a sector nobody names
was told only once the schema's own checks passed (a category of another domain, a precedence it does not know), in
a second 422."""

import re

import pytest

from tests.support import sign_in
from tracker.services.incidents import filing

LAND = {"domain": "land", "category": "stray_fire", "precedence": "Z", "escalation_risk": "high"}

SCHEMA_PROBLEMS = [
    pytest.param("category", {"category": "unsafe_intercept"}, "is not a category of domain 'land'", id="category"),
    pytest.param("precedence", {"precedence": "X"}, "Must be one of", id="precedence"),
]


@pytest.mark.parametrize(("field", "wrong", "said"), SCHEMA_PROBLEMS)
def test_a_sector_nobody_names_is_told_with_the_schemas_own_problem(client, world, field, wrong, said):
    body = {**LAND, **wrong, "sector": "Nowhere"}
    answer = client.post("/api/v1/routes/preview", json=body, headers=world.auth("duty"))
    assert answer.status_code == 422, answer.get_json()
    details = answer.get_json()["error"]["details"]
    assert details.keys() == {field, "sector"}, details
    assert any(said in sentence for sentence in details[field]), details
    assert any("no sector 'Nowhere'" in sentence for sentence in details["sector"]), details


def test_a_sector_given_in_another_case_is_read_as_the_region_names_it(client, world):
    """The refusal's sector check reads a sector as the preview does: one the region names is no problem."""
    body = {**LAND, "category": "unsafe_intercept", "sector": "  nOrTh "}
    answer = client.post("/api/v1/routes/preview", json=body, headers=world.auth("duty"))
    assert answer.status_code == 422, answer.get_json()
    assert answer.get_json()["error"]["details"].keys() == {"category"}


def test_a_valid_preview_reads_its_sector_once(client, world, monkeypatch):
    """The schema asks filing's sector check only when it refuses: a valid preview's sector is read by the preview."""
    asked = []
    sector_problem = filing.sector_problem
    monkeypatch.setattr(filing, "sector_problem", lambda *a: asked.append(1) or sector_problem(*a))
    answer = client.post("/api/v1/routes/preview", json={**LAND, "sector": "North"}, headers=world.auth("duty"))
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["sector"] == "North"
    assert asked == []


# The Routing page's preview (GET /admin/rules/preview) told a sector nobody names, and only once it was mended a
# category of another domain; an unreadable position or a problem of the form's own, neither.
PAGE_ERROR = re.compile(r'id="([a-z_]+)-error"')
PAGE_PROBLEMS = [
    pytest.param({"domain": "maritime"}, {"category", "sector"}, id="category"),
    pytest.param({"precedence": "X"}, {"precedence", "sector"}, id="precedence"),
    pytest.param({"position": "somewhere", "domain": "maritime"}, {"position", "category", "sector"}, id="position"),
]


@pytest.mark.parametrize(("wrong", "told"), PAGE_PROBLEMS)
def test_the_routing_pages_preview_tells_a_sector_nobody_names_with_every_other_problem(client, world, wrong, told):
    sign_in(client, "admin")
    query = {"domain": "air", "category": "unsafe_intercept", "precedence": "Z", "escalation_risk": "high"}
    answer = client.get("/admin/rules/preview", query_string={**query, "sector": "Nowhere", **wrong})
    assert answer.status_code == 422, answer.text[:2000]
    assert set(PAGE_ERROR.findall(answer.text)) == told, answer.text[:3000]
    assert "no sector &#39;Nowhere&#39;" in answer.text
