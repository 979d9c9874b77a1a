"""Acceptance 5 of issue 13, four eyes: a text to the other side is drafted by one person and approved
by a second one with the right to approve, never its drafter (403 with the reason); the approval is on
the timeline with who and when; a change of the incident's facts after approval makes the send answer
409 and the text needs approving again. For a free text, a request for explanation and a summary,
through the API and the pages, with a real outbox behind the line."""

import html
import re

import pytest
from sqlalchemy import select

from tests.exchange_support import (
    NOTICE,
    REQUEST,
    acknowledged_incident,
    add_counterpart_line,
    api,
    approve,
    drafts,
    send,
)
from tests.exchange_support import open_exchange as open_via_api
from tests.statements import recorded
from tests.support import csrf, sign_in
from tracker.db import session_scope
from tracker.models import Exchange, ExchangeMessage, Incident, Notification, NotificationKind, Precedence, User
from tracker.services.accounts import people
from tracker.services.exchanges import counterpart
from tracker.services.exchanges import summaries as summary_service
from tracker.services.exchanges.four_eyes import DRAFTER_REFUSED, STALE
from tracker.services.review import audit

# The facts digest must survive a round trip through either engine (JSON, floats, times): both run it.
pytestmark = pytest.mark.both_databases

FREE_TEXT = "Northmark liaison: the aircraft concerned left the area at 0930Z. We propose a call at 1200Z."


@pytest.fixture
def exchange(app, client, world) -> dict:
    """An acknowledged incident and an exchange over a counterpart line, opened without a notice."""
    add_counterpart_line(app, world)
    reference = acknowledged_incident(client, world)
    return open_via_api(client, world, reference, text=None)


def counterpart_rows(app) -> list[Notification]:
    """What was queued for the other side."""
    with session_scope(app) as session:
        rows = session.scalars(select(Notification).where(Notification.kind == NotificationKind.COUNTERPART))
        return list(rows)


def draft_free_text(client, world, exchange_id: int, who: str = "liaison") -> dict:
    body = {"direction": "out", "kind": "message", "text": FREE_TEXT}
    return api(client, world, "POST", f"/exchanges/{exchange_id}/messages", body, who=who, status=201)


def timeline(client, world, reference: str) -> list[dict]:
    return api(client, world, "GET", f"/incidents/{reference}")["timeline"]


def set_precedence(app, reference: str, precedence: Precedence) -> None:
    """A fact changed behind the approval's back: straight in the database."""
    with session_scope(app) as session:
        incident = session.scalars(select(Incident).where(Incident.reference == reference)).one()
        incident.precedence = precedence


def test_a_drafter_cannot_approve_their_own_text_and_a_second_person_can(app, client, world, exchange):
    drafted = draft_free_text(client, world, exchange["id"])
    assert (drafted["status"], drafted["needs_approval"], drafted["drafted_by"]) == ("draft", True, "liaison")
    assert drafted["serial"] is None and not counterpart_rows(app), "a draft goes nowhere"

    refused = approve(client, world, drafted["id"], who="liaison", status=403)
    assert (
        refused["error"]["message"]
        == DRAFTER_REFUSED
        == (
            "an author of the text (its drafter, or whoever changed its wording) cannot approve it: "
            "a second person must"
        )
    )
    not_yet = send(client, world, drafted["id"], who="liaison", status=409)
    assert "approved" in not_yet["error"]["message"] and not counterpart_rows(app)
    # A liaison officer who serves neither the incident's lines nor the counterpart line has no right to approve.
    outsider = approve(client, world, drafted["id"], who="outsider", status=403)
    assert "may not approve" in outsider["error"]["message"]

    approved = approve(client, world, drafted["id"], who="supervisor")
    assert (approved["status"], approved["approved_by"], approved["needs_approval"]) == (
        "approved",
        "supervisor",
        False,
    )
    sent = send(client, world, drafted["id"], who="liaison")  # the drafter may send once a second person approved
    assert (sent["status"], sent["serial"]) == ("sent", 1)
    rows = counterpart_rows(app)
    assert len(rows) == 1 and FREE_TEXT in rows[0].body and rows[0].exchange_message_id == drafted["id"]

    events = [e for e in timeline(client, world, exchange["incident"]) if e["kind"] == "message_approved"]
    assert len(events) == 1, events
    event = events[0]
    assert event["actor"] == "supervisor" and event["at"] == approved["approved_at"]
    assert event["details"]["approved_by"] == "supervisor" and event["details"]["drafted_by"] == "liaison"
    assert event["details"]["message"] == drafted["id"]
    # The timeline is sealed by the audit chain (the sealing job's work, run here), the approval with it.
    assert audit.seal_all(lambda: session_scope(app)) >= len(events)
    verdict = api(client, world, "GET", f"/audit/verify?incident={exchange['incident']}", who="admin")
    assert verdict["intact"] is True and verdict["seals"] >= len(timeline(client, world, exchange["incident"])), verdict


