"""The exchange with the other side through the JSON API, and the scripted scenario of issue 6."""

import re
import time
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from tests.exchange_support import (
    LINE,
    NOTICE,
    REQUEST,
    acknowledged_incident,
    add_counterpart_line,
    api,
    approve,
    delivered_text,
    move,
    release_drafts,
    send,
)
from tests.exchange_support import open_exchange as open_
from tests.support import CSRF_TOKEN, file_incident, outbox_files, sign_in
from tracker import dispatch, jobs
from tracker.channels import DeliveryError
from tracker.db import session_scope
from tracker.models import (
    ContactChannel,
    Exchange,
    ExchangeMessage,
    Notification,
    NotificationKind,
    NotificationStatus,
    User,
)
from tracker.services.engine import delivery
from tracker.services.exchanges import receipts
from tracker.timeutil import parse_moment, utcnow

BORDER_POSITION = {"latitude": 54.102, "longitude": 23.311, "position_text": "54 06 07N 023 18 40E"}


def timeline(client, world, reference: str) -> list[dict]:
    return api(client, world, "GET", f"/incidents/{reference}", who="supervisor")["timeline"]


def exchange_steps(events: list[dict]) -> list[tuple[str, str, str]]:
    """(event kind, from, to) of every change of state, as the timeline has them."""
    return [
        (e["kind"], e["details"]["from_state"], e["details"]["to_state"])
        for e in events
        if e["kind"] in ("exchange_changed", "exchange_overdue")
    ]


def wait_past(deadline: str) -> None:
    """Sleep until a deadline (ISO 8601) has passed by a little."""
    left = (parse_moment(deadline) - utcnow()).total_seconds()
    time.sleep(max(0.0, left) + 0.15)


# -- the scenario -------------------------------------------------------------------------


@pytest.mark.both_databases  # deadlines compared in SQL by the sweep; versions and row locks
def test_scenario_airprox_near_border_explanation_overdue_meeting_closed(app, client, world):
    # The route: an airprox near the southern border goes to the southern air desk.
    desk = api(
        client,
        world,
        "POST",
        "/channels",
        {
            "name": "South air desk",
            "level": 2,
            "transport": "outbox",
            "address": "south-air@test.example",
            "members": ["liaison"],
        },
        who="admin",
        status=201,
    )
    policy = api(
        client,
        world,
        "POST",
        "/policies",
        {"name": "Border air ladder", "steps": [{"channel_ids": [desk["id"]], "ack_seconds": 600}]},
        who="admin",
        status=201,
    )
    api(
        client,
        world,
        "POST",
        "/rules",
        {
            "name": "Airprox near the southern border",
            "position": 1,
            "domain": "air",
            "category": "unsafe_intercept",
            "sector": "South",
            "within_border_km": 10,
            "policy_id": policy["id"],
        },
        who="admin",
        status=201,
    )
    line = api(
        client,
        world,
        "POST",
        "/channels",
        {
            "name": LINE,
            "level": 3,
            "counterpart": "Eastland Ministry of Defence",
            "transport": "outbox",
            "address": "mission@eastland.test",
            "members": ["liaison"],
            "counterpart_line": True,
            "reply_deadline_seconds": 1,
            "meeting_deadline_seconds": 3600,
            "language": "ru",
        },
        who="admin",
        status=201,
    )
    assert (line["counterpart_line"], line["reply_deadline_seconds"], line["language"]) == (True, 1, "ru"), line
    world.channels[LINE] = line["id"]

    # Filed: an airprox (risk A) near the border, inside no announced exercise; routed by sector.
    filed = file_incident(
        client, world, sector=..., safety_risk="A", category="unsafe_intercept", domain="air", **BORDER_POSITION
    )
    reference = filed["reference"]
    assert filed["sector"] == "South" and filed["border_distance_km"] < 10, filed
    assert (filed["ladder"]["rule_name"], filed["ladder"]["policy_name"]) == (
        "Airprox near the southern border",
        "Border air ladder",
    ), filed["ladder"]
    assert [(n["kind"], n["channel"]) for n in filed["notifications"]] == [("notified", "South air desk")]
    assert filed.get("exercise") is None and "exercise_linked" not in [e["kind"] for e in filed["timeline"]]

    # Not before our own acknowledgement.
    early = client.post(
        f"/api/v1/incidents/{reference}/exchanges", json={"channel_id": line["id"]}, headers=world.auth("liaison")
    )
    assert early.status_code == 409 and early.get_json()["error"]["code"] == "invalid_transition", early.get_json()
    api(client, world, "POST", f"/incidents/{reference}/acknowledge", {"note": "South air desk has it"})

    # Notified, receipt confirmed, explanation requested with a one-second reply deadline.
    exchange = open_(client, world, reference)
    assert (exchange["state"], exchange["reply_seconds"], exchange["deadline_at"]) == ("notified", 1, None), exchange
    xid = exchange["id"]
    move(client, world, xid, "receipt_confirmed", "Eastland MoD confirms receipt of your notice.")
    requested = move(client, world, xid, "explanation_requested", REQUEST)
    assert (requested["state"], requested["deadline_kind"]) == ("explanation_requested", "reply"), requested
    assert requested["deadline_at"] and requested["seconds_left"] <= 1, requested
    refused = client.post(
        f"/api/v1/exchanges/{xid}/transitions", json={"state": "overdue"}, headers=world.auth("supervisor")
    )
    assert refused.status_code == 409, refused.get_json()
    assert refused.get_json()["error"]["details"]["allowed"] == ["reply_received", "refused", "no_answer"]

    # The other side lets the deadline pass: the engine marks it overdue and tells the supervisors.
    jobs.sweep(app)
    assert api(client, world, "GET", f"/exchanges/{xid}")["state"] == "explanation_requested", "overdue too early"
    wait_past(requested["deadline_at"])
    jobs.sweep(app)
    jobs.sweep(app)  # a second sweep finds nothing more to do
    overdue = api(client, world, "GET", f"/exchanges/{xid}")
    assert (overdue["state"], overdue["overdue_count"], overdue["deadline_at"]) == ("overdue", 1, None), overdue
    board = api(client, world, "GET", "/exchanges?open=true", who="duty")
    assert [(x["id"], x["state"], x["incident"]) for x in board] == [(xid, "overdue", reference)], board
    incident = api(client, world, "GET", f"/incidents/{reference}", who="supervisor")
    [event] = [e for e in incident["timeline"] if e["kind"] == "exchange_overdue"]
    assert event["details"]["deadline_kind"] == "reply" and event["details"]["due_at"] == requested["deadline_at"]
    assert event["details"]["supervisors"] == ["supervisor"] and event["actor"] == "scheduler", event
    told = [n for n in incident["notifications"] if n["kind"] == "exchange_overdue"]
    assert [(n["user"], n["status"]) for n in told] == [("supervisor", "pending")], told
    assert told[0]["subject"].endswith("EXCHANGE OVERDUE"), told[0]

    jobs.deliver(app)
    told = [
        n
        for n in api(client, world, "GET", f"/incidents/{reference}")["notifications"]
        if n["kind"] == "exchange_overdue"
    ]
    assert [n["status"] for n in told] == ["sent"], told
    mail = delivered_text(app, reference, told[0]["id"])
    assert "EXCHANGE OVERDUE: the other side let a deadline pass on Eastland liaison mission" in mail, mail[:2000]
    assert "their reply to our request for explanation" in mail, mail[:2000]
    assert re.search(r"^Ladder step: +1 of \d+$", mail, re.MULTILINE), (
        f"the incident's own step, no repeat: {mail[:2000]}"
    )

    # A meeting is requested and held; the exchange closes.
    meeting = move(
        client, world, xid, "meeting_requested", "We request a meeting of the liaison officers within 48 hours."
    )
    assert (meeting["state"], meeting["deadline_kind"]) == ("meeting_requested", "meeting"), meeting
    move(
        client, world, xid, "meeting_held", "Met at the crossing point; Eastland will review its intercept procedures."
    )
    closed = move(client, world, xid, "closed", "Explanation accepted at the meeting.")
    assert (closed["state"], closed["deadline_at"], closed["outcome"]) == (
        "closed",
        None,
        "Explanation accepted at the meeting.",
    ), closed
    assert closed["closed_at"] and closed["next_states"] == []

    # Every step is on the timeline and in the API.
    assert [(m["direction"], m["kind"], m["channel"]) for m in closed["messages"]] == [
        ("out", "notice", LINE),
        ("in", "receipt_confirmation", LINE),
        ("out", "explanation_request", LINE),
        ("out", "meeting_request", LINE),
        ("in", "meeting_notes", LINE),
    ], closed["messages"]
    assert closed["messages"][0]["text"] == NOTICE and all(m["at"] for m in closed["messages"])
    events = timeline(client, world, reference)
    kinds = [e["kind"] for e in events]
    assert kinds.index("acknowledged") < kinds.index("exchange_opened"), kinds
    assert exchange_steps(events) == [
        ("exchange_changed", "notified", "receipt_confirmed"),
        ("exchange_changed", "receipt_confirmed", "explanation_requested"),
        ("exchange_overdue", "explanation_requested", "overdue"),
        ("exchange_changed", "overdue", "meeting_requested"),
        ("exchange_changed", "meeting_requested", "meeting_held"),
        ("exchange_changed", "meeting_held", "closed"),
    ], exchange_steps(events)
    assert [e["details"]["kind"] for e in events if e["kind"] == "exchange_message"] == [
        "notice",
        "receipt_confirmation",
        "explanation_request",
        "meeting_request",
        "meeting_notes",
    ]
    incident = api(client, world, "GET", f"/incidents/{reference}")
    assert incident["exchanges"] == [
        {
            "id": xid,
            "channel": LINE,
            "state": "closed",
            "deadline_at": None,
            "deadline_kind": None,
            "reference": closed["reference"],  # the one the other side quotes
            "moved_by_call": None,  # every move written, approved and sent or recorded: none by call
        }
    ], incident["exchanges"]
    assert closed["reference"], closed
    assert api(client, world, "GET", "/exchanges?open=true") == []

    # What we sent went over the counterpart line, exactly as written, and nothing else did.
    jobs.deliver(app)
    on_line = [n for n in api(client, world, "GET", f"/incidents/{reference}")["notifications"] if n["channel"] == LINE]
    assert [(n["kind"], n["status"]) for n in on_line] == [("counterpart", "sent")] * 3, on_line
    sent = "\n".join(delivered_text(app, reference, n["id"]) for n in on_line)
    for text in (NOTICE, REQUEST, "We request a meeting of the liaison officers"):
        assert text in sent, f"{text!r} not delivered to the counterpart line"
    assert "2nd Air Defence Squadron" not in sent, "a non-releasable field reached the other side"


