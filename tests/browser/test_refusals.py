"""What the pages refuse, as a person in a browser meets it: a wrong report keeps what was typed
and says what is wrong next to each field; a liaison outside the incident's channels cannot
acknowledge it; a POST without the form's CSRF token changes nothing."""

import pytest
from playwright.sync_api import expect

from tests.exchange_support import acknowledged_incident, add_counterpart_line, open_exchange
from tests.support import build_world, file_incident

pytestmark = pytest.mark.browser

BAD_DTG = "321620ZDEC26"
BAD_POSITION = "somewhere north of the island"


def test_form_errors_stand_next_to_their_fields_and_input_is_kept(app, sign_in):
    build_world(app)
    duty = sign_in("duty")
    page = duty.page
    page.goto("/incidents/new")
    page.get_by_label("Occurred at").fill(BAD_DTG)
    page.get_by_role("textbox", name="Reporting unit").fill("Frigate Sentinel")
    page.get_by_role("combobox", name="Domain", exact=True).select_option("maritime")
    page.get_by_role("combobox", name="Category", exact=True).select_option("weapon_aiming")
    page.get_by_role("combobox", name="Precedence", exact=True).select_option("O")
    page.get_by_role("textbox", name="Position (").fill(BAD_POSITION)
    page.get_by_role("textbox", name="Narrative", exact=True).fill("Fire-control radar locked on for 40 seconds.")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="File incident").click()
    assert answer.value.status == 422

    for field, typed, message in (
        ("occurred_at", BAD_DTG, "day is out of range"),
        ("position", BAD_POSITION, "MGRS (34U FF 2142 3097)"),
    ):
        box = page.locator(f".field:has(#{field})")
        expect(box).to_have_class("field has-error")
        expect(box.locator("small.error")).to_contain_text(message)
        expect(page.locator(f"#{field}")).to_have_value(typed)
        expect(page.locator(f"#{field}")).to_have_attribute("aria-describedby", f"{field}-error {field}-hint")
    expect(page.locator("small.error")).to_have_count(2)
    expect(page.get_by_role("textbox", name="Reporting unit")).to_have_value("Frigate Sentinel")
    expect(page.get_by_role("combobox", name="Domain", exact=True)).to_have_value("maritime")
    expect(page.get_by_role("combobox", name="Category", exact=True)).to_have_value("weapon_aiming")
    narrative = page.get_by_role("textbox", name="Narrative", exact=True)
    expect(narrative).to_have_value("Fire-control radar locked on for 40 seconds.")
    duty.screenshot("file-errors-1280")

    page.goto("/")
    expect(page.locator("table.incidents:not(.exchanges-board) tbody")).to_contain_text("No incidents here.")


def test_liaison_outside_the_incidents_channels_cannot_acknowledge_it(app, sign_in):
    world = build_world(app)
    reference = file_incident(app.test_client(), world)["reference"]
    outsider = sign_in("outsider")
    page = outsider.page
    page.goto(f"/incidents/{reference}")
    expect(page.locator("h1")).to_contain_text(reference)
    expect(page.get_by_role("button", name="Acknowledge")).to_have_count(0)
    expect(page.get_by_role("button", name="Resolve")).to_have_count(0)

    answer = page.request.post(f"/incidents/{reference}/acknowledge", form={"csrf_token": outsider.csrf_token()})
    assert answer.status == 403

    # The same POST as a form the outsider's own page submits: refused in the app's layout.
    page.evaluate(
        """([action, token]) => {
            const form = Object.assign(document.createElement("form"), {method: "post", action});
            form.append(Object.assign(document.createElement("input"), {type: "hidden", name: "csrf_token",
                                                                         value: token}));
            document.body.append(form);
            form.submit();
        }""",
        [f"/incidents/{reference}/acknowledge", outsider.csrf_token()],
    )
    expect(page.locator("h1")).to_have_text("403 · Not allowed")
    expect(page.locator("header.top")).to_contain_text("outsider")

    page.goto(f"/incidents/{reference}")
    expect(page.locator("h1 .state")).to_have_text("open")
    expect(page.locator(".timeline li.event-acknowledged")).to_have_count(0)


