"""Sign-in under attack (issue 12, items 1, 2 and 10): no answer is held back, a guesser elsewhere
cannot lock the owner out, and a name nobody has costs the same password check as one that exists."""

import hashlib
import hmac
import time
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from tests.support import build_world, csrf
from tracker.db import session_scope
from tracker.errors import Conflict
from tracker.models import AccountEvent, OwnKey, SignInFailure, User
from tracker.services.accounts import people
from tracker.timeutil import utcnow


def attempt(client, who: str, password: str, address: str):
    """One sign-in through the form, from address."""
    token = csrf(client, "/signin")
    return client.post(
        "/signin",
        data={"csrf_token": token, "username": who, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def failures_of(session, name: str, address: str) -> SignInFailure | None:
    """The failures counted for the name as typed from the address."""
    return session.get(SignInFailure, (people.account_key(session, name), address))


@pytest.fixture
def no_sleeping(monkeypatch):
    """A request that sleeps holds a sync worker: make any sleep fail the test."""

    def refuse(seconds):
        raise AssertionError(f"a request slept {seconds} s")

    monkeypatch.setattr(time, "sleep", refuse)


def test_after_its_failures_a_pair_is_refused_at_once_with_retry_after_and_nothing_sleeps(
    app, client, world, no_sleeping
):
    for number in range(1, 4):
        response = attempt(client, "duty", "wrong-password", "10.0.0.9")
        assert response.status_code == 401, (number, response.status_code)
    response = attempt(client, "duty", "duty-password", "10.0.0.9")
    assert response.status_code == 429, "even the right password waits for the pair's next allowed attempt"
    with session_scope(app) as session:
        pair = failures_of(session, "duty", "10.0.0.9")
        assert pair.failures == 3 and pair.next_attempt_at is not None
        wait = (pair.next_attempt_at - utcnow()).total_seconds()
    assert response.headers["Retry-After"] == "1" and 0 < wait <= 1, (response.headers, wait)
    with session_scope(app) as session:  # the wait is over
        session.execute(update(SignInFailure).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    assert attempt(client, "duty", "wrong-again", "10.0.0.9").status_code == 401
    with session_scope(app) as session:
        pair = failures_of(session, "duty", "10.0.0.9")
        assert pair.failures == 4 and 1 < (pair.next_attempt_at - utcnow()).total_seconds() <= 2, "then 2 s"
        session.execute(update(SignInFailure).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    assert attempt(client, "duty", "duty-password", "10.0.0.9").status_code == 302
    with session_scope(app) as session:
        assert failures_of(session, "duty", "10.0.0.9") is None, "a success forgets the pair's failures"


def test_a_guesser_elsewhere_cannot_lock_the_owner_out_and_the_owner_is_told(app, world, no_sleeping):
    attacker = app.test_client()
    statuses = []
    for number in range(24):  # 8 addresses, 3 wrong guesses each: more than SIGNIN_PER_ACCOUNT (20)
        statuses.append(attempt(attacker, "supervisor", f"guess-{number}", f"203.0.113.{number % 8}").status_code)
    assert statuses == [401] * 20 + [429] * 4, "after 20 failures, addresses that failed for it wait"
    refused = attempt(attacker, "supervisor", "supervisor-password", "203.0.113.1")
    assert refused.status_code == 429, "an address that has been guessing is refused, even with the password"
    owner = app.test_client()
    response = attempt(owner, "supervisor", "supervisor-password", "192.0.2.7")
    assert response.status_code == 302, "the owner, from an address with no failures, gets in"
    page = owner.get(response.headers["Location"]).text
    assert "20 failed sign-in attempt(s) on your account" in page and "203.0.113." in page, page[:3000]
    with session_scope(app) as session:
        supervisor = session.scalar(select(User).where(User.username == "supervisor"))
        events = session.scalars(select(AccountEvent).where(AccountEvent.user_id == supervisor.id)).all()
    guessing = sorted(event.address for event in events if event.kind == "guessing")
    assert guessing == [f"203.0.113.{n}" for n in range(4)], [(e.kind, e.address) for e in events]
    assert [e.details for e in events if e.kind == "signed_in"] == [{"failed_before": 20}]


def test_a_name_nobody_has_costs_the_same_password_check(client, world, monkeypatch):
    checks = []

    class Counted:
        def __init__(self, hasher):
            self.hasher = hasher

        def __getattr__(self, name):
            return getattr(self.hasher, name)

        def verify(self, hash_, password):
            checks.append(password)
            return self.hasher.verify(hash_, password)

    monkeypatch.setattr(people, "_hasher", Counted(people._hasher))
    assert attempt(client, "nobody-by-this-name", "some-password", "10.0.0.3").status_code == 401
    assert attempt(client, "duty", "wrong-password", "10.0.0.3").status_code == 401
    assert checks == ["some-password", "wrong-password"], "an unknown name is checked against a stand-in hash"


def test_a_deactivated_user_is_refused_like_a_wrong_password(app, client, world):
    with session_scope(app) as session:
        people.deactivate(session, people.find_user(session, "liaison"), by="admin")
    response = attempt(client, "liaison", "liaison-password", "10.0.0.4")
    assert response.status_code == 401 and "Wrong username or password" in response.text


def test_the_admin_sees_the_guessing_in_the_users_security_log(app, world):
    for number in range(3):
        attempt(app.test_client(), "liaison", f"guess-{number}", "198.51.100.23")
    admin = app.test_client()
    attempt(admin, "admin", "admin-password", "10.0.0.1")
    with session_scope(app) as session:
        user_id = people.find_user(session, "liaison").id
    page = admin.get(f"/admin/users/{user_id}").text
    assert 'data-event="guessing"' in page and "198.51.100.23" in page, page[-3000:]


@pytest.mark.both_databases  # each failure is counted by one statement, an upsert written per engine
def test_wrong_passwords_arriving_together_are_each_counted(make_app):
    """Eight wrong passwords for one account from one address at once: every one that was checked is
    counted, on the pair and on the account, and none is answered with a conflict. Read, then written
    back, they were counted as two on PostgreSQL, and the pair's first two failures clashed (409):
    guessing in parallel slipped under the slow-down."""
    import threading

    app = make_app(RATE_LIMIT_WINDOW_SECONDS=3600, SIGNIN_PER_ADDRESS=1000, SIGNIN_PER_ACCOUNT=1000)
    build_world(app)
    clients = [app.test_client() for _ in range(8)]
    tokens = [csrf(client, "/signin") for client in clients]
    start, answers = threading.Barrier(len(clients)), []

    def guess(client, token) -> None:
        start.wait()
        form = {"csrf_token": token, "username": "duty", "password": "wrong-password"}
        answers.append(client.post("/signin", data=form, environ_base={"REMOTE_ADDR": "10.0.0.7"}).status_code)

    threads = [threading.Thread(target=guess, args=pair) for pair in zip(clients, tokens, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    checked = answers.count(401)
    assert len(answers) == 8 and set(answers) <= {401, 429}, answers
    with session_scope(app) as session:
        pair = failures_of(session, "duty", "10.0.0.7")
        user = session.scalar(select(User).where(User.username == "duty"))
        guessing = session.scalars(select(AccountEvent).where(AccountEvent.kind == "guessing")).all()
        assert (pair.failures, user.failed_logins) == (checked, checked), (answers, pair.failures, user.failed_logins)
        assert len(guessing) == 1, "the pair's slow-down starts once, told once"
        assert pair.next_attempt_at is not None


def test_a_streak_older_than_the_window_starts_again_from_one(app, client, world):
    """The count of a pair whose last failure is older than the window starts again (one statement now:
    the upsert's CASE reads the stored row's time)."""
    window = app.config["RATE_LIMIT_WINDOW_SECONDS"]
    old = utcnow() - timedelta(seconds=window + 5)
    with session_scope(app) as session:
        duty = people.account_key(session, "duty")
        session.add(SignInFailure(account=duty, address="10.0.0.8", failures=7, last_failed_at=old))
    assert attempt(client, "duty", "wrong-password", "10.0.0.8").status_code == 401
    with session_scope(app) as session:
        pair = failures_of(session, "duty", "10.0.0.8")
        assert (pair.failures, pair.next_attempt_at) == (1, None), (pair.failures, pair.next_attempt_at)
        assert pair.last_failed_at > old + timedelta(seconds=window)
    assert attempt(client, "duty", "wrong-password", "10.0.0.8").status_code == 401
    with session_scope(app) as session:
        assert failures_of(session, "duty", "10.0.0.8").failures == 2, "then counted on"


def test_a_wait_longer_than_the_window_is_kept_and_the_streak_goes_on(app, client, world):
    """The wait doubles up to SIGNIN_BACKOFF_MAX_SECONDS (300), past the window (60 s): a pair told to
    wait 64 s is refused until then, not let in once its last failure is a minute old, and its next
    failure waits 128 s rather than starting the streak again from nothing."""
    window = app.config["RATE_LIMIT_WINDOW_SECONDS"]
    last = utcnow() - timedelta(seconds=window + 2)
    with session_scope(app) as session:  # the ninth failure: 3 free, then 1, 2, 4, 8, 16, 32, 64 s
        session.add(
            SignInFailure(
                account=people.account_key(session, "duty"), address="10.0.0.7", failures=9, last_failed_at=last,
                next_attempt_at=last + timedelta(seconds=64),
            )
        )  # fmt: skip
    response = attempt(client, "duty", "duty-password", "10.0.0.7")
    assert response.status_code == 429, "the pair was told to wait 64 s: even the right password waits"
    assert 0 < int(response.headers["Retry-After"]) <= 64 - window, response.headers
    with session_scope(app) as session:  # the wait is over, more than the window after the last failure
        session.execute(update(SignInFailure).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    assert attempt(client, "duty", "wrong-password", "10.0.0.7").status_code == 401
    with session_scope(app) as session:
        pair = failures_of(session, "duty", "10.0.0.7")
        wait = (pair.next_attempt_at - utcnow()).total_seconds() if pair.next_attempt_at else None
        assert pair.failures == 10 and wait is not None and 120 < wait <= 128, (pair.failures, wait)


def test_failures_from_the_address_that_then_signs_in_are_told_with_that_address(app, client, world):
    """The owner is told where the failures came from, their own address among them: the pair's row was
    deleted before the addresses were read, and the sentence said "from ." for a failure made here."""
    assert attempt(client, "duty", "wrong-password", "198.51.100.4").status_code == 401
    response = attempt(client, "duty", "duty-password", "198.51.100.4")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).text
    assert "1 failed sign-in attempt(s) on your account" in page and "from 198.51.100.4." in page, page[:3000]


def test_a_password_typed_as_the_name_is_kept_only_as_a_keyed_digest(app, client, world):
    """Typed into the name field, a password was kept readable in signin_failures for a day, as was any name of no
    account. The name is kept as its HMAC under a key of the database's own (own_keys): one in any case is one
    account, and whoever reads the table cannot test guesses against it without the key."""
    password = "Duty-Password-Typed-As-Name"
    for typed in (password, f"  {password.upper()} "):
        assert attempt(client, typed, "x", "10.0.0.5").status_code == 401
    with session_scope(app) as session:
        rows = session.execute(select(SignInFailure.account, SignInFailure.failures)).all()
        key = people.account_key(session, password)
    assert rows == [(key, 2)], rows
    unkeyed = hashlib.sha256(password.casefold().encode()).hexdigest()
    assert len(key) == 64 and password.casefold() not in key and key != unkeyed, key
    with session_scope(app) as session:
        [(purpose, own)] = session.execute(select(OwnKey.purpose, OwnKey.key)).all()
    assert purpose == "sign-in names" and key == hmac.new(own, password.casefold().encode(), "sha256").hexdigest()


def test_look_alikes_of_a_name_are_counted_as_that_name(app, client, world, no_sleeping):
    """A guesser spread their attempts over names that read as "duty" (another case, full-width letters, a
    zero-width space inside), each counted apart, and stayed under the slow-down of the name they imitate. They
    are one count now, the name's own."""
    for typed in ("DUTY", "\uff44\uff55\uff54\uff59", "du\u200bty"):
        assert attempt(client, typed, "wrong-password", "10.0.0.11").status_code == 401, typed
    refused = attempt(client, "duty", "duty-password", "10.0.0.11")
    assert refused.status_code == 429, "three failures for the name from the address: the next one waits"
    with session_scope(app) as session:
        assert failures_of(session, "duty", "10.0.0.11").failures == 3
        assert session.scalars(select(SignInFailure.account)).all() == [people.account_key(session, "duty")]


@pytest.mark.both_databases  # PostgreSQL keeps no NUL in a text
def test_a_name_that_is_not_text_is_refused_with_a_4xx(app, client, world):
    """Bytes that are no UTF-8, a lone surrogate's encoding, a NUL: refused (400) or a failed sign-in, never a 500."""
    for raw in (b"du%FFty", b"duty%ED%A0%80", b"du%00ty"):
        token = csrf(client, "/signin")
        answer = client.post(
            "/signin",
            data=b"csrf_token=" + token.encode() + b"&username=" + raw + b"&password=wrong-password",
            content_type="application/x-www-form-urlencoded",
            environ_base={"REMOTE_ADDR": "10.0.0.12"},
        )
        assert answer.status_code in (400, 401), (raw, answer.status_code)


def test_an_account_is_not_named_like_another(app, world):
    """An admin could name an account "duty" with a zero-width space inside beside "duty": one name to whoever reads
    them, and one count of failed sign-ins."""
    with session_scope(app) as session:
        # ... nor in another script: "duty" with a Cyrillic у, or with a Cyrillic capital Т.
        for name in ("du\u200bty", "DUTY", "\uff44\uff55\uff54\uff59", "dut\u0443", "du\u0422y"):
            with pytest.raises(Conflict, match="reads as the same name"):
                people.create_user(session, name, "a-long-password", "liaison", by=None)
        assert people.create_user(session, "duty2", "a-long-password", "liaison", by=None).username == "duty2"


def test_the_login_address_people_try_first_leads_to_the_sign_in_page(client):
    """/login answered 404, whose only link led to the sign-in page anyway."""
    answer = client.get("/login")
    assert answer.status_code == 301 and answer.headers["Location"] == "/signin", answer.headers
    onward = client.get("/login?next=/board")
    assert onward.headers["Location"] == "/signin?next=/board", onward.headers
    assert client.get("/login?next=https://elsewhere.test/").headers["Location"] == "/signin", "never off the site"