# -- opening --------------------------------------------------------------------------------


@pytest.mark.both_databases  # the reference from a counter upsert written per engine, looked up in SQL
def test_the_reference_the_other_side_quotes_is_shown_and_finds_its_exchange(app, client, world):
    """The reference the other side knows an exchange by (and quotes when they call back) was printed
    on paper only: the desk could not see it on the incident or the board, nor look an exchange up by it."""
    add_counterpart_line(app, world)
    incident = acknowledged_incident(client, world)
    opened = open_(client, world, incident)  # the notice goes out: the exchange gets its reference
    quoted = opened["reference"]
    assert re.fullmatch(r"[A-Z0-9]+-\d{4}-\d{4}", quoted or ""), opened
    assert incident not in quoted, "never our incident number"
    shown = client.get(f"/api/v1/incidents/{incident}", headers=world.auth("duty")).get_json()
    assert [(x["id"], x["reference"]) for x in shown["exchanges"]] == [(opened["id"], quoted)], shown["exchanges"]

    response = client.get("/api/v1/exchanges", query_string={"reference": quoted.lower()}, headers=world.auth("duty"))
    assert response.status_code == 200 and [x["id"] for x in response.get_json()] == [opened["id"]], response.get_json()
    none = client.get("/api/v1/exchanges", query_string={"reference": "XX-1999-0001"}, headers=world.auth("duty"))
    assert none.status_code == 200 and none.get_json() == [], none.get_json()
    # The incident list finds the incident by it too (any case, spaces round it ignored), and by nothing else.
    listed = client.get(
        "/api/v1/incidents", query_string={"exchange_reference": f" {quoted.lower()}"}, headers=world.auth("duty")
    )
    assert listed.status_code == 200, listed.get_json()
    assert [i["reference"] for i in listed.get_json()["items"]] == [incident], listed.get_json()
    other = client.get(
        "/api/v1/incidents", query_string={"exchange_reference": "XX-1999-0001"}, headers=world.auth("duty")
    )
    assert other.status_code == 200 and other.get_json()["total"] == 0, other.get_json()
    for bad in ("", " ", "X" * 41):
        refused = client.get("/api/v1/incidents", query_string={"exchange_reference": bad}, headers=world.auth("duty"))
        assert refused.status_code == 422, refused.get_json()
        assert "exchange_reference" in refused.get_json()["error"]["details"], refused.get_json()

    page = app.test_client()
    sign_in(page, "duty")
    shown = page.get(f"/incidents/{incident}").get_data(as_text=True)
    assert f"Their reference <strong><bdi>{quoted}</bdi></strong>" in shown, "on the incident's exchange"
    assert f"their ref. <bdi>{quoted}</bdi>" in page.get("/board").get_data(as_text=True), "on the board's exchanges"
    assert 'action="/exchanges/find"' in page.get("/board").get_data(as_text=True), "the board finds one by it"
    went = page.get("/exchanges/find", query_string={"reference": f" {quoted.lower()} "})
    assert went.status_code == 302, went.status_code
    assert went.headers["Location"] == f"/incidents/{incident}#exchange-{opened['id']}-heading", went.headers
    unknown = page.get("/exchanges/find", query_string={"reference": "XX-1999-0001"})
    assert unknown.status_code == 404 and "No exchange is known by" in unknown.get_data(as_text=True)
    assert page.get("/exchanges/find", query_string={"reference": " "}).status_code == 422


def test_an_exchange_opens_only_over_an_active_counterpart_line(app, client, world):
    add_counterpart_line(app, world)
    add_counterpart_line(app, world, "Retired line", active=False)
    reference = acknowledged_incident(client, world)
    for channel_id, why in (
        (world.channels["L1"], "is not an active counterpart line"),
        (world.channels["Retired line"], "is not an active counterpart line"),
        (9999, "no such channel"),
    ):
        answer = api(client, world, "POST", f"/incidents/{reference}/exchanges", {"channel_id": channel_id}, status=422)
        assert why in answer["error"]["details"]["channel_id"][0], answer
    opened = open_(client, world, reference, text=None)
    assert opened["messages"] == [] and opened["state"] == "notified"
    again = api(
        client, world, "POST", f"/incidents/{reference}/exchanges", {"channel_id": world.channels[LINE]}, status=409
    )
    assert again["error"]["details"] == {"exchange_id": opened["id"]}, again


@pytest.mark.both_databases  # approvals on versions; the serial from a counter upsert written per engine
def test_nothing_goes_out_over_a_line_deactivated_mid_exchange(app, client, world):
    """An admin deactivates the line while a text waits to go: sending it, our receipt of their message and a
    summary are refused (409 naming the line) and nothing is numbered or queued; active again, it goes."""
    line = add_counterpart_line(app, world)
    reference = acknowledged_incident(client, world)
    exchange = open_(client, world, reference, text=None)
    path = f"/exchanges/{exchange['id']}/messages"
    drafted = api(client, world, "POST", path, {"direction": "out", "text": "We propose a call at 1200Z."}, status=201)
    theirs = api(client, world, "POST", path, {"direction": "in", "text": "Получено."}, status=201)
    approved = approve(client, world, drafted["id"])
    summary = api(
        client, world, "POST", f"/incidents/{reference}/summaries", {"exchange_id": exchange["id"]}, status=201
    )
    api(client, world, "POST", f"/summaries/{summary['id']}/approve", {"version": summary["version"]}, who="supervisor")
    api(client, world, "PATCH", f"/channels/{line}", {"active": False}, who="admin")
    for method_path, body in (
        (f"/exchange-messages/{approved['id']}/send", {}),
        (f"/exchanges/{exchange['id']}/receipts", {"message_id": theirs["id"]}),
        (f"/summaries/{summary['id']}/send", {}),
    ):
        refused = api(client, world, "POST", method_path, body, status=409)
        assert "inactive" in refused["error"]["message"] and refused["error"]["details"]["active"] is False, refused
    with session_scope(app) as session:
        sent = session.scalars(select(ExchangeMessage).where(ExchangeMessage.serial.is_not(None))).all()
        assert not sent and not session.scalars(select(Notification).where(Notification.channel_id == line)).all()
    api(client, world, "PATCH", f"/channels/{line}", {"active": True}, who="admin")
    assert send(client, world, approved["id"])["serial"] == 1


def test_a_counterpart_line_that_carried_an_exchange_never_becomes_an_internal_line(app, client, world):
    add_counterpart_line(app, world)
    add_counterpart_line(app, world, "Unused line", address="unused@our-desk.test")
    line, unused = world.channels[LINE], world.channels["Unused line"]
    open_(client, world, acknowledged_incident(client, world), text=None)
    refused = api(client, world, "PATCH", f"/channels/{line}", {"counterpart_line": False}, who="admin", status=422)
    assert "stays a counterpart line" in refused["error"]["message"], refused
    assert api(client, world, "GET", f"/channels/{line}", who="admin")["counterpart_line"] is True
    api(client, world, "PATCH", f"/channels/{line}", {"name": "Eastland mission"}, who="admin")  # other changes stand
    made_by_mistake = api(client, world, "PATCH", f"/channels/{unused}", {"counterpart_line": False}, who="admin")
    assert made_by_mistake["counterpart_line"] is False, "a line that never carried anything may change kind"


