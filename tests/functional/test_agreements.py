"""Agreements and counterpart states: the API and admin page that keep agreements, lines and routing
rules that name them, incidents that take them from their rule or their counterpart line."""

import html
import re

from tests.exchange_support import LINE, acknowledged_incident, add_counterpart_line, api
from tests.support import csrf, file_incident, incident_payload, sign_in
from tracker.db import session_scope
from tracker.models import Agreement, Exchange

INCSEA = {
    "code": "INCSEA-1972",
    "title": "Agreement on the Prevention of Incidents On and Over the High Seas",
    "counterpart_state": "Eastland",
    "default_article": "Article VI",
    "articles": {"notice": "Article VI(2)", "explanation_request": "Article VII"},
}


def test_admins_keep_agreements_and_everyone_reads_them(client, world):
    made = api(client, world, "POST", "/agreements", INCSEA, who="admin", status=201)
    assert made["code"] == "INCSEA-1972" and made["articles"]["notice"] == "Article VI(2)" and made["active"], made
    again = client.post("/api/v1/agreements", json=INCSEA, headers=world.auth("admin"))
    assert again.status_code == 422 and "code" in again.get_json()["error"]["details"], again.get_json()
    lower = client.post("/api/v1/agreements", json={**INCSEA, "code": "incsea-1972"}, headers=world.auth("admin"))
    assert lower.status_code == 422 and "taken" in lower.get_json()["error"]["details"]["code"][0], lower.get_json()
    wrong = {**INCSEA, "code": "DMA-1989", "articles": {"telegram": "Article 1"}}
    refused = client.post("/api/v1/agreements", json=wrong, headers=world.auth("admin"))
    assert refused.status_code == 422 and "telegram" in refused.get_json()["error"]["details"]["articles"][0]
    bad_code = client.post("/api/v1/agreements", json={**INCSEA, "code": "=cmd"}, headers=world.auth("admin"))
    assert bad_code.status_code == 422 and "code" in bad_code.get_json()["error"]["details"]
    assert client.post("/api/v1/agreements", json=INCSEA, headers=world.auth("supervisor")).status_code == 403
    changed = api(
        client, world, "PATCH", f"/agreements/{made['id']}", {"articles": {"reply": "Article VII(1)"}}, "admin"
    )
    assert changed["articles"] == {"reply": "Article VII(1)"} and changed["default_article"] == "Article VI", changed
    listed = api(client, world, "GET", "/agreements", who="duty")
    assert [a["code"] for a in listed] == ["INCSEA-1972"]
    with session_scope(client.application) as session:
        agreement = session.get(Agreement, made["id"])
        assert agreement.article_for("reply") == "Article VII(1)" and agreement.article_for("notice") == "Article VI"


def test_a_rule_gives_its_agreement_and_state_to_the_incidents_it_routes_unless_they_bring_their_own(client, world):
    agreement = api(client, world, "POST", "/agreements", INCSEA, who="admin", status=201)
    rule = {"name": "Air to INCSEA", "policy_id": world.policy_id, "domain": "air", "agreement_id": agreement["id"]}
    made = api(client, world, "POST", "/rules", {**rule, "counterpart_state": "Eastland"}, who="admin", status=201)
    assert made["agreement"] == "INCSEA-1972" and made["counterpart_state"] == "Eastland", made
    preview = {"domain": "air", "category": "unsafe_intercept", "precedence": "O", "escalation_risk": "serious"}
    said = api(client, world, "POST", "/routes/preview", preview, who="duty")
    assert said["agreement"] == "INCSEA-1972" and said["counterpart_state"] == "Eastland", said
    routed = file_incident(client, world)
    assert routed["agreement"] == "INCSEA-1972" and routed["counterpart_state"] == "Eastland", routed
    [event] = [e for e in routed["timeline"] if e["kind"] == "routed"]
    assert event["details"]["agreement"] == "INCSEA-1972" and event["details"]["counterpart_state"] == "Eastland"
    api(client, world, "POST", "/agreements", {"code": "VD11-CH3", "title": "Vienna Document"}, "admin", status=201)
    own = file_incident(client, world, agreement="VD11-CH3", counterpart_state="Westland")
    assert own["agreement"] == "VD11-CH3" and own["counterpart_state"] == "Westland", own
    unknown = client.post(
        "/api/v1/incidents", json={**incident_payload(), "agreement": "NOPE"}, headers=world.auth("duty")
    ).get_json()
    assert unknown["error"]["details"] == {"agreement": ["no agreement 'NOPE'"]}, unknown
    sea = file_incident(client, world, domain="maritime", category="unsafe_manoeuvre")
    assert sea["agreement"] is None and sea["counterpart_state"] is None, "the default rule sets nothing"
    missing = client.post("/api/v1/rules", json={**rule, "name": "x", "agreement_id": 999}, headers=world.auth("admin"))
    assert missing.status_code == 422 and "agreement_id" in missing.get_json()["error"]["details"], missing.get_json()


