"""The filing form on a phone (issue 16): the first field has focus, nothing is chosen for the officer,
the optional blocks are folded so that the button follows the required fields, the sector follows the
position as it is typed and warns when another one is chosen, and the reporting unit is remembered."""

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from tests.support import build_world
from tracker.db import session_scope
from tracker.models import Incident

pytestmark = pytest.mark.browser

# The folded blocks between the narrative and the button, their summaries a line or two each: less than
# half a phone's screen.
FOLDED_BLOCKS_PX = 844 // 2
POSITION = "54.412, 22.871"


def fill(page, occurred: str, unit: str, category: str, precedence: str, domain: str | None = None) -> None:
    """Fill the filing form's required fields (the domain first, when given: it decides the categories offered)."""
    page.get_by_label("Occurred at", exact=False).fill(occurred)
    page.get_by_role("textbox", name="Reporting unit").fill(unit)
    if domain is not None:
        page.get_by_role("combobox", name="Domain").select_option(domain)
    page.get_by_role("combobox", name="Category").select_option(category)
    page.get_by_role("combobox", name="Precedence").select_option(precedence)


def file_stray_fire(page) -> None:
    """File a land incident with its position through the form, and land on its page."""
    page.goto("/incidents/new")
    fill(page, "0605Z", "Post 9", "stray_fire", "R", domain="land")
    page.get_by_role("textbox", name="Position (").fill(POSITION)
    page.get_by_role("textbox", name="Narrative").fill("Stray rounds landed near the post.")
    page.get_by_role("button", name="File incident").click()
    expect(page).to_have_url(re.compile(r"/incidents/INC-[\w-]+$"))


def test_a_duty_officer_files_on_a_phone_without_the_forms_traps(app, sign_in):
    build_world(app)
    duty = sign_in("duty", 390)
    page = duty.page
    page.goto("/incidents/new")
    expect(page.get_by_label("Occurred at", exact=False)).to_be_focused()
    category, sector = page.get_by_role("combobox", name="Category"), page.get_by_role("combobox", name="Sector")
    expect(category).to_have_value("")
    expect(page.get_by_role("textbox", name="Reporting unit")).to_have_value("")
    expect(page.locator('[data-hint-for="position"]')).to_have_text("")  # no example where the read-back stands

    opened = page.locator("form details[data-open-wide]").evaluate_all("blocks => blocks.map(d => d.open)")
    assert opened == [False] * 4, f"the optional blocks are folded on a phone: {opened}"
    duty.screenshot("filing-form-390")  # the form at 390x844, for the README and reviewers
    narrative = page.get_by_role("textbox", name="Narrative").bounding_box()
    button = page.get_by_role("button", name="File incident").bounding_box()
    gap = button["y"] - (narrative["y"] + narrative["height"])
    assert 0 < gap < FOLDED_BLOCKS_PX, f"{gap:.0f} px of optional blocks between the narrative and the button"

    page.get_by_role("textbox", name="Position (").fill("54.412, 22.871")
    expect(sector).to_have_value("North")  # the position's sector, as typed
    sector_line = page.locator('[data-hint-for="sector"]')
    expect(sector_line).to_have_text("The position lies in North.")
    sector.select_option("South")
    expect(sector_line).to_have_class(re.compile(r"\bwarning\b"))
    expect(sector_line).to_contain_text("The position lies in North, not in South")
    sector.select_option("North")
    expect(sector_line).not_to_have_class(re.compile(r"\bwarning\b"))

    page.get_by_role("textbox", name="Reporting unit").fill("3rd Air Defence Battalion")
    page.get_by_role("combobox", name="Precedence").select_option("O")
    page.get_by_role("button", name="File incident").click()
    expect(page.locator("#category-error")).to_have_text("Choose the category.")  # beside the field, nothing filed
    category.select_option("airspace_violation")
    page.get_by_role("button", name="File incident").click()
    expect(page).to_have_url(re.compile(r"/incidents/INC-[\w-]+$"))
    with session_scope(app) as session:  # chosen again as the position's own: it follows the position
        assert tuple(session.execute(select(Incident.sector, Incident.sector_given)).one()) == ("North", False)

    page.goto("/incidents/new")
    expect(page.get_by_role("textbox", name="Reporting unit")).to_have_value("3rd Air Defence Battalion")
    assert duty.page_errors == []


