"""The call log's pages through the Flask test client (each form with its CSRF token): a call started
and ended on the page with back-timed DTGs and an action due at a DTG, what the page refuses, who may
open it, and the exchange panel's received-at field for a message from the other side."""

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.exchange_support import LINE, acknowledged_incident, add_counterpart_line
from tests.exchange_support import open_exchange as open_via_api
from tests.support import CSRF_TOKEN, count, csrf, sign_in
from tracker.db import session_scope
from tracker.models import AgreedAction, Call, CallDirection, ExchangeMessage, Notification
from tracker.timeutil import format_dtg, utcnow

FLASH = re.compile(r'<p class="flash ([a-z]*)" role="status">([^<]*)</p>')


def flashes(page) -> list[tuple[str, str]]:
    return [(kind, html.unescape(text)) for kind, text in FLASH.findall(page.text)]


@pytest.fixture
def scene(app, client, world):
    add_counterpart_line(app, world)
    api_client = app.test_client()
    reference = acknowledged_incident(api_client, world)
    exchange = open_via_api(api_client, world, reference)
    return reference, exchange


def call_form(client, path: str) -> dict:
    """The call form's hidden fields as its page drew them: the CSRF token and the call's version."""
    page = client.get(path).text
    version = re.search(r'name="version" type="hidden" value="(\d+)"', page)
    assert version, f"no version on the call form: {page[:2000]}"
    return {"csrf_token": CSRF_TOKEN.search(page)[1], "version": version[1]}


def start(client, reference: str, exchange: dict, **fields):
    path = f"/incidents/{reference}/calls/new?exchange={exchange['id']}"
    data = {"csrf_token": csrf(client, path), "channel_id": str(exchange["channel_id"]), "direction": "they_called"}
    return client.post(f"/incidents/{reference}/calls/new", data={**data, "exchange_id": str(exchange["id"]), **fields})


def test_a_back_timed_call_is_started_and_ended_on_the_page(app, client, scene):
    reference, exchange = scene
    sign_in(client, "liaison")
    queued = count(app, Notification)
    began = (utcnow() - timedelta(minutes=40)).replace(second=0, microsecond=0)
    answer = start(client, reference, exchange, started_at=format_dtg(began))
    assert answer.status_code == 302, answer.text[:500]
    with session_scope(app) as session:
        call_id = session.scalar(select(Call.id))
    path = f"/calls/{call_id}"
    # At the call's heading, which says it is in progress (static/app.js puts the focus there; what they said next).
    assert answer.headers["Location"] == f"{path}#call-{call_id}", answer.headers["Location"]
    due = (utcnow() + timedelta(hours=6)).replace(second=0, microsecond=0)
    data = {
        **call_form(client, path),
        "they_said": "They confirm receipt of our notice.",
        "ended_at": format_dtg(began + timedelta(minutes=12)),
        "actions-0-text": "Send the radar track",
        "actions-0-party": "us",
        "actions-0-due_at": format_dtg(due),
        "moves_to": "receipt_confirmed",
        "end": "1",
    }
    saved = client.post(path, data=data)
    assert saved.status_code == 302
    assert ("success", "Call ended: on record.") in flashes(client.get(path))
    with session_scope(app) as session:
        call = session.scalar(select(Call))
        assert saved.headers["Location"] == f"{path}#action-{call.actions[0].id}", "at the action agreed"
        assert (call.direction, call.started_at, call.ended_at) == (
            CallDirection.THEY_CALLED,
            began,
            began + timedelta(minutes=12),
        )
        assert [(a.text, a.due_at) for a in call.actions] == [("Send the radar track", due)]
        assert call.moved_to is not None and call.exchange.state.value == "receipt_confirmed"
    assert count(app, Notification) == queued, "the page sent something"


