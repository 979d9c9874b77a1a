"""Incident exports (CSV, GeoJSON) through the API and the page, and the printable incident."""

import csv
import io
import json
import re
from datetime import timedelta

import geojson
import pytest
from sqlalchemy import select

from tests.exercise_support import INSIDE, JUST_EAST, NEAR_BORDER, file_at, hours, unusual
from tests.exercise_support import create as create_exercise
from tests.report_fixture import INJECTED, insert_fixture, reference
from tests.support import sign_in
from tracker.db import session_scope
from tracker.models import EventKind, Incident, TimelineEvent
from tracker.services.review.export import CSV_HEADER, csv_cell, incident_record

CSV = "/api/v1/exports/incidents.csv"
GEOJSON = "/api/v1/exports/incidents.geojson"
ORDER = ["A", "B", "C", "G", "D", "E", "F"]  # by reported_at: G (11-30) comes before D (12-01)


@pytest.fixture
def fixture(app, world):
    insert_fixture(app, world)
    return world


def rows(response, bom: bool = False) -> list[dict]:
    """The CSV's rows; bom: it must begin with UTF-8's byte-order mark (for Excel), else it must not."""
    assert response.status_code == 200, f"{response.status_code} {response.get_data(as_text=True)[:300]}"
    assert response.mimetype == "text/csv", response.mimetype
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.data.startswith(b"\xef\xbb\xbf") is bom, f"byte-order mark expected: {bom}; {response.data[:20]!r}"
    body = io.StringIO(response.data.decode("utf-8-sig"), newline="")
    [first] = next(csv.reader(body))
    assert first.startswith("MARKING: "), f"the file's marking comes before the header: {first!r}"
    reader = csv.DictReader(body)
    assert tuple(reader.fieldnames) == CSV_HEADER, reader.fieldnames
    return list(reader)


@pytest.mark.both_databases  # order by time in SQL
def test_csv_has_a_header_and_one_row_per_incident_oldest_first(client, fixture):
    found = rows(client.get(CSV, headers=fixture.auth("supervisor")))
    assert [r["reference"] for r in found] == [reference(x) for x in ORDER]
    a = found[0]
    assert a["occurred_at"] == "2026-11-03T09:50:00Z" and a["occurred_dtg"] == "030950ZNOV26", a
    assert a["reported_at"] == "2026-11-03T10:00:00Z" and a["reported_dtg"] == "031000ZNOV26", a
    assert a["acknowledged_at"] == "2026-11-03T10:02:00Z" and a["acknowledged_dtg"] == "031002ZNOV26", a
    assert a["seconds_to_acknowledge"] == "120.0" and a["seconds_to_resolve"] == "3600.0", a
    assert a["latitude"] == "54.412" and a["longitude"] == "22.871" and a["mgrs"] == "34U FF 2142 3097", a
    assert a["narrative"] == 'Narrative of A, with a comma, and "quotes".', "commas and quotes survive the round trip"
    d = found[ORDER.index("D")]
    assert d["seconds_to_acknowledge"] == "60.5" and d["resolved_dtg"] == "010030ZDEC26", d
    g = found[ORDER.index("G")]
    assert g["acknowledged_at"] == "" and g["latitude"] == "" and g["mgrs"] == "", "no value: an empty cell"


def test_the_api_csv_has_a_byte_order_mark_when_asked(client, fixture):
    """Excel reads a CSV as UTF-8 only with the mark (without it, Cyrillic shows garbled); scripts may not
    expect one, so the API adds it on ?bom=true, and the same rows follow."""
    plain = rows(client.get(CSV, headers=fixture.auth("supervisor")))
    marked = rows(client.get(CSV, query_string={"bom": "true"}, headers=fixture.auth("supervisor")), bom=True)
    assert marked == plain
    refused = client.get(CSV, query_string={"bom": "perhaps"}, headers=fixture.auth("supervisor"))
    assert refused.status_code == 422 and "bom" in str(refused.get_json()["error"]["details"]), refused.get_json()
    assert client.get("/api/v1/reports/after-action?bom=true", headers=fixture.auth("supervisor")).status_code == 422


