"""Watches and handovers through the API and the service: one open watch per desk, the log (time-stamped,
back-timed in DTG or ISO, linked to incidents), the brief's order (FLASH first; clocks by time within
12 hours; lines down, degraded, never checked; exercises within 7 days), what changed since the last
handover, who may sign (the incoming officer only), and what is refused (4xx, never a 500)."""

import html
import re
from datetime import UTC, timedelta

import pytest
from sqlalchemy import select

from tests.exchange_support import add_counterpart_line, api, owed_on_a_line
from tests.exercise_support import notice
from tests.support import count, csrf, file_incident, sign_in
from tracker.db import session_scope
from tracker.models import (
    AccountEvent,
    AgreedAction,
    ChannelHealth,
    ContactChannel,
    Exchange,
    ExchangeMessage,
    ExchangeState,
    Handover,
    Incident,
    IncidentStatus,
    Watch,
    WatchEntry,
)
from tracker.services.watches import brief
from tracker.timeutil import format_dtg, isoformat, parse_moment, utcnow

DESK = "Duty desk"


def start(client, world, who: str = "duty", status: int = 201, **body) -> dict:
    return api(client, world, "POST", "/watches", body, who=who, status=status)


def log_line(client, world, watch_id: int, who: str = "duty", status: int = 201, **body) -> dict:
    return api(client, world, "POST", f"/watches/{watch_id}/entries", {"text": "Quiet.", **body}, who, status)


def backdate(app, watch_id: int, hours: float) -> None:
    """Let the watch have begun hours ago (the tests back-time lines into it)."""
    with session_scope(app) as session:
        session.get(Watch, watch_id).starts_at = utcnow() - timedelta(hours=hours)


def incident_row(session, reference: str) -> Incident:
    return session.scalars(select(Incident).where(Incident.reference == reference)).one()


# -- watches and their log -----------------------------------------------------------------


def test_a_desk_has_one_open_watch_at_a_time(client, world):
    first = start(client, world)
    assert (first["desk"], first["officer"], first["open"]) == (DESK, "duty", True)
    refused = start(client, world, who="liaison", status=409, desk="  Duty   desk ")
    assert refused["error"]["details"]["watch"] == first["id"], "the refusal names the watch that holds the desk"
    assert refused["error"]["details"]["officer"] == "duty"
    other = start(client, world, who="liaison", desk="Hotline desk")
    listed = api(client, world, "GET", "/watches?open=true", who="admin")
    assert sorted((w["desk"], w["officer"]) for w in listed) == [(DESK, "duty"), ("Hotline desk", "liaison")]
    assert other["id"] != first["id"]


def test_a_desk_typed_in_another_case_is_the_same_desk(client, world):
    """At 03:00 "duty desk" is the Duty desk: a second open watch there would be a desk kept twice, and the
    duty officer of the lower-case one would not be on watch at the desk incidents are filed from."""
    first = start(client, world)
    refused = start(client, world, who="liaison", status=409, desk="DUTY  desk")
    assert refused["error"]["details"]["watch"] == first["id"], refused
    current = api(client, world, "GET", "/watches/current?desk=duty%20desk", who="liaison")
    assert current["id"] == first["id"], current
    assert [w["id"] for w in api(client, world, "GET", "/watches?desk=DUTY%20DESK", who="liaison")] == [first["id"]]
    hotline = start(client, world, who="liaison", desk="Hotline desk")
    assert (
        start(client, world, who="supervisor", status=409, desk="hotline DESK")["error"]["details"]["watch"]
        == (hotline["id"])
    )


def test_a_desk_named_with_an_invisible_character_is_refused_and_one_that_looks_alike_is_the_same_desk(client, world):
    """ "Duty desk" with a zero-width space, or with an Armenian ս for the u, started second and third watches at
    what every list showed as the Duty desk."""
    first = start(client, world)
    hidden = start(client, world, who="liaison", status=422, desk="Duty desk\u200b")["error"]
    assert hidden["details"]["desk"] == ["remove U+200B"], hidden
    alike = start(client, world, who="liaison", status=409, desk="D\u057dty desk")["error"]
    assert alike["details"]["watch"] == first["id"], alike


@pytest.mark.parametrize("desk", ["Duty\r\nBcc: desk", "Duty\tdesk", "Duty\u202edesk"])
def test_a_desk_named_with_a_line_break_tab_or_bidirectional_control_is_refused_not_folded(client, world, desk):
    """A desk's name stands on one line in the brief, the log and mail. A break in it was folded to a
    space and the watch started at a desk the officer had not typed; it is refused, naming the field."""
    refused = start(client, world, status=422, desk=desk)["error"]
    assert "desk" in refused["details"], refused
    assert api(client, world, "GET", "/watches") == [], "no watch was started"
    query = api(client, world, "GET", "/watches/current?desk=Duty%0Adesk", status=422)["error"]
    assert "desk" in str(query["details"]), query


def test_a_desk_typed_with_a_tab_on_the_page_is_refused_beside_its_field_as_the_api_refuses_it(app, client, world):
    """The page read the tab as a space (as it reads one in a pasted position) and started a watch at the Duty desk,
    a desk the officer had not typed, which the API refuses; it is refused beside the Desk field, as typed."""
    sign_in(client, "duty")
    answer = client.post("/watches/", data={"csrf_token": csrf(client, "/watches/"), "desk": "Duty\tdesk"})
    assert answer.status_code == 422, answer.status_code
    errors = {field: html.unescape(text) for field, text in ERROR.findall(answer.text)}
    assert list(errors) == ["desk"] and "tabs" in errors["desk"], errors
    assert 'value="Duty\tdesk"' in answer.text, "what was typed is kept"
    assert count(app, Watch) == 0


