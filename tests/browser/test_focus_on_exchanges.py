"""On the exchange panel of the incident page, the keyboard's focus lands on what a form acted on: the exchange
opened or moved (its heading, which says its state), the message recorded, drafted or whose receipt was logged
(its row), not on the whole panel; and it stays there when the panel is redrawn by the page's own refresh.
Everything here is done with the keyboard, on a desk's screen and on a phone."""

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.test_focus_lands import counting_redraws, lands_on, press_enter_on, stays_after_a_redraw
from tests.exchange_support import acknowledged_over_a_line, api
from tests.exchange_support import open_exchange as open_via_api

pytestmark = pytest.mark.browser


def on_the_incident_page(person, reference: str) -> Page:
    page = counting_redraws(person.page)
    page.goto(f"/incidents/{reference}#exchanges")
    return page


def type_into(field: Locator, text: str) -> None:
    field.focus()
    field.page.keyboard.type(text)


@pytest.mark.parametrize("width", [1280, 390])
def test_an_exchange_opened_and_a_message_recorded_take_the_focus(app, sign_in, live_server, width):
    world, client, reference = acknowledged_over_a_line(app)
    page = on_the_incident_page(sign_in("liaison", width), reference)

    press_enter_on(page.get_by_role("button", name="Open exchange"))
    [opened] = api(client, world, "GET", f"/incidents/{reference}/exchanges")
    expect(page).to_have_url(f"{live_server}/incidents/{reference}#exchange-{opened['id']}-heading")
    expect(page.locator("p.flash.success")).to_contain_text("Exchange opened.")
    exchange = page.locator(f'article[data-exchange="{opened["id"]}"]')
    heading = exchange.get_by_role("heading", level=3)
    lands_on(heading, "opened, notice not sent yet")  # its notice waits for a second person
    stays_after_a_redraw(page, heading)
    page.keyboard.press("Tab")  # on into the exchange, not the panel's top or the header
    expect(exchange.locator(":focus")).to_have_count(1)

    press_enter_on(exchange.locator("summary", has_text="Record a message"))
    type_into(exchange.get_by_label("Message", exact=True), "Eastland calls back at 1600Z.")
    press_enter_on(exchange.get_by_role("button", name="Record message"))
    [message] = api(client, world, "GET", f"/exchanges/{opened['id']}")["messages"]
    expect(page).to_have_url(f"{live_server}/incidents/{reference}#message-{message['id']}")
    expect(page.locator("p.flash.success")).to_contain_text("Message from the other side recorded.")
    row = page.locator(f"#message-{message['id']}")
    lands_on(row, "Eastland calls back at 1600Z.")
    stays_after_a_redraw(page, row)


def test_a_request_lands_on_its_draft_and_a_close_on_the_exchange_closed(app, sign_in, live_server):
    """A request of ours is a draft until approved and sent: the focus is on its text, the next thing to act on.
    Closing is asked first; done, the focus is on the exchange's heading, which says it is closed."""
    world, client, reference = acknowledged_over_a_line(app)
    xid = open_via_api(client, world, reference)["id"]
    page = on_the_incident_page(sign_in("liaison", 390), reference)
    exchange = page.locator(f'article[data-exchange="{xid}"]')

    type_into(exchange.get_by_label("Text sent, or what the other side said"), "Explain the flight of 0930Z.")
    press_enter_on(exchange.get_by_role("button", name="Request explanation"))
    drafted = api(client, world, "GET", f"/exchanges/{xid}")["messages"][-1]
    assert drafted["status"] == "draft", drafted
    expect(page).to_have_url(f"{live_server}/incidents/{reference}#message-{drafted['id']}")
    row = page.locator(f"#message-{drafted['id']}")
    lands_on(row, "draft: waiting for approval")

    press_enter_on(exchange.get_by_role("button", name="Close exchange"))
    press_enter_on(page.get_by_role("button", name="Close", exact=True))  # the page asking first
    expect(page).to_have_url(f"{live_server}/incidents/{reference}#exchange-{xid}-heading")
    heading = page.locator(f"#exchange-{xid}-heading")
    lands_on(heading, "closed")
    stays_after_a_redraw(page, heading)


def test_a_receipt_logged_lands_on_the_message(app, sign_in, live_server):
    world, client, reference = acknowledged_over_a_line(app)
    exchange = open_via_api(client, world, reference)
    [notice] = exchange["messages"]
    page = on_the_incident_page(sign_in("liaison", 1280), reference)
    row = page.locator(f"#message-{notice['id']}")

    press_enter_on(row.locator("summary", has_text="Log their receipt"))
    type_into(row.get_by_label("Confirmed by (name, rank, post)"), "Maj Petrov, duty officer")
    press_enter_on(row.get_by_role("button", name="Record receipt"))
    expect(page).to_have_url(f"{live_server}/incidents/{reference}#message-{notice['id']}")
    expect(page.locator("p.flash.success")).to_contain_text("Receipt of serial")
    expect(row).to_be_focused()
    expect(row).to_contain_text("receipt confirmed by Maj Petrov")
    stays_after_a_redraw(page, row)