def test_csv_cells_that_a_spreadsheet_would_run_are_escaped(client, fixture):
    g = {r["reference"]: r for r in rows(client.get(CSV, headers=fixture.auth("admin")))}[reference("G")]
    for field, text in INJECTED.items():
        assert g[field] == "'" + text, f"{field}: {g[field]!r}"
    f = {r["reference"]: r for r in rows(client.get(CSV, headers=fixture.auth("admin")))}[reference("F")]
    assert f["latitude"] == "-12.5" and f["longitude"] == "-45.25", "negative numbers are numbers, not formulas"


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@A1", "'@A1"),
        ("\tx", "'\tx"),
        ("a=b", "a=b"),
        (-3.5, -3.5),
        # White space before the formula: spreadsheets skip it and run what follows.
        (" =1+1", "' =1+1"),
        ("  +1", "'  +1"),
        ("\u00a0-1", "'\u00a0-1"),
        ("\u2003@SUM(A1)", "'\u2003@SUM(A1)"),
        ("\n=1+1", "'\n=1+1"),
        ("\r\n-2", "'\r\n-2"),
        ("\nplain", "'\nplain"),
        ("\x00x", "'\x00x"),
        (" plain text", " plain text"),
        ("-", "'-"),
        (-0.0, -0.0),
    ],
)
def test_csv_cell_guards_against_formula_injection(value, cell):
    assert csv_cell(value) == cell, repr(value)


def test_csv_header_is_the_record_in_order(app, fixture):
    with session_scope(app) as session:
        for incident in session.scalars(select(Incident)):
            assert tuple(incident_record(incident)) == CSV_HEADER, incident.reference


@pytest.mark.both_databases  # time windows compared in SQL
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"precedence": "Z"}, ["A", "B", "C", "D"]),
        ({"precedence": ["O", "R"]}, ["G", "E"]),
        ({"sector": "South"}, ["C", "D"]),
        ({"domain": "air", "category": "unsafe_intercept"}, ["A", "D", "F"]),
        ({"from": "2026-11-01", "to": "2026-12-01"}, ["A", "B", "C", "G"]),
        ({"from": "2027-01-01"}, []),
    ],
)
def test_csv_filters_are_those_of_the_report(client, fixture, query, expected):
    found = rows(client.get(CSV, query_string=query, headers=fixture.auth("supervisor")))
    assert [r["reference"] for r in found] == [reference(x) for x in expected], query


def test_geojson_is_a_valid_feature_collection_of_points(client, fixture):
    response = client.get(GEOJSON, headers=fixture.auth("supervisor"))
    assert response.status_code == 200 and response.mimetype == "application/geo+json", response.status_code
    body = json.loads(response.get_data(as_text=True))
    assert body["type"] == "FeatureCollection" and body["skipped"] == 1, "G has no position: left out, counted"
    parsed = geojson.loads(response.get_data(as_text=True))
    assert parsed.is_valid, parsed.errors()
    assert [f["id"] for f in body["features"]] == [reference(x) for x in ORDER if x != "G"]
    for feature in body["features"]:
        assert feature["type"] == "Feature" and feature["geometry"]["type"] == "Point", feature
        lon, lat = feature["geometry"]["coordinates"]
        assert -180 <= lon <= 180 and -90 <= lat <= 90, feature
        props = feature["properties"]
        assert (lon, lat) == (props["longitude"], props["latitude"]), "coordinates are [longitude, latitude]"
        assert set(props) == set(CSV_HEADER), sorted(set(props) ^ set(CSV_HEADER))
    f = body["features"][-1]
    assert f["geometry"]["coordinates"] == [-45.25, -12.5] and f["properties"]["precedence"] == "P", f