def test_post_without_csrf_token_is_refused_and_changes_nothing(app, sign_in):
    world = build_world(app)
    reference = file_incident(app.test_client(), world)["reference"]
    liaison = sign_in("liaison")
    page = liaison.page
    page.goto(f"/incidents/{reference}")
    expect(page.get_by_role("button", name="Acknowledge")).to_be_visible()  # only the token is missing

    for form in ({"note": "no token"}, {"csrf_token": "forged"}):
        answer = page.request.post(f"/incidents/{reference}/acknowledge", form=form)
        assert answer.status == 400, form
        assert "Form expired" in answer.text()
    answer = page.request.post(f"/incidents/{reference}/comments", form={"text": "no token"})
    assert answer.status == 400

    page.reload()
    expect(page.locator("h1 .state")).to_have_text("open")
    expect(page.locator(".timeline li.event-acknowledged")).to_have_count(0)
    expect(page.locator(".timeline li.event-commented")).to_have_count(0)
    expect(page.locator(".timeline")).not_to_contain_text("no token")


COMMENT_LIMIT = 4000  # forms.CommentForm's


def test_a_comment_as_long_as_allowed_is_taken_whatever_its_line_breaks_and_a_longer_one_is_kept_and_counted(
    app, sign_in
):
    """A line break is one character of a comment, while the browser sends each as CR LF: a comment at the limit
    over several lines must not come back as too long. One past it is pasted whole (the box's maxlength cut a
    paste at the limit without a word, and its end was lost) and refused saying by how much, kept in the box."""
    world = build_world(app)
    reference = file_incident(app.test_client(), world)["reference"]
    page = sign_in("liaison").page
    page.goto(f"/incidents/{reference}")
    box = page.get_by_role("textbox", name="Comment")
    assert box.get_attribute("maxlength") is None, "a paste is not cut at the box"
    lines = ["Eastland radar track held."] * 40
    lines.append("x" * (COMMENT_LIMIT - len("\n".join(lines)) - 1))  # the limit exactly, with its line break
    box.click()
    page.keyboard.insert_text("\n".join(lines) + "y")
    assert len(box.input_value()) == COMMENT_LIMIT + 1, "the whole paste is in the box"
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="Add comment").click()
    assert answer.value.status in (302, 422), answer.value.status
    expect(page.locator("body")).to_contain_text("longer than 4000 characters (4,001 given: 1 too many)")
    expect(page.locator(".timeline li.event-commented")).to_have_count(0)
    box = page.get_by_role("textbox", name="Comment")
    assert box.input_value().endswith("xy"), "the refused comment is kept to shorten"
    box.press("End")
    box.press("Backspace")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="Add comment").click()
    assert answer.value.status == 302
    expect(page.locator(".flash.error")).to_have_count(0)
    expect(page.locator(".timeline li.event-commented")).to_contain_text("Eastland radar track held.")


def test_a_refused_report_on_a_phone_opens_at_its_first_problem(app, sign_in):
    """Sent back, the filing form puts the focus on the first field that is wrong (in view, below the fold
    on a phone), not on the time at its top that was right."""
    build_world(app)
    page = sign_in("duty", width=390).page
    page.goto("/incidents/new")
    page.get_by_role("textbox", name="Reporting unit").fill("Frigate Sentinel")
    page.get_by_role("combobox", name="Category", exact=True).select_option("unsafe_intercept")
    page.get_by_role("textbox", name="Narrative", exact=True).fill("Closed to 30 m.")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="File incident").click()
    assert answer.value.status == 422
    precedence = page.get_by_role("combobox", name="Precedence", exact=True)
    expect(precedence).to_have_attribute("aria-invalid", "true")
    expect(precedence).to_be_focused()
    expect(page.locator("#precedence-error")).to_be_in_viewport()


def test_back_after_a_confirmed_step_goes_to_the_page_and_cancel_leaves_the_step(app, sign_in):
    """The confirm step (web/acting.py ask_first) is the answer to a POST: Back from the incident page after it asked
    the browser to send the form again ("Confirm form resubmission", or an error page on a phone). Its Cancel loads the
    page it names, also one of the same address with a fragment (#exchange-1-heading), never a jump within the step."""
    world = build_world(app)
    add_counterpart_line(app, world)
    client = app.test_client()
    reference = acknowledged_incident(client, world)
    xid = open_exchange(client, world, reference)["id"]
    page = sign_in("liaison").page
    page.goto(f"/incidents/{reference}")
    close = page.locator(f'article[data-exchange="{xid}"]').get_by_role("button", name="Close exchange", exact=True)
    close.click()
    expect(page.locator("h1")).to_contain_text("Close the exchange")
    page.get_by_role("link", name="Cancel").click()
    expect(page.locator("h1")).to_contain_text(reference)
    close.click()
    expect(page.locator("h1")).to_contain_text("Close the exchange")
    page.get_by_role("button", name="Close", exact=True).click()
    expect(page.locator(f'article[data-exchange="{xid}"] [data-state]')).to_have_attribute("data-state", "closed")
    page.go_back()
    expect(page.locator("h1")).to_contain_text(reference)
