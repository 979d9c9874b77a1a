"""The incident page never goes stale (issue 16, acceptance 2): left open across an escalation and an
exhaustion driven by the real sweep (jobs.sweep on the database the browser's server uses), and an
acknowledgement by someone else, it shows each new state, countdown and set of buttons without a reload,
and keeps the focus and the text typed in its forms. My queue, open in another tab, counts the exhausted
incident in its title."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from tests.support import build_world, file_incident
from tracker import jobs
from tracker.db import session_scope
from tracker.models import Incident
from tracker.timeutil import utcnow

pytestmark = pytest.mark.browser

POLL = 10_000  # ms: the page polls every 0.5 s here (conftest.py); leave room for a slow machine
TYPED = "Tried L2 twice, no answer yet"


def run_out(app, reference: str) -> None:
    """Let the incident's deadline pass, then run the sweep as the scheduler would."""
    with session_scope(app) as session:
        incident = session.scalar(select(Incident).where(Incident.reference == reference))
        incident.next_escalation_at = utcnow() - timedelta(seconds=1)
    assert jobs.sweep(app) == 1, f"the sweep did not advance {reference}"


def same_document(page: Page) -> bool:
    return page.evaluate("window.liveMarker === 'set before'")


def test_the_incident_page_follows_escalation_exhaustion_and_another_acknowledgement(app, sign_in):
    world = build_world(app, ack_seconds=600)  # L1 then L2, no repeat
    client = app.test_client()
    reference = file_incident(client, world, precedence="Z")["reference"]
    liaison = sign_in("liaison")
    queue = liaison.new_tab()
    queue.goto("/queue")
    page = liaison.page
    page.goto(f"/incidents/{reference}")
    page.evaluate("window.liveMarker = 'set before'")

    state, next_line = page.locator("h1 .state"), page.locator(".next")
    countdown = next_line.locator("time.countdown")
    acknowledge = page.get_by_role("button", name="Acknowledge", exact=True)
    expect(state).to_have_text("open")
    expect(next_line).to_contain_text("Escalates to step 2 (L2)")
    first_deadline = countdown.get_attribute("data-deadline")
    expect(acknowledge).to_be_visible()
    resolution = page.get_by_label("Resolution")
    resolution.fill(TYPED)  # typed and focused in a live part of the page

    run_out(app, reference)  # step 2
    expect(next_line).to_contain_text("Becomes exhausted", timeout=POLL)
    expect(countdown).not_to_have_attribute("data-deadline", first_deadline)
    expect(countdown).to_have_text(re.compile(r"^in (9 min \d+ s|10 min)$"))
    expect(page.locator(".ladder li.current")).to_contain_text("L2")
    expect(page.locator(".timeline li.event-escalated")).to_have_count(1)
    expect(acknowledge).to_be_visible()

    run_out(app, reference)  # no step left: exhausted
    expect(state).to_have_text("exhausted", timeout=POLL)
    expect(next_line).to_contain_text("Nobody acknowledged on any step")
    expect(page.get_by_role("status")).to_have_text(  # what a screen reader is told, once
        f"{reference} Z FLASH exhausted. Nobody acknowledged on any step. A supervisor must take it."
    )
    expect(countdown).to_have_count(0)
    expect(acknowledge).to_be_visible()  # an exhausted incident still waits for someone to take it
    expect(queue).to_have_title("(1) My queue: 1 awaiting acknowledgement · Incident tracker", timeout=POLL)

    answer = client.post(f"/api/v1/incidents/{reference}/acknowledge", json={}, headers=world.auth("supervisor"))
    assert answer.status_code == 200, answer.get_json()
    expect(acknowledge).to_have_count(0, timeout=POLL)
    expect(state).to_have_text("acknowledged")
    expect(next_line).to_contain_text("Acknowledged by supervisor")
    expect(page.locator(".timeline li.event-acknowledged")).to_have_count(1)

    assert same_document(page), "the page reloaded to show the new state"
    expect(resolution).to_have_value(TYPED)
    expect(resolution).to_be_focused()
    assert liaison.page_errors == [], liaison.page_errors


def test_a_button_the_refresh_takes_away_leaves_the_focus_in_its_place_not_on_the_page(app, sign_in):
    """Acknowledged by someone else while the keyboard is on the incident page's Acknowledge button: the button goes,
    and the focus with it went to the page's body, where a screen reader loses its place and no outline shows it."""
    world = build_world(app, ack_seconds=600)
    client = app.test_client()
    reference = file_incident(client, world, precedence="Z")["reference"]
    page = sign_in("liaison").page
    page.goto(f"/incidents/{reference}")
    acknowledge = page.get_by_role("button", name="Acknowledge", exact=True)
    acknowledge.focus()

    answer = client.post(f"/api/v1/incidents/{reference}/acknowledge", json={}, headers=world.auth("supervisor"))
    assert answer.status_code == 200, answer.get_json()
    expect(acknowledge).to_have_count(0, timeout=POLL)
    focused = page.evaluate(
        "document.activeElement.closest('.heading') ? 'in the heading' : document.activeElement.tagName"
    )
    assert focused == "in the heading", f"the focus left the place the button was in: {focused}"
    page.keyboard.press("Tab")  # on from there, not from the top of the page
    expect(page.get_by_role("link", name="Comment")).to_be_focused()


def test_a_summary_drafted_by_someone_else_shows_without_a_reload(app, sign_in):
    """The summary panel was drawn once: a colleague's draft, rewording or approval showed only after a reload, and
    the liaison's page kept saying "Would be refused" of a text the supervisor had mended."""
    world = build_world(app)
    client = app.test_client()
    reference = file_incident(client, world)["reference"]
    page = sign_in("supervisor").page
    page.goto(f"/incidents/{reference}")
    page.evaluate("window.liveMarker = 'set before'")
    panel = page.locator("section#summary")
    expect(panel.locator("article.summary")).to_have_count(0)
    drafted = client.post(f"/api/v1/incidents/{reference}/summaries", json={}, headers=world.auth("liaison"))
    assert drafted.status_code == 201, drafted.get_json()
    expect(panel.locator("article.summary")).to_have_count(1, timeout=POLL)
    expect(panel.locator("article.summary .state")).to_have_text("draft")
    assert same_document(page), "drawn in place, not reloaded"
