"""Text kept before bidirectional controls were refused (tracker.text) still holds them, and stored rows are
never rewritten: every page, export and internal mail shows each one as a visible marker ("[U+202E]"), so the
text reads in the order it is kept. An amendment (page or API) takes such a text sent back as it is kept, and
refuses it changed, naming each control and where it is."""

import html
import json
from email import message_from_bytes, policy

from icalendar import Calendar
from sqlalchemy import select

from tests.exercise_support import create, hours
from tests.functional.test_amendment_pages import form_as_shown
from tests.support import file_incident, outbox_files, sign_in
from tracker import jobs
from tracker.db import session_scope
from tracker.models import EventKind, ExerciseNotice, Incident, Notification, TimelineEvent
from tracker.timeutil import isoformat

RLO, PDF = "\u202e", "\u202c"
HIDDEN = f"Passed {RLO}m 003{PDF} astern."  # read reordered: "Passed 300 m astern."
SHOWN = "Passed [U+202E]m 003[U+202C] astern."


def kept_before_the_rule(app, reference: str) -> None:
    """Put the override where texts of an incident are kept, as a row written before inputs refused it."""
    with session_scope(app) as session:
        incident = session.scalar(select(Incident).where(Incident.reference == reference))
        incident.narrative = HIDDEN
        incident.actions_taken = HIDDEN
        incident.platforms = [{"kind": "frigate", "callsign": f"RED {RLO}17"}]
        comment = {
            "kind": EventKind.COMMENTED,
            "actor": "duty",
            "at": incident.reported_at,
            "details": {"text": HIDDEN},
        }
        session.add(TimelineEvent(incident=incident, **comment))


def test_pages_show_a_stored_bidirectional_control_as_a_marker(app, client, world):
    reference = file_incident(client, world)["reference"]
    kept_before_the_rule(app, reference)
    sign_in(client, "supervisor")
    for path in (f"/incidents/{reference}", f"/incidents/{reference}/print"):
        page = client.get(path)
        assert page.status_code == 200, path
        assert SHOWN in page.text and "RED [U+202E]17" in page.text, path
        assert RLO not in page.text and PDF not in page.text, path


def amended_facts(app, reference: str) -> list[list[str]]:
    """The facts each amendment of the incident names, first first."""
    with session_scope(app) as session:
        incident = session.scalar(select(Incident).where(Incident.reference == reference))
        kinds = (TimelineEvent.incident_id == incident.id, TimelineEvent.kind == EventKind.AMENDED)
        return [event.details["fields"] for event in session.scalars(select(TimelineEvent).where(*kinds))]


def texts_kept(app, reference: str) -> tuple:
    with session_scope(app) as session:
        incident = session.scalar(select(Incident).where(Incident.reference == reference))
        return incident.actions_taken, incident.platforms


KEPT = (HIDDEN, [{"kind": "frigate", "callsign": f"RED {RLO}17"}])


def test_the_amend_form_sends_a_stored_text_back_as_kept_and_amends_another_fact(app, client, world):
    """An officer raising the precedence of an old incident whose actions taken and a platform's callsign hold an
    override: the form sent those back as kept and refused them, so no fact of it could be amended. A field left as
    shown is no amendment of it: taken as it is, neither written again nor named by the amendment."""
    reference = file_incident(client, world)["reference"]
    kept_before_the_rule(app, reference)
    sign_in(client, "duty")
    page = client.get(f"/incidents/{reference}/amend")
    assert "Passed &#x202E;m 003&#x202C; astern." in page.text, "the field holds the text as kept"
    assert SHOWN in page.text, "the narrative above the form shows the markers"

    sent = form_as_shown(page.text)
    assert (sent["actions_taken"], sent["platforms-0-callsign"]) == (HIDDEN, f"RED {RLO}17")
    answer = client.post(f"/incidents/{reference}/amend", data={**sent, "precedence": "Z"})
    assert answer.status_code == 302, answer.text[-3000:]
    assert texts_kept(app, reference) == KEPT
    assert amended_facts(app, reference) == [["precedence"]], "only the fact the officer changed"
    assert "Precedence: <bdi>O</bdi> → <bdi>Z</bdi>" in client.get(f"/incidents/{reference}").text


