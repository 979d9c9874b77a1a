"""Communications checks against a real SMTP server: a line failing its scheduled checks goes
degraded then down, routing skips it for the step's fallback (on the incident's timeline), and a
check confirmed from its message's link restores it. Time is driven with explicit `now` values."""

import re
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from tests.schedulers import at_once
from tests.support import build_world, csrf, file_incident, sign_in
from tracker import dispatch, jobs
from tracker.db import session_scope
from tracker.models import (
    ChannelCheck,
    ChannelHealth,
    CheckOutcome,
    ContactChannel,
    EscalationPolicy,
    LinkUse,
    Role,
)
from tracker.services.accounts import people
from tracker.services.engine import line_checks
from tracker.services.incidents import ladder
from tracker.timeutil import format_dtg, utcnow

CHECK_URL = re.compile(r"http://tracker\.test(/links/check/[A-Za-z0-9_\-.]+)")
WINDOW = 60


@pytest.fixture
def checked_app(make_app, smtp_server):
    """E-mail to the test SMTP server, with the documented thresholds spelled out."""
    return make_app(
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=smtp_server.port,
        SMTP_SECURITY="none",
        SMTP_TIMEOUT_SECONDS=3,
        SMTP_FROM="Incident tracker <tracker@tracker.test>",
        CHECK_DEGRADED_AFTER=1,
        CHECK_DOWN_AFTER=3,
    )


def save(app, channel_id: int, now: datetime | None = None, **data) -> None:
    with session_scope(app) as session:
        channel = session.get(ContactChannel, channel_id)
        ladder.save_channel(session, data, app.extensions["tracker.transports"], channel, now=now)


def on_email(app, channel_id: int, now: datetime | None = None, **schedule) -> None:
    """Put the channel on e-mail (l1@test.example style address) with a check schedule."""
    save(
        app,
        channel_id,
        now,
        transport="email",
        check_window_seconds=WINDOW,
        **{"check_interval_seconds": 3600, **schedule},
    )


def channel_row(app, channel_id: int) -> ContactChannel:
    with session_scope(app) as session:
        channel = session.get(ContactChannel, channel_id)
        session.expunge(channel)
        return channel


def check_row(app, check_id: int) -> ChannelCheck:
    with session_scope(app) as session:
        check = session.get(ChannelCheck, check_id)
        session.expunge(check)
        return check


def expire(app, now: datetime) -> int:
    with session_scope(app) as session:
        return line_checks.expire_checks(session, now, dispatch.health_rules(app))


def expired_check(app, channel_id: int) -> tuple[int, datetime]:
    """A check sent two hours ago and failed by the sweep a second after its window closed; its id and
    when it was sent."""
    sent = utcnow().replace(microsecond=0) - timedelta(hours=2)
    with session_scope(app) as session:
        check = line_checks.start_check(session, session.get(ContactChannel, channel_id), "schedule", sent)
        check_id, due_by = check.id, check.due_by
    assert expire(app, due_by + timedelta(seconds=1)) == 1
    return check_id, sent


def log_late_answer(app, check_id: int, sent: datetime) -> None:
    """Log the answer given by voice five minutes after the check was sent, now that its window closed."""
    with session_scope(app) as session:
        check = session.get(ChannelCheck, check_id)
        at = sent + timedelta(minutes=5)
        line_checks.record_answer(session, check, at, "Maj Petrov", "voice", utcnow(), dispatch.health_rules(app))


def take_down(app, channel_id: int, start: datetime) -> None:
    """Three checks nobody confirmed within their window."""
    for _ in range(3):
        with session_scope(app) as session:
            check = line_checks.start_check(session, session.get(ContactChannel, channel_id), "schedule", start)
            due_by = check.due_by
        assert expire(app, due_by) == 1
        start += timedelta(hours=1)
    assert channel_row(app, channel_id).health is ChannelHealth.DOWN


def set_steps(app, world, *steps: dict) -> None:
    with session_scope(app) as session:
        ladder.save_policy(session, {"steps": list(steps)}, session.get(EscalationPolicy, world.policy_id))


def check_link(message) -> str:
    [path] = CHECK_URL.findall(message.get_body(("plain",)).get_content())
    return path


def check_sent_by_mail(app, smtp_server) -> tuple[int, int, str]:
    """A supervisor's check of L1, put on e-mail, as it reached the line: the line's id, the check's, its link."""
    l1 = build_world(app).channels["L1"]
    on_email(app, l1)
    check_id = dispatch.send_check(app, l1, "supervisor")
    [message] = smtp_server.wait_for(1)
    return l1, check_id, check_link(message)


def incident(client, world, reference: str) -> dict:
    return client.get(f"/api/v1/incidents/{reference}", headers=world.auth("supervisor")).get_json()


def sent_to(body: dict) -> list[tuple[str, int, str]]:
    return [(n["kind"], n["step"], n["channel"] or n["user"]) for n in body["notifications"]]


# -- degraded, then down ------------------------------------------------------------------


