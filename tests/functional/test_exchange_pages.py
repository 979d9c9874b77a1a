"""The exchange panel of the incident page, the board's open exchanges and the counterpart fields of
the channel form, through the Flask test client (every form with its CSRF token)."""

import html
import re
from collections.abc import Callable
from datetime import timedelta

import pytest

from tests.exchange_support import (
    LINE,
    NOTICE,
    REQUEST,
    acknowledged_incident,
    add_counterpart_line,
    api,
    approve,
    drafts,
    move,
    send,
)
from tests.exchange_support import open_exchange as open_via_api
from tests.support import csrf, incident_payload, sign_in
from tracker import jobs
from tracker.db import session_scope
from tracker.models import Exchange, ExchangeMessage
from tracker.timeutil import format_dtg, isoformat, utcnow

FLASH = re.compile(r'<p class="flash ([a-z]*)" role="status">([^<]*)</p>')


def flashes(page) -> list[tuple[str, str]]:
    return [(kind, html.unescape(text)) for kind, text in FLASH.findall(page.text)]


def panel(page) -> str:
    """The exchange panel of an incident page, unescaped."""
    match = re.search(r'<section class="card exchanges" id="exchanges".*?</section>', page.text, re.DOTALL)
    assert match, f"no exchange panel on the page: {page.text[:3000]}"
    return html.unescape(match[0])


def act(client, reference: str, path: str, data: dict, prefix: str = "", *, at: str | Callable[[], str]):
    """POST a form of the incident page with its CSRF token; follow to the page and return it. The answer goes to
    the page at what was acted on (at: its id on the page, or a function that finds it once done), where the
    keyboard's focus lands (static/app.js)."""
    token = csrf(client, f"/incidents/{reference}")
    answer = client.post(path, data={f"{prefix}csrf_token": token, **data})
    assert answer.status_code == 302, f"{path}: {answer.status_code} {answer.text[:1000]}"
    place = at() if callable(at) else at
    assert answer.headers["Location"] == f"/incidents/{reference}#{place}", f"not at {place}"
    return client.get(f"/incidents/{reference}")


def heading(exchange_id: int) -> str:
    """The id of an exchange's heading on the panel (its line and state): where a move or an opening lands."""
    return f"exchange-{exchange_id}-heading"


def opened(client, world, reference: str) -> Callable[[], str]:
    """Where opening the incident's one exchange lands: its heading."""
    return lambda: heading(api(client, world, "GET", f"/incidents/{reference}/exchanges")[0]["id"])


def newest_message(client, world, exchange_id: int) -> Callable[[], str]:
    """Where a text drafted or a message recorded lands: its row, the exchange's newest message."""
    return lambda: f"message-{api(client, world, 'GET', f'/exchanges/{exchange_id}')['messages'][-1]['id']}"


def transition(
    client,
    reference: str,
    exchange_id: int,
    state: str,
    text: str = "",
    version: int | None = None,
    confirm=False,
    at: str | Callable[[], str] | None = None,
):
    """Move the exchange with the panel's buttons; it lands at the exchange's heading (at: elsewhere)."""
    p = f"exchange-{exchange_id}-"
    data = {f"{p}state": state, f"{p}text": text, **({"confirm": "yes"} if confirm else {})}
    data[f"{p}version"] = str(version if version is not None else exchange_version(client, exchange_id))
    path = f"/exchanges/{exchange_id}/transition"
    return act(client, reference, path, data, prefix=p, at=at or heading(exchange_id))


