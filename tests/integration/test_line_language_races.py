"""An exchange opened on a line while an admin changes the line's language: the exchange takes the language the line
reads once the save is through. It read the line before the save's lock, took the old language, and the save
(finding no exchange open in it yet) changed the line: an open exchange wrote its old language for its life on a
line that reads another. SQLite lets one writer in at a time; on PostgreSQL the opening waits on the save's lock."""

import pytest

from tests.exchange_support import LINE, acknowledged_incident, add_counterpart_line
from tests.locks import Second
from tests.support import build_world
from tracker.db import session_scope
from tracker.models import Exchange, User
from tracker.services.exchanges import exchanges
from tracker.services.incidents import handling, ladder
from tracker.timeutil import utcnow

pytestmark = pytest.mark.both_databases


def test_an_exchange_opened_while_its_lines_language_changes_takes_the_new_language(backend, app):
    if backend != "postgresql":
        pytest.skip("SQLite lets one writer in at a time: no opening reads the line while a save writes it")
    world = build_world(app)
    line = add_counterpart_line(app, world)
    reference = acknowledged_incident(app.test_client(), world)
    transports = app.extensions["tracker.transports"]

    def open_on_the_line() -> str | None:
        with session_scope(app) as session:
            incident = handling.get_incident(session, reference)
            liaison = session.query(User).filter_by(username="liaison").one()
            return exchanges.open_exchange(session, incident, line, liaison, utcnow()).language

    with session_scope(app) as first:
        channel = ladder.get_channel(first, line)
        ladder.save_channel(first, {"language": "fr"}, transports, channel)  # not committed yet
        second = Second(app, open_on_the_line, f"opening an exchange on {LINE}")
    opened = second.result()
    assert opened == "fr", f"the exchange took {opened!r}, the line reads fr"
    with session_scope(app) as session:
        assert [x.language for x in session.query(Exchange).all()] == ["fr"]
