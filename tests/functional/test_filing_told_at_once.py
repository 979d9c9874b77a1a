"""A refused filing tells every problem in its first answer, through the API and the filing form: what the filing
service checks (an airprox class on a land incident, the narrative's length, a time in the future, the marking, a
sector or agreement nobody names) was told only once the schema's or the form's own checks passed, so a duty officer
with two problems mended one, sent again, and only then learned of the second."""

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.support import filing_form, incident_payload, sign_in
from tracker.db import session_scope
from tracker.models import Incident
from tracker.services.incidents import filing
from tracker.timeutil import format_dtg, isoformat, utcnow

ERROR = re.compile(r'<small class="error" id="([a-z_]+)-error">([^<]*)</small>')
LONG = "x" * 4001  # NARRATIVE_MAX_LENGTH is 4000
LAND = {"domain": "land", "category": "unintended_territory_entry"}
TOMORROW = utcnow() + timedelta(days=1)


def _filed(app) -> int:
    with session_scope(app) as session:
        return session.scalar(select(func.count()).select_from(Incident))


# What only filing (or the schema once its fields passed) told, each with the words it is told in.
API_PROBLEMS = [
    pytest.param("safety_risk", {**LAND, "safety_risk": "B"}, "collision", id="airprox-class-on-land"),
    pytest.param("narrative", {"narrative": LONG}, "longer than 4000 characters", id="narrative-too-long"),
    pytest.param("occurred_at", {"occurred_at": isoformat(TOMORROW)}, "is in the future", id="future"),
    pytest.param("classification", {"classification": "COSMIC"}, "'COSMIC' is not one of", id="classification"),
    pytest.param("releasable_to", {"releasable_to": ["Westland"]}, "not among Eastland", id="releasable-to"),
    pytest.param("longitude", {"latitude": 54.4, "longitude": None}, "latitude and longitude together", id="lone"),
    pytest.param("reporting_unit", {"reporting_unit": "   "}, "must not be blank", id="blank-unit"),
    pytest.param("sector", {"sector": "Nowhere"}, "no sector 'Nowhere'", id="unknown-sector"),
    pytest.param("agreement", {"agreement": "NO-SUCH"}, "no agreement 'NO-SUCH'", id="unknown-agreement"),
    pytest.param("position_text", {"position_text": "somewhere"}, "could not read", id="unreadable-position"),
    pytest.param("cpa_horizontal", {"cpa_horizontal": {"value": 600, "unit": "nm"}}, "at most 539.957 nm", id="cpa"),
    pytest.param(
        "cpa_horizontal",
        {"cpa_horizontal": {"value": 5, "unit": "m"}, "cpa_horizontal_m": 5},
        "not both",
        id="cpa-twice",
    ),
]


@pytest.mark.parametrize(("field", "wrong", "said"), API_PROBLEMS)
def test_the_api_tells_filings_problem_with_the_schemas_own_in_one_422(client, world, app, field, wrong, said):
    body = incident_payload(**wrong, precedence="X")
    answer = client.post("/api/v1/incidents", json=body, headers=world.auth("duty"))
    assert answer.status_code == 422, answer.get_json()
    details = answer.get_json()["error"]["details"]
    assert details.keys() == {field, "precedence"}, details
    assert any(said in sentence for sentence in details[field]), details
    assert _filed(app) == 0


def test_the_api_tells_every_problem_filing_finds_in_one_422(client, world, app):
    """The schema passes them all; filing told its rules' problems, then a sector nobody names once they were
    mended, then the agreement; and the route told a CPA too large in its unit before filing checked anything."""
    body = incident_payload(
        **LAND,
        safety_risk="B",
        narrative=LONG,
        sector="Nowhere",
        agreement="NO-SUCH",
        cpa_horizontal={"value": 600, "unit": "nm"},
        cpa_vertical={"value": 40_000, "unit": "m"},
    )
    answer = client.post("/api/v1/incidents", json=body, headers=world.auth("duty"))
    assert answer.status_code == 422, answer.get_json()
    details = answer.get_json()["error"]["details"]
    told = {"safety_risk", "narrative", "sector", "agreement", "cpa_horizontal", "cpa_vertical"}
    assert details.keys() == told, details
    assert _filed(app) == 0


FORM_PROBLEMS = [
    ("safety_risk", {**LAND, "safety_risk": "B"}, "collision"),
    ("narrative", {"narrative": LONG}, "longer than 4000 characters (4,001 given: 1 too many)"),
    ("cpa_horizontal", {"cpa_horizontal": "600", "cpa_horizontal_unit": "nm"}, "at most 539.957 nm"),
]


@pytest.mark.parametrize(("field", "wrong", "said"), FORM_PROBLEMS, ids=[p[0] for p in FORM_PROBLEMS])
def test_the_form_tells_filings_problem_beside_its_field_with_the_forms_own(client, world, app, field, wrong, said):
    sign_in(client, "duty")
    answer = client.post("/incidents/new", data=filing_form(client, **wrong, precedence="", position="somewhere"))
    assert answer.status_code == 422, answer.text[:2000]
    errors = {name: html.unescape(text) for name, text in ERROR.findall(answer.text)}
    assert errors.keys() == {field, "precedence", "position"}, errors
    assert said in errors[field], errors
    assert _filed(app) == 0


def test_the_form_tells_every_problem_filing_finds_at_once(client, world, app):
    """The form's own checks pass them all: filing told its rules' problems only after the CPA's, and of the CPA,
    the vertical only once the horizontal was mended."""
    sign_in(client, "duty")
    form = filing_form(
        client,
        **LAND,
        occurred_at=format_dtg(TOMORROW),
        narrative=LONG,
        cpa_horizontal="600",
        cpa_horizontal_unit="nm",
        cpa_vertical="40000",
        cpa_vertical_unit="m",
    )
    answer = client.post("/incidents/new", data=form)
    assert answer.status_code == 422, answer.text[:2000]
    errors = {name: html.unescape(text) for name, text in ERROR.findall(answer.text)}
    assert errors.keys() == {"occurred_at", "safety_risk", "narrative", "cpa_horizontal", "cpa_vertical"}, errors
    assert "is in the future" in errors["occurred_at"] and "collision" in errors["safety_risk"], errors
    assert _filed(app) == 0


def test_a_valid_filing_is_checked_once_by_filing_alone(client, world, app, monkeypatch):
    """The doors ask filing's checks themselves only when they refuse a report: a valid one pays for them once."""
    checked, asked = [], []
    draft_problems, report_problems = filing.draft_problems, filing.report_problems
    monkeypatch.setattr(filing, "draft_problems", lambda *a: checked.append(1) or draft_problems(*a))
    monkeypatch.setattr(filing, "report_problems", lambda *a: asked.append(1) or report_problems(*a))
    assert client.post("/api/v1/incidents", json=incident_payload(), headers=world.auth("duty")).status_code == 201
    sign_in(client, "duty")
    assert client.post("/incidents/new", data=filing_form(client)).status_code == 302
    assert (len(checked), len(asked)) == (2, 0)


def test_an_empty_time_is_told_as_required_alone(client, world):
    """It read "This field is required. expected ISO 8601 with a zone ... or a date-time group": two sentences,
    the second about a format nobody had typed."""
    sign_in(client, "duty")
    answer = client.post("/incidents/new", data=filing_form(client, occurred_at=""))
    assert answer.status_code == 422
    errors = {name: html.unescape(text) for name, text in ERROR.findall(answer.text)}
    assert errors.get("occurred_at") == "This field is required.", errors
