"""Acceptance 3 of issue 13 on a phone (390 px): a liaison logs a hotline call with "Call started" and
"Call ended" and an action agreed due in 2 hours; the call is on the timeline and the exchange panel,
nothing is sent, and when the test drives the sweep past the due time the action goes overdue and
the supervisors are told. Screenshots: call-log-started.png, call-log-overdue.png."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from tests.browser_support import sideways
from tests.exchange_support import LINE, acknowledged_incident, add_counterpart_line
from tests.exchange_support import open_exchange as open_via_api
from tests.support import build_world, outbox_files
from tracker import jobs
from tracker.db import session_scope
from tracker.models import AgreedAction, Notification, NotificationKind, Role, User
from tracker.services.exchanges import calls
from tracker.timeutil import utcnow

pytestmark = pytest.mark.browser

THEY_SAID = "Eastland MoD: the aircraft was on a training flight; they will send its track."
ACTION = "Eastland sends the radar track of the aircraft"


def notifications(app) -> int:
    with session_scope(app) as session:
        return session.scalar(select(func.count()).select_from(Notification))


def test_a_call_logged_on_a_phone_sends_nothing_and_its_action_goes_overdue(app, sign_in):
    world = build_world(app)
    add_counterpart_line(app, world)
    client = app.test_client()
    reference = acknowledged_incident(client, world)
    xid = open_via_api(client, world, reference)["id"]
    jobs.deliver(app)  # what filing and the exchange queued is out of the way: what follows must add nothing
    queued, delivered = notifications(app), set(outbox_files(app))

    liaison = sign_in("liaison", 390)
    page = liaison.page
    page.goto(f"/incidents/{reference}#exchanges")
    page.locator(f'article[data-exchange="{xid}"]').get_by_role("link", name="Log a call").click()
    expect(page.get_by_role("heading", name="Log a call")).to_be_visible()
    expect(page.get_by_label("Line")).to_have_value(str(world.channels[LINE]))
    assert sideways(page) <= 0, "the start page scrolls sideways at 390 px"
    page.get_by_role("button", name="Call started").click()

    expect(page.locator("p.flash.success")).to_contain_text("Call started")
    expect(page.locator("[data-call-state]")).to_have_text("in progress")
    page.get_by_label("What they said").fill(THEY_SAID)
    page.get_by_label("Their speaker: name").fill("Orlov")
    page.locator("#actions-0-text").fill(ACTION)
    page.locator("#actions-0-party").select_option("them")
    page.locator("#actions-0-due_in").select_option(label="2 h")
    liaison.screenshot("call-log-started", page)
    assert sideways(page) <= 0, "the call page scrolls sideways at 390 px"
    page.get_by_role("button", name="Call ended").click()
    ended_at = utcnow()

    expect(page.locator("p.flash.success")).to_contain_text("Call ended")
    expect(page.locator("[data-call-state]")).to_have_text("ended")
    action = page.locator(".agreed-actions li.action")
    expect(action).to_contain_text(ACTION)
    expect(action).to_have_class("action action-open")

    page.goto(f"/incidents/{reference}")
    expect(page.locator("ol.timeline")).to_contain_text("call logged")
    expect(page.locator("ol.timeline")).to_contain_text(f"agreed “{ACTION}”")
    panel_call = page.locator(f'article[data-exchange="{xid}"] .call-list li.call')
    expect(panel_call).to_contain_text(THEY_SAID)
    expect(panel_call).to_contain_text("Orlov")
    assert sideways(page) <= 0, "the incident page scrolls sideways at 390 px"

    jobs.deliver(app)
    assert notifications(app) == queued, "logging a call queued a message"
    assert set(outbox_files(app)) == delivered, "logging a call sent something"

    with session_scope(app) as session:  # the test drives the time: 2 h 1 min after the call
        [due_at] = session.scalars(select(AgreedAction.due_at)).all()
        assert timedelta(hours=2) - timedelta(minutes=1) < due_at - ended_at <= timedelta(hours=2)
        assert calls.sweep_batch(session, ended_at + timedelta(hours=2, minutes=1), 50, "test") == 1
    with session_scope(app) as session:
        told = session.scalars(
            select(Notification.user_id).where(Notification.kind == NotificationKind.ACTION_OVERDUE)
        ).all()
        supervisors = session.scalars(select(User.id).where(User.role == Role.SUPERVISOR)).all()
        assert sorted(told) == sorted(supervisors) and told, "every supervisor is told once"

    page.reload()
    expect(panel_call.locator("li.action")).to_have_class("action action-overdue")
    expect(page.locator("ol.timeline")).to_contain_text("action overdue")
    liaison.screenshot("call-log-overdue", page)
    assert sideways(page) <= 0
    assert liaison.foreign_requests() == []
    assert liaison.page_errors == []
