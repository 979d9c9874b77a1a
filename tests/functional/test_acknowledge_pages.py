"""One tap to acknowledge (issue 16) through the test client: the Acknowledge button on the board's and My
queue's rows (back to the list, with a note), "Acknowledge all mine" (a confirm step first, and only what
is the person's own), no button and a refusal for whoever may not acknowledge, and the live fragments'
ETags (304 while nothing changed)."""

import html
import re

import pytest
from sqlalchemy import select

from tests.support import CSRF_TOKEN, file_incident, sign_in
from tracker.db import session_scope
from tracker.models import EventKind, Incident, IncidentStatus, TimelineEvent
from tracker.services.incidents import ladder
from tracker.timeutil import format_dtg, parse_moment

ROW_FORM = re.compile(r'<form method="post" action="/incidents/([^/"]+)/acknowledge" class="row-ack"')


def signed_in(app, who: str):
    client = app.test_client()
    assert sign_in(client, who).status_code == 302, f"{who} could not sign in"
    return client


def token_of(page: str) -> str:
    found = CSRF_TOKEN.search(page)
    assert found, f"no CSRF token on the page: {page[:600]}"
    return found[1]


def flashes_of(page: str) -> list[str]:
    return [html.unescape(m) for m in re.findall(r'<p class="flash \w+" role="status">([^<]*)</p>', page)]


def flashed(client, path: str) -> list[str]:
    """The flash lines the page at path shows (and so clears)."""
    return flashes_of(client.get(path).text)


def kept_note(page: str, reference: str) -> tuple[str, str]:
    """The note an Acknowledge form on the page holds as typed, and the problem said beside it (the row of
    reference on a list, the form at the top of the incident page)."""
    row = re.search(rf'<form [^>]*data-ack="{re.escape(reference)}">.*?</form>', page, re.S)
    form = row[0] if row else re.search(r'<form [^>]*class="top-ack">.*?</form>', page, re.S)[0]
    note = re.search(r'<input [^>]*name="note"[^>]*>', form)[0]
    typed = re.search(r'value="([^"]*)"', note)
    error = re.search(r'<small class="error" id="([^"]+)" role="alert">([^<]*)</small>', form)
    assert error and 'aria-invalid="true"' in note and f'aria-describedby="{error[1]}"' in note, form
    assert '<details class="ack-note has-error" open>' in form, "the note is unfolded"
    return html.unescape(typed[1]) if typed else "", html.unescape(error[2])


def status_of(app, reference: str) -> IncidentStatus:
    with session_scope(app) as session:
        return session.scalar(select(Incident.status).where(Incident.reference == reference))


def ack_note_of(app, reference: str) -> str | None:
    with session_scope(app) as session:
        event = session.scalar(
            select(TimelineEvent)
            .join(Incident)
            .where(Incident.reference == reference, TimelineEvent.kind == EventKind.ACKNOWLEDGED)
        )
        return event.details.get("note") if event else None


@pytest.fixture
def sea_desk_incident(app, client, world) -> str:
    """An incident routed to "Other desk" only (the outsider's line), never to the liaison's L1-L3."""
    with session_scope(app) as session:
        policy = ladder.save_policy(
            session,
            {"name": "Sea desk", "steps": [{"channel_ids": [world.channels["Other desk"]], "ack_seconds": 600}]},
        )
        ladder.save_rule(session, {"name": "At sea", "domain": "maritime", "policy_id": policy.id, "position": 1})
    return file_incident(client, world, domain="maritime", category="unsafe_manoeuvre")["reference"]


def test_a_row_of_my_queue_acknowledges_in_one_tap_and_comes_back_with_a_note(app, client, world):
    first, second = (file_incident(client, world)["reference"] for _ in range(2))
    liaison = signed_in(app, "liaison")
    rows = liaison.get("/queue/rows").text
    assert ROW_FORM.findall(rows) == [first, second], "a button on each row, the nearer deadline first"
    assert 'name="next" type="hidden" value="/queue"' in rows, "a row of the queue comes back to the queue"

    answer = liaison.post(
        f"/incidents/{first}/acknowledge",
        data={"csrf_token": token_of(rows), "next": "/queue", "note": "L1 desk calling them now"},
    )
    # at the row acted on, where the focus lands (gone from the queue: static/app.js puts it on the flash line)
    assert answer.status_code == 302 and answer.headers["Location"] == f"/queue#incident-{first}", answer.headers

    assert any(f"Acknowledged {first}" in line for line in flashed(liaison, "/queue"))
    assert status_of(app, first) is IncidentStatus.ACKNOWLEDGED and status_of(app, second) is IncidentStatus.OPEN
    assert ack_note_of(app, first) == "L1 desk calling them now"
    assert ROW_FORM.findall(liaison.get("/queue/rows").text) == [second], "the acknowledged row left the queue"