def test_a_fact_changed_after_approval_makes_the_send_a_conflict_and_needs_approval_again(app, client, world, exchange):
    drafted = draft_free_text(client, world, exchange["id"])
    approve(client, world, drafted["id"], who="supervisor")
    set_precedence(app, exchange["incident"], Precedence.FLASH)

    refused = send(client, world, drafted["id"], who="liaison", status=409)
    assert refused["error"]["message"] == STALE == "the incident changed since approval: approve it again"
    again = next(
        m for m in api(client, world, "GET", f"/exchanges/{exchange['id']}/messages") if m["id"] == drafted["id"]
    )
    assert (again["status"], again["needs_approval"], again["approved_by"]) == ("draft", True, None)
    assert not counterpart_rows(app)
    assert send(client, world, drafted["id"], status=409)["error"]["message"].startswith("only an approved message")

    approve(client, world, drafted["id"], who="supervisor")  # approved again, on the facts as they are now
    assert send(client, world, drafted["id"])["status"] == "sent"
    assert len(counterpart_rows(app)) == 1


def test_a_text_approved_by_someone_deactivated_since_is_not_sent_until_a_second_person_approves_it_again(
    app, client, world, exchange
):
    """It went to the other side under the name of an account cut off since: the second person's approval rested on
    someone no longer entitled to give it."""
    drafted = draft_free_text(client, world, exchange["id"])
    approve(client, world, drafted["id"], who="supervisor")
    with session_scope(app) as session:
        people.deactivate(session, session.scalar(select(User).where(User.username == "supervisor")), by="admin")
    refused = send(client, world, drafted["id"], who="liaison", status=409)
    assert refused["error"]["message"].startswith("supervisor, who approved it, may no longer approve"), refused
    assert not counterpart_rows(app)
    waiting = api(client, world, "GET", "/approvals", who="admin")["messages"]
    assert [m["id"] for m in waiting] == [drafted["id"]], "it waits for a second person again"
    approve(client, world, drafted["id"], who="admin")
    assert send(client, world, drafted["id"])["status"] == "sent"
    assert len(counterpart_rows(app)) == 1


def test_a_summary_approved_by_someone_deactivated_since_waits_for_a_second_person_again(app, client, world, exchange):
    summary = draft_summary(client, world, exchange)
    api(client, world, "POST", f"/summaries/{summary['id']}/approve", {"version": summary["version"]}, who="supervisor")
    with session_scope(app) as session:
        people.deactivate(session, session.scalar(select(User).where(User.username == "supervisor")), by="admin")
    refused = api(client, world, "POST", f"/summaries/{summary['id']}/send", {}, status=409)
    assert refused["error"]["message"].startswith("supervisor, who approved it, may no longer approve"), refused
    assert not counterpart_rows(app)
    assert [s["id"] for s in api(client, world, "GET", "/approvals", who="admin")["summaries"]] == [summary["id"]]
    again = api(client, world, "GET", f"/summaries/{summary['id']}")
    api(client, world, "POST", f"/summaries/{summary['id']}/approve", {"version": again["version"]}, who="admin")
    api(client, world, "POST", f"/summaries/{summary['id']}/send", {})
    assert len(counterpart_rows(app)) == 1


def test_a_marking_change_after_approval_also_needs_approval_again(app, client, world, exchange):
    drafted = draft_free_text(client, world, exchange["id"])
    approve(client, world, drafted["id"], who="admin")
    reference = exchange["incident"]
    api(client, world, "PATCH", f"/incidents/{reference}/marking", {"classification": "RESTRICTED"}, who="supervisor")
    assert send(client, world, drafted["id"], status=409)["error"]["message"] == STALE
    approve(client, world, drafted["id"], who="admin")
    assert send(client, world, drafted["id"])["status"] == "sent"