def test_an_action_without_a_due_time_or_a_bad_time_saves_nothing(app, client, scene):
    reference, exchange = scene
    sign_in(client, "liaison")
    path = start(client, reference, exchange).headers["Location"]
    token = call_form(client, path)
    said = "They deny any aircraft was in the area; they will check the radar record."
    answer = client.post(path, data={**token, "they_said": said, "actions-0-text": "Call back"})
    assert answer.status_code == 422 and 'id="actions-0-due_at-error"' in answer.text, answer.text[:3000]
    assert said in html.unescape(answer.text) and 'value="Call back"' in answer.text, "what was typed is kept"
    typed = {**token, "they_said": said, "ended_at": "tomorrow"}
    typed.update({"actions-0-text": "", "actions-0-due_at": ""})  # a browser posts every row shown
    typed.update({"actions-1-text": "Send the track", "actions-1-party": "us", "actions-1-due_at": "tomorrow noon"})
    answer = client.post(path, data=typed)
    assert answer.status_code == 422, answer.text[:3000]
    assert 'id="ended_at-error"' in answer.text and 'id="actions-1-due_at-error"' not in answer.text, "the first"
    assert 'value="tomorrow"' in answer.text and said in html.unescape(answer.text)
    answer = client.post(path, data={**typed, "ended_at": ""})
    assert answer.status_code == 422 and 'id="actions-1-due_at-error"' in answer.text, answer.text[:3000]
    assert 'value="tomorrow noon"' in answer.text and 'value="Send the track"' in answer.text
    with session_scope(app) as session:
        assert session.scalar(select(Call.they_said)) == "" and session.scalar(select(AgreedAction.id)) is None


def test_an_action_row_numbered_in_other_than_ascii_digits_is_no_row_and_fails_no_page(app, client, scene):
    """A field named "actions-²-text": str.isdigit() takes "²", int() refused it (a 500). It is no row."""
    reference, exchange = scene
    sign_in(client, "liaison")
    path = start(client, reference, exchange).headers["Location"]
    said = "They confirm receipt."
    answer = client.post(path, data={**call_form(client, path), "they_said": said, "actions-²-text": "Call"})
    assert answer.status_code == 302, answer.text[:3000]
    with session_scope(app) as session:
        assert session.scalar(select(Call.they_said)) == said and session.scalar(select(AgreedAction.id)) is None


def test_a_second_tap_on_call_started_starts_no_second_call(app, client, scene):
    reference, exchange = scene
    sign_in(client, "liaison")
    path = f"/incidents/{reference}/calls/new?exchange={exchange['id']}"
    page = client.get(path)
    key = re.search(r'name="call_key" type="hidden" value="([^"]+)"', page.text)[1]
    data = {"csrf_token": csrf(client, path), "channel_id": str(exchange["channel_id"]), "direction": "we_called"}
    first = client.post(f"/incidents/{reference}/calls/new", data={**data, "call_key": key})
    second = client.post(f"/incidents/{reference}/calls/new", data={**data, "call_key": key})
    assert first.headers["Location"] == second.headers["Location"]
    assert count(app, Call) == 1


def test_a_call_refused_for_its_time_comes_back_as_chosen_with_the_problem_beside_it(app, client, scene):
    reference, exchange = scene
    sign_in(client, "liaison")
    path = f"/incidents/{reference}/calls/new?exchange={exchange['id']}"
    key = re.search(r'name="call_key" type="hidden" value="([^"]+)"', client.get(path).text)[1]
    answer = start(client, reference, exchange, started_at="yesterday at noon", call_key=key)
    assert answer.status_code == 422, answer.status_code
    assert re.search(r'<small class="error" id="started_at-error">[^<]*date-time group', answer.text), answer.text
    assert 'value="yesterday at noon"' in answer.text, "the time typed is kept"
    assert '<option selected value="they_called">' in answer.text, "who called is kept"
    assert '<details class="back-time" open>' in answer.text, "the fold holding the problem is open"
    assert flashes(answer) == [("error", "No call was started: correct what is marked below.")], (
        "the problem beside the field is not said again above, twice over and in field codes"
    )
    assert count(app, Call) == 0
    kept = re.search(r'name="call_key" type="hidden" value="([^"]+)"', answer.text)[1]
    began = format_dtg((utcnow() - timedelta(minutes=10)).replace(second=0, microsecond=0))
    assert start(client, reference, exchange, started_at=began, call_key=kept).status_code == 302
    assert start(client, reference, exchange, started_at=began, call_key=kept).status_code == 302
    assert count(app, Call) == 1, "the form as it came back still starts one call, however often sent"


