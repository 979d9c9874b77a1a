"""Web sessions end when they should (issue 12, item 5): sign-out, a password change and
deactivation revoke them server-side, they expire when idle and after an absolute time, and
sign-in issues a new session and CSRF token."""

from datetime import datetime, timedelta

import itsdangerous
from sqlalchemy import select, update

from tests.support import csrf, file_incident, sign_in
from tracker.db import session_scope
from tracker.models import WebSession
from tracker.services.accounts import people
from tracker.timeutil import utcnow


def cookie(client) -> str:
    return client.get_cookie("session").value


def with_cookie(app, value: str):
    """A new browser holding a copied session cookie."""
    thief = app.test_client()
    thief.set_cookie("session", value)
    return thief


def test_a_cookie_copied_before_sign_out_is_refused_after_it(app, client, world):
    assert sign_in(client, "supervisor").status_code == 302
    copied = cookie(client)
    assert with_cookie(app, copied).get("/reports").status_code == 200, "the copy works while signed in"
    client.post("/signout", data={"csrf_token": csrf(client, "/password")})
    response = with_cookie(app, copied).get("/reports")
    assert response.status_code == 302 and response.headers["Location"].startswith("/signin"), response.status_code
    with session_scope(app) as session:
        assert session.scalars(select(WebSession.revoked_why)).all() == ["signed_out"]


def test_signing_in_again_ends_the_session_the_browser_came_with(app, client, world):
    """Signing in over a live session left the old session row live until it expired: a copy of the old
    cookie (taken before a hand-over of the terminal, say) kept working as the first user."""
    assert sign_in(client, "duty").status_code == 302
    copied = cookie(client)
    assert sign_in(client, "supervisor").status_code == 302, "the next officer signs in on the same browser"
    assert client.get("/reports").status_code == 200, "the browser is the supervisor's now"
    response = with_cookie(app, copied).get("/board")
    assert response.status_code == 302 and response.headers["Location"].startswith("/signin"), response.status_code
    with session_scope(app) as session:
        rows = session.execute(select(WebSession.user_id, WebSession.revoked_why).order_by(WebSession.created_at))
        assert [why for _, why in rows] == ["replaced", None], "one session ended, the new one live"


def test_a_password_change_revokes_copies_of_the_old_cookie(app, client, world):
    sign_in(client, "liaison")
    copied = cookie(client)
    response = client.post(
        "/password",
        data={
            "csrf_token": csrf(client, "/password"),
            "current_password": "liaison-password",
            "password": "new-long-one",
        },
    )
    assert response.status_code == 302
    assert client.get("/board").status_code == 200, "the browser that changed it has a new session"
    assert with_cookie(app, copied).get("/board").status_code == 302


def test_deactivation_ends_the_users_sessions(app, world):
    liaison, admin = app.test_client(), app.test_client()
    sign_in(liaison, "liaison")
    sign_in(admin, "admin")
    with session_scope(app) as session:
        user_id = people.find_user(session, "liaison").id
    page = f"/admin/users/{user_id}"
    asked = admin.post(f"{page}/deactivate", data={"csrf_token": csrf(admin, page)})
    assert asked.status_code == 200 and "their API tokens and calendar feed links are revoked" in asked.text
    assert liaison.get("/board").status_code == 200, "asked first: nothing changed yet"
    assert admin.post(f"{page}/deactivate", data={"csrf_token": csrf(admin, page), "confirm": "yes"}).status_code == 302
    assert liaison.get("/board").status_code == 302


IDLE = timedelta(hours=12)  # a watch: SESSION_IDLE_MINUTES = 720


def last_seen(app) -> datetime:
    with session_scope(app) as session:
        return session.scalars(select(WebSession.last_seen_at).where(WebSession.revoked_at.is_(None))).one()


def seen_at(app, when: datetime) -> None:
    """The live session's last use on record is when."""
    with session_scope(app) as session:
        session.execute(update(WebSession).where(WebSession.revoked_at.is_(None)).values(last_seen_at=when))


def time_passes(app, client, span: timedelta) -> None:
    """span passes, as the browser's cookie and the database tell it: the cookie as if signed span earlier than it
    was, and the session opened and last used span earlier."""
    serializer = app.session_interface.get_signing_serializer(app)
    data, signed_at = serializer.loads(cookie(client), return_timestamp=True)
    then = int(signed_at.timestamp() - span.total_seconds())

    class SignedEarlier(itsdangerous.TimestampSigner):
        def get_timestamp(self) -> int:
            return then

    serializer.signer = SignedEarlier
    client.set_cookie("session", serializer.dumps(data))
    with session_scope(app) as session:
        for row in session.scalars(select(WebSession)):
            row.created_at, row.last_seen_at = row.created_at - span, row.last_seen_at - span


