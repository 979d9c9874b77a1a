"""The API takes a time of the last days as the pages take it: a Zulu time alone (2335Z) or with its day (062335Z),
read as the latest such moment, with the refusals the pages give. A call's start and end, a message received
from the other side and their receipt took only ISO 8601 or a whole DTG through the API, and so did the time an
incident occurred (filed or amended), where the exchange's pages, the filing form and the watch log take both."""

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.exchange_support import acknowledged_incident, add_counterpart_line, api, open_exchange
from tests.support import csrf, file_incident, incident_payload, sign_in
from tracker.db import session_scope
from tracker.models import ExchangeMessage
from tracker.timeutil import format_dtg, utcnow

MIDNIGHT = "no such time 2400Z: hours 00-23, minutes 00-59 (midnight is 0000, never 2400)"


@pytest.fixture
def scene(app, client, world):
    add_counterpart_line(app, world)
    reference = acknowledged_incident(client, world)
    return reference, open_exchange(client, world, reference)


def minutes_ago(minutes: int):
    return (utcnow() - timedelta(minutes=minutes)).replace(second=0, microsecond=0)


def test_a_call_is_logged_and_ended_with_short_zulu_times(client, world, scene):
    reference, exchange = scene
    began, ended = minutes_ago(40), minutes_ago(28)
    body = {"direction": "they_called", "exchange_id": exchange["id"], "started_at": f"{began:%H%M}Z"}
    call = api(client, world, "POST", f"/incidents/{reference}/calls", body, status=201)
    assert call["started_at"] == f"{began:%Y-%m-%dT%H:%M:%S}Z", call
    ended_call = api(client, world, "PATCH", f"/calls/{call['id']}", {"ended_at": f"{ended:%d%H%M}Z"})
    assert ended_call["ended_at"] == f"{ended:%Y-%m-%dT%H:%M:%S}Z", ended_call


def test_a_message_from_them_and_their_receipt_take_short_zulu_times(app, client, world, scene):
    _reference, exchange = scene
    began = minutes_ago(40)
    with session_scope(app) as session:
        notice = session.scalar(select(ExchangeMessage).where(ExchangeMessage.serial.is_not(None)))
        notice.at = began  # sent at a minute of the hour before the receipt below
        notice_id = notice.id
    received = minutes_ago(0)
    body = {"direction": "in", "kind": "reply", "text": "Received.", "received_at": f"{received:%H%M}Z"}
    theirs = api(client, world, "POST", f"/exchanges/{exchange['id']}/messages", body, status=201)
    assert theirs["at"] == f"{received:%Y-%m-%dT%H:%M:%S}Z", theirs
    confirmed = minutes_ago(30)
    body = {"at": f"{confirmed:%d%H%M}Z", "by": "Maj Petrov", "via": "call"}
    receipt = api(client, world, "POST", f"/exchanges/{exchange['id']}/messages/{notice_id}/receipt", body)
    assert receipt["receipt_at"] == f"{confirmed:%Y-%m-%dT%H:%M:%S}Z", receipt


def test_an_incident_is_filed_and_amended_with_short_zulu_times(client, world):
    occurred, corrected = minutes_ago(50), minutes_ago(55)
    filed = file_incident(client, world, occurred_at=f"{occurred:%H%M}Z")
    assert filed["occurred_at"] == f"{occurred:%Y-%m-%dT%H:%M:%S}Z", filed
    body = {"version": filed["version"], "occurred_at": f"{corrected:%d%H%M}Z"}
    amended = api(client, world, "PATCH", f"/incidents/{filed['reference']}", body, who="duty")
    assert amended["occurred_at"] == f"{corrected:%Y-%m-%dT%H:%M:%S}Z", amended


