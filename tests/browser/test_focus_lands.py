"""After a form on the board, My queue, the incident page or a call's page, the keyboard's focus lands on what was
acted on, or on the line that says what was done or refused: not at the page's top, with the whole header to Tab
through again (a desk officer's walk, keyboard and screen reader). Everything here is done with the keyboard."""

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.exchange_support import acknowledged_incident, add_counterpart_line
from tests.exchange_support import open_exchange as open_via_api
from tests.support import build_world, file_incident

pytestmark = pytest.mark.browser

# static/live.js draws every live part of the incident page again at its first poll, the exchange panel among them:
# counted here (a script of the test's, which the page's CSP would refuse), so that a test waits for a redraw rather
# than for a time.
COUNT_REDRAWS = "document.addEventListener('tracker:updated', () => { window.redrawn = (window.redrawn || 0) + 1; })"


def press_enter_on(control: Locator) -> None:
    """Tab's way to a control (focused, then Enter), as a keyboard user acts."""
    control.focus()
    expect(control).to_be_focused()
    control.press("Enter")


def counting_redraws(page: Page) -> Page:
    """The page, its live parts' redraws counted from its next navigation on."""
    page.add_init_script(COUNT_REDRAWS)
    return page


def lands_on(target: Locator, text: str) -> None:
    """The focus is on target, which says text and is on the screen."""
    expect(target).to_be_focused()
    expect(target).to_contain_text(text)
    expect(target).to_be_in_viewport()


def stays_after_a_redraw(page: Page, landed: Locator) -> None:
    """What took the focus keeps it once the page's refresh drew its part again (its twin, focusable as it was)."""
    page.wait_for_function("() => window.redrawn > 0")
    expect(landed).to_be_focused()


def test_acknowledged_on_the_board_the_focus_stays_on_its_row(app, sign_in, live_server):
    world = build_world(app)
    client = app.test_client()
    first, second = (file_incident(client, world, precedence=p)["reference"] for p in ("O", "P"))
    page = sign_in("liaison").page
    page.goto("/board")
    row = page.locator(f'tr[data-reference="{second}"]')
    press_enter_on(row.get_by_role("button", name=f"Acknowledge {second}"))

    expect(page).to_have_url(f"{live_server}/board#incident-{second}")
    expect(page.locator("p.flash.success")).to_contain_text(f"Acknowledged {second}")
    link = page.locator(f'tr[data-reference="{second}"]').get_by_role("link", name=second)
    expect(link).to_be_focused()
    expect(page.locator(f'tr[data-reference="{second}"]')).to_contain_text("Acknowledged")
    page.keyboard.press("Tab")  # on from the row, not from the header
    expect(page.locator("header.top").locator(":focus")).to_have_count(0)


def test_a_row_gone_from_my_queue_leaves_the_focus_on_the_line_saying_so(app, sign_in, live_server):
    world = build_world(app)
    client = app.test_client()
    first, second = (file_incident(client, world, precedence=p)["reference"] for p in ("O", "P"))
    page = sign_in("liaison", 390).page
    page.goto("/queue")
    press_enter_on(page.get_by_role("button", name=f"Acknowledge {first}"))

    expect(page).to_have_url(f"{live_server}/queue#incident-{first}")
    flash = page.locator("p.flash.success")
    expect(flash).to_contain_text(f"Acknowledged {first}")
    expect(flash).to_be_focused()
    expect(flash).to_be_in_viewport()
    expect(page.locator(f'tr[data-reference="{second}"]')).to_be_visible()


def test_a_refused_acknowledgement_puts_the_focus_on_why(app, sign_in):
    """Someone acknowledged first: the page comes back with the note typed offered as a comment, and the focus on
    the message above it that says why (a 422, no redirect); Tab then reaches the comment."""
    world = build_world(app)
    client = app.test_client()
    reference = file_incident(client, world)["reference"]
    page = sign_in("liaison").page
    page.goto(f"/incidents/{reference}")
    page.get_by_text("Add a note").click()
    page.get_by_label("Note (optional)").fill("Calling them now")
    taken = client.post(f"/api/v1/incidents/{reference}/acknowledge", json={}, headers=world.auth("supervisor"))
    assert taken.status_code == 200, taken.get_json()
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        press_enter_on(page.get_by_role("button", name="Acknowledge", exact=True))
    assert answer.value.status == 422

    why = page.locator('form p.error[role="alert"]')
    expect(why).to_contain_text("already acknowledged")
    expect(why).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_label("Comment")).to_be_focused()
    expect(page.get_by_label("Comment")).to_have_value("Calling them now")