def test_no_internal_line_takes_a_counterpart_lines_address_or_domain_nor_the_reverse(app, client, world):
    """An internal line at the other side's address would take our ladder's alerts, with their one-click
    acknowledge links, to them."""
    add_counterpart_line(app, world)  # eastland@eastland.test
    l3 = world.channels["L3"]
    for address in ("eastland@eastland.test", " EASTLAND@Eastland.Test", "duty@eastland.test"):
        refused = api(client, world, "PATCH", f"/channels/{l3}", {"address": address}, who="admin", status=422)
        assert LINE in refused["error"]["details"]["address"][0], (address, refused)
    new = {"name": "New desk", "level": 1, "transport": "outbox", "address": "desk@eastland.test"}
    api(client, world, "POST", "/channels", new, who="admin", status=422)
    theirs = {**new, "name": "Their desk", "address": "l3@ours.test", "counterpart_line": True}
    api(client, world, "PATCH", f"/channels/{l3}", {"address": "l3@ours.test"}, who="admin")
    refused = api(client, world, "POST", "/channels", theirs, who="admin", status=422)
    assert "our internal line 'L3'" in refused["error"]["details"]["address"][0], refused
    assert api(client, world, "GET", f"/channels/{l3}", who="admin")["address"] == "l3@ours.test"
    api(client, world, "POST", "/channels", {**new, "address": "desk@ours.test"}, who="admin", status=201)


def test_no_internal_line_reaches_a_counterpart_webhooks_server_or_a_mailbox_of_theirs_by_apprise(app, client, world):
    """A webhook's every path goes to one server, as an e-mail's every mailbox goes to one domain: an internal
    hook at another path of the other side's server (or an Apprise mailto:// naming their mailbox) took our
    ladder's alerts, with their one-click acknowledge links, to them, and the links acknowledged our incident."""
    add_counterpart_line(app, world, "Eastland gateway", transport="webhook", address="https://gw.eastland.test/in")
    add_counterpart_line(app, world)  # eastland@eastland.test
    l3 = world.channels["L3"]
    for transport, address in (
        ("webhook", "https://gw.eastland.test/ops?key=1"),
        ("webhook", "HTTPS://GW.Eastland.test:443/"),
        ("apprise", "mailtos://desk:pw@smtp.northmark.test?to=duty%40eastland.test"),
    ):
        change = {"transport": transport, "address": address}
        refused = api(client, world, "PATCH", f"/channels/{l3}", change, who="admin", status=422)
        assert "address" in refused["error"]["details"], (address, refused)
    # Another port of their named host is theirs too (it was a server of its own, and took our alerts there).
    theirs = {"transport": "webhook", "address": "https://gw.eastland.test:8443/ops"}
    api(client, world, "PATCH", f"/channels/{l3}", theirs, who="admin", status=422)
    # Through the same relay account as a line to the other side: the relay is no recipient.
    relayed = "mailtos://desk:pw@smtp.northmark.test?to=liaison%40westland.test"
    add_counterpart_line(app, world, "Westland by relay", transport="apprise", address=relayed)
    ours = {"transport": "apprise", "address": "mailtos://desk:pw@smtp.northmark.test?to=duty%40northmark.test"}
    assert api(client, world, "PATCH", f"/channels/{l3}", ours, who="admin")["transport"] == "apprise"
    ours = {"transport": "apprise", "address": "mailtos://liaison:pw@westland.test"}  # sends to itself: theirs
    api(client, world, "PATCH", f"/channels/{l3}", ours, who="admin", status=422)


def test_a_mail_domain_and_the_web_server_of_that_name_are_one_side(app, client, world):
    """One party's mail and web are one place: an internal hook at the web server named as the other side's mail
    domain took our alerts and acknowledge links to them, and an internal mailbox in the domain of their webhook's
    host took our ladder's mail there. Either way round is refused; another port of the host stays a server of
    its own, as it does between two hooks, only where the host is named by its address (a test bench, a relay)."""
    add_counterpart_line(app, world)  # eastland@eastland.test
    l3 = world.channels["L3"]
    for transport, address in (
        ("webhook", "https://eastland.test/ops"),
        ("webhook", "http://EASTLAND.test./"),
        ("webhook", "https://eastland.test:8443/ops"),  # the other side's host at any port
    ):
        change = {"transport": transport, "address": address}
        refused = api(client, world, "PATCH", f"/channels/{l3}", change, who="admin", status=422)
        assert "Eastland" in refused["error"]["details"]["address"][0], (address, refused)
    add_counterpart_line(app, world, "Westland hook", transport="webhook", address="https://westland.test/in")
    new = {"name": "Desk W", "level": 2, "transport": "outbox", "address": "duty@westland.test"}
    refused = api(client, world, "POST", "/channels", new, who="admin", status=422)
    assert "Westland hook" in refused["error"]["details"]["address"][0], refused
    api(client, world, "POST", "/channels", {**new, "address": "duty@ours.test"}, who="admin", status=201)


def test_a_domain_spelled_another_way_is_the_same_domain(app, client, world):
    """DNS reads "eastland.test." as "eastland.test", and "bücher.test" as "xn--bcher-kva.test": an internal
    line at the other side's domain spelled so was saved, and took our alerts and acknowledge links to them."""
    add_counterpart_line(app, world)  # eastland@eastland.test
    add_counterpart_line(app, world, "Bücher line", address="post@bücher.test")
    add_counterpart_line(app, world, "Gateway", transport="webhook", address="https://gw.eastland.test/in")
    l3 = world.channels["L3"]
    for transport, address in (
        ("outbox", "duty@eastland.test."),
        ("outbox", "desk@XN--BCHER-KVA.test"),
        ("webhook", "https://gw.eastland.test./ops"),
    ):
        change = {"transport": transport, "address": address}
        refused = api(client, world, "PATCH", f"/channels/{l3}", change, who="admin", status=422)
        assert "address" in refused["error"]["details"], (address, refused)


@pytest.mark.parametrize("address", ["http://127.1:9/x", "http://2130706433:9/", "http://[::ffff:127.0.0.1]:9/x"])
def test_no_internal_webhook_reaches_a_counterpart_webhooks_server_by_another_spelling_of_its_ip(
    app, client, world, address
):
    add_counterpart_line(app, world, "Eastland gateway", transport="webhook", address="http://127.0.0.1:9/hook")
    change = {"transport": "webhook", "address": address}
    refused = api(client, world, "PATCH", f"/channels/{world.channels['L3']}", change, who="admin", status=422)
    assert "Eastland gateway" in refused["error"]["details"]["address"][0], refused


@pytest.mark.parametrize(
    ("transport", "address"),
    [
        ("outbox", "noc@mail.eastland.test"),
        ("webhook", "https://www.eastland.test/hook"),
        ("webhook", "http://localhost:9/"),
    ],
)
def test_no_internal_line_is_at_a_name_under_a_counterpart_lines_domain_or_at_another_name_of_its_host(
    app, client, world, transport, address
):
    """noc@mail.eastland.test beside their eastland@eastland.test, or http://localhost beside their hook at
    127.0.0.1, was saved as an internal line, and our alerts with their acknowledge links went to the other side."""
    add_counterpart_line(app, world)  # eastland@eastland.test
    add_counterpart_line(app, world, "Eastland gateway", transport="webhook", address="http://127.0.0.1:9/hook")
    change = {"transport": transport, "address": address}
    refused = api(client, world, "PATCH", f"/channels/{world.channels['L3']}", change, who="admin", status=422)
    assert "is where a counterpart line" in refused["error"]["details"]["address"][0], refused


@pytest.mark.parametrize(
    "address", ["forms://gw.eastland.test/ops", "JSONS://gw.eastland.test/", "xml://gw.eastland.test:443/in"]
)
def test_no_internal_apprise_line_posts_to_a_counterpart_webhooks_server(app, client, world, address):
    """Apprise's json://, xml:// and form:// post to the server they name as a webhook does: an internal line
    at the other side's hook server by one of them took our alerts, with their one-click acknowledge links,
    there unseen, since only a webhook's server was compared."""
    add_counterpart_line(app, world, "Eastland gateway", transport="webhook", address="https://gw.eastland.test/in")
    change = {"transport": "apprise", "address": address}
    refused = api(client, world, "PATCH", f"/channels/{world.channels['L3']}", change, who="admin", status=422)
    assert "Eastland gateway" in refused["error"]["details"]["address"][0], refused
    ours = {"transport": "apprise", "address": "forms://gw.northmark.test/ops"}
    assert api(client, world, "PATCH", f"/channels/{world.channels['L3']}", ours, who="admin")["transport"] == "apprise"


def test_no_supervisor_mailbox_is_at_a_counterpart_lines_address_or_domain_nor_the_reverse(app, client, world):
    """The supervisors' messages (dead letters, receipts overdue, decisions asked, with our incident's facts
    and page) go to each supervisor's e-mail address: a user created with the other side's address, or a
    counterpart line saved at one of our users' mailboxes, carried them to the other side, where a line at
    such an address is refused."""
    add_counterpart_line(app, world)  # eastland@eastland.test
    admin = app.test_client()
    sign_in(admin, "admin")

    def new_supervisor(email: str):
        token = CSRF_TOKEN.search(admin.get("/admin/users/new").text)[1]
        form = {"csrf_token": token, "username": "watchkeeper", "role": "supervisor", "password": "long-enough-1"}
        return admin.post("/admin/users/new", data={**form, "email": email})

    for email in ("eastland@eastland.test", "Duty.Officer@EASTLAND.test"):
        refused = new_supervisor(email)
        assert refused.status_code == 422 and LINE in refused.text, (email, refused.text[:2000])
    with session_scope(app) as session:
        assert session.scalar(select(User).where(User.username == "watchkeeper")) is None
    assert new_supervisor("watch@ops.northmark.test").status_code == 302
    theirs = {"name": "Their desk", "level": 3, "transport": "outbox", "counterpart_line": True}
    for address in ("watch@ops.northmark.test", "mission@OPS.northmark.test"):
        refused = api(client, world, "POST", "/channels", {**theirs, "address": address}, who="admin", status=422)
        assert "'watchkeeper'" in refused["error"]["details"]["address"][0], (address, refused)
    api(client, world, "POST", "/channels", {**theirs, "address": "mission@westland.test"}, who="admin", status=201)


