"""Odd input at every door: text that is not Unicode, times the tracker cannot handle, names that
break a mail header. Each is refused with a 4xx naming the field, and what was stored before the
doors refused it still shows (issue 12, items 4, 8 and 13).

The bodies are JSON text written here with json.dumps: the test client's json= goes through the
app's JSON provider, which would replace the lone surrogate before the request is sent.
"""

import gzip
import json
from urllib.parse import quote_plus

import pytest
from apiflask import fields
from sqlalchemy import select

from tests.exchange_support import acknowledged_incident, add_counterpart_line, open_exchange
from tests.exercise_support import EXERCISES, create, notice
from tests.functional.test_amendment_pages import form_as_shown
from tests.functional.test_call_pages import start as start_call
from tests.support import count, csrf, file_incident, filing_form, incident_payload, sign_in
from tracker import jobs
from tracker.db import session_scope
from tracker.errors import ValidationError
from tracker.http.fields import Count, Flag, Number, Text
from tracker.models import (
    AgreedAction,
    ContactChannel,
    EventKind,
    ExerciseNotice,
    Handover,
    Incident,
    MessageDirection,
    Notification,
    NotificationStatus,
    TimelineEvent,
    User,
    Watch,
)
from tracker.services.accounts import people
from tracker.services.exchanges import exchanges
from tracker.services.incidents import ladder
from tracker.timeutil import utcnow

INCIDENTS = "/api/v1/incidents"
LONE = "\ud800"  # a high surrogate with no low one after it: no character, UTF-8 cannot encode it
REPLACEMENT = "\ufffd"
# Pasted into the To: header between quotes, the second one made three addresses of one.
EVIL_NAMES = ['Ops, "evil" <x@evil.example>', 'Ops", spy@evil.example, "Desk']


def post_text(client, path: str, body: dict, headers: dict):
    return client.post(path, data=json.dumps(body), content_type="application/json", headers=headers)


def refused_field(response) -> list[str]:
    assert response.status_code == 422, (response.status_code, response.get_data(as_text=True)[:300])
    return list(response.get_json()["error"]["details"])


def pages_of(client, reference: str) -> dict[str, int]:
    """The status of the incident's page and print page, for a signed-in supervisor."""
    return {path: client.get(path).status_code for path in (f"/incidents/{reference}", f"/incidents/{reference}/print")}


# -- item 4: text that is not Unicode scalar values -------------------------------------------


def _comment(client, world, reference):
    return post_text(client, f"{INCIDENTS}/{reference}/comments", {"text": LONE}, world.auth("duty")), "text"


def _acknowledgement_note(client, world, reference):
    return post_text(client, f"{INCIDENTS}/{reference}/acknowledge", {"note": LONE}, world.auth("liaison")), "note"


def _narrative(client, world, _reference):
    return post_text(client, INCIDENTS, incident_payload(narrative=f"Closed to 30 m{LONE}"), world.auth("duty")), (
        "narrative"
    )


def _platform_callsign(client, world, _reference):
    platforms = [{"kind": "fighter aircraft", "callsign": LONE}]
    return post_text(client, INCIDENTS, incident_payload(platforms=platforms), world.auth("duty")), "platforms"


def _resolution(client, world, reference):
    return post_text(client, f"{INCIDENTS}/{reference}/resolve", {"resolution": LONE}, world.auth("supervisor")), (
        "resolution"
    )


@pytest.mark.parametrize(
    "send", [_comment, _acknowledgement_note, _narrative, _platform_callsign, _resolution], ids=lambda f: f.__name__
)
def test_text_with_a_lone_surrogate_is_refused_naming_the_field_and_the_incident_still_shows(app, client, world, send):
    reference = file_incident(client, world)["reference"]
    events, incidents = count(app, TimelineEvent), count(app, Incident)

    response, field = send(client, world, reference)

    assert any(key.split(".")[0] == field for key in refused_field(response)), response.get_json()
    assert (count(app, TimelineEvent), count(app, Incident)) == (events, incidents), "nothing stored"
    sign_in(client, "supervisor")
    assert set(pages_of(client, reference).values()) == {200}


@pytest.mark.parametrize(
    ("body", "field"),
    [({"name": f"ZAPAD{LONE}"}, "name"), ({"states": ["Eastland", LONE]}, "states"), ({"notes": LONE}, "notes")],
    ids=["name", "states", "notes"],
)
def test_an_exercise_with_a_lone_surrogate_is_refused_naming_the_field(app, client, world, body, field):
    response = post_text(client, EXERCISES, notice(**body), world.auth("supervisor"))
    assert field in refused_field(response)
    assert count(app, ExerciseNotice) == 0


def test_an_exercise_csv_with_a_lone_surrogate_is_refused_whole(app, client, world):
    csv = f"name,states,starts_at,ends_at,centre,radius_km,notified_via\nZAPAD{LONE},Eastland,010600ZDEC26,"
    csv += "050600ZDEC26,54.4 23.0,20,vienna_document\n"
    response = post_text(client, f"{EXERCISES}/import", {"csv": csv}, world.auth("supervisor"))
    assert "csv" in refused_field(response)
    assert count(app, ExerciseNotice) == 0


