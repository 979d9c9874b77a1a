"""The board's own refresh: it keeps the keyboard's place (on the row in its place when its row left), a session
that ended sends the person to the sign-in page instead of pasting that page into the table, and a refresh on its way
when a form is sent takes nothing from the form's answer."""

import contextlib
import re

import pytest
from playwright.sync_api import APIResponse, Route, expect
from playwright.sync_api import Error as PlaywrightError

from tests.exchange_support import acknowledged_incident, add_counterpart_line, drafts, open_exchange
from tests.support import build_world, file_incident
from tracker.db import session_scope
from tracker.models import ChannelHealth, ContactChannel

pytestmark = pytest.mark.browser
POLL = 10_000  # ms: the tables poll every 0.5 s here (conftest.py); leave room for a slow machine


def test_refresh_keeps_focus_on_the_row_the_keyboard_is_on(app, sign_in):
    world = build_world(app)
    first = file_incident(app.test_client(), world, precedence="Z")["reference"]
    liaison = sign_in("liaison")
    page = liaison.page
    page.goto("/board?status=open")
    expect(page.locator(f'tr[data-reference="{first}"]')).to_be_visible()
    page.locator(f'tr[data-reference="{first}"] a').focus()
    second = file_incident(app.test_client(), world, precedence="R")["reference"]
    expect(page.locator(f'tr[data-reference="{second}"]')).to_be_visible(timeout=POLL)  # the table changed
    expect(page.get_by_role("status")).to_have_text(f"{second} new: ROUTINE, Awaiting ack.")  # said to a screen reader
    focused = page.evaluate(
        "document.activeElement.closest('tr') && document.activeElement.closest('tr').dataset.reference"
    )
    assert focused == first, "after the refresh the same row's link still has the focus"
    # Acknowledged elsewhere, the row leaves the open ones: the keyboard goes to the row now in its place, not the top,
    # and to its link: on its Acknowledge button, the Enter meant for the row that left would acknowledge this one.
    page.get_by_role("button", name=f"Acknowledge {first}").focus()
    answer = app.test_client().post(f"/api/v1/incidents/{first}/acknowledge", json={}, headers=world.auth("supervisor"))
    assert answer.status_code == 200, answer.get_json()
    expect(page.get_by_role("status")).to_have_text(f"{first} left the list.", timeout=POLL)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/incidents/{second}$"))


def test_a_row_acknowledged_elsewhere_keeps_the_focus_on_itself_not_on_the_next_rows_button(app, sign_in):
    """Acknowledged by someone else, a row on the whole board stays but sorts below the open ones of its
    precedence and loses its Acknowledge button: the focus that was on that button goes to the row's own link,
    not to the button of whichever incident now sits where it was."""
    world = build_world(app)
    first, second = (file_incident(app.test_client(), world, precedence="Z")["reference"] for _ in range(2))
    page = sign_in("liaison").page
    page.goto("/board")
    page.get_by_role("button", name=f"Acknowledge {first}").focus()
    answer = app.test_client().post(f"/api/v1/incidents/{first}/acknowledge", json={}, headers=world.auth("supervisor"))
    assert answer.status_code == 200, answer.get_json()
    expect(page.get_by_role("status")).to_have_text(f"{first} now Acknowledged.", timeout=POLL)
    expect(page.locator("tbody tr[data-reference]").first).to_have_attribute("data-reference", second)
    focused = page.evaluate("[document.activeElement.tagName, document.activeElement.closest('tr')?.dataset.reference]")
    assert focused == ["A", first], f"the focus left the row acknowledged elsewhere: {focused}"


def test_a_board_whose_session_ended_goes_to_the_sign_in_page(app, sign_in, live_server):
    build_world(app)
    liaison = sign_in("liaison")
    board = liaison.page
    other_tab = liaison.new_tab()
    other_tab.goto("/")
    other_tab.get_by_role("button", name="Sign out").click()
    expect(board).to_have_url(re.compile(r"/signin"), timeout=POLL)
    expect(board.locator("table")).to_have_count(0)
    expect(board.get_by_label("Username")).to_be_visible()


