"""The call log through the JSON API: a call logged as it happens (started, then ended), back-timed
with DTGs, the actions agreed on it, the exchange state it moves; what is refused (422), who may log
(403); that logging sends nothing; incoming written messages take the time they were received."""

import csv
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.exchange_support import NOTICE, acknowledged_incident, add_counterpart_line, api, move
from tests.exchange_support import open_exchange as open_
from tests.statements import recorded
from tests.support import count, file_incident
from tracker.db import session_scope
from tracker.models import AgreedAction, Call, Notification
from tracker.timeutil import format_dtg, isoformat, parse_moment, utcnow

THEY_SAID = "Eastland MoD: the aircraft was on a training flight; the pilot kept visual contact."


@pytest.fixture
def scene(app, client, world):
    """An acknowledged incident with an exchange open over the counterpart line (its notice queued)."""
    add_counterpart_line(app, world)
    reference = acknowledged_incident(client, world)
    exchange = open_(client, world, reference)
    return reference, exchange


def calls_of(client, world, reference: str) -> list[dict]:
    return api(client, world, "GET", f"/incidents/{reference}/calls", who="duty")


def timeline(client, world, reference: str) -> list[dict]:
    return api(client, world, "GET", f"/incidents/{reference}", who="supervisor")["timeline"]


def test_a_call_logged_as_it_happens_is_on_record_and_sends_nothing(app, client, world, scene):
    reference, exchange = scene
    queued = count(app, Notification)

    started = api(
        client, world, "POST", f"/incidents/{reference}/calls",
        {"direction": "they_called", "exchange_id": exchange["id"]}, status=201,
    )  # fmt: skip
    assert started["in_progress"] is True and started["ended_at"] is None
    assert started["channel_id"] == exchange["channel_id"] and started["language"] == "ru"
    assert abs(parse_moment(started["started_at"]) - utcnow()) < timedelta(seconds=30)

    due = isoformat(utcnow() + timedelta(hours=2))
    body = {
        "they_said": THEY_SAID,
        "we_said": "We asked for the flight data.",
        "their_name": "Orlov",
        "their_rank": "Lt Col",
        "their_post": "duty officer, Eastland MoD",
        "interpreter": "Sgt Berg",
        "actions": [{"text": "Eastland sends the flight data", "party": "them", "due_at": due}],
        "end": True,
        "version": started["version"],
    }
    ended = api(client, world, "PATCH", f"/calls/{started['id']}", body)
    assert ended["in_progress"] is False and ended["they_said"] == THEY_SAID
    assert [(a["text"], a["party"], a["state"]) for a in ended["actions"]] == [
        ("Eastland sends the flight data", "them", "open")
    ]
    assert count(app, Notification) == queued, "logging a call queued a message"

    events = [e for e in timeline(client, world, reference) if e["kind"] == "call_logged"]
    assert [e["details"]["step"] for e in events] == ["started", "ended"]
    assert events[1]["details"]["actions"][0]["text"] == "Eastland sends the flight data"
    assert [c["id"] for c in calls_of(client, world, reference)] == [started["id"]]
    detail = api(client, world, "GET", f"/incidents/{reference}", who="duty")
    assert [(c["id"], c["actions_open"]) for c in detail["calls"]] == [(started["id"], 1)]


def test_a_back_timed_call_in_dtgs_moves_the_exchange_and_confirms_receipt_of_the_notice(client, world, scene):
    reference, exchange = scene
    now = utcnow()
    body = {
        "direction": "they_called",
        "channel_id": exchange["channel_id"],  # the incident's open exchange on that line
        "started_at": format_dtg(now - timedelta(minutes=1)),
        "ended_at": isoformat(now),
        "their_name": "Orlov",
        "they_said": "We have your notice.",
        "moves_to": "receipt_confirmed",
    }
    call = api(client, world, "POST", f"/incidents/{reference}/calls", body, status=201)
    assert call["exchange_id"] == exchange["id"] and call["moved_to"] == "receipt_confirmed"
    assert call["started_at"] == isoformat((now - timedelta(minutes=1)).replace(second=0, microsecond=0))
    moved = api(client, world, "GET", f"/exchanges/{exchange['id']}")
    assert moved["state"] == "receipt_confirmed"
    [notice] = [m for m in moved["messages"] if m["text"] == NOTICE]
    # A notice released to the other side runs a receipt clock; their receipt by call stops it. (One
    # still waiting for a second person's approval has no clock and nothing to confirm.)
    if notice["receipt_due_at"] is not None:
        assert (notice["receipt_via"], notice["receipt_by"]) == ("call", "Orlov"), "the call stopped the clock"

    again = {"moves_to": "explanation_requested"}
    refused = api(client, world, "PATCH", f"/calls/{call['id']}", again, status=409)
    assert refused["error"]["details"]["moved_to"] == "receipt_confirmed", "one call moves its exchange once"


