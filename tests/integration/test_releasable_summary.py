"""THE releasable-summary test: with every incident field filled with a distinctive marker, what the
other side really receives (e-mail over a real SMTP server, a webhook over a real HTTP receiver)
holds the markers of releasable fields only. Nothing withheld gets through: not in the draft, not
typed in by hand before approval, not through counterpart.draft directly, and not in the incident's
own acknowledged or resolved messages, which never go to a counterpart line."""

import json
import re
import time

import pytest
from sqlalchemy import select

from tests.summaries_support import acknowledge, counterpart_line, open_exchange
from tests.support import build_world, file_incident
from tracker import jobs
from tracker.db import session_scope
from tracker.errors import ValidationError
from tracker.geo import to_mgrs
from tracker.models import Exchange, ExchangeMessage, Incident, Notification, NotificationKind
from tracker.services.engine import notify
from tracker.services.exchanges import counterpart, releasability
from tracker.timeutil import utcnow

LATITUDE, LONGITUDE = 54.61873, 23.10952
FILING = {
    "occurred_at": "2025-06-14T09:26:00Z",
    "reporting_unit": "MARKER-UNIT-7781",
    "domain": "air",
    "category": "unsafe_intercept",
    "precedence": "P",
    "escalation_risk": "near_routine",
    "safety_risk": "C",
    "latitude": LATITUDE,
    "longitude": LONGITUDE,
    "position_text": "54 37 07.4N 023 06 34.3E",  # read by the API: a real position, the coordinates above
    "sector": "MARKER-SECTOR-3303",
    "cpa_horizontal_m": 4321,
    "cpa_vertical_ft": 8765,
    "narrative": "MARKER-NARR-6642 closed on our patrol aircraft.",
    "actions_taken": "MARKER-ACTS-5117 called on guard frequency.",
    "platforms": [
        {
            "kind": "MARKER-PKIND-1188",
            "type": "MARKER-PTYPE-1177",
            "nationality": "MARKER-PNAT-1199",
            "callsign": "MARKER-PCALL-1166",
            "transponder_on": False,
            "radio_contact": False,
        }
    ],
}
# What of each field a message would show. Codes too short to search for (the safety risk "C",
# the precedence "P") are looked for as the words a summary writes around them.
MARKERS = {
    "occurred_at": ["140926ZJUN25"],
    "domain": ["Domain: air."],
    "category": ["intercept at close range"],
    "position": [f"{LATITUDE:.5f}, {LONGITUDE:.5f}", to_mgrs(LATITUDE, LONGITUDE)],
    "sector": ["MARKER-SECTOR-3303"],
    "border_distance_km": [],  # filled in from the filed incident: the region measures it
    "cpa": ["4321", "8765"],
    "platforms": ["MARKER-PKIND-1188", "MARKER-PTYPE-1177", "MARKER-PNAT-1199", "MARKER-PCALL-1166"],
    "reporting_unit": ["MARKER-UNIT-7781"],
    "actions_taken": ["MARKER-ACTS-5117"],
    "narrative": ["MARKER-NARR-6642"],
    "safety_risk": ["ICAO risk class C"],
    "escalation_risk": ["near routine", "near_routine"],
    "precedence": ["PRIORITY"],
}
# The same facts in the lines' second languages.
SECOND = {"ru": "перехват на близком расстоянии", "fr": "interception à courte distance"}
CASES = {
    "defaults": {},
    "narrative-released": {"narrative": True},
    "everything-released": dict.fromkeys(releasability.FIELDS, True),
    "everything-withheld": dict.fromkeys(releasability.FIELDS, False),
    "area-withheld": {"position": False, "sector": False, "border_distance_km": False, "cpa": False},
}


# -- the scene --------------------------------------------------------------------------------


def scene(app, smtp_server, webhook_receiver, releasable: dict | None = None):
    """An incident full of markers, acknowledged, with an exchange over a webhook line (ru) and an
    e-mail line (fr); the ladder's own messages (to an outbox line) are delivered, the receivers emptied."""
    client = app.test_client()
    world = build_world(app)
    # A sector must be one the region or a routing rule names: a rule names the marker.
    rule = {"name": "Marker sector", "sector": FILING["sector"], "policy_id": world.policy_id, "position": 5}
    assert client.post("/api/v1/rules", json=rule, headers=world.auth("admin")).status_code == 201
    filed = file_incident(client, world, **FILING, releasability=releasable or {})
    reference = filed["reference"]
    with session_scope(app) as session:  # the demo region is fictional, whose distances are never told:
        session.scalars(select(Incident).where(Incident.reference == reference)).one().border_basis = "region_file"
    markers = {**MARKERS, "border_distance_km": [f"about {filed['border_distance_km']:.1f} km"]}
    everything = "\n".join(m for ms in markers.values() for m in ms) + reference
    assert everything.count("4321") == 1 and everything.count("8765") == 1, f"markers must not collide: {markers}"
    deliver_until_idle(app)  # our own line has the incident, so its acknowledgement is announced there
    acknowledge(client, world, reference)
    hook = counterpart_line(app, "Hotline (webhook)", "webhook", webhook_receiver.url, language="ru")
    mail = counterpart_line(app, "Attache desk (e-mail)", "email", "attache@other-side.example", language="fr")
    exchanges = {"webhook": open_exchange(app, reference, hook), "email": open_exchange(app, reference, mail)}
    deliver_until_idle(app)
    webhook_receiver.requests.clear()
    smtp_server.inbox.messages.clear()
    return client, world, reference, exchanges, markers


