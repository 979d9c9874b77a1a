"""Releasability and counterpart summaries through the API: who may do what, drafting from
releasable fields, editing, approval that refuses withheld content, and sending only once approved."""

import re

import pytest
from sqlalchemy import select

from tests.summaries_support import acknowledge, counterpart_line, exchange_over_new_line, open_exchange
from tests.support import file_incident
from tracker.db import session_scope
from tracker.models import Exchange, ExchangeMessage, Notification, NotificationKind
from tracker.services.exchanges import releasability

NARRATIVE = "MARKER-NARR-6642: fighter closed to 30 m of our patrol aircraft."
UNIT = "MARKER-UNIT-7781"


def filed(client, world, **overrides) -> str:
    fields = {"narrative": NARRATIVE, "reporting_unit": UNIT, "cpa_horizontal_m": 4321, **overrides}
    return file_incident(client, world, **fields)["reference"]


def draft(client, world, reference, who="liaison", **body):
    return client.post(f"/api/v1/incidents/{reference}/summaries", json=body, headers=world.auth(who))


def act(client, world, summary, action, who=None, **body):
    """Approve (as the supervisor by default: a second person, four eyes) or send (as the liaison)."""
    who = who or ("supervisor" if action == "approve" else "liaison")
    return client.post(f"/api/v1/summaries/{summary['id']}/{action}", json=body, headers=world.auth(who))


def edit(client, world, summary, who="liaison", **body):
    return client.patch(f"/api/v1/summaries/{summary['id']}", json=body, headers=world.auth(who))


def created(response) -> dict:
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def ok(response) -> dict:
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def counterpart_rows(app) -> list[tuple]:
    with session_scope(app) as session:
        rows = session.scalars(select(Notification).where(Notification.kind == NotificationKind.COUNTERPART))
        return [(n.channel_name, n.subject, n.body) for n in rows]


# -- releasability on the incident ----------------------------------------------------------


@pytest.mark.both_databases  # releasability is a JSON column, read back
def test_an_incident_shows_every_fields_releasability_defaults_first(client, world):
    incident = client.get(f"/api/v1/incidents/{filed(client, world)}", headers=world.auth("duty")).get_json()
    assert incident["releasability"] == releasability.DEFAULTS, incident["releasability"]


@pytest.mark.both_databases  # releasability is a JSON column, written by the filing's per-engine insert
def test_filing_may_mark_fields_releasable(client, world):
    body = file_incident(client, world, releasability={"narrative": True, "cpa": False})
    assert body["releasability"] == {**releasability.DEFAULTS, "narrative": True, "cpa": False}


@pytest.mark.parametrize(
    ("releasable", "field"),
    [({"colour": True}, "colour"), ({"narrative": "perhaps"}, "narrative"), ([True], "_schema")],
)
def test_filing_refuses_unknown_fields_and_non_booleans(client, world, releasable, field):
    from tests.support import incident_payload

    response = client.post(
        "/api/v1/incidents", json=incident_payload(releasability=releasable), headers=world.auth("duty")
    )
    assert response.status_code == 422, response.get_json()
    assert field in str(response.get_json()["error"]["details"]["releasability"]), response.get_json()


@pytest.mark.both_databases  # releasability and the event's details are JSON columns
def test_patch_changes_the_named_fields_and_the_timeline_says_before_and_after(client, world):
    reference = filed(client, world)
    url = f"/api/v1/incidents/{reference}/releasability"
    body = ok(client.patch(url, json={"narrative": True, "sector": True}, headers=world.auth("liaison")))
    assert body["releasability"] == {**releasability.DEFAULTS, "narrative": True}, body["releasability"]
    [event] = [e for e in body["timeline"] if e["kind"] == "releasability_changed"]
    assert event["actor"] == "liaison"
    assert event["details"] == {"before": {"narrative": False}, "after": {"narrative": True}}, event
    again = ok(client.patch(url, json={"cpa": False}, headers=world.auth("supervisor")))
    assert again["releasability"] == {**releasability.DEFAULTS, "narrative": True, "cpa": False}


