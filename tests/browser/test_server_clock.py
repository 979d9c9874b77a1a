"""Countdowns and the footer's clock count by the server's time: a workstation 20 minutes slow showed a deadline
passed now as 20 minutes away, and the footer said it was 20 minutes earlier than it was."""

import re
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests.support import build_world, file_incident
from tracker.timeutil import utcnow

pytestmark = pytest.mark.browser


def test_a_workstation_clock_twenty_minutes_slow_counts_down_by_the_servers(app, sign_in):
    world = build_world(app, ack_seconds=600)
    reference = file_incident(app.test_client(), world)["reference"]
    page = sign_in("liaison").page
    page.clock.install(time=utcnow() - timedelta(minutes=20))
    page.goto(f"/incidents/{reference}")
    countdown = page.locator(".next time.countdown")
    expect(countdown).to_have_text(re.compile(r"^in (9|10) min"))  # 600 s from filing, not 29-30 min
    shown = page.locator("footer [data-clock]").text_content() or ""
    clock = datetime.fromisoformat(shown.replace("Z", "+00:00").replace(" ", "T"))
    assert abs(clock - utcnow()) < timedelta(minutes=1), (shown, utcnow())