@pytest.mark.both_databases  # due lines claimed and windows compared in SQL
def test_unconfirmed_or_undeliverable_checks_degrade_then_take_the_line_down(checked_app, smtp_server):
    app, client = checked_app, checked_app.test_client()
    world = build_world(app)
    l1 = world.channels["L1"]
    t0 = utcnow().replace(microsecond=0)
    on_email(app, l1, now=t0)
    assert channel_row(app, l1).next_check_at == t0 + timedelta(hours=1)

    with session_scope(app) as session:
        assert line_checks.claim_due_channels(session, t0 + timedelta(seconds=3599), 50) == []
    with session_scope(app) as session:
        [due] = line_checks.claim_due_channels(session, t0 + timedelta(hours=1), 50)
        assert due.id == l1 and due.next_check_at == t0 + timedelta(hours=2), "the next check is on the calendar"

    # 1. Sent and received, never confirmed: it fails when the window closes, not before.
    first = dispatch.send_check(app, l1, "schedule")
    [message] = smtp_server.wait_for(1)
    assert message["To"] == "L1 <l1@test.example>" and message["Subject"].startswith("ROUTINE COMMCHECK L1")
    link = check_link(message)
    assert f'href="http://tracker.test{link}"' in message.get_body(("html",)).get_content()
    check = check_row(app, first)
    assert check.outcome is CheckOutcome.PENDING and check.due_by == check.sent_at + timedelta(seconds=WINDOW)
    assert expire(app, check.due_by - timedelta(seconds=1)) == 0
    assert channel_row(app, l1).health is ChannelHealth.OK
    assert expire(app, check.due_by) == 1
    line = channel_row(app, l1)
    assert (line.health, line.consecutive_failures) == (ChannelHealth.DEGRADED, 1)
    assert line.last_check_at == check.due_by and line.last_check_ok_at is None

    late = client.post(link)
    assert late.status_code == 410 and "already decided: failed" in late.get_data(as_text=True)
    assert channel_row(app, l1).health is ChannelHealth.DEGRADED, "a late confirmation restores nothing"

    # 2. The mail server is down: the check cannot even be sent, which is a failure at once.
    smtp_server.stop()
    second = dispatch.send_check(app, l1, "schedule")
    smtp_server.start()
    assert check_row(app, second).outcome is CheckOutcome.FAILED
    assert channel_row(app, l1).consecutive_failures == 2

    # 3. The third failure in a row takes the line down.
    third = dispatch.send_check(app, l1, "schedule")
    smtp_server.wait_for(2)
    assert expire(app, check_row(app, third).due_by) == 1

    history = client.get(f"/api/v1/channels/{l1}/checks", headers=world.auth("duty"))
    assert history.status_code == 200
    rows = history.get_json()
    assert [r["id"] for r in rows] == [third, second, first], "newest first"
    assert [(r["outcome"], r["health_after"]) for r in rows] == [
        ("failed", "down"),
        ("failed", "degraded"),
        ("failed", "degraded"),
    ]
    assert rows[1]["detail"].startswith("not delivered: ")
    assert rows[0]["detail"] == rows[2]["detail"] == "not confirmed within the window"
    assert all(r["requested_by"] == "schedule" and r["decided_at"] for r in rows)

    body = client.get(f"/api/v1/channels/{l1}", headers=world.auth("duty")).get_json()
    assert body["health"] == "down" and body["consecutive_failures"] == 3
    assert body["last_check_ok_at"] is None and body["next_check_at"] == _iso(t0 + timedelta(hours=2))


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@pytest.mark.both_databases  # checks expired by their windows compared in SQL
@pytest.mark.parametrize(
    ("degraded_after", "down_after", "health"),
    [(1, 3, ["degraded", "degraded", "down"]), (2, 4, ["ok", "degraded", "degraded", "down"]), (2, 2, ["ok", "down"])],
)
def test_the_thresholds_come_from_the_configuration(make_app, degraded_after, down_after, health):
    app = make_app(CHECK_DEGRADED_AFTER=degraded_after, CHECK_DOWN_AFTER=down_after)
    world = build_world(app)
    start = utcnow()
    for n in range(len(health)):
        with session_scope(app) as session:
            channel = session.get(ContactChannel, world.channels["L1"])
            line_checks.start_check(session, channel, "schedule", start + timedelta(hours=n))
        assert expire(app, start + timedelta(hours=n, seconds=900)) == 1
    with session_scope(app) as session:
        after = session.scalars(select(ChannelCheck.health_after).order_by(ChannelCheck.id)).all()
    assert [h.value for h in after] == health


# -- routing around a down line, and back ---------------------------------------------------