@pytest.mark.both_databases  # time windows compared in SQL
def test_geojson_filters_and_an_empty_collection(client, fixture):
    body = client.get(GEOJSON, query_string={"sector": "North"}, headers=fixture.auth("admin")).get_json()
    assert [f["id"] for f in body["features"]] == [reference(x) for x in ("A", "B", "F")] and body["skipped"] == 1
    empty = client.get(GEOJSON, query_string={"from": "2030-01-01"}, headers=fixture.auth("admin")).get_json()
    nothing = {"type": "FeatureCollection", "marking": "UNCLASSIFIED // NOT RELEASABLE", "features": [], "skipped": 0}
    assert empty == nothing, empty
    assert geojson.GeoJSON.to_instance(empty).is_valid


@pytest.mark.parametrize("path", [CSV, GEOJSON])
@pytest.mark.parametrize(("who", "status"), [("duty", 403), ("liaison", 403), ("supervisor", 200), ("admin", 200)])
def test_exports_are_for_supervisors_and_admins(client, fixture, path, who, status):
    response = client.get(path, headers=fixture.auth(who))
    assert response.status_code == status, f"{who} {path}: {response.status_code}"


@pytest.mark.parametrize("path", [CSV, GEOJSON])
def test_export_with_a_bad_filter_is_a_422_envelope(client, fixture, path):
    response = client.get(path, query_string={"precedence": "Q"}, headers=fixture.auth("supervisor"))
    assert response.status_code == 422, response.status_code
    assert "precedence" in response.get_json()["error"]["details"], response.get_json()


def test_the_export_paths_do_not_collide_with_incident_references(client, fixture):
    response = client.get("/api/v1/incidents/export.csv", headers=fixture.auth("supervisor"))
    assert response.status_code == 404, "export.csv is not an incident; exports live under /api/v1/exports/"


def test_signed_in_supervisor_downloads_the_exports_from_the_page(client, fixture):
    sign_in(client, "supervisor")
    found = rows(client.get("/reports/incidents.csv?precedence=Z&sector=North"), bom=True)  # opened in Excel
    assert [r["reference"] for r in found] == [reference("A"), reference("B")]
    body = client.get("/reports/incidents.geojson?sector=South").get_json()
    assert [f["id"] for f in body["features"]] == [reference("C"), reference("D")]
    assert client.get("/reports/incidents.csv?from=never").status_code == 422


def test_page_exports_need_a_supervisor(client, fixture):
    assert client.get("/reports/incidents.csv").status_code == 302, "signed out: to the sign-in page"
    sign_in(client, "duty")
    assert client.get("/reports/incidents.csv").status_code == 403
    assert client.get("/reports/incidents.geojson").status_code == 403


def test_printable_incident_has_every_fact_event_message_and_exchange(client, fixture):
    from tests.support import file_incident

    sign_in(client, "liaison")
    filed = file_incident(client, fixture)  # a real incident: filed, routed, notified
    ref = filed["reference"]
    client.post(
        f"/api/v1/incidents/{ref}/comments", json={"text": "Called the <b>attaché</b>"}, headers=fixture.auth("duty")
    )
    client.post(f"/api/v1/incidents/{ref}/acknowledge", json={"note": "on it"}, headers=fixture.auth("liaison"))
    detail = client.get(f"/api/v1/incidents/{ref}", headers=fixture.auth("duty")).get_json()
    page = client.get(f"/incidents/{ref}/print")
    assert page.status_code == 200, page.text[:300]
    html = page.text
    events = re.findall(r'<tr class="event-([a-z_]+)">', html)
    assert events == [e["kind"] for e in detail["timeline"]], f"every event, oldest first: {events}"
    for event in detail["timeline"]:
        assert event["at"] in html, f"{event['kind']} time {event['at']} (machine-readable UTC) missing"
    for text in ("2nd Air Defence Squadron", "34U FF", "54.41200, 22.87100", "Called the &lt;b&gt;attaché&lt;/b&gt;"):
        assert text in html, f"{text!r} not on the printable page"
    assert "@media print" not in html and "<script" not in html.split("</head>")[1]
    isolates_left_out = re.sub(r"</?bdi>", "", html)  # the subject's marking isolated as the marking line's
    for n in detail["notifications"]:
        assert n["subject"] in isolates_left_out, f"message {n['subject']!r} missing"
    assert "271405ZNOV26" in html or "270915ZNOV26" in html, "occurred-at as a DTG"
    assert "Exchanges with the other side" not in html, "no exchanges: no section"


