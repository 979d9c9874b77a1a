"""The map (Leaflet, all from the app itself) and the related incidents as a browser meets them;
screenshots (`make screenshots`): tests/browser/screenshots/map.png, map-found.png, map-390.png and related.png."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.browser_support import sideways
from tests.exercise_support import under_way
from tests.support import build_world, file_incident, run_filing_checks
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
    run_filing_checks(app)  # the related-incident search and exercise links the sweep does after filing
    return world, newest, intercept, resolved


# Incidents in sight on the map: single markers, plus those counted in clusters, within the map's frame.
MARKERS_DRAWN = """() => {
    const frame = document.querySelector("#map").getBoundingClientRect();
    const seen = e => { const r = e.getBoundingClientRect();
        return r.left >= frame.left && r.right <= frame.right && r.top >= frame.top && r.bottom <= frame.bottom; };
    const markers = Array.from(document.querySelectorAll("#map .map-marker")).filter(seen).length;
    const clusters = Array.from(document.querySelectorAll("#map .map-cluster")).filter(seen);
    return markers + clusters.map(c => parseInt(c.textContent, 10)).reduce((a, b) => a + b, 0);
}"""


def markers_drawn(page) -> int:
    return page.evaluate(MARKERS_DRAWN)


def right_edge(page, selector: str) -> float:
    return page.evaluate(
        "s => Math.max(...Array.from(document.querySelectorAll(s), e => e.getBoundingClientRect().right))", selector
    )


def test_the_map_draws_open_incidents_flash_first_exercises_whole_and_finds_a_position(app, sign_in, live_server):
    world, newest, _, resolved = demo_like_situation(app)
    far = file_incident(app.test_client(), world, precedence="R", category="uncooperative_flight",
                        occurred_at=earlier(30), latitude=59.9, longitude=30.3, sector=None)["reference"]  # fmt: skip
    now = utcnow()
    with session_scope(app) as session:
        across = [[23.0, 54.55], [24.1, 54.55], [24.1, 54.95], [23.0, 54.95], [23.0, 54.55]]
        session.add_all(
            [
                ExerciseNotice(name="Iron Gate", states=["Eastland"], starts_at=now - timedelta(hours=2),
                               ends_at=now + timedelta(days=1), area={"type": "Polygon", "coordinates": [across]},
                               notified_via=NotifiedVia.VIENNA_DOCUMENT, created_by="test"),
                ExerciseNotice(name="Autumn Drill", states=["Eastland"], starts_at=now - timedelta(days=9),
                               ends_at=now - timedelta(days=5), centre_latitude=54.6, centre_longitude=21.8,
                               radius_km=15, notified_via=NotifiedVia.VIENNA_DOCUMENT, created_by="test"),
            ]
        )  # fmt: skip
    duty = sign_in("duty")
    page = duty.page
    page.get_by_role("link", name="Map").click()
    expect(page).to_have_url(f"{live_server}/map")
    expect(page.locator(".map-status")).to_contain_text("6 open incidents with a position")
    box = page.locator("#map").bounding_box()
    assert box and box["width"] > 800 and box["height"] > 520, f"the map is {box} on a 1280 x 800 screen"

    listed = page.locator("ol.map-incidents li")
    expect(listed).to_have_count(6)
    order = listed.evaluate_all("items => items.map(i => [i.className, i.dataset.reference])")
    assert [c for c, _ in order] == ["prec-Z", "prec-Z", "prec-O", "prec-P", "prec-R", "prec-R"], order
    assert order[1][1] == newest and resolved not in {r for _, r in order}, f"the newer FLASH comes first: {order}"
    assert order[-1][1] == far and "outside every sector" in listed.last.inner_text()
    # Its button is named by the words it shows first, so voice control finds "Show on map" (WCAG 2.5.3).
    expect(listed.last.get_by_role("button", name=f"Show on map: {far}", exact=True)).to_have_count(1)
    # The map opens on the region: the five there are in sight, alone or in a cluster; the sixth is far away.
    assert markers_drawn(page) == 5, "every open incident in the region is on the map, alone or in a cluster"
    flash_z = page.locator("#map .map-marker.prec-Z, #map .map-cluster.prec-Z").first.evaluate("e => +e.style.zIndex")
    routine_z = page.locator("#map .map-marker.prec-R").first.evaluate("e => +e.style.zIndex")
    assert flash_z > routine_z, f"FLASH (z-index {flash_z}) is drawn under ROUTINE ({routine_z})"

    expect(page.locator("#map path.map-exercise-running")).to_have_count(3)
    # The sectors stop at the border lines; the Coast's waters beyond the maritime boundary are drawn apart.
    expect(page.locator("#map path.map-sector")).to_have_count(4)
    expect(page.locator("#map path.map-sector-beyond")).to_have_count(1)
    expect(page.locator(".map-label-beyond")).to_have_text("Coast (beyond the border)")
    # Iron Gate reaches 0.6 degrees past the land border: drawn whole, its edge lies well east of the line's.
    assert right_edge(page, "#map path.map-exercise") > right_edge(page, "#map path.map-border") + 20
    drawn = page.screenshot()  # the screen as it is, in memory
    duty.screenshot("map")
    page.get_by_role("button", name="Show everything").click()
    page.wait_for_function(f"() => ({MARKERS_DRAWN})() === 6")  # the one outside the region too

    page.get_by_role("combobox", name="Exercises").select_option("past")
    expect(page.locator("#map path.map-exercise-past")).to_have_count(1)
    expect(page.locator("#map path.map-exercise-running")).to_have_count(0)
    expect(page.locator("ul.map-exercises li")).to_contain_text("Autumn Drill")

    page.get_by_label("Find a position").fill("34U FF 2142 3097")
    page.get_by_role("button", name="Find", exact=True).click()
    expect(page.locator("#at-readback")).to_contain_text(
        "= 54°24'43\"N 022°52'16\"E = MGRS 34U FF 2142 3097 · sector North"
    )
    expect(page.locator("#map .map-probe")).to_have_count(1)
    duty.screenshot("map-found")

    # (Opening an incident from its marker's popup is left out: in CI the popup did not always open
    # after the zoom to the marker - to be made reliable in map.js before it is tested again.)
    assert duty.foreign_requests() == [], duty.foreign_requests()
    assert duty.page_errors == [], duty.page_errors
    assert len(drawn) > 30_000, f"the map's screen is a PNG of {len(drawn)} bytes: it looks empty"


def test_map_fits_a_phone_without_scrolling_the_page_sideways(app, sign_in):
    demo_like_situation(app)
    supervisor = sign_in("supervisor", 390)
    page = supervisor.page
    page.goto("/map")
    expect(page.locator(".map-status")).to_contain_text("5 open incidents with a position")
    assert markers_drawn(page) == 5
    box = page.locator("#map").bounding_box()
    assert box and box["width"] > 330 and box["height"] > 400, f"the map is {box} on a 390 x 844 phone"
    supervisor.screenshot("map-390")
    overflow = sideways(page)
    assert overflow <= 0, f"the map page scrolls sideways by {overflow} px at 390 px"
    assert supervisor.foreign_requests() == [] and supervisor.page_errors == []


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


def test_an_exercise_with_no_notification_on_record_says_so_on_the_map(app, sign_in):
    """Seen, not told: the popup and the list say "No notification on record", where a notified one says
    when it was notified; both were drawn and described alike."""
    build_world(app)
    now = utcnow()
    with session_scope(app) as session:
        for name, latitude, notified_at in (("SEEN", 53.95, None), ("TOLD", 54.6, now - timedelta(days=45))):
            session.add(
                ExerciseNotice(name=name, states=["Eastland"], starts_at=now - timedelta(hours=1),
                               ends_at=now + timedelta(hours=8), centre_latitude=latitude, centre_longitude=22.95,
                               radius_km=10, notified_via=NotifiedVia.VIENNA_DOCUMENT, notified_at=notified_at,
                               created_by="test")
            )  # fmt: skip
    duty = sign_in("duty")
    page = duty.page
    page.goto("/map")
    expect(page.locator("#map path.map-exercise-running")).to_have_count(2)
    expect(page.locator("ul.map-exercises li", has_text="SEEN")).to_contain_text("No notification on record")
    expect(page.locator("ul.map-exercises li", has_text="TOLD")).to_contain_text("Notified ")
    expect(page.locator("ul.map-exercises li", has_text="TOLD")).not_to_contain_text("No notification")
    page.locator("#map path.map-exercise-running").first.click()
    popup = re.compile(r"SEEN.*No notification on record|TOLD.*Notified \d{6}Z", re.S)
    expect(page.locator(".leaflet-popup-content")).to_have_text(popup)
    assert duty.page_errors == [], duty.page_errors


def test_an_exercise_name_is_shown_on_the_map_as_text_never_as_markup(app, sign_in):
    """Exercise names come from notices (typed, or a CSV of the other side's calendar): a name that looks
    like HTML is shown as typed in its tooltip, never made into elements of the page (Leaflet reads a
    string given to a tooltip as HTML)."""
    build_world(app)
    name = 'ZAPAD <a id="planted" href="/signout">open</a> <2026>'
    under_way(app, name, ["Eastland"])
    duty = sign_in("duty")
    page = duty.page
    page.goto("/map")
    area = page.locator("#map path.map-exercise-running")
    expect(area).to_have_count(1)
    area.hover()
    expect(page.locator(".leaflet-tooltip", has_text="ZAPAD")).to_have_text(name)
    expect(page.locator("#planted")).to_have_count(0)
    assert duty.page_errors == [], duty.page_errors


FOCUSED = "() => document.activeElement.tagName + '.' + (document.activeElement.getAttribute('class') || '')"


def test_the_keyboard_reaches_the_zoom_buttons_before_the_markers(app, sign_in):
    """Leaflet puts its controls after the map's panes, so Tab went through every marker (and cluster) before it
    reached the zoom buttons; map.js moves them first, where they are also drawn."""
    demo_like_situation(app)
    page = sign_in("duty").page
    page.goto("/map")
    expect(page.locator(".map-status")).to_contain_text("5 open incidents with a position")
    assert markers_drawn(page) == 5
    page.locator("#map").focus()
    reached: list[str] = []
    for _ in range(4):
        page.keyboard.press("Tab")
        reached.append(page.evaluate(FOCUSED))
    assert "leaflet-control-zoom-in" in reached[0] and "leaflet-control-zoom-out" in reached[1], reached
    zoom = page.locator(".leaflet-control-zoom-in").bounding_box()
    map_box = page.locator("#map").bounding_box()
    assert zoom and map_box and zoom["x"] - map_box["x"] < 40 and zoom["y"] - map_box["y"] < 40, (zoom, map_box)
    expect(page.locator(".leaflet-control-zoom-in")).to_be_visible()


def test_a_popup_opened_with_the_keyboard_takes_the_focus_and_escape_gives_it_back(app, sign_in):
    """Enter on a marker opened its popup and left the focus on the marker: Tab went on to the next marker, and a
    screen reader never reached the popup's link. The popup's link takes the focus; Escape closes the popup and the
    focus is on the marker again, as it is after the popup's × (Enter) or Escape on a popup opened from the list."""
    world = build_world(app)
    client = app.test_client()
    first = file_incident(client, world, precedence="O", latitude=54.52, longitude=22.74)["reference"]
    file_incident(client, world, precedence="P", latitude=55.62, longitude=21.9)
    page = sign_in("duty", 390).page
    page.goto("/map")
    marker = page.locator(f'.map-marker[data-reference="{first}"]')
    expect(marker).to_be_visible()
    # Named by its reference, precedence and category: a screen reader heard "O" alone.
    expect(page.get_by_role("button", name=f"{first} · O IMMEDIATE · ")).to_have_count(1)
    marker.focus()
    page.keyboard.press("Enter")

    popup = page.locator(".leaflet-popup")
    link = popup.get_by_role("link", name=first)
    expect(link).to_be_focused()
    expect(link).to_be_in_viewport()
    page.keyboard.press("Escape")
    expect(popup).to_have_count(0)
    expect(marker).to_be_focused()

    page.keyboard.press("Enter")  # again, closed now by its ×
    expect(link).to_be_focused()
    page.keyboard.press("Tab")
    expect(popup.locator(".leaflet-popup-close-button")).to_be_focused()
    page.keyboard.press("Enter")
    expect(popup).to_have_count(0)
    expect(marker).to_be_focused()

    show = page.get_by_role("button", name=f"Show on map: {first}")
    show.focus()
    page.keyboard.press("Enter")
    expect(link).to_be_focused()
    page.keyboard.press("Escape")
    expect(popup).to_have_count(0)
    expect(show).to_be_focused()


@pytest.mark.parametrize("width", [390, 1280])
def test_show_on_map_opens_the_facts_of_an_incident_among_others_a_few_metres_apart(app, sign_in, width):
    """Three incidents within 50 m stay one cluster at the map's closest zoom: "Show on map" zoomed in and left the
    cluster closed, no facts shown, until someone tapped it."""
    world = build_world(app)
    client = app.test_client()
    references = [
        file_incident(client, world, latitude=54.4120 + 0.0002 * n, longitude=22.8710 + 0.0002 * n)["reference"]
        for n in range(3)
    ]
    duty = sign_in("duty", width)
    page = duty.page
    page.goto("/map")
    for reference in (references[1], references[0]):
        page.get_by_role("button", name=f"Show on map: {reference}").click()
        popup = page.locator(".leaflet-popup")
        expect(popup).to_have_count(1)
        expect(popup.get_by_role("link", name=reference)).to_be_visible()
        # On a phone the list is below the map: the popup opened above the screen, and nothing seemed to happen.
        expect(popup.get_by_role("link", name=reference)).to_be_in_viewport()
    assert not duty.page_errors, duty.page_errors