def test_an_officer_keeps_one_desk_at_a_time(client, world):
    """One officer could keep open watches at two desks: two logs, two briefs, neither desk really kept."""
    hotline = start(client, world, desk="Hotline desk")
    refused = start(client, world, desk="Duty desk", status=409)["error"]
    assert "duty keeps the watch at Hotline desk" in refused["message"], refused
    assert refused["details"]["watch"] == hotline["id"], refused
    given = start(client, world, who="supervisor", desk="Duty desk", officer="duty", status=409)["error"]
    assert given["details"]["desk"] == "Hotline desk", "a supervisor cannot give them a second desk either"

    # Signing for a second desk is refused too, until the first is handed over.
    liaison_desk = start(client, world, who="liaison", desk="Liaison desk")
    offered = api(
        client, world, "POST", f"/watches/{liaison_desk['id']}/handover", {"incoming": "duty"}, "liaison", 201
    )
    signing = api(client, world, "POST", f"/handovers/{offered['id']}/sign", {}, who="duty", status=409)
    assert "Hotline desk" in signing["error"]["message"], signing
    away = api(client, world, "POST", f"/watches/{hotline['id']}/handover", {"incoming": "supervisor"}, "duty", 201)
    api(client, world, "POST", f"/handovers/{away['id']}/sign", {}, who="supervisor")
    signed = api(client, world, "POST", f"/handovers/{offered['id']}/sign", {}, who="duty")
    assert signed["signed_at"], signed
    current = api(client, world, "GET", "/watches/current?desk=Liaison desk")
    assert current["officer"] == "duty", current


def test_a_supervisor_gives_the_watch_to_someone_and_nobody_else_may(client, world):
    given = start(client, world, who="supervisor", officer="duty", desk="North desk")
    assert given["officer"] == "duty"
    refused = start(client, world, who="duty", status=403, officer="liaison", desk="South desk")
    assert "someone else" in refused["error"]["message"]
    unknown = start(client, world, who="supervisor", status=422, officer="nobody", desk="South desk")
    assert unknown["error"]["details"] == {"officer": ["no such user"]}
    assert api(client, world, "GET", "/watches?desk=South%20desk", who="duty") == []


def test_log_lines_are_time_stamped_back_timed_in_dtg_or_iso_and_linked_to_incidents(app, client, world):
    reference = file_incident(client, world)["reference"]
    watch = start(client, world)
    backdate(app, watch["id"], 3)
    now = utcnow()
    two_hours_ago = (now - timedelta(hours=2)).replace(second=0, microsecond=0)
    log_line(client, world, watch["id"], text="Hotline test with Eastland: clear.", at=format_dtg(two_hours_ago))
    an_hour_ago = isoformat(now - timedelta(hours=1))
    linked = log_line(
        client, world, watch["id"], text="Called the squadron.", at=an_hour_ago, incident=reference.lower()
    )
    stamped = log_line(client, world, watch["id"], text="Nothing further.")
    assert linked["incident"] == reference and linked["author"] == "duty"
    assert abs(parse_moment(stamped["at"]) - utcnow()) < timedelta(seconds=30), "no time given: the time it is logged"

    entries = api(client, world, "GET", f"/watches/{watch['id']}", who="liaison")["entries"]
    assert [(e["at"], e["incident"]) for e in entries] == [
        (isoformat(two_hours_ago), None),
        (isoformat(parse_moment(an_hour_ago)), reference),
        (stamped["at"], None),
    ], "the log is in the order of its times, back-timed lines where they belong"
    # The page gives each line's time to the second, as every page does, with its DTG (it dropped the seconds).
    sign_in(client, "duty")
    page = client.get(f"/watches/{watch['id']}").text
    at = parse_moment(linked["at"])
    assert f"{at:%Y-%m-%d %H:%M:%S}Z · {format_dtg(at)}</time>" in page, page[:3000]


def _ended(app, client, world) -> int:
    """A watch that was handed over (ended)."""
    watch = start(client, world, desk="Old desk")
    handover = api(client, world, "POST", f"/watches/{watch['id']}/handover", {"incoming": "liaison"}, "duty", 201)
    api(client, world, "POST", f"/handovers/{handover['id']}/sign", {}, who="liaison")
    return watch["id"]


REFUSED_LINES = {
    "a time in the future": (lambda: {"at": isoformat(utcnow() + timedelta(hours=1))}, 422, "at"),
    # Within filing's five minutes of skew, yet past this minute: it stood after its watch ended, signed over since.
    "a time in a later minute": (lambda: {"at": isoformat(utcnow() + timedelta(minutes=2, seconds=30))}, 422, "at"),
    "a time before the watch began": (lambda: {"at": isoformat(utcnow() - timedelta(hours=5))}, 422, "at"),
    "a time that is no time": (lambda: {"at": "yesterday"}, 422, "at"),
    "an incident that does not exist": (lambda: {"incident": "INC-1999-99999"}, 422, "incident"),
    "no text": (lambda: {"text": "   "}, 422, "text"),
    "too much text": (lambda: {"text": "x" * 4001}, 422, "text"),
    "text that cannot be kept": (lambda: {"text": "a\x00b"}, 422, "text"),
}


@pytest.mark.parametrize("case", REFUSED_LINES, ids=list(REFUSED_LINES))
def test_a_bad_log_line_is_refused_naming_its_field_and_nothing_is_logged(app, client, world, case):
    body, status, field = REFUSED_LINES[case]
    watch = start(client, world)
    backdate(app, watch["id"], 3)
    refused = log_line(client, world, watch["id"], status=status, **body())
    assert field in refused["error"]["details"], refused
    assert count(app, WatchEntry) == 0


def test_only_the_officer_of_the_watch_or_a_supervisor_logs_and_never_after_it_ended(app, client, world):
    ended = _ended(app, client, world)  # duty's watch at another desk, handed over first (one desk at a time)
    watch = start(client, world)
    log_line(client, world, watch["id"], who="liaison", status=403)
    log_line(client, world, watch["id"], who="supervisor")
    refused = log_line(client, world, ended, who="duty", status=409)
    assert "ended" in refused["error"]["message"]
    log_line(client, world, 999_999, status=404)


def test_a_line_the_last_watch_missed_is_logged_back_timed_in_the_watch_that_relieved_it(app, client, world):
    old = start(client, world, desk="Old desk")
    backdate(app, old["id"], 2)
    handover = api(client, world, "POST", f"/watches/{old['id']}/handover", {"incoming": "liaison"}, "duty", 201)
    api(client, world, "POST", f"/handovers/{handover['id']}/sign", {}, who="liaison")
    new = api(client, world, "GET", "/watches/current?desk=Old desk")
    assert log_line(client, world, old["id"], status=409)["error"]["message"].startswith("the watch ended")
    missed = isoformat(utcnow() - timedelta(hours=1))  # in the old watch's time, before the new one began
    assert log_line(client, world, new["id"], who="liaison", at=missed)["at"] == missed
    too_early = log_line(
        client, world, new["id"], who="liaison", status=422, at=isoformat(utcnow() - timedelta(hours=3))
    )
    assert "before the watch it relieved began" in too_early["error"]["details"]["at"][0], too_early