def deliver_until_idle(app, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        jobs.deliver(app)
        with session_scope(app) as session:
            busy = [
                (n.id, n.kind.value, n.recipient, n.status.value, n.last_error)
                for n in session.scalars(select(Notification))
                if n.status.value in ("pending", "sending")
            ]
        if not busy:
            return
        time.sleep(0.05)
    raise AssertionError(f"messages still waiting after {timeout}s: {busy}")


def post(client, world, path: str, expect: int = 200, who: str | None = None, **body) -> dict:
    """POST as the liaison; an approval as the supervisor (four eyes: never the drafter)."""
    who = who or ("supervisor" if path.endswith("/approve") else "liaison")
    response = client.post(f"/api/v1{path}", json=body, headers=world.auth(who))
    assert response.status_code == expect, f"POST {path}: {response.status_code} {response.get_json()}"
    return response.get_json()


def draft_approve_send(client, world, reference: str, exchange_id: int) -> dict:
    summary = post(client, world, f"/incidents/{reference}/summaries", 201, exchange_id=exchange_id)
    approved = post(client, world, f"/summaries/{summary['id']}/approve", version=summary["version"])
    return post(client, world, f"/summaries/{approved['id']}/send")


def received(smtp_server, webhook_receiver) -> dict[str, str]:
    """Everything the other side received, as text: each e-mail (headers, plain and HTML parts
    decoded) and each webhook request (raw body, and its JSON decoded so non-ASCII reads)."""
    found = {}
    for number, mail in enumerate(smtp_server.messages):
        parts = [part.get_content() for part in mail.walk() if not part.is_multipart()]
        headers = "\n".join(f"{k}: {mail[k]}" for k in ("From", "To", "Subject"))  # not the SMTP peer's port
        found[f"e-mail {number}"] = "\n".join([headers, *parts])
    for number, request in enumerate(webhook_receiver.requests):
        body = request["body"].decode()
        found[f"webhook {number}"] = "\n".join([body, json.dumps(json.loads(body), ensure_ascii=False)])
    return found


def holds(text: str, marker: str) -> bool:
    """The marker in text; a number only as a number of its own, not inside a time stamp, a message's
    key or a signed link (seen: CPA 8765 found in "notification-3-20261204155936876583")."""
    if not marker.isdigit():
        return marker in text
    return re.search(rf"(?<![\w-]){marker}(?![\w-])", text) is not None


def check_markers(messages: dict[str, str], markers: dict, releasable: dict[str, bool]) -> None:
    """Every message holds every marker of every releasable field and none of any other field."""
    for where, text in messages.items():
        missing = {f: [m for m in ms if not holds(text, m)] for f, ms in markers.items() if releasable[f]}
        leaked = {f: [m for m in ms if holds(text, m)] for f, ms in markers.items() if not releasable[f]}
        assert not any(leaked.values()), f"{where} carries withheld content {leaked}:\n{text}"
        # An underscore code is how the incident stores a value; a summary writes words.
        missing = {f: [m for m in ms if "_" not in m] for f, ms in missing.items()}
        assert not any(missing.values()), f"{where} lacks releasable content {missing}:\n{text}"


# -- the acceptance test ----------------------------------------------------------------------


@pytest.mark.parametrize("case", list(CASES))
def test_the_other_side_receives_markers_of_releasable_fields_only(mail_app, smtp_server, webhook_receiver, case):
    client, world, reference, exchanges, markers = scene(mail_app, smtp_server, webhook_receiver, CASES[case])
    for exchange_id in exchanges.values():
        draft_approve_send(client, world, reference, exchange_id)
    deliver_until_idle(mail_app)

    smtp_server.wait_for(1)
    assert len(webhook_receiver.requests) == 1, f"one webhook expected: {webhook_receiver.requests}"
    messages = received(smtp_server, webhook_receiver)
    assert len(messages) == 2, list(messages)
    allowed = {**releasability.DEFAULTS, **CASES[case]}
    check_markers(messages, markers, allowed)
    [mail] = smtp_server.messages
    assert mail["To"].endswith("<attache@other-side.example>"), mail
    # The marking, the exchange's reference, the line's serial and the subject: never our internal incident number.
    subject = r"UNCLASSIFIED // REL TO EASTLAND - NM-\d{4}-\d{4} SERIAL \d{4}/\d{4} SUMMARY OF INCIDENT"
    assert re.fullmatch(subject, mail["Subject"]), mail["Subject"]
    hooked = json.loads(webhook_receiver.requests[0]["body"])["subject"]
    assert re.fullmatch(subject, hooked), f"the webhook's subject is the e-mail's: {hooked}"
    assert reference not in "".join(f"{k}: {v}" for k, v in mail.items()), mail.items()
    if allowed["category"]:
        assert SECOND["fr"] in messages["e-mail 0"], messages["e-mail 0"]
        assert SECOND["ru"] in messages["webhook 0"], messages["webhook 0"]


def test_marking_the_narrative_releasable_lets_its_marker_through(mail_app, smtp_server, webhook_receiver):
    client, world, reference, exchanges, markers = scene(mail_app, smtp_server, webhook_receiver)
    draft_approve_send(client, world, reference, exchanges["webhook"])
    changed = client.patch(
        f"/api/v1/incidents/{reference}/releasability", json={"narrative": True}, headers=world.auth("liaison")
    )
    assert changed.status_code == 200, changed.get_json()
    draft_approve_send(client, world, reference, exchanges["webhook"])
    deliver_until_idle(mail_app)
    before, after = (received(smtp_server, webhook_receiver)[f"webhook {n}"] for n in (0, 1))
    assert "MARKER-NARR-6642" not in before, before
    assert "MARKER-NARR-6642" in after, after
    assert "MARKER-UNIT-7781" not in after, after


@pytest.mark.parametrize("field", ["text", "text_second"])
def test_withheld_content_typed_into_a_summary_is_refused_and_nothing_goes_out(
    mail_app, smtp_server, webhook_receiver, field
):
    client, world, reference, exchanges, _ = scene(mail_app, smtp_server, webhook_receiver)
    for exchange_id in exchanges.values():
        summary = post(client, world, f"/incidents/{reference}/summaries", 201, exchange_id=exchange_id)
        typed = f"{summary[field]}\nAlso, as our log says: MARKER-NARR-6642."  # a fragment, not the whole
        edited = client.patch(
            f"/api/v1/summaries/{summary['id']}",
            json={field: typed, "version": summary["version"]},
            headers=world.auth("liaison"),
        ).get_json()
        refused = post(client, world, f"/summaries/{summary['id']}/approve", 422, version=edited["version"])
        assert "narrative" in refused["error"]["details"], refused
        unsent = post(client, world, f"/summaries/{summary['id']}/send", 409)
        assert unsent["error"]["details"]["status"] == "draft", unsent
    deliver_until_idle(mail_app)
    assert received(smtp_server, webhook_receiver) == {}, "nothing may reach the other side"
    with session_scope(mail_app) as session:
        assert session.scalars(select(ExchangeMessage)).all() == [], "no message may be on record as sent"


def test_counterpart_draft_itself_refuses_withheld_content(mail_app, smtp_server, webhook_receiver):
    _, _, _, exchanges, _ = scene(mail_app, smtp_server, webhook_receiver)
    with session_scope(mail_app) as session:
        exchange = session.get(Exchange, exchanges["webhook"])
        for text, second in (("Reported by MARKER-UNIT-7781.", None), ("Fine.", "MARKER-ACTS-5117 called.")):
            with pytest.raises(ValidationError) as refused:
                counterpart.draft(session, exchange, "message", text, "liaison", utcnow(), second)
            assert refused.value.status == 422 and set(refused.value.details) <= {"reporting_unit", "actions_taken"}
        session.rollback()
    deliver_until_idle(mail_app)
    assert received(smtp_server, webhook_receiver) == {}, "nothing may reach the other side"


def test_the_incidents_own_messages_never_reach_a_counterpart_line(mail_app, smtp_server, webhook_receiver):
    client, world, reference, exchanges, markers = scene(mail_app, smtp_server, webhook_receiver)
    draft_approve_send(client, world, reference, exchanges["webhook"])
    deliver_until_idle(mail_app)
    assert len(received(smtp_server, webhook_receiver)) == 1
    post(client, world, f"/incidents/{reference}/resolve", resolution="Talked it through.")
    for kind in (NotificationKind.ACKNOWLEDGED, NotificationKind.RESOLVED):
        with session_scope(mail_app) as session:
            incident = session.get(Exchange, exchanges["webhook"]).incident
            reached = [c.name for c in notify.announce(session, incident, kind, utcnow())]
            session.rollback()  # only asking whom it would tell
        assert reached == ["L1"], f"{kind.value} would go to {reached}; our own line only, never the other side"
    deliver_until_idle(mail_app)
    messages = received(smtp_server, webhook_receiver)
    assert list(messages) == ["webhook 0"], f"only the approved summary may reach the other side: {list(messages)}"
    with session_scope(mail_app) as session:
        to_them = session.scalars(
            select(Notification).join(Notification.channel).where(Notification.kind != NotificationKind.COUNTERPART)
        ).all()
        lines = {n.channel.name: n.kind.value for n in to_them if n.channel.counterpart_line}
        assert lines == {}, f"ladder messages queued for counterpart lines: {lines}"
    check_markers(messages, markers, releasability.DEFAULTS)
