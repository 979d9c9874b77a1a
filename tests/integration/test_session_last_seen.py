"""Tabs of one signed-in browser asking at once, their session's last use a minute old: each of them writes it, or
finds it written, and none of them fails (web/session_seen.py, services.accounts.sessions.mark_seen)."""

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from tests.support import build_world, csrf, file_incident, sign_in
from tracker.db import session_scope
from tracker.models import WebSession
from tracker.timeutil import utcnow

# A conditional UPDATE under row locks (PostgreSQL) or the one write lock (SQLite), in the request's transaction or
# one of its own: engine-dependent.
pytestmark = pytest.mark.both_databases

POLL = {"X-Requested-With": "fetch"}


def test_tabs_asking_at_once_each_get_their_answer_and_the_last_use_is_kept(make_app):
    app = make_app()
    world = build_world(app)
    browser = app.test_client()
    sign_in(browser, "duty")
    reference = file_incident(browser, world)["reference"]
    form = {"csrf_token": csrf(browser, f"/incidents/{reference}"), "text": "seen"}
    tabs = []
    for number in range(8):
        tab = app.test_client()
        tab.set_cookie("session", browser.get_cookie("session").value)
        tabs.append((tab, number))
    stale = utcnow() - timedelta(minutes=2)
    with session_scope(app) as session:
        session.execute(update(WebSession).values(last_seen_at=stale))
    start, answers = threading.Barrier(len(tabs)), []

    def ask(tab, number: int) -> None:
        start.wait()
        if number % 2:
            answers.append(tab.post(f"/incidents/{reference}/comments", data=form).status_code)
        else:
            answers.append(tab.get("/board/rows", headers=POLL).status_code)

    threads = [threading.Thread(target=ask, args=pair) for pair in tabs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(answers) == [200] * 4 + [302] * 4, answers
    with session_scope(app) as session:
        assert session.scalars(select(WebSession.last_seen_at)).one() > stale