def approve_and_send(app, client, reference: str, message_id: int):
    """Four eyes on the pages: the supervisor approves the draft, the signed-in liaison sends it."""
    supervisor = app.test_client()
    sign_in(supervisor, "supervisor")
    prefix = f"draft-{message_id}-approve-"
    token = csrf(supervisor, f"/incidents/{reference}")
    with session_scope(app) as session:  # the version of the wording the approver read, as the form sends it
        version = str(session.get_one(ExchangeMessage, message_id).version)
    answer = supervisor.post(
        f"/exchange-messages/{message_id}/approve", data={f"{prefix}csrf_token": token, f"{prefix}version": version}
    )
    assert answer.status_code == 302, answer.text[:500]
    assert answer.headers["Location"] == f"/incidents/{reference}#message-{message_id}", "at the message approved"
    assert ("success", "Text approved: it may be sent now.") in flashes(supervisor.get(f"/incidents/{reference}"))
    with session_scope(app) as session:  # the version of the approved text the sender read
        version = str(session.get_one(ExchangeMessage, message_id).version)
    send = f"draft-{message_id}-send-"
    path = f"/exchange-messages/{message_id}/send"
    page = act(client, reference, path, {f"{send}version": version}, prefix=send, at=f"message-{message_id}")
    assert ("success", "Text queued for the other side.") in flashes(page), flashes(page)
    return page


@pytest.fixture
def incident(app, client, world) -> str:
    """An acknowledged incident, a line to the other side, and a liaison signed in."""
    add_counterpart_line(app, world)
    reference = acknowledged_incident(client, world)
    sign_in(client, "liaison")
    return reference


def test_a_liaison_opens_an_exchange_and_walks_it_through_the_panel(app, client, world, incident):
    page = client.get(f"/incidents/{incident}")
    assert "Open an exchange" in panel(page) and f">{LINE} · Eastland Ministry of Defence</option>" in panel(page)
    assert ">L1<" not in panel(page), "only lines to the other side are offered"

    opening = {"open-exchange-channel_id": world.channels[LINE], "open-exchange-text": NOTICE}
    page = act(
        client,
        incident,
        f"/incidents/{incident}/exchanges",
        opening,
        prefix="open-exchange-",
        at=opened(client, world, incident),
    )
    assert ("success", "Exchange opened. The notice is a draft: a second person must approve it.") in flashes(page)
    shown = panel(page)
    assert 'data-state="notified"' in shown and NOTICE in shown and "to them" in shown, shown
    assert "draft: waiting for approval" in shown and "You wrote this text" in shown
    [exchange] = api(client, world, "GET", f"/incidents/{incident}/exchanges")
    approve_and_send(app, client, incident, exchange["messages"][0]["id"])
    exchange = api(client, world, "GET", f"/exchanges/{exchange['id']}")

    drafted = newest_message(client, world, exchange["id"])  # the request waits for approval: at its text
    page = transition(
        client, incident, exchange["id"], "explanation_requested", REQUEST, exchange["version"], at=drafted
    )
    assert any("Text drafted for “explanation requested”" in text for _, text in flashes(page)), flashes(page)
    assert 'data-state="notified"' in panel(page), "the exchange moves when the request is sent"
    request = api(client, world, "GET", f"/exchanges/{exchange['id']}")["messages"][-1]
    page = approve_and_send(app, client, incident, request["id"])
    shown = panel(page)
    assert 'data-state="explanation_requested"' in shown and REQUEST in shown
    assert re.search(
        r'Their reply is due <span class="clock-at"><time class="countdown" data-deadline="[^"]+Z"', shown
    ), shown
    assert "Record reply" in shown and "Mark no answer" in shown and "Request explanation" not in shown

    page = transition(client, incident, exchange["id"], "reply_received", "It was a training flight that strayed.")
    p = f"exchange-{exchange['id']}-"
    closing = {f"{p}csrf_token": csrf(client, f"/incidents/{incident}"), f"{p}state": "closed"}
    closing[f"{p}version"] = str(exchange_version(client, exchange["id"]))
    asked = client.post(
        f"/exchanges/{exchange['id']}/transition", data={**closing, f"{p}text": "Explanation accepted."}
    )
    assert "Close the exchange over" in asked.text and 'value="Explanation accepted."' in asked.text, asked.text[:3000]
    cancel = f'<a class="button" href="/incidents/{incident}#{heading(exchange["id"])}" data-cancel>Cancel</a>'
    assert cancel in asked.text, "Cancel goes back to the exchange, not to the panel's top"
    assert api(client, world, "GET", f"/exchanges/{exchange['id']}")["state"] == "reply_received", "asked first"
    page = transition(client, incident, exchange["id"], "closed", "Explanation accepted.", confirm=True)
    shown = panel(page)
    assert 'data-state="closed"' in shown and "Explanation accepted." in shown and "Close exchange" not in shown
    assert "from them" in shown and "It was a training flight that strayed." in shown
    timeline = html.unescape(page.text)
    assert "explanation requested → reply received" in timeline and "reply received → closed" in timeline


