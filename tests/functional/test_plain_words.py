"""What pages, e-mails and print say in plain words (issue 16): a line never checked is "untested", not
a green OK; codes are labels, never raw keys; times to the second, never microseconds; spans and
countdowns in words ("30 s", "in 6 min 5 s") beside the absolute DTG."""

import re
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from tests.support import build_world, file_incident, sign_in
from tracker import jobs
from tracker.db import session_scope
from tracker.models import ContactChannel, Incident, Notification, NotificationKind
from tracker.services.engine.message_text import html_part
from tracker.timeutil import format_dtg, utcnow

MICROSECONDS = re.compile(r"\d{2}:\d{2}:\d{2}\.\d+")
CLOCK_COUNTDOWN = re.compile(r'class="countdown"[^>]*>\d{1,2}:\d{2}')
RAW = ("airspace_violation", "near_routine", "next_escalation_at", "from_step", "cancelled_messages")


def visible(page: str) -> str:
    """The page's text as read (a <time datetime> attribute may keep the exact time for machines)."""
    return re.sub(r"<[^>]+>", " ", page)


def health_cell(page: str, channel: str) -> str:
    row = re.search(rf'data-channel="{channel}">(.*?)</tr>', page, re.S)
    assert row, f"no row for {channel}"
    return re.search(r'<td data-label="Health">(.*?)</td>', row[1], re.S)[1]


# -- a line never tested -----------------------------------------------------------------------


def test_a_line_never_checked_reads_untested_not_ok(app, client, world):
    with session_scope(app) as session:
        checked = session.get(ContactChannel, world.channels["L2"])
        checked.last_check_at = checked.last_check_ok_at = utcnow()
    sign_in(client, "supervisor")
    page = client.get("/admin/channels").text
    untested = health_cell(page, "L1")
    assert 'data-health="untested"' in untested and "UNTESTED" in untested, untested
    assert "OK" not in untested and "state ok" not in untested, "never a green OK for a line nobody checked"
    ok = health_cell(page, "L2")
    assert 'data-health="ok"' in ok and "OK" in ok, "a checked line that answered is OK"
    checks = client.get(f"/admin/channels/{world.channels['L1']}/checks").text
    assert "UNTESTED" in checks and "last successful check never" in checks

    listed = {c["name"]: c for c in client.get("/api/v1/channels", headers=world.auth("admin")).get_json()}
    assert (listed["L1"]["health"], listed["L1"]["tested"]) == ("ok", False), "the stored health stays ok"
    assert listed["L2"]["tested"] is True


# -- labels and times in e-mails and print ------------------------------------------------------


def labelled_incident(app, client, world) -> str:
    reference = file_incident(
        client,
        world,
        category="airspace_violation",
        escalation_risk="near_routine",
        occurred_at="2026-11-27T09:15:00.123456Z",
    )["reference"]
    return reference


def bodies(app, reference: str, kind: NotificationKind) -> list[str]:
    with session_scope(app) as session:
        rows = session.scalars(
            select(Notification).join(Incident).where(Incident.reference == reference, Notification.kind == kind)
        ).all()
        return [row.subject + "\n" + row.body + "\n" + html_part(row.subject, row.body, row.payload) for row in rows]


def test_messages_show_labels_and_times_to_the_second(app, client, world):
    reference = labelled_incident(app, client, world)
    [message] = bodies(app, reference, NotificationKind.NOTIFIED)
    for raw in RAW:
        assert raw not in message, f"raw key {raw!r} in the e-mail:\n{message}"
    assert not MICROSECONDS.search(message), f"microseconds in the e-mail:\n{message}"
    assert "Category:     airspace violation" in message and "Escalation risk: near-routine" in message
    assert "Occurred:     270915ZNOV26 (2026-11-27T09:15:00Z)" in message, message
    assert re.search(r"Acknowledge by \d{6}Z[A-Z]{3}\d{2} \(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z\)", message), message


def test_the_print_page_shows_labels_not_keys(app, client, world):
    reference = labelled_incident(app, client, world)
    with session_scope(app) as session:
        session.scalar(select(Incident).where(Incident.reference == reference)).next_escalation_at = utcnow()
    assert jobs.sweep(app) == 1, "escalated: the timeline holds next_escalation_at, from_step, channels"
    sign_in(client, "supervisor")
    printed = client.get(f"/incidents/{reference}/print").text
    timeline = printed[printed.index("<h2>Timeline</h2>") : printed.index("<h2>Messages</h2>")]
    for raw in RAW:
        assert raw not in timeline, f"raw key {raw!r} on the print page's timeline"
    shown = visible(printed)
    assert not MICROSECONDS.search(shown), f"microseconds on the print page: {MICROSECONDS.findall(shown)}"
    assert "next escalation at: " in timeline and "from step: <bdi>1</bdi>" in timeline, timeline
    assert "airspace violation" in printed and "near-routine" in printed
    page = client.get(f"/incidents/{reference}").text
    assert "airspace_violation" not in page and "near_routine" not in page and not MICROSECONDS.search(visible(page))


