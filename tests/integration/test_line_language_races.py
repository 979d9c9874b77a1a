"""An exchange opened on a line while an admin changes the line's language: the exchange takes the language the line
reads once the save is through. It read the line before the save's lock, took the old language, and the save
(finding no exchange open in it yet) changed the line: an open exchange wrote its old language for its life on a
line that reads another. SQLite lets one writer in at a time; on PostgreSQL the opening waits on the save's lock."""

import pytest
from sqlalchemy import text

from tests.exchange_support import LINE, acknowledged_incident, add_counterpart_line
from tests.locks import WAITING, Second
from tests.pauses import PauseAt, Run
from tests.schedulers import wait_until
from tests.support import build_world
from tracker.db import session_scope
from tracker.models import ContactChannel, Exchange, User
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


def someone_waits(app) -> int:
    with session_scope(app, reads_only=True) as session:
        return session.scalar(text(WAITING))


def saving(app, world, line: int, body: dict):
    """The API's answer to an admin's PATCH of the line, from a client of the thread's own."""
    answer = app.test_client().patch(f"/api/v1/channels/{line}", json=body, headers=world.auth("admin"))
    return answer.status_code, answer.get_json()


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"check_cron": "0 * * * *", "check_interval_seconds": None}, {"check_interval_seconds": 600}),
        ({"language": "fr"}, {"language": "ru"}),
    ],
)
def test_a_save_that_waited_on_another_admins_checks_the_line_as_that_one_left_it(backend, app, first, second):
    """The second save waited on the first's lock, then checked its change against the line as it had read it
    before: an interval set beside the cron the first had just set (both kept, "not both" passed), and a language
    set back to what it had read answered as saved while nothing was written (the line read the first's)."""
    if backend != "postgresql":
        pytest.skip("SQLite lets one writer in at a time: no save reads the line while another writes it")
    world = build_world(app)
    line = add_counterpart_line(app, world)
    assert saving(app, world, line, {"check_interval_seconds": 3600})[0] == 200
    pause = PauseAt(app, r"^\s*UPDATE contact_channels")  # the first holds the line, about to write
    try:
        one = Run(lambda: saving(app, world, line, first), pause)
        one.start()
        pause.wait()
        other = Run(lambda: saving(app, world, line, second))
        other.start()
        wait_until(lambda: someone_waits(app) or not other.is_alive(), 20, "the second save waiting on the first")
        pause.go()
        assert one.result()[0] == 200
        status, answered = other.result()
    finally:
        pause.remove()
    with session_scope(app) as session:
        kept = session.get_one(ContactChannel, line)
        interval, cron, language = kept.check_interval_seconds, kept.check_cron, kept.language
    assert not (interval and cron), ("a line kept both an interval and a cron", status, answered)
    if status == 200:
        assert (answered["check_interval_seconds"], answered["check_cron"], answered["language"]) == (
            interval,
            cron,
            language,
        ), "answered as it stands"