@pytest.mark.both_databases  # the deadline compared in SQL by the sweep
def test_their_reply_recorded_as_a_message_stops_the_reply_clock_and_nothing_goes_overdue(app, client, world):
    add_counterpart_line(app, world, reply_deadline_seconds=1)
    reference = acknowledged_incident(client, world)
    xid = open_(client, world, reference)["id"]
    requested = move(client, world, xid, "explanation_requested", REQUEST)
    assert requested["deadline_kind"] == "reply", requested
    said = {"direction": "in", "kind": "reply", "text": "Standard procedure: the aircraft kept to its corridor."}
    api(client, world, "POST", f"/exchanges/{xid}/messages", said, status=201)
    answered = api(client, world, "GET", f"/exchanges/{xid}")
    assert (answered["state"], answered["deadline_at"]) == ("reply_received", None), answered
    wait_past(requested["deadline_at"])
    jobs.sweep(app)
    after = api(client, world, "GET", f"/exchanges/{xid}")
    assert (after["state"], after["overdue_count"]) == ("reply_received", 0), after
    noted = {"direction": "in", "kind": "note", "text": "Their duty officer called to say the reply is in the bag."}
    api(client, world, "POST", f"/exchanges/{xid}/messages", noted, status=201)
    assert api(client, world, "GET", f"/exchanges/{xid}")["state"] == "reply_received", (
        "a kind that answers nothing moves nothing"
    )


@pytest.mark.parametrize(("who", "status"), [("duty", 403), ("outsider", 403), ("supervisor", 201), ("admin", 201)])
def test_who_may_open_an_exchange(app, client, world, who, status):
    add_counterpart_line(app, world, members=[])
    reference = acknowledged_incident(client, world)
    answer = client.post(
        f"/api/v1/incidents/{reference}/exchanges", json={"channel_id": world.channels[LINE]}, headers=world.auth(who)
    )
    assert answer.status_code == status, answer.get_json()


def test_a_member_of_the_counterpart_line_may_open_and_move_it(app, client, world):
    add_counterpart_line(app, world, members=["outsider"])
    reference = acknowledged_incident(client, world)
    opened = open_(client, world, reference, who="outsider")
    assert move(client, world, opened["id"], "explanation_requested", REQUEST, who="outsider")["state"] == (
        "explanation_requested"
    )


@pytest.mark.parametrize(
    ("line", "why"),
    [(9999, "no such channel"), ("L1", "is not an active counterpart line")],
    ids=["unknown", "internal"],
)
def test_a_counterpart_line_member_naming_a_wrong_line_is_told_which_field(app, client, world, line, why):
    """The attaché of the other side's line is no member of our notified lines: a typo in channel_id
    names the field (422), it does not say they may not open exchanges (403)."""
    add_counterpart_line(app, world, members=["outsider"])
    reference = acknowledged_incident(client, world)
    body = {"channel_id": world.channels.get(line, line)}
    answer = api(client, world, "POST", f"/incidents/{reference}/exchanges", body, who="outsider", status=422)
    assert why in answer["error"]["details"]["channel_id"][0], answer


def test_text_for_the_other_side_with_non_releasable_content_is_refused_and_nothing_is_stored(app, client, world):
    add_counterpart_line(app, world)
    reference = acknowledged_incident(client, world)
    leak = "Reported by 2nd Air Defence Squadron: please explain."
    answer = api(
        client,
        world,
        "POST",
        f"/incidents/{reference}/exchanges",
        {"channel_id": world.channels[LINE], "text": leak},
        status=422,
    )
    assert "reporting_unit" in answer["error"]["details"], answer
    assert api(client, world, "GET", f"/incidents/{reference}/exchanges") == []
    xid = open_(client, world, reference)["id"]
    answer = move(client, world, xid, "explanation_requested", leak, status=422)
    assert "reporting_unit" in answer["error"]["details"], answer
    unchanged = api(client, world, "GET", f"/exchanges/{xid}")
    assert (unchanged["state"], len(unchanged["messages"])) == ("notified", 1), unchanged


@pytest.mark.both_databases  # the deadline compared in SQL by the sweep; the report counts in SQL
def test_a_meeting_held_after_its_deadline_is_recorded_and_the_timely_reply_is_not_late(app, client, world):
    add_counterpart_line(app, world, reply_deadline_seconds=3600, meeting_deadline_seconds=1)
    reference = acknowledged_incident(client, world)
    xid = open_(client, world, reference)["id"]
    move(client, world, xid, "explanation_requested", REQUEST)
    move(client, world, xid, "reply_received", "Standard procedure: a scheduled flight.")
    requested = move(client, world, xid, "meeting_requested", "We request a meeting under paragraph 16.3.")
    assert requested["deadline_kind"] == "meeting", requested
    wait_past(requested["deadline_at"])
    jobs.sweep(app)
    overdue = api(client, world, "GET", f"/exchanges/{xid}")
    assert (overdue["state"], overdue["deadline_kind"], overdue["deadline_at"]) == ("overdue", "meeting", None)
    assert "meeting_held" in overdue["next_states"], overdue
    notes = {"direction": "in", "kind": "meeting_notes", "text": "Met at the border post, 1400Z, two days late."}
    api(client, world, "POST", f"/exchanges/{xid}/messages", notes, status=201)
    held = api(client, world, "GET", f"/exchanges/{xid}")
    assert (held["state"], held["deadline_kind"]) == ("meeting_held", None), held
    counted = api(client, world, "GET", "/reports/after-action", who="supervisor")["exchanges"]
    assert (counted["answered"], counted["answered_late"]) == (1, 0), counted


@pytest.mark.both_databases  # the amendment's conditional UPDATE; its addendum read back from the timeline's JSON
def test_what_an_amendment_added_to_the_narrative_and_our_references_stay_on_our_side(app, client, world):
    add_counterpart_line(app, world)
    reference = acknowledged_incident(client, world)
    version = api(client, world, "GET", f"/incidents/{reference}")["version"]
    added = "Source: agent NIGHTJAR-7 inside their 44th regiment, codename BLUEFIN."
    api(client, world, "PATCH", f"/incidents/{reference}", {"version": version, "narrative_addendum": added})
    xid = open_(client, world, reference)["id"]
    for text, field in (
        ("Our source NIGHTJAR-7 saw it.", "narrative"),
        ("inside their 44th regiment, codename BLUEFIN we say", "narrative"),
        (f"Re our {reference}: please explain.", "reference"),
        ("Compare our INC-2026-99999.", "reference"),
    ):
        body = {"direction": "out", "kind": "message", "text": text}
        refused = api(client, world, "POST", f"/exchanges/{xid}/messages", body, status=422)
        assert field in refused["error"]["details"], (text, refused)
    assert len(api(client, world, "GET", f"/exchanges/{xid}")["messages"]) == 1, "nothing stored"
    said = {"direction": "out", "kind": "message", "text": "Our exchange NM-2026-0001 refers: please explain."}
    api(client, world, "POST", f"/exchanges/{xid}/messages", said, status=201)


# -- moving ---------------------------------------------------------------------------------


def test_a_state_the_table_does_not_allow_is_409_with_the_allowed_ones(app, client, world):
    add_counterpart_line(app, world)
    xid = open_(client, world, acknowledged_incident(client, world))["id"]
    answer = move(client, world, xid, "meeting_held", "Met.", status=409)
    assert answer["error"]["code"] == "invalid_transition", answer
    assert answer["error"]["details"]["allowed"] == [
        "receipt_confirmed",
        "explanation_requested",
        "refused",
        "no_answer",
        "closed",
    ], answer
    assert api(client, world, "GET", f"/exchanges/{xid}")["next_states"] == answer["error"]["details"]["allowed"]


def test_a_request_needs_its_text_and_an_answer_does_not(app, client, world):
    add_counterpart_line(app, world)
    xid = open_(client, world, acknowledged_incident(client, world))["id"]
    answer = move(client, world, xid, "explanation_requested", "  ", status=422)
    assert answer["error"]["details"] == {"text": ["must not be blank"]}, answer
    confirmed = move(client, world, xid, "receipt_confirmed")
    assert confirmed["state"] == "receipt_confirmed" and len(confirmed["messages"]) == 1, confirmed