@pytest.mark.both_databases  # PostgreSQL refuses to compare text holding a NUL (a 500); SQLite finds no one
def test_a_choice_of_officer_with_a_nul_is_refused_beside_its_field(app, client, world):
    """The officers of a watch's start and handover are menus whose choices are not checked (the service finds
    the user): a NUL sent there was looked up as a username, and PostgreSQL's refusal of it was a 500."""
    sign_in(client, "admin")
    started = client.post("/watches/", data={"csrf_token": csrf(client, "/watches/"), "officer": "duty\x00"})
    assert started.status_code == 422, started.status_code
    assert '<small class="error" id="officer-error">This must not contain NUL characters.</small>' in started.text
    assert count(app, Watch) == 0

    sign_in(client, "duty")
    watch = client.post("/watches/", data={"csrf_token": csrf(client, "/watches/"), "desk": "North desk"})
    assert watch.status_code == 302, watch.status_code
    page = watch.headers["Location"]
    handover = client.post(f"{page}/handover", data={"csrf_token": csrf(client, page), "incoming": "liaison\x00"})
    assert handover.status_code == 422, handover.status_code
    assert '<small class="error" id="incoming-error">This must not contain NUL characters.</small>' in handover.text
    assert count(app, Handover) == 0


def test_a_form_refuses_a_nul_beside_its_field(app, client, world):
    sign_in(client, "duty")
    response = client.post("/incidents/new", data=filing_form(client, narrative="Closed to 30 m\x00 and left"))
    assert response.status_code == 422, response.status_code
    assert '<small class="error" id="narrative-error">This must not contain NUL characters.</small>' in response.text
    assert count(app, Incident) == 0

    reference = file_incident(client, world)["reference"]
    page = f"/incidents/{reference}"
    answer = client.post(f"{page}/comments", data={"csrf_token": csrf(client, page), "text": "a\x00b"})
    assert answer.status_code == 422, answer.status_code
    assert '<small class="error" id="text-error">This must not contain NUL characters.</small>' in answer.text
    assert "Comment: this must not contain NUL characters." in answer.text, "the line at the top names the field"
    assert [e.kind for e in events_of(app, reference)] == [EventKind.FILED, EventKind.ROUTED]


def events_of(app, reference: str) -> list:
    with session_scope(app) as session:
        incident = session.scalar(select(Incident).where(Incident.reference == reference))
        return [event for event in incident.events if event.kind is not EventKind.NOTIFIED]


def request_fields(app, locations: tuple[str, ...]):
    """(where, field) of every field a request schema read from these locations loads, nested ones too."""
    found = []

    def walk(schema, where: str) -> None:
        for name, field in schema.fields.items():
            visit(field, f"{where}.{name}")

    def visit(field, where: str) -> None:
        if field.dump_only:
            return
        found.append((where, field))
        if isinstance(field, fields.Nested):
            walk(field.schema, where)
        elif isinstance(field, fields.List):
            visit(field.inner, where)

    for endpoint, view in app.view_functions.items():
        spec = getattr(view, "_spec", {})
        body = [(spec["body"], "json")] if spec.get("body") is not None else []
        for schema, location in body + list(spec.get("args") or []):
            if location in locations:
                walk(schema, endpoint)
    return found


def test_every_number_a_json_body_carries_refuses_a_string(app, client, world):
    """A figure sent as "54.1" or "3" is refused (422), not read as a number: Number for floats, strict
    integers; query strings and forms carry text, and are read as numbers there."""
    lenient = [
        where
        for where, field in request_fields(app, ("json",))
        if (isinstance(field, fields.Float) and not isinstance(field, Number))
        or (isinstance(field, fields.Integer) and not field.strict)
    ]
    assert lenient == []
    quoted = incident_payload(latitude="54.412", longitude="22.871")
    assert refused_field(post_text(client, INCIDENTS, quoted, world.auth("duty"))) == ["latitude", "longitude"]
    cpa = incident_payload(cpa_horizontal={"value": "0.3", "unit": "NM"})
    assert refused_field(post_text(client, INCIDENTS, cpa, world.auth("duty"))) == ["cpa_horizontal"]


def test_every_boolean_a_json_body_carries_refuses_text_and_numbers(app, client, world):
    """A true or false sent as "yes", "false" or 0 is refused (422), not read as marshmallow reads
    them ("off" and "0" were false, "on" and 1 true); query strings carry text, and keep Boolean."""
    lenient = [
        where
        for where, field in request_fields(app, ("json",))
        if isinstance(field, fields.Boolean) and not isinstance(field, Flag)
    ]
    assert lenient == [], "\n".join(lenient)

    def platform(said) -> dict:
        return incident_payload(platforms=[{"kind": "fighter aircraft", "transponder_on": said}])

    for said in ("false", "yes", 0, 1):
        refused = post_text(client, INCIDENTS, platform(said), world.auth("duty"))
        assert refused_field(refused) == ["platforms"], said
        assert "true or false" in str(refused.get_json()["error"]["details"]), refused.get_json()
    for said in (True, False, None):
        filed = client.post(INCIDENTS, json=platform(said), headers=world.auth("duty"))
        assert filed.status_code == 201, filed.get_json()
        assert filed.get_json()["platforms"][0]["transponder_on"] is said, filed.get_json()


