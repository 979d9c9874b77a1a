"""Receipt clocks: each message of ours starts one (the line's seconds for the incident's precedence,
else the deployment's); when it runs out with no receipt the sweep flags the message once, tells each
supervisor once and puts it on the timeline; the board and the incident page show it; two sweepers
never flag one message twice. Time is driven by the `now` handed to the sweep."""

import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.exchange_support import NOTICE, add_counterpart_line, release_in_session
from tests.support import build_world, sign_in
from tracker import dispatch, jobs
from tracker.db import session_scope
from tracker.http.wiring import filing_limits
from tracker.models import (
    Domain,
    EscalationRisk,
    EventKind,
    ExchangeMessage,
    ExchangeState,
    Notification,
    NotificationKind,
    Precedence,
    TimelineEvent,
    User,
)
from tracker.services.accounts import people
from tracker.services.engine.claims import SetAside
from tracker.services.exchanges import exchanges, outgoing, receipts
from tracker.services.incidents import filing, handling
from tracker.timeutil import utcnow

# Claiming overdue receipts (SKIP LOCKED on PostgreSQL) and sweeps racing each other: per engine.
pytestmark = pytest.mark.both_databases


def notices_sent(app, count: int, now, receipt_seconds: dict | None = None) -> tuple[list[int], list[str]]:
    """count acknowledged IMMEDIATE incidents, each with a notice sent at now over the counterpart line."""
    world = build_world(app)
    line = add_counterpart_line(app, world, receipt_seconds=receipt_seconds, counterpart_state="Eastland")
    settings = outgoing.Settings(receipt_seconds=dict(outgoing.RECEIPT_SECONDS), links=dispatch.ack_links(app))
    with app.app_context():
        limits = filing_limits()
    draft = filing.IncidentDraft(
        occurred_at=now - timedelta(minutes=5),
        reporting_unit="2nd Air Defence Squadron",
        domain=Domain.AIR,
        category="unsafe_intercept",
        precedence=Precedence.IMMEDIATE,
        escalation_risk=EscalationRisk.SERIOUS,
        releasable_to=["Eastland"],
    )
    ids, references = [], []
    with session_scope(app) as session:
        duty = session.scalar(select(User).where(User.username == "duty"))
        liaison = session.scalar(select(User).where(User.username == "liaison"))
        for _ in range(count):
            incident = filing.file_incident(session, draft, duty, limits, now, dispatch.ack_links(app))
            handling.acknowledge(session, incident.reference, liaison, now)
            exchange = exchanges.open_exchange(session, incident, line, liaison, now, NOTICE)
            release_in_session(session, exchange, now, settings=settings)  # four eyes: approved, then sent
            ids.extend(m.id for m in exchange.messages)
            references.append(incident.reference)
    return ids, references


def test_a_receipt_that_does_not_come_goes_overdue_once_and_the_supervisors_are_told(app):
    now = utcnow().replace(microsecond=0)
    [message_id], [reference] = notices_sent(app, 1, now, receipt_seconds={"O": 600})
    with session_scope(app) as session:
        message = session.get(ExchangeMessage, message_id)
        assert message.receipt_due_at == now + timedelta(seconds=600), "the line's own deadline for IMMEDIATE"

    with session_scope(app) as session:
        assert receipts.sweep_batch(session, now + timedelta(seconds=599), 10, "test") == 0
    with session_scope(app) as session:
        assert receipts.sweep_batch(session, now + timedelta(seconds=600), 10, "test") == 1
    with session_scope(app) as session:
        assert receipts.sweep_batch(session, now + timedelta(hours=5), 10, "test") == 0, "once only"

    with session_scope(app) as session:
        message = session.get(ExchangeMessage, message_id)
        assert message.receipt_overdue_at == now + timedelta(seconds=600) and message.receipt_at is None
        told = session.scalars(select(Notification).where(Notification.kind == NotificationKind.RECEIPT_OVERDUE)).all()
        supervisors = {n.user.username for n in told}
        body = told[0].body
        [event] = session.scalars(select(TimelineEvent).where(TimelineEvent.kind == EventKind.RECEIPT_OVERDUE)).all()
    assert supervisors == {"supervisor"} and len(told) == 1
    assert "RECEIPT OVERDUE" in body and "Eastland liaison mission" in body and "0001/" in body
    assert event.details["message"] == message_id and event.details["supervisors"] == ["supervisor"]
    assert jobs.deliver(app) >= 1

    # The board and the incident page show it; a receipt still recorded later is marked late.
    supervisor = app.test_client()
    sign_in(supervisor, "supervisor")
    assert "RECEIPT OVERDUE" in supervisor.get("/board/exchanges/rows").text
    page = supervisor.get(f"/incidents/{reference}").text
    assert "Receipt overdue" in page and 'data-receipt="overdue"' in page


