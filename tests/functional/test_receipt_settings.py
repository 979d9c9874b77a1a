"""A counterpart line's receipt deadlines (API and admin form), and receipt links that are not genuine."""

from datetime import datetime

import pytest

from tests.exchange_support import LINE, acknowledged_incident, add_counterpart_line, api, open_exchange
from tests.support import CSRF_TOKEN, sign_in


@pytest.mark.parametrize(
    "value",
    [{"X": 900}, {"Z": 10}, {"Z": "900"}, {"Z": True}, ["Z", 900]],
    ids=["unknown letter", "under a minute", "a string", "a boolean", "not a mapping"],
)
def test_a_line_with_bad_receipt_deadlines_is_refused_with_422(client, world, value):
    body = {"name": "Spare line", "level": 3, "transport": "outbox", "address": "spare@eastland.test"}
    answer = client.post("/api/v1/channels", json={**body, "receipt_seconds": value}, headers=world.auth("admin"))
    assert answer.status_code == 422, answer.get_data(True)
    assert "receipt_seconds" in str(answer.get_json()["error"]["details"])


def test_receipt_deadlines_are_set_through_the_api_and_drive_the_clock(app, client, world):
    line = add_counterpart_line(app, world)
    changed = api(client, world, "PATCH", f"/channels/{line}", {"receipt_seconds": {"O": 120}}, who="admin")
    assert changed["receipt_seconds"] == {"O": 120}
    reference = acknowledged_incident(client, world, precedence="O", releasable_to=["Eastland"])
    exchange = open_exchange(client, world, reference, line=LINE)
    [notice] = [m for m in exchange["messages"] if m["direction"] == "out"]
    sent, due = (datetime.fromisoformat(notice[k]) for k in ("at", "receipt_due_at"))
    assert (due - sent).total_seconds() == 120
    cleared = api(client, world, "PATCH", f"/channels/{line}", {"receipt_seconds": None}, who="admin")
    assert cleared["receipt_seconds"] is None


def test_the_admin_form_takes_receipt_deadlines_as_letter_seconds_pairs(app, world):
    line = add_counterpart_line(app, world)
    admin = app.test_client()
    sign_in(admin, "admin")
    path = f"/admin/channels/{line}/edit"
    page = admin.get(path).text
    assert 'name="receipt_seconds"' in page
    form = {
        "csrf_token": CSRF_TOKEN.search(page)[1],
        "name": LINE,
        "level": "3",
        "counterpart": "Eastland Ministry of Defence",
        "transport": "outbox",
        "address": "eastland@eastland.test",
        "active": "y",
        "members": ["liaison"],
        "check_window_seconds": "900",
        "counterpart_line": "y",
        "reply_deadline_seconds": "172800",
        "meeting_deadline_seconds": "172800",
        "language": "ru",
    }
    wrong = admin.post(path, data={**form, "receipt_seconds": "Q=5"})
    assert wrong.status_code == 422 and "letter=seconds pairs" in wrong.text
    assert 'value="Q=5"' in wrong.text, "the refused deadlines were not kept to be corrected"
    # The API refuses more than 90 days (422); the page saved a year.
    too_long = admin.post(path, data={**form, "receipt_seconds": "Z=31536000"})
    assert too_long.status_code == 422 and 'value="Z=31536000"' in too_long.text, too_long.text[:500]
    assert "60 to 7776000" in too_long.text
    saved = admin.post(path, data={**form, "receipt_seconds": "z=600, O=1800"})
    assert saved.status_code == 302, saved.text[:500]
    assert api(admin, world, "GET", f"/channels/{line}", who="admin")["receipt_seconds"] == {"Z": 600, "O": 1800}
    assert 'value="Z=600 O=1800"' in admin.get(path).text


@pytest.mark.parametrize("token", ["not-a-token-at-all", "eyJtZXNzYWdlIjoxfQ.abc.def"])
def test_a_receipt_link_that_is_not_genuine_changes_nothing(client, token):
    shown = client.get(f"/links/receipt/{token}")
    assert shown.status_code == 400 and "This link is not valid" in shown.text
    assert client.post(f"/links/receipt/{token}", data={"name": "x"}).status_code == 400