def test_rewording_sends_an_approved_text_back_to_draft_and_its_editor_may_not_approve_it(app, client, world, exchange):
    drafted = draft_free_text(client, world, exchange["id"])
    approved = approve(client, world, drafted["id"], who="supervisor")
    body = {"text": FREE_TEXT.replace("1200Z", "1300Z"), "version": approved["version"]}
    edited = api(client, world, "PATCH", f"/exchange-messages/{drafted['id']}", body, who="supervisor")
    assert (edited["status"], edited["edited_by"], edited["approved_by"]) == ("draft", "supervisor", None)
    stale = {"text": "Another wording.", "version": approved["version"]}
    assert api(client, world, "PATCH", f"/exchange-messages/{drafted['id']}", stale, status=409)
    # Both authors of the wording are refused; a third person approves.
    for author in ("supervisor", "liaison"):
        assert approve(client, world, drafted["id"], who=author, status=403)["error"]["message"] == DRAFTER_REFUSED
    approve(client, world, drafted["id"], who="admin")
    sent = send(client, world, drafted["id"], who="supervisor")
    assert sent["text"].endswith("1300Z.") and counterpart_rows(app)[0].body.count("1300Z") >= 1


def test_everyone_who_wrote_a_text_stays_its_author_and_saving_the_same_words_is_refused(app, client, world, exchange):
    drafted = draft_free_text(client, world, exchange["id"], who="liaison")
    message = f"/exchange-messages/{drafted['id']}"
    reworded = {"text": "Northmark liaison: we will call at 1300Z.", "version": drafted["version"]}
    reworded = api(client, world, "PATCH", message, reworded, who="supervisor")
    # Saving the same words (or none) is no change: it makes no one an author and keeps the version.
    for same in ({}, {"text": "Northmark liaison: we will call at 1300Z."}):
        refused = api(
            client, world, "PATCH", message, {**same, "version": reworded["version"]}, who="admin", status=422
        )
        assert refused["error"]["message"] == "the wording is unchanged: nothing to save", refused
    small = {"text": "Northmark liaison: we will call you at 1300Z.", "version": reworded["version"]}
    small = api(client, world, "PATCH", message, small, who="liaison")
    assert (small["drafted_by"], small["edited_by"]) == ("liaison", "liaison")
    refused = approve(client, world, drafted["id"], who="supervisor", status=403)
    assert refused["error"]["details"]["authors"] == ["liaison", "supervisor"], "who reworded it in between too"
    assert approve(client, world, drafted["id"], who="admin")["approved_by"] == "admin"

    summary = api(client, world, "POST", f"/incidents/{exchange['incident']}/summaries", {}, status=201)
    path = f"/summaries/{summary['id']}"

    def reword(text: str | None, version: int, who: str, status: int = 200) -> dict:
        body = {"version": version, **({"text": text} if text is not None else {})}
        return api(client, world, "PATCH", path, body, who=who, status=status)

    changed = reword("Our summary, reworded.", summary["version"], "supervisor")
    reword(None, changed["version"], "admin", status=422)  # the same words: refused
    reword("Our summary, reworded again.", changed["version"], "admin")
    back = api(client, world, "GET", path)
    for author in ("liaison", "supervisor", "admin"):
        refused = api(client, world, "POST", f"{path}/approve", {"version": back["version"]}, who=author, status=403)
        assert refused["error"]["message"] == DRAFTER_REFUSED, (author, refused)


def test_a_text_stored_with_cr_lf_saved_again_with_line_feeds_is_the_same_wording(app, client, world, exchange):
    """A text drafted from a page before its line breaks were read as line feeds holds CR LF; the page sends it
    back with LF. The same words: refused as unchanged, so the approval it has stands and no one becomes its
    author by saving it."""
    drafted = draft_free_text(client, world, exchange["id"], who="liaison")
    with session_scope(app) as session:
        session.get(ExchangeMessage, drafted["id"]).text = "Northmark liaison:\r\nwe will call at 1200Z."
    approved = approve(client, world, drafted["id"], who="supervisor")
    same = {"text": "Northmark liaison:\nwe will call at 1200Z.", "version": approved["version"]}
    path = f"/exchange-messages/{drafted['id']}"
    refused = api(client, world, "PATCH", path, same, who="liaison", status=422)
    assert refused["error"]["message"] == "the wording is unchanged: nothing to save", refused
    with session_scope(app) as session:
        assert session.get(ExchangeMessage, drafted["id"]).status.value == "approved", "the approval stands"
    changed = {"text": "Northmark liaison:\nwe will call at 1300Z.", "version": approved["version"]}
    assert api(client, world, "PATCH", path, changed, who="liaison")["status"] == "draft"


