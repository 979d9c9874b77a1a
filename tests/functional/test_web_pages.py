"""The web pages through the Flask test client: sign-in, sessions, CSRF, roles, board, queue, filing."""

import html
import re

import pytest
from sqlalchemy import func, select

from tests.support import CSRF_TOKEN, csrf, file_incident, filing_form, sign_in
from tracker.db import session_scope
from tracker.models import ChannelHealth, ContactChannel, Incident, IncidentStatus

TOKEN = CSRF_TOKEN


def test_pages_need_a_signed_in_user(client, world):
    for path in ("/", "/queue", "/incidents/new", "/password"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith("/signin"), path


def test_session_cookie_is_httponly_and_samesite_lax(client, world):
    response = sign_in(client, "duty")
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie, cookie


def test_a_post_without_csrf_token_is_refused(client, world, app):
    sign_in(client, "duty")
    reference = file_incident(client, world)["reference"]
    response = client.post(f"/incidents/{reference}/comments", data={"text": "no token"})
    assert response.status_code == 400 and "<html" in response.text
    detail = client.get(f"/api/v1/incidents/{reference}", headers=world.auth("duty")).get_json()
    assert [e["kind"] for e in detail["timeline"]] == ["filed", "routed"]


def test_changing_the_password_signs_out_other_sessions(app, world):
    first, second = app.test_client(), app.test_client()
    sign_in(first, "liaison")
    sign_in(second, "liaison")
    response = first.post(
        "/password",
        data={
            "csrf_token": csrf(first, "/password"),
            "current_password": "liaison-password",
            "password": "a-new-long-password",
        },
    )
    assert response.status_code == 302
    assert first.get("/board").status_code == 200, "the session that changed it stays signed in"
    assert second.get("/board").status_code == 302, "every other session is signed out"
    assert sign_in(app.test_client(), "liaison", "a-new-long-password").status_code == 302


def test_a_duty_officer_files_through_the_form_and_sees_the_route(client, world, app):
    sign_in(client, "duty")
    response = client.post("/incidents/new", data=filing_form(client))
    assert response.status_code == 302, response.text[:2000]
    page = client.get(response.headers["Location"])
    assert (
        "Filed INC-" in page.text and "rule “<bdi>Default</bdi>”" in page.text and "notified <bdi>L1</bdi>" in page.text
    )
    assert "34U FF 2142 3097" in page.text and "54°24&#39;43" in page.text
    with session_scope(app) as session:
        incident = session.scalars(select(Incident)).one()
        assert abs(incident.latitude - 54.412) < 0.001 and incident.precedence.value == "Z"
        # radio contact left "not known": not recorded as "no"
        assert incident.platforms == [{"kind": "fighter aircraft", "transponder_on": True}]


def test_the_filing_banner_names_the_lines_called_not_a_line_down_that_was_skipped(client, world, app):
    with session_scope(app) as session:
        session.get(ContactChannel, world.channels["L1"]).health = ChannelHealth.DOWN
    sign_in(client, "duty")
    response = client.post("/incidents/new", data=filing_form(client))
    assert response.status_code == 302, response.text[:2000]
    page = client.get(response.headers["Location"]).text
    assert "notified nobody (no usable line); skipped <bdi>L1</bdi> (line down or not usable" in page, page[:3000]


def test_form_errors_stay_next_to_their_fields_with_the_input_kept(client, world, app):
    sign_in(client, "duty")
    data = filing_form(client, occurred_at="062400ZDEC17", position="north of the lake", domain="maritime")
    response = client.post("/incidents/new", data=data)
    assert response.status_code == 422
    errors = re.findall(r'<small class="error" id="([a-z_]+)-error">', response.text)
    # Every problem at once: unsafe_intercept is no maritime category, said beside it with the other two.
    assert sorted(errors) == ["category", "occurred_at", "position"], errors
    assert 'value="062400ZDEC17"' in response.text and 'value="north of the lake"' in response.text
    again = client.post("/incidents/new", data=filing_form(client, domain="maritime"))
    assert again.status_code == 422 and 'id="category-error"' in again.text, "category of another domain"
    unchosen = client.post("/incidents/new", data=filing_form(client, precedence="", position="hello"))
    errors = re.findall(r'<small class="error" id="([a-z_]+)-error">', unchosen.text)
    assert sorted(errors) == ["position", "precedence"], "no silent FLASH default, and every problem at once"
    with session_scope(app) as session:
        assert session.scalar(select(func.count()).select_from(Incident)) == 0


@pytest.mark.parametrize(
    ("path", "field", "typed"),
    [
        ("comments", "text", "Eastland called back\x07 twice: a training flight."),
        ("resolve", "resolution", "Explanation accepted\x1b[31m at the meeting."),
    ],
)
def test_a_refused_comment_or_resolution_comes_back_as_typed_with_its_problem_beside_it(
    client, world, path, field, typed
):
    """The incident page's own forms keep what was typed when refused, as its exchange forms do."""
    reference = file_incident(client, world)["reference"]
    sign_in(client, "liaison")
    page = f"/incidents/{reference}"
    answer = client.post(f"{page}/{path}", data={"csrf_token": csrf(client, page), field: typed})
    assert answer.status_code == 422, answer.status_code
    said = f'<small class="error" id="{field}-error">This must not contain control characters'
    assert said in answer.text, answer.text[-3000:]
    kept = re.search(rf'<textarea[^>]* name="{field}"[^>]*>\s*(.*?)</textarea>', answer.text, re.S)
    assert kept and kept[1] == typed, kept
    assert "Nothing was recorded" in answer.text, "the line at the top says so too"
    detail = client.get(f"/api/v1/incidents/{reference}", headers=world.auth("duty")).get_json()
    assert [e["kind"] for e in detail["timeline"]] == ["filed", "routed"] and detail["status"] == "open"


def test_board_orders_by_precedence_then_deadline_and_rows_refresh(client, world):
    sign_in(client, "duty")
    routine = file_incident(client, world, precedence="R")["reference"]
    flash = file_incident(client, world, precedence="Z")["reference"]
    immediate = file_incident(client, world, precedence="O")["reference"]
    rows = client.get("/board/rows").text
    order = re.findall(r'data-reference="([^"]+)"', rows)
    assert order == [flash, immediate, routine]
    filtered = client.get("/board/rows?precedence=Z").text
    assert re.findall(r'data-reference="([^"]+)"', filtered) == [flash]
    board = client.get("/?precedence=Z")
    assert 'value="Z" checked' in board.text and "precedence=Z" in board.text, "filters survive the refresh"


def test_a_board_filter_in_another_case_applies_and_one_naming_nothing_is_said(client, world):
    """?precedence=z or ?status=bogus showed every incident, no box ticked and not a word."""
    sign_in(client, "duty")
    flash = file_incident(client, world, precedence="Z")["reference"]
    file_incident(client, world, precedence="R")
    lower = client.get("/board?precedence=z")
    assert 'value="Z" checked' in lower.text and "Not filtered by" not in lower.text
    assert re.findall(r'data-reference="([^"]+)"', client.get("/board/rows?precedence=z").text) == [flash]
    bogus = html.unescape(client.get("/board?status=bogus&precedence=Q").text)
    assert "Not filtered by status “bogus”, precedence “Q”: no such precedence or state." in re.sub(
        r"</?bdi>", "", bogus
    ), bogus[:3000]


@pytest.mark.both_databases  # the order is SQL's (a CASE over the status column)
def test_within_a_precedence_whom_nobody_took_comes_first(app, client, world):
    """Exhausted (its ladder ran out), then open, then acknowledged, on the board and in My queue."""
    owned = file_incident(client, world, precedence="O")["reference"]
    ran_out = file_incident(client, world, precedence="O")["reference"]
    waiting = file_incident(client, world, precedence="O")["reference"]
    client.post(f"/api/v1/incidents/{owned}/acknowledge", json={}, headers=world.auth("liaison"))
    with session_scope(app) as session:
        incident = session.scalars(select(Incident).where(Incident.reference == ran_out)).one()
        incident.status, incident.next_escalation_at = IncidentStatus.EXHAUSTED, None
    sign_in(client, "liaison")
    board = re.findall(r'data-reference="([^"]+)"', client.get("/board/rows").text)
    assert board == [ran_out, waiting, owned], board
    queue = re.findall(r'data-reference="([^"]+)"', client.get("/queue").text)
    assert queue[:2] == [ran_out, waiting] and owned not in queue, queue


def test_the_queue_shows_only_incidents_on_my_channels(app, world):
    filer = app.test_client()
    sign_in(filer, "duty")
    reference = file_incident(filer, world)["reference"]
    member, outsider = app.test_client(), app.test_client()
    sign_in(member, "liaison")
    sign_in(outsider, "outsider")
    assert reference in member.get("/queue/rows").text
    assert reference not in outsider.get("/queue/rows").text
    page = outsider.get(f"/incidents/{reference}")
    assert page.status_code == 200 and ">Acknowledge</button>" not in page.text
    token = TOKEN.search(page.text)[1]
    assert outsider.post(f"/incidents/{reference}/acknowledge", data={"csrf_token": token}).status_code == 403
    page = member.get(f"/incidents/{reference}")
    assert ">Acknowledge</button>" in page.text
    token = TOKEN.search(page.text)[1]
    assert member.post(f"/incidents/{reference}/acknowledge", data={"csrf_token": token}).status_code == 302
    assert "acknowledged" in member.get(f"/incidents/{reference}").text
    assert reference not in member.get("/queue/rows").text


@pytest.mark.parametrize(("who", "path", "status"), [("liaison", "/incidents/new", 403), ("duty", "/nowhere", 404)])
def test_error_pages_are_html_in_the_same_layout(client, world, who, path, status):
    sign_in(client, who)
    response = client.get(path)
    assert response.status_code == status and 'class="top"' in response.text and "Back to the board" in response.text


def test_readback_shows_the_other_notations(client, world):
    sign_in(client, "duty")
    answer = client.get("/incidents/readback?occurred_at=061620ZDEC17&position=54 24 43N 022 52 16E").get_json()
    assert answer["occurred_at"].startswith("2017-12-06T16:20:00Z = 061620ZDEC17 - "), answer  # days ago: check it
    assert answer["position"].startswith(
        "54.41194, 22.87111 = 54°24.717'N 022°52.267'E = 54°24'43\"N 022°52'16\"E = MGRS 34U FF"
    ), answer


def test_a_server_error_is_a_page_in_the_layout_without_the_exception_text(make_app, world):
    app = make_app(TESTING=False, PROPAGATE_EXCEPTIONS=False)

    @app.get("/explode")
    def explode():
        raise RuntimeError("secret internals")

    client = app.test_client()
    sign_in(client, "duty")
    page = client.get("/explode")
    assert page.status_code == 500 and "500 · Server error" in page.text and 'class="top"' in page.text
    assert "secret internals" not in page.text and "Traceback" not in page.text


def test_my_queue_says_in_its_title_and_heading_how_many_await_acknowledgement(app, world):
    filer, member = app.test_client(), app.test_client()
    sign_in(filer, "duty")
    sign_in(member, "liaison")
    assert "<title>My queue: none awaiting acknowledgement · Incident tracker</title>" in member.get("/queue").text
    first = file_incident(filer, world)["reference"]
    file_incident(filer, world)
    page = member.get("/queue").text
    assert "<title>My queue: 2 awaiting acknowledgement · Incident tracker</title>" in page
    assert re.search(r"<h1>My queue: <span data-waiting>2 awaiting acknowledgement</span></h1>", page), page
    token = TOKEN.search(member.get(f"/incidents/{first}").text)[1]
    assert member.post(f"/incidents/{first}/acknowledge", data={"csrf_token": token}).status_code == 302
    assert "<title>My queue: 1 awaiting acknowledgement" in member.get("/queue").text
