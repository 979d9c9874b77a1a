"""The board on a phone (390 x 844) shows the incidents in its first screen: its filters are folded under one
line that says which apply, and open with a tap (on a desktop they stand open)."""

import re

import pytest
from playwright.sync_api import expect

from tests.support import build_world, file_incident

pytestmark = pytest.mark.browser


def test_the_first_incident_stands_in_the_phones_first_screen_with_the_filters_folded(app, sign_in):
    world = build_world(app)
    client = app.test_client()
    flash, _ = (file_incident(client, world, precedence=p)["reference"] for p in ("Z", "R"))
    duty = sign_in("duty", 390)
    page = duty.page
    first = page.locator(f'tr[data-reference="{flash}"]')
    box = first.bounding_box()
    assert box and box["y"] + box["height"] <= 844, f"the first incident ends {box} below the first screen"

    page.get_by_text("Filter the board").click()
    page.get_by_label("Z Flash").check()
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"\?precedence=Z$"))
    expect(page.locator("details.board-filters summary")).to_have_text("Filter the board · showing Z Flash")
    expect(page.get_by_label("Z Flash")).to_be_hidden()  # folded again, the line saying what applies
    assert not duty.page_errors, duty.page_errors

    desk = sign_in("duty", 1280)
    expect(desk.page.get_by_label("Z Flash")).to_be_visible()
