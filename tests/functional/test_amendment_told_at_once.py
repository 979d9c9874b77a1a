"""A refused amendment tells every problem in its first answer, through the API and the amend form, as a refused
filing does: what amending checks (a sector nobody names, an airprox class on a land incident, a time in the
future, an addition to the narrative too long, a CPA too large in its unit) and the API's position text were told
only once the schema's or the form's own checks passed, so an officer with two problems mended one, sent again,
and only then learned of the second."""

import html
import re
from datetime import timedelta

import pytest

from tests.functional.test_amendment_pages import form_as_shown
from tests.support import file_incident, sign_in
from tracker.services.incidents import amended_columns, amending
from tracker.timeutil import format_dtg, isoformat, utcnow

ERROR = re.compile(r'<small class="error" id="([a-z_]+)-error">([^<]*)</small>')
LONG = "x" * 4001  # NARRATIVE_MAX_LENGTH is 4000
TOMORROW = utcnow() + timedelta(days=1)
LAND = {"domain": "land", "category": "stray_fire"}  # filed with the airprox class B, which it keeps

# What only amending (or the schema once its fields passed) told, each with the words it is told in.
API_PROBLEMS = [
    pytest.param("sector", {"sector": "Nowhere"}, "no sector 'Nowhere'", id="unknown-sector"),
    pytest.param("safety_risk", LAND, "collision", id="airprox-class-on-land"),
    pytest.param("occurred_at", {"occurred_at": isoformat(TOMORROW)}, "is in the future", id="future"),
    pytest.param("narrative_addendum", {"narrative_addendum": LONG}, "longer than 4000", id="addendum-too-long"),
    pytest.param("cpa_horizontal", {"cpa_horizontal": {"value": 600, "unit": "nm"}}, "at most 539.957 nm", id="cpa"),
    pytest.param("position_text", {"position_text": "somewhere"}, "could not read", id="unreadable-position"),
    pytest.param("longitude", {"latitude": 54.4}, "latitude and longitude together", id="lone-coordinate"),
]


def _version(client, world, reference: str) -> int:
    return client.get(f"/api/v1/incidents/{reference}", headers=world.auth("duty")).get_json()["version"]


def _patch(client, world, reference: str, **facts):
    body = {"version": _version(client, world, reference), **facts}
    return client.patch(f"/api/v1/incidents/{reference}", json=body, headers=world.auth("duty"))


@pytest.mark.parametrize(("field", "wrong", "said"), API_PROBLEMS)
def test_the_api_tells_amendings_problem_with_the_schemas_own_in_one_422(client, world, field, wrong, said):
    filed = file_incident(client, world)
    answer = _patch(client, world, filed["reference"], **wrong, precedence="X")
    assert answer.status_code == 422, answer.get_json()
    details = answer.get_json()["error"]["details"]
    assert details.keys() == {field, "precedence"}, details
    assert any(said in sentence for sentence in details[field]), details
    assert _version(client, world, filed["reference"]) == filed["version"]


def test_the_api_tells_every_problem_amending_finds_with_the_schemas_in_one_422(client, world):
    filed = file_incident(client, world)
    wrong = {"sector": "Nowhere", "narrative_addendum": LONG, "cpa_horizontal": {"value": 600, "unit": "nm"}}
    answer = _patch(client, world, filed["reference"], **LAND, **wrong, escalation_risk="very")
    assert answer.status_code == 422, answer.get_json()
    details = answer.get_json()["error"]["details"]
    told = {"escalation_risk", "sector", "narrative_addendum", "cpa_horizontal", "safety_risk"}
    assert details.keys() == told, details


def test_a_refused_domain_holds_no_category_to_the_domain_as_it_stands(client, world):
    """A category of the new domain sent with a domain the schema refuses is not told as another domain's."""
    filed = file_incident(client, world)
    answer = _patch(client, world, filed["reference"], domain="sea", category="stray_fire")
    assert answer.status_code == 422, answer.get_json()
    assert answer.get_json()["error"]["details"].keys() == {"domain"}


