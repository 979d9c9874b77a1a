"""The board in pages: the most urgent first, the rest a page away, each row read as plain columns."""

import re

import pytest
from sqlalchemy import select

from tests.support import file_incident, sign_in
from tracker.db import session_scope
from tracker.models import Incident, NotificationStatus
from tracker.services.incidents import queries

# The ladder's length is read from its JSON in SQL (json_array_length): engine-dependent.
pytestmark = pytest.mark.both_databases


def test_the_board_reads_its_rows_in_pages_most_urgent_first(app, client, world):
    filed = [file_incident(client, world, precedence=p)["reference"] for p in ("R", "Z", "P", "O", "R")]
    with session_scope(app) as session:
        first = queries.board(session, per_page=2)
        last = queries.board(session, page=3, per_page=2)
        beyond = queries.board(session, page=9, per_page=2)
    assert (first.total, first.pages, first.first) == (5, 3, 1)
    assert [r.reference for r in first.rows] == [filed[1], filed[3]], "FLASH, then IMMEDIATE"
    assert [r.reference for r in last.rows] == [filed[4]] and last.first == 5
    assert beyond.page == 3, "a page past the last shows the last"
    row = first.rows[0]
    assert (row.current_step, row.step_count, row.step_channels) == (1, 2, ["L1"]), row


def test_the_board_page_links_the_next_page_and_keeps_its_filters(app, client, world, monkeypatch):
    monkeypatch.setattr(queries, "BOARD_PAGE", 2)
    for _ in range(3):
        file_incident(client, world, precedence="P")
    sign_in(client, "supervisor")
    page = client.get("/board?precedence=P").get_data(as_text=True)
    assert "Incidents 1–2 of 3" in page, page
    assert 'href="/board?precedence=P&amp;page=2" rel="next"' in page, page
    second = client.get("/board?precedence=P&page=2").get_data(as_text=True)
    assert "Incidents 3–3 of 3" in second and 'rel="prev"' in second and "Step 1/2" in second
    rows = client.get("/board/rows?precedence=P&page=2", headers={"X-Requested-With": "fetch"})
    assert rows.status_code == 200 and rows.get_data(as_text=True).count("<tr") == 1, rows.get_data(as_text=True)
    assert client.get("/board?page=x%00").status_code == 200, "a page that is no number shows the first"


@pytest.mark.parametrize("query", ["endpoint=x", "_external=1", "_scheme=javascript&_external=1", "_anchor=top"])
def test_a_query_naming_url_fors_own_arguments_is_no_500_and_no_other_link(client, world, query):
    """The board's query went whole into url_for to draw the rows it polls and the pager: ?endpoint=x was a
    TypeError (500), ?_external=1 made the polled rows' address another origin's."""
    file_incident(client, world)
    sign_in(client, "supervisor")
    answer = client.get(f"/board?precedence=O&{query}")
    assert answer.status_code == 200, answer.status_code
    assert 'data-refresh="/board/rows?precedence=O"' in answer.text


def test_a_row_whose_message_was_given_up_on_says_dead_letter_and_only_that_row(app, client, world):
    given_up, fine = (file_incident(client, world)["reference"] for _ in range(2))
    with session_scope(app) as session:
        incident = session.scalar(select(Incident).where(Incident.reference == given_up))
        incident.notifications[0].status = NotificationStatus.DEAD
    with session_scope(app) as session:
        marked = {row.reference: row.dead_letter for row in queries.board(session).rows}
    assert marked == {given_up: True, fine: False}, marked
    sign_in(client, "supervisor")
    page = client.get("/board").get_data(as_text=True)
    rows = {reference: row for row in page.split("<tr")[1:] if (reference := _reference(row))}
    assert "DEAD LETTER" in rows[given_up] and "DEAD LETTER" not in rows[fine], page


def _reference(row: str) -> str | None:
    found = re.search(r'data-reference="([^"]+)"', row)
    return found[1] if found else None