def exchange_version(client, exchange_id: int) -> int:
    """The exchange's version as the panel's form carries it (read from the database)."""
    with session_scope(client.application) as session:
        return session.get_one(Exchange, exchange_id).version


def refused(client, reference: str, path: str, data: dict, prefix: str):
    """POST a form of the incident page that is refused: the page again (422) with the form as posted (a move
    of the exchange with its version as the panel drew it, unless data says another)."""
    if path.endswith("/transition") and f"{prefix}version" not in data:
        data = {f"{prefix}version": str(exchange_version(client, int(path.split("/")[2]))), **data}
    answer = client.post(path, data={f"{prefix}csrf_token": csrf(client, f"/incidents/{reference}"), **data})
    assert answer.status_code == 422, f"{path}: {answer.status_code} {answer.text[:1000]}"
    return answer


def test_the_panel_says_why_a_step_was_refused(app, client, world, incident):
    xid = open_via_api(client, world, incident)["id"]
    p, path = f"exchange-{xid}-", f"/exchanges/{xid}/transition"
    page = refused(client, incident, path, {f"{p}state": "explanation_requested", f"{p}text": ""}, p)
    assert any(kind == "error" and "needs the text" in text for kind, text in flashes(page)), flashes(page)
    assert f'id="{p}text-error"' in page.text, "beside the text it needs"
    page = refused(client, incident, path, {f"{p}state": "meeting_held", f"{p}text": "Met at 1400Z."}, p)
    assert any("cannot become meeting_held" in text for _, text in flashes(page)), flashes(page)
    assert "Met at 1400Z.</textarea>" in page.text, "the text typed is kept"
    assert re.search(r'<p class="error" role="alert">[^<]*cannot become meeting_held', page.text), "above the form"
    page = refused(client, incident, path, {f"{p}state": "overdue"}, p)
    assert any("only the engine marks an exchange overdue" in text for _, text in flashes(page)), flashes(page)
    stale = refused(client, incident, path, {f"{p}state": "receipt_confirmed", f"{p}version": "999"}, p)
    assert any("changed since you read it" in text for _, text in flashes(stale)), flashes(stale)
    # Without a version (an altered or cut-short form) it moved the exchange whatever had moved it since.
    unversioned = refused(client, incident, path, {f"{p}state": "receipt_confirmed", f"{p}version": ""}, p)
    assert any("without the exchange's version" in text for _, text in flashes(unversioned)), flashes(unversioned)
    assert api(client, world, "GET", f"/exchanges/{xid}")["state"] == "notified"


def test_a_notice_refused_for_its_text_says_so_once_beside_it_not_that_a_line_is_missing(app, client, world, incident):
    p = "open-exchange-"
    typed = "Request for explanation\x1b[0m of the flight at 1405Z."
    data = {f"{p}channel_id": world.channels[LINE], f"{p}text": typed}
    page = refused(client, incident, f"/incidents/{incident}/exchanges", data, p)
    [(kind, said)] = flashes(page)
    assert kind == "error" and "Notice to the other side" in said and "control characters" in said, said
    assert "counterpart line" not in said, "the line was chosen: the notice is what is wrong"
    beside = re.search(rf'<small class="error" id="{p}text-error">([^<]*)</small>', page.text)
    assert beside and beside[1].count("control characters") == 1 and "counterpart line" not in beside[1], beside
    assert f"{typed}</textarea>" in html.unescape(page.text), "the notice typed is kept"
    assert api(client, world, "GET", f"/incidents/{incident}/exchanges") == [], "nothing opened"


