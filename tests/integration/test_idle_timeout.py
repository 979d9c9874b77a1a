"""The acknowledgement timeout: an acknowledged incident nobody works on reminds whoever acknowledged it,
then, after as long again, goes back up its ladder from its current step. Time is driven by the `now`
handed to the services and the sweep; the claim runs on both engines."""

import threading
from collections import Counter
from datetime import timedelta

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select

from tests.exchange_support import NOTICE, add_counterpart_line, release_in_session
from tests.support import build_world, file_checked, file_incident
from tracker import dispatch
from tracker.db import session_scope
from tracker.http import wiring
from tracker.http.wiring import filing_limits
from tracker.models import (
    Domain,
    EscalationRisk,
    EventKind,
    ExchangeMessage,
    Incident,
    IncidentStatus,
    Notification,
    NotificationKind,
    Precedence,
    User,
)
from tracker.services.engine import escalation, idle
from tracker.services.engine.claims import SetAside
from tracker.services.engine.message_text import html_part
from tracker.services.exchanges import exchanges, receipts
from tracker.services.incidents import filing, handling, timeline
from tracker.timeutil import utcnow

# The committed default for IMMEDIATE (O) incidents, which every incident here is.
TIMEOUT = timedelta(seconds=idle.ACK_TIMEOUT_SECONDS["O"])
RULES = idle.IdleRules()


def file_and_acknowledge(app, now, count=1, who="liaison") -> list[str]:
    """count IMMEDIATE incidents filed and acknowledged by who at now (their step 1 is L1); their references."""
    with app.app_context():
        limits = filing_limits()
    draft = filing.IncidentDraft(
        occurred_at=now - timedelta(minutes=5),
        reporting_unit="2nd Air Defence Squadron",
        domain=Domain.AIR,
        category="unsafe_intercept",
        precedence=Precedence.IMMEDIATE,
        escalation_risk=EscalationRisk.SERIOUS,
    )
    references = []
    with session_scope(app) as session:
        duty = session.scalar(select(User).where(User.username == "duty"))
        acknowledger = session.scalar(select(User).where(User.username == who))
        for _ in range(count):
            incident = filing.file_incident(session, draft, duty, limits, now, dispatch.ack_links(app))
            handling.acknowledge(session, incident.reference, acknowledger, now, idle=RULES)
            references.append(incident.reference)
    return references


def idle_sweep(app, moment, limit=100, runner="test") -> int:
    with session_scope(app) as session:
        return idle.sweep_batch(session, moment, limit, runner, dispatch.ack_links(app), RULES)


def escalation_sweep(app, moment) -> int:
    with session_scope(app) as session:
        return escalation.sweep_batch(session, moment, 100, "test", dispatch.ack_links(app))


def state(app, reference):
    """The incident (detached), its outbox rows (kind, step, loop, recipient) and its timeline kinds."""
    with session_scope(app) as session:
        incident = session.scalar(select(Incident).where(Incident.reference == reference))
        rows = [(n.kind.value, n.step, n.loop, n.recipient) for n in incident.notifications]
        events = [(e.kind, e.details) for e in incident.events]
        session.expunge(incident)
        return incident, rows, events


def idle_actions(action: str) -> float:
    return REGISTRY.get_sample_value("tracker_idle_actions_total", {"action": action}) or 0.0