def test_a_line_back_timed_by_dtg_to_the_minute_the_watch_began_is_taken(app, client, world):
    watch = start(client, world)
    began = parse_moment(watch["starts_at"])
    line = log_line(client, world, watch["id"], at=format_dtg(began))  # a DTG names the minute, not the second
    assert parse_moment(line["at"]) == began.replace(second=0, microsecond=0)


@pytest.mark.parametrize("method", ["PATCH", "PUT", "DELETE"])
def test_log_lines_are_never_edited_or_deleted(app, client, world, method):
    watch = start(client, world)
    entry = log_line(client, world, watch["id"])
    for path in (f"/api/v1/watches/{watch['id']}/entries", f"/api/v1/watches/{watch['id']}/entries/{entry['id']}"):
        answer = client.open(path, method=method, json={"text": "Rewritten."}, headers=world.auth("admin"))
        assert answer.status_code in (404, 405) and "error" in answer.get_json(), (path, answer.status_code)
    assert [e["text"] for e in api(client, world, "GET", f"/watches/{watch['id']}", who="duty")["entries"]] == [
        "Quiet."
    ]


# -- the brief -----------------------------------------------------------------------------


@pytest.fixture
def seeded(app, client, world):
    """Incidents of every live status and precedence, a resolved one, and clocks around the window."""
    line = add_counterpart_line(app, world)
    refs = {
        name: file_incident(client, world, precedence=prec, occurred_at=isoformat(utcnow() - timedelta(hours=n)))[
            "reference"
        ]
        for n, (name, prec) in enumerate(
            [
                ("routine", "R"),
                ("flash_ack", "Z"),
                ("flash_open", "Z"),
                ("imm_exhausted", "O"),
                ("flash_exhausted", "Z"),
                ("resolved", "P"),
                ("deciding", "P"),
            ],  # fmt: skip
            start=1,
        )
    }
    for name in ("flash_ack", "resolved"):
        api(client, world, "POST", f"/incidents/{refs[name]}/acknowledge", {}, who="liaison")
    api(client, world, "POST", f"/incidents/{refs['resolved']}/resolve", {"resolution": "Explained."}, "liaison")
    now = utcnow().replace(microsecond=0)
    with session_scope(app) as session:
        row = {name: incident_row(session, ref) for name, ref in refs.items()}
        for name in ("imm_exhausted", "flash_exhausted"):
            row[name].status, row[name].next_escalation_at = IncidentStatus.EXHAUSTED, None
        row["flash_open"].next_escalation_at = now + timedelta(hours=2)
        row["routine"].next_escalation_at = now + timedelta(hours=13)  # beyond the window
        row["flash_ack"].idle_check_at = now + timedelta(minutes=30)
        row["deciding"].decision_step, row["deciding"].next_escalation_at = 2, now + timedelta(hours=3)
        exchange, message, call = owed_on_a_line(
            row["flash_ack"].id,
            line,
            now,
            state=ExchangeState.EXPLANATION_REQUESTED,
            deadline_at=now + timedelta(hours=5),
        )
        actions = [
            AgreedAction(call=call, incident_id=row["flash_ack"].id, text=text, party="them", due_at=now + due)
            for text, due in [
                ("Send the track", timedelta(hours=12)),  # at the window's very end: in
                ("Send the flight plan", timedelta(hours=12, seconds=1)),  # just beyond: out
                ("Call back", timedelta(minutes=-1)),  # passed already: not a clock of the next hours
            ]
        ]
        session.add_all([exchange, message, call, *actions])
    return refs, now


@pytest.mark.both_databases  # time windows in SQL, the brief kept in a JSON column
def test_the_brief_lists_open_incidents_flash_first_and_the_clocks_of_the_next_12_hours_by_time(app, seeded):
    refs, now = seeded
    with session_scope(app) as session:
        taken = brief.build(session, DESK, now - timedelta(hours=8), now, [])
    order = ["flash_exhausted", "flash_open", "flash_ack", "imm_exhausted", "deciding", "routine"]
    assert [i["reference"] for i in taken["incidents"]] == [refs[name] for name in order], (
        "FLASH first; within a precedence exhausted, open, acknowledged; the resolved one left out"
    )
    shown = {i["reference"]: i for i in taken["incidents"]}
    assert (shown[refs["flash_open"]]["status"], shown[refs["flash_open"]]["step"]) == ("open", 1)
    assert shown[refs["flash_open"]]["deadline_at"] == isoformat(now + timedelta(hours=2))
    assert shown[refs["flash_open"]]["step_channels"] == ["L1"]
    assert shown[refs["flash_ack"]]["deadline"] == "if nobody works on it meanwhile, its acknowledger is reminded"
    assert shown[refs["deciding"]]["deadline"] == "decision on entering step 2 awaited"
    assert shown[refs["flash_exhausted"]]["deadline_at"] is None

    clocks = [(c["at"], c["kind"], c["incident"]) for c in taken["clocks"]]
    assert clocks == [
        (isoformat(now + timedelta(minutes=30)), "acknowledgement_timeout", refs["flash_ack"]),
        (isoformat(now + timedelta(hours=1)), "receipt", refs["flash_ack"]),
        (isoformat(now + timedelta(hours=2)), "escalation", refs["flash_open"]),
        (isoformat(now + timedelta(hours=3)), "decision", refs["deciding"]),
        (isoformat(now + timedelta(hours=5)), "exchange", refs["flash_ack"]),
        (isoformat(now + timedelta(hours=12)), "agreed_action", refs["flash_ack"]),
    ], "13 h, 12 h + 1 s and a minute ago are outside the window"
    assert taken["clocks"][-1]["what"] == "they agreed: Send the track"
    # The serial as every message, receipt and page writes it, the one the other side quotes: 0007/2026, not 7/2026.
    assert re.search(r" 0007/\d{4} on ", taken["clocks"][1]["what"]), taken["clocks"][1]
    assert taken["marking"] == "UNCLASSIFIED // REL TO EASTLAND"


