"""The map and the related incidents as a browser meets them; screenshots for the closing note:
tests/browser/screenshots/map.png, map-390.png and related.png."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.support import build_world, file_incident
from tracker.db import session_scope
from tracker.models import ExerciseNotice, NotifiedVia
from tracker.timeutil import isoformat, utcnow

pytestmark = pytest.mark.browser


def earlier(hours: float) -> str:
    return isoformat(utcnow() - timedelta(hours=hours))


def demo_like_situation(app) -> tuple:
    """Incidents of every precedence across the sectors (two intercepts close together, one of them
    acknowledged), a resolved one that stays off the map, and two exercises under way."""
    world = build_world(app)
    client = app.test_client()

    def file(**fields) -> str:
        return file_incident(client, world, **fields)["reference"]

    intercept = file(precedence="O", occurred_at=earlier(20), latitude=54.52, longitude=22.74)
    newest = file(precedence="Z", occurred_at=earlier(1), latitude=54.412, longitude=22.871)
    file(precedence="Z", domain="land", category="unintended_territory_entry", occurred_at=earlier(0.5),
         latitude=54.102, longitude=23.311, sector=None)  # fmt: skip
    file(precedence="P", domain="hybrid", category="gnss_jamming", occurred_at=earlier(3), latitude=55.62,
         longitude=21.9, sector=None)  # fmt: skip
    file(precedence="R", category="uncooperative_flight", occurred_at=earlier(6), latitude=53.85, longitude=22.2,
         sector=None)  # fmt: skip
    resolved = file(precedence="R", category="object_dropped", occurred_at=earlier(9), latitude=55.0, longitude=21.5)
    answers = [
        client.post(f"/api/v1/incidents/{intercept}/acknowledge", json={}, headers=world.auth("liaison")),
        client.post(f"/api/v1/incidents/{resolved}/resolve", json={"resolution": "Debris of a weather balloon."},
                    headers=world.auth("supervisor")),
    ]  # fmt: skip
    assert [a.status_code for a in answers] == [200, 200], [a.get_json() for a in answers]
    now = utcnow()
    with session_scope(app) as session:
        area = [[21.3, 55.35], [22.6, 55.35], [22.6, 55.85], [21.3, 55.85], [21.3, 55.35]]
        session.add_all(
            [
                ExerciseNotice(name="Northern Shield", states=["Eastland"], starts_at=now - timedelta(hours=5),
                               ends_at=now + timedelta(days=2), area={"type": "Polygon", "coordinates": [area]},
                               notified_via=NotifiedVia.VIENNA_DOCUMENT, created_by="test"),
                ExerciseNotice(name="Amber Circle", states=["Eastland"], starts_at=now - timedelta(hours=1),
                               ends_at=now + timedelta(hours=8), centre_latitude=53.95, centre_longitude=22.95,
                               radius_km=25, notified_via=NotifiedVia.BILATERAL_BRIEFING, created_by="test"),
            ]
        )  # fmt: skip
    return world, newest, intercept, resolved


def test_map_shows_the_open_incidents_and_opens_one_when_selected(app, sign_in, live_server):
    _, newest, _, resolved = demo_like_situation(app)
    duty = sign_in("duty")
    page = duty.page
    page.get_by_role("link", name="Map").click()
    expect(page).to_have_url(f"{live_server}/map")
    svg = page.locator("svg.map")
    expect(svg).to_be_visible()
    expect(svg.locator("a.marker")).to_have_count(5)
    expect(svg.locator(f'a.marker[data-reference="{resolved}"]')).to_have_count(0)
    expect(svg.locator("path.exercise")).to_have_count(2)
    expect(svg.locator("path.sector")).to_have_count(3)
    flash_fill = svg.locator("a.marker.prec-Z circle").first.evaluate("c => getComputedStyle(c).fill")
    routine_fill = svg.locator("a.marker.prec-R circle").first.evaluate("c => getComputedStyle(c).fill")
    assert flash_fill != routine_fill, f"FLASH and ROUTINE markers share the colour {flash_fill}"
    path = duty.screenshot("map")

    page.get_by_label("Show a position").fill("34U FF 2142 3097")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("p.next")).to_contain_text("= 54°24'43\"N 022°52'16\"E = MGRS 34U FF 2142 3097 · sector North")
    expect(svg.locator("g.probe")).to_have_count(1)

    svg.locator(f'a.marker[data-reference="{newest}"]').click()
    expect(page).to_have_url(f"{live_server}/incidents/{newest}")
    assert duty.foreign_requests() == [], duty.foreign_requests()
    assert duty.page_errors == [], duty.page_errors
    assert path.stat().st_size > 10_000, f"{path} looks empty"


def test_map_fits_a_phone_without_scrolling_the_page_sideways(app, sign_in):
    demo_like_situation(app)
    liaison = sign_in("liaison", 390)
    page = liaison.page
    page.goto("/map")
    expect(page.locator("svg.map a.marker")).to_have_count(5)
    liaison.screenshot("map-390")
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the map page scrolls sideways by {overflow} px at 390 px"


def test_a_suggested_link_is_confirmed_and_the_pattern_shows(app, sign_in, live_server):
    _, newest, intercept, _ = demo_like_situation(app)
    supervisor = sign_in("supervisor")
    page = supervisor.page
    page.goto(f"/incidents/{newest}")
    section = page.locator("section.related")
    expect(section.locator("ul.suggested li")).to_have_count(1)
    expect(section.locator("ul.suggested li")).to_contain_text(intercept)
    section.get_by_role("button", name=f"Confirm {intercept} as related").click()
    expect(page).to_have_url(f"{live_server}/incidents/{newest}#related")
    expect(section.locator("h3")).to_contain_text("Pattern: 2 incidents")
    expect(section.locator("ol.pattern li")).to_have_count(2)
    expect(page.locator(".timeline li.event-related_confirmed")).to_have_count(1)
    section.scroll_into_view_if_needed()
    supervisor.screenshot("related")
    assert supervisor.page_errors == [] and supervisor.foreign_requests() == []
