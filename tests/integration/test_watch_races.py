"""Races on a desk: officers starting the same desk's watch at once, and a signature sent twice at once.
One open watch per desk is kept by the service, not by an index: the write lock taken at BEGIN on
SQLite, a transaction-scoped advisory lock on the desk (and row locks) on PostgreSQL."""

import threading
from collections import Counter
from datetime import timedelta
from email import message_from_bytes, policy

import pytest
from sqlalchemy import func, select, update

from tests.schedulers import at_once
from tests.support import build_world, outbox_files
from tracker import jobs
from tracker.db import session_scope
from tracker.models import AccountEvent, Watch
from tracker.timeutil import utcnow

# Locks and transactions decide who gets the desk: engine-dependent.
pytestmark = pytest.mark.both_databases


def together(app, calls: list[tuple[str, dict, str]]) -> Counter:
    """POST each (path, body, token) from a thread of its own, all released at once; count the statuses."""
    gate = threading.Barrier(len(calls))
    statuses: list[int] = []

    def post(path: str, body: dict, token: str) -> None:
        client = app.test_client()
        gate.wait()
        statuses.append(client.post(path, json=body, headers={"Authorization": f"Bearer {token}"}).status_code)

    threads = [threading.Thread(target=post, args=call) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return Counter(statuses)


def test_officers_starting_one_desk_at_once_get_one_watch(app):
    world = build_world(app)
    starters = ["duty", "liaison", "outsider", "supervisor", "admin"]
    answers = together(app, [("/api/v1/watches", {"desk": "Hotline desk"}, world.tokens[who]) for who in starters])
    assert answers == Counter({201: 1, 409: len(starters) - 1}), answers
    with session_scope(app) as session:
        open_watches = session.scalar(select(func.count()).where(Watch.desk == "Hotline desk", Watch.ends_at.is_(None)))
    assert open_watches == 1


def test_a_signature_sent_twice_at_once_starts_one_watch(app):
    world = build_world(app)
    client = app.test_client()
    started = client.post("/api/v1/watches", json={}, headers=world.auth("duty")).get_json()
    body = {"incoming": "liaison"}
    handover = client.post(f"/api/v1/watches/{started['id']}/handover", json=body, headers=world.auth("duty"))
    assert handover.status_code == 201, handover.get_json()
    path = f"/api/v1/handovers/{handover.get_json()['id']}/sign"
    answers = together(app, [(path, {}, world.tokens["liaison"])] * 3)
    assert answers == Counter({200: 1, 409: 2}), answers
    with session_scope(app) as session:
        kept = [(w.desk, w.officer.username) for w in session.scalars(select(Watch).where(Watch.ends_at.is_(None)))]
        signed = session.scalar(select(func.count()).where(AccountEvent.kind == "handover_signed"))
    assert kept == [("Duty desk", "liaison")] and signed == 1


def test_a_watch_kept_beyond_its_hours_is_told_to_the_supervisors_once_by_two_watchdogs(app):
    """An unrelieved watch raised nothing: the desk nobody is minding is the one whose officer left, so
    past WATCH_HOURS every active supervisor is told, once, however many schedulers look at once."""
    world = build_world(app)
    client = app.test_client()
    for who, desk in (("duty", "Hotline desk"), ("liaison", "Liaison desk")):
        answer = client.post("/api/v1/watches", json={"desk": desk}, headers=world.auth(who))
        assert answer.status_code == 201, answer.get_json()
    hours = app.config["WATCH_HOURS"]
    with session_scope(app) as session:
        session.execute(
            update(Watch)
            .where(Watch.desk == "Hotline desk")
            .values(starts_at=utcnow() - timedelta(hours=hours, minutes=5))
        )
    told = at_once(lambda: jobs.tell_unrelieved_watches(app))
    assert sorted(told) == [0, 1], f"one watch, told by one watchdog: {told}"
    mails = [message_from_bytes(path.read_bytes(), policy=policy.default) for path in outbox_files(app)]
    assert [(m["Subject"], m["To"]) for m in mails] == [
        ("WATCH UNRELIEVED: Hotline desk", "supervisor <supervisor@test.example>")
    ], mails
    text = mails[0].get_body(("plain",)).get_content()
    assert "kept by duty since" in text and "no handover has been signed" in text and "/watches/" in text, text
    assert jobs.tell_unrelieved_watches(app) == 0, "told once; the liaison desk is within its hours"