def test_a_board_row_comes_back_to_the_board_with_its_filters_and_never_to_another_site(app, client, world):
    first, second = (file_incident(client, world)["reference"] for _ in range(2))
    supervisor = signed_in(app, "supervisor")
    board = supervisor.get("/board?precedence=O").text
    assert set(ROW_FORM.findall(board)) == {first, second}, "a supervisor acknowledges any incident"
    assert 'value="/board?precedence=O"' in board
    rows = supervisor.get("/board/rows?precedence=O").text
    assert 'name="next" type="hidden" value="/board?precedence=O"' in rows, "the polled rows keep the page's filters"

    back = supervisor.post(
        f"/incidents/{first}/acknowledge", data={"csrf_token": token_of(board), "next": "/board?precedence=O"}
    )
    assert back.headers["Location"] == f"/board?precedence=O#incident-{first}", "at the row acted on"
    elsewhere = supervisor.post(
        f"/incidents/{second}/acknowledge", data={"csrf_token": token_of(board), "next": "https://elsewhere.example/"}
    )
    assert elsewhere.headers["Location"] == f"/incidents/{second}", "an unsafe next falls back to the incident"
    fourth = file_incident(client, world)["reference"]
    damaged = supervisor.post(  # a line break in the hidden field was refused as a note "at most 4000 characters"
        f"/incidents/{fourth}/acknowledge", data={"csrf_token": token_of(board), "next": "/board\n", "note": "On it"}
    )
    assert damaged.headers["Location"] == f"/incidents/{fourth}" and ack_note_of(app, fourth) == "On it"
    assert status_of(app, first) is status_of(app, second) is IncidentStatus.ACKNOWLEDGED

    third = file_incident(client, world)["reference"]
    too_long = supervisor.post(
        f"/incidents/{third}/acknowledge", data={"csrf_token": token_of(board), "next": "/board", "note": "x" * 4001}
    )
    assert too_long.status_code == 422 and status_of(app, third) is IncidentStatus.OPEN
    assert "4000 characters" in kept_note(too_long.text, third)[1]


def test_whoever_may_not_acknowledge_sees_no_button_and_is_refused(app, client, world):
    reference = file_incident(client, world)["reference"]
    for who in ("outsider", "duty"):
        person = signed_in(app, who)
        board = person.get("/board").text
        assert reference in board and not ROW_FORM.search(board), f"{who} sees no Acknowledge button on the board"
        page = person.get(f"/incidents/{reference}").text
        assert ">Acknowledge</button>" not in page, f"{who} sees no Acknowledge button on the incident page"
        answer = person.post(f"/incidents/{reference}/acknowledge", data={"csrf_token": token_of(page)})
        assert answer.status_code == 403, f"{who}: {answer.status_code}"
    assert "Acknowledge all mine" not in signed_in(app, "duty").get("/queue").text
    assert signed_in(app, "duty").get("/queue/acknowledge-all").status_code == 403
    assert status_of(app, reference) is IncidentStatus.OPEN


ACK_ALL = re.compile(r'<a class="button primary ack-all" href="/queue/acknowledge-all"( hidden)?>Acknowledge all mine<')


def test_acknowledge_all_mine_is_offered_only_while_there_is_something_to_acknowledge(app, client, world):
    liaison = signed_in(app, "liaison")
    empty = ACK_ALL.search(liaison.get("/queue").text)
    assert empty and empty[1] == " hidden", "an empty queue offers nothing to acknowledge"
    reference = file_incident(client, world)["reference"]
    waiting = ACK_ALL.search(liaison.get("/queue").text)
    assert waiting and waiting[1] is None, "an incident waits: the button is offered"
    page = liaison.get(f"/incidents/{reference}").text
    assert liaison.post(f"/incidents/{reference}/acknowledge", data={"csrf_token": token_of(page)}).status_code == 302
    done = ACK_ALL.search(liaison.get("/queue").text)
    assert done and done[1] == " hidden", "all acknowledged: offered no more"