def _future(_line):
    return {"started_at": isoformat(utcnow() + timedelta(hours=1))}


def _end_before_start(_line):
    now = utcnow()
    return {"started_at": isoformat(now - timedelta(minutes=5)), "ended_at": isoformat(now - timedelta(minutes=6))}


REFUSALS = {
    "a start in the future": (_future, "started_at"),
    "an end in the future": (lambda _l: {"ended_at": isoformat(utcnow() + timedelta(hours=1))}, "ended_at"),
    "an end before the start": (_end_before_start, "ended_at"),
    "an internal line": (lambda lines: {"channel_id": lines["L1"]}, "channel_id"),
    "no line at all": (lambda _l: {"channel_id": None}, "channel_id"),
    "a move not allowed from notified": (lambda _l: {"moves_to": "meeting_held"}, "moves_to"),
    "the engine's state": (lambda _l: {"moves_to": "overdue"}, "moves_to"),
    "an action due before the call": (
        lambda _l: {"actions": [{"text": "Send data", "due_at": isoformat(utcnow() - timedelta(days=1))}]},
        "actions.0.due_at",
    ),
    "an action with no due time": (lambda _l: {"actions": [{"text": "Send data"}]}, "actions"),
    "an unknown party": (
        lambda _l: {"actions": [{"text": "x", "party": "nato", "due_at": "2099-01-01T00:00Z"}]},
        "party",
    ),
    "a time that is not one": (lambda _l: {"started_at": "yesterday at noon"}, "started_at"),
    # The incident occurred 2026-11-27T09:15Z: a DTG a year off put the call (and its actions) in 2025
    "a start a year before the incident": (lambda _l: {"started_at": "271000ZNOV25"}, "started_at"),
    "a start before the incident": (
        lambda _l: {"started_at": "2026-11-27T09:00:00Z", "ended_at": "2026-11-27T09:30:00Z"},
        "started_at",
    ),
    "a name on two lines": (lambda _l: {"their_name": "Orlov\nIvanov"}, "their_name"),
}


@pytest.mark.parametrize("case", REFUSALS, ids=list(REFUSALS))
def test_what_a_call_cannot_be_is_refused_with_422_naming_the_field(app, client, world, scene, case):
    reference, exchange = scene
    change, field = REFUSALS[case]
    body = {"direction": "we_called", "channel_id": exchange["channel_id"], **change(world.channels)}
    body = {k: v for k, v in body.items() if v is not None}
    answer = api(client, world, "POST", f"/incidents/{reference}/calls", body, status=422)
    assert field in str(answer["error"]["details"]), answer
    with session_scope(app) as session:
        assert session.scalar(select(func.count()).select_from(Call)) == 0
        assert session.scalar(select(func.count()).select_from(AgreedAction)) == 0
    assert api(client, world, "GET", f"/exchanges/{exchange['id']}")["state"] == "notified"


def test_a_move_not_allowed_says_from_which_state_and_where_it_may_go(client, world, scene):
    """Every value a 422's details hold under a field is a list of sentences: the state it stood in is in
    the sentence, not a lone value that read as a problem called "notified"."""
    reference, exchange = scene
    body = {"direction": "we_called", "channel_id": exchange["channel_id"], "moves_to": "meeting_held"}
    details = api(client, world, "POST", f"/incidents/{reference}/calls", body, status=422)["error"]["details"]
    assert details["moves_to"] == ["not allowed from notified"] and "state" not in details, details
    assert "receipt_confirmed" in details["allowed"], details


