"""On a call's page, the keyboard's focus lands on what "Call started", "Save" and "Call ended" did: the call's
heading, which says whether it is in progress or ended (the next Tab is what they said), or the agreed action just
added (the next Tab is its Done button), not the line at the page's top. Done with the keyboard, on a desk's screen
and on a phone held upright."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.browser.test_focus_lands import lands_on, press_enter_on
from tests.exchange_support import acknowledged_over_a_line
from tests.exchange_support import open_exchange as open_via_api
from tracker.db import session_scope
from tracker.models import AgreedAction, Call

pytestmark = pytest.mark.browser

ACTION = "Eastland sends the radar track of the aircraft"


def only(app, column):
    with session_scope(app) as session:
        [value] = session.scalars(select(column)).all()
        return value


@pytest.mark.parametrize("width", [1280, 390])
def test_a_call_started_saved_and_ended_keeps_the_focus_on_the_call(app, sign_in, live_server, width):
    world, client, reference = acknowledged_over_a_line(app)
    xid = open_via_api(client, world, reference)["id"]
    page = sign_in("liaison", width).page
    page.goto(f"/incidents/{reference}/calls/new?exchange={xid}")

    press_enter_on(page.get_by_role("button", name="Call started"))
    call_id = only(app, Call.id)
    expect(page).to_have_url(f"{live_server}/calls/{call_id}#call-{call_id}")
    expect(page.locator("p.flash.success")).to_contain_text("Call started")
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_be_focused()
    expect(heading).to_contain_text("in progress")
    page.keyboard.press("Tab")  # what they said, the next thing to write down
    expect(page.get_by_label("What they said")).to_be_focused()
    page.keyboard.type("They will send the track.")

    page.locator("#actions-0-text").focus()
    page.keyboard.type(ACTION)
    page.locator("#actions-0-due_in").select_option(label="2 h")
    press_enter_on(page.get_by_role("button", name="Save", exact=True))
    action_id = only(app, AgreedAction.id)
    expect(page).to_have_url(f"{live_server}/calls/{call_id}#action-{action_id}")
    expect(page.locator("p.flash.success")).to_contain_text("Call saved.")
    action = page.locator(f"#action-{action_id}")
    lands_on(action, ACTION)
    page.keyboard.press("Tab")  # on to the action's Done, not back through the header
    expect(action.get_by_role("button", name="Done")).to_be_focused()

    press_enter_on(page.get_by_role("button", name="Call ended"))
    expect(page).to_have_url(f"{live_server}/calls/{call_id}#call-{call_id}")
    expect(page.locator("p.flash.success")).to_contain_text("Call ended: on record.")
    lands_on(heading, "ended")
    page.keyboard.press("Tab")  # the action still to do is next
    expect(action.get_by_role("button", name="Done")).to_be_focused()