def test_an_idle_session_expires(app, client, world):
    sign_in(client, "duty")
    assert client.get("/").status_code == 200
    seen_at(app, utcnow() - IDLE - timedelta(minutes=1))
    assert client.get("/").status_code == 302


POLL = {"X-Requested-With": "fetch"}  # live.js's refresh
READ_BACK = {"Sec-Fetch-Mode": "cors", "Sec-Fetch-Dest": "empty"}  # any other fetch of a page's script
PAGE = {"Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"}


def signed_again(response) -> bool:
    return any(header.startswith("session=") for header in response.headers.getlist("Set-Cookie"))


def test_a_pages_own_requests_leave_the_cookie_as_the_browser_holds_it(app, client, world):
    """Every answer wrote back the cookie its request carried, and the cookie keeps the line the next page says of
    what a form did (a flash) till shown: a refresh of another tab answered just after a form's answer wrote back
    the cookie of before, and the form's line was lost. A page's own request now writes the cookie only when its
    session changed; a page or a form signs it again as before (the idle limit)."""
    sign_in(client, "duty")
    reference = file_incident(client, world)["reference"]
    before = cookie(client)
    other_tab = with_cookie(app, before)
    for headers in (POLL, READ_BACK):
        answer = other_tab.get("/board/rows", headers=headers)
        assert answer.status_code == 200 and not signed_again(answer), (headers, answer.headers.getlist("Set-Cookie"))
    sent = client.post(
        f"/incidents/{reference}/comments", data={"csrf_token": csrf(client, f"/incidents/{reference}"), "text": "x"}
    )
    assert sent.status_code == 302 and signed_again(sent), "the form's line is kept in the cookie"
    late = client.get("/board/rows", headers=POLL)  # carries the new cookie, but as another tab's would: answered late
    assert not signed_again(late), late.headers.getlist("Set-Cookie")
    page = client.get(sent.headers["Location"], headers=PAGE)
    assert f"Comment added to {reference}." in page.text
    assert signed_again(page), "a page signs the cookie again: the idle limit runs from the last page or form"
    assert signed_again(client.get("/board")), "so does a browser that does not say how the request was made"


def test_a_pages_own_requests_never_sign_a_cookie_again_unless_they_changed_its_session(app, client, world):
    """The cookie, signed at sign-in, is good for as long as a session may last (SESSION_ABSOLUTE_HOURS), and the idle
    limit is the session's last use on record: a page's own request writes back no session it left as it was, however
    old its cookie, so another tab's refresh never takes away a form's line. One that changed it writes it (Flask-Login
    marks a session not fresh once its address changed), and live.js gives up its refreshes when a form is sent."""
    sign_in(client, "duty")
    time_passes(app, client, timedelta(hours=23))
    seen_at(app, utcnow() - timedelta(seconds=30))  # used a moment ago: within the idle limit
    answer = client.get("/board/rows", headers=POLL)
    assert answer.status_code == 200 and not signed_again(answer), answer.headers.getlist("Set-Cookie")
    moved = client.get("/board/rows", headers=POLL, environ_base={"REMOTE_ADDR": "10.1.1.1"})
    assert moved.status_code == 200 and signed_again(moved), "a session the request changed is written"


def test_a_session_used_only_by_a_pages_own_requests_lasts_the_idle_limit_after_the_last(app, client, world):
    """The idle limit was the cookie's age, which a page's own requests renew only now and then: a session used only
    through them (a board watched, a form whose position is read back) ended between half the idle limit and the
    whole of it after the last. Every request keeps the session's last use in the database, and the limit runs from
    it, to the minute."""
    sign_in(client, "duty")
    time_passes(app, client, IDLE / 3)
    assert client.get("/board/rows", headers=POLL).status_code == 200, "the last request, the cookie not signed again"
    time_passes(app, client, IDLE - timedelta(minutes=2))
    before = last_seen(app)
    answer = client.get("/board/rows", headers=POLL)
    assert answer.status_code == 200, "the idle limit is not over: it runs from the last request, not the cookie"
    assert last_seen(app) - before >= IDLE - timedelta(minutes=2), "and that request is the last use now"
    seen_at(app, utcnow() - IDLE - timedelta(minutes=1))
    assert client.get("/board/rows", headers=POLL).status_code == 401, "idle for the limit and a minute: ended"
    assert client.get("/board").status_code == 302


def test_a_board_left_open_keeps_its_session_past_a_watch(app, client, world):
    """Its refreshes keep the session's last use, and the cookie, signed at sign-in and not by them, is good for as
    long as a session may last: only the absolute limit ends it."""
    sign_in(client, "duty")
    for _ in range(3):  # 18 hours of a board refreshing
        time_passes(app, client, IDLE / 2)
        assert client.get("/board/rows", headers=POLL).status_code == 200
    time_passes(app, client, IDLE / 2)  # 24 hours after sign-in
    assert client.get("/board/rows", headers=POLL).status_code == 401


