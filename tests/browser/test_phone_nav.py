"""The top of every page on a phone (390x844): the sections stand in one row that scrolls sideways, not in up to
four rows of 44 px (an admin's header took 243 px), and the section a page is in is in sight in that row; the
page itself never scrolls sideways, and a page opened at an anchor stays there."""

import pytest
from playwright.sync_api import expect

from tests.browser_support import sideways, styled
from tests.support import build_world

pytestmark = pytest.mark.browser

PHONE = 390
# The header's height, the rows its section links stand on, and the section in sight: its box within the row's.
TOP = """(() => {
  const nav = document.querySelector('header.top nav'), here = nav.querySelector('[aria-current]');
  const box = nav.getBoundingClientRect(), mine = here && here.getBoundingClientRect();
  return {
    header: document.querySelector('header.top').getBoundingClientRect().height,
    rows: new Set(Array.from(nav.querySelectorAll('a'), a => Math.round(a.getBoundingClientRect().top))).size,
    inSight: !!mine && mine.left >= box.left - 1 && mine.right <= box.right + 1,
    scrollY: window.scrollY,
  };
})()"""


@pytest.mark.parametrize("who", ["admin", "duty", "liaison"])
def test_the_sections_stand_in_one_row_and_the_one_in_use_is_in_sight(app, sign_in, who):
    build_world(app)
    person = sign_in(who, PHONE)
    page = person.page
    page.goto("/board")
    top = styled(page).evaluate(TOP)
    assert top["rows"] == 1 and top["header"] <= 160 and top["inSight"], top
    assert sideways(page) <= 0

    sign_out = page.get_by_role("button", name="Sign out").bounding_box()
    assert sign_out["height"] >= 44, f"Sign out is a finger's target on a phone: {sign_out}"

    if who == "admin":  # the last section: the row scrolled to it, clicked from the board's row
        page.get_by_role("link", name="Users", exact=True).click()
        expect(page.get_by_role("heading", name="Users", exact=True)).to_be_visible()
        top = styled(page).evaluate(TOP)
        assert top["inSight"] and top["rows"] == 1, top
    assert person.page_errors == [], person.page_errors


def test_a_page_opened_at_an_anchor_stays_there(app, sign_in):
    """The row is scrolled to the section by its own scroll: the page stays at the anchor it was opened at."""
    world = build_world(app)
    started = app.test_client().post("/api/v1/watches", json={}, headers=world.auth("supervisor"))
    assert started.status_code == 201, started.get_json()
    page = sign_in("supervisor", PHONE).page
    page.goto(f"/watches/{started.get_json()['id']}#log")  # Watch: the fifth section, out of the row's sight
    top = styled(page).evaluate(TOP)
    assert top["scrollY"] > 0 and top["inSight"], f"brought back to the top by the section row: {top}"


SHORT_TARGETS = """() => Array.from(document.querySelectorAll(
  'input:not([type=checkbox]):not([type=radio]):not([type=hidden]), select:not([multiple]), button:not(.link)'))
  .filter(e => e.offsetParent !== null)
  .map(e => [e.name || e.textContent.trim(), Math.round(e.getBoundingClientRect().height)])
  .filter(([, height]) => height < 44)"""


@pytest.mark.parametrize("path", ["/incidents/new", "/board"])
def test_fields_and_buttons_are_a_fingers_height_on_a_phone(app, sign_in, path):
    """A text field was 41 px tall on a phone, a select 39, Approve and Send 39: under the 44 px the header's
    links and the Sign out button keep."""
    build_world(app)
    page = sign_in("duty", PHONE).page
    page.goto(path)
    assert page.evaluate(SHORT_TARGETS) == [], f"shorter than 44 px on {path}"
