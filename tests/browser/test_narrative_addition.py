"""On a phone (390 x 844), the duty officer adds to an incident's narrative, or comments on it, from the first
screen of the incident page: the links sit by the Amend button; the amend page opens on the narrative's field
itself, focused and in sight, however many platforms and measures stand above it (its top links to it too), and
the comment link focuses the Act card's field, below the facts."""

import pytest
from playwright.sync_api import expect

from tests.support import build_world, file_incident

pytestmark = pytest.mark.browser

PLATFORMS = [{"kind": f"fighter aircraft {n}", "nationality": "Eastland", "transponder_on": False} for n in range(8)]


def in_sight(page, locator) -> bool:
    box = locator.bounding_box()
    return box is not None and 0 <= box["y"] and box["y"] + box["height"] <= page.viewport_size["height"]


def test_the_addition_to_the_narrative_is_within_reach_on_a_phone(app, sign_in):
    world = build_world(app)
    reference = file_incident(app.test_client(), world, platforms=PLATFORMS)["reference"]
    duty = sign_in("duty", 390)
    page = duty.page
    page.goto(f"/incidents/{reference}")
    add = page.get_by_role("link", name="Add to the narrative")
    assert in_sight(page, add), "the link to add to the narrative is below the phone's first screen"

    duty.screenshot("narrative-link-390", page)
    add.click()
    field = page.get_by_label("Add to the narrative")
    expect(field).to_be_focused()
    assert in_sight(page, field), "the narrative field is not in sight"
    assert in_sight(page, page.locator("label[for=narrative_addendum]")), "the field's label is out of sight"
    duty.screenshot("narrative-field-390", page)
    page.keyboard.type("Second look at the tape: two missiles under the wings.")
    page.get_by_role("button", name="Amend", exact=True).click()
    expect(page.locator(".addendum")).to_contain_text("two missiles under the wings")

    page.goto(f"/incidents/{reference}/amend")
    jump = page.locator("p.jump").get_by_role("link", name="Add to the narrative")
    assert in_sight(page, jump), "the amend page's link to the narrative is below the first screen"
    jump.click()
    expect(field).to_be_focused()
    assert in_sight(page, field)
    assert not duty.page_errors, duty.page_errors


def test_the_comment_field_is_one_tap_from_the_first_screen_on_a_phone(app, sign_in):
    world = build_world(app)
    reference = file_incident(app.test_client(), world, platforms=PLATFORMS)["reference"]
    duty = sign_in("duty", 390)
    page = duty.page
    page.goto(f"/incidents/{reference}")
    field = page.get_by_label("Comment")
    assert not in_sight(page, field), "the comment field was already in the first screen: nothing to prove"
    link = page.locator(".incident-tools").get_by_role("link", name="Comment")
    assert in_sight(page, link)
    link.click()
    expect(field).to_be_focused()
    assert in_sight(page, field) and in_sight(page, page.locator("label[for=text]"))
    page.keyboard.type("Radar site 4 confirms.")
    page.get_by_role("button", name="Add comment").click()
    expect(page.locator("ol.timeline li").first).to_contain_text("Radar site 4 confirms.")