def test_acknowledge_all_mine_confirms_first_and_takes_only_my_own(app, client, world, sea_desk_incident):
    mine = [file_incident(client, world, precedence=p)["reference"] for p in ("Z", "R")]
    liaison = signed_in(app, "liaison")
    queue = liaison.get("/queue").text
    assert "Acknowledge all mine" in queue

    confirm = liaison.get("/queue/acknowledge-all")
    listed = re.findall(r'<li data-reference="([^"]+)">', confirm.text)
    assert confirm.status_code == 200 and listed == mine, f"the FLASH first, only mine: {listed}"
    assert "Acknowledge these 2" in confirm.text
    assert [status_of(app, r) for r in [*mine, sea_desk_incident]] == [IncidentStatus.OPEN] * 3, "nothing yet"

    token = token_of(confirm.text)
    nothing = liaison.post("/queue/acknowledge-all", data={"csrf_token": token})
    assert nothing.status_code == 302 and status_of(app, mine[0]) is IncidentStatus.OPEN, "no list, no change"
    flashed(liaison, "/queue")

    # The outsider's incident slipped into the form (by hand) is left alone: it is not in my queue.
    done = liaison.post(
        "/queue/acknowledge-all",
        data={"csrf_token": token, "reference": [*mine, sea_desk_incident], "note": "all mine"},
    )
    assert done.status_code == 302 and done.headers["Location"] == "/queue"
    [said] = flashed(liaison, "/queue")
    assert f"Acknowledged 2 incidents: {mine[0]}, {mine[1]}." in said, said
    assert f"Left 1 no longer waiting for you: {sea_desk_incident}." in said, said
    assert [status_of(app, r) for r in mine] == [IncidentStatus.ACKNOWLEDGED] * 2
    assert status_of(app, sea_desk_incident) is IncidentStatus.OPEN, "only my own"
    assert ack_note_of(app, mine[1]) == "all mine"

    again = liaison.get("/queue/acknowledge-all").text
    assert "Nothing to acknowledge" in again and "<li data-reference" not in again
    outsider = signed_in(app, "outsider")
    assert re.findall(r'<li data-reference="([^"]+)">', outsider.get("/queue/acknowledge-all").text) == [
        sea_desk_incident
    ]


def test_live_fragments_answer_304_while_nothing_changed(app, client, world):
    reference = file_incident(client, world)["reference"]
    liaison = signed_in(app, "liaison")
    for path in (f"/incidents/{reference}/live", "/queue/rows", "/board/rows", "/board/exchanges/rows"):
        first = liaison.get(path)
        assert first.status_code == 200 and first.headers.get("ETag"), path
        again = liaison.get(path, headers={"If-None-Match": first.headers["ETag"]})
        assert again.status_code == 304 and again.data == b"", f"{path}: {again.status_code}"
        # "If-Match: *" holds for any current representation (RFC 9110, 13.1.1): it was answered 412.
        starred = liaison.get(path, headers={"If-Match": "*"})
        assert starred.status_code == 200 and starred.headers["ETag"] == first.headers["ETag"], f"{path}: *"
        other = liaison.get(path, headers={"If-Match": '"not-this-one"'})
        assert other.status_code == 412, f"{path}: a tag that does not match: {other.status_code}"

    live = liaison.get(f"/incidents/{reference}/live")
    parts = re.findall(r'data-live="([\w-]+)"', live.text)
    assert {"title", "ack", "next", "facts", "resolve", "timeline", "exchanges"} <= set(parts), parts
    assert ">Acknowledge</button>" in live.text
    answer = liaison.post(f"/incidents/{reference}/acknowledge", data={"csrf_token": token_of(live.text)})
    assert answer.status_code == 302
    after = liaison.get(f"/incidents/{reference}/live", headers={"If-None-Match": live.headers["ETag"]})
    assert after.status_code == 200 and after.headers["ETag"] != live.headers["ETag"], "the state changed"
    assert ">Acknowledge</button>" not in after.text and "Acknowledged by <bdi>liaison</bdi>" in after.text


def test_a_note_refused_for_a_line_break_says_so_not_that_it_is_too_long(app, client, world):
    """The note is a one-line field: one refused for a bidirectional override or a line break was said to be
    "at most 4000 characters" (found in review)."""
    reference = file_incident(client, world)["reference"]
    liaison = signed_in(app, "liaison")
    rows = liaison.get("/queue/rows").text
    answer = liaison.post(
        f"/incidents/{reference}/acknowledge",
        data={"csrf_token": token_of(rows), "next": "/queue", "note": "Calling \u202ewon meht"},
    )
    assert answer.status_code == 422
    said = flashes_of(answer.text) + [kept_note(answer.text, reference)[1]]
    assert any("bidirectional" in line for line in said) and not any("4000" in line for line in said), said
    assert status_of(app, reference) is IncidentStatus.OPEN


