"""Failed sign-ins are counted under a key of the database's own (services.accounts.own_keys), not one derived from
SECRET_KEY: a new SECRET_KEY started every count again, so an operator rotating it gave a guesser fresh attempts
and lifted the slow-downs they had seen."""

import hashlib
import hmac
import threading

import pytest
from sqlalchemy import select

from tests.conftest import app_config
from tests.statements import recorded
from tests.support import build_world, csrf
from tracker import create_app, migrate
from tracker.db import engine_of, session_scope
from tracker.models import OwnKey, SignInFailure
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


def test_the_key_is_read_once_then_kept_by_the_process(app, world):
    """Every sign-in and password check read the key again, one SELECT more each; it never changes once made."""
    assert attempt(app, "duty", "guess-1", "203.0.113.7") == 401  # the key made, in a transaction of its own
    assert attempt(app, "duty", "guess-2", "203.0.113.7") == 401  # read, committed: kept from now on
    with recorded(app) as seen:
        assert attempt(app, "duty", "duty-password", "192.0.2.9") == 302
    assert seen and not [statement for statement in seen if "own_keys" in statement], seen


def test_a_restore_brings_its_own_key_and_the_kept_one_goes(database_at, tmp_path):
    """The process that restores a backup (and its tests) counts under the key the restored database holds, not one
    read before: `restore` disposes the app's engine around replacing the database, and the kept keys go with it."""
    app = create_app(app_config(tmp_path / "outbox", DATABASE_URL=database_at(migrate.head())))
    try:
        build_world(app)
        runner = app.test_cli_runner()
        backup = tmp_path / "before-any-key.tar.gz"
        assert runner.invoke(args=["backup", str(backup)]).exit_code == 0
        for n in range(2):  # the key made, then read and kept
            assert attempt(app, "duty", f"guess-{n}", "203.0.113.8") == 401
        with session_scope(app) as session:
            before = session.scalars(select(OwnKey.key)).one()
        restored = runner.invoke(args=["restore", "--force", str(backup)])
        assert restored.exit_code == 0, restored.output
        assert attempt(app, "duty", "guess-after", "203.0.113.8") == 401
        with session_scope(app) as session:
            key = session.scalars(select(OwnKey.key)).one()  # made again: the backup held none
            accounts = session.scalars(select(SignInFailure.account)).all()
    finally:
        engine_of(app).dispose()
    assert key != before and accounts == [hmac.new(key, b"duty", hashlib.sha256).hexdigest()], accounts


def test_a_key_made_in_a_transaction_rolled_back_is_not_kept(app):
    """Read again in the transaction that made it, the key is not yet committed: kept, it would outlive its rollback
    and count failures under a key no other process has."""
    with session_scope(app) as session:
        made = own_keys.key_for(session, own_keys.SIGN_IN_NAMES)
        assert own_keys.key_for(session, own_keys.SIGN_IN_NAMES) == made
        session.rollback()
    with session_scope(app) as session:
        key = own_keys.key_for(session, own_keys.SIGN_IN_NAMES)
    with session_scope(app) as session:
        assert session.scalars(select(OwnKey.key)).all() == [key] and key != made