@pytest.mark.both_databases  # releasability and the event's details are JSON columns
def test_marking_a_field_back_to_its_default_is_recorded_too(client, world):
    reference = file_incident(client, world, releasability={"narrative": True})["reference"]
    url = f"/api/v1/incidents/{reference}/releasability"
    body = ok(client.patch(url, json={"narrative": False, "cpa": False}, headers=world.auth("admin")))
    assert body["releasability"] == {**releasability.DEFAULTS, "cpa": False}, body["releasability"]
    [event] = [e for e in body["timeline"] if e["kind"] == "releasability_changed"]
    assert event["details"] == {"before": {"cpa": True, "narrative": True}, "after": {"cpa": False, "narrative": False}}


@pytest.mark.parametrize(("who", "status"), [("duty", 403), ("outsider", 403), ("revoked", 401)])
def test_only_liaison_of_the_incident_supervisors_and_admins_change_releasability(client, world, who, status):
    reference = filed(client, world)
    response = client.patch(
        f"/api/v1/incidents/{reference}/releasability", json={"narrative": True}, headers=world.auth(who)
    )
    assert response.status_code == status, response.get_json()
    incident = client.get(f"/api/v1/incidents/{reference}", headers=world.auth("duty")).get_json()
    assert incident["releasability"]["narrative"] is False, "a refused change must change nothing"


def test_releasability_of_an_unknown_field_is_refused(client, world):
    reference = filed(client, world)
    response = client.patch(
        f"/api/v1/incidents/{reference}/releasability", json={"colour": True}, headers=world.auth("liaison")
    )
    assert response.status_code == 422 and "colour" in response.get_json()["error"]["details"], response.get_json()


# -- drafting ---------------------------------------------------------------------------------


@pytest.mark.both_databases  # facts and releasability read back; the event's details a JSON column
def test_a_draft_is_made_from_releasable_fields_in_english_and_the_lines_language(app, client, world):
    reference = filed(client, world)
    exchange_id = exchange_over_new_line(client, app, world, reference, language="ru")
    response = draft(client, world, reference, exchange_id=exchange_id)
    summary = created(response)
    assert response.headers["Location"].endswith(f"/api/v1/summaries/{summary['id']}")
    assert summary["status"] == "draft" and summary["exchange_id"] == exchange_id and summary["language"] == "ru"
    assert "4321 m" in summary["text"] and "4321 м" in summary["text_second"], summary
    for withheld in (NARRATIVE, UNIT):
        assert withheld not in summary["text"] + summary["text_second"], summary
    assert "narrative" not in summary["fields_used"] and "cpa" in summary["fields_used"], summary["fields_used"]
    assert summary["problems"] == {} and summary["drafted_by"] == "liaison", summary
    timeline = client.get(f"/api/v1/incidents/{reference}", headers=world.auth("duty")).get_json()["timeline"]
    [event] = [e for e in timeline if e["kind"] == "summary_drafted"]
    assert event["details"]["summary"] == summary["id"] and event["details"]["language"] == "ru", event


def test_a_draft_without_an_exchange_is_english_only_unless_a_language_is_asked_for(client, world):
    reference = filed(client, world)
    english = created(draft(client, world, reference))
    assert english["language"] is None and english["text_second"] is None and english["exchange_id"] is None
    french = created(draft(client, world, reference, language="fr"))
    assert french["language"] == "fr" and "Nature de l'événement" in french["text_second"], french


def test_a_language_no_catalogue_serves_is_refused_with_the_available_ones(app, client, world):
    """A line saved before its language's catalogue was withdrawn (a line cannot be saved so now)."""
    reference = filed(client, world)
    exchange_id = exchange_over_new_line(client, app, world, reference, language="ru")
    with session_scope(app) as session:
        exchange = session.get_one(Exchange, exchange_id)
        exchange.language = exchange.channel.language = "de"
    response = draft(client, world, reference, exchange_id=exchange_id)
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["error"]["details"] == {"language": ["available: en, fr, ru, uk, zh"]}, (
        response.get_json()
    )


def test_an_exchange_of_another_incident_is_refused(app, client, world):
    first, second = filed(client, world), filed(client, world)
    exchange_id = exchange_over_new_line(client, app, world, first)
    response = draft(client, world, second, exchange_id=exchange_id)
    assert response.status_code == 422 and "exchange_id" in response.get_json()["error"]["details"]
    missing = draft(client, world, second, exchange_id=99999)
    assert missing.status_code == 422 and "exchange_id" in missing.get_json()["error"]["details"]


@pytest.mark.parametrize(("who", "status"), [("duty", 403), ("outsider", 403), ("revoked", 401)])
def test_duty_officers_and_strangers_do_not_draft(client, world, who, status):
    reference = filed(client, world)
    assert draft(client, world, reference, who=who).status_code == status