def test_a_sector_chosen_other_than_the_positions_is_filed_as_given_by_hand(app, sign_in):
    """The script keeps the sector on the position's own and says so (sector_followed); one chosen otherwise
    is given by hand, and an amendment of the position leaves it."""
    build_world(app)
    duty = sign_in("duty", 1280)
    page = duty.page
    page.goto("/incidents/new")
    fill(page, "271405ZNOV26", "Border Guard Post 7", "airspace_violation", "O")
    page.get_by_role("textbox", name="Position (").fill("54.412, 22.871")
    sector = page.get_by_role("combobox", name="Sector")
    expect(sector).to_have_value("North")
    expect(page.locator('input[name="sector_followed"]')).to_have_value("1")
    sector.select_option("South")
    expect(page.locator('input[name="sector_followed"]')).to_have_value("")
    page.get_by_role("button", name="File incident").click()
    expect(page).to_have_url(re.compile(r"/incidents/INC-[\w-]+$"))
    with session_scope(app) as session:
        assert tuple(session.execute(select(Incident.sector, Incident.sector_given)).one()) == ("South", True)
    assert duty.page_errors == []


def test_a_filed_form_come_back_to_and_sent_again_files_once_and_follows_what_it_holds(app, sign_in):
    """Back after filing: the browser fetched the form afresh (a new one-time key) and refilled what was typed; sent
    again, the same incident was filed twice, and the form offered the categories of the domain it was served with
    while it showed another, with a read-back of a time it no longer held."""
    build_world(app)
    duty = sign_in("duty", 390)
    page = duty.page
    file_stray_fire(page)
    first = page.url

    page.go_back()
    expect(page).to_have_url(re.compile(r"/incidents/new$"))
    domain, category = page.get_by_role("combobox", name="Domain"), page.get_by_role("combobox", name="Category")
    if domain.input_value() == "land":  # refilled by the browser: the categories are the land's
        options = category.locator("option").evaluate_all("os => os.map(o => o.value)")
        assert "stray_fire" in options and "unsafe_intercept" not in options, options
        # The category and the position come back as sent too: "Choose the category." was all a resend said.
        expect(category).to_have_value("stray_fire")
        expect(page.get_by_role("textbox", name="Position (")).to_have_value(POSITION)
    domain.select_option("land")
    category.select_option("stray_fire")
    page.get_by_role("button", name="File incident").click()
    expect(page).to_have_url(first)
    expect(page.locator("[data-flashes]")).to_contain_text("This form was filed already")
    with session_scope(app) as session:
        assert session.scalar(select(func.count(Incident.id))) == 1, "filed once"


def test_a_slow_answer_for_a_position_replaced_since_does_not_read_it_back(app, sign_in):
    """On a slow network the read-back of the first position typed came after the second's, and the form read back
    (and took the sector of) a position no longer in the field."""
    build_world(app)
    page = sign_in("duty", 390).page
    page.add_init_script(
        """(() => {  // the answer for the first position comes 1.2 s late, after the second's
          const fetch = window.fetch;
          window.fetch = (url, options) => String(url).includes("position=54.412")
            ? new Promise(done => setTimeout(() => done(fetch(url, options)), 1200))
            : fetch(url, options);
        })();"""
    )
    page.goto("/incidents/new")
    position, sector = page.get_by_role("textbox", name="Position ("), page.get_by_role("combobox", name="Sector")
    position.fill("54.412, 22.871")  # North
    page.wait_for_timeout(500)  # asked (the form waits 300 ms after typing)
    position.fill("54 06 07N 023 18 40E")  # South
    expect(sector).to_have_value("South")
    page.wait_for_timeout(1500)  # the late answer has come
    expect(sector).to_have_value("South")
    expect(page.locator('[data-hint-for="position"]')).not_to_contain_text("54.412")


def test_back_to_a_form_opened_anew_after_a_filing_gets_nothing_of_that_filing(app, sign_in):
    """Filed A, then a new form B typed in, left and come back to: B was filled with A's category and position,
    and sent, answered "filed already" with A, and B was never filed."""
    build_world(app)
    page = sign_in("duty", 390).page
    file_stray_fire(page)
    page.goto("/incidents/new")  # B, opened anew
    page.get_by_role("textbox", name="Reporting unit").fill("Post 10")
    page.goto("/board")
    page.go_back()
    expect(page).to_have_url(re.compile(r"/incidents/new$"))
    expect(page.get_by_role("textbox", name="Position (")).to_have_value("")
    expect(page.get_by_role("combobox", name="Category")).to_have_value("")
