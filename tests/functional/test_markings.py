"""Acceptance 6 of issue 13: an incident's marking stands on its page (top and bottom), its print, every
internal e-mail, the CSV and GeoJSON exports and the API; unknown values are refused by name; nothing
goes to a counterpart the marking does not release the incident to."""

import csv
import email
import email.policy
import io
import re

import pytest

from tests.exchange_support import (
    LINE,
    acknowledged_incident,
    add_counterpart_line,
    api,
    mail_text,
    move,
    open_exchange,
)
from tests.support import file_incident, filing_form, incident_payload, marking_lines, outbox_files, sign_in
from tracker import jobs
from tracker.db import session_scope
from tracker.errors import ValidationError
from tracker.models import Exchange, ExchangeMessage, MessageDirection, OutgoingStatus
from tracker.services.exchanges import outgoing
from tracker.services.incidents import marking

RESTRICTED = "RESTRICTED // REL TO EASTLAND"
PLAIN = "UNCLASSIFIED // NOT RELEASABLE"


def restricted(client, world, **overrides) -> dict:
    return file_incident(client, world, classification="restricted", releasable_to=["EASTLAND"], **overrides)


def test_the_marking_line_is_the_classification_then_its_release():
    assert marking.line("RESTRICTED", ["Eastland", "Westland"]) == "RESTRICTED // REL TO EASTLAND, WESTLAND"
    assert marking.line("UNCLASSIFIED", []) == PLAIN
    lists = marking.Markings(("UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL"), ("Eastland", "Westland"))
    marks = [("RESTRICTED", ["Eastland", "Westland"]), ("CONFIDENTIAL", ["Westland"]), ("UNCLASSIFIED", ["westland"])]
    assert marking.highest(lists, marks) == "CONFIDENTIAL // REL TO WESTLAND", "highest class, common release"
    assert marking.highest(lists, []) == PLAIN, "an empty file is released to nobody"
    assert marking.highest(lists, [("SECRET", ["Eastland"])]) == "SECRET // REL TO EASTLAND", "unknown ranks highest"


def test_filing_takes_the_marking_in_the_configured_spelling_and_the_api_shows_it(client, world):
    body = restricted(client, world)
    assert body["classification"] == "RESTRICTED" and body["releasable_to"] == ["Eastland"], body
    assert body["marking"] == RESTRICTED, body
    filed = next(e for e in body["timeline"] if e["kind"] == "filed")
    assert filed["details"]["marking"] == RESTRICTED, filed
    default = file_incident(client, world, releasable_to=...)  # left out: every configured counterpart
    assert default["classification"] == "UNCLASSIFIED" and default["marking"] == "UNCLASSIFIED // REL TO EASTLAND"
    withheld = file_incident(client, world, releasable_to=[])
    assert withheld["releasable_to"] == [] and withheld["marking"] == PLAIN, withheld
    detail = client.get(f"/api/v1/incidents/{body['reference']}", headers=world.auth("liaison")).get_json()
    assert detail["marking"] == RESTRICTED, detail


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"classification": "SECRET"}, "classification"),
        ({"releasable_to": ["Westland"]}, "releasable_to"),
        ({"classification": "TOP SECRET", "releasable_to": ["Eastland", "Nowhere"]}, "releasable_to"),
    ],
)
def test_unknown_values_are_refused_with_422_naming_the_field(client, world, fields, named):
    answer = client.post("/api/v1/incidents", json={**incident_payload(), **fields}, headers=world.auth("duty"))
    assert answer.status_code == 422, answer.get_json()
    assert named in answer.get_json()["error"]["details"], answer.get_json()
    reference = restricted(client, world)["reference"]
    patched = client.patch(f"/api/v1/incidents/{reference}/marking", json=fields, headers=world.auth("supervisor"))
    assert patched.status_code == 422 and named in patched.get_json()["error"]["details"], patched.get_json()