def test_a_refused_amendment_of_an_incident_the_caller_may_not_amend_tells_only_the_schemas_problem(client, world):
    """Amending's checks are asked only for an incident the caller may amend: what it says names the facts kept."""
    filed = file_incident(client, world)
    body = {"version": filed["version"], "precedence": "X", "occurred_at": isoformat(TOMORROW)}
    answer = client.patch(f"/api/v1/incidents/{filed['reference']}", json=body, headers=world.auth("outsider"))
    assert answer.status_code == 422, answer.get_json()
    assert answer.get_json()["error"]["details"].keys() == {"precedence"}


FORM_PROBLEMS = [
    ("sector", {"sector": "Nowhere"}, "no sector 'Nowhere'"),
    ("safety_risk", LAND, "collision"),
    ("occurred_at", {"occurred_at": format_dtg(TOMORROW)}, "is in the future"),
    ("narrative_addendum", {"narrative_addendum": LONG}, "longer than 4000"),
    ("cpa_horizontal", {"cpa_horizontal": "600", "cpa_horizontal_unit": "nm"}, "at most 539.957 nm"),
]


def _amend_form(client, reference: str, **changed):
    sign_in(client, "duty")
    fields = form_as_shown(client.get(f"/incidents/{reference}/amend").text)
    return client.post(f"/incidents/{reference}/amend", data={**fields, **changed})


@pytest.mark.parametrize(("field", "wrong", "said"), FORM_PROBLEMS, ids=[p[0] for p in FORM_PROBLEMS])
def test_the_form_tells_amendings_problem_beside_its_field_with_the_forms_own(client, world, field, wrong, said):
    filed = file_incident(client, world)
    answer = _amend_form(client, filed["reference"], **wrong, precedence="", position="somewhere")
    assert answer.status_code == 422, answer.text[:2000]
    errors = {name: html.unescape(text) for name, text in ERROR.findall(answer.text)}
    assert errors.keys() == {field, "precedence", "position"}, errors
    assert said in errors[field], errors
    assert _version(client, world, filed["reference"]) == filed["version"]


def test_the_form_leaves_a_category_refused_with_its_domain_to_the_forms_own_words(client, world):
    filed = file_incident(client, world)
    answer = _amend_form(client, filed["reference"], domain="land", category="unsafe_intercept", sector="Nowhere")
    assert answer.status_code == 422, answer.text[:2000]
    errors = {name: html.unescape(text) for name, text in ERROR.findall(answer.text)}
    assert errors.keys() == {"category", "sector"}, errors


def test_a_valid_amendment_is_checked_once_by_amending_alone(client, world, monkeypatch):
    """The doors ask amending's checks themselves only when they refuse an amendment: a valid one pays for them once."""
    checked, asked = [], []
    columns, problems = amended_columns.columns, amending.problems
    monkeypatch.setattr(amended_columns, "columns", lambda *a: checked.append(1) or columns(*a))
    monkeypatch.setattr(amending, "problems", lambda *a: asked.append(1) or problems(*a))
    reference = file_incident(client, world)["reference"]
    assert _patch(client, world, reference, sector="South").status_code == 200
    assert _amend_form(client, reference, sector="Coast").status_code == 302
    assert (len(checked), len(asked)) == (2, 0)


def test_a_position_that_cannot_be_read_is_told_with_a_sector_nobody_names(client, world):
    """Amending told the sector only once the position was mended, through the API's position (text alone) and on
    the form, whose own checks pass both."""
    filed = file_incident(client, world)
    answer = _patch(client, world, filed["reference"], position="somewhere", sector="Nowhere")
    assert answer.status_code == 422, answer.get_json()
    assert answer.get_json()["error"]["details"].keys() == {"position", "sector"}
    page = _amend_form(client, filed["reference"], position="somewhere", sector="Nowhere")
    assert page.status_code == 422, page.text[:2000]
    assert {name for name, _ in ERROR.findall(page.text)} == {"position", "sector"}
