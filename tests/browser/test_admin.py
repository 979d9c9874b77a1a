"""An admin builds a route in the browser: a channel, a policy using it, a routing rule; previews
the route; and the next incident a duty officer files follows it."""

import re

import pytest
from playwright.sync_api import expect

from tests.support import build_world

pytestmark = pytest.mark.browser


def test_admin_builds_a_route_and_a_newly_filed_incident_follows_it(app, sign_in):
    build_world(app)
    admin = sign_in("admin")
    page = admin.page

    page.get_by_role("link", name="Channels").click()
    page.get_by_role("link", name=re.compile("New channel", re.I)).click()
    page.get_by_label("Name").fill("North desk")
    page.get_by_label("Level").select_option("2")
    page.get_by_label("Transport").select_option("outbox")
    page.get_by_label("Address").fill("north-desk@test.example")
    page.get_by_role("button", name="Create channel").click()
    expect(page.locator("main")).to_contain_text("North desk")

    page.get_by_role("link", name="Policies").click()
    page.get_by_role("link", name=re.compile("New policy", re.I)).click()
    page.get_by_label("Name").fill("North ladder")
    page.locator("#steps-0-channel_ids").select_option(label="L2 · North desk")
    page.locator("#steps-0-ack_seconds").fill("300")
    page.locator("#steps-1-channel_ids").select_option(label="L3 · L3")
    page.get_by_role("button", name="Create policy").click()
    expect(page.locator("main")).to_contain_text("North ladder")

    page.get_by_role("link", name="Routing").click()
    page.get_by_role("link", name=re.compile("New rule", re.I)).click()
    page.get_by_label("Name").fill("Northern sector")
    page.get_by_role("textbox", name="Sector", exact=True).fill("NORTH")
    page.get_by_label("Policy").select_option(label="North ladder")
    page.get_by_role("button", name="Create rule").click()
    expect(page.locator("main")).to_contain_text("Northern sector")

    page.get_by_role("textbox", name="Sector").fill("north")
    page.get_by_role("button", name="Preview route").click()
    expect(page.locator("main")).to_contain_text("Northern sector")
    expect(page.locator("main")).to_contain_text("North ladder")

    duty = sign_in("duty")
    form = duty.page
    form.goto("/incidents/new")
    form.get_by_role("textbox", name="Reporting unit").fill("Radar site 4")
    form.get_by_role("combobox", name="Domain", exact=True).select_option("air")
    form.get_by_role("combobox", name="Category", exact=True).select_option("uncooperative_flight")
    form.get_by_role("combobox", name="Precedence", exact=True).select_option("P")
    form.get_by_role("combobox", name="Sector", exact=True).select_option("North")
    form.get_by_role("button", name="File incident").click()
    expect(form).to_have_url(re.compile(r"/incidents/INC-[\w-]+$"))
    expect(form.locator("main")).to_contain_text("Northern sector")
    expect(form.locator("main")).to_contain_text("North ladder")
    expect(form.locator("main")).to_contain_text("notified North desk")
    assert admin.foreign_requests() == [] and duty.foreign_requests() == []