def test_changing_the_marking_is_for_the_notified_line_and_is_on_the_timeline(client, world):
    reference = file_incident(client, world, releasable_to=[])["reference"]
    path = f"/api/v1/incidents/{reference}/marking"
    refused = client.patch(path, json={"classification": "CONFIDENTIAL"}, headers=world.auth("duty"))
    assert refused.status_code == 403, refused.get_json()
    outsider = client.patch(path, json={"classification": "CONFIDENTIAL"}, headers=world.auth("outsider"))
    assert outsider.status_code == 403, outsider.get_json()
    changed = client.patch(path, json={"releasable_to": ["eastland"]}, headers=world.auth("liaison"))
    assert changed.status_code == 200, changed.get_json()
    body = changed.get_json()
    assert body["marking"] == "UNCLASSIFIED // REL TO EASTLAND" and body["classification"] == "UNCLASSIFIED", body
    [event] = [e for e in body["timeline"] if e["kind"] == "marking_changed"]
    assert event["details"] == {"before": PLAIN, "after": "UNCLASSIFIED // REL TO EASTLAND"}, event
    assert event["actor"] == "liaison", event
    # The marking it has, or none given: nothing to record, and the version does not move (as an amendment).
    for same in ({"releasable_to": ["Eastland"]}, {}):
        again = client.patch(path, json=same, headers=world.auth("liaison"))
        assert again.status_code == 422 and "already" in again.get_json()["error"]["message"], again.get_json()
    now = client.get(f"/api/v1/incidents/{reference}", headers=world.auth("liaison")).get_json()
    assert now["version"] == body["version"], "no change, no new version"
    assert len([e for e in now["timeline"] if e["kind"] == "marking_changed"]) == 1, "no change, no event"


def test_the_incident_page_and_its_print_carry_the_marking_top_and_bottom(client, world):
    reference = restricted(client, world)["reference"]
    sign_in(client, "liaison")
    for path in (f"/incidents/{reference}", f"/incidents/{reference}/print"):
        page = client.get(path).text
        shown = marking_lines(page)
        assert shown == [RESTRICTED, RESTRICTED], (path, shown)
        first, last = page.index('class="marking-line"'), page.rindex('class="marking-line"')
        heading = re.search(rf"<h1[^>]*>{reference}", page).start()  # <h1 data-announce> on the incident page
        assert first < heading < page.index("Timeline") < last, path


def test_the_marking_form_on_the_incident_page_changes_it(client, world):
    reference = file_incident(client, world, releasable_to=[])["reference"]
    sign_in(client, "supervisor")
    page = client.get(f"/incidents/{reference}").text
    token = re.search(r'action="/incidents/[^"]+/marking".*?name="csrf_token"[^>]*value="([^"]+)"', page, re.S)[1]
    form = {"csrf_token": token, "classification": "RESTRICTED", "releasable_to": ["Eastland"]}
    answer = client.post(f"/incidents/{reference}/marking", data=form, follow_redirects=True)
    assert answer.status_code == 200 and marking_lines(answer.text) == [RESTRICTED, RESTRICTED], marking_lines(
        answer.text
    )
    bad = client.post(f"/incidents/{reference}/marking", data={**form, "classification": "SECRET"})
    assert bad.status_code == 302
    assert marking_lines(client.get(f"/incidents/{reference}").text) == [RESTRICTED, RESTRICTED], "unchanged"


def test_the_filing_form_takes_a_classification_and_checkboxes(client, world):
    sign_in(client, "duty")
    page = client.get("/incidents/new").text
    assert 'type="checkbox"' in page and 'value="Eastland"' in page and "RESTRICTED" in page
    answer = client.post(
        "/incidents/new", data=filing_form(client, classification="CONFIDENTIAL", releasable_to=["Eastland"])
    )
    assert answer.status_code == 302, answer.text[:500]
    shown = client.get(answer.headers["Location"]).text
    assert marking_lines(shown) == ["CONFIDENTIAL // REL TO EASTLAND"] * 2
    refused = client.post("/incidents/new", data=filing_form(client, classification="SECRET"))
    assert refused.status_code == 422 and "Not a valid choice" in refused.text


def test_every_internal_email_starts_and_ends_with_the_marking(app, client, world):
    reference = restricted(client, world)["reference"]
    assert jobs.deliver(app) >= 1
    mails = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in outbox_files(app)]
    mails = [m for m in mails if reference in m["Subject"]]
    assert mails, "the call to act was delivered"
    for mail in mails:
        lines = mail.get_body(("plain",)).get_content().strip().splitlines()
        assert lines[0] == RESTRICTED and lines[-1] == RESTRICTED, lines
        html = mail.get_body(("html",)).get_content()
        text = re.search(r"<pre[^>]*>(.*)</pre>", html, re.S)[1].strip().splitlines()
        assert text[0] == text[-1] == RESTRICTED, text
        assert html.count(RESTRICTED) == 4, f"the subject as the title and heading, then the text's two:\n{html}"