def test_a_refusal_told_by_a_flash_line_takes_the_focus(app, sign_in, live_server):
    """An acknowledgement refused without a note to keep (the incident was resolved meanwhile): the flash line
    saying so has the focus, not the row it was about."""
    world = build_world(app)
    client = app.test_client()
    reference = file_incident(client, world)["reference"]
    app.config["LIVE_REFRESH_SECONDS"] = 3600  # the page is not redrawn meanwhile: its button stays
    page = sign_in("supervisor").page
    page.goto(f"/incidents/{reference}")
    button = page.get_by_role("button", name="Acknowledge", exact=True)
    taken = client.post(f"/api/v1/incidents/{reference}/acknowledge", json={}, headers=world.auth("liaison"))
    assert taken.status_code == 200, taken.get_json()
    press_enter_on(button)

    refused = page.locator("p.flash.error")
    expect(refused).to_contain_text("already acknowledged")
    expect(refused).to_be_focused()


def test_approved_on_the_exchange_panel_the_focus_is_on_the_message(app, sign_in, live_server):
    world = build_world(app)
    add_counterpart_line(app, world)
    client = app.test_client()
    reference = acknowledged_incident(client, world)
    opened = open_via_api(client, world, reference, release=False)  # its notice waits for a second person
    page = counting_redraws(sign_in("supervisor", 390).page)
    page.goto(f"/incidents/{reference}#exchanges")
    exchange = page.locator(f'article[data-exchange="{opened["id"]}"]')
    press_enter_on(exchange.get_by_role("button", name="Approve"))

    expect(page.locator("p.flash.success")).to_contain_text("Text approved")
    row = page.locator("table.exchange-messages tr:has(.draft-status)")
    expect(row).to_be_focused()
    expect(row).to_be_in_viewport()
    assert page.url.endswith(f"#{row.get_attribute('id')}"), page.url
    stays_after_a_redraw(page, row)  # it fell to the page's body, seconds after landing


@pytest.mark.parametrize("path", ["/board", "/file"])
def test_a_fragment_that_is_no_percent_encoding_stops_no_script(app, sign_in, path):
    """An address typed or pasted with a broken fragment (#%E0): decodeURIComponent threw a URIError in land() and in
    the filing form's jump to a field, stopping the page's script there."""
    build_world(app)
    duty = sign_in("duty")
    duty.page.goto(f"{path}#%E0")
    expect(duty.page.locator("main")).to_be_visible()
    duty.page.evaluate("() => new Promise(requestAnimationFrame)")  # the page's scripts have run
    assert not duty.page_errors, duty.page_errors


def test_a_summary_that_would_be_refused_takes_neither_the_focus_nor_the_scroll(app, sign_in, live_server):
    """Its standing "Would be refused" box was drawn as a refusal (role alert): every load of the incident page
    focused it, thousands of pixels down past the heading and the Acknowledge button, and took the focus from
    where a redirect sent it."""
    world = build_world(app)
    client = app.test_client()
    narrative = "MARKER-NARR-7731: fighter closed to 30 m of our patrol aircraft."
    reference = file_incident(client, world, narrative=narrative)["reference"]
    headers = world.auth("liaison")
    drafted = client.post(f"/api/v1/incidents/{reference}/summaries", json={}, headers=headers)
    assert drafted.status_code == 201, drafted.get_json()
    summary = drafted.get_json()
    body = {"text": f"Note: {narrative}", "version": summary["version"]}
    typed = client.patch(f"/api/v1/summaries/{summary['id']}", json=body, headers=headers)
    assert typed.status_code == 200 and typed.get_json()["problems"], typed.get_json()
    page = sign_in("duty", 390).page  # a phone, where it opened 5,200 px down
    page.goto(f"/incidents/{reference}")
    expect(page.locator("article.summary .flash.error")).to_contain_text("Would be refused")
    page.evaluate("() => new Promise(requestAnimationFrame)")  # the page's scripts have run
    assert page.evaluate("() => window.scrollY") == 0, "the page opened scrolled down"
    assert page.evaluate("() => document.activeElement === document.body"), "nothing took the focus"