def test_only_those_who_may_talk_to_the_other_side_open_the_call_page(client, scene):
    reference, exchange = scene
    sign_in(client, "outsider")
    assert client.get(f"/incidents/{reference}/calls/new").status_code == 403
    duty = client.application.test_client()
    sign_in(duty, "duty")
    assert duty.get(f"/incidents/{reference}/calls/new").status_code == 403
    assert "Log a call" not in duty.get(f"/incidents/{reference}").text


def test_a_message_from_the_other_side_takes_the_time_typed_on_the_panel(app, client, scene):
    reference, exchange = scene
    sign_in(client, "liaison")
    received = (utcnow() - timedelta(hours=2)).replace(second=0, microsecond=0)
    prefix = f"exchange-{exchange['id']}-message-"
    data = {
        "csrf_token": csrf(client, f"/incidents/{reference}"),
        f"{prefix}direction": "in",
        f"{prefix}kind": "message",
        f"{prefix}text": "Eastland MoD confirms receipt.",
        f"{prefix}received_at": format_dtg(received),
    }
    assert client.post(f"/exchanges/{exchange['id']}/messages", data=data).status_code == 302
    with session_scope(app) as session:
        message = session.scalar(
            select(ExchangeMessage).where(ExchangeMessage.text == "Eastland MoD confirms receipt.")
        )
        assert message.at == received and message.recorded_at > received + timedelta(hours=1)


@pytest.mark.parametrize("exchange_id", ["99999999999999999999", "a" * 5000, "²", " "])
def test_an_exchange_id_no_exchange_can_have_fails_no_page(app, client, scene, exchange_id):
    """A query's or a form's exchange id beyond 32 bits (SQLite cannot even compare it), or not a number:
    the call page opens, the call starts as one naming no exchange, and the form's way back never carries
    the value (a 5,000-character Location header)."""
    reference, exchange = scene
    sign_in(client, "liaison")
    assert client.get(f"/incidents/{reference}/calls/new?exchange={exchange_id}").status_code == 200
    back = start(client, reference, exchange, exchange_id=exchange_id, channel_id="")  # refused: no line chosen
    assert back.status_code == 422 and 'id="channel_id-error"' in back.text, back.status_code
    started = start(client, reference, exchange, exchange_id=exchange_id)
    assert started.status_code == 302, started.text[:1000]
    with session_scope(app) as session:  # on the line's open exchange, as a call with no exchange named
        assert session.scalars(select(Call.exchange_id)).all() == [exchange["id"]]


def test_a_calls_language_on_the_page_is_a_language_code_as_at_the_api(app, client, scene):
    """The page kept "English" as a call's language where the API refuses it (found in review)."""
    reference, exchange = scene
    sign_in(client, "liaison")
    path = start(client, reference, exchange).headers["Location"]
    answer = client.post(path, data={**call_form(client, path), "language": "English"})
    assert answer.status_code == 422 and 'id="language-error"' in answer.text, answer.text[-2000:]
    assert client.post(path, data={**call_form(client, path), "language": "en-GB"}).status_code == 302
    with session_scope(app) as session:
        assert session.scalar(select(Call.language)) == "en-GB"


def test_a_request_made_on_a_call_reads_by_call_not_approved_on_the_pages(app, client, scene):
    reference, exchange = scene
    sign_in(client, "liaison")
    path = start(client, reference, exchange).headers["Location"]
    form = client.get(path).text
    assert "meeting requested" not in form, "not allowed from notified"
    assert "explanation requested (said on the call: recorded as by call, not approved)" in html.unescape(form), (
        "the choice says how it will stand on record"
    )
    data = {
        **call_form(client, path),
        "we_said": "We request an explanation.",
        "moves_to": "explanation_requested",
    }
    assert client.post(path, data={**data, "end": "1"}).status_code == 302
    call_page = html.unescape(client.get(path).text)
    assert "explanation requested, by call, not approved" in call_page, call_page[:4000]
    incident_page = html.unescape(client.get(f"/incidents/{reference}").text)
    assert "exchange → explanation requested, by call, not approved" in incident_page, "the call list"
    assert re.search(
        r"notified → explanation requested, .*by call \d+, <strong[^>]*>not approved</strong>", incident_page
    ), "the timeline"
    assert re.search(
        r'data-state="explanation_requested">[^<]*</span> <small class="by-call unapproved">'
        r"by call \d+, not approved</small>",
        incident_page,
    ), "the exchange's state"
    printed = html.unescape(client.get(f"/incidents/{reference}/print").text)
    assert "exchange → explanation requested, by call, not approved" in printed, "the print page"


