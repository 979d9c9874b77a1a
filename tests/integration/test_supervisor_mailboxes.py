"""Our alerts never go to the other side, even to a supervisor's mailbox: one at a counterpart line's address or
in its domain is refused when the user is made (people.create_user), and a user made before that check is passed
over whenever the supervisors are told (notify.active_supervisors), with a warning naming whom to mend."""

import logging
from datetime import timedelta

from sqlalchemy import select

from tests.exchange_support import add_counterpart_line
from tests.support import build_world, file_incident, outbox_files
from tracker import jobs
from tracker.db import session_scope
from tracker.models import (
    ChannelHealth,
    ContactChannel,
    Incident,
    IncidentStatus,
    Notification,
    NotificationKind,
    NotificationStatus,
    Role,
    User,
)
from tracker.services.accounts import people
from tracker.timeutil import utcnow


def legacy_supervisor(app, email: str) -> None:
    """A supervisor "chief" with that mailbox, as users were made before people.create_user checked the address."""
    with session_scope(app) as session:
        password = people.hash_password("chief-password")
        session.add(User(username="chief", password_hash=password, role=Role.SUPERVISOR, email=email, active=True))


def legacy_counterpart_line(app, address: str) -> None:
    """A line to the other side at address, as lines were made before ladder.save_channel compared addresses."""
    with session_scope(app) as session:
        line = ContactChannel(name="Eastland hotline", level=3, transport="outbox", address=address)
        line.counterpart_line, line.active, line.health = True, True, ChannelHealth.OK
        line.consecutive_failures, line.check_window_seconds = 0, 900
        session.add(line)


def test_a_supervisor_whose_mailbox_is_the_other_side_s_is_never_told(app, client, caplog):
    world = build_world(app, steps=(("L1",),), ack_seconds=60)
    add_counterpart_line(app, world, "Eastland hotline", address="hotline@eastland.test")
    legacy_supervisor(app, "chief@EASTLAND.test")  # the line's domain, in another case
    reference = file_incident(client, world)["reference"]
    with session_scope(app) as session:
        incident = session.scalar(select(Incident).where(Incident.reference == reference))
        incident.next_escalation_at = utcnow() - timedelta(seconds=1)

    caplog.set_level(logging.WARNING, logger="tracker.services.engine.notify")
    assert jobs.sweep(app) == 1
    with session_scope(app) as session:
        status = session.scalar(select(Incident.status).where(Incident.reference == reference))
        told = session.scalars(
            select(User.username)
            .join(Notification, Notification.user_id == User.id)
            .where(Notification.kind == NotificationKind.EXHAUSTED)
        ).all()
    assert status is IncidentStatus.EXHAUSTED and told == ["supervisor"], (status, told)
    warned = [r.getMessage() for r in caplog.records if r.name == "tracker.services.engine.notify"]
    assert warned and all(m.startswith("supervisor chief is not told") for m in warned), warned


def test_the_warning_comes_only_when_the_supervisors_are_told_something(app, caplog):
    """The checks' and the watchdog's ticks with nothing to tell the supervisors do not warn of the mailbox each
    time (every 30 s): the warning comes with a message it kept from the other side."""
    world = build_world(app, steps=(("L1",),), ack_seconds=60)
    add_counterpart_line(app, world, "Eastland hotline", address="hotline@eastland.test")
    legacy_supervisor(app, "chief@eastland.test")
    caplog.set_level(logging.WARNING, logger="tracker.services.engine.notify")
    for _ in range(3):
        jobs.check_lines(app)
        jobs.watch(app)
    warned = [r.getMessage() for r in caplog.records if r.name == "tracker.services.engine.notify"]
    assert warned == [], warned