@pytest.mark.both_databases  # checks expired in SQL; the sweep claims by deadline
def test_a_down_line_is_skipped_for_its_fallback_until_a_confirmed_check_restores_it(checked_app, smtp_server):
    app, client = checked_app, checked_app.test_client()
    world = build_world(app)
    l1, l2, l3 = (world.channels[name] for name in ("L1", "L2", "L3"))
    on_email(app, l1)
    with_fallback = {"channel_ids": [l1], "ack_seconds": 600, "fallback_channel_id": l3}
    without_fallback = {"channel_ids": [l1], "ack_seconds": 600}
    second_step = {"channel_ids": [l2], "ack_seconds": 600}
    set_steps(app, world, with_fallback, second_step)
    take_down(app, l1, utcnow() - timedelta(hours=5))

    # Down, with a fallback: the incident goes to L3 and the timeline says why.
    skipped = file_incident(client, world)["reference"]
    body = incident(client, world, skipped)
    assert sent_to(body) == [("notified", 1, "L3")]
    [fallback] = [e for e in body["timeline"] if e["kind"] == "fallback"]
    assert fallback["details"] == {"skipped": "L1", "reason": "down", "fallback": "L3", "step": 1, "loop": 0}
    [routed] = [e for e in body["timeline"] if e["kind"] == "routed"]
    assert routed["details"]["channels"] == ["L3"]
    assert body["next_escalation_at"] > body["reported_at"], "the fallback has the step's full time"
    assert jobs.deliver(app) == 1 and smtp_server.messages == [], "nothing went to the down line"

    # Down, no fallback and nobody else on the step: it is due at once and the sweep escalates it.
    set_steps(app, world, without_fallback, second_step)
    stranded = file_incident(client, world)["reference"]
    body = incident(client, world, stranded)
    assert sent_to(body) == [] and body["next_escalation_at"] == body["reported_at"]
    assert [e["details"]["channels"] for e in body["timeline"] if e["kind"] == "routed"] == [[]]
    assert jobs.sweep(app) == 1
    body = incident(client, world, stranded)
    assert body["current_step"] == 2 and sent_to(body) == [("escalated", 2, "L2")]

    # A check confirmed from its message restores the line.
    check_id = dispatch.send_check(app, l1, "supervisor")
    [message] = smtp_server.wait_for(1)
    link = check_link(message)
    page = client.get(link)
    assert page.status_code == 200 and '<form method="post">' in page.get_data(as_text=True)
    assert channel_row(app, l1).health is ChannelHealth.DOWN, "opening the link confirms nothing"
    with session_scope(app) as session:
        assert session.scalar(select(func.count()).select_from(LinkUse)) == 0

    done = client.post(link)
    assert done.status_code == 200 and "Line confirmed" in done.get_data(as_text=True)
    line = channel_row(app, l1)
    assert (line.health, line.consecutive_failures) == (ChannelHealth.OK, 0)
    assert line.last_check_ok_at is not None and line.last_check_ok_at == line.last_check_at
    [newest, *_] = client.get(f"/api/v1/channels/{l1}/checks", headers=world.auth("duty")).get_json()
    assert newest["id"] == check_id and (newest["outcome"], newest["health_after"]) == ("ok", "ok")
    assert newest["detail"] == "confirmed from the message"
    assert client.post(link).status_code == 409, "the confirmation link works once"

    # New incidents go to L1 again, fallback or not.
    set_steps(app, world, with_fallback, second_step)
    restored = file_incident(client, world)["reference"]
    body = incident(client, world, restored)
    assert sent_to(body) == [("notified", 1, "L1")]
    assert "fallback" not in [e["kind"] for e in body["timeline"]]
    jobs.deliver(app)
    notified = smtp_server.wait_for(2)[1]
    assert notified["To"] == "L1 <l1@test.example>" and restored in notified["Subject"]


@pytest.mark.both_databases  # a check expired by its window compared in SQL
def test_a_degraded_line_is_still_used(checked_app):
    app, client = checked_app, checked_app.test_client()
    world = build_world(app)
    l1 = world.channels["L1"]
    set_steps(app, world, {"channel_ids": [l1], "ack_seconds": 600, "fallback_channel_id": world.channels["L3"]})
    with session_scope(app) as session:
        check = line_checks.start_check(session, session.get(ContactChannel, l1), "schedule", utcnow())
        due_by = check.due_by
    expire(app, due_by)
    assert channel_row(app, l1).health is ChannelHealth.DEGRADED

    body = incident(client, world, file_incident(client, world)["reference"])
    assert sent_to(body) == [("notified", 1, "L1")]


# -- the checks job, on demand, from the CLI ------------------------------------------------


@pytest.mark.both_databases  # due lines claimed and windows compared in SQL
def test_the_checks_job_sends_due_checks_and_fails_those_past_their_window(checked_app, smtp_server):
    app = checked_app
    world = build_world(app)
    l1 = world.channels["L1"]
    on_email(app, l1, now=utcnow() - timedelta(hours=1))  # so the first check is due now
    with session_scope(app) as session:
        channel = session.get(ContactChannel, l1)
        overdue_id = line_checks.start_check(session, channel, "schedule", utcnow() - timedelta(hours=2)).id

    assert jobs.check_lines(app) == 1
    assert jobs.check_lines(app) == 0, "the next check is an interval away"

    [message] = smtp_server.wait_for(1)
    assert message["Subject"].startswith("ROUTINE COMMCHECK L1") and check_link(message)
    assert check_row(app, overdue_id).outcome is CheckOutcome.FAILED
    with session_scope(app) as session:
        outcomes = session.scalars(select(ChannelCheck.outcome).order_by(ChannelCheck.id)).all()
    assert outcomes == [CheckOutcome.FAILED, CheckOutcome.PENDING]
    line = channel_row(app, l1)
    assert line.health is ChannelHealth.DEGRADED
    assert line.next_check_at > utcnow() + timedelta(seconds=3500)


@pytest.mark.both_databases  # due lines claimed together, by time in SQL
def test_a_check_that_cannot_be_sent_does_not_skip_the_other_lines_due_with_it(checked_app, smtp_server, monkeypatch):
    app = checked_app
    world = build_world(app)
    l1, l2 = world.channels["L1"], world.channels["L2"]
    on_email(app, l1, now=utcnow() - timedelta(hours=2))  # due first: claimed and tried before L2
    on_email(app, l2, now=utcnow() - timedelta(hours=1))
    real_send_check = dispatch.send_check

    def send_check(app, channel_id: int, requested_by: str) -> int:
        if channel_id == l1:
            raise RuntimeError("the L1 desk's address book is corrupt")
        return real_send_check(app, channel_id, requested_by)

    monkeypatch.setattr(dispatch, "send_check", send_check)
    assert jobs.check_lines(app) == 1, "L2's check is sent although L1's, claimed in the same run, failed"
    [message] = smtp_server.wait_for(1)
    assert message["Subject"].startswith("ROUTINE COMMCHECK L2"), message["Subject"]


