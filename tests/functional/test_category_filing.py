"""The category catalogue (issue 14): the new categories file in each of their domains, route, show in the
catalogue with their domains and definitions, and appear in the filing form under each domain."""

import json
import re

import pytest

from tests.support import file_incident, incident_payload, sign_in
from tracker.models.enums import CATALOGUE

NEW = {
    "weapon_fired_or_released": ("air", "maritime", "land"),
    "shoot_down": ("air",),
    "mid_air_collision_or_strike": ("air",),
    "detention_or_abduction": ("land", "maritime"),
    "mass_drone_incursion": ("air", "land"),
    "fire_control_lock_on": ("cyber_em", "air", "maritime"),  # in cyber_em before; air and maritime are new
}
NEW_PAIRS = [(domain, category) for category, domains in NEW.items() for domain in domains]
LABELS = {
    "weapon_fired_or_released": "weapon fired or released",
    "shoot_down": "shoot-down",
    "mid_air_collision_or_strike": "mid-air collision or strike",
    "detention_or_abduction": "detention or abduction of personnel",
    "mass_drone_incursion": "mass drone incursion",
    "fire_control_lock_on": "fire-control lock-on",
}


def test_each_new_category_files_in_each_of_its_domains(client, world):
    refused = []
    for domain, category in NEW_PAIRS:
        answer = client.post(
            "/api/v1/incidents",
            json=incident_payload(domain=domain, category=category),
            headers=world.auth("duty"),
        )
        if answer.status_code != 201 or (answer.get_json()["domain"], answer.get_json()["category"]) != (
            domain,
            category,
        ):
            refused.append((domain, category, answer.status_code, answer.get_data(True)[:300]))
    assert refused == [], refused


@pytest.mark.parametrize(
    ("domain", "category"),
    [("maritime", "shoot_down"), ("cyber_em", "weapon_fired_or_released"), ("hybrid", "detention_or_abduction")],
)
def test_a_category_outside_its_domains_is_refused_naming_the_domains_categories(client, world, domain, category):
    answer = client.post(
        "/api/v1/incidents",
        json={**incident_payload(), "domain": domain, "category": category},
        headers=world.auth("duty"),
    )
    assert answer.status_code == 422, answer.get_data(True)
    error = answer.get_json()["error"]
    said = json.dumps(error, ensure_ascii=False)
    assert f"not a category of domain '{domain}'" in said, said
    allowed = [c.name for c in CATALOGUE if domain in [d.value for d in c.domains]]
    missing = [name for name in allowed if name not in said]
    assert missing == [], f"the refusal does not name {missing}: {said}"


@pytest.mark.parametrize(
    ("wrong", "problem"),
    [({"precedence": "X"}, "precedence"), ({"narrative": 5}, "narrative"), ({"safety_risk": "F"}, "safety_risk")],
)
def test_a_category_of_another_domain_is_told_with_the_other_fields_problems(client, world, wrong, problem):
    """A sea category with the air domain was told only once every other field was right: a second 422 after the
    first was mended."""
    body = {**incident_payload(), "domain": "air", "category": "weapon_aiming", **wrong}
    answer = client.post("/api/v1/incidents", json=body, headers=world.auth("duty"))
    assert answer.status_code == 422, answer.get_data(True)
    details = answer.get_json()["error"]["details"]
    assert details.keys() == {"category", problem}, details
    assert "'weapon_aiming' is not a category of domain 'air'" in json.dumps(details["category"]), details


def test_the_catalogue_shows_each_category_with_its_domains_and_definition(client):
    catalogue = client.get("/api/v1/catalogue").get_json()
    assert {"domains", "precedences", "safety_risks", "escalation_risks", "categories"} <= set(catalogue)
    shown = {c["name"]: c for c in catalogue["categories"]}
    assert len(shown) == len(catalogue["categories"]), "each category once"
    for name, domains in NEW.items():
        assert set(shown[name]["domains"]) == set(domains), shown[name]
        assert shown[name]["label"] == LABELS[name]
        for domain in domains:
            assert name in catalogue["domains"][domain], (domain, name, catalogue["domains"][domain])
    for name, entry in shown.items():
        definition = entry["definition"]
        assert definition and "\n" not in definition and definition.endswith("."), (name, definition)
        for domain in entry["domains"]:
            assert name in catalogue["domains"][domain], (name, domain)
    assert set(shown["unusual_military_activity"]["domains"]) == set(catalogue["domains"])
    assert "air domain whatever fired" in shown["shoot_down"]["definition"], "a ship's shoot-down is filed in air"


