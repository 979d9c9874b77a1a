"""What the other side did is judged by the time it did it, as the desk gives it, not by when the desk logged it
or when a sweep flagged a clock: a reply or a receipt given in time and logged after the clock ran out came in
time; a reply cannot come before the request it answers went; a minute typed rounded up is no time to come."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.exchange_support import (
    LINE,
    REQUEST,
    acknowledged_incident,
    acknowledged_over_a_line,
    add_counterpart_line,
    api,
    move,
)
from tests.exchange_support import open_exchange as open_
from tests.support import build_world, sign_in
from tracker.db import session_scope
from tracker.models import EventKind, Exchange, ExchangeMessage, TimelineEvent
from tracker.services.exchanges import exchanges, receipts
from tracker.timeutil import isoformat, utcnow


def requested_and_run_out(app) -> tuple:
    """An exchange whose request for explanation went 49 hours ago and whose reply clock the sweep has flagged."""
    world, client, reference = acknowledged_over_a_line(app)
    exchange = move(client, world, open_(client, world, reference)["id"], "explanation_requested", REQUEST)
    now = utcnow()
    with session_scope(app) as session:
        [request] = [m for m in session.get_one(Exchange, exchange["id"]).messages if m.pending_state is not None]
        request.at = now - timedelta(hours=49)
        session.get_one(Exchange, exchange["id"]).deadline_at = now - timedelta(hours=1)
    with session_scope(app) as session:
        assert exchanges.sweep_batch(session, now, 10, "test") == 1
    assert api(client, world, "GET", f"/exchanges/{exchange['id']}")["state"] == "overdue"
    return world, client, exchange, now


def reply(client, world, exchange: dict, received_at: str, status: int = 201) -> dict:
    body = {"direction": "in", "kind": "reply", "text": "It was a training flight.", "received_at": received_at}
    return api(client, world, "POST", f"/exchanges/{exchange['id']}/messages", body, status=status)


@pytest.mark.both_databases  # the overdue events found by their JSON details in SQL
@pytest.mark.parametrize(("received", "late"), [(timedelta(hours=2), 0), (timedelta(minutes=30), 1)])
def test_a_reply_is_answered_late_by_when_it_came_not_by_the_sweeps_flag(app, received, late):
    """Due an hour ago and flagged overdue: a reply received an hour before its deadline and logged after the flag
    was counted answered late; one received half an hour after it is."""
    world, client, exchange, now = requested_and_run_out(app)
    reply(client, world, exchange, isoformat(now - received))
    counted = api(client, world, "GET", "/reports/after-action", who="supervisor")["exchanges"]
    assert (counted["answered"], counted["answered_late"]) == (1, late), counted


def test_their_refusal_of_our_first_request_logged_after_our_second_is_taken(app):
    """The answer was compared with the latest of our requests, not the one it answers: their refusal of our request
    for an explanation, received before we asked for a meeting and logged after, was refused."""
    world, client, exchange, now = requested_and_run_out(app)
    meeting = "We request a meeting within 48 hours."
    move(client, world, exchange["id"], "meeting_requested", meeting)
    body = {"direction": "in", "kind": "refusal", "text": "We decline to explain.", "received_at": isoformat(now)}
    body["received_at"] = isoformat(now - timedelta(minutes=30))
    api(client, world, "POST", f"/exchanges/{exchange['id']}/messages", body, status=201)


def test_a_reply_cannot_have_come_before_the_request_it_answers_went(app):
    world = build_world(app)
    add_counterpart_line(app, world)
    client = app.test_client()
    reference = acknowledged_incident(client, world, occurred_at=isoformat(utcnow() - timedelta(days=2)))
    exchange = move(client, world, open_(client, world, reference)["id"], "explanation_requested", REQUEST)
    refused = reply(client, world, exchange, isoformat(utcnow() - timedelta(hours=5)), status=422)
    assert "received_at" in refused["error"]["details"], refused
    assert "before our text that asked for it went" in refused["error"]["message"], refused
    assert api(client, world, "GET", f"/exchanges/{exchange['id']}")["state"] == "explanation_requested"
    reply(client, world, exchange, isoformat(utcnow()))  # received now: taken


@pytest.mark.parametrize(
    ("given_minutes_ago", "flagged", "late"),
    [(90, True, False), (30, False, True)],  # due an hour ago: given before it (and logged after the flag), after it
)
def test_a_receipt_is_late_by_when_they_gave_it_not_by_the_sweeps_flag(app, given_minutes_ago, flagged, late):
    """Given before it was due and logged after the sweep flagged it: "late"; given after it was due and logged
    before any sweep: not late. The annual review counted both by their times, the other way round."""
    world, client, reference = acknowledged_over_a_line(app)
    exchange = open_(client, world, reference)
    [ours] = [m for m in exchange["messages"] if m["direction"] == "out"]
    now = utcnow()
    with session_scope(app) as session:
        message = session.get_one(ExchangeMessage, ours["id"])
        message.at, message.receipt_due_at = now - timedelta(hours=2), now - timedelta(hours=1)
    if flagged:
        with session_scope(app) as session:
            assert receipts.sweep_batch(session, now, 10, "test")
    path = f"/exchanges/{exchange['id']}/messages/{ours['id']}/receipt"
    given = {"at": isoformat(now - timedelta(minutes=given_minutes_ago)), "by": "Maj. Petrov", "via": "voice"}
    api(client, world, "POST", path, given)
    with session_scope(app) as session:
        [event] = session.scalars(select(TimelineEvent).where(TimelineEvent.kind == EventKind.RECEIPT_RECORDED))
        assert event.details["late"] is late, event.details
    sign_in(client, "liaison")
    page = client.get(f"/incidents/{reference}").get_data(as_text=True)
    shown = re.search(r'<p class="receipt" data-receipt="confirmed">.*?</p>', page, re.S)
    assert shown and (", late" in shown[0]) is late, shown and shown[0]


def test_a_minute_typed_rounded_up_is_taken_wherever_the_other_side_is_logged(app):
    """1110Z typed at 11:09:45 was taken for a filing, a call and a log line, and refused as "in the future" for a
    message received, a receipt and a check's answer."""
    world, client, reference = acknowledged_over_a_line(app)
    exchange = open_(client, world, reference)
    ahead = isoformat(utcnow() + timedelta(seconds=50))
    body = {"direction": "in", "kind": "message", "text": "We hear you.", "received_at": ahead}
    api(client, world, "POST", f"/exchanges/{exchange['id']}/messages", body, status=201)
    [ours] = [m for m in exchange["messages"] if m["direction"] == "out"]
    path = f"/exchanges/{exchange['id']}/messages/{ours['id']}/receipt"
    api(client, world, "POST", path, {"at": ahead, "by": "Maj. Petrov", "via": "voice"})
    far = isoformat(utcnow() + timedelta(minutes=20))
    body["received_at"] = far
    refused = api(client, world, "POST", f"/exchanges/{exchange['id']}/messages", body, status=422)
    assert "received_at" in refused["error"]["details"], refused

    line = world.channels[LINE]
    check = api(client, world, "POST", f"/channels/{line}/checks", who="supervisor", status=201)
    answer = {"at": ahead, "by": "Eastland duty officer", "via": "voice"}
    answered = api(client, world, "POST", f"/channels/{line}/checks/{check['id']}/answer", answer, who="supervisor")
    assert answered["outcome"] == "ok", answered
