"""The engine that times exchanges: a clock that runs out makes the exchange overdue exactly once,
tells every active supervisor exactly once, and two sweepers (or a reply racing a sweep) never
double or lose anything. On SQLite and, when TRACKER_TEST_DATABASE_URL is set, on PostgreSQL."""

import random
import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.exchange_support import (
    LINE,
    REQUEST,
    acknowledged_incident,
    add_counterpart_line,
    mail_text,
    move,
    release_in_session,
)
from tests.exchange_support import open_exchange as open_via_api
from tests.support import build_world, outbox_files
from tracker import dispatch, jobs
from tracker.db import session_scope
from tracker.http.wiring import filing_limits
from tracker.models import (
    Domain,
    EscalationRisk,
    EventKind,
    Exchange,
    ExchangeState,
    Notification,
    NotificationKind,
    NotificationStatus,
    Precedence,
    Role,
    TimelineEvent,
    User,
)
from tracker.services.accounts import people
from tracker.services.engine.claims import SetAside
from tracker.services.exchanges import exchanges
from tracker.services.incidents import filing, handling
from tracker.timeutil import utcnow

# Overdue claims and sweeps racing replies: locking differs per engine.
pytestmark = pytest.mark.both_databases

S = ExchangeState


def user(session, name: str) -> User:
    return session.scalar(select(User).where(User.username == name))


def waiting_for_reply(app, count: int, now, reply_seconds: int = 60) -> list[int]:
    """count acknowledged incidents, each with an exchange whose explanation was requested at now."""
    world = build_world(app)
    line = add_counterpart_line(app, world, reply_deadline_seconds=reply_seconds, meeting_deadline_seconds=120)
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
    ids = []
    with session_scope(app) as session:
        duty, liaison = user(session, "duty"), user(session, "liaison")
        for _ in range(count):
            incident = filing.file_incident(session, draft, duty, limits, now, dispatch.ack_links(app))
            handling.acknowledge(session, incident.reference, liaison, now)
            exchange = exchanges.open_exchange(session, incident, line, liaison, now)
            exchanges.transition(session, exchange, S.EXPLANATION_REQUESTED, liaison, now, REQUEST)
            release_in_session(session, exchange, now)  # four eyes: the supervisor approves, the liaison sends
            ids.append(exchange.id)
    return ids


def overdue_rows(session) -> list[Notification]:
    return list(session.scalars(select(Notification).where(Notification.kind == NotificationKind.EXCHANGE_OVERDUE)))


def test_a_reply_clock_that_runs_out_makes_the_exchange_overdue_once_and_tells_each_supervisor_once(app):
    now = utcnow()
    [xid] = waiting_for_reply(app, 1, now, reply_seconds=60)
    with session_scope(app) as session:
        people.create_user(session, "second-watch", "second-watch-password", Role.SUPERVISOR, by=None)
        retired = people.create_user(session, "retired-watch", "retired-watch-password", Role.SUPERVISOR, by=None)
        retired.active = False

    with session_scope(app) as session:
        assert exchanges.sweep_batch(session, now + timedelta(seconds=59), 50, "test") == 0, "overdue a second early"
    with session_scope(app) as session:
        assert exchanges.sweep_batch(session, now + timedelta(seconds=60), 50, "test") == 1
    with session_scope(app) as session:
        assert exchanges.sweep_batch(session, now + timedelta(hours=1), 50, "test") == 0, "overdue twice"

    with session_scope(app) as session:
        exchange = session.get(Exchange, xid)
        assert (exchange.state, exchange.overdue_count, exchange.deadline_at, exchange.deadline_kind) == (
            S.OVERDUE,
            1,
            None,
            "reply",  # the clock that ran out, while overdue
        )
        [event] = [e for e in exchange.incident.events if e.kind is EventKind.EXCHANGE_OVERDUE]
        assert event.details["deadline_kind"] == "reply", event.details
        assert event.details["due_at"].startswith(f"{now + timedelta(seconds=60):%Y-%m-%dT%H:%M:%S}"), event.details
        assert event.details["supervisors"] == ["second-watch", "supervisor"], event.details
        told = overdue_rows(session)
        assert sorted(n.user.username for n in told) == ["second-watch", "supervisor"], "one message each"
        assert {(n.step, n.loop) for n in told} == {(0, xid * exchanges.LOOP_BASE + 1)}


