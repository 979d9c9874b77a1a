"""A dead letter recorded before a receiver's answer was masked (fc0f6a1) keeps the signed link it quoted in its
"error": the event is sealed as kept, so the pages, the print and the API mask it where they show it, and the audit
chain still verifies what is stored."""

import html
import json

from sqlalchemy import select

from tests.support import file_incident, sign_in
from tracker.db import session_scope
from tracker.models import EventKind, Incident, TimelineEvent
from tracker.services.incidents import timeline
from tracker.timeutil import utcnow

LINK, TOKEN = "https://tracker.example/links/ack/eyJsaW5rIjoxfQ.SIGNED1", "eyJsaW5rIjoyfQ.SIGNED2"
QUOTED = f'HTTP 400 refused: {{"acknowledge": {{"token": "{TOKEN}", "url": "{LINK}"}}}}'
MASKED = 'HTTP 400 refused: {"acknowledge": {"token": "…", "url": "https://tracker.example/links/ack/…"}}'


def test_a_dead_letter_kept_with_a_signed_link_is_shown_masked_and_still_verifies(app, client, world):
    reference = file_incident(client, world)["reference"]
    with session_scope(app) as session:  # as delivery recorded it before its failures were masked
        incident = session.scalar(select(Incident).where(Incident.reference == reference))
        details = {"recipient": "L1", "message": "notified", "step": 1, "loop": 0, "attempts": 1, "error": QUOTED}
        event = timeline.record(session, incident, EventKind.DEAD_LETTERED, "delivery", utcnow(), **details)
        session.flush()
        event_id = event.id
    sealing = app.test_cli_runner().invoke(args=["audit", "seal"])
    assert sealing.exit_code == 0, sealing.output

    answer = client.get(f"/api/v1/incidents/{reference}", headers=world.auth("duty"))
    [shown] = [e["details"] for e in answer.get_json()["timeline"] if e["id"] == event_id]
    sign_in(client, "duty")
    page, printed = f"/incidents/{reference}", f"/incidents/{reference}/print"
    pages = {path: html.unescape(client.get(path).text) for path in (page, printed)}

    assert shown == details | {"error": MASKED}, shown
    assert f"error: <bdi>{MASKED}</bdi>" in pages[printed], pages[printed]
    for where, text in {"API": json.dumps(shown), **pages}.items():
        assert "SIGNED" not in text, f"{where} shows the signed link: {text}"
    with session_scope(app) as session:
        kept = session.get(TimelineEvent, event_id).details
    assert kept["error"] == QUOTED, "the event is kept as recorded: the audit chain seals it so"
    verified = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert verified.exit_code == 0 and "audit chain intact" in verified.output, verified.output