def test_a_reworded_draft_refused_comes_back_as_typed_with_the_problem_beside_it(app, client, world, incident):
    xid = open_via_api(client, world, incident, release=False)["id"]
    [draft] = drafts(client, world, xid)
    p = f"draft-{draft['id']}-edit-"
    typed = "We request an explanation\x07 of the flight of 27 November."
    data = {f"{p}text": typed, f"{p}version": str(draft["version"])}
    page = refused(client, incident, f"/exchange-messages/{draft['id']}/edit", data, p)
    assert re.search(rf'<small class="error" id="{p}text-error">[^<]*control characters', page.text), page.text[-3000:]
    assert f"{typed}</textarea>" in html.unescape(page.text), "the wording typed is kept"
    assert '<details class="draft-edit" open>' in page.text, "the fold holding it is open"
    assert any(kind == "error" for kind, _ in flashes(page)), flashes(page)
    assert drafts(client, world, xid)[0]["text"] == draft["text"], "nothing saved"


def test_a_message_or_receipt_refused_for_its_time_keeps_what_was_typed_beside_the_problem(
    app, client, world, incident
):
    xid = open_via_api(client, world, incident)["id"]
    p = f"exchange-{xid}-message-"
    said = "Their duty officer: the aircraft was on a scheduled training sortie."
    data = {f"{p}direction": "in", f"{p}kind": "reply", f"{p}text": said, f"{p}received_at": "yesterday afternoon"}
    page = refused(client, incident, f"/exchanges/{xid}/messages", data, p)
    assert f'id="{p}received_at-error"' in page.text and f"{said}</textarea>" in html.unescape(page.text)
    assert re.search(r'<details class="exchange-message-form" open>', page.text), "the fold stays open"
    assert 'value="yesterday afternoon"' in page.text
    assert api(client, world, "GET", f"/exchanges/{xid}")["messages"][-1]["text"] != said, "nothing recorded"
    # A problem of the kind is said of the kind: "a message needs its text and a direction: ..." was said of all.
    data = {f"{p}direction": "in", f"{p}kind": "re\x00ply", f"{p}text": said}
    page = refused(client, incident, f"/exchanges/{xid}/messages", data, p)
    assert any(kind == "error" and "Kind: " in text and "direction" not in text for kind, text in flashes(page)), (
        flashes(page)
    )


def test_a_message_is_recorded_through_the_panel(app, client, world, incident):
    xid = open_via_api(client, world, incident, text=None)["id"]
    p = f"exchange-{xid}-message-"
    data = {f"{p}direction": "in", f"{p}kind": "reply", f"{p}text": "Eastland calls back at 1600Z."}
    page = act(client, incident, f"/exchanges/{xid}/messages", data, prefix=p, at=newest_message(client, world, xid))
    assert ("success", "Message from the other side recorded.") in flashes(page)
    assert "Eastland calls back at 1600Z." in panel(page)
    [message] = api(client, world, "GET", f"/exchanges/{xid}")["messages"]
    assert (message["direction"], message["kind"], message["recorded_by"]) == ("in", "reply", "liaison")


def test_record_a_message_offers_its_kinds_and_reads_one_typed_as_words(app, client, world, incident):
    """The kind was free text checked against a rule the page did not show: "Meeting notes" was refused, and a kind
    that moves the exchange had to be known by heart."""
    xid = open_via_api(client, world, incident, text=None)["id"]
    offered = re.search(
        rf'<datalist id="message-kinds-{xid}">(.*?)</datalist>', client.get(f"/incidents/{incident}").text
    )
    assert offered, "no list of kinds beside the field"
    kinds = dict(re.findall(r'<option value="([a-z_]+)">([^<]*)</option>', offered[1]))
    assert kinds["reply"] == "from them: reply received" and kinds["explanation_request"].startswith("to them: "), kinds
    assert kinds["message"] == "either way: moves nothing", kinds
    p = f"exchange-{xid}-message-"
    data = {f"{p}direction": "in", f"{p}kind": " Meeting  notes ", f"{p}text": "Minutes of the 1400Z meeting."}
    act(client, incident, f"/exchanges/{xid}/messages", data, prefix=p, at=newest_message(client, world, xid))
    [message] = api(client, world, "GET", f"/exchanges/{xid}")["messages"]
    assert message["kind"] == "meeting_notes", message