def test_an_approval_names_the_version_of_the_wording_read(app, client, world, exchange):
    drafted = draft_free_text(client, world, exchange["id"])
    path = f"/exchange-messages/{drafted['id']}/approve"
    missing = api(client, world, "POST", path, {}, who="supervisor", status=422)
    assert "version" in str(missing["error"]["details"]), missing
    reworded = {"text": "Northmark liaison: we will close the crossing at 1200Z.", "version": drafted["version"]}
    api(client, world, "PATCH", f"/exchange-messages/{drafted['id']}", reworded)
    stale = api(client, world, "POST", path, {"version": drafted["version"]}, who="supervisor", status=409)
    assert "changed since you read it" in stale["error"]["message"], stale
    assert drafts(client, world, exchange["id"])[0]["status"] == "draft"


def test_a_summary_in_english_only_does_not_go_over_a_line_in_two_languages(app, client, world, exchange):
    summary = api(client, world, "POST", f"/incidents/{exchange['incident']}/summaries", {}, status=201)
    assert summary["language"] is None and summary["text_second"] is None
    approved = api(
        client, world, "POST", f"/summaries/{summary['id']}/approve", {"version": summary["version"]}, who="supervisor"
    )
    body = {"exchange_id": exchange["id"]}
    refused = api(client, world, "POST", f"/summaries/{approved['id']}/send", body, status=409)
    assert "English only; this line reads ru" in refused["error"]["message"], refused
    assert not counterpart_rows(app)


def test_a_request_for_explanation_moves_the_exchange_only_when_sent(app, client, world, exchange):
    body = {"state": "explanation_requested", "text": REQUEST}
    moved = api(client, world, "POST", f"/exchanges/{exchange['id']}/transitions", body)
    assert (moved["state"], moved["deadline_at"]) == ("notified", None), "a draft does not move the exchange"
    (draft,) = drafts(client, world, exchange["id"])
    assert (draft["kind"], draft["pending_state"]) == ("explanation_request", "explanation_requested")
    approve(client, world, draft["id"], who="supervisor")
    send(client, world, draft["id"], who="liaison")
    now = api(client, world, "GET", f"/exchanges/{exchange['id']}")
    assert now["state"] == "explanation_requested" and now["deadline_kind"] == "reply" and now["deadline_at"]


def draft_summary(client, world, exchange: dict) -> dict:
    """A releasable summary of the exchange's incident, drafted on the exchange by liaison."""
    body = {"exchange_id": exchange["id"]}
    return api(client, world, "POST", f"/incidents/{exchange['incident']}/summaries", body, status=201)


def test_approvals_lists_what_the_caller_may_approve(app, client, world, exchange):
    drafted = draft_free_text(client, world, exchange["id"])
    summary = draft_summary(client, world, exchange)
    for_supervisor = api(client, world, "GET", "/approvals", who="supervisor")
    assert [m["id"] for m in for_supervisor["messages"]] == [drafted["id"]]
    assert for_supervisor["messages"][0]["incident"] == exchange["incident"]
    assert [s["id"] for s in for_supervisor["summaries"]] == [summary["id"]]
    assert api(client, world, "GET", "/approvals", who="liaison") == {"messages": [], "summaries": []}
    assert api(client, world, "GET", "/approvals", who="duty") == {"messages": [], "summaries": []}


def test_texts_approved_and_waiting_to_be_sent_never_hide_a_newer_draft_from_approvals(app, client, world, exchange):
    """Approvals read the oldest 200 candidates and then set aside what needs no approval: once 200 texts were
    approved and not yet sent (or sat on closed exchanges), a new draft never reached any approver's list."""
    older = draft_free_text(client, world, exchange["id"])
    approve(client, world, older["id"])
    with session_scope(app) as session:
        approved = session.get_one(ExchangeMessage, older["id"])
        columns = ("exchange_id", "direction", "kind", "text", "channel_id", "recorded_by", "drafted_by")
        for _ in range(200):
            clone = ExchangeMessage(**{name: getattr(approved, name) for name in columns})
            clone.at = clone.recorded_at = approved.recorded_at
            clone.written_by, clone.status, clone.version = approved.written_by, approved.status, 1
            clone.approved_by, clone.facts_digest = approved.approved_by, approved.facts_digest
            session.add(clone)
    newer = draft_free_text(client, world, exchange["id"])
    listed = api(client, world, "GET", "/approvals", who="supervisor")["messages"]
    assert [m["id"] for m in listed] == [newer["id"]], "the draft waiting for a second person is listed"


def approvals_statements(app, who: str, only: str = "") -> tuple[int, int, int]:
    """(texts, summaries, statements sent to the database) of the approvers' queue of one user; only: count the
    statements that hold it alone."""
    with session_scope(app) as session:
        user = session.scalars(select(User).where(User.username == who)).one()
        with recorded(app) as statements:
            texts, summaries = counterpart.waiting(session, user), summary_service.waiting(session, user)
    return len(texts), len(summaries), len([s for s in statements if only in s])