def test_the_incident_page_gives_the_resolution_time_with_its_dtg_as_it_gives_the_acknowledgement(app, world):
    """The head of the page said "Acknowledged by ... at 2026-12-05 22:01:56Z (052201ZDEC26)" but "Resolved by
    ... at 2026-12-05 22:02:22Z" alone: the DTG, which staff quote, was missing once the incident closed."""
    liaison = signed_in(app, "liaison")
    reference = file_incident(liaison, world)["reference"]
    api = {**world.auth("liaison"), "Content-Type": "application/json"}
    resolved = liaison.post(f"/api/v1/incidents/{reference}/resolve", headers=api, json={"resolution": "Settled."})
    assert resolved.status_code == 200, resolved.get_json()
    with session_scope(app) as session:
        at = session.scalar(select(Incident.resolved_at).where(Incident.reference == reference))
    dtg = f"{at:%d%H%M}Z{at:%b%y}".upper()
    page = liaison.get(f"/incidents/{reference}").text
    assert f"Resolved by <bdi>liaison</bdi> at {at:%Y-%m-%d %H:%M:%S}Z ({dtg}): <bdi>Settled.</bdi>" in html.unescape(
        page
    ), page


def test_acknowledge_all_mine_with_one_incident_speaks_of_one(app, client, world):
    reference = file_incident(client, world)["reference"]
    confirm = signed_in(app, "liaison").get("/queue/acknowledge-all").text
    assert re.findall(r'<li data-reference="([^"]+)">', confirm) == [reference]
    assert ">Acknowledge this one</button>" in confirm and "Only this one is acknowledged" in confirm
    assert "these 1" not in confirm and "Each stops" not in confirm, "one incident is not 'these 1'"


@pytest.mark.parametrize(
    ("who", "back", "shows"),
    [
        ("supervisor", "/board?precedence=O&precedence=Z", 'name="precedence" value="Z" checked>'),
        ("liaison", "/queue", "<h1>My queue: <span data-waiting>1 awaiting acknowledgement"),
        ("liaison", "incident", 'class="top-ack"'),
    ],
)
def test_a_refused_note_comes_back_as_typed_beside_its_button_and_nothing_is_acknowledged(
    app, client, world, who, back, shows
):
    """A note refused on the board, My queue or the incident page (a control character in a pasted note) was a
    redirect back with a flash line: the note typed was gone (found in review). The page the button was on comes
    back (422) with the note kept and its problem beside it; the same form, corrected, acknowledges."""
    reference = file_incident(client, world)["reference"]
    person = signed_in(app, who)
    back = f"/incidents/{reference}" if back == "incident" else back
    token = token_of(person.get(back).text)
    typed = "Calling them on the hotline\x07 now"

    answer = person.post(f"/incidents/{reference}/acknowledge", data={"csrf_token": token, "next": back, "note": typed})
    assert answer.status_code == 422, answer.status_code
    assert shows in answer.text, "the page the button was on, as it was asked for"
    note, problem = kept_note(answer.text, reference)
    assert note == typed and "control character" in problem, (note, problem)
    assert any("Nothing was" in line and "control character" in line for line in flashes_of(answer.text))
    assert status_of(app, reference) is IncidentStatus.OPEN and ack_note_of(app, reference) is None
    assert re.search(rf'name="next"[^>]* value="{re.escape(html.escape(back))}"', answer.text), "still comes back there"

    fixed = person.post(
        f"/incidents/{reference}/acknowledge",
        data={"csrf_token": token_of(answer.text), "next": back, "note": typed.replace("\x07", "")},
    )
    at_row = back if back.startswith("/incidents/") else f"{back}#incident-{reference}"  # a list's row acted on
    assert fixed.status_code == 302 and fixed.headers["Location"] == at_row
    assert ack_note_of(app, reference) == "Calling them on the hotline now"