def test_a_call_on_an_exchange_is_on_the_exchanges_line(client, world, scene):
    reference, exchange = scene
    body = {"direction": "we_called", "exchange_id": exchange["id"], "channel_id": world.channels["L1"]}
    answer = api(client, world, "POST", f"/incidents/{reference}/calls", body, status=422)
    assert "channel_id" in answer["error"]["details"]


def test_who_may_log_a_call(client, world, scene):
    reference, exchange = scene
    body = {"direction": "we_called", "channel_id": exchange["channel_id"]}
    api(client, world, "POST", f"/incidents/{reference}/calls", body, who="duty", status=403)
    api(client, world, "POST", f"/incidents/{reference}/calls", body, who="outsider", status=403)
    call = api(client, world, "POST", f"/incidents/{reference}/calls", body, who="supervisor", status=201)
    api(client, world, "PATCH", f"/calls/{call['id']}", {"end": True}, who="outsider", status=403)
    assert calls_of(client, world, reference)[0]["in_progress"] is True, "a refused end changed nothing"


@pytest.mark.parametrize(
    ("change", "field"),
    [({"exchange_id": 999999}, "exchange_id"), ({"channel_id": 999999}, "channel_id"), ({}, "channel_id")],
    ids=["unknown exchange", "unknown line", "no line"],
)
def test_a_counterpart_line_member_naming_a_wrong_line_is_told_which_field(app, client, world, change, field):
    """Who may log depends on the line: the attaché of the other side's line who names an exchange or a
    line that is not there (or none) is told which field (422), not that they may not log calls (403)."""
    add_counterpart_line(app, world, members=["outsider"])
    reference = acknowledged_incident(client, world)
    body = {"direction": "they_called", **change}
    answer = api(client, world, "POST", f"/incidents/{reference}/calls", body, who="outsider", status=422)
    assert field in answer["error"]["details"], answer


def test_ending_twice_or_an_old_version_is_a_conflict(client, world, scene):
    reference, exchange = scene
    body = {"direction": "we_called", "channel_id": exchange["channel_id"]}
    call = api(client, world, "POST", f"/incidents/{reference}/calls", body, status=201)
    ended = api(client, world, "PATCH", f"/calls/{call['id']}", {"end": True, "version": call["version"]})
    assert ended["version"] > call["version"]
    api(client, world, "PATCH", f"/calls/{call['id']}", {"they_said": "x", "version": call["version"]}, status=409)
    api(client, world, "PATCH", f"/calls/{call['id']}", {"end": True}, status=409)


def test_an_agreed_action_is_done_once_and_on_the_timeline(client, world, scene):
    reference, exchange = scene
    due = isoformat(utcnow() + timedelta(minutes=30))
    body = {"direction": "we_called", "exchange_id": exchange["id"], "actions": [{"text": "Call back", "due_at": due}]}
    [action] = api(client, world, "POST", f"/incidents/{reference}/calls", body, status=201)["actions"]
    done = api(client, world, "POST", f"/actions/{action['id']}/done", {"version": action["version"]})
    assert done["state"] == "done" and done["done_by"] == "liaison"
    api(client, world, "POST", f"/actions/{action['id']}/done", {}, status=409)
    api(client, world, "POST", "/actions/999999/done", {}, status=404)
    [event] = [e for e in timeline(client, world, reference) if e["kind"] == "action_done"]
    assert event["details"]["text"] == "Call back" and event["details"]["late"] is False


def test_a_retried_call_with_the_same_idempotency_key_is_logged_once(client, world, scene):
    reference, exchange = scene
    body = {"direction": "they_called", "channel_id": exchange["channel_id"]}
    headers = {**world.auth("liaison"), "Idempotency-Key": "call-7f1c"}
    first = client.post(f"/api/v1/incidents/{reference}/calls", json=body, headers=headers)
    second = client.post(f"/api/v1/incidents/{reference}/calls", json=body, headers=headers)
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.headers.get("Idempotent-Replayed") == "true" and second.get_json() == first.get_json()
    assert len(calls_of(client, world, reference)) == 1