@pytest.mark.both_databases  # a failed check decided under the line's row lock
def test_supervisors_and_admins_send_a_check_now_duty_officers_cannot(checked_app, smtp_server):
    app, client = checked_app, checked_app.test_client()
    world = build_world(app)
    l1 = world.channels["L1"]
    on_email(app, l1)

    refused = client.post(f"/api/v1/channels/{l1}/checks", headers=world.auth("duty"))
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "forbidden"
    for who in ("supervisor", "admin"):
        response = client.post(f"/api/v1/channels/{l1}/checks", headers=world.auth(who))
        assert response.status_code == 201, response.get_json()
        body = response.get_json()
        assert body["outcome"] == "pending" and body["requested_by"] == who
        assert body.get("health_after") is None, "not judged yet"
    assert client.post("/api/v1/channels/9999/checks", headers=world.auth("admin")).status_code == 404

    assert len(smtp_server.wait_for(2)) == 2
    with session_scope(app) as session:
        assert session.scalars(select(ChannelCheck.requested_by).order_by(ChannelCheck.id)).all() == [
            "supervisor",
            "admin",
        ], "the refused request opened no check"

    smtp_server.stop()
    undeliverable = client.post(f"/api/v1/channels/{l1}/checks", headers=world.auth("supervisor")).get_json()
    assert (undeliverable["outcome"], undeliverable["health_after"]) == ("failed", "degraded")
    assert undeliverable["detail"].startswith("not delivered: ")


def test_the_cli_sends_a_check_and_prints_its_id(checked_app, smtp_server):
    app = checked_app
    world = build_world(app)
    on_email(app, world.channels["L1"])
    runner = app.test_cli_runner()

    result = runner.invoke(args=["channel", "test", "L1"])

    assert result.exit_code == 0, result.output
    match = re.fullmatch(r"check (\d+) of L1: pending; confirm by \d{4}-\d\d-\d\d \d\d:\d\dZ\n", result.output)
    assert match, result.output
    check = check_row(app, int(match.group(1)))
    assert check.requested_by == "cli" and check.channel_id == world.channels["L1"]
    [message] = smtp_server.wait_for(1)
    assert message["Subject"].startswith("ROUTINE COMMCHECK L1")

    listing = runner.invoke(args=["channel", "list"])
    assert listing.exit_code == 0
    # The check is still pending: nobody has seen the line work yet, so it lists as untested, not ok.
    assert re.search(r"^L1 L1\s+email\s+untested\s+last good check never$", listing.output, re.MULTILINE), (
        listing.output
    )
    unknown = runner.invoke(args=["channel", "test", "Nowhere"])
    assert unknown.exit_code == 1 and "no channel 'Nowhere'" in unknown.output
    with session_scope(app) as session:
        session.get(ContactChannel, world.channels["L2"]).active = False
    inactive = runner.invoke(args=["channel", "test", "L2"])
    assert inactive.exit_code == 1 and "channel 'L2' is inactive (active: no)" in inactive.output, inactive.output


def test_a_check_the_cli_cannot_deliver_fails_the_command(checked_app, smtp_server):
    """A line whose relay refused the test message answered "check 3 of L1: failed: not delivered: ...; confirm
    by 02:38Z" and exit 0: a script testing its lines was told the test went well, and asked to confirm a
    message that never left."""
    app = checked_app
    world = build_world(app)
    on_email(app, world.channels["L1"])
    smtp_server.stop()

    result = app.test_cli_runner().invoke(args=["channel", "test", "L1"])

    assert result.exit_code == 1, result.output
    assert re.fullmatch(
        r"Error: check \d+ of L1 failed: not delivered: .+; the line is now degraded\n", result.output
    ), result.output
    assert "confirm by" not in result.output and "Traceback" not in result.output


# -- schedules ------------------------------------------------------------------------------


@pytest.mark.both_databases  # due lines claimed by a time compared in SQL
def test_a_cron_schedule_puts_the_next_check_on_the_next_five_minute_mark(app, client, world):
    l1 = world.channels["L1"]
    save(app, l1, now=datetime(2026, 11, 27, 14, 32, 5, tzinfo=UTC), check_cron="*/5 * * * *")
    assert channel_row(app, l1).next_check_at == datetime(2026, 11, 27, 14, 35, tzinfo=UTC)
    with session_scope(app) as session:
        [due] = line_checks.claim_due_channels(session, datetime(2026, 11, 27, 14, 35, tzinfo=UTC), 50)
        assert due.next_check_at == datetime(2026, 11, 27, 14, 40, tzinfo=UTC)

    before = utcnow()
    response = client.patch(f"/api/v1/channels/{l1}", json={"check_cron": "*/5 * * * *"}, headers=world.auth("admin"))
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["check_cron"] == "*/5 * * * *"
    next_check = channel_row(app, l1).next_check_at
    assert next_check.minute % 5 == 0 and next_check.second == 0 and next_check.microsecond == 0
    assert before < next_check <= before + timedelta(minutes=5)


@pytest.mark.both_databases  # the next check's time stored and read back
def test_a_cron_schedule_on_29_february_waits_for_the_leap_year(app, world):
    l1 = world.channels["L1"]
    save(app, l1, now=datetime(2026, 11, 27, 14, 32, 5, tzinfo=UTC), check_cron="0 6 29 2 *")
    assert channel_row(app, l1).next_check_at == datetime(2028, 2, 29, 6, tzinfo=UTC)


def test_a_line_is_checked_on_an_interval_or_a_cron_schedule_never_both(client, world):
    """Both were kept and the cron alone used, while the line's page showed the interval too."""
    l1, admin = world.channels["L1"], world.auth("admin")
    hourly = client.patch(f"/api/v1/channels/{l1}", json={"check_interval_seconds": 3600}, headers=admin)
    assert hourly.status_code == 200, hourly.get_json()
    for body in ({"check_cron": "0 */6 * * *"}, {"check_cron": "0 */6 * * *", "check_interval_seconds": 600}):
        refused = client.patch(f"/api/v1/channels/{l1}", json=body, headers=admin)
        assert refused.status_code == 422, (body, refused.get_json())
        details = refused.get_json()["error"]["details"]
        assert {"check_cron", "check_interval_seconds"} <= set(details), (body, details)
        kept = client.get(f"/api/v1/channels/{l1}", headers=admin).get_json()
        assert (kept["check_interval_seconds"], kept["check_cron"]) == (3600, None), kept
    moved = {"check_cron": "0 */6 * * *", "check_interval_seconds": None}
    taken = client.patch(f"/api/v1/channels/{l1}", json=moved, headers=admin)
    assert taken.status_code == 200, taken.get_json()
    assert (taken.get_json()["check_interval_seconds"], taken.get_json()["check_cron"]) == (None, "0 */6 * * *")
    renamed = client.patch(f"/api/v1/channels/{l1}", json={"name": "L1 primary"}, headers=admin)
    assert renamed.status_code == 200, renamed.get_json()