def test_every_string_a_request_schema_reads_is_text(app):
    """Text is the one place a string is checked (http.fields.Text); a plain String would let a
    lone surrogate or a NUL through to the database."""
    plain = [
        where
        for where, field in request_fields(app, ("json", "query", "form", "headers", "cookies", "path"))
        if isinstance(field, fields.String) and not isinstance(field, Text)
    ]
    assert plain == []


# -- item 4: what is stored already shows --------------------------------------------------


@pytest.mark.both_databases  # JSON columns keep an escaped lone surrogate: SQLite as text, PostgreSQL's json too
def test_a_lone_surrogate_stored_before_the_doors_refused_it_shows_as_a_replacement_character(app, client, world):
    reference = file_incident(client, world)["reference"]
    exercise = create(client, world)
    with session_scope(app) as session:
        incident = session.scalar(select(Incident).where(Incident.reference == reference))
        comment = {"kind": EventKind.COMMENTED, "actor": "duty", "at": incident.reported_at, "details": {"text": LONE}}
        session.add(TimelineEvent(incident=incident, **comment))
        incident.platforms = [{"kind": "fighter aircraft", "callsign": f"RED{LONE}"}]
        session.get(ExerciseNotice, exercise["id"]).states = [f"East{LONE}"]
    sign_in(client, "supervisor")

    answers = {
        **{path: client.get(path) for path in (f"/incidents/{reference}", f"/incidents/{reference}/print")},
        "/exercises/": client.get("/exercises/"),
        "/reports/incidents.csv": client.get("/reports/incidents.csv"),
        **{
            path: client.get(path, headers=world.auth("supervisor"))
            for path in (f"{INCIDENTS}/{reference}", f"{EXERCISES}/{exercise['id']}")
        },
    }
    summary = post_text(client, f"{INCIDENTS}/{reference}/summaries", {}, world.auth("liaison"))

    assert {path: answer.status_code for path, answer in answers.items()} == dict.fromkeys(answers, 200)
    assert summary.status_code == 201, summary.get_json()
    assert f"RED{REPLACEMENT}" in answers[f"/incidents/{reference}"].text
    assert f"RED{REPLACEMENT}" in answers[f"/incidents/{reference}/print"].text
    assert f"East{REPLACEMENT}" in answers["/exercises/"].text
    detail = answers[f"{INCIDENTS}/{reference}"]
    assert "\\ud800" not in detail.get_data(as_text=True), "JSON answers hold Unicode only"
    assert detail.get_json()["platforms"][0]["callsign"] == f"RED{REPLACEMENT}"
    assert f"RED{REPLACEMENT}" in summary.get_json()["text"]


# -- item 8: times the tracker cannot handle --------------------------------------------------


@pytest.mark.parametrize(
    "moment", ["0001-01-01T00:00:00Z", "9999-12-31T23:59:00-23:59", "1899-12-31T23:59:59Z"], ids=str
)
def test_a_time_outside_what_the_tracker_handles_is_refused_by_the_api(app, client, world, moment):
    response = client.post(INCIDENTS, json=incident_payload(occurred_at=moment), headers=world.auth("duty"))
    assert refused_field(response) == ["occurred_at"]
    assert "1900" in str(response.get_json()["error"]["details"]["occurred_at"])
    listing = client.get(INCIDENTS, query_string={"since": moment}, headers=world.auth("duty"))
    assert refused_field(listing) == ["since"]
    assert count(app, Incident) == 0


def test_a_time_outside_what_the_tracker_handles_is_refused_beside_the_form_field(app, client, world):
    sign_in(client, "duty")
    response = client.post("/incidents/new", data=filing_form(client, occurred_at="9999-12-31T23:59:00-23:59"))
    assert response.status_code == 422, response.status_code
    assert '<small class="error" id="occurred_at-error">must lie between 1900-01-01' in response.text
    readback = client.get("/incidents/readback", query_string={"occurred_at": "9999-12-31T23:59:00-23:59"})
    assert readback.status_code == 200 and "must lie between" in readback.get_json()["occurred_at"]
    assert count(app, Incident) == 0


def test_an_exercise_time_outside_what_the_tracker_handles_is_refused(app, client, world):
    response = client.post(EXERCISES, json=notice(starts_at="0001-01-01T00:00:00Z"), headers=world.auth("supervisor"))
    assert refused_field(response) == ["starts_at"]


# -- items 8 and 13: channel names on one line, one recipient each -----------------------------