@pytest.mark.both_databases  # versions decide the conflict
def test_a_stale_version_is_refused_with_the_current_state(app, client, world):
    add_counterpart_line(app, world)
    opened = open_(client, world, acknowledged_incident(client, world))
    moved = move(client, world, opened["id"], "receipt_confirmed")
    body = {"state": "explanation_requested", "text": REQUEST, "version": opened["version"]}
    answer = api(client, world, "POST", f"/exchanges/{opened['id']}/transitions", body, status=409)
    assert answer["error"]["details"] == {"state": "receipt_confirmed", "version": moved["version"]}, answer
    body["version"] = moved["version"]
    drafted = api(client, world, "POST", f"/exchanges/{opened['id']}/transitions", body)
    assert drafted["state"] == "receipt_confirmed", "the request is a draft: the exchange moves when it is sent"
    assert release_drafts(client, world, opened["id"])[0]["pending_state"] == "explanation_requested"
    assert api(client, world, "GET", f"/exchanges/{opened['id']}")["state"] == "explanation_requested"


@pytest.mark.parametrize("who", ["duty", "outsider"])
def test_only_handlers_move_an_exchange_or_record_messages(app, client, world, who):
    add_counterpart_line(app, world)
    xid = open_(client, world, acknowledged_incident(client, world))["id"]
    move(client, world, xid, "receipt_confirmed", who=who, status=403)
    api(client, world, "POST", f"/exchanges/{xid}/messages", {"direction": "in", "text": "Hello."}, who=who, status=403)
    assert api(client, world, "GET", f"/exchanges/{xid}", who=who)["state"] == "notified", "reading is for everyone"


@pytest.mark.both_databases  # drafts released on versions; the timeline's order is SQL's
def test_free_messages_either_way_and_a_closed_exchange_sends_nothing_more(app, client, world):
    add_counterpart_line(app, world)
    reference = acknowledged_incident(client, world)
    xid = open_(client, world, reference, text=None)["id"]
    sent = api(
        client,
        world,
        "POST",
        f"/exchanges/{xid}/messages",
        {"direction": "out", "text": "Our duty officer is reachable on the line all night."},
        status=201,
    )
    got = api(
        client,
        world,
        "POST",
        f"/exchanges/{xid}/messages",
        {"direction": "in", "kind": "reply", "text": "Noted."},
        status=201,
    )
    assert [(sent["direction"], sent["kind"]), (got["direction"], got["kind"])] == [("out", "message"), ("in", "reply")]
    assert sent["channel"] == LINE and sent["recorded_by"] == "liaison" and sent["at"], sent
    assert sent["status"] == "draft", "ours goes out once a second person approved it"
    release_drafts(client, world, xid)
    bad = api(
        client,
        world,
        "POST",
        f"/exchanges/{xid}/messages",
        {"direction": "in", "kind": "Bad Kind!", "text": "x"},
        status=422,
    )
    assert "kind" in bad["error"]["details"], bad
    move(client, world, xid, "closed", "Nothing more to say.")
    refused = api(
        client, world, "POST", f"/exchanges/{xid}/messages", {"direction": "out", "text": "One more."}, status=409
    )
    assert refused["error"]["details"]["state"] == "closed", refused
    late = api(
        client, world, "POST", f"/exchanges/{xid}/messages", {"direction": "in", "text": "Late answer."}, status=201
    )
    assert late["direction"] == "in"
    kinds = [e["details"].get("kind") for e in timeline(client, world, reference) if e["kind"] == "exchange_message"]
    assert kinds == ["reply", "message", "message"], kinds  # ours on the timeline when sent


# -- the incident and the exchange ----------------------------------------------------------


@pytest.mark.both_databases  # the deadline and version read back unchanged; delivery claims
def test_an_incident_is_resolved_while_its_exchange_stays_open(app, client, world):
    add_counterpart_line(app, world)
    reference = acknowledged_incident(client, world)
    xid = open_(client, world, reference)["id"]
    requested = move(client, world, xid, "explanation_requested", REQUEST)
    api(client, world, "POST", f"/incidents/{reference}/resolve", {"resolution": "Handled on our side."})
    after = api(client, world, "GET", f"/exchanges/{xid}")
    assert (after["state"], after["deadline_at"], after["version"]) == (
        "explanation_requested",
        requested["deadline_at"],
        requested["version"],
    ), "resolving the incident touched its exchange"
    incident = api(client, world, "GET", f"/incidents/{reference}")
    assert incident["status"] == "resolved"
    queued = [n for n in incident["notifications"] if n["kind"] == "counterpart"]
    assert [n["status"] for n in queued] == ["pending", "pending"], "resolving cancelled messages to the other side"
    jobs.deliver(app)
    sent = [
        n for n in api(client, world, "GET", f"/incidents/{reference}")["notifications"] if n["kind"] == "counterpart"
    ]
    assert [n["status"] for n in sent] == ["sent", "sent"], sent
    assert (
        move(client, world, xid, "reply_received", "The aircraft was on a training flight.")["state"]
        == "reply_received"
    )


@pytest.mark.both_databases  # deadline order in SQL; the sweep's deadlines compared in SQL
def test_the_open_list_puts_overdue_first_then_the_nearest_deadline(app, client, world):
    add_counterpart_line(app, world)
    add_counterpart_line(app, world, "Second line", reply_deadline_seconds=60)
    references = [acknowledged_incident(client, world) for _ in range(3)]
    waiting = open_(client, world, references[0])["id"]
    far = open_(client, world, references[1])["id"]
    move(client, world, far, "explanation_requested", REQUEST)
    near = open_(client, world, references[1], line="Second line")["id"]
    move(client, world, near, "explanation_requested", REQUEST)
    late = open_(client, world, references[2])["id"]
    move(client, world, late, "explanation_requested", REQUEST)
    closed = open_(client, world, references[2], line="Second line")["id"]
    move(client, world, closed, "closed")
    with session_scope(app) as session:  # the other side let this one's deadline pass a minute ago
        session.get(Exchange, late).deadline_at = utcnow() - timedelta(minutes=1)
    jobs.sweep(app)
    board = api(client, world, "GET", "/exchanges?open=true", who="duty")
    assert [x["id"] for x in board] == [late, near, far, waiting], board
    assert [x["state"] for x in board] == ["overdue", "explanation_requested", "explanation_requested", "notified"]
    assert 0 < board[1]["seconds_left"] <= 60 < board[2]["seconds_left"], board
    assert [x["id"] for x in api(client, world, "GET", "/exchanges?open=false")] == [closed]
    assert len(api(client, world, "GET", "/exchanges")) == 5


def test_reading_an_unknown_exchange_is_404(client, world):
    answer = api(client, world, "GET", "/exchanges/9999", status=404)
    assert answer["error"]["code"] == "not_found"
    api(client, world, "GET", "/incidents/INC-1999-00001/exchanges", status=404)


# -- the line ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("language", "RU"),
        ("language", "russian"),
        ("language", "r"),
        ("language", "de"),  # a code, but no catalogue: no message or check could be written in it
        ("reply_deadline_seconds", 0),
        ("meeting_deadline_seconds", -5),
        ("reply_deadline_seconds", "48h"),
        ("counterpart_line", "perhaps"),
    ],
)
def test_a_counterpart_line_with_a_bad_deadline_or_language_is_refused(client, world, field, value):
    body = {
        "name": "Bad line",
        "level": 3,
        "transport": "outbox",
        "address": "bad@eastland.test",
        "counterpart_line": True,
        field: value,
    }
    answer = api(client, world, "POST", "/channels", body, who="admin", status=422)
    assert field in answer["error"]["details"], answer


@pytest.mark.both_databases  # the running deadline stored and read back
def test_a_line_changes_its_deadlines_without_moving_a_running_clock(app, client, world):
    add_counterpart_line(app, world)
    xid = open_(client, world, acknowledged_incident(client, world))["id"]
    before = move(client, world, xid, "explanation_requested", REQUEST)
    line = api(
        client,
        world,
        "PATCH",
        f"/channels/{world.channels[LINE]}",
        {"reply_deadline_seconds": 3600},
        who="admin",
    )
    assert line["reply_deadline_seconds"] == 3600, line
    after = api(client, world, "GET", f"/exchanges/{xid}")
    assert (after["reply_seconds"], after["deadline_at"]) == (172800, before["deadline_at"]), after


@pytest.mark.both_databases  # the sweep's deadlines compared in SQL
def test_the_engine_writes_nothing_for_an_exchange_without_a_clock(app, client, world):
    add_counterpart_line(app, world)
    open_(client, world, acknowledged_incident(client, world))
    jobs.sweep(app)
    with session_scope(app) as session:
        assert session.scalar(select(Exchange.overdue_count)) == 0
        assert len(session.scalars(select(ExchangeMessage)).all()) == 1
        assert not session.scalars(select(Notification).where(Notification.kind == "exchange_overdue")).all()


def text_sent_then_line_deactivated(app, client, world) -> tuple[int, str, dict, int]:
    """A text approved and sent over a new counterpart line, which an admin deactivates before delivery: the
    line's id, the incident's reference, the exchange and the text's id."""
    line = add_counterpart_line(app, world)
    reference = acknowledged_incident(client, world)
    exchange = open_(client, world, reference, text=None)
    path = f"/exchanges/{exchange['id']}/messages"
    drafted = api(client, world, "POST", path, {"direction": "out", "text": "We propose a call at 1200Z."}, status=201)
    send(client, world, approve(client, world, drafted["id"])["id"])
    api(client, world, "PATCH", f"/channels/{line}", {"active": False}, who="admin")
    return line, reference, exchange, drafted["id"]


