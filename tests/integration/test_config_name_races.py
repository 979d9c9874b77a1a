"""Two lines named alike at once ("l4" and "L4", made by two admins): one is made, the other refused as a name
taken. The unique index holds exactly equal names only, and names are compared folded in Python, so the names'
lock does (SQLite: the write lock taken at BEGIN; PostgreSQL: an advisory lock the second save waits on)."""

import pytest
from sqlalchemy import func, select

from tests.locks import Second
from tests.support import build_world
from tracker.db import session_scope
from tracker.errors import Conflict
from tracker.models import ContactChannel
from tracker.services.incidents import ladder

pytestmark = pytest.mark.both_databases


def line(name: str) -> dict:
    return {"name": name, "level": 4, "transport": "outbox", "address": f"{name.lower()}@ours.test", "members": []}


def test_two_lines_named_alike_at_once_make_one(backend, app):
    if backend != "postgresql":
        pytest.skip("SQLite lets one writer in at a time: no save reads the names while another writes one")
    build_world(app)
    transports = app.extensions["tracker.transports"]

    def save_alike() -> int:
        with session_scope(app) as session:
            return ladder.save_channel(session, line("l4"), transports).id

    with session_scope(app) as first:
        ladder.save_channel(first, line("L4"), transports)  # not committed yet
        second = Second(app, save_alike, "the second save")
    refused = second.result()
    assert isinstance(refused, Conflict) and "is taken" in refused.message, refused
    with session_scope(app) as session:
        names = session.scalars(select(ContactChannel.name).where(func.lower(ContactChannel.name) == "l4")).all()
    assert names == ["L4"], names
