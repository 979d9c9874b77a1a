"""The Vienna Document checks on a phone (390 px): the register shows a late notice's flag with its
paragraph, and a supervisor records a briefing on one of our own exercises, flagged as a late notice;
no page scrolls sideways. Screenshots: exercises-390.png, exercise-390.png, exercise-ours-390.png."""

import pytest
from playwright.sync_api import expect

from tests.browser_support import sideways
from tests.exercise_support import create, hours
from tests.support import build_world
from tracker.timeutil import isoformat

pytestmark = pytest.mark.browser


def test_flags_and_our_briefings_on_a_phone(app, sign_in):
    world = build_world(app)
    client = app.test_client()
    create(client, world, name="EASTERN RAMPART", declared_size=12_700, notes="Annual calendar, Chapter V.")
    ours = create(
        client,
        world,
        name="NORTHERN SHIELD",
        ours=True,
        declared_size=10_500,
        battle_tanks=90,
        starts_at=isoformat(hours(24 * 30)),
        ends_at=isoformat(hours(24 * 37)),
        notified_at=None,
        notified_to="all participating States",
    )

    supervisor = sign_in("supervisor", 390)
    page = supervisor.page
    page.goto("/exercises/")
    rampart = page.locator('tr[data-exercise="EASTERN RAMPART"]')
    expect(rampart.locator('[data-check="notified_late"]')).to_contain_text("notified late (para. 38)")
    expect(rampart.locator('[data-check="near_threshold"]')).to_contain_text("(para. 47.4)")
    supervisor.screenshot("exercises-390", page)
    assert sideways(page) <= 0, "the register scrolls sideways at 390 px"

    page.get_by_role("link", name="NORTHERN SHIELD", exact=True).click()
    expect(page.get_by_role("heading", name="Record a briefing")).to_be_visible()
    page.get_by_label("Briefed at").fill(isoformat(hours(-1)))
    page.get_by_label("Briefed to").fill("Eastland defence attaché")
    page.get_by_label("How").select_option("vienna_document")
    page.get_by_label("What we briefed").fill("Dates, area, 10,500 troops and 90 battle tanks.")
    page.get_by_role("button", name="Record briefing").click()

    expect(page.locator("p.flash.success")).to_contain_text("Briefing on “NORTHERN SHIELD” recorded")
    expect(page.locator('tr[data-briefing] >> text="Eastland defence attaché"')).to_be_visible()
    # The briefing is our notification (none other on record), 30 days before the start: late.
    expect(page.locator('.vd-checks [data-check="notified_late"]')).to_contain_text("(para. 38)")
    supervisor.screenshot("exercise-390", page)
    assert sideways(page) <= 0, "the exercise page scrolls sideways at 390 px"

    page.goto("/exercises/ours")
    expect(page.locator('section[data-exercise="NORTHERN SHIELD"]')).to_contain_text("notified late")
    supervisor.screenshot("exercise-ours-390", page)
    assert sideways(page) <= 0, "our exercises scroll sideways at 390 px"
    assert ours["id"] and supervisor.page_errors == [], supervisor.page_errors
