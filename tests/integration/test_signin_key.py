"""Failed sign-ins are counted under a key of the database's own (services.accounts.own_keys), not one derived from
SECRET_KEY: a new SECRET_KEY started every count again, so an operator rotating it gave a guesser fresh attempts
and lifted the slow-downs they had seen."""

import threading

import pytest
from sqlalchemy import select

from tests.support import build_world, csrf
from tracker.db import session_scope
from tracker.models import OwnKey
from tracker.services.accounts import own_keys

# The key is made by an upsert written per engine, and two workers may make it at once.
pytestmark = pytest.mark.both_databases

ROTATED = "a-new-secret-key-of-the-operator-at-least-32-chars"


def attempt(app, who: str, password: str, address: str) -> int:
    client = app.test_client()
    form = {"csrf_token": csrf(client, "/signin"), "username": who, "password": password}
    return client.post("/signin", data=form, environ_base={"REMOTE_ADDR": address}).status_code


def test_the_counts_outlive_a_new_secret_key(make_app):
    before = make_app()
    build_world(before)
    assert [attempt(before, "duty", f"guess-{n}", "203.0.113.5") for n in range(3)] == [401] * 3
    after = make_app(SECRET_KEY=ROTATED)  # the same database, the operator's new key
    assert attempt(after, "duty", "duty-password", "203.0.113.5") == 429, "the address still waits"
    assert attempt(after, "duty", "duty-password", "192.0.2.8") == 302, "the owner, elsewhere, is let in"


def test_two_workers_making_the_key_at_once_make_one(make_app):
    app = make_app()
    start, keys = threading.Barrier(4), []

    def make() -> None:
        start.wait()
        with session_scope(app) as session:
            keys.append(own_keys.key_for(session, own_keys.SIGN_IN_NAMES))

    threads = [threading.Thread(target=make) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    with session_scope(app) as session:
        kept = session.scalars(select(OwnKey.key)).all()
    assert len(keys) == 4 and set(keys) == set(kept) and len(kept[0]) == 32, (len(keys), len(kept))