def test_a_meeting_clock_that_runs_out_is_a_second_overdue_with_messages_of_its_own(app):
    now = utcnow() - timedelta(minutes=10)  # so both deadlines and their messages are due by now
    [xid] = waiting_for_reply(app, 1, now, reply_seconds=60)
    with session_scope(app) as session:
        exchanges.sweep_batch(session, now + timedelta(seconds=60), 50, "test")
    with session_scope(app) as session:
        exchange = session.get(Exchange, xid)
        later = now + timedelta(seconds=90)
        exchanges.transition(session, exchange, S.MEETING_REQUESTED, user(session, "liaison"), later, "Meet us.")
        assert exchange.state is S.OVERDUE, "the request is a draft until approved and sent"
        release_in_session(session, exchange, later)
        assert (exchange.deadline_kind, exchange.deadline_at) == ("meeting", later + timedelta(seconds=120))
    with session_scope(app) as session:
        assert exchanges.sweep_batch(session, later + timedelta(seconds=120), 50, "test") == 1
    with session_scope(app) as session:
        exchange = session.get(Exchange, xid)
        assert (exchange.state, exchange.overdue_count) == (S.OVERDUE, 2)
        kinds = [e.details["deadline_kind"] for e in exchange.incident.events if e.kind is EventKind.EXCHANGE_OVERDUE]
        assert kinds == ["reply", "meeting"], kinds
        assert sorted(n.loop % exchanges.LOOP_BASE for n in overdue_rows(session)) == [1, 2]

    jobs.deliver(app)
    with session_scope(app) as session:
        rows = overdue_rows(session)
        assert [n.status for n in rows] == [NotificationStatus.SENT] * 2, [(n.id, n.status, n.last_error) for n in rows]
        reference = rows[0].incident.reference
    texts = {p.name: mail_text(p) for p in outbox_files(app) if p.name.startswith(reference)}
    meeting = [name for name, text in texts.items() if "the meeting we requested" in text]
    reply = [name for name, text in texts.items() if "their reply to our request for explanation" in text]
    assert len(meeting) == 1 and len(reply) == 1, sorted(texts)