def test_call_ended_stands_right_under_what_was_said_within_a_phones_reach(app, client, scene):
    """On a phone the big "Call ended" sat under three rows of agreed actions, the people and the times:
    some 2,500 px below what the officer types while the call goes on."""
    reference, exchange = scene
    sign_in(client, "liaison")
    page = client.get(start(client, reference, exchange).headers["Location"]).text
    ended, said = page.find('name="end"'), page.find('id="we_said"')
    assert ended != -1 and page.count('name="end"') == 1, "one Call ended button"
    assert said < ended < page.find('id="our_speaker"') and ended < page.find('id="actions-0-text"'), (
        "Call ended comes right after what we said, before who spoke and the agreed actions"
    )


def test_each_done_button_names_the_action_it_marks_done(app, client, scene):
    """Two agreed actions, two Done buttons: a screen reader or voice control tells them apart by the action."""
    reference, exchange = scene
    sign_in(client, "liaison")
    path = start(client, reference, exchange).headers["Location"]
    due = format_dtg((utcnow() + timedelta(hours=6)).replace(second=0, microsecond=0))
    data = {**call_form(client, path), "they_said": "They will send the track."}
    for n, (text, party) in enumerate((("Send the radar track", "us"), ("Send the flight data", "them"))):
        data.update({f"actions-{n}-text": text, f"actions-{n}-party": party, f"actions-{n}-due_at": due})
    assert client.post(path, data=data).status_code == 302
    page = client.get(path).text
    names = re.findall(r'<button type="submit" class="small">(Done.*?)</button>', page)
    assert [re.sub(r"<[^>]+>", "", name) for name in names] == [
        "Done: Send the radar track",
        "Done: Send the flight data",
    ]


def test_the_exchange_panels_log_a_call_links_say_which_exchange_each_is_for(client, scene):
    reference, exchange = scene
    sign_in(client, "liaison")
    page = client.get(f"/incidents/{reference}").text
    links = re.findall(r'<a class="button log-call" href="([^"]+)">(.*?)</a>', page)
    named = {html.unescape(href): re.sub(r"<[^>]+>", "", text) for href, text in links}
    assert named == {
        f"/incidents/{reference}/calls/new?exchange={exchange['id']}": f"Log a call on the exchange over {LINE}",
        f"/incidents/{reference}/calls/new": "Log a call on no exchange",
    }


def test_an_ended_calls_end_is_offered_to_correct_not_said_to_be_stamped_by_a_button_gone(client, scene):
    """Once ended, the call's page still said "Empty: “Call ended” stamps the time now." under an end "only when
    logging it later": the button is gone, and the field corrects the end on record."""
    reference, exchange = scene
    sign_in(client, "liaison")
    path = start(client, reference, exchange).headers["Location"]
    assert "stamps the time now" in client.get(path).text, "in progress: the button stamps the end"
    ended = client.post(path, data={**call_form(client, path), "they_said": "Received.", "end": "1"})
    assert ended.status_code == 302, ended.text[:500]
    assert ended.headers["Location"] == path, "at the call's heading, which now says it ended"
    page = html.unescape(client.get(path).text)
    assert "Call ended</button>" not in page and "stamps the time now" not in page, page[page.find("back-time") :][:800]
    assert "Ended at (to correct it;" in page