def test_an_incoming_message_takes_the_time_it_was_received(client, world, scene):
    _reference, exchange = scene
    received = (utcnow() - timedelta(hours=3)).replace(second=0, microsecond=0)
    path = f"/exchanges/{exchange['id']}/messages"
    body = {"direction": "in", "text": "Eastland MoD confirms receipt.", "received_at": format_dtg(received)}
    message = api(client, world, "POST", path, body, status=201)
    assert message["at"] == isoformat(received)
    assert parse_moment(message["recorded_at"]) - received > timedelta(hours=2), "recorded when typed in"
    future = {**body, "received_at": isoformat(utcnow() + timedelta(hours=1))}
    assert "received_at" in api(client, world, "POST", path, future, status=422)["error"]["details"]
    ours = {**body, "direction": "out"}
    assert "received_at" in api(client, world, "POST", path, ours, status=422)["error"]["details"]


def test_their_message_cannot_be_received_before_the_incident_occurred(client, world, scene):
    """A DTG typed with last year (25 for 26) put their reply a year before the incident it answers: refused
    with 422 naming received_at, as a call's start is; the minute the incident occurred is accepted."""
    reference, exchange = scene
    occurred = parse_moment(api(client, world, "GET", f"/incidents/{reference}")["occurred_at"])
    path = f"/exchanges/{exchange['id']}/messages"
    body = {"direction": "in", "kind": "reply", "text": "Это был учебный беспилотник."}
    last_year = format_dtg(occurred.replace(year=occurred.year - 1))
    refused = api(client, world, "POST", path, {**body, "received_at": last_year}, status=422)
    assert "before the incident occurred" in refused["error"]["details"]["received_at"][0], refused
    assert [m for m in api(client, world, "GET", path) if m["direction"] == "in"] == [], "nothing recorded"
    assert api(client, world, "GET", f"/exchanges/{exchange['id']}")["state"] == exchange["state"]
    accepted = api(client, world, "POST", path, {**body, "received_at": format_dtg(occurred)}, status=201)
    assert accepted["at"] == isoformat(occurred.replace(second=0, microsecond=0))


def test_calls_are_in_the_csv_export(client, world, scene):
    reference, exchange = scene
    other = file_incident(client, world)["reference"]
    body = {"direction": "they_called", "exchange_id": exchange["id"]}
    api(client, world, "POST", f"/incidents/{reference}/calls", body, status=201)
    text = client.get("/api/v1/exports/incidents.csv", headers=world.auth("supervisor")).get_data(as_text=True)
    rows = csv.DictReader(io.StringIO(text.split("\n", 1)[1]))  # after the file's marking line
    calls = {row["reference"]: (row["calls"], row["actions_overdue"]) for row in rows}
    assert (calls[reference], calls[other]) == (("1", "0"), ("0", "0"))


def test_a_call_ended_in_the_minute_it_began_may_be_typed_as_that_minutes_dtg(client, world, scene):
    reference, exchange = scene
    body = {"direction": "we_called", "channel_id": exchange["channel_id"]}
    call = api(client, world, "POST", f"/incidents/{reference}/calls", body, status=201)
    began = parse_moment(call["started_at"])
    same_minute = format_dtg(began)  # names the minute only: before the start by its seconds
    action = {"text": "Call back with the track", "party": "us", "due_at": same_minute}
    ended = api(
        client,
        world,
        "PATCH",
        f"/calls/{call['id']}",
        {"ended_at": same_minute, "actions": [action], "version": call["version"]},
    )
    assert ended["ended_at"] is not None and len(ended["actions"]) == 1, ended
    earlier = format_dtg(began - timedelta(minutes=1))
    refused = api(
        client, world, "PATCH", f"/calls/{call['id']}", {"ended_at": earlier, "version": ended["version"]}, status=422
    )
    assert "before it started" in str(refused["error"]["details"]), refused