@pytest.mark.slow
def test_two_sweepers_never_double_an_overdue(app):
    # Requested 1.1 s ago with a second to reply: all overdue as the sweepers start, as after sleeping 1.1 s.
    now = utcnow() - timedelta(seconds=1.1)
    count = 24
    ids = waiting_for_reply(app, count, now, reply_seconds=1)
    start, errors, done = threading.Barrier(2), [], Counter()

    def sweeper(name: str) -> None:
        start.wait()
        try:
            while True:
                with session_scope(app) as session:
                    expired = exchanges.sweep_batch(session, utcnow(), 5, name)
                done[name] += expired
                if not expired:
                    return
                time.sleep(random.uniform(0, 0.005))
        except Exception as exc:  # reported by the assertion below
            errors.append(f"{name}: {exc!r}")

    threads = [threading.Thread(target=sweeper, args=(f"sweeper-{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert sum(done.values()) == count, f"overdues per sweeper: {dict(done)} for {count} exchanges"

    with session_scope(app) as session:
        rows = session.scalars(select(Exchange).where(Exchange.id.in_(ids))).all()
        assert {(x.state, x.overdue_count) for x in rows} == {(S.OVERDUE, 1)}
        events = session.scalars(select(TimelineEvent).where(TimelineEvent.kind == EventKind.EXCHANGE_OVERDUE)).all()
        per_exchange = Counter(e.details["exchange"] for e in events)
        assert sorted(per_exchange) == sorted(ids) and set(per_exchange.values()) == {1}, per_exchange
        told = Counter((n.loop, n.user_id) for n in overdue_rows(session))
        assert len(told) == count and set(told.values()) == {1}, "one message per supervisor per overdue"


@pytest.mark.slow
def test_a_reply_recorded_while_sweeps_run_is_never_lost_nor_doubled(app):
    # Requested 0.9 s ago with a second to reply: the clocks run out while the replies come in (as when the
    # test requested them now and slept 0.9 s; the requests' own time is taken out of that 0.1 s either way).
    now = utcnow() - timedelta(seconds=0.9)
    count = 16
    ids = waiting_for_reply(app, count, now, reply_seconds=1)
    stop, errors = threading.Event(), []

    def sweeper(name: str) -> None:
        while not stop.is_set():
            try:
                with session_scope(app) as session:
                    exchanges.sweep_batch(session, utcnow(), 4, name)
            except Exception as exc:
                errors.append(f"{name}: {exc!r}")
                return
            time.sleep(random.uniform(0, 0.01))

    def replier(batch: list[int]) -> None:
        for xid in batch:
            time.sleep(random.uniform(0, 0.03))
            try:
                with session_scope(app) as session:
                    exchange = session.get(Exchange, xid)
                    exchanges.transition(
                        session, exchange, S.REPLY_RECEIVED, user(session, "liaison"), utcnow(), "Training flight."
                    )
            except Exception as exc:
                errors.append(f"reply to {xid}: {exc!r}")

    sweepers = [threading.Thread(target=sweeper, args=(f"sweeper-{n}",)) for n in range(2)]
    repliers = [threading.Thread(target=replier, args=(ids[n::2],)) for n in range(2)]
    for thread in sweepers + repliers:
        thread.start()
    for thread in repliers:
        thread.join(timeout=60)
    stop.set()
    for thread in sweepers:
        thread.join(timeout=60)
    assert not errors, errors

    with session_scope(app) as session:
        assert exchanges.sweep_batch(session, utcnow() + timedelta(days=3), 100, "late") == 0
        for exchange in session.scalars(select(Exchange).where(Exchange.id.in_(ids))):
            assert (exchange.state, exchange.deadline_at) == (S.REPLY_RECEIVED, None), exchange.id
            events = [e for e in exchange.incident.events if e.details.get("exchange") == exchange.id]
            overdue = [e for e in events if e.kind is EventKind.EXCHANGE_OVERDUE]
            # Their reply is also their receipt of our request (a receipt event of its own, in the same state).
            moved = [e for e in events if e.kind is EventKind.EXCHANGE_CHANGED]
            [replied] = [e for e in moved if e.details.get("to_state") == "reply_received"]
            assert len(overdue) == exchange.overdue_count <= 1, f"exchange {exchange.id}: {len(overdue)} overdues"
            assert all(e.id < replied.id for e in overdue), f"exchange {exchange.id} went overdue after the reply"
            assert replied.details["from_state"] == ("overdue" if overdue else "explanation_requested")


def test_the_running_scheduler_times_exchanges(app, scheduler, client):
    world = build_world(app)
    add_counterpart_line(app, world, reply_deadline_seconds=1)
    reference = acknowledged_incident(client, world)
    xid = open_via_api(client, world, reference)["id"]
    move(client, world, xid, "explanation_requested", REQUEST)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        body = client.get(f"/api/v1/incidents/{reference}", headers=world.auth("supervisor")).get_json()
        told = [n for n in body["notifications"] if n["kind"] == "exchange_overdue"]
        if told and told[0]["status"] == "sent":
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"no overdue told within 15 s: {body['exchanges']} {body['notifications']}")
    assert body["exchanges"][0]["state"] == "overdue" and body["exchanges"][0]["channel"] == LINE, body["exchanges"]
    assert [n["user"] for n in told] == ["supervisor"]


def test_an_exchange_set_aside_is_passed_over_and_the_claimed_ones_are_said(app):
    """The sweep's set-aside rows (tracker/stages.py) are left out of the claim, which says what it took."""
    now = utcnow()
    first, *others = waiting_for_reply(app, 3, now)
    aside = SetAside(frozenset({first}))
    with session_scope(app) as session:
        assert exchanges.sweep_batch(session, now + timedelta(minutes=5), 50, "test", aside=aside) == 2
    assert sorted(aside.claimed) == sorted(others), aside.claimed
    with session_scope(app) as session:
        assert session.get(Exchange, first).state is not S.OVERDUE
