"""A text to the other side withheld while delivery works on it, on PostgreSQL, each interleaving forced (tests/pauses):
the withholding and the delivery's claim, a try's failure recorded, a second settler of a stranded try, and their
reply recorded while the withheld request's exchange is put back. Nothing withheld goes out, no record says a text
that went never went, and nobody waits on anybody for good."""

import time

import pytest
from sqlalchemy import select, text, update

from tests.exchange_support import acknowledged_incident, add_counterpart_line, api, move
from tests.exchange_support import open_exchange as open_
from tests.locks import WAITING
from tests.pauses import PauseAt, Run
from tests.schedulers import wait_until
from tests.support import outbox_files
from tracker import dispatch, jobs
from tracker.channels import DeliveryError
from tracker.db import session_scope
from tracker.models import EventKind, Notification, NotificationStatus, TimelineEvent
from tracker.services.engine import delivery
from tracker.timeutil import utcnow

pytestmark = pytest.mark.both_databases

REPLY = {"direction": "in", "kind": "reply", "text": "Standard procedure: the aircraft kept to its corridor."}


@pytest.fixture(autouse=True)
def postgresql_only(backend):
    if backend != "postgresql":
        pytest.skip("SQLite lets one writer in at a time: no interleaving to force")


def row_of(app, line: int) -> Notification:
    with session_scope(app) as session:
        [row] = session.scalars(select(Notification).where(Notification.channel_id == line)).all()
        session.expunge(row)
        return row


def someone_waits(app) -> int:
    with session_scope(app, reads_only=True) as session:
        return session.scalar(text(WAITING))


def call(app, world, method: str, path: str, body: dict, who: str) -> tuple[int, dict | str]:
    """The API's answer from a client of the thread's own; a 500 as what the app raised."""
    try:
        response = app.test_client().open(f"/api/v1{path}", method=method, json=body, headers=world.auth(who))
    except Exception as raised:  # the test client propagates what the app raises (a 500 in production)
        return 500, f"{type(raised).__name__}: {type(getattr(raised, 'orig', None)).__name__}"
    return response.status_code, response.get_json()


def request_waiting(app, client, world) -> tuple[int, str, dict]:
    """A request for explanation queued over a counterpart line, its format carrying the position."""
    line = add_counterpart_line(app, world)
    reference = acknowledged_incident(client, world)
    exchange = open_(client, world, reference, text=None)
    jobs.deliver(app)  # the desks' alerts out of the way
    move(client, world, exchange["id"], "explanation_requested", "We request an explanation.")
    assert row_of(app, line).status is NotificationStatus.PENDING
    return line, reference, exchange


def withdraw_position(app, world, reference: str):
    return call(app, world, "PATCH", f"/incidents/{reference}/releasability", {"position": False}, "supervisor")


def test_a_delivery_meanwhile_sends_nothing_a_withholding_holds(app, client, world):
    """The withholding read the request waiting, without a lock; the delivery claimed it, sent it (the position in
    it) and recorded it sent; the withholding then wrote it over as withheld and "never sent"."""
    line, reference, exchange = request_waiting(app, client, world)
    before = len(outbox_files(app))
    pause = PauseAt(app, r"^\s*UPDATE notifications")
    try:
        withholding = Run(lambda: withdraw_position(app, world, reference), pause)
        withholding.start()
        pause.wait()  # it holds the waiting row, about to cancel it
        assert jobs.deliver(app) == 0, "the claim passes over the row the withholding holds"
        pause.go()
        assert withholding.result()[0] == 200
    finally:
        pause.remove()
    row = row_of(app, line)
    assert row.status is NotificationStatus.CANCELLED and row.last_error.startswith("withheld ("), row.last_error
    assert len(outbox_files(app)) == before, "nothing went"
    assert api(client, world, "GET", f"/exchanges/{exchange['id']}")["state"] == exchange["state"], "put back"