def test_a_sessions_last_use_is_written_at_most_once_a_minute(app, client, world):
    """A board refreshing every few seconds does not write on each request; a page, a refresh and a form each keep
    a last use a minute old."""
    sign_in(client, "duty")
    recent = utcnow() - timedelta(seconds=30)
    seen_at(app, recent)
    assert client.get("/board/rows", headers=POLL).status_code == 200
    assert last_seen(app) == recent, "used within the minute: not written again"
    reference = file_incident(client, world)["reference"]
    form = {"csrf_token": csrf(client, f"/incidents/{reference}"), "text": "x"}
    for send in (
        lambda: client.get("/board/rows", headers=POLL),
        lambda: client.get("/board", headers=PAGE),
        lambda: client.post(f"/incidents/{reference}/comments", data=form),  # a request that writes
    ):
        stale = utcnow() - timedelta(seconds=61)
        seen_at(app, stale)
        answer = send()
        assert answer.status_code in (200, 302) and last_seen(app) > stale, (answer.status_code, last_seen(app))


def test_a_busy_session_still_ends_at_the_absolute_limit(app, client, world):
    sign_in(client, "duty")
    assert client.get("/").status_code == 200
    with session_scope(app) as session:
        session.execute(update(WebSession).values(created_at=utcnow() - timedelta(hours=24, minutes=1)))
    assert client.get("/").status_code == 302


def test_sign_in_issues_a_new_session_and_csrf_token(app, client, world):
    before = csrf(client, "/signin")
    anonymous = cookie(client)
    response = client.post("/signin", data={"csrf_token": before, "username": "duty", "password": "duty-password"})
    assert response.status_code == 302 and cookie(client) != anonymous
    reference = file_incident(client, world)["reference"]
    stale = client.post(f"/incidents/{reference}/comments", data={"csrf_token": before, "text": "with the old token"})
    assert stale.status_code == 400, "the token from before sign-in is no longer valid"
    fresh = csrf(client, f"/incidents/{reference}")
    assert fresh != before
    answer = client.post(f"/incidents/{reference}/comments", data={"csrf_token": fresh, "text": "with the new one"})
    assert answer.status_code == 302


def test_a_borrowed_session_cannot_guess_the_current_password_unhindered(app, client, world):
    """The current password guards the password change against someone at a browser left signed in: the
    form is held to the same limits as signing in (after 3 wrong ones, 429 with Retry-After, even for the
    right one), and the owner hears of the guessing at their next sign-in."""
    sign_in(client, "liaison")

    def change(current: str):
        return client.post(
            "/password",
            data={"csrf_token": csrf(client, "/password"), "current_password": current, "password": "taken-over-1"},
        )

    answers = [change(f"guess-{n}").status_code for n in range(3)]
    assert answers == [422, 422, 422], answers
    refused = change("liaison-password")
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "1", refused.status_code
    owner = app.test_client()  # elsewhere: the right (unchanged) password gets in, and the owner is told
    answer = owner.post(
        "/signin",
        data={"csrf_token": csrf(owner, "/signin"), "username": "liaison", "password": "liaison-password"},
        environ_base={"REMOTE_ADDR": "10.1.1.1"},
    )
    assert answer.status_code == 302, answer.status_code
    assert "3 failed sign-in attempt(s)" in owner.get(answer.headers["Location"]).text


def test_a_form_kept_open_for_hours_is_taken_while_its_session_lives(app, client, world, monkeypatch):
    """Flask-WTF's own hour refused a comment typed over a long call ("Form expired", what was typed lost), in a session
    that lasts a watch: a form's token lasts as long as a session may (SESSION_ABSOLUTE_HOURS), and no longer."""
    reference = file_incident(app.test_client(), world)["reference"]
    sign_in(client, "liaison")
    token = csrf(client, f"/incidents/{reference}")
    drawn = itsdangerous.timed.time.time()
    hours = app.config["SESSION_ABSOLUTE_HOURS"]
    assert app.config["WTF_CSRF_TIME_LIMIT"] == hours * 3600

    def post_after(seconds: float):
        monkeypatch.setattr("itsdangerous.timed.time.time", lambda: drawn + seconds)
        return client.post(f"/incidents/{reference}/comments", data={"csrf_token": token, "text": "Called Eastland."})

    later = post_after(3 * 3600)
    assert later.status_code == 302, (later.status_code, later.text[:500])
    too_late = post_after(hours * 3600 + 60)
    assert too_late.status_code == 400 and "Form expired" in too_late.text, too_late.status_code