def test_every_role_reads_summaries(client, world):
    reference = filed(client, world)
    summary = created(draft(client, world, reference))
    listed = ok(client.get(f"/api/v1/incidents/{reference}/summaries", headers=world.auth("duty")))
    assert [s["id"] for s in listed] == [summary["id"]]
    assert ok(client.get(f"/api/v1/summaries/{summary['id']}", headers=world.auth("outsider")))["text"]
    assert client.get("/api/v1/summaries/99999", headers=world.auth("duty")).status_code == 404


# -- editing and approving --------------------------------------------------------------------


@pytest.mark.both_databases  # versions decide the conflict
def test_edit_needs_the_version_read_and_an_approved_summary_goes_back_to_draft(client, world):
    summary = created(draft(client, world, filed(client, world)))
    stale = edit(client, world, summary, text="Reworded.", version=summary["version"] + 1)
    assert stale.status_code == 409 and stale.get_json()["error"]["details"]["version"] == summary["version"]
    edited = ok(edit(client, world, summary, text="Reworded.", version=summary["version"]))
    assert edited["text"] == "Reworded.\n" and edited["status"] == "draft"
    approved = ok(act(client, world, edited, "approve", version=edited["version"]))
    assert approved["status"] == "approved" and approved["approved_by"] == "supervisor"
    back = ok(edit(client, world, approved, text="Reworded again.", version=approved["version"]))
    assert back["status"] == "draft" and back["approved_by"] is None and back["approved_at"] is None, back


def test_second_language_text_only_where_the_summary_has_one(client, world):
    summary = created(draft(client, world, filed(client, world)))
    response = edit(client, world, summary, text_second="Texte.", version=summary["version"])
    assert response.status_code == 422 and "text_second" in response.get_json()["error"]["details"]


@pytest.mark.both_databases  # edits on versions; releasability a JSON column read back
def test_approval_refuses_withheld_content_typed_into_either_text(client, world):
    reference = filed(client, world)
    summary = created(draft(client, world, reference, language="ru"))
    for field in ("text", "text_second"):
        typed = ok(edit(client, world, summary, version=summary["version"], **{field: f"Note: {NARRATIVE}"}))
        refused = act(client, world, typed, "approve", version=typed["version"])
        assert refused.status_code == 422, refused.get_json()
        error = refused.get_json()["error"]
        assert "narrative" in error["details"] and "not releasable" in error["message"], error
        assert "narrative" in typed["problems"], "the summary shows the problem before approval is tried"
        summary = ok(client.get(f"/api/v1/summaries/{summary['id']}", headers=world.auth("duty")))
        assert summary["status"] == "draft", summary


def test_approval_refuses_a_summary_with_a_line_the_format_reads_as_its_own(client, world):
    """A narrative pasted with a BT line passed drafting and four eyes, and was refused only when sent."""
    reference = filed(client, world)
    summary = created(draft(client, world, reference))
    typed = ok(edit(client, world, summary, text="Summary.\n\nBT\nNNNN", version=summary["version"]))
    assert typed["problems"] == {"text": "line 3 reads as the format's own 'BT'"}, typed["problems"]
    refused = act(client, world, typed, "approve", version=typed["version"])
    assert refused.status_code == 422 and "format's own" in refused.get_json()["error"]["message"], refused.get_json()


@pytest.mark.both_databases  # releasability a JSON column, changed then read back
def test_approval_after_marking_the_field_releasable_succeeds(client, world):
    reference = filed(client, world)
    summary = created(draft(client, world, reference))
    typed = ok(edit(client, world, summary, text=f"Note: {NARRATIVE}", version=summary["version"]))
    client.patch(f"/api/v1/incidents/{reference}/releasability", json={"narrative": True}, headers=world.auth("admin"))
    assert ok(act(client, world, typed, "approve", version=typed["version"]))["status"] == "approved"


@pytest.mark.both_databases  # the fields used and releasability, JSON columns read back
def test_a_field_withdrawn_after_drafting_stops_approval_even_where_the_guard_cannot_see_it(client, world):
    """A CPA of 150 m is too short for the content guard; the draft's record of its fields catches it."""
    reference = filed(client, world, cpa_horizontal_m=150)
    summary = created(draft(client, world, reference))
    client.patch(f"/api/v1/incidents/{reference}/releasability", json={"cpa": False}, headers=world.auth("liaison"))
    refused = act(client, world, summary, "approve", version=summary["version"])
    assert refused.status_code == 422 and "cpa" in refused.get_json()["error"]["details"], refused.get_json()