def test_an_idle_acknowledged_incident_reminds_its_acknowledger_then_goes_back_up_its_ladder(app):
    build_world(app, steps=(("L1",), ("L2",)), ack_seconds=600)
    now = utcnow().replace(microsecond=0)
    [reference] = file_and_acknowledge(app, now)
    incident, rows, _ = state(app, reference)
    assert (incident.idle_check_at, incident.idle_stage) == (now + TIMEOUT, 0), (
        "the clock starts at the acknowledgement"
    )
    reminded, reescalated = idle_actions("reminded"), idle_actions("reescalated")

    assert idle_sweep(app, now + TIMEOUT - timedelta(seconds=1)) == 0, "nothing before the timeout"
    assert idle_sweep(app, now + TIMEOUT) == 1
    incident, rows, events = state(app, reference)
    assert incident.status is IncidentStatus.ACKNOWLEDGED and incident.idle_stage == 1
    assert incident.idle_check_at == now + 2 * TIMEOUT
    assert rows[-1] == ("idle_reminder", 1, 1, "liaison"), f"the reminder goes to the user who acknowledged: {rows}"
    kind, details = events[-1]
    assert kind is EventKind.IDLE_REMINDED and details["reminded"] == ["liaison"], events[-1]
    assert idle_actions("reminded") == reminded + 1
    with session_scope(app) as session:
        reminder = session.scalars(
            select(Notification).where(Notification.kind == NotificationKind.IDLE_REMINDER)
        ).one()
        assert reminder.subject.endswith("IDLE REMINDER") and f"/incidents/{reference}" in reminder.body
        assert "goes back up its ladder" in reminder.body and "Open the incident" in html_part(
            reminder.subject, reminder.body, reminder.payload
        )

    assert idle_sweep(app, now + 2 * TIMEOUT - timedelta(seconds=1)) == 0
    later = now + 2 * TIMEOUT
    assert idle_sweep(app, later) == 1
    incident, rows, events = state(app, reference)
    assert incident.status is IncidentStatus.OPEN, "re-escalated: open again"
    assert (incident.current_step, incident.loop) == (1, 1), "a new round of the current step"
    assert incident.next_escalation_at == later + timedelta(seconds=600), "a new deadline"
    assert (incident.idle_check_at, incident.idle_stage) == (None, 0)
    assert rows[-1] == ("escalated", 1, 1, "L1"), f"the current step's lines called again: {rows}"
    kind, details = events[-1]
    assert kind is EventKind.IDLE_REESCALATED and details["channels"] == ["L1"] and details["loop"] == 1
    assert idle_actions("reescalated") == reescalated + 1
    with session_scope(app) as session:
        call = session.scalars(
            select(Notification).where(Notification.kind == NotificationKind.ESCALATED, Notification.loop == 1)
        ).one()
        assert "RE-ESCALATED" in call.body and call.payload["acknowledge"]["url"], "a call to act, with its link"

    assert escalation_sweep(app, incident.next_escalation_at) == 1, "the ladder goes on from there"
    incident, rows, _ = state(app, reference)
    assert (incident.current_step, incident.loop) == (2, 0) and rows[-1] == ("escalated", 2, 0, "L2")


def test_reminders_and_re_escalations_of_the_same_step_never_collide_in_the_outbox(app):
    build_world(app, steps=(("L1",), ("L2",)), ack_seconds=600)
    now = utcnow().replace(microsecond=0)
    [reference] = file_and_acknowledge(app, now)
    moment = now
    for round_ in (1, 2):
        assert idle_sweep(app, moment + TIMEOUT) == 1, f"round {round_}: reminded"
        assert idle_sweep(app, moment + 2 * TIMEOUT) == 1, f"round {round_}: re-escalated"
        moment += 2 * TIMEOUT
        with session_scope(app) as session:  # acknowledged again, before step 1's new deadline
            liaison = session.scalar(select(User).where(User.username == "liaison"))
            handling.acknowledge(session, reference, liaison, moment + timedelta(seconds=60), idle=RULES)
        moment += timedelta(seconds=60)
    _, rows, events = state(app, reference)
    ours = [r for r in rows if r[0] in ("idle_reminder", "escalated")]
    assert ours == [
        ("idle_reminder", 1, 1, "liaison"),
        ("escalated", 1, 1, "L1"),
        ("idle_reminder", 1, 2, "liaison"),
        ("escalated", 1, 2, "L1"),
    ], rows
    assert [k for k, _ in events].count(EventKind.IDLE_REESCALATED) == 2


def test_activity_on_the_timeline_puts_the_reminder_off_but_the_machinerys_own_events_do_not(app):
    build_world(app)
    now = utcnow().replace(microsecond=0)
    [reference] = file_and_acknowledge(app, now)
    halfway = now + TIMEOUT / 2
    with session_scope(app) as session:
        incident = session.scalar(select(Incident).where(Incident.reference == reference))
        # A message delivered (the delivery job writes these) is not someone working on it.
        timeline.record(session, incident, EventKind.NOTIFIED, "delivery", halfway, recipient="L1", message="x")
        liaison = session.scalar(select(User).where(User.username == "liaison"))
        handling.comment(session, reference, liaison, halfway - timedelta(minutes=1), "Calling their duty officer.")
    assert idle_sweep(app, now + TIMEOUT) == 1
    incident, rows, _ = state(app, reference)
    assert incident.idle_check_at == halfway - timedelta(minutes=1) + TIMEOUT, "a timeout after the comment"
    assert incident.idle_stage == 0 and [r[0] for r in rows] == ["notified"], "nobody reminded"

    reminded_at = incident.idle_check_at
    assert idle_sweep(app, reminded_at) == 1
    assert state(app, reference)[0].idle_stage == 1, "no activity since the comment: reminded"
    with session_scope(app) as session:  # the reminder works: someone records something
        liaison = session.scalar(select(User).where(User.username == "liaison"))
        handling.comment(session, reference, liaison, reminded_at + timedelta(minutes=5), "Eastland called back.")
    assert idle_sweep(app, reminded_at + TIMEOUT) == 1
    incident, rows, _ = state(app, reference)
    assert incident.status is IncidentStatus.ACKNOWLEDGED, "not re-escalated: someone is at work"
    assert incident.idle_stage == 0 and incident.idle_check_at == reminded_at + timedelta(minutes=5) + TIMEOUT