def test_a_message_queued_for_such_a_mailbox_before_is_refused_at_delivery(app, client):
    """chief's mailbox was ours when the incident ran out of steps (the EXHAUSTED message queued for them); a line
    to the other side at that domain came later (as before the checks at creation): delivery refuses the message,
    dead-letters it with the reason, and sends the other supervisor's."""
    world = build_world(app, steps=(("L1",),), ack_seconds=60)
    legacy_supervisor(app, "chief@eastland.test")
    reference = file_incident(client, world)["reference"]
    with session_scope(app) as session:
        incident = session.scalar(select(Incident).where(Incident.reference == reference))
        incident.next_escalation_at = utcnow() - timedelta(seconds=1)
    assert jobs.sweep(app) == 1
    legacy_counterpart_line(app, "hotline@eastland.test")  # made after the message was queued
    jobs.deliver(app)
    with session_scope(app) as session:
        rows = session.execute(
            select(User.username, Notification.status, Notification.last_error)
            .join(Notification, Notification.user_id == User.id)
            .where(Notification.kind == NotificationKind.EXHAUSTED)
            .order_by(User.username)
        ).all()
    by_user = {username: (status, error) for username, status, error in rows}
    assert by_user["supervisor"][0] is NotificationStatus.SENT, by_user
    assert by_user["chief"][0] is NotificationStatus.DEAD, by_user
    assert by_user["chief"][1].startswith("message to supervisor chief refused: their e-mail address"), by_user
    addressed = [line for path in outbox_files(app) for line in path.read_text().splitlines() if line.startswith("To:")]
    assert not [line for line in addressed if "eastland.test" in line], addressed


def test_a_supervisor_with_no_mailbox_whose_username_is_the_other_side_s_address_is_never_told(app, client):
    """A supervisor with no e-mail address is sent to at their username (delivery.Composer.compose,
    line_alerts.compose): a username at the other side's domain is their mailbox, and is judged as one."""
    world = build_world(app, steps=(("L1",),), ack_seconds=60)
    add_counterpart_line(app, world, "Eastland hotline", address="hotline@eastland.test")
    with session_scope(app) as session:
        password = people.hash_password("chief-password")
        session.add(
            User(username="chief@eastland.test", password_hash=password, role=Role.SUPERVISOR, email=None, active=True)
        )
    reference = file_incident(client, world)["reference"]
    with session_scope(app) as session:
        incident = session.scalar(select(Incident).where(Incident.reference == reference))
        incident.next_escalation_at = utcnow() - timedelta(seconds=1)
    assert jobs.sweep(app) == 1
    jobs.deliver(app)
    addressed = [line for path in outbox_files(app) for line in path.read_text().splitlines() if line.startswith("To:")]
    assert not [line for line in addressed if "eastland.test" in line], addressed


def test_a_ladder_message_to_one_of_our_lines_at_the_other_side_s_domain_is_refused_at_delivery(app, client):
    """L1 (l1@test.example) is on the ladder; a line to the other side at that domain was made before the lines
    were checked against each other: the call to act, its internal details and its acknowledge link, is not sent
    there (the link would be refused anyway: handling.link_target), but dead-lettered with the reason."""
    world = build_world(app, steps=(("L1",),), ack_seconds=60)
    legacy_counterpart_line(app, "hotline@TEST.example")
    file_incident(client, world)
    jobs.deliver(app)
    with session_scope(app) as session:
        rows = session.execute(
            select(Notification.status, Notification.last_error).where(Notification.channel_id == world.channels["L1"])
        ).all()
    assert rows and all(status is NotificationStatus.DEAD for status, _ in rows), rows
    addressed = [line for path in outbox_files(app) for line in path.read_text().splitlines() if line.startswith("To:")]
    assert not [line for line in addressed if "l1@test.example" in line], addressed


def test_health_counts_only_the_supervisors_who_are_told(app, client, world):
    """A supervisor whose mailbox is the other side's is told nothing (notify.active_supervisors): /health counted them
    and said ok while nobody of ours was told."""
    add_counterpart_line(app, world, "Eastland hotline", address="hotline@eastland.test")
    with session_scope(app) as session:
        session.scalar(select(User).where(User.username == "supervisor")).active = False
    legacy_supervisor(app, "chief@eastland.test")
    assert client.get("/api/v1/health").get_json()["supervisors"] == "admins"