def test_a_summary_is_not_approved_once_the_incident_is_released_to_nobody(client, world):
    """A message to the other side is refused approval when the marking releases the incident to nobody; a
    summary was approved (and refused only at sending), so a second person signed off a text that cannot go."""
    reference = filed(client, world)
    summary = created(draft(client, world, reference))
    marked = client.patch(
        f"/api/v1/incidents/{reference}/marking", json={"releasable_to": []}, headers=world.auth("supervisor")
    )
    assert marked.status_code == 200, marked.get_json()
    refused = act(client, world, summary, "approve", version=summary["version"])
    assert refused.status_code == 422 and "releasable_to" in refused.get_json()["error"]["details"], refused.get_json()
    assert ok(client.get(f"/api/v1/summaries/{summary['id']}", headers=world.auth("duty")))["status"] == "draft"


@pytest.mark.parametrize(("who", "status"), [("duty", 403), ("outsider", 403)])
def test_duty_officers_and_strangers_do_not_approve(client, world, who, status):
    summary = created(draft(client, world, filed(client, world)))
    assert act(client, world, summary, "approve", who=who, version=summary["version"]).status_code == status


@pytest.mark.both_databases  # a stale or second approval is a conflict the database decides
def test_approving_twice_or_a_stale_version_is_a_conflict(client, world):
    summary = created(draft(client, world, filed(client, world)))
    stale = act(client, world, summary, "approve", version=summary["version"] + 5)
    assert stale.status_code == 409, stale.get_json()
    approved = ok(act(client, world, summary, "approve", who="supervisor", version=summary["version"]))
    again = act(client, world, approved, "approve", version=approved["version"])
    assert again.status_code == 409 and again.get_json()["error"]["details"]["status"] == "approved"


# -- sending ----------------------------------------------------------------------------------


@pytest.mark.both_databases  # a second send is a conflict; the serial from a counter upsert per engine
def test_only_an_approved_summary_is_sent_and_then_only_once(app, client, world):
    reference = filed(client, world)
    exchange_id = exchange_over_new_line(client, app, world, reference)
    summary = created(draft(client, world, reference, exchange_id=exchange_id))
    early = act(client, world, summary, "send")
    assert early.status_code == 409 and "approve it first" in early.get_json()["error"]["message"]
    assert counterpart_rows(app) == [], "a draft must queue nothing"
    approved = ok(act(client, world, summary, "approve", version=summary["version"]))
    sent = ok(act(client, world, approved, "send"))
    assert sent["status"] == "sent" and sent["message_id"] and sent["sent_at"], sent
    [(line, subject, body)] = counterpart_rows(app)
    assert line == "Counterpart hotline" and reference not in subject, (line, subject)
    marked = r"UNCLASSIFIED // REL TO EASTLAND - NM-\d{4}-\d{4} SERIAL 0001/\d{4} SUMMARY OF INCIDENT"
    assert re.fullmatch(marked, subject), subject
    assert re.match(r"[ZOPR] \d{6}Z [A-Z]{3} \d{2}\nFM ", body), body
    assert "\nSUBJ SUMMARY OF INCIDENT\n" in body and "\nBT\n" in body, body
    assert approved["text"].rstrip() in body and approved["text_second"].rstrip() in body, body
    with session_scope(app) as session:
        message = session.get(ExchangeMessage, sent["message_id"])
        assert (message.kind, message.text, message.language) == ("summary", approved["text"], "ru")
    again = act(client, world, sent, "send")
    assert again.status_code == 409 and len(counterpart_rows(app)) == 1, again.get_json()
    edited = edit(client, world, sent, text="Too late.", version=sent["version"])
    assert edited.status_code == 409, edited.get_json()


@pytest.mark.both_databases  # the send checks the approval's facts digest, a round trip through the engine
def test_a_summary_without_an_exchange_is_sent_over_the_one_named(app, client, world):
    reference = filed(client, world)
    summary = created(draft(client, world, reference))
    approved = ok(act(client, world, summary, "approve", version=summary["version"]))
    unnamed = act(client, world, approved, "send")
    assert unnamed.status_code == 422 and "exchange_id" in unnamed.get_json()["error"]["details"]
    exchange_id = exchange_over_new_line(client, app, world, reference, language=None)
    sent = ok(act(client, world, approved, "send", exchange_id=exchange_id))
    assert sent["exchange_id"] == exchange_id and len(counterpart_rows(app)) == 1