def test_a_call_a_message_from_them_and_a_receipt_take_a_short_zulu_time_as_the_filing_form_does(app, client, scene):
    """2335Z (today's, or yesterday's when it is still to come) and 062335Z (the latest such day) are taken where
    a time past is typed on the exchange's pages, as on the filing form and the watch log, with the same hint."""
    reference, exchange = scene
    sign_in(client, "liaison")
    began = (utcnow() - timedelta(minutes=40)).replace(second=0, microsecond=0)
    ended = began + timedelta(minutes=12)
    answer = start(client, reference, exchange, started_at=f"{began:%H%M}Z")
    assert answer.status_code == 302, answer.text[-3000:]
    path = answer.headers["Location"]
    page = html.unescape(client.get(path).text)
    assert "Started at (to correct it; UTC: 0027Z, 060027Z, a DTG such as 271405ZNOV26 or ISO 8601)" in page, page
    data = {**call_form(client, path), "ended_at": f"{ended:%d%H%M}Z", "end": "1"}
    assert client.post(path, data=data).status_code == 302
    with session_scope(app) as session:
        call = session.scalar(select(Call))
        assert (call.started_at, call.ended_at) == (began, ended)
        [notice] = [m for m in call.exchange.messages if m.serial]
        notice.at = began  # sent before the receipt below, logged at a minute of this hour
        notice_id = notice.id
    incident_page = html.unescape(client.get(f"/incidents/{reference}").text)
    hint = "UTC: 0027Z, 060027Z, a DTG such as 271405ZNOV26 or ISO 8601"
    assert f"Received at (from them; {hint}; empty: now)" in incident_page, incident_page
    assert f"Received at ({hint})" in incident_page, incident_page
    received = utcnow().replace(second=0, microsecond=0)
    p = f"exchange-{exchange['id']}-message-"
    data = {f"{p}direction": "in", f"{p}kind": "reply", f"{p}text": "Received.", f"{p}received_at": f"{received:%H%M}Z"}
    token = csrf(client, f"/incidents/{reference}")
    recorded = client.post(f"/exchanges/{exchange['id']}/messages", data={f"{p}csrf_token": token, **data})
    assert recorded.status_code == 302, html.unescape(recorded.text)[-3000:]
    p = f"receipt-{notice_id}-"
    data = {f"{p}at": f"{ended:%H%M}Z", f"{p}by": "Maj Petrov", f"{p}via": "call", f"{p}csrf_token": token}
    answer = client.post(f"/exchanges/{exchange['id']}/messages/{notice_id}/receipt", data=data)
    assert answer.status_code == 302, html.unescape(answer.text)[-3000:]
    assert answer.headers["Location"] == f"/incidents/{reference}#message-{notice_id}", "at the message received"
    with session_scope(app) as session:
        theirs = session.scalar(select(ExchangeMessage).where(ExchangeMessage.text == "Received."))
        assert theirs is not None and theirs.at == received, theirs and theirs.at
        assert recorded.headers["Location"] == f"/incidents/{reference}#message-{theirs.id}", "at their message"
        assert session.get_one(ExchangeMessage, notice_id).receipt_at == ended


def test_their_speaker_reads_rank_and_name_as_said_and_the_post_after_a_comma(app, client, scene):
    """ "Lt Col Orlov, duty officer" on the calls list, the call's page and the print; never "Lt Col, Orlov"."""
    reference, exchange = scene
    sign_in(client, "liaison")
    path = start(client, reference, exchange).headers["Location"]
    speaker = {"their_rank": "Lt Col", "their_name": "Orlov", "their_post": "duty officer, Eastland MoD"}
    data = {**call_form(client, path), **speaker, "end": "1"}
    assert client.post(path, data=data).status_code == 302
    said = "<bdi>Lt Col</bdi> <bdi>Orlov</bdi>, <bdi>duty officer, Eastland MoD</bdi>"
    listed = html.unescape(client.get(f"/incidents/{reference}").text)
    assert said in listed and "Lt Col</bdi>, <bdi>Orlov" not in listed, listed
    onlooker = app.test_client()  # the call on record, as one who may not change it reads it
    sign_in(onlooker, "duty")
    on_record = html.unescape(onlooker.get(path).text)
    assert f"theirs: {said}" in on_record, on_record
    sign_in(client, "supervisor", "supervisor-password")
    printed = html.unescape(client.get(f"/incidents/{reference}/print").text)
    assert f"theirs: {said}" in printed, printed[printed.find("Who spoke") :][:2000]