def test_a_form_without_its_csrf_token_changes_nothing(app, client, world, incident):
    xid = open_via_api(client, world, incident)["id"]
    answer = client.post(f"/exchanges/{xid}/transition", data={f"exchange-{xid}-state": "receipt_confirmed"})
    assert answer.status_code == 400
    answer = client.post(f"/incidents/{incident}/exchanges", data={"open-exchange-channel_id": world.channels[LINE]})
    assert answer.status_code == 400
    assert [x["state"] for x in api(client, world, "GET", f"/incidents/{incident}/exchanges")] == ["notified"]


def test_a_duty_officer_sees_the_exchange_but_no_forms_and_may_not_post(app, client, world, incident):
    xid = open_via_api(client, world, incident)["id"]
    duty = app.test_client()
    sign_in(duty, "duty")
    shown = panel(duty.get(f"/incidents/{incident}"))
    assert NOTICE in shown and "<form" not in shown, shown
    token = csrf(duty, f"/incidents/{incident}")
    p = f"exchange-{xid}-"
    answer = duty.post(f"/exchanges/{xid}/transition", data={f"{p}csrf_token": token, f"{p}state": "closed"})
    assert answer.status_code == 403


def test_no_exchange_before_our_acknowledgement(app, client, world):
    add_counterpart_line(app, world)
    reference = api(client, world, "POST", "/incidents", incident_payload(), who="duty", status=201)["reference"]
    sign_in(client, "liaison")
    shown = panel(client.get(f"/incidents/{reference}"))
    assert "once our own line has acknowledged" in shown and "Open an exchange" not in shown, shown


def test_the_board_lists_open_exchanges_with_their_clocks_overdue_highlighted(app, client, world, incident):
    waiting = open_via_api(client, world, incident)["id"]
    late = open_via_api(client, world, acknowledged_incident(client, world))["id"]
    move(client, world, late, "explanation_requested", REQUEST)  # approved by a second person and sent
    timed = open_via_api(client, world, acknowledged_incident(client, world))["id"]
    move(client, world, timed, "explanation_requested", REQUEST)
    with session_scope(app) as session:
        session.get(Exchange, late).deadline_at = utcnow() - timedelta(seconds=1)
    jobs.sweep(app)

    board = client.get("/board")
    rows = re.findall(r'<tr class="([^"]*)" data-reference="[^"]+" data-exchange="(\d+)">(.*?)</tr>', board.text, re.S)
    assert [int(x) for _, x, _ in rows] == [late, timed, waiting], rows
    assert "overdue" in rows[0][0] and "OVERDUE" in rows[0][2], rows[0]
    assert 'class="countdown"' in rows[1][2] and "Reply due" in rows[1][2], rows[1]
    assert "notified" in rows[2][2] and "Reply due" not in rows[2][2] and "Meeting due" not in rows[2][2], rows[2]
    assert re.search(r'receipt due <span class="clock-at"><time class="countdown"', rows[2][2]), (
        "only the receipt's clock"
    )
    refreshed = client.get("/board/exchanges/rows", headers={"X-Requested-With": "fetch"})
    assert refreshed.status_code == 200 and f'data-exchange="{late}"' in refreshed.text
    assert 'data-refresh="/board/exchanges/rows"' in board.text