def test_an_agreement_no_longer_in_force_is_cited_anew_by_nothing_and_left_where_it_stands(client, world):
    """Deactivating an agreement changed nothing: it was still offered on the line and rule forms, set on new
    rules and named by new filings. It now stops new uses; a rule that names it keeps it until changed."""
    agreement = api(client, world, "POST", "/agreements", INCSEA, who="admin", status=201)
    rule = {"name": "Air to INCSEA", "policy_id": world.policy_id, "domain": "air", "agreement_id": agreement["id"]}
    made = api(client, world, "POST", "/rules", rule, who="admin", status=201)
    api(client, world, "PATCH", f"/agreements/{agreement['id']}", {"active": False}, "admin")

    refused = client.post("/api/v1/rules", json={**rule, "name": "Sea"}, headers=world.auth("admin")).get_json()
    assert "INCSEA-1972 is inactive" in refused["error"]["details"]["agreement_id"][0], refused
    named = client.post(
        "/api/v1/incidents", json={**incident_payload(), "agreement": "INCSEA-1972"}, headers=world.auth("duty")
    ).get_json()
    assert named["error"]["details"] == {"agreement": ["no agreement in force (inactive): 'INCSEA-1972'"]}, named
    kept = api(client, world, "PATCH", f"/rules/{made['id']}", {**rule, "name": "Air, INCSEA"}, who="admin")
    assert kept["agreement"] == "INCSEA-1972", "a rule naming it already keeps it"

    sign_in(client, "admin")
    offered = client.get("/admin/rules/new").text
    assert "INCSEA-1972" not in offered, "a new rule is not offered it"
    editing = client.get(f"/admin/rules/{made['id']}/edit").text
    assert f"INCSEA-1972 · {INCSEA['title']} (inactive)" in html.unescape(editing), "its own, said inactive"


def test_an_exchange_takes_its_lines_agreement_and_state_and_gives_them_to_an_incident_with_none(app, client, world):
    agreement = api(client, world, "POST", "/agreements", INCSEA, who="admin", status=201)
    add_counterpart_line(app, world, counterpart_state="Eastland")
    line = api(
        client,
        world,
        "PATCH",
        f"/channels/{world.channels[LINE]}",
        {"agreement_id": agreement["id"], "our_station": "NORTHMARK NOC", "their_station": "EASTLAND GS"},
        "admin",
    )
    assert line["agreement"] == "INCSEA-1972" and line["counterpart_state"] == "Eastland", line
    assert (line["our_station"], line["their_station"]) == ("NORTHMARK NOC", "EASTLAND GS"), line
    reference = acknowledged_incident(client, world)
    opened = api(
        client, world, "POST", f"/incidents/{reference}/exchanges", {"channel_id": world.channels[LINE]}, status=201
    )
    with session_scope(app) as session:
        exchange = session.get(Exchange, opened["id"])
        assert exchange.agreement.code == "INCSEA-1972" and exchange.counterpart_state == "Eastland"
    incident = api(client, world, "GET", f"/incidents/{reference}")
    assert incident["agreement"] == "INCSEA-1972" and incident["counterpart_state"] == "Eastland", incident
    sign_in(client, "liaison")
    page = client.get(f"/incidents/{reference}").text
    assert "INCSEA-1972" in page and "Eastland" in page