def test_the_brief_says_what_each_incidents_deadline_brings_as_the_sweep_does_it(app, client, world):
    """A step by decision is never entered by a timer, and the last step has no step above it: the brief
    the incoming officer signs says what the deadline brings, as the call to act does."""
    client.patch(
        f"/api/v1/policies/{world.policy_id}",
        json={
            "repeat": 1,
            "steps": [
                {"channel_ids": [world.channels["L1"]], "ack_seconds": 600},
                {"channel_ids": [world.channels["L2"]], "ack_seconds": 600, "by_decision": True},
            ],
        },
        headers=world.auth("admin"),
    )
    refs = {name: file_incident(client, world)["reference"] for name in ("first", "last", "repeated")}
    with session_scope(app) as session:
        incident_row(session, refs["last"]).current_step = 2
        incident_row(session, refs["repeated"]).current_step, incident_row(session, refs["repeated"]).loop = 2, 1
    with session_scope(app) as session:
        taken = brief.build(session, DESK, utcnow() - timedelta(hours=1), utcnow(), [])
    said = {i["reference"]: i["deadline"] for i in taken["incidents"]}
    assert said[refs["first"]] == "the supervisors are asked to confirm step 2", said
    assert said[refs["last"]] == "step 2 (the last) is called again", said
    assert said[refs["repeated"]] == "step 2 (the last) runs out: marked exhausted, the supervisors told", said
    clocks = {c["incident"]: c["what"] for c in taken["clocks"]}
    assert clocks[refs["first"]] == "IMMEDIATE: the supervisors are asked to confirm step 2", clocks


@pytest.mark.both_databases  # the brief kept in a JSON column, its rows read in SQL
def test_the_brief_lists_no_clock_of_an_exchange_closed_or_an_incident_resolved(app, seeded):
    """The sweep chases neither a receipt nor an agreed action once the exchange is closed (nor an action once
    its incident is resolved), and what is owed leaves them out: the clocks to come listed them still."""
    refs, now = seeded
    with session_scope(app) as session:
        exchange = session.scalars(select(Exchange)).one()
        exchange.state, exchange.deadline_at, exchange.closed_at = ExchangeState.CLOSED, None, now
        for action in session.scalars(select(AgreedAction)):
            action.exchange_id = exchange.id  # agreed on a call on the exchange, as calls.log_call files them
    with session_scope(app) as session:
        taken = brief.build(session, DESK, now - timedelta(hours=8), now, [])
    kinds = {(c["kind"], c["incident"]) for c in taken["clocks"]}
    assert ("receipt", refs["flash_ack"]) not in kinds and ("agreed_action", refs["flash_ack"]) not in kinds, kinds

    with session_scope(app) as session:
        session.scalars(select(Exchange)).one().state = ExchangeState.OVERDUE
        incident_row(session, refs["flash_ack"]).status = IncidentStatus.RESOLVED
    with session_scope(app) as session:
        taken = brief.build(session, DESK, now - timedelta(hours=8), now, [])
    kinds = {(c["kind"], c["incident"]) for c in taken["clocks"]}
    assert ("receipt", refs["flash_ack"]) in kinds and ("agreed_action", refs["flash_ack"]) not in kinds, kinds


def test_the_brief_passes_on_what_ran_out_and_is_still_owed_whatever_its_age(app, seeded):
    refs, now = seeded
    with session_scope(app) as session:
        late = session.scalars(select(AgreedAction).where(AgreedAction.text == "Call back")).one()
        late.overdue_at = now - timedelta(seconds=30)  # the sweep flagged it; nobody did it
        exchange = late.call.exchange
        exchange.state, exchange.deadline_at, exchange.deadline_kind = ExchangeState.OVERDUE, None, "reply"
        exchange.state_changed_at = now - timedelta(hours=20)
        message = session.scalars(select(ExchangeMessage).where(ExchangeMessage.serial == 7)).one()
        message.receipt_due_at, message.receipt_overdue_at = now - timedelta(hours=30), now - timedelta(hours=30)
    with session_scope(app) as session:
        taken = brief.build(session, DESK, now - timedelta(hours=8), now, [])
    owed = [(c["kind"], c["incident"]) for c in taken["owed"]]
    assert owed == [
        ("receipt_overdue", refs["flash_ack"]),  # 30 h ago: longest owed first
        ("exchange_overdue", refs["flash_ack"]),
        ("call_in_progress", refs["flash_ack"]),  # started an hour ago, not ended
        ("action_overdue", refs["flash_ack"]),
    ], taken["owed"]
    assert "the reply deadline pass on Eastland liaison mission" in taken["owed"][1]["what"]
    assert re.search(r"^no receipt of our .* 0007/\d{4} on ", taken["owed"][0]["what"]), taken["owed"][0]
    assert taken["owed"][3]["what"] == "they agreed, not done: Call back"
    assert not any(c["kind"] == "exchange" for c in taken["clocks"]), "an overdue exchange has no clock to come"


def test_the_brief_lists_lines_down_then_degraded_then_never_checked(app, world):
    now = utcnow()
    with session_scope(app) as session:
        lines = {c.name: c for c in session.scalars(select(ContactChannel))}
        lines["L1"].health, lines["L1"].last_check_at = ChannelHealth.DEGRADED, now
        lines["L2"].health, lines["L2"].last_check_at = ChannelHealth.DOWN, now
        lines["L3"].last_check_at = lines["L3"].last_check_ok_at = now  # checked and OK: not listed
        lines["Other desk"].health, lines["Other desk"].active = ChannelHealth.DOWN, False  # not in use
        session.add(ContactChannel(name="Spare line", level=2, transport="outbox", address="spare@test.example"))
    with session_scope(app) as session:
        taken = brief.build(session, DESK, now, now, [])
    assert [(line["name"], line["problem"]) for line in taken["lines"]] == [
        ("L2", "down"),
        ("L1", "degraded"),
        ("Spare line", "never checked"),
    ]


def test_the_brief_lists_exercises_running_or_starting_within_7_days(app, client, world):
    now = utcnow().replace(microsecond=0)
    times = {
        "RUNNING": (-24, 24),
        "ENDING NOW": (-24, 0),  # still running at its end, as the register counts it
        "IN SIX DAYS": (6 * 24, 7 * 24),
        "IN SEVEN DAYS": (7 * 24, 8 * 24),
        "IN EIGHT DAYS": (8 * 24, 9 * 24),
        "OVER": (-48, -24),
    }
    for name, (start_h, end_h) in times.items():
        body = notice(name=name, starts_at=isoformat(now + timedelta(hours=start_h)),
                      ends_at=isoformat(now + timedelta(hours=end_h)))  # fmt: skip
        api(client, world, "POST", "/exercises", body, who="supervisor", status=201)
    with session_scope(app) as session:
        taken = brief.build(session, DESK, now, now, [])
    assert [(e["name"], e["running"]) for e in taken["exercises"]] == [
        ("RUNNING", True),
        ("ENDING NOW", True),
        ("IN SIX DAYS", False),
        ("IN SEVEN DAYS", False),
    ]


