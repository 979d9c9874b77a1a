"""One tap to acknowledge on a phone (issue 16, acceptance 1), at 390x844: the incident page's Acknowledge
button is inside the first screen; a liaison officer acknowledges a row of My queue with one tap, the rest
with "Acknowledge all mine" and its confirm, and another incident from the link in the e-mail it got. On
the way, a new FLASH counts in My queue's tab title and beeps once the sound is switched on."""

import email
import re
from email import policy

import pytest
from playwright.sync_api import Page, expect

from tests.browser_support import a_refresh, sideways
from tests.support import build_world, file_incident, outbox_files
from tracker import jobs

pytestmark = pytest.mark.browser

PHONE, SCREEN_HEIGHT = 390, 844
POLL = 10_000  # ms: the lists poll every 0.5 s here (conftest.py); leave room for a slow machine


def assert_no_sideways_scroll(page: Page, what: str) -> None:
    overflow = sideways(page)
    assert overflow <= 0, f"{what} scrolls sideways on a phone by {overflow} px at {PHONE}"


def statuses(client, world, references: list[str]) -> dict[str, str]:
    answers = {r: client.get(f"/api/v1/incidents/{r}", headers=world.auth("supervisor")) for r in references}
    return {r: answer.get_json()["status"] for r, answer in answers.items()}


def ack_link_in_the_mail(app, reference: str) -> str:
    """The acknowledge link of the e-mail about reference in the outbox, as a person would click it."""
    for path in outbox_files(app):
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        if reference in str(message["Subject"]):
            text = message.get_body(("plain",)).get_content()
            found = re.search(r"https?://\S+/links/ack/[A-Za-z0-9_\-.]+", text)
            assert found, f"no acknowledge link in the message about {reference}: {text[:800]}"
            return found[0]
    raise AssertionError(f"no message about {reference} in the outbox: {[p.name for p in outbox_files(app)]}")


def test_a_liaison_officer_acknowledges_from_my_queue_in_one_tap_and_all_mine_after_a_confirm(
    app, sign_in, live_server
):
    world = build_world(app)
    client = app.test_client()
    first, *others = (file_incident(client, world, precedence=p)["reference"] for p in ("O", "P", "R"))
    liaison = sign_in("liaison", PHONE)
    page = liaison.page

    page.goto(f"/incidents/{first}")
    button = page.get_by_role("button", name="Acknowledge", exact=True)
    box = button.bounding_box()
    assert box and box["y"] + box["height"] <= SCREEN_HEIGHT, f"Acknowledge below the first screen: {box}"
    assert_no_sideways_scroll(page, "the incident page")

    page.goto("/queue")
    page.get_by_label("Beep on a new FLASH or exhausted incident").check()
    assert page.evaluate("localStorage.getItem('tracker.sound')") == "on"
    flash = file_incident(client, world, precedence="Z")["reference"]
    expect(page.locator(f'tr[data-reference="{flash}"]')).to_be_visible(timeout=POLL)
    expect(page).to_have_title("(1) My queue: 4 awaiting acknowledgement · Incident tracker")  # recounted too
    beeps = page.locator("[data-sound-toggle]").get_attribute("data-beeps")
    assert int(beeps or 0) >= 2, f"a sample beep when switched on, then one for the new FLASH: {beeps}"

    row = page.locator(f'tr[data-reference="{first}"]')
    row.get_by_role("button", name=f"Acknowledge {first}").click()  # the one tap
    expect(page).to_have_url(f"{live_server}/queue#incident-{first}")  # at its row, gone: the flash has the focus
    expect(page.locator(".flash.success")).to_contain_text(f"Acknowledged {first}")
    expect(row).to_have_count(0)
    assert_no_sideways_scroll(page, "My queue")

    page.get_by_role("link", name="Acknowledge all mine").click()
    listed = page.locator(".ack-list li")
    expect(listed).to_have_count(3)
    assert [item.get_attribute("data-reference") for item in listed.all()] == [flash, *others], "FLASH first"
    assert statuses(client, world, [flash, *others]) == dict.fromkeys([flash, *others], "open"), "nothing yet"
    assert_no_sideways_scroll(page, "the confirm step")

    page.get_by_role("button", name="Acknowledge these 3").click()
    expect(page).to_have_url(f"{live_server}/queue")
    expect(page.locator(".flash.success")).to_contain_text("Acknowledged 3 incidents")
    expect(page.locator("table.incidents tbody")).to_contain_text("No incidents here.")
    assert statuses(client, world, [first, flash, *others]) == dict.fromkeys([first, flash, *others], "acknowledged")
    assert liaison.page_errors == [], liaison.page_errors


def test_a_liaison_officer_acknowledges_from_the_link_in_the_mail(app, open_browser):
    world = build_world(app)
    client = app.test_client()
    reference = file_incident(client, world)["reference"]
    assert jobs.deliver(app) >= 1, "the call to act went out"
    link = ack_link_in_the_mail(app, reference)

    reader = open_browser(PHONE)  # the mail is read on the phone, no sign-in needed
    page = reader.page
    page.goto(link)
    expect(page.locator("h1")).to_have_text(f"Acknowledge incident {reference}?")
    button = page.get_by_role("button", name=f"Acknowledge {reference}")
    box = button.bounding_box()
    assert box and box["y"] + box["height"] <= SCREEN_HEIGHT and box["height"] >= 44, f"a large button: {box}"
    assert_no_sideways_scroll(page, "the link page")
    button.click()
    expect(page.locator("h1")).to_contain_text(f"{reference} acknowledged")
    assert statuses(client, world, [reference]) == {reference: "acknowledged"}
    assert reader.page_errors == [], reader.page_errors


def test_a_note_refused_on_a_phone_stays_typed_beside_the_button_through_the_refreshes(app, sign_in, live_server):
    """A control character pasted into the note of a row of My queue: the queue comes back with the note open, as
    typed, its problem beside it, inside the phone's width, and the rows' refresh leaves it there (the redirect
    it was lost the note); the corrected note acknowledges."""
    world = build_world(app)
    reference = file_incident(app.test_client(), world)["reference"]
    page = sign_in("liaison", PHONE).page
    page.goto("/queue")
    row = page.locator(f'tr[data-reference="{reference}"]')
    row.get_by_text("Add a note").click()
    note = row.get_by_label("Note (optional)")
    note.fill("Calling them now\x07")
    row.get_by_role("button", name=f"Acknowledge {reference}").click()

    problem = row.locator("small.error")
    expect(problem).to_contain_text("control character")
    expect(note).to_have_value("Calling them now\x07")
    expect(note).to_have_attribute("aria-invalid", "true")
    assert_no_sideways_scroll(page, "My queue with a refused note")
    a_refresh(page)  # a refresh of the rows comes and goes
    expect(note).to_have_value("Calling them now\x07")
    expect(problem).to_be_visible()
    assert statuses(app.test_client(), world, [reference]) == {reference: "open"}

    note.fill("Calling them now")
    row.get_by_role("button", name=f"Acknowledge {reference}").click()
    expect(page).to_have_url(f"{live_server}/queue#incident-{reference}")
    expect(page.locator(".flash.success")).to_contain_text(f"Acknowledged {reference}")
    assert statuses(app.test_client(), world, [reference]) == {reference: "acknowledged"}
