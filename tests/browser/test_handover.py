"""Acceptance of issue 14 on two phones (390 px): the duty officer starts a watch, logs a line about an
incident and prepares the handover brief for the liaison officer; the brief lists the seeded open
incidents (FLASH first), clocks (earliest first) and lines (down, degraded, never checked) in that
order; the liaison officer, and only they, signs for the watch; the signed record is on the API and
the print page. Screenshots: handover-brief.png, handover-signed.png, handover-print.png."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.browser_support import sideways, styled
from tests.exchange_support import LINE, add_counterpart_line
from tests.support import build_world, file_incident
from tracker.db import session_scope
from tracker.models import AgreedAction, Call, CallDirection, ChannelHealth, ContactChannel, Incident, IncidentStatus
from tracker.timeutil import utcnow

pytestmark = pytest.mark.browser

NOTES = "L2 is down since 0400Z: use the L3 duty desk. Eastland owes us the track of the intercept."


def seed(app, client, world) -> dict[str, str]:
    """Incidents of each live kind and one resolved, clocks within the next hours, lines not OK."""
    line = add_counterpart_line(app, world)
    refs = {name: file_incident(client, world, precedence=p)["reference"]
            for name, p in [("routine", "R"), ("flash_exhausted", "Z"), ("immediate_ack", "O"), ("flash_open", "Z"),
                            ("resolved", "P")]}  # fmt: skip
    for name in ("immediate_ack", "resolved"):
        answer = client.post(f"/api/v1/incidents/{refs[name]}/acknowledge", json={}, headers=world.auth("liaison"))
        assert answer.status_code == 200, answer.get_json()
    body = {"resolution": "Training flight, explained."}
    answer = client.post(f"/api/v1/incidents/{refs['resolved']}/resolve", json=body, headers=world.auth("liaison"))
    assert answer.status_code == 200, answer.get_json()
    now = utcnow()
    with session_scope(app) as session:
        row = {n: session.scalars(select(Incident).where(Incident.reference == r)).one() for n, r in refs.items()}
        row["flash_exhausted"].status, row["flash_exhausted"].next_escalation_at = IncidentStatus.EXHAUSTED, None
        row["flash_open"].next_escalation_at = now + timedelta(minutes=40)
        row["routine"].next_escalation_at = now + timedelta(hours=5)
        row["immediate_ack"].idle_check_at = now + timedelta(minutes=20)
        call = Call(incident_id=row["immediate_ack"].id, channel_id=line, direction=CallDirection.THEY_CALLED,
                    started_at=now - timedelta(minutes=30), recorded_by="liaison")  # fmt: skip
        session.add(AgreedAction(call=call, incident_id=row["immediate_ack"].id, text="Send the radar track",
                                 party="them", due_at=now + timedelta(hours=2)))  # fmt: skip
        lines = {c.name: c for c in session.scalars(select(ContactChannel))}
        lines["L1"].health, lines["L1"].last_check_at = ChannelHealth.DEGRADED, now
        lines["L2"].health, lines["L2"].last_check_at = ChannelHealth.DOWN, now
        for name in ("L3", "Other desk"):
            lines[name].last_check_at = lines[name].last_check_ok_at = now
    return refs


def test_a_watch_is_handed_over_and_signed_for_on_phones(app, live_server, sign_in):
    world = build_world(app)
    client = app.test_client()
    refs = seed(app, client, world)

    duty = sign_in("duty", 390)
    page = duty.page
    page.get_by_role("link", name="Watch", exact=True).click()
    expect(page.get_by_text("Nobody is on watch.")).to_be_visible()
    page.get_by_role("button", name="Start the watch").click()
    expect(page.locator("p.flash.success")).to_contain_text("Watch started at Duty desk")
    page.get_by_label("Log line").fill("Squadron reports the fighter left the area.")
    page.get_by_label("Incident (reference, if it is about one)").fill(refs["flash_open"])
    page.get_by_role("button", name="Log it").click()
    expect(page.locator("ol.watch-log li")).to_contain_text(refs["flash_open"])
    assert sideways(page) <= 0, "the watch page scrolls sideways at 390 px"
    page.get_by_label("Hand over to").select_option("liaison")
    page.get_by_label("Notes for the incoming officer").fill(NOTES)
    page.get_by_role("button", name="Prepare the brief").click()

    expect(page.locator("p.flash.success")).to_contain_text("Brief prepared for liaison")
    incidents = page.locator("#incidents tbody tr")
    expected = [refs[n] for n in ("flash_exhausted", "flash_open", "immediate_ack", "routine")]
    expect(incidents).to_have_count(4)
    assert [incidents.nth(n).get_attribute("data-reference") for n in range(4)] == expected, "FLASH first"
    clocks = page.locator("#clocks tbody tr")
    expect(clocks).to_have_count(4)
    kinds = ["acknowledgement_timeout", "escalation", "agreed_action", "escalation"]
    assert [clocks.nth(n).get_attribute("data-clock-kind") for n in range(4)] == kinds, "the earliest first"
    expect(clocks.nth(1)).to_contain_text(refs["flash_open"])
    expect(clocks.nth(3)).to_contain_text(refs["routine"])
    lines = page.locator("#lines tbody tr")
    assert [lines.nth(n).get_attribute("data-line") for n in range(lines.count())] == ["L2", "L1", LINE]
    expect(page.locator("#log")).to_contain_text("Squadron reports the fighter left the area.")
    expect(page.locator("[data-waiting]")).to_contain_text("Waiting for liaison to sign")
    expect(page.get_by_role("button", name="Sign for the watch")).to_have_count(0)  # not the outgoing officer's
    duty.screenshot("handover-brief", page)
    assert sideways(page) <= 0, "the brief scrolls sideways at 390 px"
    handover_path = page.url.removeprefix(live_server)

    liaison = sign_in("liaison", 390)
    other = liaison.page
    other.get_by_role("link", name="Watch", exact=True).click()
    other.get_by_role("link", name="Duty desk: handover from duty").click()
    expect(other.locator("#handover-notes [data-notes]")).to_have_text(NOTES)
    other.get_by_role("button", name="Sign for the watch").click()
    expect(other.locator("p.flash.success")).to_contain_text("you have the watch at Duty desk")
    expect(other.locator("[data-signed]")).to_contain_text("Signed by liaison")
    liaison.screenshot("handover-signed", other)
    assert sideways(other) <= 0

    record = client.get(f"/api/v1{handover_path}", headers=world.auth("supervisor")).get_json()
    assert (record["outgoing"], record["incoming"]) == ("duty", "liaison")
    assert record["signed_at"] is not None and record["notes"] == NOTES
    assert [i["reference"] for i in record["brief"]["incidents"]] == expected
    new_watch = client.get(f"/api/v1/watches/{record['to_watch_id']}", headers=world.auth("duty")).get_json()
    assert (new_watch["officer"], new_watch["open"]) == ("liaison", True)

    page.goto(f"{handover_path}/print")
    expect(page.locator("td[data-signed]")).to_contain_text("by liaison")
    expect(page.locator("td[data-notes]")).to_have_text(NOTES)
    expect(page.locator("#incidents tbody tr").first).to_have_attribute("data-reference", refs["flash_exhausted"])
    duty.screenshot("handover-print", page)
    for person in (duty, liaison):
        assert person.foreign_requests() == []
        assert person.page_errors == []


def test_an_empty_watch_log_is_not_numbered_as_one_line(app, sign_in):
    """The log is a numbered list: "Nothing logged yet." must not read "1. Nothing logged yet."."""
    build_world(app)
    page = sign_in("duty", width=390).page
    page.goto("/watches/")
    page.get_by_role("button", name="Start the watch").click()
    empty = page.locator("ol.watch-log li.empty")
    expect(empty).to_have_text("Nothing logged yet.")
    styled(page)
    style = empty.evaluate("li => { const s = getComputedStyle(li); return [s.display, s.listStyleType]; }")
    assert style[0] != "list-item" or style[1] == "none", f"the empty log is numbered: {style}"


def handed_over(app) -> str:
    """The duty officer's watch with an acknowledged incident on it, handed over to liaison: the handover's path."""
    world = build_world(app)
    client = app.test_client()
    reference = file_incident(client, world)["reference"]
    answer = client.post(f"/api/v1/incidents/{reference}/acknowledge", json={}, headers=world.auth("liaison"))
    assert answer.status_code == 200, answer.get_json()
    assert client.post("/api/v1/watches", json={}, headers=world.auth("duty")).status_code == 201
    answer = client.post("/api/v1/handovers", json={"incoming": "liaison"}, headers=world.auth("duty"))
    assert answer.status_code == 201, answer.get_json()
    return f"/handovers/{answer.get_json()['id']}"


def test_the_handover_names_the_watch_it_ends_with_its_spaces(app, sign_in):
    """The crumb back to the outgoing watch read "Duty desk:duty's watch": its link is a flex box, which drops the
    spaces between the names it isolates and the words around them."""
    path = handed_over(app)
    page = sign_in("duty").page
    page.goto(path)
    crumb = styled(page).locator("p.crumbs a").nth(1)
    assert crumb.inner_text() == "Duty desk: duty's watch", f"the crumb reads {crumb.inner_text()!r}"


def test_the_briefs_states_are_not_broken_inside_a_word_on_a_desktop(app, sign_in):
    """The brief's cells may break a long word anywhere (a name typed without spaces must not widen the page), and
    the table gave its Status column that narrowest width: "acknowledged" stood as "acknowledge" over "d" at 1280 px."""
    path = handed_over(app)
    for width in (1280, 800):  # 800: the narrowest screen that shows the brief as a table
        page = sign_in("duty", width).page
        page.goto(path)
        state = styled(page).locator("#incidents tbody .state").first
        assert state.inner_text() == "acknowledged"
        lines = state.evaluate("s => s.getClientRects().length")
        assert lines == 1, f"“acknowledged” stands on {lines} lines at {width} px"
        assert sideways(page) <= 0
