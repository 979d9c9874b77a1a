"""Tabs of one signed-in browser asking at once, their session's last use a minute old: each of them writes it, or
finds it written, and none of them fails (web/session_seen.py, services.accounts.sessions.mark_seen)."""

import threading
from datetime import timedelta

import pytest
from sqlalchemy import event, select, update

from tests.support import build_world, csrf, file_incident, sign_in
from tracker.db import engine_of, session_scope
from tracker.models import WebSession
from tracker.timeutil import utcnow

# A conditional UPDATE under row locks (PostgreSQL) or the one write lock (SQLite), in the request's transaction or
# one of its own: engine-dependent.
pytestmark = pytest.mark.both_databases

POLL = {"X-Requested-With": "fetch"}


def signed_in_beside_an_incident(make_app):
    """An app, a browser signed in as duty, an incident filed, and a comment form for it: (app, browser, reference,
    form)."""
    app = make_app()
    world = build_world(app)
    browser = app.test_client()
    sign_in(browser, "duty")
    reference = file_incident(browser, world)["reference"]
    return app, browser, reference, {"csrf_token": csrf(browser, f"/incidents/{reference}"), "text": "seen"}


def test_tabs_asking_at_once_each_get_their_answer_and_the_last_use_is_kept(make_app):
    app, browser, reference, form = signed_in_beside_an_incident(make_app)
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


def test_a_request_recording_its_sessions_last_use_holds_one_connection_at_a_time(make_app):
    """The request gives back what its own session began (reading the session) before the last use is written in
    a unit of work of its own, as a token's last use is (http/tokens.py): it held a second connection of the pool
    meanwhile, so each web worker kept two open to the database where one does."""
    app, browser, reference, form = signed_in_beside_an_incident(make_app)
    held, most = [0], [0]

    def out(*_) -> None:
        held[0] += 1
        most[0] = max(most[0], held[0])

    def back(*_) -> None:
        held[0] -= 1

    engine = engine_of(app)
    event.listen(engine, "checkout", out)
    event.listen(engine, "checkin", back)
    for send in (
        lambda: browser.get("/board/rows", headers=POLL),
        lambda: browser.get("/board"),
        lambda: browser.post(f"/incidents/{reference}/comments", data=form),
    ):
        stale = utcnow() - timedelta(minutes=2)
        with session_scope(app) as session:
            session.execute(update(WebSession).values(last_seen_at=stale))
        held[0] = most[0] = 0
        assert send().status_code in (200, 302)
        with session_scope(app, reads_only=True) as session:
            assert session.scalars(select(WebSession.last_seen_at)).one() > stale, "the last use is recorded"
        assert most[0] == 1, most[0]
