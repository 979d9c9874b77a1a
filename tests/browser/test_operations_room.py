"""The operations room at work: a duty officer files through the form, a liaison in another
browser sees it arrive on the board and in the queue without reloading and acknowledges it;
an unacknowledged incident's countdown runs out and the board shows the next step."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.support import build_world, file_incident

pytestmark = pytest.mark.browser

MGRS = "34U FF 2142 3097"
POLL = 10_000  # ms: the tables poll every 0.5 s here (conftest.py); leave room for a slow machine


def keep_document(page: Page) -> None:
    """Mark the loaded document; a reload or navigation would lose the mark."""
    page.evaluate("window.sameDocument = true")


def still_same_document(page: Page) -> bool:
    return page.evaluate("window.sameDocument === true")


def file_flash_incident(page: Page) -> str:
    """File a FLASH air incident through the form; return its reference."""
    page.goto("/incidents/new")
    page.get_by_role("textbox", name="Reporting unit").fill("3rd Air Defence Battalion")
    page.get_by_role("combobox", name="Domain", exact=True).select_option("air")
    page.get_by_role("combobox", name="Category", exact=True).select_option("airspace_violation")
    page.get_by_role("combobox", name="Precedence", exact=True).select_option("Z")
    page.get_by_role("textbox", name="Position (").fill(MGRS)
    expect(page.locator('[data-hint-for="position"]')).to_contain_text(f"= MGRS {MGRS}")
    expect(page.get_by_role("combobox", name="Sector", exact=True)).to_have_value("North")  # the position's
    page.get_by_role("textbox", name="Narrative", exact=True).fill(
        "Two fighters crossed the border at low level, heading west."
    )
    page.get_by_role("button", name="File incident").click()
    expect(page).to_have_url(re.compile(r"/incidents/INC-[\w-]+$"))
    return page.url.rsplit("/", 1)[1]


def test_filed_incident_reaches_liaison_live_and_acknowledgement_shows_in_timeline(app, sign_in):
    build_world(app)
    liaison = sign_in("liaison")
    board = liaison.page
    queue = liaison.new_tab()
    queue.goto("/queue")
    expect(queue.locator("tbody")).to_contain_text("No incidents here.")
    keep_document(board)
    keep_document(queue)

    duty = sign_in("duty")
    reference = file_flash_incident(duty.page)
    expect(duty.page.locator(".flash.success")).to_contain_text(f"Filed {reference}")
    expect(duty.page.locator(".flash.success")).to_contain_text("notified L1")
    expect(duty.page.locator("h1")).to_contain_text("Z FLASH")
    expect(duty.page.locator(".facts").first).to_contain_text(f"MGRS {MGRS}")

    on_board = board.locator(f'tr[data-reference="{reference}"]')
    in_queue = queue.locator(f'tr[data-reference="{reference}"]')
    expect(on_board).to_contain_text("Z FLASH", timeout=POLL)
    expect(on_board).to_contain_text("Awaiting ack")
    expect(in_queue).to_contain_text("Step 1/2", timeout=POLL)
    assert still_same_document(board) and still_same_document(queue), "a table refreshed by reloading the page"

    in_queue.get_by_role("link", name=reference).click()
    expect(queue).to_have_url(re.compile(f"/incidents/{reference}$"))
    queue.get_by_role("button", name="Acknowledge").click()
    expect(queue.locator("h1 .state")).to_have_text("acknowledged")
    expect(on_board).to_contain_text("Acknowledged", timeout=POLL)
    assert still_same_document(board)

    duty.page.reload()
    acknowledged = duty.page.locator(".timeline li.event-acknowledged")
    expect(acknowledged).to_contain_text("acknowledged by liaison")
    expect(duty.page.locator(".next")).to_contain_text("Acknowledged by liaison")
    assert liaison.page_errors == [] and duty.page_errors == []


def test_countdown_runs_out_and_board_shows_next_step(app, scheduler, sign_in):
    world = build_world(app, ack_seconds=3)
    duty = sign_in("duty")
    # The sweep is held until the board shows "due now": with a 0.3-s sweep and a 0.5-s poll the
    # moment between the deadline and the next step can be shorter than the countdown's 1-s tick.
    scheduler.pause_job("sweep")
    reference = file_incident(app.test_client(), world, precedence="Z")["reference"]
    duty.page.goto("/")
    keep_document(duty.page)
    row = duty.page.locator(f'tr[data-reference="{reference}"]')
    countdown = row.locator("time.countdown")
    expect(row).to_contain_text("Step 1/2")
    expect(countdown).to_have_text(re.compile(r"^in [1-3] s$"))

    expect(countdown).to_have_text("due now", timeout=5_000)
    expect(countdown).to_have_class(re.compile(r"\bdue\b"))
    scheduler.resume_job("sweep")

    expect(row).to_contain_text("Step 2/2", timeout=POLL)
    expect(row).to_contain_text("L2")
    assert still_same_document(duty.page), "the board reloaded to show the next step"


def test_board_refreshes_itself_without_losing_its_filters(app, sign_in):
    world = build_world(app)
    duty = sign_in("duty")
    board = duty.page
    board.get_by_label("Z Flash").check()
    board.get_by_role("button", name="Filter").click()
    expect(board).to_have_url(re.compile(r"\?precedence=Z$"))
    keep_document(board)

    client = app.test_client()
    routine = file_incident(client, world, precedence="R")["reference"]
    flash = file_incident(client, world, precedence="Z")["reference"]
    expect(board.locator(f'tr[data-reference="{flash}"]')).to_be_visible(timeout=POLL)
    expect(board.locator(f'tr[data-reference="{routine}"]')).to_have_count(0)
    expect(board.get_by_label("Z Flash")).to_be_checked()
    assert still_same_document(board)