def _rule(client, world, name: str, **criteria) -> None:
    steps = [{"channel_ids": [world.channels["L3"]]}]
    policy = client.post("/api/v1/policies", json={"name": name, "steps": steps}, headers=world.auth("admin"))
    assert policy.status_code == 201, policy.get_data(True)
    body = {"name": name, "policy_id": policy.get_json()["id"], **criteria}
    rule = client.post("/api/v1/rules", json=body, headers=world.auth("admin"))
    assert rule.status_code == 201, rule.get_data(True)


def _policy_for(client, world, domain: str, category: str) -> str:
    route = {"domain": domain, "category": category, "precedence": "O", "escalation_risk": "serious"}
    answer = client.post("/api/v1/routes/preview", json=route, headers=world.auth("duty"))
    assert answer.status_code == 200, answer.get_data(True)
    return answer.get_json()["policy"]["name"]


def test_a_routing_rule_on_a_new_category_matches_it_in_each_of_its_domains(client, world):
    _rule(client, world, "Weapons", category="weapon_fired_or_released")
    _rule(client, world, "Lock-on at sea", domain="maritime", category="fire_control_lock_on")
    for domain in NEW["weapon_fired_or_released"]:
        assert _policy_for(client, world, domain, "weapon_fired_or_released") == "Weapons", domain
    assert _policy_for(client, world, "maritime", "fire_control_lock_on") == "Lock-on at sea"
    assert _policy_for(client, world, "cyber_em", "fire_control_lock_on") == "Test ladder"
    assert _policy_for(client, world, "air", "shoot_down") == "Test ladder"
    filed = file_incident(client, world, domain="land", category="weapon_fired_or_released")
    assert (filed["ladder"]["rule_name"], filed["ladder"]["policy_name"]) == ("Weapons", "Weapons")


def test_a_rule_pairing_a_domain_with_a_category_outside_it_is_refused(client, world):
    policy = client.post(
        "/api/v1/policies",
        json={"name": "P", "steps": [{"channel_ids": [world.channels["L3"]]}]},
        headers=world.auth("admin"),
    ).get_json()
    body = {"name": "Wrong", "policy_id": policy["id"], "domain": "hybrid", "category": "shoot_down"}
    answer = client.post("/api/v1/rules", json=body, headers=world.auth("admin"))
    assert answer.status_code == 422 and "category" in answer.get_json()["error"]["details"], answer.get_data(True)


def test_the_filing_form_offers_the_new_categories_under_each_of_their_domains(client, world):
    sign_in(client, "duty")
    page = client.get("/incidents/new").text
    by_domain = json.loads(re.search(r"data-categories='([^']*)'", page)[1].replace("&#34;", '"'))
    for name, domains in NEW.items():
        for domain in domains:
            assert name in by_domain[domain], (domain, name, by_domain[domain])
        assert f'<option value="{name}">{LABELS[name]}</option>' in page, name
    assert "shoot_down" not in by_domain["maritime"] and "detention_or_abduction" not in by_domain["air"]


def test_the_rule_form_lists_a_shared_category_under_each_of_its_domains(client, world):
    sign_in(client, "admin")
    page = client.get("/admin/rules/new").text
    groups = dict(re.findall(r'<optgroup label="([^"]+)">(.*?)</optgroup>', page, re.S))
    for domain in NEW["fire_control_lock_on"]:
        assert 'value="fire_control_lock_on"' in groups[domain], (domain, groups.get(domain, "")[:300])
    assert 'value="fire_control_lock_on"' not in groups["hybrid"]