def test_an_admin_makes_a_counterpart_line_through_the_channel_form(app, world):
    admin = app.test_client()
    sign_in(admin, "admin")
    form = {
        "name": "Eastland mission",
        "level": "3",
        "counterpart": "Eastland MoD",
        "transport": "outbox",
        "address": "mission@eastland.test",
        "active": "y",
        "check_window_seconds": "900",
        "counterpart_line": "y",
        "reply_deadline_seconds": "7200",
        "meeting_deadline_seconds": "",
        "language": "RU",
    }
    refused = admin.post("/admin/channels/new", data={"csrf_token": csrf(admin, "/admin/channels/new"), **form})
    assert refused.status_code == 422 and "2 or 3 lower-case letters" in refused.text, refused.text[:2000]

    created = admin.post(
        "/admin/channels/new", data={"csrf_token": csrf(admin, "/admin/channels/new"), **form, "language": "ru"}
    )
    assert created.status_code == 302, created.text[:2000]
    line = next(c for c in api(admin, world, "GET", "/channels", who="admin") if c["name"] == "Eastland mission")
    assert (line["counterpart_line"], line["reply_deadline_seconds"], line["meeting_deadline_seconds"]) == (
        True,
        7200,
        172800,
    ), line
    assert line["language"] == "ru"
    listing = html.unescape(admin.get("/admin/channels").text)
    assert "line to the other side · ru · reply 2 h · meeting 2 d" in listing

    edit = f"/admin/channels/{line['id']}/edit"
    page = admin.get(edit).text
    assert 'name="counterpart_line" type="checkbox" value="y"' in page and 'value="7200"' in page
    saved = admin.post(edit, data={"csrf_token": csrf(admin, edit), **form, "language": "", "counterpart_line": ""})
    assert saved.status_code == 302, saved.text[:2000]
    line = api(admin, world, "GET", f"/channels/{line['id']}", who="admin")
    assert (line["counterpart_line"], line["language"], line["reply_deadline_seconds"]) == (False, None, 7200), line


def test_the_printed_record_says_which_of_our_texts_were_sent_and_which_were_not(app, client, world):
    add_counterpart_line(app, world)
    reference = acknowledged_incident(client, world)
    exchange = open_via_api(client, world, reference, release=False)  # its notice is a draft
    sign_in(client, "supervisor", "supervisor-password")

    def way() -> list[str]:
        printed = client.get(f"/incidents/{reference}/print").text
        return re.findall(r'<td data-label="Way">([^<]*)</td>', printed)

    assert way() == ["draft, not sent"]
    [draft] = drafts(client, world, exchange["id"])
    approve(client, world, draft["id"])
    assert way() == ["approved, not sent"]
    send(client, world, draft["id"])
    assert way() == ["sent"]


def test_the_printed_record_says_what_went_to_them_under_which_serial_who_approved_it_and_their_receipt(
    app, client, world
):
    add_counterpart_line(app, world)
    reference = acknowledged_incident(client, world)
    exchange = open_via_api(client, world, reference)  # drafted by liaison, approved by supervisor, sent
    [notice] = exchange["messages"]
    at = utcnow()  # after the send, not in the future
    receipt = {"at": isoformat(at), "by": "Major Petrov", "via": "voice"}
    api(client, world, "POST", f"/exchanges/{exchange['id']}/messages/{notice['id']}/receipt", receipt)
    with session_scope(app) as session:
        theirs = session.get_one(Exchange, exchange["id"]).reference
    sign_in(client, "supervisor", "supervisor-password")
    printed = html.unescape(client.get(f"/incidents/{reference}/print").text)
    section = printed[printed.index("Exchanges with the other side") :]
    assert theirs and f"Their reference <bdi>{theirs}</bdi>" in section, "the reference the other side knows it by"
    assert "in English and Russian" in section, "the languages it went out in"
    assert f"serial {notice['serial']:04d}/{notice['serial_year']}" in section, section[:3000]
    assert "approved by <bdi>supervisor</bdi>" in section and "drafted by <bdi>liaison</bdi>" in section, section[:3000]
    said = (
        f"receipt confirmed by <bdi>Major Petrov</bdi> (by voice on the line) at {at:%Y-%m-%d %H:%M:%S}Z · "
        f"{format_dtg(at)}"
    )
    assert said in section, section[:3000]
    body = {"direction": "they_called", "exchange_id": exchange["id"]}
    api(client, world, "POST", f"/incidents/{reference}/calls", body, status=201)  # on the line's language
    printed = html.unescape(client.get(f"/incidents/{reference}/print").text)
    assert "language: Russian" in printed and "language: ru<" not in printed, "the language in words, not its code"


