"""The exchange panel in the browser: an overdue exchange stands out on the incident page and the
board; requesting a meeting from the panel starts a live countdown. Screenshot: exchange-panel.png."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.browser_support import a_refresh, sideways
from tests.exchange_support import REQUEST, acknowledged_incident, add_counterpart_line, move
from tests.exchange_support import open_exchange as open_via_api
from tests.support import build_world
from tracker import jobs
from tracker.db import session_scope
from tracker.models import Exchange
from tracker.timeutil import utcnow

pytestmark = pytest.mark.browser

POLL = 10_000  # ms: the page polls every 0.5 s here (conftest.py); leave room for a slow machine
COUNTING = re.compile(r"^in \d+ (d|h|min|s)( \d+ (h|min|s))?$")  # "in 47 h 59 min", never a clock time


def test_an_overdue_exchange_stands_out_and_a_meeting_request_starts_a_countdown(app, sign_in):
    world = build_world(app)
    add_counterpart_line(app, world, meeting_deadline_seconds=48 * 3600)
    client = app.test_client()
    reference = acknowledged_incident(client, world, latitude=54.102, longitude=23.311, sector=...)
    xid = open_via_api(client, world, reference)["id"]
    move(client, world, xid, "receipt_confirmed", "Eastland MoD confirms receipt of your notice.")
    move(client, world, xid, "explanation_requested", REQUEST)
    with session_scope(app) as session:  # the other side let the reply deadline pass
        session.get(Exchange, xid).deadline_at = utcnow() - timedelta(seconds=1)
    jobs.sweep(app)

    liaison = sign_in("liaison")
    page = liaison.page
    board = page.locator(f'tr[data-exchange="{xid}"]')
    expect(board).to_have_class(re.compile(r"\boverdue\b"))
    expect(board).to_contain_text("OVERDUE")

    page.goto(f"/incidents/{reference}#exchanges")
    exchange = page.locator(f'article[data-exchange="{xid}"]')
    expect(exchange.locator("[data-state]")).to_have_text("overdue")
    expect(exchange.locator(".clock")).to_contain_text("deadline pass")
    expect(exchange.locator("table.exchange-messages tbody tr")).to_have_count(3)
    expect(page.locator("ol.timeline")).to_contain_text("exchange overdue")
    liaison.screenshot("exchange-panel", page)

    exchange.get_by_label("Text sent, or what the other side said").fill(
        "We request a meeting of the liaison officers at the crossing point within 48 hours."
    )
    exchange.get_by_role("button", name="Request meeting").click()
    exchange = page.locator(f'article[data-exchange="{xid}"]')
    expect(page.locator("p.flash.success")).to_contain_text("Text drafted for “meeting requested”")
    expect(exchange.locator(".exchange-state")).to_have_text("overdue")  # four eyes: nothing moves before approval
    expect(exchange.locator(".draft-status")).to_have_text("draft: waiting for approval")
    expect(exchange.locator(".why-not")).to_contain_text("You wrote this text: a second person must approve it.")
    expect(exchange.get_by_role("button", name="Approve")).to_have_count(0)

    # A second person approves on a phone; the drafter sends.
    supervisor = sign_in("supervisor", width=390)
    supervisor.page.goto(f"/incidents/{reference}#exchanges")
    theirs = supervisor.page.locator(f'article[data-exchange="{xid}"]')
    theirs.get_by_role("button", name="Approve").click()
    expect(supervisor.page.locator("p.flash.success")).to_contain_text("Text approved: it may be sent now.")
    supervisor.screenshot("exchange-panel-approve-phone", supervisor.page)
    assert sideways(supervisor.page) <= 0, "no sideways scrolling"
    page.reload()
    exchange = page.locator(f'article[data-exchange="{xid}"]')
    exchange.get_by_role("button", name="Send", exact=True).click()
    exchange = page.locator(f'article[data-exchange="{xid}"]')
    expect(page.locator("p.flash.success")).to_contain_text("Text queued for the other side.")
    expect(exchange.locator(".exchange-state")).to_have_text("meeting requested")
    countdown = exchange.locator(".clock > .clock-at > time.countdown")  # the meeting clock, not the receipt clock
    expect(countdown).to_have_text(COUNTING)
    # A clock two days long reads in days and hours (the seconds tick on short clocks: test_operations_room).
    first = countdown.inner_text()
    assert first in ("in 2 d", "in 1 d 23 h"), f"a 48 h meeting clock shows {first}"
    liaison.screenshot("exchange-panel-meeting", page)

    assert liaison.foreign_requests() == [] and supervisor.foreign_requests() == []
    assert liaison.page_errors == [] and supervisor.page_errors == []


def test_a_message_refused_for_its_time_comes_back_typed_with_the_field_in_view(app, sign_in):
    world = build_world(app)
    add_counterpart_line(app, world)
    client = app.test_client()
    reference = acknowledged_incident(client, world)
    xid = open_via_api(client, world, reference)["id"]
    liaison = sign_in("liaison", width=390)
    page = liaison.page
    page.goto(f"/incidents/{reference}#exchanges")
    exchange = page.locator(f'article[data-exchange="{xid}"]')
    exchange.get_by_text("Record a message").click()
    said = "Their duty officer: a scheduled training sortie, nothing more."
    exchange.get_by_label("Message", exact=True).fill(said)
    received = exchange.get_by_label(re.compile("^Received at \\(from them"))
    received.fill("yesterday afternoon")
    exchange.get_by_role("button", name="Record message").click()
    received = page.locator(f'article[data-exchange="{xid}"]').get_by_label(re.compile("^Received at \\(from them"))
    expect(received).to_be_focused()  # the page opens where the problem is, not at its top
    expect(received).to_have_value("yesterday afternoon")
    expect(page.locator(f'article[data-exchange="{xid}"]').get_by_label("Message", exact=True)).to_have_value(said)
    expect(page.locator(f"#{received.get_attribute('id')}-error")).to_be_in_viewport()
    a_refresh(page)  # a live refresh leaves a returned form alone
    expect(received).to_have_value("yesterday afternoon")


def test_an_exchange_clock_reads_as_one_line_with_its_dtg(app, sign_in):
    """Each clock ("Their reply is due in 2 d (071542ZDEC26).", "Receipt due in 6 h (...).") on one line: the
    DTG is not pushed onto a line of its own with the full stop dangling under it."""
    world = build_world(app)
    add_counterpart_line(app, world)
    client = app.test_client()
    reference = acknowledged_incident(client, world)
    xid = open_via_api(client, world, reference)["id"]  # the notice sent: its receipt is awaited
    move(client, world, xid, "explanation_requested", REQUEST)  # their reply is due
    page = sign_in("liaison").page
    page.goto(f"/incidents/{reference}#exchanges")
    clocks = page.locator(f'article[data-exchange="{xid}"] .clock .clock-at')
    expect(clocks).to_have_count(2)
    for clock in clocks.all():
        lines = clock.evaluate(
            """at => {
                const line = node => {  // the first line the node's text is drawn on: [top, bottom]
                    const range = document.createRange();
                    range.selectNodeContents(node);
                    const rect = Array.from(range.getClientRects()).find(r => r.width > 0);
                    return [rect.top, rect.bottom];
                };
                return {text: at.parentElement.textContent.trim().slice(0, 60),
                        countdown: line(at.querySelector('time')), dtg: line(at.querySelector('.deadline-dtg')),
                        stop: line(at.nextSibling)};
            }"""
        )
        (top, bottom) = lines["countdown"]
        for part in ("dtg", "stop"):  # drawn beside the countdown: their lines overlap
            assert lines[part][0] < bottom and lines[part][1] > top, f"the {part} is on a line of its own: {lines}"


def test_a_message_being_recorded_holds_its_form_only_and_the_panel_stays_live(app, sign_in):
    """Text typed in one exchange's "Record a message" froze the whole exchange panel (found in review): an exchange
    opened meanwhile by a colleague never showed. Only that form is held now, as typed, and says so."""
    world = build_world(app)
    add_counterpart_line(app, world)
    add_counterpart_line(app, world, name="Westland attaché channel", address="attache@westland.test")
    client = app.test_client()
    reference = acknowledged_incident(client, world)
    first = open_via_api(client, world, reference)["id"]
    liaison = sign_in("liaison")
    page = liaison.page
    page.goto(f"/incidents/{reference}#exchanges")
    exchange = page.locator(f'article[data-exchange="{first}"]')
    exchange.get_by_text("Record a message").click()
    typed = exchange.locator("details.exchange-message-form").get_by_label("Message", exact=True)
    typed.fill("Their duty officer called back: the ship had steering trouble.")
    page.locator("h1").click()  # looked away: the typed text alone holds the form

    second = open_via_api(client, world, reference, line="Westland attaché channel")["id"]
    expect(page.locator(f'article[data-exchange="{second}"]')).to_be_visible(timeout=POLL)
    expect(typed).to_have_value("Their duty officer called back: the ship had steering trouble.")
    held = exchange.locator("[data-held]")
    expect(held).to_have_text("Not refreshed while it holds what you typed; the rest of the page is.")
    expect(held).to_be_visible()
    expect(page.locator("[data-held]")).to_have_count(1)
    assert liaison.page_errors == [], liaison.page_errors