@pytest.mark.both_databases  # the send checks the approval's facts digest, a round trip through the engine
def test_a_summary_in_one_language_does_not_go_out_on_a_line_reading_another(app, client, world):
    reference = filed(client, world)
    summary = created(draft(client, world, reference, language="fr"))
    approved = ok(act(client, world, summary, "approve", version=summary["version"]))
    exchange_id = exchange_over_new_line(client, app, world, reference, language="ru")
    refused = act(client, world, approved, "send", exchange_id=exchange_id)
    assert refused.status_code == 409, refused.get_json()
    assert refused.get_json()["error"]["details"] == {"language": "fr", "exchange_language": "ru"}
    assert counterpart_rows(app) == []


@pytest.mark.both_databases  # the facts digest round-trips through the engine's JSON and floats
def test_a_field_withdrawn_after_approval_stops_the_send(app, client, world):
    reference = filed(client, world)
    exchange_id = exchange_over_new_line(client, app, world, reference)
    summary = created(draft(client, world, reference, exchange_id=exchange_id))
    approved = ok(act(client, world, summary, "approve", version=summary["version"]))
    client.patch(f"/api/v1/incidents/{reference}/releasability", json={"cpa": False}, headers=world.auth("liaison"))
    refused = act(client, world, approved, "send")
    assert refused.status_code == 409, refused.get_json()  # the approval no longer covers the incident's facts
    assert refused.get_json()["error"]["message"] == "the incident changed since approval: approve it again"
    assert counterpart_rows(app) == [], "nothing may be queued for the other side"
    still = ok(client.get(f"/api/v1/summaries/{summary['id']}", headers=world.auth("duty")))
    assert still["status"] == "draft" and "cpa" in still["problems"], still
    again = act(client, world, still, "approve", version=still["version"])
    assert again.status_code == 422 and "cpa" in again.get_json()["error"]["details"], again.get_json()


def test_a_liaison_of_the_counterpart_line_only_may_act_on_its_exchange(app, client, world):
    reference = filed(client, world)
    acknowledge(client, world, reference)
    line = counterpart_line(app, members=("outsider",))
    exchange_id = open_exchange(app, reference, line, who="supervisor")
    summary = created(draft(client, world, reference, who="supervisor", exchange_id=exchange_id))
    approved = ok(act(client, world, summary, "approve", who="outsider", version=summary["version"]))
    assert ok(act(client, world, approved, "send", who="outsider"))["status"] == "sent"


def test_a_liaison_of_the_counterpart_line_only_drafting_without_its_exchange_is_told_to_name_it(app, client, world):
    """The 403 said only who may draft: a member of the counterpart line must name the exchange to act."""
    reference = filed(client, world)
    acknowledge(client, world, reference)
    line = counterpart_line(app, members=("outsider",))
    exchange_id = open_exchange(app, reference, line, who="supervisor")
    refused = draft(client, world, reference, who="outsider")
    assert refused.status_code == 403, refused.get_json()
    hint = refused.get_json()["error"]["details"]["exchange_id"]
    assert hint == "give it to act as a member of the counterpart line"
    assert draft(client, world, reference, who="outsider", exchange_id=exchange_id).status_code == 201
    stranger = draft(client, world, reference, who="duty").get_json()["error"]["details"]
    assert "exchange_id" not in stranger, "no hint for a role that may not draft at all"


# -- closed exchanges and narrative additions ------------------------------------------------------