def test_a_line_has_one_call_in_progress_at_a_time(client, world, scene):
    reference, exchange = scene
    body = {"direction": "we_called", "channel_id": exchange["channel_id"]}
    first = api(client, world, "POST", f"/incidents/{reference}/calls", body, status=201)
    second = api(client, world, "POST", f"/incidents/{reference}/calls", body, status=409)
    assert second["error"]["details"] == {"call_id": first["id"]} and "end it first" in second["error"]["message"]
    began = parse_moment(first["started_at"]) - timedelta(hours=2)
    earlier = {**body, "started_at": isoformat(began), "ended_at": isoformat(began + timedelta(minutes=5))}
    api(client, world, "POST", f"/incidents/{reference}/calls", earlier, status=201)  # logged afterwards: taken
    api(client, world, "PATCH", f"/calls/{first['id']}", {"ended_at": isoformat(utcnow()), "version": first["version"]})
    api(client, world, "POST", f"/incidents/{reference}/calls", body, status=201)


def test_a_call_logged_with_its_end_but_no_start_is_asked_for_its_start(client, world, scene):
    reference, exchange = scene
    body = {"direction": "we_called", "channel_id": exchange["channel_id"], "ended_at": isoformat(utcnow())}
    refused = api(client, world, "POST", f"/incidents/{reference}/calls", body, status=422)
    assert refused["error"]["details"] == {"started_at": ["when it started"]}, refused


def test_a_call_moved_before_its_incident_is_refused_but_one_on_record_still_ends(app, client, world, scene):
    """Correcting the start to before the incident occurred is refused; a start on record that an amended
    occurrence time now precedes does not stop the call from being ended."""
    reference, exchange = scene
    body = {"direction": "we_called", "channel_id": exchange["channel_id"], "started_at": "2026-11-27T10:00:00Z"}
    call = api(client, world, "POST", f"/incidents/{reference}/calls", body, status=201)
    moved = {"version": call["version"], "started_at": "261000ZNOV26"}
    refused = api(client, world, "PATCH", f"/calls/{call['id']}", moved, status=422)
    assert "started_at" in refused["error"]["details"], refused
    incident = api(client, world, "GET", f"/incidents/{reference}")
    later = {"version": incident["version"], "occurred_at": "2026-11-27T11:00:00Z"}
    api(client, world, "PATCH", f"/incidents/{reference}", later, who="duty", status=200)
    ended = api(client, world, "PATCH", f"/calls/{call['id']}", {"version": call["version"], "end": True}, status=200)
    assert ended["ended_at"] is not None and ended["started_at"] == "2026-11-27T10:00:00Z"


@pytest.mark.parametrize("text", ["Call back\nBcc: x@evil.example", "Send the \u202ekcart"], ids=repr)
def test_an_agreed_action_is_one_line_at_the_api_as_on_the_page(app, client, world, scene, text):
    """The page refused an agreed action with a line break; the API kept it, and a bidirectional override
    (found in review). An action is one item of a list, on one line."""
    reference, exchange = scene
    opening = {"direction": "we_called", "exchange_id": exchange["id"]}
    started = api(client, world, "POST", f"/incidents/{reference}/calls", opening, status=201)
    due = isoformat(utcnow() + timedelta(hours=2))
    body = {"actions": [{"text": text, "party": "us", "due_at": due}], "version": started["version"]}
    refused = api(client, world, "PATCH", f"/calls/{started['id']}", body, status=422)
    assert "actions" in refused["error"]["details"], refused
    assert count(app, AgreedAction) == 0


def _moves(events: list[dict], call_id: int) -> list[dict]:
    return [e["details"] for e in events if e["kind"] == "exchange_changed" and e["details"].get("call") == call_id]


