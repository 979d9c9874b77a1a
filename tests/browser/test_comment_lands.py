"""On a phone, a duty officer adds a comment with the keyboard alone and lands where it now stands, first on
the timeline, not at the page's top several screens above it."""

import pytest
from playwright.sync_api import expect

from tests.support import build_world, file_incident

pytestmark = pytest.mark.browser


def test_a_comment_added_on_a_phone_is_shown_where_it_lands(app, sign_in):
    world = build_world(app)
    reference = file_incident(app.test_client(), world)["reference"]
    duty = sign_in("duty", 390)
    page = duty.page
    page.goto(f"/incidents/{reference}")
    page.get_by_label("Comment").focus()
    page.keyboard.type("Radar site 4 confirms two fighters.")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Add comment")).to_be_focused()
    page.keyboard.press("Enter")

    expect(page).to_have_url(f"{duty.origin}/incidents/{reference}#timeline")
    newest = page.locator("ol.timeline li").first
    expect(newest).to_contain_text("Radar site 4 confirms two fighters.")
    expect(newest).to_be_in_viewport()
    expect(page.get_by_role("heading", name="Timeline")).to_be_in_viewport()
    assert not duty.page_errors, duty.page_errors