def test_a_duty_officers_comment_is_news_about_the_incident_not_its_handling_and_puts_nothing_off(app):
    """Who handles an acknowledged incident is liaison staff and supervisors. The duty officer who filed it
    comments that the contact is still close: the reminder comes all the same, and the re-escalation after
    it; a liaison officer's comment puts both off."""
    build_world(app)
    now = utcnow().replace(microsecond=0)
    reported, handled = file_and_acknowledge(app, now, count=2)
    halfway = now + TIMEOUT / 2
    with session_scope(app) as session:
        duty = session.scalar(select(User).where(User.username == "duty"))
        liaison = session.scalar(select(User).where(User.username == "liaison"))
        handling.comment(session, reported, duty, halfway, "The frigate is still at 2 nm.")
        handling.comment(session, handled, liaison, halfway, "Calling their duty officer.")
    assert idle_sweep(app, now + TIMEOUT) == 2
    incident, rows, _ = state(app, reported)
    assert incident.idle_stage == 1, ("a duty officer's comment is no handling: reminded", incident.idle_check_at)
    assert "idle_reminder" in [r[0] for r in rows], rows
    incident, rows, _ = state(app, handled)
    assert (incident.idle_stage, incident.idle_check_at) == (0, halfway + TIMEOUT), "the liaison's comment counts"
    assert "idle_reminder" not in [r[0] for r in rows], rows


def test_a_suggestion_the_search_withdraws_by_itself_puts_nothing_off(app, client):
    """A duty officer moves the position of the incident they filed: its suggested link with an acknowledged one
    is withdrawn, and both timelines say so, by the search ("tracker"), not by anyone working on either."""
    world = build_world(app)
    filed = file_checked(client, world)["reference"]
    acknowledged = file_checked(client, world)["reference"]
    now = utcnow()
    with session_scope(app) as session:
        liaison = session.scalar(select(User).where(User.username == "liaison"))
        handling.acknowledge(session, acknowledged, liaison, now, idle=RULES)
    version = client.get(f"/api/v1/incidents/{filed}", headers=world.auth("duty")).get_json()["version"]
    moved = {"version": version, "position": "53.500, 21.000"}  # 159 km away: no longer related
    assert client.patch(f"/api/v1/incidents/{filed}", json=moved, headers=world.auth("duty")).status_code == 200
    _, _, events = state(app, acknowledged)
    assert [(k, d["related"]) for k, d in events if k is EventKind.RELATED_DISMISSED] == [
        (EventKind.RELATED_DISMISSED, filed)
    ]
    assert idle_sweep(app, now + TIMEOUT) == 1
    incident, rows, _ = state(app, acknowledged)
    assert incident.idle_stage == 1 and "idle_reminder" in [r[0] for r in rows], "nobody worked on it: reminded"


@pytest.mark.both_databases  # read from the event's JSON details
def test_the_other_sides_receipt_by_its_link_puts_off_nothing_our_staffs_logged_receipt_does(app):
    world = build_world(app)
    line = add_counterpart_line(app, world)
    now = utcnow().replace(microsecond=0)
    theirs, ours = file_and_acknowledge(app, now, count=2)
    with app.test_request_context():
        settings = wiring.outgoing_settings()
    sent = {}
    with session_scope(app) as session:
        liaison = session.scalar(select(User).where(User.username == "liaison"))
        for reference in (theirs, ours):
            incident = session.scalar(select(Incident).where(Incident.reference == reference))
            exchange = exchanges.open_exchange(session, incident, line, liaison, now, NOTICE)
            [sent[reference]] = [m.id for m in release_in_session(session, exchange, now, settings=settings)]
    assert idle_sweep(app, now + TIMEOUT) == 2, "nobody of ours worked on either: both reminded"
    later = now + TIMEOUT + timedelta(minutes=1)
    with session_scope(app) as session:
        link = receipts.link_for(settings.links, session.get(ExchangeMessage, sent[theirs]), now)
        receipts.confirm_by_link(session, dispatch.signer(app), link.token, later, "Maj Petrov")
        liaison = session.scalar(select(User).where(User.username == "liaison"))
        receipts.record(session, session.get(ExchangeMessage, sent[ours]), later, "Maj Petrov", "call", liaison, later)
    assert idle_sweep(app, now + 2 * TIMEOUT) == 2
    incident, _, events = state(app, theirs)
    assert EventKind.RECEIPT_RECORDED in [kind for kind, _ in events]
    assert incident.status is IncidentStatus.OPEN, "their receipt left our ladder alone: back up it"
    incident, _, _ = state(app, ours)
    assert incident.status is IncidentStatus.ACKNOWLEDGED, "our liaison logging their receipt is work on it"
    assert incident.idle_check_at == later + TIMEOUT