def test_a_request_of_ours_said_on_a_call_moves_the_exchange_recorded_as_by_call_not_approved(client, world, scene):
    """A request said on the call went over the line as spoken, with no second person to approve it
    first: the exchange moves (the other side heard it, the clock runs), and the call, the incident's
    calls and the timeline all say it was by call, not approved; a written request still waits for one."""
    reference, exchange = scene
    body = {
        "direction": "we_called",
        "exchange_id": exchange["id"],
        "we_said": "We request an explanation of the flight.",
        "moves_to": "explanation_requested",
    }
    call = api(client, world, "POST", f"/incidents/{reference}/calls", body, status=201)
    assert (call["moved_to"], call["moved_without_approval"]) == ("explanation_requested", True), call
    moved = api(client, world, "GET", f"/exchanges/{exchange['id']}")
    assert moved["state"] == "explanation_requested" and moved["deadline_kind"] == "reply", moved
    [brief] = [c for c in api(client, world, "GET", f"/incidents/{reference}", who="duty")["calls"]]
    assert (brief["moved_to"], brief["moved_without_approval"]) == ("explanation_requested", True), brief
    [event] = _moves(timeline(client, world, reference), call["id"])
    assert (event["by_call"], event["approval"], event["to_state"]) == (True, "not_approved", "explanation_requested")
    assert "not approved" in event["note"], event


def test_the_exchange_in_the_api_tells_a_move_by_call_from_an_approved_one(client, world, scene):
    """The panel, timeline, print and brief said "by call, not approved" beside the state; the exchange's own
    JSON did not, and a client read an explanation requested on a call as one a second person approved."""
    reference, exchange = scene
    spoken = {"started_at": isoformat(utcnow() - timedelta(minutes=5)), "ended_at": isoformat(utcnow())}
    body = {"direction": "we_called", "exchange_id": exchange["id"], "moves_to": "explanation_requested", **spoken}
    call = api(client, world, "POST", f"/incidents/{reference}/calls", body, status=201)
    by_call = {"call": call["id"], "approval": "not_approved"}
    assert api(client, world, "GET", f"/exchanges/{exchange['id']}")["moved_by_call"] == by_call
    listed = api(client, world, "GET", "/exchanges?open=true")
    assert [x["moved_by_call"] for x in listed if x["id"] == exchange["id"]] == [by_call], listed
    [brief] = api(client, world, "GET", f"/incidents/{reference}", who="duty")["exchanges"]
    assert brief["moved_by_call"] == by_call, brief
    [whole] = api(client, world, "GET", f"/incidents/{reference}/exchanges")
    assert whole["moved_by_call"] == by_call, whole
    replied = move(client, world, exchange["id"], "reply_received", "A training flight.")
    assert replied["state"] == "reply_received" and replied["moved_by_call"] is None, "moved on since, not by call"

    other = open_(client, world, acknowledged_incident(client, world))
    written = move(client, world, other["id"], "explanation_requested", "We request an explanation.")
    assert written["state"] == "explanation_requested" and written["moved_by_call"] is None, written
    refusal = {"direction": "they_called", "exchange_id": other["id"], "moves_to": "refused"}
    theirs = api(client, world, "POST", f"/incidents/{written['incident']}/calls", refusal, status=201)
    refused = api(client, world, "GET", f"/exchanges/{other['id']}")
    assert refused["moved_by_call"] == {"call": theirs["id"], "approval": "not_needed"}, refused


def test_their_receipt_logged_from_a_call_is_a_move_by_call_on_the_exchange(client, world, scene):
    """A call moving a notified exchange to receipt confirmed records it as their receipt of the notice: the
    exchange said moved_by_call null and the timeline no by_call, while the README's example of that very call
    promises {"call", "approval": "not_needed"}, as for a refusal logged from a call."""
    reference, exchange = scene
    body = {"direction": "they_called", "exchange_id": exchange["id"], "moves_to": "receipt_confirmed"}
    call = api(client, world, "POST", f"/incidents/{reference}/calls", body, status=201)
    moved = api(client, world, "GET", f"/exchanges/{exchange['id']}")
    assert moved["state"] == "receipt_confirmed", moved
    assert moved["moved_by_call"] == {"call": call["id"], "approval": "not_needed"}, moved
    [receipt] = [e for e in timeline(client, world, reference) if e["kind"] == "receipt_recorded"]
    assert (receipt["details"]["by_call"], receipt["details"]["call"]) == (True, call["id"]), receipt
    replied = move(client, world, exchange["id"], "explanation_requested", "We request an explanation.")
    assert replied["moved_by_call"] is None, "moved on since, not by call"