@pytest.mark.both_databases  # counting and windows in SQL, the brief kept in a JSON column
def test_what_changed_counts_from_the_last_signed_handover(app, client, world):
    before = file_incident(client, world)["reference"]
    first = start(client, world)
    log_line(client, world, first["id"], text="Took the desk.")
    handover = api(client, world, "POST", f"/watches/{first['id']}/handover", {"incoming": "liaison"}, "duty", 201)
    assert handover["since"] == first["starts_at"], "no handover before: changes count from the watch's start"
    signed = api(client, world, "POST", f"/handovers/{handover['id']}/sign", {}, who="liaison")
    second = signed["to_watch_id"]

    after = file_incident(client, world, occurred_at="2026-10-28T09:15:00Z")["reference"]  # unrelated to `before`
    api(client, world, "POST", f"/incidents/{after}/acknowledge", {}, who="liaison")
    api(client, world, "POST", f"/incidents/{before}/comments", {"text": "Radar track received."}, "liaison", 201)
    log_line(client, world, second, who="liaison", text="Asked L2 about the track.", incident=after)
    next_one = api(client, world, "POST", f"/watches/{second}/handover", {"incoming": "duty"}, "liaison", 201)

    assert next_one["since"] == signed["signed_at"], "changes count from the last signature"
    changes = next_one["brief"]["changes"]
    assert changes["counts"] == {"filed": 1, "routed": 1, "acknowledged": 1, "commented": 1}
    assert [(e["incident"], e["kind"]) for e in changes["events"]] == [
        (after, "filed"),
        (after, "acknowledged"),
        (before, "commented"),
    ], "the routine routed line is counted, not listed"
    assert changes["events"][2]["said"] == "Radar track received."
    assert [(e["author"], e["incident"]) for e in next_one["brief"]["log"]] == [("liaison", after)], (
        "the log of the outgoing watch, not the one before"
    )


# -- the handover --------------------------------------------------------------------------


def test_only_the_incoming_officer_signs_and_the_watch_passes_at_the_signature(app, client, world):
    watch = start(client, world)
    prepared = api(client, world, "POST", f"/watches/{watch['id']}/handover", {"incoming": "liaison"}, "duty", 201)
    assert (prepared["outgoing"], prepared["incoming"], prepared["signed_at"]) == ("duty", "liaison", None)
    # Where the incoming officer lands, they are told (it was said on the Watch page alone).
    pages = app.test_client()
    sign_in(pages, "liaison")
    for path in ("/board", "/queue"):
        page = pages.get(path).get_data(as_text=True)
        assert f'data-handover="{prepared["id"]}"' in page and "waiting for your signature" in page, path
    sign_in(pages, "supervisor")
    assert "waiting for your signature" not in pages.get("/board").get_data(as_text=True), "theirs alone"
    for who in ("duty", "supervisor", "admin", "outsider"):
        refused = api(client, world, "POST", f"/handovers/{prepared['id']}/sign", {}, who=who, status=403)
        assert refused["error"]["details"]["incoming"] == "liaison", who
    signed = api(client, world, "POST", f"/handovers/{prepared['id']}/sign", {"digest": prepared["digest"]}, "liaison")
    again = api(client, world, "POST", f"/handovers/{prepared['id']}/sign", {}, who="liaison", status=409)
    assert again["error"]["details"]["incoming"] == "liaison"

    record = api(client, world, "GET", f"/handovers/{prepared['id']}", who="outsider")
    assert record["signed_at"] == signed["signed_at"] and record["to_watch_id"] == signed["to_watch_id"]
    old = api(client, world, "GET", f"/watches/{watch['id']}", who="duty")
    new = api(client, world, "GET", f"/watches/{signed['to_watch_id']}", who="duty")
    assert (old["open"], old["ends_at"], old["handover"]) == (False, signed["signed_at"], prepared["id"])
    assert (new["officer"], new["desk"], new["starts_at"]) == ("liaison", DESK, signed["signed_at"])
    assert new["received_by_handover"] == prepared["id"]
    with session_scope(app) as session:
        [event] = session.scalars(select(AccountEvent).where(AccountEvent.kind == "handover_signed")).all()
        assert event.details["handover"] == prepared["id"] and event.details["from"] == "duty"
    log_line(client, world, new["id"], who="liaison")
    log_line(client, world, watch["id"], who="duty", status=409)
    start(client, world, who="duty", status=409)  # the desk is the incoming officer's now


def test_a_changed_brief_or_changed_notes_is_not_signed_unseen(client, world):
    watch = start(client, world)
    prepared = api(client, world, "POST", f"/watches/{watch['id']}/handover", {"incoming": "liaison"}, "duty", 201)
    noted = api(client, world, "POST", f"/handovers/{prepared['id']}/notes", {"notes": "Watch L2."}, who="duty")
    assert noted["notes"] == "Watch L2." and noted["digest"] != prepared["digest"]
    stale = api(client, world, "POST", f"/handovers/{prepared['id']}/sign", {"digest": prepared["digest"]},
                "liaison", 409)  # fmt: skip
    assert stale["error"]["details"]["digest"] == noted["digest"]
    again = api(client, world, "POST", f"/handovers/{prepared['id']}/brief", {}, who="liaison")  # the incoming may
    assert again["prepared_at"] > prepared["prepared_at"] and again["digest"] != noted["digest"]
    api(client, world, "POST", f"/handovers/{prepared['id']}/sign", {"digest": noted["digest"]}, "liaison", 409)
    api(client, world, "POST", f"/handovers/{prepared['id']}/sign", {"digest": again["digest"]}, "liaison")
    for path, body in (("notes", {"notes": "Late."}), ("brief", {})):
        late = api(client, world, "POST", f"/handovers/{prepared['id']}/{path}", body, who="duty", status=409)
        assert "signed" in late["error"]["message"], path


def test_the_brief_is_kept_as_it_was_prepared(client, world):
    watch = start(client, world)
    prepared = api(client, world, "POST", f"/watches/{watch['id']}/handover", {"incoming": "liaison"}, "duty", 201)
    assert prepared["brief"]["incidents"] == []
    reference = file_incident(client, world)["reference"]
    kept = api(client, world, "GET", f"/handovers/{prepared['id']}/brief", who="liaison")
    assert kept == prepared["brief"], "a brief is a snapshot: an incident filed since is not in it"
    again = api(client, world, "POST", f"/handovers/{prepared['id']}/brief", {}, who="duty")
    assert [i["reference"] for i in again["brief"]["incidents"]] == [reference]