def test_a_receipt_for_a_draft_is_refused_for_what_the_message_is_not_for_its_time(app, client, world):
    """A draft's time is no sending time: a receipt logged for it said "before the message was sent"."""
    add_counterpart_line(app, world)
    reference = acknowledged_incident(client, world)
    exchange = open_via_api(client, world, reference, release=False)  # its notice is a draft
    [draft] = drafts(client, world, exchange["id"])
    for at in (utcnow() - timedelta(days=1), utcnow()):
        receipt = {"at": isoformat(at), "by": "Major Petrov", "via": "voice"}
        path = f"/exchanges/{exchange['id']}/messages/{draft['id']}/receipt"
        refused = api(client, world, "POST", path, receipt, status=409)
        assert refused["error"]["message"] == "only a message of ours that was sent can have its receipt confirmed"


def test_a_receipt_refused_for_its_time_keeps_who_confirmed_it(app, client, world, incident):
    exchange = open_via_api(client, world, incident)
    [notice] = [m for m in api(client, world, "GET", f"/exchanges/{exchange['id']}")["messages"] if m["serial"]]
    p = f"receipt-{notice['id']}-"
    data = {f"{p}at": "soon after noon", f"{p}by": "Maj Petrov, their duty officer", f"{p}via": "call"}
    page = refused(client, incident, f"/exchanges/{exchange['id']}/messages/{notice['id']}/receipt", data, p)
    assert f'id="{p}at-error"' in page.text and 'value="Maj Petrov, their duty officer"' in page.text, page.text[-4000:]
    assert '<details class="receipt-form" open>' in page.text
    assert api(client, world, "GET", f"/exchanges/{exchange['id']}")["messages"][0]["receipt_at"] is None


@pytest.mark.parametrize("version", ["²", "x", ""])
def test_an_approval_form_back_with_no_version_approves_nothing_and_fails_no_page(
    app, client, world, incident, version
):
    """A superscript digit passes str.isdigit() but not int(): such an altered form is refused as one
    without a version (the wording read is not named: nothing approved), never a 500."""
    opening = {"open-exchange-channel_id": world.channels[LINE], "open-exchange-text": NOTICE}
    act(
        client,
        incident,
        f"/incidents/{incident}/exchanges",
        opening,
        "open-exchange-",
        at=opened(client, world, incident),
    )
    [exchange] = api(client, world, "GET", f"/incidents/{incident}/exchanges")
    message_id = exchange["messages"][0]["id"]
    supervisor = app.test_client()
    sign_in(supervisor, "supervisor")
    prefix = f"draft-{message_id}-approve-"
    token = csrf(supervisor, f"/incidents/{incident}")
    answer = supervisor.post(
        f"/exchange-messages/{message_id}/approve", data={f"{prefix}csrf_token": token, f"{prefix}version": version}
    )
    assert answer.status_code in (302, 409, 422), answer.text[:500]
    assert api(client, world, "GET", f"/exchanges/{exchange['id']}")["messages"][0]["status"] == "draft"


def test_the_exchange_s_times_on_the_panel_and_the_board_carry_their_dtg(app, client, world, incident):
    xid = open_via_api(client, world, incident)["id"]
    with session_scope(app) as session:
        exchange = session.get_one(Exchange, xid)
        opened, changed = exchange.opened_at, exchange.state_changed_at
    shown = panel(client.get(f"/incidents/{incident}"))
    opened_line = shown.split("Opened ")[1].split("·")[0]
    assert format_dtg(opened) in opened_line, f"the opening time has no DTG beside it: {opened_line}"
    board = client.get("/board").text
    row = re.search(rf'data-exchange="{xid}">(.*?)</tr>', board, re.S)[1]
    since = row.split("since ")[1].split("</small>")[0]
    assert format_dtg(changed) in since, f"the board's 'since' has no DTG beside it: {since}"