def test_printable_incident_lists_its_exchanges(client, fixture):
    sign_in(client, "duty")
    html = client.get(f"/incidents/{reference('A')}/print").text
    assert html.count("<bdi>Attache line</bdi>:") == 2 and f"reply about {reference('A')}" in html, html[-3000:]
    assert "received" in html and "reply received" in html
    assert client.get("/incidents/INC-2026-99999/print").status_code == 404


def test_incident_page_links_to_its_printable_page(client, fixture):
    sign_in(client, "duty")
    page = client.get(f"/incidents/{reference('B')}")
    assert f'href="/incidents/{reference("B")}/print"' in page.text


def test_the_exports_carry_what_amendments_added_to_the_narrative(client, fixture):
    ref = reference("A")
    version = client.get(f"/api/v1/incidents/{ref}", headers=fixture.auth("supervisor")).get_json()["version"]
    addendum = "-Correction: the fighter closed to 15 m, not 30 m."
    body = {"version": version, "narrative_addendum": addendum}
    answer = client.patch(f"/api/v1/incidents/{ref}", json=body, headers=fixture.auth("supervisor"))
    assert answer.status_code == 200, answer.get_json()
    [added] = answer.get_json()["addenda"]
    a = {r["reference"]: r for r in rows(client.get(CSV, headers=fixture.auth("supervisor")))}[ref]
    assert a["narrative"] == 'Narrative of A, with a comma, and "quotes".', "the narrative as filed stays as it was"
    expected = f"{added['at']} supervisor: {addendum}"
    assert a["narrative_addenda"] == expected, "a reader of the file sees the correction, and no formula runs"
    b = {r["reference"]: r for r in rows(client.get(CSV, headers=fixture.auth("supervisor")))}[reference("B")]
    assert b["narrative_addenda"] == "", "nothing added: an empty cell"
    features = client.get(GEOJSON, headers=fixture.auth("supervisor")).get_json()["features"]
    [feature] = [f for f in features if f["id"] == ref]
    assert feature["properties"]["narrative_addenda"] == expected, feature["properties"]


def test_seconds_to_acknowledge_in_the_exports_is_the_reports_to_the_first_acknowledgement(app, client, fixture):
    with session_scope(app) as session:  # C, taken after 900 s, went back up its ladder and was taken again
        c = session.scalars(select(Incident).where(Incident.reference == reference("C"))).one()
        again = c.reported_at + timedelta(hours=5)
        details = {"step": 2, "loop": 1, "note": "", "told": []}
        c.events.append(TimelineEvent(kind=EventKind.ACKNOWLEDGED, actor="liaison", at=again, details=details))
        c.acknowledged_at = again
    row = {r["reference"]: r for r in rows(client.get(CSV, headers=fixture.auth("supervisor")))}[reference("C")]
    assert row["seconds_to_acknowledge"] == "900.0", row["seconds_to_acknowledge"]
    assert row["acknowledged_at"] == "2026-11-20T17:00:00Z", "the last acknowledgement, as the incident records it"
    features = client.get(GEOJSON, headers=fixture.auth("supervisor")).get_json()["features"]
    [feature] = [f for f in features if f["id"] == reference("C")]
    assert feature["properties"]["seconds_to_acknowledge"] == 900.0