def test_the_approvers_queue_costs_the_same_few_statements_however_many_incidents_wait(app, client, world):
    """My queue draws the approvers' queue on every page (the board's notices poll it): it read every text waiting and
    then its exchange, incident and line one statement each, and a duty officer's, who approves nothing, read them all
    too."""
    add_counterpart_line(app, world)

    def incident_with_a_draft_and_a_summary() -> None:
        exchange = open_via_api(client, world, acknowledged_incident(client, world), text=None)
        draft_free_text(client, world, exchange["id"])
        draft_summary(client, world, exchange)

    incident_with_a_draft_and_a_summary()
    texts, summaries, few = approvals_statements(app, "supervisor")
    assert (texts, summaries) == (1, 1)
    for _ in range(4):
        incident_with_a_draft_and_a_summary()
    assert approvals_statements(app, "supervisor") == (5, 5, few), "no statement more for 4 more incidents"
    assert approvals_statements(app, "duty") == (0, 0, 0), "who approves nothing has nothing read for them"


def test_whether_approvers_may_still_approve_is_read_once_each_for_the_approvers_queue(app, client, world):
    """Texts approved and not sent yet wait again when their approver lost the right (four_eyes.approval_holds): who
    approved is read once for all their texts, not once a text, on a queue the board's notices poll."""
    add_counterpart_line(app, world)
    for _ in range(3):
        exchange = open_via_api(client, world, acknowledged_incident(client, world), text=None)
        for _ in range(2):
            approve(client, world, draft_free_text(client, world, exchange["id"])["id"], who="admin")
    users = "FROM users"
    assert approvals_statements(app, "supervisor", users)[2] == 1, "the one approver, once for their six texts"


def test_a_summary_needs_a_second_person_and_a_fact_change_needs_approval_again(app, client, world, exchange):
    reference = exchange["incident"]
    body = {"exchange_id": exchange["id"]}
    summary = api(client, world, "POST", f"/incidents/{reference}/summaries", body, status=201)
    refused = api(
        client, world, "POST", f"/summaries/{summary['id']}/approve", {"version": summary["version"]}, status=403
    )
    assert refused["error"]["message"] == DRAFTER_REFUSED
    approved = api(
        client, world, "POST", f"/summaries/{summary['id']}/approve", {"version": summary["version"]}, who="supervisor"
    )
    assert (approved["status"], approved["approved_by"]) == ("approved", "supervisor")
    # A fact changed through the releasability endpoint: the narrative may go out from now on.
    api(client, world, "PATCH", f"/incidents/{reference}/releasability", {"narrative": True}, who="supervisor")
    conflict = api(client, world, "POST", f"/summaries/{summary['id']}/send", {}, status=409)
    assert conflict["error"]["message"] == STALE and not counterpart_rows(app)
    back = api(client, world, "GET", f"/summaries/{summary['id']}")
    assert (back["status"], back["needs_approval"], back["approved_by"]) == ("draft", True, None)

    again = api(
        client, world, "POST", f"/summaries/{summary['id']}/approve", {"version": back["version"]}, who="supervisor"
    )
    sent = api(client, world, "POST", f"/summaries/{summary['id']}/send", {})
    assert sent["status"] == "sent" and len(counterpart_rows(app)) == 1
    events = [e for e in timeline(client, world, reference) if e["kind"] == "summary_approved"]
    assert [(e["actor"], e["at"]) for e in events] == [
        ("supervisor", approved["approved_at"]),
        ("supervisor", again["approved_at"]),
    ]


# -- the pages -----------------------------------------------------------------------------


def panel(page) -> str:
    match = re.search(r'<section class="card exchanges" id="exchanges".*?</section>', page.text, re.DOTALL)
    assert match, page.text[:2000]
    return html.unescape(match[0])


def post_form(client, reference: str, path: str, prefix: str, data: dict | None = None):
    token = csrf(client, f"/incidents/{reference}")
    return client.post(path, data={f"{prefix}csrf_token": token, **(data or {})}, follow_redirects=True)


