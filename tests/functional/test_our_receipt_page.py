"""Our receipt of a message the other side sent, from the incident page: the standard formula goes at once (no words of
ours, so no second person), once per message; the pages offered nothing, and a desk had to use the API."""

import re

import pytest

from tests.exchange_support import acknowledged_incident, add_counterpart_line, api, open_exchange
from tests.support import csrf, outbox_files, sign_in
from tracker import jobs

FORM = re.compile(r'<form class="inline our-receipt" method="post" action="([^"]+)">')


@pytest.fixture
def theirs(app, client, world):
    """(reference, exchange id, their message's id): an exchange over the line, and a reply of theirs on it."""
    add_counterpart_line(app, world)
    api_client = app.test_client()
    reference = acknowledged_incident(api_client, world)
    exchange = open_exchange(api_client, world, reference)
    path = f"/exchanges/{exchange['id']}/messages"
    reply = api(
        api_client, world, "POST", path, {"direction": "in", "text": "Eastland: a training flight."}, status=201
    )
    return reference, exchange["id"], reply["id"]


def test_a_desk_sends_our_receipt_of_their_message_from_the_page_once(app, client, world, theirs):
    reference, _, message_id = theirs
    sign_in(client, "liaison")
    page = client.get(f"/incidents/{reference}").text
    [action] = FORM.findall(page)
    assert action.endswith(f"/messages/{message_id}/our-receipt"), action

    sent = client.post(action, data={"csrf_token": csrf(client, f"/incidents/{reference}")})
    assert sent.status_code == 302 and sent.headers["Location"].endswith(f"#message-{message_id}"), sent.headers
    page = client.get(f"/incidents/{reference}").text
    assert "Our receipt of their message sent: serial" in page and 'data-our-receipt="sent"' in page
    assert not FORM.findall(page), "sent once: the button is gone"
    again = client.post(action, data={"csrf_token": csrf(client, f"/incidents/{reference}")}, follow_redirects=True)
    assert "our receipt of this message went out already" in again.text

    jobs.deliver(app)
    receipts = [p for p in outbox_files(app) if "receipt" in p.read_text().lower()]
    assert receipts and reference not in receipts[-1].read_text(), "over the line, with no incident number of ours"


def test_who_may_not_act_on_the_exchange_is_offered_no_button_and_refused(client, world, theirs):
    reference, exchange_id, message_id = theirs
    sign_in(client, "duty")
    page = client.get(f"/incidents/{reference}").text
    assert not FORM.findall(page)
    refused = client.post(
        f"/exchanges/{exchange_id}/messages/{message_id}/our-receipt",
        data={"csrf_token": csrf(client, f"/incidents/{reference}")},
    )
    assert refused.status_code == 403