# 31 February and 30 February are valid crontab: the line would never be checked, its next check none.
@pytest.mark.parametrize(
    "expression", ["every five minutes", "*/5 * * *", "61 * * * *", "* * * * * *", "0 6 31 2 *", "0 6 30 2 *"]
)
def test_an_invalid_cron_schedule_is_refused(client, world, expression):
    l1 = world.channels["L1"]
    before = client.get(f"/api/v1/channels/{l1}", headers=world.auth("admin")).get_json()

    response = client.patch(f"/api/v1/channels/{l1}", json={"check_cron": expression}, headers=world.auth("admin"))

    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_error" and "check_cron" in error["details"]
    assert client.get(f"/api/v1/channels/{l1}", headers=world.auth("admin")).get_json() == before


@pytest.mark.both_databases  # a failed check decided under the line's row lock
def test_a_check_written_to_the_file_drop_but_not_settled_on_disk_fails_at_once(app, monkeypatch):
    from tracker.channels.filedrop import FileDropTransport

    world = build_world(app)
    l1 = world.channels["L1"]
    assert channel_row(app, l1).transport == "outbox"

    def cannot(self) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(FileDropTransport, "settle", cannot)
    check = check_row(app, dispatch.send_check(app, l1, "supervisor"))
    assert check.outcome is CheckOutcome.FAILED, "a check the line may never have got is no check"
    assert check.detail == "not delivered: [Errno 5] Input/output error", check.detail
    assert channel_row(app, l1).consecutive_failures == 1


@pytest.mark.both_databases  # checks expired by their windows compared in SQL
def test_a_line_that_goes_down_is_shown_on_the_board_and_the_queue_and_logged(checked_app, caplog):
    app, client = checked_app, checked_app.test_client()
    world = build_world(app)
    sign_in(client, "liaison")
    assert "not confirmed working" not in client.get("/board").text, "every line well: nothing to say"
    with caplog.at_level("WARNING", logger="tracker.services.engine.line_checks"):
        take_down(app, world.channels["L1"], utcnow() - timedelta(days=1))
    # The relay's own records (aiosmtpd's "EOF received") come along when an earlier test of the worker left the
    # root logger at INFO: the line checks' are the ones counted.
    said = [r.getMessage() for r in caplog.records if r.name == "tracker.services.engine.line_checks"]
    assert said == [
        "line L1 is degraded: 1 checks in a row unconfirmed",
        "line L1 is down: 3 checks in a row unconfirmed",
    ], "each change of health once"
    for page in ("/board", "/queue"):
        shown = client.get(page).text
        assert "1 line not confirmed working" in shown, (page, shown[:3000])
        down = r'data-line="L1"><span class="state alarm">DOWN</span>\s*<strong><bdi>L1</bdi></strong>'
        assert re.search(down, shown), page
        assert "3 checks in a row unconfirmed;\n      never confirmed." in shown, page


@pytest.mark.both_databases  # an expired check's claim, then its answer under the line's row lock
def test_an_answer_given_in_time_and_logged_after_the_window_closed_still_counts(checked_app):
    app = checked_app
    world = build_world(app)
    l1 = world.channels["L1"]
    check_id, t0 = expired_check(app, l1)  # the sweep was quicker than the officer
    assert channel_row(app, l1).health is ChannelHealth.DEGRADED
    log_late_answer(app, check_id, t0)
    answered = check_row(app, check_id)
    assert (answered.outcome, answered.answered_by) == (CheckOutcome.OK, "Maj Petrov")
    line = channel_row(app, l1)
    assert (line.health, line.consecutive_failures) == (ChannelHealth.OK, 0), "the line worked after all"


@pytest.mark.both_databases  # checks expired in SQL after a newer one was decided
def test_an_older_check_running_out_after_a_newer_one_was_confirmed_leaves_the_line_good(checked_app):
    app = checked_app
    world = build_world(app)
    l1, t0 = world.channels["L1"], utcnow().replace(microsecond=0) - timedelta(hours=2)
    rules = dispatch.health_rules(app)
    with session_scope(app) as session:
        older = line_checks.start_check(session, session.get(ContactChannel, l1), "schedule", t0)
        older_due = older.due_by
        newer = line_checks.start_check(
            session, session.get(ContactChannel, l1), "supervisor", t0 + timedelta(minutes=5)
        )
        newer_id = newer.id
    with session_scope(app) as session:
        line_checks.record_answer(
            session, session.get(ChannelCheck, newer_id), t0 + timedelta(minutes=6), "Eastland duty", "line",
            t0 + timedelta(minutes=6), rules,
        )  # fmt: skip
    assert expire(app, older_due) == 1
    line = channel_row(app, l1)
    assert (line.health, line.consecutive_failures) == (ChannelHealth.OK, 0), "the newest check says the line works"