def test_the_amend_form_refuses_a_changed_text_holding_a_control_and_says_where_it_stands(app, client, world):
    """A field the officer changes is held to the rule: the override kept in it is named where it stands, since
    the field hides it. The platforms are one fact: a platform added holds the kept callsign to the rule too."""
    reference = file_incident(client, world)["reference"]
    kept_before_the_rule(app, reference)
    sign_in(client, "duty")
    sent = form_as_shown(client.get(f"/incidents/{reference}/amend").text)
    changed = {"actions_taken": f"{HIDDEN} Seen again.", "platforms-1-kind": "corvette", "precedence": "Z"}
    refused = client.post(f"/incidents/{reference}/amend", data={**sent, **changed})
    assert refused.status_code == 422, refused.text[-3000:]
    said = refused.text.split('id="actions_taken-error">')[1].split("</small>")[0]
    assert "U+202E RIGHT-TO-LEFT OVERRIDE at character 8, after “Passed ”" in said, said
    assert "U+202C POP DIRECTIONAL FORMATTING at character 14, after “…assed [U+202E]m 003”" in said, said
    said = refused.text.split('id="platforms-0-callsign-error">')[1].split("</small>")[0]
    assert "U+202E RIGHT-TO-LEFT OVERRIDE at character 5" in said, said
    assert texts_kept(app, reference) == KEPT
    assert amended_facts(app, reference) == []


def test_a_platform_row_sent_in_part_is_refused_beside_the_field_it_kept(app, client, world):
    """A row the request carries in part keeps the fields it leaves out as the form showed them, and the form's own
    check passes over a field not sent: the kept callsign, override and all, went into a changed list, which the
    service refused, but its refusal was put on the list as a whole, which the page never shows: a 422 that said
    nothing. It is said beside the callsign of the row the service counted (the empty rows left out)."""
    reference = file_incident(client, world)["reference"]
    kept_before_the_rule(app, reference)
    sign_in(client, "duty")
    sent = form_as_shown(client.get(f"/incidents/{reference}/amend").text)
    sent = {name: value for name, value in sent.items() if not name.startswith("platforms-")}
    refused = client.post(f"/incidents/{reference}/amend", data={**sent, "platforms-0-kind": "destroyer"})
    assert refused.status_code == 422, refused.text[-3000:]
    beside = 'id="platforms-0-callsign-error">'
    assert beside in refused.text, refused.text[refused.text.find("<main") :][:3000]
    said = refused.text.split(beside)[1].split("</small>")[0]
    assert "U+202E RIGHT-TO-LEFT OVERRIDE at character 5" in said, said
    assert texts_kept(app, reference) == KEPT
    assert amended_facts(app, reference) == []


def test_the_api_takes_a_stored_text_sent_back_as_kept_and_refuses_a_changed_one(app, client, world):
    """A client amends by sending back the texts it read beside the fact it changes: those are no amendment of
    them. A changed one holding a control is refused in the error envelope, named where it stands; a list of
    platforms changed holds each of its texts to the rule, as filing does."""
    reference = file_incident(client, world)["reference"]
    kept_before_the_rule(app, reference)
    path, auth = f"/api/v1/incidents/{reference}", world.auth("duty")
    read = client.get(path, headers=auth).get_json()
    texts = {name: read[name] for name in ("actions_taken", "platforms", "sector")}
    assert (texts["actions_taken"], texts["platforms"]) == KEPT, texts

    sent = {"version": read["version"], **texts, "actions_taken": f"{HIDDEN} Seen again."}
    answer = client.patch(path, json=sent, headers=auth)
    assert answer.status_code == 422, answer.get_json()
    error = answer.get_json()["error"]
    assert (error["code"], list(error["details"])) == ("validation_error", ["actions_taken"]), error
    [said] = error["details"]["actions_taken"]
    assert "U+202E RIGHT-TO-LEFT OVERRIDE at character 8, after “Passed ”" in said, said
    added = [*texts["platforms"], {"kind": "corvette"}]
    answer = client.patch(path, json={"version": read["version"], **texts, "platforms": added}, headers=auth)
    assert answer.status_code == 422, answer.get_json()
    [said] = answer.get_json()["error"]["details"]["platforms"]["0"]["callsign"]
    assert "U+202E RIGHT-TO-LEFT OVERRIDE at character 5" in said, said
    assert (texts_kept(app, reference), amended_facts(app, reference)) == (KEPT, [])

    answer = client.patch(path, json={"version": read["version"], **texts, "precedence": "Z"}, headers=auth)
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert (body["precedence"], body["actions_taken"], body["amendment"]["fields"]) == ("Z", HIDDEN, ["precedence"])
    assert set(body["amendment"]["before"]) == {"precedence"}, body["amendment"]
    assert texts_kept(app, reference) == KEPT


def test_the_api_answers_stored_text_as_kept(app, client, world):
    """The API gives the data, as the audit chain seals it: a client shows it by its own rules."""
    reference = file_incident(client, world)["reference"]
    kept_before_the_rule(app, reference)
    answer = client.get(f"/api/v1/incidents/{reference}", headers=world.auth("supervisor"))
    assert json.loads(answer.get_data(as_text=True))["narrative"] == HIDDEN