def test_the_admin_pages_list_and_edit_agreements_and_lines_and_rules_name_them(client, world):
    sign_in(client, "admin")
    form = {
        "csrf_token": csrf(client, "/admin/agreements/new"),
        "code": "DMA-1989",
        "title": "Dangerous Military Activities",
        "counterpart_state": "Eastland",
        "default_article": "Article 2",
        "articles": "notice: Article 6\nexplanation_request: Article 7",
        "active": "y",
    }
    created = client.post("/admin/agreements/new", data=form)
    assert created.status_code == 302, created.text[:800]
    listing = client.get("/admin/agreements").text
    assert "DMA-1989" in listing and "explanation request: Article 7" in listing
    agreement_id = int(re.search(r"/admin/agreements/(\d+)/edit", listing)[1])
    edit = client.get(f"/admin/agreements/{agreement_id}/edit").text
    assert "notice: Article 6" in edit
    broken = client.post(
        f"/admin/agreements/{agreement_id}/edit",
        data={**form, "csrf_token": csrf(client, f"/admin/agreements/{agreement_id}/edit"), "articles": "no colon"},
    )
    assert broken.status_code == 422 and "line 1" in broken.text
    unknown = client.post(
        "/admin/agreements/new",
        data={**form, "csrf_token": csrf(client, "/admin/agreements/new"), "code": "X-1", "articles": "fax: 1"},
    )
    assert unknown.status_code == 422 and "not a kind of message" in unknown.text
    twice = client.post(  # the second notice kept and the first dropped without a word
        "/admin/agreements/new",
        data={**form, "csrf_token": csrf(client, "/admin/agreements/new"), "code": "X-2",
              "articles": "notice: Art 1\nnotice: Art 2"},
    )  # fmt: skip
    assert twice.status_code == 422 and "line 2: notice has its article on line 1 already" in twice.text, twice.text
    channel_page = client.get("/admin/channels/new").text
    assert "DMA-1989 · Dangerous Military Activities" in channel_page and 'name="counterpart_state"' in channel_page
    rule_page = client.get("/admin/rules/new").text
    assert 'name="agreement_id"' in rule_page and "DMA-1989" in rule_page


def test_an_agreement_made_inactive_is_cited_by_no_text_sent_after_and_taken_by_no_new_exchange(app, client, world):
    """A line naming an agreement keeps it until changed; once it is no longer in force, a text sent over the line said
    "This message is sent under INCSEA-1972 ..." and a new exchange gave it to its incident."""
    from tests.exchange_support import open_exchange

    agreement = api(client, world, "POST", "/agreements", INCSEA, who="admin", status=201)
    add_counterpart_line(app, world, counterpart_state="Eastland")
    api(client, world, "PATCH", f"/channels/{world.channels[LINE]}", {"agreement_id": agreement["id"]}, "admin")

    def cited(exchange_id: int) -> list[tuple]:
        with session_scope(app) as session:
            messages = session.get_one(Exchange, exchange_id).messages
            return [(m.agreement.code if m.agreement else None, m.article) for m in messages]

    first = open_exchange(client, world, acknowledged_incident(client, world))
    assert cited(first["id"]) == [("INCSEA-1972", "Article VI(2)")]
    api(client, world, "PATCH", f"/agreements/{agreement['id']}", {"active": False}, "admin")

    reference = acknowledged_incident(client, world)
    opened = open_exchange(client, world, reference)
    assert cited(opened["id"]) == [(None, None)], "no longer in force: cited by nothing sent after"
    with session_scope(app) as session:
        assert session.get_one(Exchange, opened["id"]).agreement_id is None
    assert api(client, world, "GET", f"/incidents/{reference}")["agreement"] is None