def test_the_subject_of_every_email_about_an_incident_begins_with_its_marking(app, client, world):
    """A mail client's list shows only the subject: the marking opened and closed every body, and no
    subject said it. Ours name the incident's marking; a text to the other side names its addressee
    alone, as its RELEASABLE TO line does, never the other States the incident is released to; the
    format's own subject carries no marking, so it is not doubled. Each subject one line, as parsed."""
    app.config["RELEASABLE_TO"] = ["Eastland", "Westland"]
    add_counterpart_line(app, world, counterpart_state="Eastland")
    both = {"classification": "RESTRICTED", "releasable_to": ["Eastland", "Westland"]}
    reference = file_incident(client, world, **both)["reference"]
    jobs.deliver(app)  # the call to act, before the acknowledgement that would cancel it
    api(client, world, "POST", f"/incidents/{reference}/acknowledge", {})
    exchange = open_exchange(client, world, reference)
    move(client, world, exchange["id"], "explanation_requested", "Please explain the flight.")
    jobs.deliver(app)
    mails = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in outbox_files(app)]
    ours = [m for m in mails if m["X-Tracker-Event"].startswith("incident.")]
    theirs = [m for m in mails if m["X-Tracker-Event"] == "exchange.message"]
    assert {m["X-Tracker-Event"] for m in ours} >= {"incident.notified", "incident.acknowledged"}, [
        m["Subject"] for m in mails
    ]
    assert len(theirs) == 2, f"the notice and the request: {[m['Subject'] for m in mails]}"
    for mail in ours:
        assert mail["Subject"].startswith(f"RESTRICTED // REL TO EASTLAND, WESTLAND - IMMEDIATE {reference} "), mail[
            "Subject"
        ]
    for mail in theirs:
        subject = r"RESTRICTED // REL TO EASTLAND - NM-\d{4}-\d{4} SERIAL \d{4}/\d{4} [A-Z ]+"
        assert re.fullmatch(subject, mail["Subject"]), mail["Subject"]
        head = mail.get_body(("plain",)).get_content().replace("\r\n", "\n").split("\nBT\n")[0].splitlines()
        assert "RESTRICTED" in head and "RELEASABLE TO EASTLAND" in head, ("the same words as its header", head)
        assert "WESTLAND" not in str(mail).upper() and reference not in str(mail), mail["Subject"]
    for mail in mails:
        assert len(mail.get_all("Subject")) == 1 and not re.search(r"[\r\n]", mail["Subject"]), mail["Subject"]


@pytest.mark.both_databases  # the file's marking reads a JSON column in SQL
def test_the_exports_carry_the_highest_marking_and_each_incidents(client, world):
    restricted(client, world)
    file_incident(client, world, classification="CONFIDENTIAL", releasable_to=[], latitude=None, longitude=None)
    file_incident(client, world)
    answer = client.get("/api/v1/exports/incidents.csv", headers=world.auth("supervisor"))
    rows = list(csv.reader(io.StringIO(answer.get_data(as_text=True), newline="")))
    assert rows[0] == ["MARKING: CONFIDENTIAL // NOT RELEASABLE"], rows[0]
    column = rows[1].index("marking")
    assert [r[column] for r in rows[2:]] == [
        RESTRICTED,
        "CONFIDENTIAL // NOT RELEASABLE",
        "UNCLASSIFIED // REL TO EASTLAND",
    ]
    only = client.get("/api/v1/exports/incidents.csv?precedence=O", headers=world.auth("supervisor")).get_data(True)
    assert only.splitlines()[0] == "MARKING: CONFIDENTIAL // NOT RELEASABLE"
    geo = client.get("/api/v1/exports/incidents.geojson", headers=world.auth("supervisor")).get_json()
    assert geo["marking"] == "CONFIDENTIAL // NOT RELEASABLE", geo["marking"]
    assert [f["properties"]["marking"] for f in geo["features"]] == [RESTRICTED, "UNCLASSIFIED // REL TO EASTLAND"]
    sign_in(client, "supervisor")
    page = client.get("/reports/incidents.csv").data.decode("utf-8-sig")  # for Excel: a byte-order mark first
    assert page.splitlines()[0] == "MARKING: CONFIDENTIAL // NOT RELEASABLE", "the page's export link says the same"