def test_a_mail_queued_with_a_stored_control_shows_it_as_a_marker_in_every_part(app, client, world):
    """A message queued before the rule (its text rendered then, from a narrative that held the override)."""
    reference = file_incident(client, world)["reference"]
    with session_scope(app) as session:
        row = session.scalar(select(Notification).join(Incident).where(Incident.reference == reference))
        row.subject, row.body, row.html = f"{row.subject} {RLO}RED", f"{row.body}\n{HIDDEN}\n", None
    assert jobs.deliver(app) == 1

    [path] = outbox_files(app)
    mail = message_from_bytes(path.read_bytes(), policy=policy.default)
    parts = {part.get_content_type(): part.get_content() for part in mail.walk() if not part.is_multipart()}
    assert SHOWN in parts["text/plain"] and SHOWN in parts["text/html"], parts
    assert str(mail["Subject"]).endswith("[U+202E]RED"), mail["Subject"]
    for said in (*parts.values(), str(mail["Subject"])):
        assert RLO not in said and PDF not in said


def test_exports_and_the_map_show_a_stored_control_as_a_marker(app, client, world):
    reference = file_incident(client, world)["reference"]
    kept_before_the_rule(app, reference)
    exercise = create(client, world, name="ZAPAD", starts_at=isoformat(hours(-1)), ends_at=isoformat(hours(5)))
    with session_scope(app) as session:
        notice = session.get(ExerciseNotice, exercise["id"])
        notice.name, notice.notes = f"ZAPAD {RLO}6202", HIDDEN
    sign_in(client, "supervisor")

    sheet = client.get("/reports/incidents.csv").get_data(as_text=True)
    geo = client.get("/reports/incidents.geojson").get_data(as_text=True)
    [feature] = json.loads(geo)["features"]
    assert SHOWN in sheet and feature["properties"]["narrative"] == SHOWN
    mapped = client.get("/map/data").get_json()
    assert "ZAPAD [U+202E]6202" in [f["properties"].get("name") for f in mapped["features"]]
    page = client.get("/exercises/").text
    feed = client.get(html.unescape(page.split("data-feed>")[1].split("<")[0]).removeprefix("http://tracker.test"))
    [event] = Calendar.from_ical(feed.get_data()).walk("VEVENT")
    assert str(event["SUMMARY"]).startswith("ZAPAD [U+202E]6202") and SHOWN in str(event["DESCRIPTION"])
    for said in (sheet, geo, json.dumps(mapped, ensure_ascii=False), feed.get_data(as_text=True)):
        assert RLO not in said and PDF not in said


# Kept from a page before a text area's line breaks were read as line feeds (text.same_wording): CR LF.
HIDDEN_LINES = f"Passed {RLO}m 003{PDF} astern.\r\nTurned away."


def kept_in_lines(app, reference: str, actions_taken: str) -> None:
    with session_scope(app) as session:
        session.scalar(select(Incident).where(Incident.reference == reference)).actions_taken = actions_taken


def test_the_api_takes_a_stored_text_sent_back_with_its_line_breaks_written_otherwise(app, client, world):
    """A client reading actions taken kept with CR LF (and an override kept before the rule) sent them back with
    LF, as most do, beside the precedence it raised: the text was taken as changed and refused for its override,
    so no fact could be amended. The same words with their line breaks written otherwise are no amendment of
    them, either way round: the text stays as kept and the amendment names the precedence alone."""
    for kept, sent_back in (
        (HIDDEN_LINES, HIDDEN_LINES.replace("\r\n", "\n")),
        (HIDDEN_LINES.replace("\r\n", "\n"), HIDDEN_LINES),
    ):
        reference = file_incident(client, world)["reference"]
        kept_in_lines(app, reference, kept)
        path, auth = f"/api/v1/incidents/{reference}", world.auth("duty")
        read = client.get(path, headers=auth).get_json()
        sent = {"version": read["version"], "actions_taken": sent_back, "precedence": "Z"}
        answer = client.patch(path, json=sent, headers=auth)
        assert answer.status_code == 200, answer.get_json()
        body = answer.get_json()
        assert (body["actions_taken"], body["amendment"]["fields"]) == (kept, ["precedence"]), body
        assert texts_kept(app, reference)[0] == kept
        assert amended_facts(app, reference) == [["precedence"]]


def test_the_amend_form_takes_a_stored_text_sent_back_with_its_line_breaks_written_otherwise(app, client, world):
    """A browser sends a text area's line breaks as CR LF, which the form reads as LF: a text kept with CR LF and
    an override, left as shown, is no amendment of it."""
    reference = file_incident(client, world)["reference"]
    kept_in_lines(app, reference, HIDDEN_LINES)
    sign_in(client, "duty")
    sent = form_as_shown(client.get(f"/incidents/{reference}/amend").text)
    answer = client.post(
        f"/incidents/{reference}/amend", data={**sent, "actions_taken": HIDDEN_LINES, "precedence": "Z"}
    )
    assert answer.status_code == 302, answer.text[-3000:]
    assert texts_kept(app, reference)[0] == HIDDEN_LINES
    assert amended_facts(app, reference) == [["precedence"]]