def test_a_list_of_exchanges_reads_the_moves_by_call_of_all_of_them_at_once(app, client, world, scene):
    """Each exchange listed read its incident's changes in a query of its own: 500 queries for a list of 500."""
    reference, exchange = scene
    others = [open_(client, world, acknowledged_incident(client, world)) for _ in range(3)]
    with recorded(app) as statements:
        listed = api(client, world, "GET", "/exchanges?open=true")
    assert {x["id"] for x in listed} >= {exchange["id"], *(o["id"] for o in others)}, listed
    reads = [s for s in statements if "FROM timeline_events" in s]
    assert len(reads) == 1, f"{len(reads)} reads of the timeline for {len(listed)} exchanges: {reads}"


def test_their_refusal_by_call_needs_no_approval_and_says_so(client, world, scene):
    reference, exchange = scene
    body = {"direction": "they_called", "exchange_id": exchange["id"], "moves_to": "refused"}
    call = api(client, world, "POST", f"/incidents/{reference}/calls", body, status=201)
    assert call["moved_without_approval"] is False, "their refusal is their act, not a text of ours"
    [event] = _moves(timeline(client, world, reference), call["id"])
    assert (event["by_call"], event["approval"]) == (True, "not_needed"), event


def test_no_receipt_is_logged_for_a_notice_never_sent(app, client, world):
    """The exchange is "notified" from its opening, its notice still waiting for a second person: a call
    or a transition that said "they have our notice" confirmed the receipt of a text that never went."""
    add_counterpart_line(app, world)
    reference = acknowledged_incident(client, world)
    exchange = open_(client, world, reference, release=False)
    body = {"direction": "they_called", "exchange_id": exchange["id"], "moves_to": "receipt_confirmed"}
    refused = api(client, world, "POST", f"/incidents/{reference}/calls", body, status=422)
    assert "nothing of ours was sent" in refused["error"]["details"]["moves_to"][0], refused
    moved = api(
        client, world, "POST", f"/exchanges/{exchange['id']}/transitions", {"state": "receipt_confirmed"}, status=409
    )
    assert "nothing of ours was sent" in moved["error"]["message"], moved
    assert api(client, world, "GET", f"/exchanges/{exchange['id']}")["state"] == "notified"
    assert calls_of(client, world, reference) == [], "nothing kept of the refused call"


def test_a_move_refused_on_an_exchange_with_nothing_sent_says_why_it_is_refused(app, client, world):
    """Nothing of ours sent yet is the reason only for a receipt confirmed: a move to overdue (the engine's
    alone) on an exchange a call moved to explanation requested, its notice still unsent, was refused
    saying there was no receipt to confirm."""
    add_counterpart_line(app, world)
    reference = acknowledged_incident(client, world)
    exchange = open_(client, world, reference, release=False)
    body = {"direction": "we_called", "exchange_id": exchange["id"], "moves_to": "explanation_requested"}
    ended = {"started_at": format_dtg(utcnow() - timedelta(minutes=2)), "ended_at": isoformat(utcnow())}
    api(client, world, "POST", f"/incidents/{reference}/calls", body | ended, status=201)
    body = {"direction": "we_called", "exchange_id": exchange["id"], "moves_to": "overdue"}
    details = api(client, world, "POST", f"/incidents/{reference}/calls", body, status=422)["error"]["details"]
    assert details["moves_to"] == ["not allowed from explanation_requested"], details


@pytest.mark.parametrize(
    ("speaker", "said"),
    [
        ({"their_rank": "Lt Col", "their_name": "Orlov", "their_post": "duty officer"}, "Lt Col Orlov, duty officer"),
        ({"their_rank": "Lt Col", "their_name": "Orlov"}, "Lt Col Orlov"),
        ({"their_name": "Orlov", "their_post": "duty officer"}, "Orlov, duty officer"),
        ({"their_post": "duty officer"}, "duty officer"),
    ],
)
def test_the_call_on_the_timeline_names_their_speaker_as_the_pages_do(client, world, scene, speaker, said):
    """ "Lt Col Orlov, duty officer", as the call's page and the print say it: the timeline joined every part with
    commas ("Lt Col, Orlov, duty officer")."""
    reference, exchange = scene
    body = {"direction": "they_called", "exchange_id": exchange["id"], **speaker}
    body.update(started_at=isoformat(utcnow() - timedelta(minutes=5)), ended_at=isoformat(utcnow()))
    api(client, world, "POST", f"/incidents/{reference}/calls", body, status=201)
    [logged] = [e for e in timeline(client, world, reference) if e["kind"] == "call_logged"]
    assert logged["details"]["their"] == said, logged["details"]