REFUSED_HANDOVERS = {
    "to oneself": ({"incoming": "duty"}, "duty", 422),
    "to nobody known": ({"incoming": "nobody"}, "duty", 422),
    "notes too long": ({"incoming": "liaison", "notes": "x" * 8001}, "duty", 422),
    "by someone not on the watch": ({"incoming": "liaison"}, "outsider", 403),
    "with no incoming officer": ({}, "duty", 422),
}


@pytest.mark.parametrize("case", REFUSED_HANDOVERS, ids=list(REFUSED_HANDOVERS))
def test_a_bad_handover_is_refused(app, client, world, case):
    body, who, status = REFUSED_HANDOVERS[case]
    watch = start(client, world)
    refused = api(client, world, "POST", f"/watches/{watch['id']}/handover", body, who=who, status=status)
    assert refused["error"]["code"] in ("validation_error", "forbidden")
    assert api(client, world, "GET", f"/watches/{watch['id']}", who="duty")["handover"] is None


def test_a_watch_has_one_handover_waiting_at_a_time_and_the_outgoing_side_may_change_who(client, world):
    watch = start(client, world)
    first = api(client, world, "POST", f"/watches/{watch['id']}/handover", {"incoming": "liaison"}, "duty", 201)
    second = api(client, world, "POST", f"/watches/{watch['id']}/handover", {"incoming": "supervisor"}, "duty", 409)
    assert second["error"]["details"]["handover"] == first["id"]
    api(client, world, "POST", f"/handovers/{first['id']}/brief", {"incoming": "outsider"}, who="liaison", status=403)
    changed = api(client, world, "POST", f"/handovers/{first['id']}/brief", {"incoming": "supervisor"}, who="duty")
    assert changed["incoming"] == "supervisor"
    api(client, world, "POST", f"/handovers/{first['id']}/sign", {}, who="liaison", status=403)
    api(client, world, "POST", f"/handovers/{first['id']}/brief", {}, who="outsider", status=403)
    api(client, world, "POST", f"/handovers/{first['id']}/notes", {"notes": "Mine."}, who="liaison", status=403)
    api(client, world, "GET", "/handovers/999999", who="duty", status=404)
    api(client, world, "POST", "/watches/999999/handover", {"incoming": "liaison"}, who="duty", status=404)


# -- the pages -----------------------------------------------------------------------------

ERROR = re.compile(r'<small class="error" id="([a-z_]+)-error">([^<]*)</small>')


def test_the_log_form_shows_a_problem_beside_its_field_and_keeps_what_was_typed(app, client, world):
    watch = start(client, world)
    sign_in(client, "duty")
    path = f"/watches/{watch['id']}"
    typed = {"text": "Spoke to the squadron.", "incident": "INC-1999-99999", "at": ""}
    answer = client.post(f"{path}/entries", data={"csrf_token": csrf(client, path), **typed})
    assert answer.status_code == 422
    errors = {field: html.unescape(text) for field, text in ERROR.findall(answer.text)}
    assert errors == {"incident": "unknown incident reference: no incident INC-1999-99999"}, errors
    assert "Spoke to the squadron." in answer.text, "what was typed is kept"
    bad_time = client.post(f"{path}/entries", data={"csrf_token": csrf(client, path), "text": "x", "at": "noon"})
    assert bad_time.status_code == 422 and {f for f, _ in ERROR.findall(bad_time.text)} == {"at"}
    assert count(app, WatchEntry) == 0
    done = client.post(f"{path}/entries", data={"csrf_token": csrf(client, path), "text": "Quiet.", "at": ""})
    assert done.status_code == 302 and count(app, WatchEntry) == 1


def test_a_log_line_sent_twice_is_logged_once(app, client, world):
    """A double tap on "Log it" logged the line twice, and a log line is never deleted."""
    watch = start(client, world)
    sign_in(client, "duty")
    path = f"/watches/{watch['id']}"
    page = client.get(path).text
    key = re.search(r'name="entry_key"[^>]*value="([^"]+)"', page) or re.search(
        r'value="([^"]+)"[^>]*name="entry_key"', page
    )
    assert key, "the log form carries a one-time key"
    line = {"csrf_token": csrf(client, path), "entry_key": key[1], "text": "Log double tap.", "at": ""}
    answers = [client.post(f"{path}/entries", data=line) for _ in range(2)]
    assert [a.status_code for a in answers] == [302, 302], [a.text[:500] for a in answers]
    assert count(app, WatchEntry) == 1
    assert "This line was logged already (sent twice)." in client.get(path).text


# -- the desk-centred routes: the current watch, a handover named by its desk --


def test_the_current_watch_and_a_handover_prepared_by_desk_with_notes_patched(client, world):
    nobody = api(client, world, "GET", "/watches/current", who="liaison", status=404)
    assert nobody["error"]["details"] == {"desk": DESK}, nobody
    api(client, world, "POST", "/handovers", {"incoming": "liaison"}, who="duty", status=404)
    watch = start(client, world)
    other = start(client, world, who="supervisor", desk="Hotline desk")
    current = api(client, world, "GET", "/watches/current", who="liaison")
    assert (current["id"], current["officer"], current["open"]) == (watch["id"], "duty", True)
    at_desk = client.get("/api/v1/watches/current?desk=Hotline%20desk", headers=world.auth("liaison")).get_json()
    assert at_desk["id"] == other["id"], at_desk

    prepared = api(client, world, "POST", "/handovers", {"incoming": "liaison", "notes": "L2 down."}, "duty", 201)
    assert (prepared["from_watch_id"], prepared["notes"], prepared["incoming"]) == (watch["id"], "L2 down.", "liaison")
    by_id = {"watch_id": other["id"], "incoming": "duty"}
    api(client, world, "POST", "/handovers", by_id, who="duty", status=403)  # not duty's watch
    assert api(client, world, "POST", "/handovers", by_id, who="supervisor", status=201)["desk"] == "Hotline desk"

    patched = api(client, world, "POST", f"/handovers/{prepared['id']}/notes", {"notes": "L2 back."}, who="duty")
    assert patched["notes"] == "L2 back." and patched["digest"] != prepared["digest"]
    api(client, world, "POST", f"/handovers/{prepared['id']}/notes", {"notes": "Mine."}, who="liaison", status=403)
    refused = api(client, world, "POST", f"/handovers/{prepared['id']}/notes", {}, who="duty", status=422)
    assert "notes" in refused["error"]["details"], refused
    api(client, world, "POST", f"/handovers/{prepared['id']}/notes", {"notes": "x" * 8001}, who="duty", status=422)
    api(client, world, "POST", f"/handovers/{prepared['id']}/sign", {"digest": patched["digest"]}, who="liaison")
    late = api(client, world, "POST", f"/handovers/{prepared['id']}/notes", {"notes": "Late."}, who="duty", status=409)
    assert "signed" in late["error"]["message"]
    assert api(client, world, "GET", "/watches/current", who="duty")["officer"] == "liaison"