def test_a_signed_link_acknowledgement_is_reminded_on_the_line_the_link_was_made_for(app, client):
    world = build_world(app, steps=(("L1", "L2"),), ack_seconds=600)
    reference = file_incident(client, world)["reference"]
    with session_scope(app) as session:
        call = session.scalars(select(Notification).where(Notification.channel_id == world.channels["L2"])).one()
        token = call.payload["acknowledge"]["token"]
    answer = client.post("/api/v1/acks", json={"token": token})
    assert answer.status_code == 200, answer.get_json()
    incident, _, _ = state(app, reference)
    assert incident.acknowledged_by_id is None and incident.idle_check_at is not None
    assert idle_sweep(app, incident.idle_check_at) == 1
    _, rows, events = state(app, reference)
    assert rows[-1] == ("idle_reminder", 1, 1, "L2"), f"to the line whose link was used, not L1: {rows}"
    assert events[-1][1]["reminded"] == ["L2"]


def test_resolving_stops_the_clock(app, client):
    world = build_world(app)
    now = utcnow().replace(microsecond=0)
    [reference] = file_and_acknowledge(app, now)
    answer = client.post(
        f"/api/v1/incidents/{reference}/resolve", json={"resolution": "Explained."}, headers=world.auth("liaison")
    )
    assert answer.status_code == 200 and answer.get_json()["idle_check_at"] is None, answer.get_json()
    assert idle_sweep(app, now + 10 * TIMEOUT) == 0


def test_the_acknowledgement_timeout_follows_the_deployments_setting(make_app):
    app = make_app(ACK_TIMEOUT_SECONDS={"Z": 60, "O": 120, "P": 180, "R": 240})
    world = build_world(app)
    client = app.test_client()
    reference = file_incident(client, world, precedence="P")["reference"]
    answer = client.post(f"/api/v1/incidents/{reference}/acknowledge", json={}, headers=world.auth("liaison"))
    body = answer.get_json()
    assert answer.status_code == 200, body
    acknowledged = state(app, reference)[0].acknowledged_at
    assert state(app, reference)[0].idle_check_at == acknowledged + timedelta(seconds=180), body


@pytest.mark.both_databases  # the claim: SKIP LOCKED on PostgreSQL, the write lock on SQLite
def test_two_sweepers_look_at_each_idle_incident_exactly_once(app):
    build_world(app)
    now = utcnow().replace(microsecond=0)
    count = 12
    file_and_acknowledge(app, now, count)
    start, errors, done = threading.Barrier(2), [], Counter()

    def sweeper(name: str) -> None:
        start.wait()
        try:
            while True:
                looked_at = idle_sweep(app, now + TIMEOUT, limit=3, runner=name)
                done[name] += looked_at
                if not looked_at:
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
        reminders = session.scalars(select(Notification).where(Notification.kind == NotificationKind.IDLE_REMINDER))
        per_incident = Counter(n.incident_id for n in reminders)
        stages = set(session.scalars(select(Incident.idle_stage)))
    assert len(per_incident) == count and set(per_incident.values()) == {1}, per_incident
    assert stages == {1}


def test_an_incident_set_aside_is_passed_over_and_the_claimed_ones_are_said(app):
    """The sweep's set-aside rows (tracker/stages.py) are left out of the claim, which says what it took."""
    build_world(app)
    now = utcnow().replace(microsecond=0)
    references = file_and_acknowledge(app, now, 3)
    with session_scope(app) as session:
        ids = dict(session.execute(select(Incident.reference, Incident.id)).all())
    aside = SetAside(frozenset({ids[references[0]]}))
    with session_scope(app) as session:
        assert idle.sweep_batch(session, now + TIMEOUT, 10, "test", dispatch.ack_links(app), RULES, aside) == 2
    assert sorted(aside.claimed) == sorted(ids[r] for r in references[1:]), aside.claimed
    assert state(app, references[0])[0].idle_stage == 0, "the one set aside was not looked at"