def test_a_receipt_still_awaited_shows_its_due_time_and_the_deployments_deadline_applies(app):
    now = utcnow().replace(microsecond=0)
    [message_id], [reference] = notices_sent(app, 1, now)  # the line sets none: O is 3600 s by default
    with session_scope(app) as session:
        assert session.get(ExchangeMessage, message_id).receipt_due_at == now + timedelta(hours=1)
    supervisor = app.test_client()
    sign_in(supervisor, "supervisor")
    assert "receipt due" in supervisor.get("/board/exchanges/rows").text
    page = supervisor.get(f"/incidents/{reference}").text
    assert "Receipt due" in page and 'data-receipt="due"' in page and "Log their receipt" in page


def test_two_sweepers_never_flag_one_receipt_twice(app):
    now = utcnow().replace(microsecond=0)
    count = 16
    ids, _ = notices_sent(app, count, now, receipt_seconds={"O": 60})
    later = now + timedelta(minutes=5)
    start, errors, done = threading.Barrier(2), [], Counter()

    def sweeper(name: str) -> None:
        start.wait()
        try:
            while True:
                with session_scope(app) as session:
                    flagged = receipts.sweep_batch(session, later, 3, name)
                done[name] += flagged
                if not flagged:
                    return
        except Exception as exc:  # reported by the assertion below
            errors.append(f"{name}: {exc!r}")

    threads = [threading.Thread(target=sweeper, args=(f"sweeper-{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert sum(done.values()) == count, dict(done)
    with session_scope(app) as session:
        flagged = session.scalars(select(ExchangeMessage.receipt_overdue_at).where(ExchangeMessage.id.in_(ids))).all()
        events = session.scalars(select(TimelineEvent).where(TimelineEvent.kind == EventKind.RECEIPT_OVERDUE)).all()
        told = Counter(
            (n.loop, n.user_id)
            for n in session.scalars(select(Notification).where(Notification.kind == NotificationKind.RECEIPT_OVERDUE))
        )
    assert set(flagged) == {later}
    assert sorted(Counter(e.details["message"] for e in events)) == sorted(ids)
    assert len(events) == count and len(told) == count and set(told.values()) == {1}


def test_a_receipt_recorded_in_time_stops_the_clock(app, client):
    now = utcnow().replace(microsecond=0)
    [message_id], _ = notices_sent(app, 1, now, receipt_seconds={"O": 600})
    with session_scope(app) as session:
        message = session.get(ExchangeMessage, message_id)
        liaison = session.scalar(select(User).where(User.username == "liaison"))
        receipts.record(
            session, message, now + timedelta(minutes=2), "Major Petrov", "call", liaison, now + timedelta(minutes=3)
        )
    with session_scope(app) as session:
        assert receipts.sweep_batch(session, now + timedelta(hours=2), 10, "test") == 0
        assert (
            session.scalars(select(Notification).where(Notification.kind == NotificationKind.RECEIPT_OVERDUE)).all()
            == []
        )


def test_a_message_set_aside_is_passed_over_and_the_claimed_ones_are_said(app):
    """The sweep's set-aside rows (tracker/stages.py) are left out of the claim, which says what it took."""
    now = utcnow()
    ids, _ = notices_sent(app, 3, now)
    aside = SetAside(frozenset({ids[0]}))
    with session_scope(app) as session:
        assert receipts.sweep_batch(session, now + timedelta(hours=5), 10, "test", aside=aside) == 2
    assert sorted(aside.claimed) == sorted(ids[1:]), aside.claimed
    with session_scope(app) as session:
        assert session.get(ExchangeMessage, ids[0]).receipt_overdue_at is None


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("transitions", {"state": "receipt_confirmed"}),  # the exchange panel's "Record receipt confirmed"
        ("messages", {"direction": "in", "kind": "receipt_confirmation", "text": "We have your message."}),
    ],
)
def test_their_receipt_recorded_as_the_exchanges_state_stops_the_clock_of_our_message(app, path, body):
    """Receipt confirmed by a transition or by their message said the notice arrived, yet its own clock ran
    on: the sweep told the supervisors RECEIPT OVERDUE about an exchange on record as receipt confirmed."""
    now = utcnow().replace(microsecond=0)
    [message_id], _ = notices_sent(app, 1, now, receipt_seconds={"O": 600})
    client = app.test_client()
    with session_scope(app) as session:
        exchange_id = session.get_one(ExchangeMessage, message_id).exchange_id
        liaison = session.scalars(select(User).where(User.username == "liaison")).one()
        _, token = people.create_token(session, liaison, "receipts", by="admin")
    answer = client.post(
        f"/api/v1/exchanges/{exchange_id}/{path}", json=body, headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code in (200, 201), answer.get_json()

    with session_scope(app) as session:
        message = session.get_one(ExchangeMessage, message_id)
        assert message.exchange.state.value == "receipt_confirmed"
        assert (message.receipt_at is not None, message.receipt_by) == (True, "Eastland Ministry of Defence")
        assert receipts.sweep_batch(session, now + timedelta(hours=2), 10, "test") == 0
        assert not session.scalars(
            select(Notification).where(Notification.kind == NotificationKind.RECEIPT_OVERDUE)
        ).all()


def test_their_reply_is_their_receipt_of_what_we_sent_before_it(app):
    """Their reply to our request for explanation left the request's receipt awaited: three hours on, the sweep
    told the supervisors RECEIPT OVERDUE about a request the other side had answered."""
    now = utcnow().replace(microsecond=0)
    [notice_id], _ = notices_sent(app, 1, now, receipt_seconds={"O": 600})
    settings = outgoing.Settings(receipt_seconds=dict(outgoing.RECEIPT_SECONDS), links=dispatch.ack_links(app))
    with session_scope(app) as session:
        exchange = session.get_one(ExchangeMessage, notice_id).exchange
        liaison = session.scalars(select(User).where(User.username == "liaison")).one()
        exchanges.transition(session, exchange, ExchangeState.EXPLANATION_REQUESTED, liaison, now, "Explain, please.")
        [request] = release_in_session(session, exchange, now, settings=settings)
        request_id, exchange_id = request.id, exchange.id
        _, token = people.create_token(session, liaison, "receipts", by="admin")
    reply = {"direction": "in", "kind": "reply", "text": "Our aircraft kept to the agreed distance."}
    answer = app.test_client().post(
        f"/api/v1/exchanges/{exchange_id}/messages", json=reply, headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 201, answer.get_json()

    with session_scope(app) as session:
        for message_id in (notice_id, request_id):
            message = session.get_one(ExchangeMessage, message_id)
            assert (message.receipt_by, message.receipt_via) == ("Eastland Ministry of Defence", "message"), message_id
        assert message.exchange.state is ExchangeState.REPLY_RECEIVED
        assert receipts.sweep_batch(session, now + timedelta(hours=3), 10, "test") == 0