def test_a_handover_naming_a_watch_and_another_desk_is_refused_and_nothing_is_prepared(app, client, world):
    """A wrong watch_id beside the desk meant would hand over another desk's watch: 422 naming desk."""
    start(client, world)
    other = start(client, world, who="supervisor", desk="Hotline desk")
    body = {"watch_id": other["id"], "desk": DESK, "incoming": "liaison"}
    refused = api(client, world, "POST", "/handovers", body, who="supervisor", status=422)
    assert "Hotline desk" in refused["error"]["details"]["desk"][0], refused
    assert count(app, Handover) == 0
    same = {"watch_id": other["id"], "desk": "hotline DESK", "incoming": "liaison"}
    assert api(client, world, "POST", "/handovers", same, who="supervisor", status=201)["desk"] == "Hotline desk"


def test_the_watch_handover_and_print_pages_render_and_offer_each_person_their_part(app, client, world):
    routine = file_incident(client, world, precedence="R")["reference"]
    flash_ref = file_incident(client, world, precedence="Z")["reference"]
    watch = start(client, world)
    log_line(client, world, watch["id"], text="Hotline test: clear both ways.", incident=flash_ref)
    prepared = api(client, world, "POST", "/handovers", {"incoming": "liaison", "notes": "L2 down."}, "duty", 201)
    outgoing, incoming = app.test_client(), app.test_client()
    sign_in(outgoing, "duty")
    sign_in(incoming, "liaison")

    watch_page = outgoing.get(f"/watches/{watch['id']}")
    assert watch_page.status_code == 200 and "Hotline test: clear both ways." in watch_page.text
    assert f"/handovers/{prepared['id']}" in watch_page.text, "the watch page links its handover"
    assert 'href="/watches/"' in outgoing.get("/").text, "the nav links the Watch page"
    path = f"/handovers/{prepared['id']}"
    theirs, mine = outgoing.get(path), incoming.get(path)
    assert theirs.status_code == mine.status_code == 200
    shown = re.findall(r'data-reference="([^"]+)"', mine.text)
    assert shown == [flash_ref, routine], f"FLASH first on the page: {shown}"
    assert "Sign for the watch" in mine.text and "Sign for the watch" not in theirs.text
    assert 'name="notes"' in theirs.text and 'name="notes"' not in mine.text, "only the outgoing side writes notes"

    signed = incoming.post(f"{path}/sign", data={"csrf_token": csrf(incoming, path), "digest": prepared["digest"]})
    assert signed.status_code == 302
    printed = outgoing.get(f"{path}/print")
    assert printed.status_code == 200
    assert re.search(r"<td data-signed>[^<]*Z · \d{6}Z[A-Z]{3}\d\d by <bdi>liaison</bdi></td>", printed.text), (
        printed.text[:3000]
    )
    assert re.findall(r'data-reference="([^"]+)"', printed.text) == [flash_ref, routine]
    assert "L2 down." in printed.text and "Sign for the watch" not in incoming.get(path).text


def test_my_queue_lists_what_is_owed_on_the_lines_i_serve(app, client, world, seeded):
    refs, now = seeded
    with session_scope(app) as session:
        late = session.scalars(select(AgreedAction).where(AgreedAction.text == "Call back")).one()
        late.overdue_at = now - timedelta(seconds=30)
    sign_in(client, "liaison")  # a member of the counterpart line the call was on
    page = client.get("/queue").text
    assert "Owed on my lines" in page, page[:3000]
    assert 'data-owed-kind="action_overdue"' in page and "they agreed, not done: <bdi>Call back</bdi>" in page
    assert 'data-owed-kind="call_in_progress"' in page
    outsider = app.test_client()
    sign_in(outsider, "outsider")  # serves another desk only
    assert "Owed on my lines" not in outsider.get("/queue").text


def test_a_watch_kept_beyond_its_hours_without_relief_is_shown_as_due_on_the_board_queue_and_watch_pages(
    app, client, world
):
    """A watch nobody relieved (the officer gone, a handover never signed) raised nothing: the desk looked
    kept. Past WATCH_HOURS it is shown as due for relief; the API gives each open watch its relief time."""
    hours = app.config["WATCH_HOURS"]
    kept = start(client, world, desk="Hotline desk")
    fresh = start(client, world, who="liaison", desk="Liaison desk")
    backdate(app, kept["id"], hours + 1)
    backdate(app, fresh["id"], hours - 1)

    listed = {w["desk"]: w for w in api(client, world, "GET", "/watches", who="duty")}
    began = parse_moment(listed["Hotline desk"]["starts_at"])
    assert parse_moment(listed["Hotline desk"]["relief_due_at"]) == began + timedelta(hours=hours), listed

    def browser(who: str):
        signed = app.test_client()
        sign_in(signed, who)
        return signed

    for who, path in (("duty", "/board"), ("liaison", "/queue"), ("supervisor", "/watches/")):
        page = html.unescape(browser(who).get(path).get_data(as_text=True))
        due = re.findall(r'data-watch-due="(\d+)"', page)
        assert due == [str(kept["id"])], f"{who} {path}: due for relief {due}"
        assert "1 watch due for relief" in page and "Hotline desk" in page, f"{who} {path}"
    watch_page = browser("duty").get(f"/watches/{kept['id']}").get_data(as_text=True)
    assert "due for relief" in watch_page, watch_page[:2000]
    assert "due for relief" not in browser("duty").get(f"/watches/{fresh['id']}").get_data(as_text=True)

    # Relieved by a signed handover: no longer due, and an ended watch has no relief time.
    prepared = api(client, world, "POST", f"/watches/{kept['id']}/handover", {"incoming": "supervisor"}, "duty", 201)
    api(client, world, "POST", f"/handovers/{prepared['id']}/sign", {}, who="supervisor")
    assert "data-watch-due" not in browser("duty").get("/board").get_data(as_text=True)
    ended = api(client, world, "GET", f"/watches/{kept['id']}", who="duty")
    assert ended["relief_due_at"] is None and ended["open"] is False, ended