def test_the_print_s_timeline_leaves_out_row_numbers_empty_values_and_the_first_round(app, client, world):
    """A delivery reads "recipient: L1; transport: file; step: 1; message: notified", not "repeat: 0; notification
    id: 7; response code: –": a row's number, an answer no transport gave and the first round say nothing."""
    reference = file_incident(client, world)["reference"]
    assert jobs.deliver(app) >= 1
    sign_in(client, "supervisor")
    printed = visible(client.get(f"/incidents/{reference}/print").text)
    timeline = re.sub(r"\s+", " ", printed[printed.index("Timeline") : printed.index("Messages")])
    assert "recipient:" in timeline and "transport:" in timeline, timeline
    for said in ("notification id", "response code", "repeat: 0", "loop", ": –"):
        assert said not in timeline, f"{said!r} on the print's timeline: {timeline}"


# -- spans and countdowns in words -------------------------------------------------------------


def test_thirty_second_steps_and_countdowns_read_in_words(app, client):
    world = build_world(app, steps=(("L1",), ("L2",)), ack_seconds=30)
    reference = file_incident(client, world)["reference"]
    with session_scope(app) as session:
        deadline = session.scalar(select(Incident.next_escalation_at).where(Incident.reference == reference))
    sign_in(client, "supervisor")
    page = client.get(f"/incidents/{reference}").text
    assert "(0 min" not in page and page.count("<small>(30 s)</small>") == 2, "each 30-s step says 30 s"
    assert re.search(r'class="countdown"[^>]*>in (\d+ s|due now)</time>', page), "the countdown in words"
    beside = f'</time> <small class="deadline-dtg">({format_dtg(deadline)})</small>'
    assert beside in page, "the absolute DTG beside it: in 30 s (031423ZDEC26)"
    assert not CLOCK_COUNTDOWN.search(page)
    printed = client.get(f"/incidents/{reference}/print").text
    assert "(30 s)" in printed and "(0 min)" not in printed
    board = client.get("/board").text
    assert re.search(r'class="countdown"[^>]*>in (\d+ s|due now)</time> <small class="deadline-dtg">\(', board)
    assert beside in board and not CLOCK_COUNTDOWN.search(board), "the same words on the board"


def test_every_countdown_of_the_pages_is_the_one_clock_with_its_dtg_beside():
    """A countdown drawn by hand drifts from the others ("06:05", "at ... (06:05Z)"): web/_clock.html draws all."""
    templates = Path(__file__).resolve().parents[2] / "tracker" / "templates"
    by_hand = [
        str(path.relative_to(templates))
        for path in templates.rglob("*.html")
        if path.name != "_clock.html" and 'class="countdown"' in path.read_text()
    ]
    assert not by_hand, f"countdowns not drawn by web/_clock.html's clock(): {by_hand}"


def test_a_deadline_hours_away_counts_down_in_hours_and_minutes(app, client, world):
    reference = file_incident(client, world)["reference"]
    with session_scope(app) as session:
        incident = session.scalar(select(Incident).where(Incident.reference == reference))
        incident.next_escalation_at = utcnow() + timedelta(hours=2, minutes=5, seconds=30)
    sign_in(client, "supervisor")
    assert re.search(r'class="countdown"[^>]*>in 2 h 5 min</time>', client.get(f"/incidents/{reference}").text)


def test_the_timeline_and_the_summary_panel_name_alerts_and_fields_in_words(app, client, world):
    from tests.exchange_support import acknowledged_incident, add_counterpart_line, api
    from tracker.services.incidents import timeline

    add_counterpart_line(app, world)
    reference = acknowledged_incident(client, world)
    api(client, world, "POST", f"/incidents/{reference}/summaries", {}, status=201)
    with session_scope(app) as session:  # the delivery job's record of an overdue alert sent
        incident = session.scalars(select(Incident).where(Incident.reference == reference)).one()
        timeline.record(
            session, incident, "notified", "delivery", utcnow(), recipient="supervisor", message="action_overdue"
        )
    sign_in(client, "supervisor", "supervisor-password")
    page = visible(client.get(f"/incidents/{reference}").text)
    assert "(action overdue)" in page and "action_overdue" not in page, page[-3000:]
    drafted_from = re.search(r"from: ([^·]*)·", page)
    assert drafted_from and "occurred_at" not in drafted_from[1] and "_" not in drafted_from[1], drafted_from


def test_a_line_s_language_reads_as_a_word_on_the_summary_panel_and_the_call(app, client):
    from tests.exchange_support import acknowledged_incident, add_counterpart_line, api, open_exchange

    world = build_world(app)
    add_counterpart_line(app, world)  # Russian
    reference = acknowledged_incident(client, world)
    exchange = open_exchange(client, world, reference)
    api(client, world, "POST", f"/incidents/{reference}/summaries", {"exchange_id": exchange["id"]}, status=201)
    body = {"direction": "they_called", "exchange_id": exchange["id"]}
    call = api(client, world, "POST", f"/incidents/{reference}/calls", body, status=201)
    sign_in(client, "admin")
    incident = visible(client.get(f"/incidents/{reference}").text)
    assert "English and Russian" in incident and "English and ru " not in incident, incident[-3000:]
    reader = app.test_client()
    sign_in(reader, "duty")  # reads the call, edits nothing: the call as text
    assert "· Russian" in visible(reader.get(f"/calls/{call['id']}").text), "the call's language in words"