def test_refresh_keeps_a_rows_note_open(app, sign_in):
    """Someone opened a row's "Add a note" and looked away before typing: a refresh keeps it open."""
    world = build_world(app)
    first = file_incident(app.test_client(), world, precedence="Z")["reference"]
    page = sign_in("liaison", width=390).page
    page.goto("/queue")
    fold = page.locator(f'tr[data-reference="{first}"] details.ack-note')
    fold.locator("summary").click()
    expect(fold).to_have_attribute("open", "")
    page.locator("h1").click()  # the focus leaves the row
    second = file_incident(app.test_client(), world, precedence="R")["reference"]
    expect(page.locator(f'tr[data-reference="{second}"]')).to_be_visible(timeout=POLL)  # the table changed
    expect(page.locator(f'tr[data-reference="{first}"] details.ack-note')).to_have_attribute("open", "")
    expect(page.locator(f'tr[data-reference="{second}"] details.ack-note')).not_to_have_attribute("open", "")


def test_a_refused_note_holds_its_row_only_and_the_rest_of_the_board_stays_live(app, sign_in):
    """A refused note left beside a row's Acknowledge button stopped the whole table's refresh (found in review): a
    duty officer saw no new incident and no acknowledgement elsewhere. Only that row is held now, as typed, and says
    so; a new incident still comes in and a row acknowledged elsewhere still leaves."""
    world = build_world(app)
    client = app.test_client()
    noted, other = (file_incident(client, world, precedence="O")["reference"] for _ in range(2))
    liaison = sign_in("liaison")
    page = liaison.page
    page.goto("/board?status=open")
    row = page.locator(f'tr[data-reference="{noted}"]')
    row.get_by_text("Add a note").click()
    row.get_by_label("Note (optional)").fill("Hotline busy\x07")
    row.get_by_role("button", name=f"Acknowledge {noted}").click()
    note = row.get_by_label("Note (optional)")
    expect(row.locator("small.error")).to_contain_text("control character")
    page.locator("h1").click()  # the focus leaves the row: its refused note alone holds it

    new = file_incident(client, world, precedence="Z")["reference"]
    expect(page.locator(f'tr[data-reference="{new}"]')).to_be_visible(timeout=POLL)
    answer = client.post(f"/api/v1/incidents/{other}/acknowledge", json={}, headers=world.auth("supervisor"))
    assert answer.status_code == 200, answer.get_json()
    expect(page.locator(f'tr[data-reference="{other}"]')).to_have_count(0, timeout=POLL)
    expect(note).to_have_value("Hotline busy\x07")  # the same field, as typed, its problem beside it
    expect(row.locator("small.error")).to_contain_text("control character")
    expect(row.locator("[data-held]")).to_have_text(
        "This row is not refreshed while it holds your note; the other rows are."
    )
    expect(row.locator("[data-held]")).to_be_visible()
    expect(page.locator("[data-held]")).to_have_count(1)
    expect(page.locator(f'tbody:has(tr[data-reference="{noted}"]) .empty')).to_have_count(0)
    assert liaison.page_errors == [], liaison.page_errors