def test_on_the_page_the_drafter_is_told_why_and_a_second_person_approves_and_sends(app, world):
    drafter, second = app.test_client(), app.test_client()
    add_counterpart_line(app, world)
    reference = acknowledged_incident(drafter, world)
    opened = open_via_api(drafter, world, reference, text=NOTICE, release=False)
    (notice,) = drafts(drafter, world, opened["id"])
    sign_in(drafter, "liaison")
    sign_in(second, "supervisor")

    mine = panel(drafter.get(f"/incidents/{reference}"))
    assert "draft: waiting for approval" in mine and "You wrote this text: a second person must approve it." in mine
    assert f'action="/exchange-messages/{notice["id"]}/approve"' not in mine
    prefix = f"draft-{notice['id']}-approve-"
    refused = post_form(drafter, reference, f"/exchange-messages/{notice['id']}/approve", prefix)
    assert DRAFTER_REFUSED in html.unescape(refused.text)
    queue = second.get("/queue").text
    assert "Waiting for my approval" in queue and f'data-message="{notice["id"]}"' in queue
    assert "Waiting for my approval" not in drafter.get("/queue").text
    # A supervisor lands on the board, and no link led to My queue: what waits for them is on the board too.
    board = second.get("/board").text
    assert "Waiting for my approval" in board and f'data-message="{notice["id"]}"' in board
    assert "Waiting for my approval" not in drafter.get("/board").text

    theirs = panel(second.get(f"/incidents/{reference}"))
    assert f'action="/exchange-messages/{notice["id"]}/approve"' in theirs
    post_form(second, reference, f"/exchange-messages/{notice['id']}/approve", prefix, {f"{prefix}version": "1"})
    send = f"draft-{notice['id']}-send-"
    page = post_form(drafter, reference, f"/exchange-messages/{notice['id']}/send", send, {f"{send}version": "2"})
    assert "Text queued for the other side." in html.unescape(page.text)
    assert len(counterpart_rows(app)) == 1 and NOTICE in counterpart_rows(app)[0].body
    assert "Serial 0001/" in panel(page)


def test_a_text_to_the_other_side_holds_no_bidirectional_control_an_approver_could_read_otherwise(
    app, client, world, exchange
):
    """An override or isolate reorders what the approver reads; a receiving system that drops or ignores
    it shows the text in its stored order: the text approved would not be the text read. Drafting and
    rewording refuse them; right-to-left text with its ordinary marks (RLM) goes through."""
    hidden = "We accept \u202edenifer\u202c your explanation."  # reads "we accept refined ..." reordered
    body = {"direction": "out", "kind": "message", "text": hidden}
    refused = api(client, world, "POST", f"/exchanges/{exchange['id']}/messages", body, status=422)
    assert list(refused["error"]["details"]) == ["text"] and "bidirectional" in refused["error"]["details"]["text"][0]
    drafted = draft_free_text(client, world, exchange["id"])
    reworded = {"text": f"{FREE_TEXT} \u2067{FREE_TEXT}\u2069", "version": drafted["version"]}
    assert api(client, world, "PATCH", f"/exchange-messages/{drafted['id']}", reworded, status=422)
    arabic = {"direction": "out", "kind": "message", "text": "Received: \u200fتم الاستلام\u200f at 0930Z."}
    api(client, world, "POST", f"/exchanges/{exchange['id']}/messages", arabic, status=201)


def test_a_draft_stored_before_drafts_were_checked_for_bidirectional_controls_is_not_approved(client, world, exchange):
    """Drafting refuses an override; a draft already on record with one (written before that rule) is
    refused at approval, naming the field, and stays a draft; one approved before then is not sent."""
    hidden = "We accept \u202edenifer\u202c your explanation."
    drafted, approved = draft_free_text(client, world, exchange["id"]), draft_free_text(client, world, exchange["id"])
    approve(client, world, approved["id"])
    queued = len(counterpart_rows(client.application))
    with session_scope(client.application) as session:
        for message_id in (drafted["id"], approved["id"]):
            session.get_one(ExchangeMessage, message_id).text = hidden
    for refused in (approve(client, world, drafted["id"], status=422), send(client, world, approved["id"], status=422)):
        assert list(refused["error"]["details"]) == ["text"], refused
        assert "bidirectional" in refused["error"]["details"]["text"][0], refused
    with session_scope(client.application) as session:
        assert session.get_one(ExchangeMessage, drafted["id"]).status.value == "draft"
        assert session.get_one(ExchangeMessage, approved["id"]).status.value == "approved"
    assert len(counterpart_rows(client.application)) == queued, "nothing more was queued for the other side"


