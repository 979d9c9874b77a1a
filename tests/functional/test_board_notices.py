"""The board's and My queue's notices keep themselves current as their rows do (web/board.py board_notices,
queue_notices): a text that comes to wait for my approval, or a line that goes down, shows on a board left
open all watch without a reload; 304 while nothing changed."""

from tests.exchange_support import acknowledged_incident, add_counterpart_line, drafts, open_exchange
from tests.support import sign_in
from tracker.db import session_scope
from tracker.models import ChannelHealth, ContactChannel


def poll(client, path: str, tag: str | None = None):
    return client.get(path, headers={"If-None-Match": tag} if tag else {})


def live_part(page: str, key: str) -> str:
    """The part static/live.js swaps in: the whole fragment holds it, by its key."""
    assert f'data-live="{key}"' in page, page[:2000]
    return page


def test_a_text_waiting_for_my_approval_and_a_line_gone_down_show_on_the_open_board(app, client, world):
    add_counterpart_line(app, world)
    supervisor = app.test_client()
    sign_in(supervisor, "supervisor")
    board = supervisor.get("/board").text
    assert 'data-live-source="/board/notices"' in board and 'data-live="notices"' in board
    first = poll(supervisor, "/board/notices")
    assert first.status_code == 200 and "Waiting for my approval" not in first.text, first.text
    assert poll(supervisor, "/board/notices", first.headers["ETag"]).status_code == 304, "nothing changed"

    reference = acknowledged_incident(client, world)
    opened = open_exchange(client, world, reference, release=False)
    (notice,) = drafts(client, world, opened["id"])
    waiting = poll(supervisor, "/board/notices", first.headers["ETag"])
    assert waiting.status_code == 200, "a text now waits for the supervisor's approval: the notices changed"
    assert "Waiting for my approval" in live_part(waiting.text, "notices")
    assert f'data-message="{notice["id"]}"' in waiting.text

    with session_scope(app) as session:
        line = session.get_one(ContactChannel, world.channels["L1"])
        line.health, line.consecutive_failures = ChannelHealth.DOWN, 3
    down = poll(supervisor, "/board/notices", waiting.headers["ETag"])
    assert down.status_code == 200 and "1 line not confirmed working" in down.text, down.text
    assert 'data-line="L1"' in down.text

    # A duty officer approves nothing on the board: their notices say the line, not the text.
    duty = app.test_client()
    sign_in(duty, "duty")
    theirs = poll(duty, "/board/notices").text
    assert 'data-line="L1"' in theirs and "Waiting for my approval" not in theirs


def test_my_queue_keeps_its_notices_and_what_waits_on_my_lines_current(app, client, world):
    add_counterpart_line(app, world)
    reference = acknowledged_incident(client, world)
    opened = open_exchange(client, world, reference, release=False)
    (notice,) = drafts(client, world, opened["id"])
    supervisor = app.test_client()
    sign_in(supervisor, "supervisor")
    queue = supervisor.get("/queue").text
    assert 'data-live-source="/queue/notices"' in queue and 'data-live="owed"' in queue
    first = poll(supervisor, "/queue/notices")
    assert "Waiting for my approval" in live_part(first.text, "owed") and f'data-message="{notice["id"]}"' in first.text
    assert live_part(first.text, "notices")

    approved = client.post(
        f"/api/v1/exchange-messages/{notice['id']}/approve",
        json={"version": notice["version"]},
        headers=world.auth("supervisor"),
    )
    assert approved.status_code == 200, approved.get_json()
    after = poll(supervisor, "/queue/notices", first.headers["ETag"])
    assert after.status_code == 200 and "Waiting for my approval" not in after.text, after.text


def test_serving_only_the_line_to_the_other_side_puts_none_of_our_incidents_in_my_queue(app, client, world):
    """Someone on the counterpart line alone saw our incident in My queue, with an Acknowledge they were refused (403):
    texts to the other side over their line are no routing of the incident to them (handling.is_member_for)."""
    from sqlalchemy import select

    from tracker.models import Incident, IncidentStatus

    add_counterpart_line(app, world, members=["liaison", "outsider"])
    reference = acknowledged_incident(client, world)
    open_exchange(client, world, reference)  # its notice approved and sent over the line
    with session_scope(app) as session:  # open again (a re-escalation of an idle incident, say)
        incident = session.scalar(select(Incident).where(Incident.reference == reference))
        incident.status = IncidentStatus.OPEN
    outsider, liaison = app.test_client(), app.test_client()
    sign_in(outsider, "outsider")
    sign_in(liaison, "liaison")
    assert f'data-reference="{reference}"' not in outsider.get("/queue/rows").text
    assert reference not in outsider.get("/queue/acknowledge-all").text
    assert f'data-reference="{reference}"' in liaison.get("/queue/rows").text, "routed to the liaison's own line"
