"""Related incidents: suggested at filing, confirmed or dismissed by a person, and the pattern
the confirmed links make, through the API and the incident page."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.support import build_world, file_checked, incident_payload, sign_in
from tracker import demo, dispatch, jobs
from tracker.config import ConfigError
from tracker.db import session_scope
from tracker.http.wiring import filing_limits
from tracker.models import Incident, IncidentLink
from tracker.services.incidents import related
from tracker.timeutil import isoformat, utcnow

BASE = {"latitude": 54.412, "longitude": 22.871, "category": "unsafe_intercept"}
# About 10 km north, and about 60 km north, of BASE.
NEAR, FAR = {"latitude": 54.502, "longitude": 22.871}, {"latitude": 54.951, "longitude": 22.871}


# Every test's incidents happen at hours after one start, far enough back to lie in the past.
START = utcnow().replace(microsecond=0) - timedelta(hours=200)


def after_start(hours: float) -> str:
    return isoformat(START + timedelta(hours=hours))


def file_at(client, world, hours: float = 0, **fields) -> str:
    """File an incident that happened `hours` after the start; return its reference."""
    return file_checked(client, world, occurred_at=after_start(hours), **{**BASE, **fields})["reference"]


def read_related(client, world, reference: str, who: str = "duty") -> dict:
    response = client.get(f"/api/v1/incidents/{reference}/related", headers=world.auth(who))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def decide(client, world, reference: str, link_id: int, action: str, who: str = "duty", note: str | None = None):
    body = {"note": note} if note else {}
    return client.post(f"/api/v1/incidents/{reference}/related/{link_id}/{action}", json=body, headers=world.auth(who))


def timeline(client, world, reference: str) -> list[dict]:
    return client.get(f"/api/v1/incidents/{reference}", headers=world.auth("duty")).get_json()["timeline"]


@pytest.mark.both_databases  # distance in time is SQL arithmetic
def test_an_incident_of_the_same_category_near_in_space_and_time_is_suggested(client, world):
    older = file_at(client, world, 0)
    newer = file_at(client, world, 30, **NEAR)
    body = read_related(client, world, newer)
    [link] = body["suggested"]
    assert (link["newer"], link["older"], link["other"]["reference"]) == (newer, older, older), link
    assert link["distance_km"] == pytest.approx(10.0, abs=0.1) and link["hours_apart"] == pytest.approx(30)
    assert link["state"] == "suggested" and link["decided_by"] is None
    assert [r["other"]["reference"] for r in read_related(client, world, older)["suggested"]] == [newer]

    [event] = [e for e in timeline(client, world, newer) if e["kind"] == "related_suggested"]
    assert event["details"]["related"] == older and event["details"]["distance_km"] == pytest.approx(10.0, abs=0.1)
    assert [e["kind"] for e in timeline(client, world, older)] == ["filed", "routed"], "the older one is not touched"


@pytest.mark.both_databases  # distance in time is SQL arithmetic
def test_a_late_report_of_an_earlier_incident_is_stored_as_the_older_end(client, world):
    first_filed = file_at(client, world, 30)
    late_report = file_at(client, world, 2, **NEAR)
    [link] = read_related(client, world, late_report)["suggested"]
    assert (link["newer"], link["older"]) == (first_filed, late_report), link


@pytest.mark.both_databases  # the time window is SQL arithmetic
@pytest.mark.parametrize(
    ("second", "why"),
    [
        ({"category": "airspace_violation", **NEAR}, "another category"),
        (FAR, "about 60 km away, beyond RELATED_DISTANCE_KM (50)"),
        ({"hours": 73, **NEAR}, "73 h later, beyond RELATED_WINDOW_HOURS (72)"),
        ({"hours": -73, **NEAR}, "73 h earlier"),
        ({"latitude": None, "longitude": None, "position_text": None}, "no position"),
    ],
)
def test_no_suggestion_for_another_category_too_far_out_of_the_window_or_without_position(
    client, world, app, second, why
):
    fields = dict(second)  # the parameter is shared by the SQLite and the PostgreSQL run
    file_at(client, world, 10)
    newer = file_at(client, world, 10 + fields.pop("hours", 1), **fields)
    assert read_related(client, world, newer)["suggested"] == [], why
    with session_scope(app) as session:
        assert session.scalars(select(IncidentLink)).all() == [], why


@pytest.mark.both_databases  # the time window is SQL arithmetic
def test_the_distance_and_the_window_are_configurable(make_app):
    app = make_app(RELATED_DISTANCE_KM=5, RELATED_WINDOW_HOURS=100)
    client, world = app.test_client(), build_world(app)
    file_at(client, world, 0)
    near_but_not_enough = file_at(client, world, 1, **NEAR)
    late_but_in_window = file_at(client, world, 90, latitude=54.42, longitude=22.871)
    assert read_related(client, world, near_but_not_enough)["suggested"] == [], "10 km > 5 km"
    assert len(read_related(client, world, late_but_in_window)["suggested"]) == 1, "90 h < 100 h"


@pytest.mark.parametrize("value", [0, -5, "far"])
def test_a_distance_or_window_that_is_not_positive_fails_at_start_up(make_app, value):
    for key in ("RELATED_DISTANCE_KM", "RELATED_WINDOW_HOURS"):
        with pytest.raises(ConfigError, match=key):
            make_app(**{key: value})


@pytest.mark.both_databases  # one decision wins by a conditional UPDATE
def test_confirm_through_the_api_then_a_second_decision_is_a_conflict(client, world):
    older = file_at(client, world, 0)
    newer = file_at(client, world, 5, **NEAR)
    [link] = read_related(client, world, newer)["suggested"]

    confirmed = decide(client, world, older, link["id"], "confirm", "supervisor", note="Same squadron.")
    assert confirmed.status_code == 200, confirmed.get_json()
    body = confirmed.get_json()
    assert body["state"] == "confirmed" and body["decided_by"] == "supervisor" and body["decided_at"], body
    assert body["other"]["reference"] == newer, "seen from the incident in the path"

    for action in ("confirm", "dismiss"):
        again = decide(client, world, newer, link["id"], action, "duty")
        assert again.status_code == 409, (action, again.get_json())
        error = again.get_json()["error"]
        assert error["details"]["state"] == "confirmed" and error["details"]["decided_by"] == "supervisor", error

    for reference, other in ((newer, older), (older, newer)):
        [event] = [e for e in timeline(client, world, reference) if e["kind"] == "related_confirmed"]
        assert event["actor"] == "supervisor" and event["details"]["related"] == other, event
        assert event["details"]["note"] == "Same squadron.", event
    after = read_related(client, world, newer)
    assert after["suggested"] == [] and [c["id"] for c in after["confirmed"]] == [link["id"]]


def test_dismiss_through_the_api_records_it_on_both_timelines(client, world):
    older = file_at(client, world, 0)
    newer = file_at(client, world, 5, **NEAR)
    [link] = read_related(client, world, newer)["suggested"]
    response = decide(client, world, newer, link["id"], "dismiss", "duty")
    assert response.status_code == 200 and response.get_json()["state"] == "dismissed", response.get_json()
    for reference in (older, newer):
        kinds = [e["kind"] for e in timeline(client, world, reference)]
        assert "related_dismissed" in kinds and "related_confirmed" not in kinds, (reference, kinds)
    body = read_related(client, world, newer)
    assert body["suggested"] == [] and body["confirmed"] == [] and len(body["dismissed"]) == 1
    assert body["pattern"]["count"] == 1, "a dismissed link makes no pattern"


@pytest.mark.parametrize(("who", "status"), [("outsider", 403), ("liaison", 200), ("admin", 200)])
def test_who_may_decide(client, world, who, status):
    """Duty officers, supervisors and admins decide any link; liaison staff only links to an
    incident routed to one of their channels (the outsider's desk was never notified)."""
    file_at(client, world, 0)
    newer = file_at(client, world, 5, **NEAR)
    [link] = read_related(client, world, newer)["suggested"]
    response = decide(client, world, newer, link["id"], "confirm", who)
    assert response.status_code == status, response.get_json()


def test_a_link_is_found_only_through_an_incident_at_one_of_its_ends(client, world):
    file_at(client, world, 0)
    newer = file_at(client, world, 5, **NEAR)
    stranger = file_at(client, world, 5, category="laser", domain="cyber_em")
    [link] = read_related(client, world, newer)["suggested"]
    assert decide(client, world, stranger, link["id"], "confirm").status_code == 404
    assert decide(client, world, newer, link["id"] + 100, "confirm").status_code == 404
    assert client.get("/api/v1/incidents/INC-1999-00001/related", headers=world.auth("duty")).status_code == 404


def link_between(client, world, a: str, b: str) -> int:
    links = read_related(client, world, a)
    [link_id] = [x["id"] for x in links["suggested"] + links["confirmed"] if x["other"]["reference"] == b]
    return link_id


@pytest.mark.both_databases  # suggestions by SQL time arithmetic; the pattern's times read back
def test_the_pattern_is_every_incident_reached_through_confirmed_links(client, world):
    """A-B and B-C confirmed, C-D only suggested, A-E dismissed: the pattern of any of A, B, C is A, B, C."""
    a = file_at(client, world, 0)
    b = file_at(client, world, 20, latitude=54.5, longitude=22.871)
    c = file_at(client, world, 40, latitude=54.6, longitude=22.871)
    # D and E are far from the others in time, so they are suggested with one incident each.
    d = file_at(client, world, 111, latitude=54.68, longitude=22.871)
    e = file_at(client, world, -70, latitude=54.40, longitude=22.86)
    for x, y, action in ((a, b, "confirm"), (b, c, "confirm"), (a, e, "dismiss")):
        response = decide(client, world, x, link_between(client, world, x, y), action)
        assert response.status_code == 200, (x, y, response.get_json())
    # A-C was suggested too (40 h, 21 km); it stays a suggestion, and the closure needs no direct link.
    for member in (a, b, c):
        pattern = read_related(client, world, member)["pattern"]
        assert [m["incident"]["reference"] for m in pattern["members"]] == [a, b, c], (member, pattern)
        assert pattern["count"] == 3 and pattern["hours_span"] == pytest.approx(40), pattern
        assert pattern["distance_span_km"] == pytest.approx(20.9, abs=0.3), pattern
    from_b = read_related(client, world, b)["pattern"]["members"]
    assert [m["hours_from"] for m in from_b] == pytest.approx([-20, 0, 20])
    assert from_b[1]["distance_km"] == 0 and from_b[0]["distance_km"] == pytest.approx(9.8, abs=0.2)
    assert read_related(client, world, d)["pattern"]["count"] == 1, "a suggestion is not part of the pattern"
    assert read_related(client, world, e)["pattern"]["count"] == 1, "nor a dismissed link"


FORM_ACTION = re.compile(r'action="(/incidents/[^"]+/related/(\d+)/(confirm|dismiss))"')


@pytest.mark.both_databases  # one decision wins by a conditional UPDATE; the pattern's span from times read back
def test_confirm_and_dismiss_from_the_incident_page(client, world, app):
    older = file_at(client, world, 0)
    middle = file_at(client, world, 10, **NEAR)
    newer = file_at(client, world, 20, latitude=54.45, longitude=22.9)
    sign_in(client, "duty")
    page = client.get(f"/incidents/{newer}")
    assert page.status_code == 200 and "Related incidents" in page.text, page.text[:500]
    forms = FORM_ACTION.findall(page.text)
    assert {(action, int(link_id)) for _, link_id, action in forms} == {
        (action, link_between(client, world, newer, other))
        for other in (older, middle)
        for action in ("confirm", "dismiss")
    }, forms
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)[1]

    confirm = next(
        url
        for url, link_id, action in forms
        if action == "confirm" and int(link_id) == link_between(client, world, newer, older)
    )
    answer = client.post(confirm, data={"csrf_token": token})
    assert answer.status_code == 302 and answer.headers["Location"].endswith(f"/incidents/{newer}#related"), answer
    dismiss = next(
        url
        for url, link_id, action in forms
        if action == "dismiss" and int(link_id) == link_between(client, world, newer, middle)
    )
    assert client.post(dismiss, data={"csrf_token": token}).status_code == 302

    page = client.get(f"/incidents/{newer}").text
    assert "Pattern: 2 incidents over 20.0 h" in page and f'href="/incidents/{older}"' in page, page
    assert FORM_ACTION.findall(page) == [], "nothing left to decide"
    again = client.post(confirm, data={"csrf_token": token}, follow_redirects=True)
    assert "already confirmed by <bdi>duty</bdi>" in again.text, "a second decision is told, the name isolated"
    with session_scope(app) as session:
        states = sorted(link.state.value for link in session.scalars(select(IncidentLink)))
    assert states == ["confirmed", "dismissed", "suggested"], states  # older-middle is still open


