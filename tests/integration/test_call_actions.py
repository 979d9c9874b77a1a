"""The clocks of actions agreed on calls: past due undone, each is flagged once, every active supervisor
is told once, two sweepers never double a flag and an action done in time is never flagged. Time is
driven by the `now` handed to the sweep. On SQLite and, when TRACKER_TEST_DATABASE_URL is set, on
PostgreSQL (SKIP LOCKED)."""

import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.exchange_support import acknowledged_incident, add_counterpart_line, api
from tests.exchange_support import open_exchange as open_
from tests.support import build_world
from tracker import jobs
from tracker.db import session_scope
from tracker.models import AgreedAction, EventKind, Notification, NotificationKind, Role, TimelineEvent, User
from tracker.services.engine.claims import SetAside
from tracker.services.exchanges import calls
from tracker.timeutil import isoformat, utcnow

pytestmark = pytest.mark.both_databases


def calls_with_actions(app, client, world, count: int, due) -> list[int]:
    """Calls with count actions in all, due at due, on an exchange of an acknowledged incident; their ids."""
    add_counterpart_line(app, world)
    reference = acknowledged_incident(client, world)
    exchange = open_(client, world, reference)
    actions = [{"text": f"Eastland sends track {n}", "party": "them", "due_at": isoformat(due)} for n in range(count)]
    ids = []
    for n in range(0, count, 12):  # at most calls.MAX_ACTIONS on one call
        body = {"direction": "they_called", "exchange_id": exchange["id"], "actions": actions[n : n + 12]}
        # logged ended (a line has one call in progress at a time), with its start
        body.update(started_at=isoformat(utcnow() - timedelta(minutes=5)), ended_at=isoformat(utcnow()))
        call = api(client, world, "POST", f"/incidents/{reference}/calls", body, status=201)
        ids += [a["id"] for a in call["actions"]]
    return ids


def overdue_rows(session) -> list[Notification]:
    return list(session.scalars(select(Notification).where(Notification.kind == NotificationKind.ACTION_OVERDUE)))


def test_an_action_past_due_is_flagged_once_and_each_supervisor_told_once(app, client):
    world = build_world(app)
    now = utcnow()
    [first, done] = calls_with_actions(app, client, world, 2, now + timedelta(hours=2))
    api(client, world, "POST", f"/actions/{done}/done", {})
    with session_scope(app) as session:
        assert calls.sweep_batch(session, now + timedelta(hours=1, minutes=59), 10, "test") == 0, "not due yet"
    with session_scope(app) as session:
        assert calls.sweep_batch(session, now + timedelta(hours=2, minutes=1), 10, "test") == 1
    with session_scope(app) as session:
        assert calls.sweep_batch(session, now + timedelta(hours=3), 10, "test") == 0, "flagged once"
        action = session.get(AgreedAction, first)
        assert action.overdue_at == now + timedelta(hours=2, minutes=1) and action.done_at is None
        assert session.get(AgreedAction, done).overdue_at is None, "done in time: never overdue"
        supervisors = session.scalars(select(User.id).where(User.role == Role.SUPERVISOR, User.active)).all()
        rows = overdue_rows(session)
        assert sorted(n.user_id for n in rows) == sorted(supervisors) and {n.loop for n in rows} == {first}
        assert "ACTION OVERDUE" in rows[0].subject and "Eastland sends track 0" in rows[0].body
        [event] = session.scalars(select(TimelineEvent).where(TimelineEvent.kind == EventKind.ACTION_OVERDUE)).all()
        assert event.details["action"] == first and event.details["supervisors"]