def test_nothing_is_released_to_a_counterpart_the_marking_does_not_name(app, client, world):
    app.config["RELEASABLE_TO"] = ["Eastland", "Westland"]
    add_counterpart_line(app, world, counterpart_state="Westland")
    reference = acknowledged_incident(client, world, classification="RESTRICTED", releasable_to=["Eastland"])
    opened = api(
        client, world, "POST", f"/incidents/{reference}/exchanges", {"channel_id": world.channels[LINE]}, status=201
    )
    refused = client.post(
        f"/api/v1/incidents/{reference}/summaries", json={"exchange_id": opened["id"]}, headers=world.auth("liaison")
    )
    assert refused.status_code == 422, refused.get_json()
    assert refused.get_json()["error"]["message"] == "the incident is not releasable to Westland", refused.get_json()
    with session_scope(app) as session:
        exchange = session.get(Exchange, opened["id"])
        message = ExchangeMessage(
            exchange=exchange,
            direction=MessageDirection.OUT,
            kind="notice",
            text="Northmark liaison: please confirm receipt.",
            at=exchange.opened_at,
            recorded_at=exchange.opened_at,
            channel_id=exchange.channel_id,
            recorded_by="liaison",
            drafted_by="liaison",
            status=OutgoingStatus.APPROVED,
        )
        session.add(message)
        session.flush()
        with pytest.raises(ValidationError, match="not releasable to Westland"):
            outgoing.release(session, message, "approver", exchange.opened_at, outgoing.Settings())
        session.rollback()
    released = client.patch(
        f"/api/v1/incidents/{reference}/marking",
        json={"releasable_to": ["Eastland", "Westland"]},
        headers=world.auth("liaison"),
    )
    assert released.status_code == 200 and released.get_json()["marking"] == "RESTRICTED // REL TO EASTLAND, WESTLAND"
    drafted = client.post(
        f"/api/v1/incidents/{reference}/summaries", json={"exchange_id": opened["id"]}, headers=world.auth("liaison")
    )
    assert drafted.status_code == 201, drafted.get_json()


def test_a_text_over_a_line_naming_no_state_does_not_list_the_other_states_it_is_released_to(app, client, world):
    """The RELEASABLE TO line of a text on a line that names no State listed every State in the incident's
    marking: Eastland read that Westland had the same incident. One State is named; several are not."""
    app.config["RELEASABLE_TO"] = ["Eastland", "Westland"]
    add_counterpart_line(app, world)  # names no State
    reference = acknowledged_incident(client, world, classification="RESTRICTED", releasable_to=["Eastland"])
    exchange = open_exchange(client, world, reference)
    marking = {"releasable_to": ["Eastland", "Westland"]}
    assert api(client, world, "PATCH", f"/incidents/{reference}/marking", marking)["marking"].endswith("WESTLAND")
    move(client, world, exchange["id"], "explanation_requested", "Please explain the flight.")
    jobs.deliver(app)
    heads = [mail_text(p).replace("\r\n", "\n").split("\nBT\n")[0] for p in outbox_files(app)]
    heads = [h for h in heads if h.startswith(("Z ", "O ", "P ", "R "))]  # ours to the other side, not our alerts
    assert len(heads) == 2, heads
    lines = sorted(line for h in heads for line in h.splitlines() if line.startswith("RELEASABLE TO"))
    assert lines == ["RELEASABLE TO EASTLAND", "RELEASABLE TO THE ADDRESSEE"], heads
    assert not any("WESTLAND" in h.upper() for h in heads), heads