@pytest.mark.both_databases  # delivery claims; the receipt sweep's deadlines compared in SQL
def test_a_text_queued_before_its_line_was_deactivated_waits_and_goes_once_it_is_active_again(app, client, world):
    """Sent (numbered, queued), then the line is deactivated before delivery: the text is not delivered to
    the address the admin took out of service, nor given up: it waits, and goes as approved once the line
    is active again."""
    line, reference, exchange, sent_id = text_sent_then_line_deactivated(app, client, world)

    def queued():
        with session_scope(app) as session:
            return session.execute(
                select(Notification.id, Notification.status).where(Notification.channel_id == line)
            ).all()

    jobs.deliver(app)
    [(notification_id, status)] = queued()
    assert status.value == "pending", f"held while the line is inactive, not sent or given up: {status}"
    with session_scope(app) as session:  # its receipt clock runs out meanwhile: the supervisors hear why
        assert receipts.sweep_batch(session, utcnow() + timedelta(days=3), 10, "test") == 1
        [told] = session.scalars(select(Notification.body).where(Notification.kind == NotificationKind.RECEIPT_OVERDUE))
    assert "Not delivered yet: an admin deactivated the line after the message was sent" in told, told
    api(client, world, "PATCH", f"/channels/{line}", {"active": True}, who="admin")
    jobs.deliver(app)
    assert [row.status.value for row in queued()] == ["sent"], queued()
    assert "We propose a call at 1200Z." in delivered_text(app, exchange["reference"], notification_id)


@pytest.mark.both_databases  # delivery claims; the receipt sweep's deadlines compared in SQL
def test_a_queued_text_the_incident_is_no_longer_releasable_for_never_goes(app, client, world):
    """Released while the incident was releasable, the text waits (its line deactivated, or a receiver that
    keeps failing); a supervisor then withdraws the release. Nothing goes to the other side that the
    incident's marking does not release: the waiting text is withheld, said on the timeline, and no receipt
    is awaited for it. The line active again, it still does not go."""
    line, reference, exchange, sent_id = text_sent_then_line_deactivated(app, client, world)
    jobs.deliver(app)

    marked = api(client, world, "PATCH", f"/incidents/{reference}/marking", {"releasable_to": []}, who="supervisor")
    assert "NOT RELEASABLE" in marked["marking"], marked
    api(client, world, "PATCH", f"/channels/{line}", {"active": True}, who="admin")
    jobs.deliver(app)

    with session_scope(app) as session:
        [row] = session.scalars(select(Notification).where(Notification.channel_id == line)).all()
        assert row.status.value == "cancelled", (row.status, row.last_error)
        assert "not releasable" in (row.last_error or ""), row.last_error
        message = session.get_one(ExchangeMessage, sent_id)
        assert message.receipt_due_at is None, "nothing went: no receipt is awaited"
        assert receipts.sweep_batch(session, utcnow() + timedelta(days=3), 10, "test") == 0
    detail = api(client, world, "GET", f"/incidents/{reference}", who="supervisor")
    [changed] = [e for e in detail["timeline"] if e["kind"] == "marking_changed"]
    assert changed["details"]["withheld"] == [
        {"message": sent_id, "channel": LINE, "serial_not_sent": serial_of(app, sent_id)}
    ], changed


@pytest.mark.both_databases  # delivery claims; releasability a JSON column
def test_a_queued_text_carrying_a_field_made_non_releasable_since_never_goes(app, client, world):
    """The narrative was releasable when the text quoting it was approved and sent; while it waits (its line
    deactivated), the narrative is marked not releasable: the text would carry it out, so it is withheld."""
    line = add_counterpart_line(app, world)
    reference = acknowledged_incident(client, world, releasability={"narrative": True})
    exchange = open_(client, world, reference, text=None)
    path = f"/exchanges/{exchange['id']}/messages"
    narrative = "Fighter closed to 30 m of our maritime patrol aircraft in international airspace."
    drafted = api(client, world, "POST", path, {"direction": "out", "text": f"Our report: {narrative}"}, status=201)
    send(client, world, approve(client, world, drafted["id"])["id"])
    api(client, world, "PATCH", f"/channels/{line}", {"active": False}, who="admin")

    api(client, world, "PATCH", f"/incidents/{reference}/releasability", {"narrative": False}, who="supervisor")
    api(client, world, "PATCH", f"/channels/{line}", {"active": True}, who="admin")
    jobs.deliver(app)

    with session_scope(app) as session:
        [row] = session.scalars(select(Notification).where(Notification.channel_id == line)).all()
        assert row.status.value == "cancelled" and "narrative" in (row.last_error or ""), (row.status, row.last_error)
    detail = api(client, world, "GET", f"/incidents/{reference}", who="supervisor")
    [changed] = [e for e in detail["timeline"] if e["kind"] == "releasability_changed"]
    assert changed["details"]["withheld"] == [
        {"message": drafted["id"], "channel": LINE, "serial_not_sent": serial_of(app, drafted["id"])}
    ], changed


def draft_out(client, world, exchange_id: int, text: str = "As said.") -> dict:
    """A free message of ours drafted on the exchange, as the liaison."""
    body = {"direction": "out", "text": text}
    return api(client, world, "POST", f"/exchanges/{exchange_id}/messages", body, status=201)


def serial_of(app, message_id: int) -> str:
    with session_scope(app) as session:
        message = session.get_one(ExchangeMessage, message_id)
        return f"{message.serial:04d}/{message.serial_year}"


def waiting_row(app, line: int) -> Notification:
    with session_scope(app) as session:
        [row] = session.scalars(select(Notification).where(Notification.channel_id == line)).all()
        session.expunge(row)
        return row


@pytest.mark.both_databases  # delivery claims; releasability a JSON column
def test_a_waiting_request_whose_format_carried_a_position_withdrawn_since_is_withheld_and_its_exchange_put_back(
    app, client, world
):
    """The request's text said nothing of the position, but the format wrote it in (Position: ...), releasable
    when it was sent: withdrawn while it waited, it still went. And a withheld request left the exchange asking
    for an explanation, its reply clock running, for a text the other side never had."""
    line = add_counterpart_line(app, world)
    reference = acknowledged_incident(client, world)
    exchange = open_(client, world, reference, text=None)
    asked = move(client, world, exchange["id"], "explanation_requested", "We request an explanation.")
    assert asked["state"] == "explanation_requested" and asked["deadline_kind"] == "reply", asked
    api(client, world, "PATCH", f"/channels/{line}", {"active": False}, who="admin")
    assert "Position" in (waiting_row(app, line).body or ""), "the format wrote the position in"
    [request] = [m for m in api(client, world, "GET", f"/exchanges/{exchange['id']}")["messages"] if m["serial"]]

    api(client, world, "PATCH", f"/incidents/{reference}/releasability", {"position": False}, who="supervisor")
    api(client, world, "PATCH", f"/channels/{line}", {"active": True}, who="admin")
    jobs.deliver(app)

    row = waiting_row(app, line)
    assert row.status.value == "cancelled" and "Position: " in (row.last_error or ""), (row.status, row.last_error)
    now = api(client, world, "GET", f"/exchanges/{exchange['id']}")
    assert (now["state"], now["deadline_kind"]) == (exchange["state"], exchange["deadline_kind"]), now
    detail = api(client, world, "GET", f"/incidents/{reference}", who="supervisor")
    [put_back] = [e for e in detail["timeline"] if e["kind"] == "exchange_changed"][-1:]
    assert put_back["details"]["to_state"] == exchange["state"] and "withheld" in put_back["details"]["note"], put_back
    sign_in(client, "liaison")
    page = client.get(f"/incidents/{reference}").get_data(as_text=True)
    serial = f"Serial {request['serial']:04d}/{request['serial_year']}"
    assert re.search(rf"{serial}.*withheld: never sent", page), page[page.find("exchanges") :][:3000]


def request_withheld_while_under_way(app, client, world) -> tuple[int, str, dict, dict, delivery.Claimed]:
    """A request for explanation claimed for sending (its try under way) when the position its format carries
    is withdrawn: the line's id, the incident's reference, the exchange before the request, the request as the
    API shows it and the claimed try."""
    line = add_counterpart_line(app, world)
    reference = acknowledged_incident(client, world)
    exchange = open_(client, world, reference, text=None)
    jobs.deliver(app)  # the desks' alerts out of the way: the request is the one row to claim
    move(client, world, exchange["id"], "explanation_requested", "We request an explanation.")
    [request] = [m for m in api(client, world, "GET", f"/exchanges/{exchange['id']}")["messages"] if m["serial"]]
    assert request["receipt_due_at"], request
    with session_scope(app) as session:
        [claimed] = delivery.claim_messages(session, utcnow(), 10, dispatch.retry_policy(app), dispatch.composer(app))
    assert "Position" in claimed.message.text, "the format wrote the position in"
    withdrawn = api(
        client, world, "PATCH", f"/incidents/{reference}/releasability", {"position": False}, who="supervisor"
    )
    assert waiting_row(app, line).status is NotificationStatus.SENDING, withdrawn
    return line, reference, exchange, request, claimed