def test_the_overdue_mail_names_their_speaker_as_the_pages_do(app, client):
    """ "with Lt Col Orlov, duty officer", as the call's page says it: the mail read "with Lt Col, Orlov"."""
    world = build_world(app)
    now = utcnow()
    [action] = calls_with_actions(app, client, world, 1, now + timedelta(hours=2))
    with session_scope(app) as session:
        call = session.get_one(AgreedAction, action).call
        call.their_rank, call.their_name, call.their_post = "Lt Col", "Orlov", "duty officer"
    with session_scope(app) as session:
        assert calls.sweep_batch(session, now + timedelta(hours=3), 10, "test") == 1
    with session_scope(app) as session:
        body = overdue_rows(session)[0].body
        assert " with Lt Col Orlov, duty officer\n" in body and "Lt Col, Orlov" not in body, body


@pytest.mark.parametrize("ended_by", ["exchange closed", "incident resolved"])
def test_a_loop_closed_chases_no_action_of_it(app, client, ended_by):
    world = build_world(app)
    now = utcnow()
    [action] = calls_with_actions(app, client, world, 1, now + timedelta(hours=2))
    with session_scope(app) as session:
        owner = session.get(AgreedAction, action)
        exchange_id, reference = owner.exchange_id, owner.incident.reference
    if ended_by == "exchange closed":
        api(client, world, "POST", f"/exchanges/{exchange_id}/transitions", {"state": "closed", "text": "Settled."})
    else:
        api(client, world, "POST", f"/incidents/{reference}/resolve", {"resolution": "Explained."})
    with session_scope(app) as session:
        assert calls.sweep_batch(session, now + timedelta(hours=3), 10, "test") == 0, ended_by
        assert overdue_rows(session) == [] and session.get(AgreedAction, action).overdue_at is None


def test_two_sweepers_never_double_an_overdue_action(app, client):
    world = build_world(app)
    now, count = utcnow(), 24
    ids = calls_with_actions(app, client, world, count, now + timedelta(minutes=30))
    later = now + timedelta(hours=1)
    start, errors, flagged = threading.Barrier(2), [], Counter()

    def sweeper(name: str) -> None:
        start.wait()
        try:
            while True:
                with session_scope(app) as session:
                    found = calls.sweep_batch(session, later, 5, name)
                flagged[name] += found
                if not found:
                    return
        except Exception as exc:  # reported by the assertion below
            errors.append(f"{name}: {exc!r}")

    threads = [threading.Thread(target=sweeper, args=(f"sweeper-{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert sum(flagged.values()) == count, f"flags per sweeper: {dict(flagged)} for {count} actions"
    with session_scope(app) as session:
        events = session.scalars(select(TimelineEvent).where(TimelineEvent.kind == EventKind.ACTION_OVERDUE)).all()
        per_action = Counter(e.details["action"] for e in events)
        assert sorted(per_action) == sorted(ids) and set(per_action.values()) == {1}, per_action
        told = Counter((n.loop, n.user_id) for n in overdue_rows(session))
        assert {loop for loop, _user in told} == set(ids) and set(told.values()) == {1}


def test_the_sweep_job_flags_actions_past_due(app, client):
    world = build_world(app)
    [action] = calls_with_actions(app, client, world, 1, utcnow() + timedelta(minutes=30))
    with session_scope(app) as session:  # the clock ran out: moved back rather than waited for
        session.get(AgreedAction, action).due_at = utcnow() - timedelta(seconds=1)
    jobs.sweep(app)
    with session_scope(app) as session:
        assert session.get(AgreedAction, action).overdue_at is not None
        assert overdue_rows(session)


def test_an_action_set_aside_is_passed_over_and_the_claimed_ones_are_said(app, client):
    """The sweep's set-aside rows (tracker/stages.py) are left out of the claim, which says what it took."""
    world, now = build_world(app), utcnow()
    first, *others = calls_with_actions(app, client, world, 3, now + timedelta(hours=2))
    aside = SetAside(frozenset({first}))
    with session_scope(app) as session:
        assert calls.sweep_batch(session, now + timedelta(hours=3), 10, "test", aside=aside) == 2
    assert sorted(aside.claimed) == sorted(others), aside.claimed
    with session_scope(app) as session:
        assert session.get(AgreedAction, first).overdue_at is None