def test_an_incident_marked_not_releasable_goes_to_no_counterpart(client, world, app):
    add_counterpart_line(app, world)  # names no State: only "releasable to someone" can be checked
    reference = acknowledged_incident(client, world, releasable_to=[])
    refused = client.post(f"/api/v1/incidents/{reference}/summaries", json={}, headers=world.auth("liaison"))
    assert refused.status_code == 422, refused.get_json()
    assert refused.get_json()["error"]["message"] == "the incident is not releasable", refused.get_json()
    assert refused.get_json()["error"]["details"]["releasable_to"][0].startswith(PLAIN)


def test_the_maps_geojson_carries_each_incidents_marking(client, world):
    """The map's GeoJSON (API and page) holds positions of marked incidents, as the export's does: each
    incident feature says how to handle it."""
    restricted(client, world)
    file_incident(client, world, classification="CONFIDENTIAL", releasable_to=[])
    answer = client.get("/api/v1/map", headers=world.auth("duty")).get_json()
    marks = sorted(
        f["properties"].get("marking") or "" for f in answer["features"] if f["properties"]["kind"] == "incident"
    )
    assert marks == ["CONFIDENTIAL // NOT RELEASABLE", RESTRICTED], marks
    sign_in(client, "duty")
    page = client.get("/map/data").get_json()
    assert (
        sorted(f["properties"].get("marking") or "" for f in page["features"] if "reference" in f["properties"])
        == marks
    )


@pytest.mark.both_databases  # the report's marking reads a JSON column in SQL, under the report's filter
def test_the_after_action_report_carries_the_highest_marking_of_the_incidents_it_counts(client, world):
    """The exports of the report's incidents were marked, the report drawn from the same incidents (its
    page, printed for the review, and its API) was not. It takes the export's rule, under the same filter."""
    restricted(client, world, precedence="Z")
    file_incident(client, world, classification="CONFIDENTIAL", releasable_to=[], precedence="R")
    auth = world.auth("supervisor")
    report = client.get("/api/v1/reports/after-action", headers=auth).get_json()
    assert report["marking"] == "CONFIDENTIAL // NOT RELEASABLE", report.get("marking")
    flash = client.get("/api/v1/reports/after-action?precedence=Z", headers=auth).get_json()
    assert flash["marking"] == RESTRICTED and flash["incidents_total"] == 1, flash
    exported = client.get("/api/v1/exports/incidents.csv?precedence=Z", headers=auth).get_data(as_text=True)
    assert exported.splitlines()[0] == f"MARKING: {flash['marking']}", "the report and its export agree"
    sign_in(client, "supervisor")
    page = client.get("/reports?precedence=Z").text
    assert marking_lines(page) == [RESTRICTED, RESTRICTED], "top and bottom of the page"


def test_the_acknowledge_link_pages_carry_the_incidents_marking_top_and_bottom(app, client, world):
    """The link in a call to act opens a page, without signing in, that shows the incident (precedence,
    category, reporting unit): the mail was marked, the page it leads to was not."""
    reference = restricted(client, world)["reference"]
    jobs.deliver(app)
    mail = next(
        m
        for m in (email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in outbox_files(app))
        if m["X-Tracker-Event"] == "incident.notified"
    )
    link = re.search(r"http://tracker\.test(/links/ack/\S+)", mail.get_body(("plain",)).get_content())[1]
    confirm = client.get(link)
    assert confirm.status_code == 200 and reference in confirm.text, confirm.text[:500]
    assert marking_lines(confirm.text) == [RESTRICTED, RESTRICTED], confirm.text
    done = client.post(link)
    assert done.status_code == 200 and marking_lines(done.text) == [RESTRICTED, RESTRICTED], done.text


def test_the_releasable_to_boxes_are_one_named_group_with_their_hint(app, client, world):
    """A label's "for" named the list of boxes, which no label can name: each box was heard as "Eastland" alone,
    and the hint "none ticked: not releasable" not at all."""
    sign_in(client, "duty")
    page = client.get("/incidents/new").get_data(as_text=True)
    group = re.search(
        r'<fieldset class="field group"([^>]*)>\s*<legend>Releasable to</legend>(.*?)</fieldset>', page, re.S
    )
    assert group, page[page.find("Marking") :][:2000]
    assert 'aria-describedby="releasable_to-description"' in group[1], group[1]
    assert 'id="releasable_to-description">none ticked: not releasable' in group[2], group[2]
    assert 'for="releasable_to"' not in page, "no label names the list"