@pytest.mark.parametrize(
    "name", ["Ops\r\nBcc: spy@evil.example", "Ops\ndesk", "Ops\tdesk", "Ops\u2028desk", "Ops \u202ekcehc"], ids=repr
)
def test_a_channel_name_with_a_control_character_is_refused_by_the_api_and_the_admin_page(app, client, world, name):
    channel = {"name": name, "level": 1, "transport": "outbox", "address": "night@test.example"}
    assert refused_field(client.post("/api/v1/channels", json=channel, headers=world.auth("admin"))) == ["name"]
    patched = client.patch(f"/api/v1/channels/{world.channels['L1']}", json={"name": name}, headers=world.auth("admin"))
    assert refused_field(patched) == ["name"]

    sign_in(client, "admin")
    form = {"csrf_token": csrf(client, "/admin/channels/new"), "name": name, "level": "1", "transport": "outbox"}
    page = client.post("/admin/channels/new", data={**form, "address": "x@test.example", "check_window_seconds": 900})
    with session_scope(app) as session:
        assert session.scalar(select(ContactChannel).where(ContactChannel.name == name)) is None
        pasted = session.scalar(select(ContactChannel.name).where(ContactChannel.name == name.replace("\t", " ")))
    if "\t" in name:  # a page's one-line field reads a tab as a space (pasted cells)
        assert page.status_code == 302 and pasted == "Ops desk", (page.status_code, pasted)
    else:
        assert page.status_code == 422 and '<small class="error" id="name-error">' in page.text


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "ZAPAD\n2026"),
        ("name", "ZAPAD \u202e6202"),  # shown reversed after the override
        ("name", "ZAPAD\x1b[31m"),
        ("notified_by", "Eastland\tMoD"),
        ("states", ["East\u2066land"]),
    ],
    ids=repr,
)
def test_an_exercise_name_with_a_control_character_is_refused(app, client, world, field, value):
    """Exercise names, states and who notified stand on one line (the register, map tooltips, calendar
    summaries): control and bidirectional characters in them were kept, to be shown as something else."""
    response = client.post(EXERCISES, json=notice(**{field: value}), headers=world.auth("supervisor"))
    assert refused_field(response) == [field], response.get_json()
    kept = client.post(EXERCISES, json=notice(notes="Line one.\nLine two."), headers=world.auth("supervisor"))
    assert kept.status_code == 201, "notes keep their lines"


def _deliver_to(app, world, smtp_server, name: str):
    """Point channel L1 at the SMTP server under name (stored as given), file, deliver; the one e-mail."""
    with session_scope(app) as session:
        channel = session.get(ContactChannel, world.channels["L1"])
        channel.name, channel.transport, channel.address = name, "email", "a@b.example"
    file_incident(app.test_client(), world)
    jobs.deliver(app)
    [mail] = smtp_server.wait_for(1)
    return mail


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"reporting_unit": "Border Guard\nPost 7"}, "reporting_unit"),
        ({"reporting_unit": "Post \u202e7 tsoP"}, "reporting_unit"),
        ({"position_text": "54 24 43N\n022 52 16E"}, "position_text"),
        ({"counterpart_state": "East\tland"}, "counterpart_state"),
        ({"platforms": [{"kind": "fighter\naircraft"}]}, "platforms"),
        ({"platforms": [{"kind": "fighter aircraft", "nationality": "East\u2067land"}]}, "platforms"),
        ({"platforms": [{"kind": "ship", "callsign": "HULL\x1b[31m 007"}]}, "platforms"),
    ],
    ids=repr,
)
def test_an_incidents_one_line_fields_refuse_control_characters(app, client, world, overrides, field):
    """The reporting unit, the other State and a platform's kind, nationality, type and callsign stand on
    one line (the board, message subjects, the print): a line break, an escape or a bidirectional override
    in them was kept, to break a line or show the unit reversed. The narrative keeps its lines."""
    response = client.post(INCIDENTS, json=incident_payload(**overrides), headers=world.auth("duty"))
    assert refused_field(response) == [field], response.get_json()
    kept = client.post(INCIDENTS, json=incident_payload(narrative="Line one.\nLine two."), headers=world.auth("duty"))
    assert kept.status_code == 201, kept.get_json()


def test_a_position_as_typed_refuses_a_line_break_when_amended(client, world):
    """The position as typed is shown on one line (the incident, its print, the board's map); the API's
    filing and amendment read '54.4<LF>22.8' as a position and kept the line break in its text."""
    filed = file_incident(client, world)
    amended = {"version": filed["version"], "position": "54.4\n22.8"}
    answer = client.patch(f"{INCIDENTS}/{filed['reference']}", json=amended, headers=world.auth("duty"))
    assert refused_field(answer) == ["position"]


def test_policy_and_rule_names_and_a_rules_sector_refuse_control_characters(client, world):
    admin = world.auth("admin")
    policy = {"name": "Night\nladder", "steps": [{"channel_ids": [world.channels["L1"]], "ack_seconds": 60}]}
    assert refused_field(client.post("/api/v1/policies", json=policy, headers=admin)) == ["name"]
    rule = {"name": "North\tair", "policy_id": world.policy_id}
    assert refused_field(client.post("/api/v1/rules", json=rule, headers=admin)) == ["name"]
    rule = {"name": "North air", "policy_id": world.policy_id, "sector": "No\u202erth"}
    assert refused_field(client.post("/api/v1/rules", json=rule, headers=admin)) == ["sector"]
    rule = {"name": "North air", "policy_id": world.policy_id, "counterpart_state": "East\nland"}
    assert refused_field(client.post("/api/v1/rules", json=rule, headers=admin)) == ["counterpart_state"]


