"""A sign-in racing the account's deactivation: the password is checked in one transaction and the
web session opened in the next, and a deactivation committed in between, or arriving while the
session is being opened, must leave no session that comes back to life when the account is
activated again."""

import threading
import time

import pytest
from sqlalchemy import select

from tests.support import build_world, sign_in
from tracker.db import session_scope
from tracker.models import User, WebSession
from tracker.services.accounts import people, sessions
from tracker.timeutil import utcnow
from tracker.web import auth

# Row locks (PostgreSQL) and the write lock taken at BEGIN (SQLite) decide the order: engine-dependent.
pytestmark = pytest.mark.both_databases


def live_sessions(app, username: str) -> list[tuple[str, str | None]]:
    with session_scope(app) as session:
        rows = session.execute(
            select(WebSession.address, WebSession.revoked_why)
            .join(User, User.id == WebSession.user_id)
            .where(User.username == username, WebSession.revoked_at.is_(None))
        )
        return [tuple(row) for row in rows]


def set_active(app, username: str, active: bool) -> None:
    with session_scope(app) as session:
        user = people.find_user(session, username)
        if active:
            people.reactivate(session, user, by="admin")
        else:
            people.deactivate(session, user, by="admin")


def test_a_deactivation_between_the_password_check_and_the_new_session_leaves_no_session(app, monkeypatch):
    """The password was right and the account active when checked; the admin's deactivation then
    committed before the session was opened. The session was opened all the same, after the
    deactivation had revoked every session there was, and activating the account again revived it."""
    build_world(app)
    opening = sessions.open_session

    def deactivated_first(db, user, address, now):
        set_active(app, user.username, False)
        return opening(db, user, address, now)

    monkeypatch.setattr(auth.sessions, "open_session", deactivated_first)
    client = app.test_client()
    answer = sign_in(client, "liaison")
    monkeypatch.undo()
    assert answer.status_code == 401 and "Wrong username or password" in answer.text, answer.text[:1000]
    assert live_sessions(app, "liaison") == []

    set_active(app, "liaison", True)
    assert client.get("/").status_code == 302, "the browser of the refused sign-in holds no session"
    assert sign_in(app.test_client(), "liaison").status_code == 302, "the password signs in once activated again"


def test_a_deactivation_arriving_while_a_session_opens_waits_for_it_and_revokes_it(app):
    build_world(app)
    deactivated = threading.Event()

    def deactivate() -> None:
        set_active(app, "liaison", False)
        deactivated.set()

    with session_scope(app) as session:
        user = people.find_user(session, "liaison")
        opened = sessions.open_session(session, user, "192.0.2.7", utcnow())
        assert opened is not None
        racing = threading.Thread(target=deactivate)
        racing.start()
        # The deactivation must wait for this transaction (row share lock / SQLite's write lock); if it
        # did not, it would commit now, before the session it has to revoke exists.
        assert not deactivated.wait(1.0), "the deactivation did not wait for the session being opened"
    racing.join(30)
    assert deactivated.is_set(), "the deactivation never finished"
    with session_scope(app) as session:
        why = session.scalar(select(WebSession.revoked_why).where(WebSession.id == opened))
    assert why == "deactivated", f"the session opened during the deactivation: revoked_why={why!r}"
    set_active(app, "liaison", True)
    assert live_sessions(app, "liaison") == []


def test_signing_in_again_while_an_admin_deactivates_the_account_does_not_deadlock(app, monkeypatch):
    """Signing in from a browser already signed in ended its old session (a row lock on it) before
    share-locking the user, while a deactivation locks the user and then every session of theirs: on
    PostgreSQL the two waited on each other and one died of a deadlock (found in review)."""
    build_world(app)
    with session_scope(app) as session:
        previous = sessions.open_session(session, people.find_user(session, "liaison"), "192.0.2.1", utcnow())
    ended_previous, deactivating = threading.Event(), threading.Event()
    ending = sessions.revoke

    def end_then_pause(db, session_id, why, now):
        ending(db, session_id, why, now)
        ended_previous.set()
        deactivating.wait(10)
        time.sleep(0.5)  # the deactivation has started: it locks what it can and waits for the rest

    monkeypatch.setattr(sessions, "revoke", end_then_pause)
    errors: list[BaseException] = []
    opened: list[str | None] = []

    def sign_in_again() -> None:
        try:
            with session_scope(app) as session:
                user = people.find_user(session, "liaison")
                opened.append(sessions.replace(session, previous, user, "192.0.2.2", utcnow()))
        except Exception as error:
            errors.append(error)

    def deactivate() -> None:
        ended_previous.wait(10)
        deactivating.set()
        try:
            set_active(app, "liaison", False)
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=sign_in_again), threading.Thread(target=deactivate)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors, f"a sign-in and a deactivation at once: {errors!r}"
    assert opened and opened[0] is not None, opened
    with session_scope(app) as session:
        why = dict(session.execute(select(WebSession.id, WebSession.revoked_why)).all())
    assert (why[previous], why[opened[0]]) == ("replaced", "deactivated"), why