def test_a_request_withheld_while_its_try_was_under_way_that_then_failed_puts_its_exchange_back(
    app, client, world, monkeypatch
):
    """The try failed, so the text never went, and it is never tried again: but the exchange stayed asking for an
    explanation, its reply clock running, and the receipt clock told the supervisors of a receipt overdue, for a
    text the other side never had (as a text withheld before any try does not)."""
    line, reference, exchange, request, claimed = request_withheld_while_under_way(app, client, world)

    def busy(app, transport, message):
        raise DeliveryError("503 try later", transient=True)

    monkeypatch.setattr(dispatch, "send", busy)
    jobs._send_all(app, [claimed], dispatch.retry_policy(app))

    row = waiting_row(app, line)
    assert row.status is NotificationStatus.CANCELLED and row.last_error.startswith("withheld ("), row.last_error
    now = api(client, world, "GET", f"/exchanges/{exchange['id']}")
    assert (now["state"], now["deadline_kind"]) == (exchange["state"], exchange["deadline_kind"]), now
    [after] = [m for m in now["messages"] if m["id"] == request["id"]]
    assert after["receipt_due_at"] is None, after
    sign_in(client, "liaison")
    page = client.get(f"/incidents/{reference}").get_data(as_text=True)
    serial = f"Serial {request['serial']:04d}/{request['serial_year']}"
    assert re.search(rf"{serial}.*withheld: never sent", page), page[page.find("exchanges") :][:3000]


@pytest.mark.both_databases  # the batch's claims checked again in SQL
def test_a_text_withheld_in_a_claimed_batch_before_its_try_began_is_not_sent(app, client, world, monkeypatch):
    """Claimed in a batch, not yet tried when the position was withdrawn: the batch's next look at its claims
    passed over exchange texts, and it went out as composed, with the withdrawn position."""
    line, reference, exchange, request, claimed = request_withheld_while_under_way(app, client, world)

    def never(app, transport, message):
        raise AssertionError(f"sent: {message.subject}")

    monkeypatch.setattr(dispatch, "send", never)
    jobs._send_all(app, [claimed], dispatch.retry_policy(app), claimed_at=time.monotonic() - 1)

    row = waiting_row(app, line)
    assert row.status is NotificationStatus.CANCELLED and row.last_error.startswith("withheld ("), row.last_error
    now = api(client, world, "GET", f"/exchanges/{exchange['id']}")
    assert (now["state"], now["deadline_kind"]) == (exchange["state"], exchange["deadline_kind"]), now
    assert [m["receipt_due_at"] for m in now["messages"] if m["id"] == request["id"]] == [None], now["messages"]


def test_a_long_batch_says_the_delivery_runs_as_it_sends(app, client, world, monkeypatch):
    """The delivery job said it ran once a batch, at its claim: a batch over a slow relay outlasted /health's
    stale limit, and health said a delivery process that was sending had stopped."""
    from tracker.models import JobRun

    file_incident(client, world)
    with session_scope(app) as session:
        claimed = delivery.claim_messages(session, utcnow(), 10, dispatch.retry_policy(app), dispatch.composer(app))
    assert claimed, "something to send"
    long_ago = utcnow() - timedelta(hours=1)
    with session_scope(app) as session:
        session.merge(JobRun(name="deliver", last_started_at=long_ago, last_finished_at=long_ago))
    monkeypatch.setattr(jobs, "BEAT_SECONDS", 0)
    jobs._send_all(app, claimed, dispatch.retry_policy(app))
    with session_scope(app) as session:
        assert session.get_one(JobRun, "deliver").last_finished_at > long_ago + timedelta(minutes=59)


@pytest.mark.both_databases  # delivery claims, taken over by a statement of its own
def test_a_withheld_text_whose_try_never_ended_is_given_up_as_one_that_may_have_reached_them(app, client, world):
    """Its scheduler stopped during the try: the row stayed "sending" for good (no try may follow a withholding),
    nobody was told, and nothing said whether the other side had the serial."""
    line, reference, exchange, request, _claimed = request_withheld_while_under_way(app, client, world)
    with session_scope(app) as session:  # the claim lapsed: its scheduler is gone
        session.execute(update(Notification).where(Notification.channel_id == line).values(claimed_until=utcnow()))
    jobs.deliver(app)
    jobs.deliver(app)  # given up once

    row = waiting_row(app, line)
    assert row.status is NotificationStatus.DEAD, (row.status, row.last_error)
    assert row.last_error.startswith("withheld (") and "it may have reached them" in row.last_error, row.last_error
    serial = f"{request['serial']:04d}/{request['serial_year']}"
    events = [e for e in timeline(client, world, reference) if e["kind"] == "dead_lettered"]
    assert [e["details"].get("serial_unknown") for e in events] == [serial], events
    assert "serial_not_sent" not in events[0]["details"], events
    # It may have gone: the exchange stands as its sending left it, and their receipt is still awaited.
    now = api(client, world, "GET", f"/exchanges/{exchange['id']}")
    assert now["state"] == "explanation_requested", now
    assert [m["receipt_due_at"] for m in now["messages"] if m["id"] == request["id"]] == [request["receipt_due_at"]]
    with session_scope(app) as session:
        told = session.scalars(select(Notification).where(Notification.kind == NotificationKind.DEAD_LETTER)).all()
        assert told and all(serial in (n.body or "") or reference in (n.body or "") for n in told), told
    sign_in(client, "liaison")
    page = client.get(f"/incidents/{reference}").get_data(as_text=True)
    assert f"whether serial {serial} reached them is not known" in page, page[page.find("imeline") :][:3000]
    assert not re.search(rf"Serial {serial}.*withheld: never sent", page), "it may have gone"


@pytest.mark.both_databases  # delivery claims
def test_a_waiting_text_does_not_go_under_a_classification_raised_since_it_was_sent(app, client, world):
    """Sent UNCLASSIFIED, the incident then classified RESTRICTED while the text waited: it left marked
    UNCLASSIFIED. The approval covered the old marking; the text is withheld."""
    line, reference, _exchange, sent_id = text_sent_then_line_deactivated(app, client, world)
    marking = {"classification": "RESTRICTED", "releasable_to": ["Eastland"]}
    api(client, world, "PATCH", f"/incidents/{reference}/marking", marking, who="supervisor")
    api(client, world, "PATCH", f"/channels/{line}", {"active": True}, who="admin")
    jobs.deliver(app)
    row = waiting_row(app, line)
    assert row.status.value == "cancelled", (row.status, row.last_error)
    assert "went out marked UNCLASSIFIED, and the incident is now RESTRICTED" in (row.last_error or ""), row.last_error


def test_a_request_for_explanation_written_as_a_message_moves_the_exchange_and_starts_its_clock(app, client, world):
    """A text of ours of the kind explanation_request tells the other side "we ask for your reply within 48
    hours, by ...": sent as a free message, it left the exchange notified with no clock, and nobody was
    told when that reply did not come. It carries the state as a transition's draft does."""
    add_counterpart_line(app, world)
    reference = acknowledged_incident(client, world)
    exchange = open_(client, world, reference)
    path = f"/exchanges/{exchange['id']}/messages"
    body = {"direction": "out", "kind": "explanation_request", "text": REQUEST}
    drafted = api(client, world, "POST", path, body, status=201)
    assert drafted["pending_state"] == "explanation_requested", drafted
    sent = send(client, world, approve(client, world, drafted["id"])["id"])
    assert sent["status"] == "sent", sent

    requested = api(client, world, "GET", f"/exchanges/{exchange['id']}")
    assert (requested["state"], requested["deadline_kind"]) == ("explanation_requested", "reply"), requested
    assert requested["deadline_at"], requested
    # Asked already, its clock running: a second request would state a deadline the exchange does not keep.
    again = api(client, world, "POST", path, body, status=409)
    assert again["error"]["details"]["allowed"] == ["reply_received", "refused", "no_answer"], again
    meeting = {"direction": "out", "kind": "meeting_request", "text": "We request a meeting within 48 hours."}
    api(client, world, "POST", path, meeting, status=409)


def test_receipt_confirmed_by_transition_records_how_as_said_and_never_by_voice_unsaid(app, client, world):
    add_counterpart_line(app, world)
    transitions = []
    for body in ({}, {"text": "Eastland: we have your notice."}, {"via": "voice"}):
        exchange = open_(client, world, acknowledged_incident(client, world))
        path = f"/exchanges/{exchange['id']}/transitions"
        moved = api(client, world, "POST", path, {"state": "receipt_confirmed", **body})
        notice = next(m for m in moved["messages"] if m["direction"] == "out")
        transitions.append(notice["receipt_via"])
    assert transitions == [None, "message", "voice"], "left out and with no text: not said, never voice"
    exchange = open_(client, world, acknowledged_incident(client, world))
    path = f"/exchanges/{exchange['id']}/transitions"
    refused = api(client, world, "POST", path, {"state": "receipt_confirmed", "via": "pigeon"}, status=422)
    assert "via" in refused["error"]["details"], refused
    refused = api(client, world, "POST", path, {"state": "closed", "via": "call"}, status=422)
    assert refused["error"]["details"]["via"] == ["for receipt_confirmed only"], refused