@pytest.mark.both_databases  # the window stored and compared; the sweep's in SQL
def test_a_link_used_after_the_window_closed_is_refused_even_before_the_sweep_judged_it(checked_app, smtp_server):
    app, client = checked_app, checked_app.test_client()
    l1, check_id, link = check_sent_by_mail(app, smtp_server)
    with session_scope(app) as session:  # its window closed a second ago; no sweep has run since
        session.get(ChannelCheck, check_id).due_by = utcnow() - timedelta(seconds=1)
    late = client.post(link)
    assert late.status_code == 410 and "window closed" in late.get_data(as_text=True), late.get_data(as_text=True)[:800]
    assert check_row(app, check_id).outcome is CheckOutcome.PENDING, "the sweep decides it: not confirmed"
    assert expire(app, utcnow()) == 1 and channel_row(app, l1).health is ChannelHealth.DEGRADED


def test_a_check_link_sent_to_an_address_the_line_no_longer_has_says_so_and_confirms_nothing(checked_app, smtp_server):
    """The line's mailbox moved after the check went out: whoever holds the old one is not the line. It was
    refused as "not a check of this line", which it was."""
    app, client = checked_app, checked_app.test_client()
    l1, check_id, link = check_sent_by_mail(app, smtp_server)
    save(app, l1, address="l1-new@test.example")
    for response in (client.get(link), client.post(link)):
        text = response.get_data(as_text=True)
        assert response.status_code == 403, (response.status_code, text[:800])
        assert "This line&#39;s address changed" in text and "Send a new check" in text, text[:800]
    assert check_row(app, check_id).outcome is CheckOutcome.PENDING, "nothing confirmed"


@pytest.mark.parametrize("since", ["made a counterpart line", "their line at its domain"])
def test_a_link_of_a_line_that_reaches_the_other_side_since_is_refused(checked_app, smtp_server, since):
    """A check of one of our desks went out with its link; the line was then made a counterpart line (its
    address the other side's), or a line to the other side came to its domain (made before the lines were
    checked against each other): the other side's answers are logged from the line, never taken by a link."""
    app, client = checked_app, checked_app.test_client()
    build_world(app)
    with session_scope(app) as session:
        line = ladder.save_channel(
            session,
            {"name": "L4 desk", "level": 4, "transport": "email", "address": "l4@eastland.test"},
            app.extensions["tracker.transports"],
        ).id
    check_id = dispatch.send_check(app, line, "supervisor")
    [message] = smtp_server.wait_for(1)
    link = check_link(message)
    if since == "made a counterpart line":
        save(app, line, counterpart_line=True, counterpart="Eastland Ministry of Defence", counterpart_state="Eastland")
    else:
        with session_scope(app) as session:
            their = ContactChannel(name="Eastland hotline", level=3, transport="outbox", counterpart_line=True)
            their.address, their.active, their.health = "hotline@eastland.test", True, ChannelHealth.OK
            their.consecutive_failures, their.check_window_seconds = 0, 900
            session.add(their)
    refused = client.post(link)
    text = refused.get_data(as_text=True)
    assert refused.status_code == 403, (refused.status_code, text[:800])
    assert "This link cannot confirm the check" in text, text[:800]
    assert check_row(app, check_id).outcome is CheckOutcome.PENDING, "nothing confirmed"


@pytest.mark.both_databases  # the answer claims the pending check under the line's row lock
def test_the_lines_own_liaison_logs_the_answer_from_my_queue_and_no_one_else_of_their_rank(checked_app):
    app = checked_app
    world = build_world(app)
    l1 = world.channels["L1"]  # the liaison serves it, the outsider does not
    with session_scope(app) as session:
        check_id = line_checks.start_check(session, session.get(ContactChannel, l1), "schedule", utcnow()).id
    outsider, liaison = app.test_client(), app.test_client()
    sign_in(outsider, "outsider")
    sign_in(liaison, "liaison")
    assert f'data-check="{check_id}"' not in outsider.get("/queue").text
    queue = liaison.get("/queue").text
    assert "Line checks awaiting an answer" in queue and f'data-check="{check_id}"' in queue, queue[:3000]
    form = {
        f"answer-{check_id}-csrf_token": csrf(liaison, "/password"),
        f"answer-{check_id}-at": format_dtg(utcnow()),
        f"answer-{check_id}-by": "Maj Petrov",
        "via": "voice",
        "next": "/queue",
    }
    path = f"/admin/channels/{l1}/checks/{check_id}/answer"
    theirs = {**form, f"answer-{check_id}-csrf_token": csrf(outsider, "/password")}
    assert outsider.post(path, data=theirs).status_code == 403
    assert check_row(app, check_id).outcome is CheckOutcome.PENDING
    answered = liaison.post(path, data=form)
    assert answered.status_code == 302 and answered.headers["Location"] == "/queue", answered.headers
    assert (check_row(app, check_id).outcome, check_row(app, check_id).answered_by) == (CheckOutcome.OK, "Maj Petrov")