def test_a_failed_try_recorded_while_the_text_is_withheld_keeps_it_withheld(app, client, world, monkeypatch):
    """The try's failure read the row sending, not yet withheld; the withholding marked it; the failure then wrote
    it pending again with its own error over the mark, and the retry sent the withheld text."""
    line, reference, exchange = request_waiting(app, client, world)
    policy = dispatch.retry_policy(app)
    with session_scope(app) as session:
        [claimed] = delivery.claim_messages(session, utcnow(), 10, policy, dispatch.composer(app))

    def busy(app_, transport, message):
        raise DeliveryError("503 try later", transient=True)

    monkeypatch.setattr(dispatch, "send", busy)
    pause = PauseAt(app, r"^\s*UPDATE notifications")
    try:
        failing = Run(lambda: jobs._send_all(app, [claimed], policy), pause)
        failing.start()
        pause.wait()  # the failure holds the row, about to write it
        withholding = Run(lambda: withdraw_position(app, world, reference))
        withholding.start()
        wait_until(lambda: someone_waits(app) or not withholding.is_alive(), 20, "the withholding waiting")
        pause.go()
        failing.result()
        assert withholding.result()[0] == 200
    finally:
        pause.remove()
    monkeypatch.undo()
    with session_scope(app) as session:  # a retry's time, were it to be retried
        session.execute(update(Notification).where(Notification.channel_id == line).values(next_attempt_at=utcnow()))
    before = len(outbox_files(app))
    jobs.deliver(app)
    row = row_of(app, line)
    assert row.status is NotificationStatus.CANCELLED and row.last_error.startswith("withheld ("), row.last_error
    assert len(outbox_files(app)) == before, "the withheld text never went"
    assert api(client, world, "GET", f"/exchanges/{exchange['id']}")["state"] == exchange["state"], "put back"


def test_two_settlers_of_a_stranded_try_settle_it_once(app, client, world):
    line, reference, _exchange = request_waiting(app, client, world)
    policy = dispatch.retry_policy(app)
    with session_scope(app) as session:
        delivery.claim_messages(session, utcnow(), 10, policy, dispatch.composer(app), runner="gone:1")
    assert withdraw_position(app, world, reference)[0] == 200
    with session_scope(app) as session:  # its scheduler gone, its claim lapsed
        session.execute(update(Notification).where(Notification.channel_id == line).values(claimed_until=utcnow()))

    def settle():
        with session_scope(app) as session:
            return delivery.settle_stranded(session, utcnow(), policy, app.config["PUBLIC_URL"])

    pause = PauseAt(app, r"UPDATE notifications SET status", after=True)  # the first holds the row
    try:
        first = Run(settle, pause)
        first.start()
        pause.wait()
        second = Run(settle)
        second.start()
        settled_second = second.result()
        pause.go()
        settled_first = first.result()
    finally:
        pause.remove()
    assert sorted([len(settled_first), len(settled_second)]) == [0, 1], (settled_first, settled_second)
    with session_scope(app) as session:
        events = session.scalars(select(TimelineEvent).where(TimelineEvent.kind == EventKind.DEAD_LETTERED)).all()
    assert len(events) == 1, [e.details for e in events]


@pytest.mark.parametrize("putting_back", ["withholding", "delivery batch"])
def test_their_reply_while_a_withheld_requests_exchange_is_put_back_waits_its_turn(
    app, client, world, monkeypatch, putting_back
):
    """Putting the exchange back held the request's row, then asked for the exchange; their reply held the exchange,
    then asked for the request's row: a deadlock, the reply answered 500 (or the delivery batch failed)."""
    line, reference, exchange = request_waiting(app, client, world)
    policy = dispatch.retry_policy(app)
    if putting_back == "delivery batch":
        with session_scope(app) as session:
            [claimed] = delivery.claim_messages(session, utcnow(), 10, policy, dispatch.composer(app))
        assert withdraw_position(app, world, reference)[0] == 200  # in flight: its try had not begun

        def never(app_, transport, message):
            raise AssertionError("a withheld text was sent")

        monkeypatch.setattr(dispatch, "send", never)
        work = lambda: jobs._send_all(app, [claimed], policy, claimed_at=time.monotonic() - 1)  # noqa: E731
    else:
        work = lambda: withdraw_position(app, world, reference)  # noqa: E731
    pause = PauseAt(app, r"^\s*UPDATE exchanges SET")
    try:
        first = Run(work, pause)
        first.start()
        pause.wait()  # it holds the exchange, about to move it back
        reply = Run(lambda: call(app, world, "POST", f"/exchanges/{exchange['id']}/messages", REPLY, "liaison"))
        reply.start()
        wait_until(lambda: someone_waits(app) or not reply.is_alive(), 20, "their reply waiting its turn")
        pause.go()
        done = first.result()
        answered = reply.result()
    finally:
        pause.remove()
    assert answered[0] == 201, answered
    assert putting_back == "delivery batch" or done[0] == 200, done
    assert row_of(app, line).status is NotificationStatus.CANCELLED