def test_an_actions_due_time_said_without_its_date_is_the_first_such_moment_from_the_calls_start(client, world, scene):
    """ "They send it by 1800Z": on a call logged later, the 18:00 after the call started, not after the logging (a
    time before the start's own is the next day's); the API reads it as the call page does."""
    reference, exchange = scene
    began = (utcnow() - timedelta(hours=3)).replace(second=0, microsecond=0)
    later, earlier = began + timedelta(hours=2), began - timedelta(hours=1)
    actions = [
        {"text": "Eastland sends the flight data", "party": "them", "due_at": f"{later:%H%M}Z"},
        {"text": "We send the radar track", "party": "us", "due_at": f"{earlier:%H%M}Z"},
    ]
    body = {"direction": "we_called", "exchange_id": exchange["id"], "started_at": format_dtg(began)}
    body["actions"] = actions
    call = api(client, world, "POST", f"/incidents/{reference}/calls", body, status=201)
    due = [parse_moment(a["due_at"]) for a in call["actions"]]
    assert due == [later, earlier + timedelta(days=1)], (call["actions"], began)
    assert [a["state"] for a in call["actions"]] == ["overdue" if later <= utcnow() else "open", "open"]


def test_an_actions_due_time_said_with_a_day_weeks_into_a_later_month_is_refused_for_its_whole_dtg(
    client, world, scene
):
    """ "By 071500Z", said on a call that began on the 7th at 16:00Z, was placed a month on: a slip, far more
    likely than next month's 7th. The whole date-time group is asked for (and taken)."""
    reference, exchange = scene
    began = (utcnow() - timedelta(hours=3)).replace(second=0, microsecond=0)
    earlier = began - timedelta(hours=1)
    body = {"direction": "we_called", "exchange_id": exchange["id"], "started_at": format_dtg(began)}
    body["actions"] = [{"text": "We send the radar track", "party": "us", "due_at": f"{earlier:%d%H%M}Z"}]
    refused = api(client, world, "POST", f"/incidents/{reference}/calls", body, status=422)
    [said] = refused["error"]["details"]["actions.0.due_at"]
    whole = re.fullmatch(rf"day {earlier:%d} .*: if it is due (\w+), give the whole date-time group", said)
    assert whole, said
    body["actions"][0]["due_at"] = whole[1]
    call = api(client, world, "POST", f"/incidents/{reference}/calls", body, status=201)
    assert parse_moment(call["actions"][0]["due_at"]) > began + timedelta(days=27), call["actions"]


def test_an_actions_due_time_given_whole_more_than_a_year_after_the_call_is_refused(client, world, scene):
    """ "071800ZDEC27" on a call of 7 December 2026 (the year typed one off) and 2099 were taken: an action agreed
    on a call fell due a year on, and its clock was watched by nobody in the meantime."""
    reference, exchange = scene
    began = (utcnow() - timedelta(hours=1)).replace(second=0, microsecond=0)
    body = {"direction": "we_called", "exchange_id": exchange["id"], "started_at": format_dtg(began)}
    for due in (format_dtg(began + timedelta(days=367)), "2099-01-01T00:00:00Z"):
        body["actions"] = [{"text": "Eastland sends the track", "party": "them", "due_at": due}]
        refused = api(client, world, "POST", f"/incidents/{reference}/calls", body, status=422)
        [said] = refused["error"]["details"]["actions.0.due_at"]
        assert "more than a year after the call started" in said and "check the year" in said, said
    body["actions"][0]["due_at"] = format_dtg(began + timedelta(days=300))
    api(client, world, "POST", f"/incidents/{reference}/calls", body, status=201)