def test_the_call_pages_lead_back_to_the_call_or_its_exchange_on_the_incident_page(app, client, scene):
    """Back from a call's page lands on that call in the incident's list, and from Log a call on the exchange it was
    logged on, not at the top of the panel, where a long exchange with several calls left the officer scrolling."""
    reference, exchange = scene
    sign_in(client, "liaison")
    back = re.compile(r'<p class="crumbs"><a href="([^"]+)">')
    new = client.get(f"/incidents/{reference}/calls/new?exchange={exchange['id']}").text
    assert back.search(new)[1] == f"/incidents/{reference}#exchange-{exchange['id']}-heading", back.search(new)
    assert back.search(client.get(f"/incidents/{reference}/calls/new").text)[1] == f"/incidents/{reference}#exchanges"
    assert start(client, reference, exchange).status_code == 302
    with session_scope(app) as session:
        call_id = session.scalar(select(Call.id))
    assert back.search(client.get(f"/calls/{call_id}").text)[1] == f"/incidents/{reference}#call-{call_id}"
    incident_page = client.get(f"/incidents/{reference}").text
    for anchor in (f"call-{call_id}", f"exchange-{exchange['id']}-heading", "exchanges"):
        assert f'id="{anchor}"' in incident_page, anchor


def test_an_actions_due_time_typed_without_its_date_is_the_first_such_moment_from_the_calls_start(app, client, scene):
    """ "1800Z" typed for an action of a call logged later is the 18:00 after the call started, as the API reads it."""
    reference, exchange = scene
    sign_in(client, "liaison")
    began = (utcnow() - timedelta(hours=3)).replace(second=0, microsecond=0)
    due = began + timedelta(hours=5)
    assert start(client, reference, exchange, started_at=format_dtg(began)).status_code == 302
    with session_scope(app) as session:
        path = f"/calls/{session.scalar(select(Call.id))}"
    data = {**call_form(client, path), "actions-0-text": "Send the radar track", "actions-0-party": "us"}
    saved = client.post(path, data={**data, "actions-0-due_at": f"{due:%H%M}Z"})
    assert saved.status_code == 302, saved.text[:500]
    with session_scope(app) as session:
        assert session.scalars(select(AgreedAction.due_at)).all() == [due]


def test_the_log_a_call_buttons_say_which_exchange_each_is_for_to_the_eye_too(client, scene):
    """Two buttons read "Log a call" alone, one above the other: what told them apart was for screen readers only."""
    reference, _ = scene
    sign_in(client, "liaison")
    page = client.get(f"/incidents/{reference}").text
    links = re.findall(r'<a class="button log-call" href="[^"]+">(.*?)</a>', page)
    assert len(links) == 2 and not [text for text in links if "sr-only" in text], links


def test_a_call_form_cut_short_keeps_what_is_on_record_and_one_without_its_version_saves_nothing(app, client, scene):
    """A form that came back without a field emptied it ("Call saved.", what they said gone); one without the call's
    version wrote over a colleague's save made since it was drawn."""
    reference, exchange = scene
    sign_in(client, "liaison")
    path = start(client, reference, exchange).headers["Location"]
    said = {"they_said": "They confirm receipt.", "we_said": "We asked for the track.", "their_name": "Orlov"}
    assert client.post(path, data={**call_form(client, path), **said}).status_code == 302
    hidden = call_form(client, path)
    assert client.post(path, data={**hidden, "we_said": "We asked for the track at 1400Z."}).status_code == 302
    with session_scope(app) as session:
        call = session.scalar(select(Call))
        assert (call.they_said, call.we_said, call.their_name) == (
            "They confirm receipt.",
            "We asked for the track at 1400Z.",
            "Orlov",
        ), "what the form did not carry stays as it was"
        version = call.version
    unversioned = client.post(path, data={"csrf_token": hidden["csrf_token"], "they_said": "Overwritten."})
    refusal = html.unescape(unversioned.text)
    assert unversioned.status_code == 422 and "without the call's version" in refusal, refusal[:2000]
    with session_scope(app) as session:
        call = session.scalar(select(Call))
        assert (call.they_said, call.version) == ("They confirm receipt.", version), "nothing saved"