def test_a_summary_holds_no_bidirectional_control_either_typed_in_or_taken_from_the_narrative(client, world):
    """A summary goes to the other side as a text does: rewording it with an override is refused, and one
    drafted from a narrative that holds an isolate (one kept before text areas refused them) is neither
    approved nor sent."""
    reference = acknowledged_incident(client, world, releasability={"narrative": True})
    with session_scope(client.application) as session:
        incident = session.scalar(select(Incident).where(Incident.reference == reference))
        incident.narrative = "Fighter closed to \u2067thirty metres\u2069 of our patrol aircraft."
    api(client, world, "POST", f"/incidents/{reference}/summaries", {}, status=201)
    summary = api(client, world, "GET", f"/incidents/{reference}/summaries")[0]
    assert "\u2067" in summary["text"] and "text" in summary["problems"]
    hidden = {"text": "We accept \u202edenifer\u202c your explanation.", "version": summary["version"]}
    refused = api(client, world, "PATCH", f"/summaries/{summary['id']}", hidden, status=422)
    assert list(refused["error"]["details"]) == ["text"] and "bidirectional" in refused["error"]["details"]["text"][0]
    approval = {"version": summary["version"]}
    refused = api(client, world, "POST", f"/summaries/{summary['id']}/approve", approval, who="supervisor", status=422)
    assert "bidirectional" in refused["error"]["details"]["text"][0]
    assert api(client, world, "GET", f"/summaries/{summary['id']}")["status"] == "draft"


def test_on_the_page_a_sender_sends_only_the_wording_they_read(app, world):
    """The Send button carries the version of the approved text on the page: reworded and approved again
    meanwhile, what goes out is not what the sender read, so nothing goes and the sender is told."""
    sender, rewording = app.test_client(), app.test_client()
    add_counterpart_line(app, world)
    reference = acknowledged_incident(sender, world)
    opened = open_via_api(sender, world, reference, text=NOTICE, release=False)
    (notice,) = drafts(sender, world, opened["id"])
    approve(sender, world, notice["id"])
    sign_in(sender, "liaison")
    page = sender.get(f"/incidents/{reference}").text
    send = f"draft-{notice['id']}-send-"
    read = re.search(rf'name="{send}version"[^>]*value="(\d+)"', page)
    assert read, page[:3000]

    reworded = {"text": f"{NOTICE} We withdraw the request.", "version": int(read[1])}
    api(rewording, world, "PATCH", f"/exchange-messages/{notice['id']}", reworded, who="supervisor")
    approve(rewording, world, notice["id"], who="admin")
    answer = post_form(sender, reference, f"/exchange-messages/{notice['id']}/send", send, {f"{send}version": read[1]})
    assert "the message changed since you read it" in html.unescape(answer.text), answer.text[:3000]
    assert not counterpart_rows(app)

    with session_scope(app) as session:  # the page read again
        current = str(session.get_one(ExchangeMessage, notice["id"]).version)
    answer = post_form(sender, reference, f"/exchange-messages/{notice['id']}/send", send, {f"{send}version": current})
    assert "Text queued for the other side." in html.unescape(answer.text)
    assert ["We withdraw the request." in row.body for row in counterpart_rows(app)] == [True]


def test_the_incident_page_says_a_summary_was_reworded_not_drafted_twice(client, world):
    """Rewording a summary is on the timeline as "summary reworded", its first draft as "summary drafted"."""
    reference = acknowledged_incident(client, world)
    api(client, world, "POST", f"/incidents/{reference}/summaries", {}, status=201)
    summary = api(client, world, "GET", f"/incidents/{reference}/summaries")[0]
    reworded = {"text": f"{summary['text'].strip()} Both sides keep 10 NM apart.", "version": summary["version"]}
    api(client, world, "PATCH", f"/summaries/{summary['id']}", reworded)
    sign_in(client, "liaison")
    page = client.get(f"/incidents/{reference}").text
    said = re.findall(r'<li class="event-summary_drafted">.*?<strong>([^<]+)</strong>', page, re.S)
    assert said == ["summary reworded", "summary drafted"], said  # newest first
    printed = client.get(f"/incidents/{reference}/print").text
    assert printed.count("<strong>summary reworded</strong>") == 1, "the print says so too"


def test_a_draft_on_a_closed_exchange_waits_for_no_one_and_the_panel_says_it_never_went(app, client, world, exchange):
    """Closed with a text still a draft: the panel went on saying "draft: waiting for approval" with an
    Approve button, and approving it worked, for a text that could never be sent."""
    draft = draft_free_text(client, world, exchange["id"])
    api(client, world, "POST", f"/exchanges/{exchange['id']}/transitions", {"state": "closed", "text": "Settled."})
    [read] = [m for m in api(client, world, "GET", f"/exchanges/{exchange['id']}/messages") if m["id"] == draft["id"]]
    assert read["status"] == "draft" and read["needs_approval"] is False, read
    refused = approve(client, world, draft["id"], status=409)
    assert "closed" in refused["error"]["message"], refused
    sign_in(client, "supervisor")
    page = html.unescape(client.get(f"/incidents/{exchange['incident']}").text)
    assert "Never sent: the exchange was closed first." in page, page[:3000]
    assert "draft: waiting for approval" not in page and "approve-draft" not in page, "nothing to approve"
    assert re.search(r"Closed \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ \(\d{6}Z[A-Z]{3}\d\d\): <bdi>Settled\.</bdi>\s", page), (
        "the closing line with its DTG, one full stop"
    )