def test_the_page_form_needs_its_csrf_token_and_the_right_person(client, world, app):
    file_at(client, world, 0)
    newer = file_at(client, world, 5, **NEAR)
    [link] = read_related(client, world, newer)["suggested"]
    sign_in(client, "outsider")
    page = client.get(f"/incidents/{newer}")
    assert FORM_ACTION.findall(page.text) == [], "no buttons for someone who may not decide"
    url = f"/incidents/{newer}/related/{link['id']}/confirm"
    assert client.post(url, data={}).status_code == 400, "no CSRF token"
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)[1]
    assert client.post(url, data={"csrf_token": token}).status_code == 403
    assert read_related(client, world, newer)["suggested"][0]["state"] == "suggested"


@pytest.mark.both_databases  # suggestions by SQL time arithmetic over the demo's incidents
def test_the_demo_has_a_pattern_and_a_suggestion_to_decide(app):
    with app.app_context(), session_scope(app) as session:
        demo.load(session, filing_limits(), utcnow(), app.extensions["tracker.transports"], dispatch.ack_links(app))
    with session_scope(app) as session:
        intercepts = session.scalars(
            select(Incident).where(Incident.category == "unsafe_intercept").order_by(Incident.occurred_at)
        ).all()
        assert len(intercepts) == 3, [i.reference for i in intercepts]
        newest = intercepts[-1]
        pattern = related.pattern(session, newest)
        assert [m.incident.reference for m in pattern.members] == [i.reference for i in intercepts]
        waiting = [r for r in related.relations(session, newest) if r.link.state.value == "suggested"]
        assert [r.other.reference for r in waiting] == [intercepts[0].reference]