@pytest.mark.parametrize(
    ("field", "value"),
    [("our_station", "NMCC\nBT"), ("their_station", "MOD \u202eTSAE"), ("counterpart_state", "East\x1b[2Jland")],
    ids=repr,
)
def test_a_lines_stations_and_state_refuse_control_characters(app, client, world, field, value):
    """A counterpart line's stations are the FM and TO lines of every formatted message, its State a line of
    the marking: the API kept a line break, an escape or a bidirectional override in them."""
    path, admin = f"/api/v1/channels/{world.channels['L1']}", world.auth("admin")
    assert refused_field(client.patch(path, json={field: value}, headers=admin)) == [field]
    with session_scope(app) as session:
        with pytest.raises(ValidationError) as refused:  # the service says so too, for any other door
            ladder.save_channel(session, {field: value}, {}, session.get(ContactChannel, world.channels["L1"]))
        assert list(refused.value.details) == [field]
    kept = client.patch(path, json={field: "Eastland MoD, Moscow"}, headers=admin)
    assert kept.status_code == 200 and kept.get_json()[field] == "Eastland MoD, Moscow", kept.get_json()


def test_a_one_line_form_field_refuses_a_line_break_reads_a_tab_as_a_space_a_text_area_keeps_both(app, client, world):
    sign_in(client, "duty")
    form = filing_form(client, reporting_unit="Border Guard\r\nPost 7", narrative="Line one.\r\nLine two.")
    response = client.post("/incidents/new", data=form)
    assert response.status_code == 422, response.status_code
    said = '<small class="error" id="reporting_unit-error">This must not contain control characters'
    assert said in response.text and 'id="narrative-error"' not in response.text, response.text[-3000:]
    assert count(app, Incident) == 0
    # Cells pasted from a spreadsheet arrive tab-separated: in one line a tab is read as a space.
    pasted = {"reporting_unit": "Border Guard\tPost 7", "position": "54.412\t22.871", "sector": ""}
    filed = client.post("/incidents/new", data=filing_form(client, narrative="Line one.\r\nLine two.", **pasted))
    assert filed.status_code == 302 and count(app, Incident) == 1, filed.text[-3000:]
    with session_scope(app) as session:
        incident = session.scalar(select(Incident))
        kept = (incident.reporting_unit, incident.latitude, incident.longitude, incident.narrative)
    assert kept == ("Border Guard Post 7", 54.412, 22.871, "Line one.\nLine two."), kept  # read as a line feed


def test_a_row_of_a_form_refuses_what_its_form_refuses(app, client, world):
    """A form's rows (a platform on the amend page, an agreed action on a call) were plain wtforms forms
    the page's text rule never saw: a callsign with a terminal escape and a NUL (a 500 on PostgreSQL) or
    an action with a line break was kept. Each is now refused beside its field, a tab read as a space."""
    reference = file_incident(client, world)["reference"]
    sign_in(client, "duty")
    form = form_as_shown(client.get(f"/incidents/{reference}/amend").text)
    refused = client.post(f"/incidents/{reference}/amend", data={**form, "platforms-0-callsign": "HULL\x1b[31m 7\x00"})
    assert refused.status_code == 422 and 'id="platforms-0-callsign-error"' in refused.text, refused.status_code
    kept = client.post(f"/incidents/{reference}/amend", data={**form, "platforms-0-callsign": "HULL\t007"})
    assert kept.status_code == 302, kept.text[-2000:]
    with session_scope(app) as session:
        assert [p.get("callsign") for p in session.scalar(select(Incident)).platforms] == ["HULL 007"]

    add_counterpart_line(app, world)
    api_client = app.test_client()
    acknowledged = acknowledged_incident(api_client, world)
    exchange = open_exchange(api_client, world, acknowledged)
    sign_in(client, "liaison")
    call = start_call(client, acknowledged, exchange).headers["Location"]
    action = {"actions-0-text": "Call back\nBcc: x", "actions-0-due_at": "2099-01-01T00:00:00Z"}
    answer = client.post(call, data={"csrf_token": csrf(client, call), **action})
    assert answer.status_code == 422 and 'id="actions-0-text-error"' in answer.text, answer.status_code
    assert count(app, AgreedAction) == 0


@pytest.mark.parametrize("name", EVIL_NAMES, ids=["quotes-and-angle-brackets", "closes-the-quote"])
def test_a_channel_named_like_an_address_list_is_one_recipient(mail_app, world, smtp_server, name):
    renamed = mail_app.test_client().patch(
        f"/api/v1/channels/{world.channels['L1']}", json={"name": name}, headers=world.auth("admin")
    )
    assert renamed.status_code == 200, "quotes, commas and brackets are fair in a name"

    mail = _deliver_to(mail_app, world, smtp_server, name)

    assert [(a.display_name, a.addr_spec) for a in mail["To"].addresses] == [(name, "a@b.example")]
    assert smtp_server.inbox.envelopes[0][1] == ["a@b.example"]


def test_a_channel_saved_with_a_line_break_in_its_name_still_gets_its_messages(mail_app, world, smtp_server):
    mail = _deliver_to(mail_app, world, smtp_server, "Ops\r\nBcc: spy@evil.example")

    assert [a.addr_spec for a in mail["To"].addresses] == ["a@b.example"] and mail["Bcc"] is None
    with session_scope(mail_app) as session:
        statuses = session.scalars(select(Notification.status).where(Notification.channel_id == world.channels["L1"]))
        assert set(statuses) == {NotificationStatus.SENT}