def bodies(reference: str, exchange: dict, notice: int) -> list[tuple[str, str, str, dict, str]]:
    """(method, path, the time's field, a body good but for it, who sends it) for each time field that takes a
    short form."""
    call = {"direction": "they_called", "exchange_id": exchange["id"], "started_at": "2026-11-27T10:00:00Z"}
    return [
        ("POST", f"/incidents/{reference}/calls", "started_at", call, "liaison"),
        ("POST", f"/incidents/{reference}/calls", "ended_at", call, "liaison"),
        (
            "POST",
            f"/exchanges/{exchange['id']}/messages",
            "received_at",
            {"direction": "in", "text": "Got it."},
            "liaison",
        ),
        (
            "POST",
            f"/exchanges/{exchange['id']}/messages/{notice}/receipt",
            "at",
            {"by": "Maj Petrov", "via": "call"},
            "liaison",
        ),
        ("POST", "/incidents", "occurred_at", incident_payload(), "duty"),
        ("PATCH", f"/incidents/{reference}", "occurred_at", {"version": 1}, "duty"),
    ]


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("2400Z", MIDNIGHT),
        ("321200Z", "no day 32 in the last months: give the whole date-time group (DDHHMMZMONYY)"),
    ],
)
def test_a_short_time_is_refused_in_the_words_the_pages_use(app, client, world, scene, typed, said):
    """The same parser as the pages' (timeutil.parse_recent), so the same words, for every such field."""
    reference, exchange = scene
    with session_scope(app) as session:
        notice = session.scalar(select(ExchangeMessage.id).where(ExchangeMessage.serial.is_not(None)))
    problems = []
    for method, path, name, body, who in bodies(reference, exchange, notice):
        answer = client.open(f"/api/v1{path}", method=method, json={**body, name: typed}, headers=world.auth(who))
        error = answer.get_json()["error"]
        if answer.status_code != 422 or error["details"].get(name) != [said]:
            problems.append(f"{method} {path} {name}: {answer.status_code} {error}")
    assert problems == [], "\n".join(problems)


def test_the_call_page_refuses_a_time_as_the_api_does(client, world, scene):
    """The words of the API's refusal stand beside the call page's field."""
    reference, exchange = scene
    api_said = api(
        client,
        world,
        "POST",
        f"/incidents/{reference}/calls",
        {"direction": "they_called", "exchange_id": exchange["id"], "started_at": "2400Z"},
        status=422,
    )["error"]["details"]["started_at"]
    assert api_said == [MIDNIGHT]
    sign_in(client, "liaison")
    path = f"/incidents/{reference}/calls/new?exchange={exchange['id']}"
    data = {"csrf_token": csrf(client, path), "channel_id": str(exchange["channel_id"]), "direction": "they_called"}
    page = client.post(
        f"/incidents/{reference}/calls/new", data={**data, "exchange_id": str(exchange["id"]), "started_at": "2400Z"}
    )
    beside = re.search(r'<small class="error" id="started_at-error">([^<]*)</small>', page.text)
    assert beside is not None and html.unescape(beside[1]).endswith(MIDNIGHT), page.text[-3000:]


def test_a_line_checks_answer_and_a_briefing_take_short_zulu_times_on_the_api(app, client, world):
    from tests.exercise_support import EXERCISES, create

    line = add_counterpart_line(app, world, "Eastland hotline", counterpart_state="Eastland")
    check = api(client, world, "POST", f"/channels/{line}/checks", None, who="supervisor", status=201)
    answered = minutes_ago(0)
    body = {"at": f"{answered:%H%M}Z", "by": "Capt Ivanova", "via": "voice"}
    answer = api(client, world, "POST", f"/channels/{line}/checks/{check['id']}/answer", body, who="supervisor")
    assert answer["outcome"] == "ok" and answer["detail"].endswith(f" at {format_dtg(answered)}"), answer

    exercise = create(client, world, ours=True)
    briefed = minutes_ago(90)
    body = {"briefed_at": f"{briefed:%d%H%M}Z", "briefed_to": "Eastland attaché", "via": "bilateral_briefing"}
    answer = client.post(f"{EXERCISES}/{exercise['id']}/briefings", json=body, headers=world.auth("supervisor"))
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["briefed_at"] == f"{briefed:%Y-%m-%dT%H:%M:%S}Z", answer.get_json()