@pytest.mark.both_databases  # the approvers' list is filtered in SQL
def test_a_summary_for_a_closed_exchange_waits_for_no_approval_and_none_is_drafted_for_one(app, client, world):
    """Nothing more goes to the other side on a closed exchange: its draft summary left the approvers'
    list (it sat there for ever, approvable and never sendable), approving it is refused, and so is a new one."""
    reference = filed(client, world)
    exchange_id = exchange_over_new_line(client, app, world, reference)
    summary = created(draft(client, world, reference, exchange_id=exchange_id))
    listed = client.get("/api/v1/approvals", headers=world.auth("supervisor")).get_json()["summaries"]
    assert [s["id"] for s in listed] == [summary["id"]], "listed while its exchange is open"
    closed = client.post(
        f"/api/v1/exchanges/{exchange_id}/transitions", json={"state": "closed"}, headers=world.auth("liaison")
    )
    assert closed.status_code == 200, closed.get_json()
    listed = client.get("/api/v1/approvals", headers=world.auth("supervisor")).get_json()["summaries"]
    assert listed == [], f"a summary for a closed exchange is listed for approval: {listed}"
    read = client.get(f"/api/v1/summaries/{summary['id']}", headers=world.auth("supervisor")).get_json()
    assert read["needs_approval"] is False, read
    refused = act(client, world, summary, "approve", version=summary["version"])
    assert refused.status_code == 409 and "closed" in refused.get_json()["error"]["message"], refused.get_json()
    again = draft(client, world, reference, exchange_id=exchange_id)
    assert again.status_code == 409 and "closed" in again.get_json()["error"]["message"], again.get_json()


def add_to_narrative(client, world, reference: str, addition: str) -> None:
    """The duty officer adds to the incident's narrative (an amendment at the version read)."""
    incident = client.get(f"/api/v1/incidents/{reference}", headers=world.auth("duty")).get_json()
    amended = client.patch(
        f"/api/v1/incidents/{reference}",
        json={"version": incident["version"], "narrative_addendum": addition},
        headers=world.auth("duty"),
    )
    assert amended.status_code == 200, amended.get_json()


@pytest.mark.both_databases  # the amendment's conditional UPDATE; its addendum read from the timeline's JSON
def test_a_summary_drafted_after_a_narrative_addition_states_the_addition_too(app, client, world):
    """An amendment adds to the narrative, never overwrites it; a summary drafted after it stated the
    narrative as filed only ("one drone" where the addition says two), in both languages."""
    reference = filed(client, world, releasability={"narrative": True})
    addition = "MARKER-ADD-5120: a second drone followed at 500 m."
    add_to_narrative(client, world, reference, addition)
    exchange_id = exchange_over_new_line(client, app, world, reference, language="ru")
    summary = created(draft(client, world, reference, exchange_id=exchange_id))
    assert NARRATIVE in summary["text"] and addition in summary["text"], summary["text"]
    assert summary["text"].index(NARRATIVE) < summary["text"].index(addition), "the addition stands under it"
    assert addition in summary["text_second"], summary["text_second"]
    assert summary["problems"] == {}, summary["problems"]
    assert ok(act(client, world, summary, "approve", version=summary["version"]))["status"] == "approved"


@pytest.mark.both_databases  # the amendment's conditional UPDATE; its addendum read from the timeline's JSON
def test_a_summary_drafted_before_a_narrative_addition_is_not_approved_without_it(app, client, world):
    """Approved again after the amendment (its facts changed), the old draft still told the narrative as
    filed: it would have gone out without what was added. Drafting it again, or adding the words, lets it go."""
    reference = filed(client, world, releasability={"narrative": True})
    exchange_id = exchange_over_new_line(client, app, world, reference, language="ru")
    summary = created(draft(client, world, reference, exchange_id=exchange_id))
    addition = "MARKER-ADD-7310: the fighter made a second pass."
    add_to_narrative(client, world, reference, addition)
    refused = act(client, world, summary, "approve", version=summary["version"])
    assert refused.status_code == 422, refused.get_json()
    assert "narrative" in refused.get_json()["error"]["details"], refused.get_json()
    fixed = ok(edit(client, world, summary, text=summary["text"] + "\n" + addition, version=summary["version"]))
    assert ok(act(client, world, fixed, "approve", version=fixed["version"]))["status"] == "approved"


def test_approving_what_a_colleague_approved_meanwhile_says_who_approved_it(client, world):
    """Said only "the summary changed since you read it": the second approver looked for a change that was not
    there."""
    reference = filed(client, world)
    summary = created(draft(client, world, reference))
    ok(act(client, world, summary, "approve", who="supervisor", version=summary["version"]))
    again = act(client, world, summary, "approve", who="admin", version=summary["version"])
    assert again.status_code == 409, again.get_json()
    said = again.get_json()["error"]["message"]
    assert re.search(r"it stands approved by supervisor at \d{6}Z[A-Z]{3}\d\d", said), said
