"""The main pages as a browser meets them: fitting a desktop and a phone width (screenshots of both with
`make screenshots`), nothing loaded from outside the app, and a sign-in completed with the keyboard alone."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser_support import sideways
from tests.support import build_world, file_incident
from tracker import jobs

pytestmark = pytest.mark.browser

COUNTING = re.compile(r"^in \d+ (d|h|min|s)( \d+ (h|min|s))?$|^due now$")  # "in 6 min 5 s", never "06:05"


def messages_sent(app, client, world, reference: str) -> None:
    """Deliver the outbox as the scheduler's delivery job does, and check every message of the incident went."""
    jobs.deliver(app)
    body = client.get(f"/api/v1/incidents/{reference}", headers=world.auth("supervisor")).get_json()
    assert body["notifications"] and all(n["status"] == "sent" for n in body["notifications"]), body["notifications"]


def busy_room(app) -> tuple:
    """A board with three incidents of different precedence, one acknowledged, one commented."""
    world = build_world(app, steps=(("L1",), ("L2",), ("L3",)))
    client = app.test_client()
    flash = file_incident(
        client,
        world,
        precedence="Z",
        category="airspace_violation",
        sector="North",
        latitude=54.412,
        longitude=22.871,
        position_text="34U FF 2142 3097",
    )["reference"]
    immediate = file_incident(
        client,
        world,
        precedence="O",
        domain="maritime",
        category="weapon_aiming",
        sector="Coast",
        narrative="Fire-control radar locked on our frigate for 40 seconds; no radio answer on channel 16.",
    )["reference"]
    file_incident(
        client,
        world,
        precedence="R",
        category="uncooperative_flight",
        sector="South",
        latitude=53.9,
        longitude=23.5,
        position_text="53 54 00N 023 30 00E",
    )
    acknowledged = client.post(
        f"/api/v1/incidents/{immediate}/acknowledge", json={"note": "L1 desk on it"}, headers=world.auth("liaison")
    )
    commented = client.post(
        f"/api/v1/incidents/{flash}/comments",
        json={"text": "Second pair of fighters reported by radar site 4."},
        headers=world.auth("duty"),
    )
    assert (acknowledged.status_code, commented.status_code) == (200, 201)
    return world, client, flash


@pytest.mark.parametrize("width", [1280, 390])
def test_main_pages_fit_the_screen_at_a_desktop_and_a_phone_width(app, open_browser, sign_in, width):
    """The page walk (test_no_overflow.py) measures these pages too, but on its own scene as soon as they load, signed
    in; this test is what it is not: the sign-in page signed out, and the main pages with a busy room's incidents
    once their scripts have drawn them (the countdowns started, the time read back), opened by the roles that use
    them, and their screenshots (`make screenshots`)."""
    world, client, flash = busy_room(app)
    messages_sent(app, client, world, flash)  # the incident page then shows a delivery attempt
    stranger, liaison, duty = open_browser(width), sign_in("liaison", width), sign_in("duty", width)
    pages = {
        "signin": (stranger, "/signin"),
        "board": (duty, "/"),
        "queue": (liaison, "/queue"),
        "file": (duty, "/incidents/new"),
        "incident": (duty, f"/incidents/{flash}"),
        "password": (duty, "/password"),
    }

    too_wide = []
    for name, (person, path) in pages.items():
        page = person.page
        page.goto(path)
        if name == "file":  # the read-back of the prefilled time has come
            expect(page.locator('[data-hint-for="occurred_at"]')).to_contain_text(" = ")
        if name in ("board", "queue"):  # the countdowns have started
            expect(page.locator("time.countdown").first).to_have_text(COUNTING)
        person.screenshot(f"{name}-{width}", page)
        overflow = sideways(page)
        if overflow > 0:
            too_wide.append(f"{name} by {overflow} px")
    assert not too_wide, f"pages scroll sideways at {width} px: {', '.join(too_wide)}"


def test_every_main_page_loads_only_from_the_apps_own_origin(app, sign_in, live_server):
    world = build_world(app)
    reference = file_incident(app.test_client(), world)["reference"]
    duty = sign_in("duty", through_form=True)  # the sign-in page and the board
    page = duty.page
    with page.expect_request("**/board/rows*", timeout=10_000):  # the board's own polling counts too
        pass
    page.goto("/queue")
    expect(page.locator("h1")).to_have_text("My queue: none awaiting acknowledgement")
    page.goto("/incidents/new")
    expect(page.locator('[data-hint-for="occurred_at"]')).to_contain_text(" = ")  # read-back fetched
    page.goto(f"/incidents/{reference}")
    expect(page.locator("h1")).to_contain_text(reference)
    page.goto("/password")
    expect(page.locator("h1")).to_have_text("Change your password")

    paths = {url.removeprefix(live_server).partition("?")[0] for url in duty.requests}
    assert {
        "/signin",
        "/",
        "/board/rows",
        "/queue",
        "/incidents/new",
        "/incidents/readback",
        f"/incidents/{reference}",
        "/password",
        "/static/app.css",
        "/static/app.js",
    } <= paths, paths
    assert duty.foreign_requests() == []
    assert duty.page_errors == []


def test_sign_in_form_can_be_completed_with_the_keyboard_alone(app, open_browser, live_server):
    build_world(app)
    page = open_browser().page
    page.goto("/signin")
    expect(page.get_by_label("Username")).to_be_focused()
    page.keyboard.type("duty")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password")).to_be_focused()
    page.keyboard.type("duty-password")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Sign in")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{live_server}/")
    expect(page.locator("header.top .who")).to_contain_text("duty · duty officer")