def test_acknowledge_all_mine_with_a_refused_note_confirms_again_with_the_note_as_typed(app, client, world):
    """A note refused on the confirm step of "Acknowledge all mine" redirected to a fresh confirm step: the note
    typed was gone. The step comes back (422) listing what it will acknowledge, the note open and as typed, its
    problem beside it; nothing is acknowledged until a note that passes is sent."""
    mine = [file_incident(client, world)["reference"] for _ in range(2)]
    liaison = signed_in(app, "liaison")
    token = token_of(liaison.get("/queue/acknowledge-all").text)
    typed = "Hotline\x1b[2J called"

    answer = liaison.post("/queue/acknowledge-all", data={"csrf_token": token, "reference": mine, "note": typed})
    assert answer.status_code == 422
    assert re.findall(r'<li data-reference="([^"]+)">', answer.text) == mine, "the list it will acknowledge"
    assert '<details class="ack-note" open>' in answer.text
    note = re.search(r'<input [^>]*name="note"[^>]*>', answer.text)[0]
    assert html.unescape(re.search(r'value="([^"]*)"', note)[1]) == typed and 'aria-invalid="true"' in note
    assert "control character" in html.unescape(
        re.search(r'<small class="error" id="note-error">([^<]*)', answer.text)[1]
    )
    assert [status_of(app, r) for r in mine] == [IncidentStatus.OPEN] * 2

    fixed = liaison.post(
        "/queue/acknowledge-all",
        data={"csrf_token": token_of(answer.text), "reference": mine, "note": "Hotline called"},
    )
    assert fixed.status_code == 302 and [ack_note_of(app, r) for r in mine] == ["Hotline called"] * 2


def events_of(app, reference: str, kind: EventKind) -> list[dict]:
    with session_scope(app) as session:
        found = session.scalars(
            select(TimelineEvent).join(Incident).where(Incident.reference == reference, TimelineEvent.kind == kind)
        )
        return [event.details for event in found]


def test_a_note_sent_with_an_acknowledgement_someone_else_made_first_is_offered_as_a_comment(app, client, world):
    """Acknowledging from the board a moment after a colleague did was a flash line and a redirect: the note typed
    was gone (found in review). The incident page comes back with the note in its comment field, as typed, and
    says why; nothing is added until the officer sends it."""
    reference = file_incident(client, world)["reference"]
    liaison = signed_in(app, "liaison")
    board = liaison.get("/board").text
    first = client.post(f"/api/v1/incidents/{reference}/acknowledge", json={}, headers=world.auth("supervisor"))
    assert first.status_code == 200, first.get_json()
    typed = "Eastland duty officer reached on the hotline, <calling back> at 1400Z"

    late = liaison.post(
        f"/incidents/{reference}/acknowledge", data={"csrf_token": token_of(board), "next": "/board", "note": typed}
    )
    assert late.status_code == 422, late.status_code
    form = re.search(r'<form method="post" action="/incidents/[^"]+/comments">.*?</form>', late.text, re.S)[0]
    assert html.unescape(re.search(r"<textarea[^>]*>\s*([^<]*)</textarea>", form)[1]) == typed
    at = first.get_json()["acknowledged_at"]
    said = (
        f"is already acknowledged by supervisor at {at[:10]} {at[11:19]}Z ({format_dtg(parse_moment(at))}): "
        "your note was not added. It is in the comment below; add it if it still matters."
    )
    assert said in html.unescape(form), form
    assert any(said in line for line in flashes_of(late.text))
    assert events_of(app, reference, EventKind.COMMENTED) == [], "offered, never added by itself"
    assert ack_note_of(app, reference) == "", "the colleague's acknowledgement, without the note"

    added = liaison.post(
        f"/incidents/{reference}/comments",
        data={
            "csrf_token": token_of(late.text),
            "comment_key": re.search(r'name="comment_key" type="hidden" value="([^"]+)"', form)[1],
            "text": typed,
        },
    )
    assert added.status_code == 302, added.status_code
    assert [event["text"] for event in events_of(app, reference, EventKind.COMMENTED)] == [typed]


def test_a_late_acknowledgement_without_a_note_goes_back_with_a_flash_as_before(app, client, world):
    reference = file_incident(client, world)["reference"]
    liaison = signed_in(app, "liaison")
    board = liaison.get("/board").text
    first = client.post(f"/api/v1/incidents/{reference}/acknowledge", json={}, headers=world.auth("supervisor"))
    assert first.status_code == 200, first.get_json()
    late = liaison.post(f"/incidents/{reference}/acknowledge", data={"csrf_token": token_of(board), "next": "/board"})
    assert late.status_code == 302 and late.headers["Location"] == "/board"
    # who owns it now, and since when: the officer turns to them, not to the incident
    at = first.get_json()["acknowledged_at"]
    said = (
        f"{reference} is already acknowledged by supervisor at {at[:10]} {at[11:19]}Z ({format_dtg(parse_moment(at))})"
    )
    lines = flashed(liaison, "/board")
    assert any(said in line for line in lines), lines