@pytest.mark.both_databases  # alerts claimed by schedulers at once
def test_a_line_whose_health_changes_is_told_to_every_supervisor_once_and_to_no_line(mail_app, smtp_server):
    """A line going degraded, down or working again was shown on the board and logged, but told to no one:
    a desk with nobody at the board learned of it when an escalation failed. Each change now goes to every
    active supervisor by the supervisors' transport, once, however many schedulers look at once."""
    app = mail_app  # supervisors by e-mail; degraded after 1 unconfirmed check, down after 3 (the defaults)
    world = build_world(app)
    with session_scope(app) as session:  # a second supervisor, and one deactivated (told nothing)
        people.create_user(session, "night", "night-password-1", Role.SUPERVISOR, email="night@test.example", by=None)
        gone = people.create_user(
            session, "gone", "gone-password-1", Role.SUPERVISOR, email="gone@test.example", by=None
        )
        gone.active = False
    # L1 on e-mail to the same relay: an alert sent over the line itself would arrive there, addressed to it.
    on_email(app, world.channels["L1"], utcnow() - timedelta(days=1))
    take_down(app, world.channels["L1"], utcnow() - timedelta(days=1))  # degraded, then down: two changes

    told = at_once(lambda: jobs.tell_line_changes(app))
    assert sorted(told) in ([0, 2], [1, 1]), f"each change told by one scheduler: {told}"
    mails = smtp_server.wait_for(4)
    time.sleep(0.3)  # nothing more comes
    for supervisor in ("night", "supervisor"):
        theirs = [m["Subject"] for m in smtp_server.messages if m["To"].startswith(supervisor)]
        assert theirs == ["LINE DEGRADED: L1", "LINE DOWN: L1"], f"{supervisor} told in the order decided: {theirs}"
    sent = sorted((m["To"], m["Subject"]) for m in smtp_server.messages)
    assert sent == [
        ("night <night@test.example>", "LINE DEGRADED: L1"),
        ("night <night@test.example>", "LINE DOWN: L1"),
        ("supervisor <supervisor@test.example>", "LINE DEGRADED: L1"),
        ("supervisor <supervisor@test.example>", "LINE DOWN: L1"),
    ], sent
    down = next(m for m in mails if m["Subject"] == "LINE DOWN: L1").get_body(("plain",)).get_content()
    assert "is now DOWN (it was DEGRADED)" in down and "Checks in a row unconfirmed: 3" in down, down
    assert "Last confirmed: never" in down and "/board" in down, down
    assert jobs.tell_line_changes(app) == 0, "told once: nothing is left to tell"

    # Working again (a check confirmed from its message): told too.
    l1 = world.channels["L1"]
    with session_scope(app) as session:
        check_id = line_checks.start_check(session, session.get(ContactChannel, l1), "test", utcnow()).id
    token = dispatch.signer(app).issue("check", check=check_id, channel=l1, recipient="l1@test.example")
    assert app.test_client().post(f"/links/check/{token}").status_code == 200
    assert jobs.tell_line_changes(app) == 1
    smtp_server.wait_for(6)
    assert {m["Subject"] for m in smtp_server.messages[4:]} == {"LINE WORKING AGAIN: L1"}
    assert not any("l1@" in m["To"] or "l2@" in m["To"] for m in smtp_server.messages), "never to a line"


def told(smtp_server, first: int = 0) -> list[tuple[str, str, str]]:
    """(supervisor, subject, plain text) of each e-mail from the first-th, in the order received."""
    return [
        (m["To"].split()[0], m["Subject"], m.get_body(("plain",)).get_content()) for m in smtp_server.messages[first:]
    ]


@pytest.mark.both_databases  # alert claims and their lapse compared in SQL
def test_a_lines_changes_are_told_in_order_each_as_it_left_the_line_even_after_an_outage(mail_app, smtp_server):
    """Two changes told together both gave the line's run as it was at sending time (DEGRADED said
    3 checks unconfirmed), and a change whose alert failed was overtaken by the next one: a supervisor
    could read DOWN, then a late DEGRADED, and believe the line half working."""
    app = mail_app
    world = build_world(app)
    l1 = world.channels["L1"]
    take_down(app, l1, utcnow() - timedelta(days=1))  # degraded, then down
    smtp_server.answer("451 4.3.0 try again later")
    assert jobs.tell_line_changes(app) == 0
    with session_scope(app) as session:
        claims = session.execute(
            select(ChannelCheck.health_after, ChannelCheck.alert_claimed_at, ChannelCheck.alert_sent_at)
            .where(ChannelCheck.health_before.is_not(None))
            .order_by(ChannelCheck.decided_at)
        ).all()
    assert [(health, claimed is not None, sent) for health, claimed, sent in claims] == [
        (ChannelHealth.DEGRADED, True, None),
        (ChannelHealth.DOWN, False, None),
    ], f"the later change waits behind the one that failed: {claims}"

    smtp_server.answer("250 OK")
    assert jobs.tell_line_changes(app) == 0, "the failed alert's claim has not lapsed: nothing overtakes it"
    lapse = timedelta(seconds=app.config["DELIVERY_CLAIM_SECONDS"] + 1)
    with session_scope(app) as session:
        session.execute(
            update(ChannelCheck)
            .where(ChannelCheck.alert_claimed_at.is_not(None))
            .values(alert_claimed_at=utcnow() - lapse)
        )
    assert jobs.tell_line_changes(app) == 2
    smtp_server.wait_for(2)
    alerts = told(smtp_server)
    assert [subject for _, subject, _ in alerts] == ["LINE DEGRADED: L1", "LINE DOWN: L1"], alerts
    degraded, down = alerts[0][2], alerts[1][2]
    assert "is now DEGRADED (it was OK)" in degraded and "Checks in a row unconfirmed: 1." in degraded, degraded
    assert "is now DOWN (it was DEGRADED)" in down and "Checks in a row unconfirmed: 3." in down, down


