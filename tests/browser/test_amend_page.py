"""Issue 14 on a phone (390 px): the duty officer who filed an incident amends it from the incident page
(a higher precedence, the closest point of approach in nautical miles, an addition to the narrative); the
pages never scroll sideways, observed forces stay folded on the phone and open on a desktop. Screenshots:
amend-390.png, amended-390.png, file-1280.png."""

import pytest
from playwright.sync_api import expect

from tests.browser_support import sideways
from tests.support import build_world, file_incident

pytestmark = pytest.mark.browser


def test_a_duty_officer_amends_an_incident_on_a_phone(app, sign_in):
    world = build_world(app)
    reference = file_incident(app.test_client(), world)["reference"]

    duty = sign_in("duty", 390)
    page = duty.page
    page.goto(f"/incidents/{reference}")
    page.get_by_role("link", name="Amend").click()
    expect(page.get_by_role("heading", name=f"Amend {reference}")).to_be_visible()
    expect(page.locator("details.observed-forces")).not_to_have_attribute("open", "")
    assert sideways(page) <= 0, "the amend page scrolls sideways at 390 px"

    page.get_by_label("Precedence").select_option("Z")
    page.get_by_label("Closest approach, horizontal").fill("0.3")
    page.get_by_label("Horizontal unit").select_option("nm")
    page.get_by_label("Add to the narrative").fill("Second look at the tape: two missiles under the wings.")
    duty.screenshot("amend-390", page)
    page.get_by_role("button", name="Amend", exact=True).click()

    expect(page.locator("p.flash.success")).to_contain_text(f"Amended {reference}")
    expect(page.locator("dl.facts").first).to_contain_text("0.3 NM (556 m) horizontally")
    expect(page.locator(".addendum")).to_contain_text("two missiles under the wings")
    expect(page.locator("ol.timeline")).to_contain_text("Precedence: O → Z")
    assert sideways(page) <= 0, "the amended incident page scrolls sideways at 390 px"
    duty.screenshot("amended-390", page)
    assert not duty.page_errors, duty.page_errors

    desk = sign_in("duty", 1280)
    desk.page.goto("/incidents/new")
    expect(desk.page.locator("details.observed-forces")).to_have_attribute("open", "")
    desk.screenshot("file-1280", desk.page)


def test_an_amendment_refused_puts_the_focus_on_why(app, sign_in):
    """An amendment that changes nothing (or one another desk's amendment overtook) is refused above the form: the
    focus stayed on the page's body, and a screen reader or a phone's keyboard user did not hear why."""
    world = build_world(app)
    reference = file_incident(app.test_client(), world)["reference"]
    duty = sign_in("duty", 390)
    page = duty.page
    page.goto(f"/incidents/{reference}/amend")
    page.get_by_role("button", name="Amend", exact=True).click()
    refused = page.locator('.flash.error[role="alert"]')
    expect(refused).to_contain_text("the amendment changes nothing")
    expect(refused).to_be_focused()
    expect(refused).to_be_in_viewport()
    assert not duty.page_errors, duty.page_errors