# -- bodies the tracker would misread: invalid UTF-8 in a form, a compressed body ----------------


@pytest.mark.parametrize("bad", [b"%FF%FEClosed", b"Closed \xff\xfe", b"%C3%28"], ids=repr)
def test_a_form_field_that_is_not_utf8_is_refused_not_stored_as_its_escapes(app, client, world, bad):
    """Werkzeug kept a percent-escape that decodes to no UTF-8 as the literal text "%FF", and dropped a
    field of raw invalid bytes: a narrative was stored as escapes, or lost."""
    sign_in(client, "duty")
    form = filing_form(client, narrative="x")
    body = "&".join(f"{k}={quote_plus(v)}" for k, v in form.items() if k != "narrative").encode()
    response = client.post(
        "/incidents/new", data=body + b"&narrative=" + bad, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 400, response.status_code
    assert "the form&#39;s field &#39;narrative&#39; is not UTF-8 text" in response.text, response.text[:2000]
    assert response.headers.get("X-Request-ID"), "a refusal is logged and answered under a request id too"
    assert count(app, Incident) == 0
    cyrillic = body + b"&narrative=" + quote_plus("Сблизился до 30 м.").encode()
    filed = client.post("/incidents/new", data=cyrillic, content_type="application/x-www-form-urlencoded")
    assert filed.status_code == 302 and count(app, Incident) == 1, filed.status_code


def query(raw: bytes) -> dict:
    """The query string as a client sent its bytes (WSGI hands them over as Latin-1 text)."""
    return {"QUERY_STRING": raw.decode("latin-1")}


@pytest.mark.parametrize("bad", [b"%FF%FE", b"Sector \xff", b"%C3%28"], ids=repr)
def test_a_query_parameter_that_is_not_utf8_is_refused_not_read_with_replacement_characters(client, world, bad):
    """Werkzeug read such a parameter with U+FFFD: a filter by sector matched nothing and said so as if
    there were no such incidents, and a page echoed the replacement characters into its form."""
    doors = (
        ("/api/v1/incidents", "exchange_reference", world.auth("duty")),
        ("/api/v1/reports/after-action", "sector", world.auth("supervisor")),
    )
    for door, parameter, headers in doors:
        response = client.get(door, environ_overrides=query(parameter.encode() + b"=" + bad), headers=headers)
        body = response.get_json()
        assert response.status_code == 400, (door, response.status_code, body)
        assert body["error"]["details"] == {parameter: "not UTF-8"}, (door, body)
    sign_in(client, "supervisor")
    page = client.get("/reports", environ_overrides=query(b"sector=" + bad))
    assert page.status_code == 400 and "the query&#39;s parameter &#39;sector&#39; is not UTF-8 text" in page.text, (
        page.text[:2000]
    )
    cyrillic = client.get(
        "/api/v1/reports/after-action", query_string="sector=" + quote_plus("Балтика"), headers=world.auth("supervisor")
    )
    assert cyrillic.status_code == 200, cyrillic.get_json()


def test_a_pattern_is_matched_by_the_whole_value_not_up_to_a_final_line_break(app, client, world):
    """A pattern's `$` also matches before a final line break, and marshmallow's Regexp looks for a
    match at the start only: "ru\\n" was kept as a line's language and "reply\\n" as a kind of message."""
    admin = world.auth("admin")
    channel = {"name": "Hot line", "level": 1, "transport": "outbox", "address": "x@test.example", "language": "ru\n"}
    assert refused_field(client.post("/api/v1/channels", json=channel, headers=admin)) == ["language"]
    add_counterpart_line(app, world)
    exchange = open_exchange(client, world, acknowledged_incident(client, world), release=False)
    message = {"direction": "in", "kind": "reply\n", "text": "Received.", "received_at": "2026-11-27T10:00:00Z"}
    exchange_messages = f"/api/v1/exchanges/{exchange['id']}/messages"
    assert refused_field(client.post(exchange_messages, json=message, headers=world.auth("liaison"))) == ["kind"]
    with session_scope(app) as session:  # the service's own check too, for any other door
        liaison = session.scalar(select(User).where(User.username == "liaison"))
        with pytest.raises(ValidationError) as refused:
            exchanges.record_message(
                session,
                exchanges.get_exchange(session, exchange["id"]),
                MessageDirection.IN,
                "reply\n",
                "Ok.",
                liaison,
                utcnow(),
            )
        assert list(refused.value.details) == ["kind"]


def test_a_terminal_escape_in_a_narrative_is_refused_at_both_doors_and_its_lines_kept(app, client, world):
    """Free text kept every control character but NUL: a terminal escape or a form feed in a narrative
    went on to the mail, the other side's messages and the print."""
    response = client.post(
        INCIDENTS, json=incident_payload(narrative="Closed\x1b[2J to 30 m"), headers=world.auth("duty")
    )
    assert refused_field(response) == ["narrative"]
    sign_in(client, "duty")
    page = client.post("/incidents/new", data=filing_form(client, narrative="Closed\x1b[2J to 30 m"))
    assert page.status_code == 422 and "control characters other than line breaks and tabs" in page.text
    assert count(app, Incident) == 0
    kept = client.post(
        INCIDENTS, json=incident_payload(narrative="Line one.\r\n\tLine two."), headers=world.auth("duty")
    )
    assert kept.status_code == 201, kept.get_json()


@pytest.mark.parametrize(
    "brk",
    ["\x0b", "\x0c", "\x85", "\r", "\u2028", "\r\n"],
    ids=["VT (Word's Shift+Enter)", "FF (page break)", "NEL", "CR alone", "LINE SEPARATOR", "CR LF"],
)
def test_line_breaks_other_programs_write_are_read_as_line_breaks_at_both_doors(app, client, world, brk):
    """A narrative pasted from Word holds VT for a line break and FF for a page break: refused as control
    characters, where they are the line breaks they stand for (found in review)."""
    filed = client.post(INCIDENTS, json=incident_payload(narrative=f"One.{brk}Two."), headers=world.auth("duty"))
    assert filed.status_code == 201 and filed.get_json()["narrative"] == "One.\nTwo.", filed.get_json()
    sign_in(client, "duty")
    page = client.post("/incidents/new", data=filing_form(client, narrative=f"Three.{brk}Four."))
    assert page.status_code == 302, page.text[-2000:]
    with session_scope(app) as session:
        narratives = sorted(session.scalars(select(Incident.narrative)))
    assert narratives == ["One.\nTwo.", "Three.\nFour."], narratives


def multipart(fields: list[tuple[str, bytes, str | None]], charsets: dict | None = None) -> tuple[bytes, str]:
    """A multipart/form-data body of (name, value, filename or None) parts, written byte for byte; a text
    part named in charsets says its charset in a Content-Type of its own."""
    boundary = "tracker-test-boundary"
    parts = []
    for name, value, filename in fields:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        kind = "Content-Type: text/csv\r\n" if filename else ""
        if name in (charsets or {}):
            kind = f"Content-Type: text/plain; charset={charsets[name]}\r\n"
        parts.append(f"--{boundary}\r\nContent-Disposition: {disposition}\r\n{kind}\r\n".encode() + value + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def test_a_multipart_text_field_that_is_not_utf8_is_refused_and_its_file_is_judged_on_its_own(app, client, world):
    """A multipart form's text fields were read with replacement characters where a url-encoded form's are
    refused (400): the same bytes meant two things at two doors. The file part is bytes, judged by the import."""
    sign_in(client, "supervisor")
    token = csrf(client, "/exercises/import").encode()
    csv = b"name,starts_at\n"
    body, kind = multipart([("csrf_token", token, None), ("note", b"re\xffad", None), ("file", csv, "n.csv")])
    refused = client.post("/exercises/import", data=body, content_type=kind)
    assert refused.status_code == 400, refused.status_code
    assert "the form&#39;s field &#39;note&#39; is not UTF-8 text" in refused.text, refused.text[:2000]
    body, kind = multipart([("csrf_token", token, None), ("file", b"\xff\xfe not utf-8", "n.csv")])
    judged = client.post("/exercises/import", data=body, content_type=kind)
    assert judged.status_code == 422, "the file's own bytes are the import's to judge"
    assert count(app, ExerciseNotice) == 0


def test_a_multipart_text_field_is_judged_in_the_charset_its_part_declares(app, client, world):
    """Werkzeug reads a text part in the charset it declares (UTF-8, ASCII or ISO-8859-1): Cyrillic in UTF-8
    in a part saying us-ascii passed the UTF-8 check and was stored as a row of U+FFFD; Latin-1 in a part
    saying so was refused though it is read as written. Any form may come as multipart: the filing form."""
    sign_in(client, "duty")
    form = [(k, v.encode(), None) for k, v in filing_form(client).items() if k != "narrative"]
    narrative = [("narrative", "Сблизился до 30 м.".encode(), None)]
    body, kind = multipart(form + narrative, {"narrative": "us-ascii"})
    refused = client.post("/incidents/new", data=body, content_type=kind)
    assert refused.status_code == 400 and "&#39;narrative&#39; is not UTF-8 text" in refused.text, refused.status_code
    assert count(app, Incident) == 0
    latin = [("narrative", "Closed to 30 m of our café boat.".encode("latin-1"), None)]
    body, kind = multipart(form + latin, {"narrative": "iso-8859-1"})
    assert client.post("/incidents/new", data=body, content_type=kind).status_code == 302
    with session_scope(app) as session:
        assert session.scalar(select(Incident.narrative)) == "Closed to 30 m of our café boat."


@pytest.mark.parametrize(
    ("path", "field"),
    [("/incidents/{reference}/comments", "text"), ("/incidents/new", "occurred_at"), ("/watches/", "desk")],
)
def test_a_file_sent_where_a_page_takes_text_is_refused_naming_the_field(app, client, world, path, field):
    """Flask-WTF reads a multipart file part as the field it names: a file sent as a comment's text, a filing's
    time or a watch's desk reached the length checks as a FileStorage (a 500). Only the import's file field
    takes a file (the test above)."""
    reference = file_incident(client, world)["reference"]
    sign_in(client, "duty")
    events = count(app, TimelineEvent), count(app, Incident), count(app, Watch)
    token = csrf(client, f"/incidents/{reference}").encode()
    body, kind = multipart([("csrf_token", token, None), (field, b"Closed to 30 m.", "notes.txt")])
    answer = client.post(path.format(reference=reference), data=body, content_type=kind)
    assert answer.status_code == 400, (answer.status_code, answer.text[:500])
    assert f"the form&#39;s field &#39;{field}&#39; holds a file where text goes" in answer.text, answer.text[:3000]
    assert (count(app, TimelineEvent), count(app, Incident), count(app, Watch)) == events, "nothing stored"


@pytest.mark.parametrize("body", [{"text": 5}, {"text": {"a": 1}}, ["text"], "text", {"text": "Seen."}], ids=repr)
def test_a_json_body_posted_to_a_page_is_refused_with_415_not_read_as_its_form(app, client, world, body):
    """Flask-WTF reads a JSON body as a page's form: a number or an object as a comment's text reached the
    length check (a 500), and a list or a string broke reading it at all (a 500). No page's script posts JSON;
    a page takes its form as a browser sends it, whatever the JSON holds."""
    reference = file_incident(client, world)["reference"]
    sign_in(client, "duty")
    events = count(app, TimelineEvent)
    headers = {"X-CSRFToken": csrf(client, f"/incidents/{reference}")}  # past the CSRF check, to the form
    answer = client.post(f"/incidents/{reference}/comments", json=body, headers=headers)
    assert answer.status_code == 415, (answer.status_code, answer.text[:500])
    assert "not as JSON" in answer.text and "<html" in answer.text, answer.text[:3000]
    assert count(app, TimelineEvent) == events, "nothing stored"


def test_a_compressed_body_is_refused_with_415_not_read_as_the_body(app, client, world):
    """Nothing here decompresses: a gzip body was read as its compressed bytes (a JSON 400 at best)."""
    packed = gzip.compress(json.dumps(incident_payload()).encode())
    headers = {**world.auth("duty"), "Content-Encoding": "gzip"}
    response = client.post("/api/v1/incidents", data=packed, content_type="application/json", headers=headers)
    assert response.status_code == 415, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["details"] == {"encoding": "gzip"} and "uncompressed" in error["message"], error
    plain = {**world.auth("duty"), "Content-Encoding": "identity"}
    assert client.post("/api/v1/incidents", json=incident_payload(), headers=plain).status_code == 201


def test_every_number_a_query_string_carries_is_read_from_ascii_digits(app, client, world):
    """int() reads "٥" and "５" as 5 and "1_0" as 10: a page, a year or an id in a query string is read from
    0-9 only (http.fields.Count), and anything else is refused naming the parameter."""
    lenient = [
        where
        for where, field in request_fields(app, ("query", "form", "headers", "cookies", "path"))
        if isinstance(field, fields.Number) and not isinstance(field, Count)
    ]
    assert lenient == [], "\n".join(lenient)
    for page in ("٢", "２", "1_0", " 2x"):
        refused = client.get("/api/v1/incidents", query_string={"page": page}, headers=world.auth("duty"))
        assert refused.status_code == 422, (page, refused.status_code, refused.get_data(as_text=True)[:300])
        assert "page" in str(refused.get_json()["error"]["details"]), refused.get_json()
    assert client.get("/api/v1/incidents?page=2", headers=world.auth("duty")).status_code == 200


def test_a_text_of_many_lines_refuses_a_bidirectional_override_as_a_name_does(app, client, world):
    """A narrative filed as "Passed \u202em 003\u202c astern." showed "Passed 300 m astern." on the incident
    page and in the duty mail while the record says "m 003": a reader quotes what is not kept. A name
    refused it; a text of many lines now refuses it too, at the API and beside the page's text area."""
    narrative = "Closed to 30 m.\nPassed \u202em 003\u202c astern."
    answer = client.post(INCIDENTS, json=incident_payload(narrative=narrative), headers=world.auth("duty"))
    assert refused_field(answer) == ["narrative"]
    assert "bidirectional" in answer.get_json()["error"]["details"]["narrative"][0]
    sign_in(client, "duty")
    page = client.post("/incidents/new", data=filing_form(client, narrative=narrative.replace("\n", "\r\n")))
    said = '<small class="error" id="narrative-error">This must not contain bidirectional control characters'
    assert page.status_code == 422 and said in page.text, page.text[-3000:]
    assert count(app, Incident) == 0
    marked = incident_payload(narrative="Their reply: \u200fتم الاستلام\u200f.\nNothing more.")
    assert client.post(INCIDENTS, json=marked, headers=world.auth("duty")).status_code == 201, "RLM is kept"


def test_a_password_holding_a_bidirectional_control_still_signs_in(app, client, world):
    """A password is never shown: the sign-in form holds it only to what can be kept, so one set with
    an override before text areas refused them is still typed, not refused as a text would be."""
    with session_scope(app) as session:
        duty = session.scalar(select(User).where(User.username == "duty"))
        people.set_password(session, duty, "pass\u202eword1", by=None)
    answer = sign_in(client, "duty", "pass\u202eword1")
    assert answer.status_code == 302, answer.text[-2000:]