@pytest.mark.both_databases  # alert claims; a check expired in SQL
def test_an_answer_logged_after_the_window_closed_tells_the_supervisors_the_line_works_again(mail_app, smtp_server):
    """The sweep closed the window and the supervisors were told DEGRADED; the answer, given in time,
    was logged later and put the line right, and nobody was told: the check's alert was marked sent
    already (and would have gone under the DEGRADED alert's key, dropped by a receiver as a repeat)."""
    app = mail_app
    world = build_world(app)
    l1 = world.channels["L1"]
    check_id, t0 = expired_check(app, l1)
    assert jobs.tell_line_changes(app) == 1
    smtp_server.wait_for(1)
    log_late_answer(app, check_id, t0)
    assert jobs.tell_line_changes(app) == 1, "the line working again is a change to tell"
    mails = smtp_server.wait_for(2)
    assert [m["Subject"] for m in mails] == ["LINE DEGRADED: L1", "LINE WORKING AGAIN: L1"]
    assert mails[0]["Message-ID"] != mails[1]["Message-ID"], "another alert, not a repeat of the first"
    assert "answered by voice by Maj Petrov" in mails[1].get_body(("plain",)).get_content()

    history = app.test_client().get(f"/api/v1/channels/{l1}/checks", headers=world.auth("supervisor"))
    assert history.status_code == 200, history.get_json()
    [entry] = [c for c in history.get_json() if c["id"] == check_id]
    assert (entry["health_before"], entry["health_after"], entry["failures_in_a_row"]) == ("degraded", "ok", 0), entry
    assert entry["supervisors_told_at"] is not None, entry
    supervisor = app.test_client()
    sign_in(supervisor, "supervisor")
    page = supervisor.get(f"/admin/channels/{l1}/checks").text
    assert re.search(r'data-change="degraded">changed from degraded;\s*supervisors told \d{4}-', page), page[-3000:]


@pytest.mark.both_databases  # two decisions serialised by the line's row lock
def test_two_decisions_on_one_line_at_once_follow_each_other(checked_app):
    """Two checks of one line decided at once (a sweep and an undeliverable check) each read the line's
    health before the other's decision was committed: both found the line OK and both recorded the
    change to DEGRADED, so the supervisors were told it twice."""
    app = checked_app  # degraded after 1 unconfirmed check, down after 3
    world = build_world(app)
    l1, t0 = world.channels["L1"], utcnow() - timedelta(hours=3)
    rules = dispatch.health_rules(app)
    with session_scope(app) as session:
        line = session.get(ContactChannel, l1)
        ids = [line_checks.start_check(session, line, "schedule", t0 + timedelta(minutes=m)).id for m in (0, 1)]
    first_decided, release, second_done = threading.Event(), threading.Event(), threading.Event()

    def first() -> None:
        with session_scope(app) as session:
            line_checks.fail_check(session, ids[0], "refused", t0 + timedelta(minutes=3), rules)
            first_decided.set()
            release.wait(30)

    def second() -> None:
        first_decided.wait(30)
        with session_scope(app) as session:
            line_checks.fail_check(session, ids[1], "refused", t0 + timedelta(minutes=4), rules)
        second_done.set()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    assert first_decided.wait(30)
    assert not second_done.wait(1.0), "the second decision did not wait for the first's on the same line"
    release.set()
    for thread in threads:
        thread.join(30)
    assert second_done.is_set(), "the second decision never finished"
    line = channel_row(app, l1)
    assert (line.health, line.consecutive_failures) == (ChannelHealth.DEGRADED, 2), (
        line.health,
        line.consecutive_failures,
    )
    changes = [(c.health_before, c.health_after) for c in map(lambda i: check_row(app, i), ids)]
    assert changes == [("ok", ChannelHealth.DEGRADED), (None, ChannelHealth.DEGRADED)], (
        f"one change, told once: {changes}"
    )


@pytest.mark.both_databases  # alert claims and their order in SQL
def test_a_late_answer_is_told_after_the_change_it_overturned(mail_app, smtp_server):
    """A late answer was decided as of the time it was given, and a line's changes are told in the order
    decided: its change (DOWN -> DEGRADED) went before the still untold DOWN it overturned, and the
    supervisors' last word was DOWN while the line was DEGRADED (found in review)."""
    app = mail_app
    world = build_world(app)
    l1, t0 = world.channels["L1"], utcnow().replace(microsecond=0) - timedelta(hours=5)
    ids = []
    for hour in range(3):  # A, B, C: each not confirmed in its window
        with session_scope(app) as session:
            check = line_checks.start_check(
                session, session.get(ContactChannel, l1), "schedule", t0 + timedelta(hours=hour)
            )
            ids.append(check.id)
            due_by = check.due_by
        assert expire(app, due_by + timedelta(seconds=1)) == 1
        if hour == 0:
            assert jobs.tell_line_changes(app) == 1  # DEGRADED told
            smtp_server.wait_for(1)
    assert channel_row(app, l1).health is ChannelHealth.DOWN
    smtp_server.answer("451 4.3.0 try again later")
    assert jobs.tell_line_changes(app) == 0  # DOWN not told yet (outage)
    smtp_server.answer("250 OK")
    log_late_answer(app, ids[0], t0)  # A was answered in time after all: run 2, DEGRADED
    assert channel_row(app, l1).health is ChannelHealth.DEGRADED
    with session_scope(app) as session:
        session.execute(
            update(ChannelCheck)
            .where(ChannelCheck.alert_claimed_at.is_not(None))
            .values(alert_claimed_at=utcnow() - timedelta(hours=1))
        )
    assert jobs.tell_line_changes(app) == 2
    smtp_server.wait_for(3)
    told_them = [m["Subject"] for m in smtp_server.messages if m["To"].startswith("supervisor")]
    assert told_them == ["LINE DEGRADED: L1", "LINE DOWN: L1", "LINE DEGRADED: L1"], (
        f"the supervisors' last word on L1 is its health now: {told_them}"
    )


def test_a_check_sent_now_refuses_an_idempotency_key_rather_than_ignore_it(checked_app):
    """Sent twice with one key, it made two checks, and said nothing of the key it did not honour."""
    app, client = checked_app, checked_app.test_client()
    world = build_world(app)
    headers = {**world.auth("supervisor"), "Idempotency-Key": "check-1"}
    refused = client.post(f"/api/v1/channels/{world.channels['L1']}/checks", headers=headers)
    assert refused.status_code == 422 and "Idempotency-Key" in refused.get_json()["error"]["details"], (
        refused.get_json()
    )