def test_the_brief_page_says_how_an_exercise_was_made_known_in_the_register_s_words(app, client, world):
    now = utcnow().replace(microsecond=0)
    body = notice(
        name="RAMPART", starts_at=isoformat(now - timedelta(hours=2)), ends_at=isoformat(now + timedelta(hours=2))
    )
    api(client, world, "POST", "/exercises", body, who="supervisor", status=201)
    start(client, world)
    prepared = api(client, world, "POST", "/handovers", {"incoming": "liaison"}, "duty", 201)
    reader = app.test_client()
    sign_in(reader, "liaison")
    for path in (f"/handovers/{prepared['id']}", f"/handovers/{prepared['id']}/print"):
        page = html.unescape(reader.get(path).text)
        line = page.split('data-exercise="RAMPART"')[1].split("</li>")[0]
        assert "Vienna Document notification" in line and "vienna document" not in line, f"{path}: {line}"


def test_a_line_back_timed_by_the_zulu_time_alone_or_with_its_day_takes_the_latest_such_moment(app, client, world):
    """How a watch keeper writes it: "2310Z", or "052310Z" with the day; through the API and the page alike."""
    watch = start(client, world)
    backdate(app, watch["id"], 5)
    now = utcnow()
    two_hours_ago = (now - timedelta(hours=2)).replace(second=0, microsecond=0)
    three_hours_ago = (now - timedelta(hours=3)).replace(second=0, microsecond=0)
    by_time = log_line(client, world, watch["id"], text="Radio check: clear.", at=f"{two_hours_ago:%H%M}Z")
    assert by_time["at"] == isoformat(two_hours_ago), by_time
    page = app.test_client()
    sign_in(page, "duty")
    path = f"/watches/{watch['id']}"
    day_time = f"{three_hours_ago:%d%H%M}Z"
    answer = page.post(
        f"{path}/entries", data={"csrf_token": csrf(page, path), "text": "Column seen.", "incident": "", "at": day_time}
    )
    assert answer.status_code == 302, html.unescape(answer.text)[:3000]
    with session_scope(app) as session:
        logged = session.scalars(select(WatchEntry).where(WatchEntry.text == "Column seen.")).one()
        assert logged.at.replace(tzinfo=logged.at.tzinfo or UTC) == three_hours_ago, (day_time, logged.at)
    refused = log_line(client, world, watch["id"], status=422, at="2400Z")
    assert "never 2400" in refused["error"]["details"]["at"][0], refused


def test_the_watch_page_takes_an_officer_on_watch_to_their_log_and_offers_no_second_watch(client, world):
    page = client.application.test_client()
    sign_in(page, "duty")
    before = page.get("/watches/").text
    assert "Start the watch" in before and "data-my-watch" not in before, "nobody on watch: the start form"
    watch = start(client, world)
    after = page.get("/watches/").text
    mine = re.search(
        r'<section class="card spaced" aria-labelledby="mine-title" data-my-watch="(\d+)">(.*?)</section>', after, re.S
    )
    assert mine and int(mine[1]) == watch["id"], after[:3000]
    assert f'href="/watches/{watch["id"]}#log"' in mine[2], mine[2]
    assert "Start the watch" not in after, "a duty officer on watch is not offered a second one (it would be refused)"
    supervisor = client.application.test_client()
    sign_in(supervisor, "supervisor")
    assert "Start the watch" in supervisor.get("/watches/").text, "supervisors start watches for others"


def test_the_brief_says_when_an_exercise_was_notified_or_that_no_notification_is_on_record(app, client, world):
    """The incoming officer signs for the exercises of the week. One running with no notification on record
    read "Vienna Document notification", like one notified 40 days ahead: the brief hid the one fact that
    matters about it (Vienna Document 2011, para. 38)."""
    now = utcnow().replace(microsecond=0)
    window = {"starts_at": isoformat(now - timedelta(hours=2)), "ends_at": isoformat(now + timedelta(hours=2))}
    told_at = now - timedelta(days=40)
    for name, notified_at in (("TOLD", isoformat(told_at)), ("UNTOLD", None)):
        body = notice(name=name, notified_at=notified_at, **window)
        api(client, world, "POST", "/exercises", body, who="supervisor", status=201)
    with session_scope(app) as session:
        taken = {e["name"]: e for e in brief.build(session, DESK, now, now, [])["exercises"]}
    assert (taken["TOLD"]["notified_at"], taken["UNTOLD"]["notified_at"]) == (isoformat(told_at), None), taken
    start(client, world)
    prepared = api(client, world, "POST", "/handovers", {"incoming": "liaison"}, "duty", 201)
    assert [e["notified_at"] for e in prepared["brief"]["exercises"]] == [isoformat(told_at), None], prepared
    reader = app.test_client()
    sign_in(reader, "liaison")
    page = html.unescape(reader.get(f"/handovers/{prepared['id']}").text)
    untold = page.split('data-exercise="UNTOLD"')[1].split("</li>")[0]
    told = page.split('data-exercise="TOLD"')[1].split("</li>")[0]
    assert "no notification on record" in untold, untold
    assert "no notification on record" not in told and "Vienna Document notification" in told, told


def test_a_desk_kept_by_two_open_watches_is_shown_so_that_one_is_handed_over(app, client, world):
    """Two open watches of one desk, left by the fault migration 0028 mended (the desk in two cases, now one
    name): the desk's current watch is the older, and nothing said the other was still open."""
    first = start(client, world)
    second = start(client, world, who="liaison", desk="Bridge")
    with session_scope(app) as session:
        session.get(Watch, second["id"]).desk = DESK  # as migration 0028 leaves them
    sign_in(client, "supervisor")
    page = client.get("/watches/").text
    [warning] = re.findall(r'<p class="flash error" role="note" data-desk-twice="Duty desk">(.*?)</p>', page, re.S)
    said = html.unescape(re.sub(r"<[^>]+>", "", warning))
    assert said.startswith(f"Duty desk has 2 open watches (watch {first['id']} by duty, watch {second['id']} by "), said
    assert "hand over all but one" in said
    with session_scope(app) as session:
        session.get(Watch, second["id"]).ends_at = utcnow()
    assert "data-desk-twice" not in client.get("/watches/").text, "one open watch: nothing to say"