@pytest.mark.both_databases  # the exercise is read with the incidents, in batches
def test_the_exports_name_the_notified_exercise_an_incident_is_linked_to(client, world):
    """An incident inside a notified exercise's area and time is linked to it (the context that lowers the
    temperature), and the page and the API said so; the exports an analyst works from did not name it."""
    exercise = create_exercise(client, world)
    inside = file_at(client, world, INSIDE, hours(-2))
    outside = file_at(client, world, JUST_EAST, hours(-2))
    assert inside["exercise"] == {"id": exercise["id"], "name": "EASTERN RAMPART"}, inside["exercise"]
    assert outside["exercise"] is None, outside["exercise"]
    found = {r["reference"]: r for r in rows(client.get(CSV, headers=world.auth("supervisor")))}
    named = {
        ref: (found[ref]["exercise_id"], found[ref]["exercise"]) for ref in (inside["reference"], outside["reference"])
    }
    assert named == {inside["reference"]: (str(exercise["id"]), "EASTERN RAMPART"), outside["reference"]: ("", "")}, (
        named
    )
    body = client.get(GEOJSON, headers=world.auth("supervisor")).get_json()
    props = {f["id"]: f["properties"] for f in body["features"]}
    linked = {ref: (props[ref]["exercise_id"], props[ref]["exercise"]) for ref in named}
    assert linked == {inside["reference"]: (exercise["id"], "EASTERN RAMPART"), outside["reference"]: (None, None)}, (
        linked
    )


def test_the_exports_keep_the_no_notice_flag_of_unusual_activity_near_the_border(client, world):
    """Unusual military activity near the border that no notified exercise holds is flagged "no notice on
    record" (the API and the board say so); the exports an analyst reviews the unannounced activity from
    dropped the flag, so an unnotified exercise seen on the border read as any other incident."""
    flagged = unusual(client, world, NEAR_BORDER, hours(-2))
    plain = file_at(client, world, NEAR_BORDER, hours(-2))
    assert (flagged["no_notice"], plain["no_notice"]) == (True, False), (flagged["no_notice"], plain["no_notice"])
    found = {r["reference"]: r for r in rows(client.get(CSV, headers=world.auth("supervisor")))}
    said = {ref: found[ref]["no_notice"] for ref in (flagged["reference"], plain["reference"])}
    assert said == {flagged["reference"]: "true", plain["reference"]: "false"}, said
    body = client.get(GEOJSON, headers=world.auth("supervisor")).get_json()
    props = {f["id"]: f["properties"]["no_notice"] for f in body["features"] if f["id"] in said}
    assert props == {flagged["reference"]: True, plain["reference"]: False}, props


def test_the_exports_carry_what_our_reports_saw_of_an_exercise(client, world):
    """A report's observed forces (troops, tanks ... counted as the Vienna Document counts them) are what the
    exercise checks compare with the declaration ("more seen than declared"); the exports dropped them, so an
    analyst could not see from the file which reports saw what."""
    create_exercise(client, world, declared_size=9_500)
    seen = {"troops": 14_000, "battle_tanks": 310}
    saw = file_at(client, world, INSIDE, hours(-2), observed_forces=seen)
    blind = file_at(client, world, INSIDE, hours(-2))
    found = {r["reference"]: r for r in rows(client.get(CSV, headers=world.auth("supervisor")))}
    row, empty = found[saw["reference"]], found[blind["reference"]]
    assert (row["observed_troops"], row["observed_battle_tanks"], row["observed_artillery_pieces"]) == (
        "14000",
        "310",
        "",
    ), row
    assert all(empty[key] == "" for key in CSV_HEADER if key.startswith("observed_")), empty
    props = {
        f["id"]: f["properties"] for f in client.get(GEOJSON, headers=world.auth("supervisor")).get_json()["features"]
    }
    assert props[saw["reference"]]["observed_troops"] == 14_000, props[saw["reference"]]
    assert props[blind["reference"]]["observed_battle_tanks"] is None, props[blind["reference"]]