def test_record_receipt_confirmed_records_how_they_confirmed_never_by_voice_unsaid(app, client, world, incident):
    """ "Record receipt confirmed" on the panel with no text recorded their receipt as given by voice, which
    nobody had said: it records how as chosen, else that how was not said."""
    xid = open_via_api(client, world, incident)["id"]
    shown = panel(client.get(f"/incidents/{incident}"))
    assert "How they confirmed receipt" in shown, shown
    page = transition(client, incident, xid, "receipt_confirmed")
    [notice] = api(client, world, "GET", f"/exchanges/{xid}")["messages"]
    assert (notice["receipt_via"], notice["receipt_by"]) == (None, "Eastland Ministry of Defence"), notice
    assert "by <bdi>Eastland Ministry of Defence</bdi> (how not said)" in panel(page)

    other = acknowledged_incident(client, world)
    second = open_via_api(client, world, other)["id"]
    p = f"exchange-{second}-"
    data = {f"{p}state": "receipt_confirmed", f"{p}via": "call", f"{p}version": str(exchange_version(client, second))}
    act(client, other, f"/exchanges/{second}/transition", data, p, at=heading(second))
    [notice] = api(client, world, "GET", f"/exchanges/{second}")["messages"]
    assert notice["receipt_via"] == "call", notice


def test_emptying_the_translation_on_the_panel_removes_it(app, client, world, incident):
    """The panel's reword form kept the old translation when its field was emptied (an empty field read as
    "unchanged"): a translation could be replaced but never taken away."""
    xid = open_via_api(client, world, incident, release=False)["id"]
    [notice] = drafts(client, world, xid)
    body = {"text_second": "Уведомляем о небезопасном перехвате.", "version": notice["version"]}
    translated = api(client, world, "PATCH", f"/exchange-messages/{notice['id']}", body)
    p = f"draft-{notice['id']}-edit-"
    data = {f"{p}text": translated["text"], f"{p}text_second": "", f"{p}version": str(translated["version"])}
    page = act(
        client, incident, f"/exchange-messages/{notice['id']}/edit", data, prefix=p, at=f"message-{notice['id']}"
    )
    said = "Text saved as a draft without its translation: a second person must approve it."
    assert ("success", said) in flashes(page), flashes(page)
    [notice] = drafts(client, world, xid)
    assert (notice["text_second"], notice["status"]) == (None, "draft"), notice
    assert "message translation removed" in page.text, "on the timeline"


def test_finding_an_exchange_shows_our_references_as_they_read_not_a_pattern_or_another_desks(app, client, world):
    """The board's field and its refusals gave "NM-2026-0007" whatever the deployment's prefix and the year, and an
    unknown reference was told "our references read PREFIX-YEAR-NNNN", a placeholder no desk officer reads."""
    app.config["EXCHANGE_REFERENCE_PREFIX"] = "WX"
    example = f"WX-{utcnow().year}-0007"
    sign_in(client, "duty")
    assert f'placeholder="{example}"' in client.get("/board").text
    unknown = html.unescape(client.get("/exchanges/find", query_string={"reference": "XX-1999-0001"}).text)
    assert f"our references read like {example}" in unknown and "PREFIX" not in unknown, unknown
    blank = html.unescape(client.get("/exchanges/find", query_string={"reference": " "}).text)
    assert f"such as {example}" in blank and "NM-" not in blank, blank
    # Typed with Arabic-Indic digits or a right-to-left override, it was told to give a reference, as if empty.
    for typed, named in (("WX-٢٠٢٦-0007", "U+0662 ARABIC-INDIC DIGIT TWO at character 4"),
                         ("\u202eWX-2026-0007", "U+202E RIGHT-TO-LEFT OVERRIDE at character 1")):  # fmt: skip
        said = html.unescape(client.get("/exchanges/find", query_string={"reference": typed}).text)
        assert f"The reference typed holds {named}: ours are written in ASCII" in said, said[:3000]


def test_a_reference_not_found_comes_back_in_the_search_with_why_beside_it(client, world):
    """A typo in "Find the exchange" led to a 404 page with no field: the reference had to be typed again on the
    board. It comes back in the search, as typed, with why beside it."""
    sign_in(client, "duty")
    page = client.get("/exchanges/find", query_string={"reference": "NM-2026-9999"})
    assert page.status_code == 404
    form = re.search(r'<form class="find-exchange".*?</form>', page.text, re.S)
    assert form, page.text[:800]
    assert 'value="NM-2026-9999"' in form[0] and 'aria-invalid="true"' in form[0], form[0]
    assert 'aria-describedby="find-reference-error"' in form[0] and 'id="find-reference-error"' in form[0]
    assert "No exchange is known by &#39;NM-2026-9999&#39;" in form[0], form[0]