@pytest.mark.parametrize(
    "address",
    [
        "Ops <eastland@eastland.test>",
        "eastland@eastland.test,desk@ours.test",
        "desk@ours.test; duty@eastland.test",
        "(desk)eastland@eastland.test",
        "l3 desk",
        "дежурный",
    ],
)
def test_an_outbox_line_names_one_recipient_so_no_spelling_hides_the_other_sides_address(app, client, world, address):
    """A display name or a list of addresses hid the other side's mailbox from the check between the sides: an
    internal line "Ops <their hotline>" was saved, and its files, our alerts with their acknowledge links, were
    written to their hotline (or failed at every try). An outbox line names one recipient, as a file's To: line
    holds it: one e-mail address, or a label."""
    add_counterpart_line(app, world)  # eastland@eastland.test
    l3 = world.channels["L3"]
    refused = api(client, world, "PATCH", f"/channels/{l3}", {"address": address}, who="admin", status=422)
    assert "does not suit the outbox transport" in refused["error"]["message"], (address, refused)
    assert api(client, world, "GET", f"/channels/{l3}", who="admin")["address"] == "l3@test.example"
    theirs = {"name": "Their desk", "level": 3, "transport": "outbox", "address": address, "counterpart_line": True}
    api(client, world, "POST", "/channels", theirs, who="admin", status=422)


@pytest.mark.parametrize("address", ["Ops <eastland@eastland.test>", "l1@test.example,eastland@eastland.test"])
def test_an_internal_line_saved_before_at_a_spelling_of_their_address_carries_none_of_our_alerts(
    app, client, world, address
):
    """A line saved before lines named one recipient (or by hand) keeps its spelling: delivery reads every mailbox
    in it and refuses our alert over it, which its file would have taken to the other side's hotline."""
    add_counterpart_line(app, world)  # eastland@eastland.test
    with session_scope(app) as session:
        session.get(ContactChannel, world.channels["L1"]).address = address
    reference = file_incident(client, world)["reference"]
    jobs.deliver(app)
    with session_scope(app) as session:
        rows = session.scalars(select(Notification).where(Notification.channel_id == world.channels["L1"])).all()
        outcome = [(row.status, row.last_error) for row in rows]
    assert outcome and all(status is NotificationStatus.DEAD for status, _ in outcome), outcome
    assert all("its address goes where a counterpart line goes" in error for _, error in outcome), outcome
    written = [p.name for p in outbox_files(app) if reference in p.name and "eastland@" in p.read_text()]
    assert not written, written


@pytest.mark.parametrize("kind", ["check", "receipt", "summary"])
def test_a_kind_of_ours_with_its_own_making_is_no_free_message_to_them_but_theirs_is_recorded(app, client, world, kind):
    """A free message of kind check went out as a LINE CHECK carrying a receipt link, one of kind summary as a
    SUMMARY OF INCIDENT with none of a summary's checks: each is made where its checks are."""
    add_counterpart_line(app, world)
    reference = acknowledged_incident(client, world)
    path = f"/exchanges/{open_(client, world, reference, text=None)['id']}/messages"
    refused = api(client, world, "POST", path, {"direction": "out", "kind": kind, "text": "As agreed."}, status=422)
    assert "is not written as a message" in refused["error"]["message"], refused
    assert api(client, world, "POST", path, {"direction": "in", "kind": kind, "text": "Принято."}, status=201)


@pytest.mark.parametrize(
    ("withdrawn", "withheld"), [("precedence", True), ("category", True), ("reporting_unit", False)]
)
def test_a_waiting_text_is_withheld_when_a_field_released_at_its_sending_is_withdrawn_and_only_then(
    app, client, world, withdrawn, withheld
):
    """The format writes the precedence prosign, the category and the time, which no search of the text can tell
    from ordinary words: withdrawn while the text waited, it went out with them. Releasing more, or withdrawing a
    field never released, changes nothing the text was approved on."""
    line = add_counterpart_line(app, world)
    reference = acknowledged_incident(client, world, releasability={"precedence": True})
    exchange = open_(client, world, reference, text=None)
    drafted = draft_out(client, world, exchange["id"])
    send(client, world, approve(client, world, drafted["id"])["id"])
    api(client, world, "PATCH", f"/channels/{line}", {"active": False}, who="admin")
    change = {withdrawn: False, "border_distance_km": True}
    api(client, world, "PATCH", f"/incidents/{reference}/releasability", change, who="supervisor")
    api(client, world, "PATCH", f"/channels/{line}", {"active": True}, who="admin")
    jobs.deliver(app)
    row = waiting_row(app, line)
    assert (row.status.value == "cancelled") is withheld, (row.status, row.last_error)


def test_a_free_message_of_a_kind_made_elsewhere_drafted_before_is_not_sent(app, client, world):
    """Drafts of kind check, receipt or summary made before such messages were refused could still be approved and
    sent, under the formal subject and without the checks of their own making."""
    add_counterpart_line(app, world)
    reference = acknowledged_incident(client, world)
    exchange = open_(client, world, reference, text=None)
    drafted = draft_out(client, world, exchange["id"])
    with session_scope(app) as session:
        session.get_one(ExchangeMessage, drafted["id"]).kind = "check"
    approved = approve(client, world, drafted["id"])
    refused = send(client, world, approved["id"], status=422)
    assert "is not written as a message" in refused["error"]["message"], refused


def test_no_user_without_a_mailbox_is_named_as_a_counterpart_lines_label(app, client, world):
    """A supervisor with no e-mail address is sent to by name: one named as a counterpart line's label (cpdesk) was
    created without a word, and was then never told anything (their messages would have gone to the other side)."""
    add_counterpart_line(app, world, "CP label", address="cpdesk")
    admin = app.test_client()
    sign_in(admin, "admin")
    token = CSRF_TOKEN.search(admin.get("/admin/users/new").text)[1]
    form = {"csrf_token": token, "username": "cpdesk", "role": "supervisor", "password": "long-enough-1", "email": ""}
    refused = admin.post("/admin/users/new", data=form)
    assert refused.status_code == 422 and "CP label" in refused.text, refused.text[:2000]
    with session_scope(app) as session:
        assert session.scalar(select(User).where(User.username == "cpdesk")) is None


def test_no_answer_is_refused_and_the_state_says_so_while_the_notice_waits_to_be_sent(app, client, world):
    """The exchange read "notified" with its notice a draft, and a supervisor marked it "no answer": the other side
    was counted as not answering what it never had, in the reports and the annual review."""
    add_counterpart_line(app, world)
    reference = acknowledged_incident(client, world)
    exchange = open_(client, world, reference, release=False)  # its notice waits for a second person
    refused = api(
        client,
        world,
        "POST",
        f"/exchanges/{exchange['id']}/transitions",
        {"state": "no_answer"},
        who="supervisor",
        status=409,
    )
    assert "they have nothing to answer" in refused["error"]["message"], refused
    sign_in(client, "supervisor")
    page = client.get(f"/incidents/{reference}").get_data(as_text=True)
    assert 'data-state="notified">opened, notice not sent yet</span>' in page, page[page.find("exchange-state") :][:500]
    assert 'value="no_answer"' not in page, "not offered"
    release_drafts(client, world, exchange["id"])
    api(client, world, "POST", f"/exchanges/{exchange['id']}/transitions", {"state": "no_answer"}, who="supervisor")


def test_a_second_request_of_a_kind_waits_for_the_first_to_be_sent(app, client, world):
    """Two requests for an explanation drafted one after the other both waited in the approvers' queue, each to ask
    the other side the same with a deadline of its own."""
    add_counterpart_line(app, world)
    exchange = open_(client, world, acknowledged_incident(client, world))
    path = f"/exchanges/{exchange['id']}/transitions"
    api(client, world, "POST", path, {"state": "explanation_requested", "text": REQUEST})
    again = api(client, world, "POST", path, {"state": "explanation_requested", "text": REQUEST}, status=409)
    assert "drafted already and waits to be sent: edit that one" in again["error"]["message"], again
    free = {"direction": "out", "kind": "explanation_request", "text": REQUEST}
    api(client, world, "POST", f"/exchanges/{exchange['id']}/messages", free, status=409)


def test_a_request_made_by_phone_can_be_marked_unanswered(app, client, world):
    """Asked by phone (a call moved the exchange, nothing sent in writing), they did not answer: "no answer" was
    refused as if they had nothing to answer, and the exchange read "opened, notice not sent yet"."""
    add_counterpart_line(app, world)
    reference = acknowledged_incident(client, world)
    exchange = open_(client, world, reference, text=None)
    call = {"direction": "we_called", "exchange_id": exchange["id"], "moves_to": "explanation_requested"}
    api(client, world, "POST", f"/incidents/{reference}/calls", call, status=201)
    marked = api(
        client, world, "POST", f"/exchanges/{exchange['id']}/transitions", {"state": "no_answer"}, who="supervisor"
    )
    assert marked["state"] == "no_answer", marked
