"""Two lines named alike at once ("l4" and "L4", made by two admins): one is made, the other refused as a name
taken. The unique index holds exactly equal names only, and names are compared folded in Python, so the names'
lock does (SQLite: the write lock taken at BEGIN; PostgreSQL: an advisory lock the second save waits on)."""

import threading

import pytest
from sqlalchemy import func, select, text

from tests.schedulers import wait_until
from tests.support import build_world
from tracker.db import session_scope
from tracker.errors import Conflict
from tracker.models import ContactChannel
from tracker.services.incidents import ladder

pytestmark = pytest.mark.both_databases

WAITING = "SELECT count(*) FROM pg_locks WHERE NOT granted AND locktype = 'advisory'"


def line(name: str) -> dict:
    return {"name": name, "level": 4, "transport": "outbox", "address": f"{name.lower()}@ours.test", "members": []}


def test_two_lines_named_alike_at_once_make_one(backend, app):
    if backend != "postgresql":
        pytest.skip("SQLite lets one writer in at a time: no save reads the names while another writes one")
    build_world(app)
    transports = app.extensions["tracker.transports"]
    second: list = []

    def save_alike() -> None:
        try:
            with session_scope(app) as session:
                second.append(ladder.save_channel(session, line("l4"), transports).id)
        except Conflict as refused:
            second.append(refused)

    with session_scope(app) as first:
        ladder.save_channel(first, line("L4"), transports)  # not committed yet
        racing = threading.Thread(target=save_alike)
        racing.start()

        def waiting_or_done():
            with session_scope(app, reads_only=True) as session:
                return second or session.scalar(text(WAITING))

        wait_until(waiting_or_done, 30, "the second save waiting for the first, or done")
    racing.join(30)
    [refused] = second
    assert isinstance(refused, Conflict) and "is taken" in refused.message, refused
    with session_scope(app) as session:
        names = session.scalars(select(ContactChannel.name).where(func.lower(ContactChannel.name) == "l4")).all()
    assert names == ["L4"], names