def test_a_refresh_answered_after_a_form_was_sent_leaves_the_forms_answer(app, sign_in):
    """An answer that writes the session cookie writes it as its request carried it, and the cookie keeps the line
    the next page says of what a form did ("Comment added ...") till it is shown: a refresh asked for before a form
    was sent and answered after the form's answer wrote back the cookie of before, and the page the form led to said
    nothing of what was done (a browser test lost its "Text drafted" so, 1 run in 3 with the refresh at 0.5 s).
    live.js gives up its refreshes on their way when a form is sent. A refresh writes the cookie only when it changed
    the session (web/session_cookie.py): here it comes from another browser, as one from another address would (a
    phone gone from Wi-Fi to its mobile network), and Flask-Login marks the session not fresh. It is answered at the
    worst moment: after the form's answer wrote the cookie, before the browser follows it."""
    world = build_world(app)
    reference = file_incident(app.test_client(), world)["reference"]
    page = sign_in("duty", through_form=True).page  # its session knows this browser (Flask-Login)
    page.goto(f"/incidents/{reference}")
    refreshes: list[tuple[Route, APIResponse]] = []

    def held_from_elsewhere(route: Route) -> None:
        """Answered at once, as asked from another browser (its session changed: the cookie is written), and held."""
        elsewhere = {**route.request.headers, "user-agent": "Another browser/1.0"}
        refreshes.append((route, route.fetch(headers=elsewhere)))

    page.route("**/live", held_from_elsewhere)

    def refresh_answered_in_between(route: Route) -> None:
        sent = route.fetch(max_redirects=0)  # the form's answer: the browser has its cookie
        for held, answer in refreshes:
            with contextlib.suppress(PlaywrightError):  # the page gave it up
                held.fulfill(response=answer)
        route.fulfill(status=sent.status, headers={"Location": sent.headers["location"]})  # the cookie written

    with page.expect_request("**/live"):  # a refresh on its way
        pass
    page.route("**/comments", refresh_answered_in_between)
    page.get_by_label("Comment").fill("Radar site 4 confirms two fighters.")
    page.get_by_role("button", name="Add comment").click()
    expect(page.locator("p.flash.success")).to_have_text(f"Comment added to {reference}.")
    expect(page.locator("ol.timeline li").first).to_contain_text("Radar site 4 confirms two fighters.")
    signing = [answer.headers.get("set-cookie", "") for _, answer in refreshes]
    assert signing and all("session=" in said for said in signing), f"the refresh held signs the cookie: {signing}"


def test_a_refresh_of_another_tab_answered_after_a_form_was_sent_leaves_the_forms_answer(app, sign_in):
    """live.js guards only its own tab, and the cookie is one per browser: the board open in another tab refreshed,
    and its answer, written after the form's, wrote back the cookie of before, the form's line with it. A page's own
    request now leaves the cookie as the browser holds it (web/session_cookie.py). The other tab's refresh is
    answered at the worst moment: after the form's answer wrote the cookie, before the browser follows it."""
    world = build_world(app)
    reference = file_incident(app.test_client(), world)["reference"]
    duty = sign_in("duty")
    page, board = duty.page, duty.new_tab()
    page.goto(f"/incidents/{reference}")
    board.goto("/board")
    held: list[tuple[Route, APIResponse]] = []
    board.route("**/board/rows*", lambda route: held.append((route, route.fetch())))

    def other_tab_answered_in_between(route: Route) -> None:
        sent = route.fetch(max_redirects=0)
        for refresh, answer in held:
            with contextlib.suppress(PlaywrightError):
                refresh.fulfill(response=answer)
        route.fulfill(status=sent.status, headers={"Location": sent.headers["location"]})

    with board.expect_request("**/board/rows*", timeout=POLL):  # the other tab's refresh on its way
        pass
    page.route("**/comments", other_tab_answered_in_between)
    page.get_by_label("Comment").fill("Radar site 4 confirms two fighters.")
    page.get_by_role("button", name="Add comment").click()
    expect(page.locator("p.flash.success")).to_have_text(f"Comment added to {reference}.")
    assert held, "the other tab's refresh was answered in between"
    assert duty.page_errors == [], duty.page_errors


def test_a_text_that_comes_to_wait_for_my_approval_shows_on_the_open_board(app, sign_in):
    """The board's notices refresh as its rows do (web/board.py board_notices): a supervisor who keeps the board
    open sees a text waiting for approval, and a line gone down, without a reload."""
    world = build_world(app)
    add_counterpart_line(app, world)
    client = app.test_client()
    reference = acknowledged_incident(client, world)
    page = sign_in("supervisor").page
    page.goto("/board")
    expect(page.get_by_role("heading", name="Waiting for my approval")).to_have_count(0)
    opened = open_exchange(client, world, reference, release=False)
    (notice,) = drafts(client, world, opened["id"])
    expect(page.locator(f'#approvals li[data-message="{notice["id"]}"]')).to_be_visible(timeout=POLL)
    with session_scope(app) as session:
        session.get_one(ContactChannel, world.channels["L1"]).health = ChannelHealth.DOWN
    expect(page.get_by_role("heading", name="1 line not confirmed working")).to_be_visible(timeout=POLL)
