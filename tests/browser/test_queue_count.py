"""My queue on a phone says how many incidents await the liaison officer, in the heading and the tab's title,
and counts again when its rows refresh (an incident filed meanwhile)."""

import pytest
from playwright.sync_api import expect

from tests.support import build_world, file_incident

pytestmark = pytest.mark.browser


def test_my_queue_counts_what_awaits_as_its_rows_refresh(app, sign_in):
    world = build_world(app)
    client = app.test_client()
    file_incident(client, world)
    liaison = sign_in("liaison", 390)
    page = liaison.page
    page.goto("/queue")
    expect(page.get_by_role("heading", level=1)).to_have_text("My queue: 1 awaiting acknowledgement")
    expect(page).to_have_title("My queue: 1 awaiting acknowledgement · Incident tracker")

    file_incident(client, world)
    expect(page.locator("tbody tr[data-reference]")).to_have_count(2)
    expect(page.get_by_role("heading", level=1)).to_have_text("My queue: 2 awaiting acknowledgement")
    expect(page).to_have_title("My queue: 2 awaiting acknowledgement · Incident tracker")
    assert not liaison.page_errors, liaison.page_errors


def test_acknowledge_all_mine_is_offered_as_the_queue_fills_and_withdrawn_as_it_empties(app, sign_in):
    world = build_world(app)
    client = app.test_client()
    liaison = sign_in("liaison", 390)
    page = liaison.page
    page.goto("/queue")
    offer = page.get_by_role("link", name="Acknowledge all mine")
    expect(page.get_by_role("heading", level=1)).to_have_text("My queue: none awaiting acknowledgement")
    expect(offer).to_be_hidden()

    reference = file_incident(client, world)["reference"]
    expect(page.locator("tbody tr[data-reference]")).to_have_count(1)
    expect(offer).to_be_visible()

    answer = client.post(f"/api/v1/incidents/{reference}/acknowledge", json={}, headers=world.auth("supervisor"))
    assert answer.status_code == 200, answer.get_json()
    expect(page.get_by_role("heading", level=1)).to_have_text("My queue: none awaiting acknowledgement")
    expect(offer).to_be_hidden()
    assert not liaison.page_errors, liaison.page_errors