def test_an_exchange_closed_without_a_closing_time_on_record_still_shows(app, client, world, exchange):
    """Exchanges closed before closed_at was kept (and the report fixtures) have none: the closing line's
    DTG must not take the incident page down."""
    api(client, world, "POST", f"/exchanges/{exchange['id']}/transitions", {"state": "closed"})
    with session_scope(app) as session:
        session.get_one(Exchange, exchange["id"]).closed_at = None
    sign_in(client, "supervisor")
    page = client.get(f"/incidents/{exchange['incident']}")
    assert page.status_code == 200, page.text[:500]


def test_a_translation_is_removed_on_record_back_to_draft_and_never_once_sent(app, client, world, exchange):
    """A translation could be replaced but never removed: a wrong one stayed, or was replaced by something
    that was no translation. Removed, the text is a draft again with its remover among its authors, the
    timeline says so, and their part gives the English as written; once sent, as for replacing it, 409."""
    drafted = draft_free_text(client, world, exchange["id"])
    path = f"/exchange-messages/{drafted['id']}"
    translated = {"text_second": "Самолёт покинул район в 0930Z.", "version": drafted["version"]}
    translated = api(client, world, "PATCH", path, translated, who="liaison")
    approved = approve(client, world, drafted["id"], who="supervisor")
    removed = api(client, world, "PATCH", path, {"text_second": None, "version": approved["version"]}, who="admin")
    assert (removed["status"], removed["text_second"], removed["approved_by"]) == ("draft", None, None), removed
    assert removed["text"] == FREE_TEXT, "the English stays as it was"
    again = api(client, world, "PATCH", path, {"text_second": None, "version": removed["version"]}, status=422)
    assert "text_second" in again["error"]["details"], again
    [event] = [e for e in timeline(client, world, exchange["incident"]) if e["details"].get("translation_removed")]
    assert (event["actor"], event["details"]["approval_withdrawn"]) == ("admin", True), event
    assert approve(client, world, drafted["id"], who="admin", status=403)["error"]["message"] == DRAFTER_REFUSED
    approve(client, world, drafted["id"], who="supervisor")
    send(client, world, drafted["id"])
    [row] = counterpart_rows(app)
    assert "Самолёт покинул" not in row.body and "Текст нашего офицера (оригинал на английском языке):" in row.body, (
        row.body
    )
    sent = api(client, world, "GET", f"/exchanges/{exchange['id']}")["messages"][0]
    refused = api(client, world, "PATCH", path, {"text_second": None, "version": sent["version"]}, status=409)
    assert refused["error"]["details"]["status"] == "sent", refused


TRANSLATED = "Северный офицер связи: самолёт покинул район в 0930Z."


def test_the_english_reworded_after_its_translation_is_pointed_out_to_whoever_approves(app, client, world, exchange):
    """The English was reworded after the translation and approved as it stood: the other side got a new English
    beside a translation of the words before. Whoever approves is told to compare them, until the translation is
    written again."""
    drafted = draft_free_text(client, world, exchange["id"])
    path = f"/exchange-messages/{drafted['id']}"
    translated = api(client, world, "PATCH", path, {"text_second": TRANSLATED, "version": drafted["version"]})
    reference = api(client, world, "GET", f"/exchanges/{exchange['id']}")["incident"]
    supervisor = app.test_client()
    sign_in(supervisor, "supervisor")

    def warned() -> bool:
        return "The English was reworded after the Russian text was last written" in supervisor.get(
            f"/incidents/{reference}"
        ).get_data(as_text=True)

    assert not warned(), "written together: nothing to compare"
    english = {"text": FREE_TEXT.replace("1200Z", "1300Z"), "version": translated["version"]}
    reworded = api(client, world, "PATCH", path, english, who="admin")
    assert warned()
    again = {"text_second": TRANSLATED.replace("0930Z", "0935Z"), "version": reworded["version"]}
    api(client, world, "PATCH", path, again, who="admin")
    assert not warned(), "the translation written again after it"