@pytest.mark.both_databases  # the sweep claims the pending checks; SQL time arithmetic
def test_the_answer_to_a_filing_does_not_wait_for_the_search_the_next_sweep_does_it_once(app, client, world):
    """The duty officer's answer comes before the related-incident search: it says the checks are
    pending; the next sweep suggests the link and clears the flag; a second sweep suggests nothing again."""
    older = file_checked(client, world, occurred_at=after_start(0), **BASE)["reference"]
    response = client.post(
        "/api/v1/incidents",
        json=incident_payload(occurred_at=after_start(1), **{**BASE, **NEAR}),
        headers=world.auth("duty"),
    )
    assert response.status_code == 201, response.get_json()
    newer = response.get_json()
    assert newer["checks_pending"] is True
    assert "related_suggested" not in [e["kind"] for e in newer["timeline"]], newer["timeline"]
    assert read_related(client, world, newer["reference"])["suggested"] == []

    jobs.sweep(app)
    jobs.sweep(app)
    after = client.get(f"/api/v1/incidents/{newer['reference']}", headers=world.auth("duty")).get_json()
    assert after["checks_pending"] is False
    assert [e["details"]["related"] for e in after["timeline"] if e["kind"] == "related_suggested"] == [older]
    with session_scope(app) as session:
        assert len(session.scalars(select(IncidentLink)).all()) == 1, "one suggestion, made once"
