"""The Vienna Document checks where people meet them: the API's `checks`, the CSV import of the
figures, the calendar feed, the board's exercise tag, the exercise pages, our own briefings (API
and page), the demo's exercises, and the thresholds' configuration. The table of cases is in
tests/unit/test_vienna_document.py."""

import html
import re
from datetime import timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import select

from tests.exercise_support import EXERCISES, INSIDE, create, file_at, hours, notice
from tests.support import csrf, sign_in
from tracker import demo
from tracker.config import ConfigError
from tracker.db import session_scope
from tracker.models import ExerciseBriefing, ExerciseNotice, Incident
from tracker.timeutil import isoformat, parse_moment, utcnow

HEADER = (
    "name,states,starts_at,ends_at,centre,radius_km,declared_size,battle_tanks,notified_via,notified_at,snap,ours\n"
)


def days_before(start_hours: float, days: float) -> str:
    """The time `days` days before a start `start_hours` hours from now."""
    return isoformat(hours(start_hours - 24 * days))


def found(exercise: dict, severity: str = "flag") -> set[tuple[str, str]]:
    return {(c["code"], c["paragraph"]) for c in exercise["checks"] if c["severity"] == severity}


def signed_in(app, who: str):
    client = app.test_client()
    assert sign_in(client, who).status_code == 302, f"{who} could not sign in"
    return client


def observe(app, reference: str, forces: dict) -> None:
    """Record what our report saw of its exercise (as the filing of observed forces stores it)."""
    with session_scope(app) as session:
        session.scalar(select(Incident).where(Incident.reference == reference)).observed_forces = forces


# -- the API ---------------------------------------------------------------------------------


@pytest.mark.both_databases  # figures, booleans and the checks' times read back per engine
def test_exercise_with_figures_is_created_read_and_checked(client, world):
    created = create(
        client,
        world,
        declared_size=20_000,
        battle_tanks=260,
        armoured_combat_vehicles=480,
        artillery_pieces=90,
        airborne_troops=None,
        aircraft_sorties=150,
        notified_at=days_before(-3, 9),
        notified_by="Eastland",
        notified_to="all participating States",
    )
    figures = {k: created[k] for k in ("declared_size", "battle_tanks", "armoured_combat_vehicles", "artillery_pieces")}
    assert figures == {
        "declared_size": 20_000,
        "battle_tanks": 260,
        "armoured_combat_vehicles": 480,
        "artillery_pieces": 90,
    }, created
    assert (created["airborne_troops"], created["aircraft_sorties"]) == (None, 150), created
    assert (created["notified_by"], created["notified_to"], created["snap"], created["ours"]) == (
        "Eastland",
        "all participating States",
        False,
        False,
    ), created
    assert found(created) == {("notified_late", "38")}, created["checks"]
    assert found(created, "note") == {("notifiable", "40.1.1"), ("observable", "47.4")}, created["checks"]
    late = next(c for c in created["checks"] if c["code"] == "notified_late")
    assert "9 days before the start" in late["text"] and late["label"] == "notified late", late

    location = f"{EXERCISES}/{created['id']}"
    assert client.get(location, headers=world.auth("duty")).get_json() == created
    listed = client.get(EXERCISES, headers=world.auth("liaison")).get_json()
    assert listed[0]["checks"] == created["checks"], listed

    on_time = client.patch(location, json={"notified_at": days_before(-3, 50)}, headers=world.auth("admin"))
    assert on_time.status_code == 200, on_time.get_json()
    assert found(on_time.get_json()) == set(), on_time.get_json()["checks"]
    assert ("notified_in_time", "38") in found(on_time.get_json(), "note"), on_time.get_json()["checks"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"battle_tanks": -1}, "battle_tanks"),
        ({"aircraft_sorties": "200"}, "aircraft_sorties"),
        ({"declared_size": "12,700"}, "declared_size"),  # JSON numbers are numbers: the CSV takes "12,700"
        ({"snap": None}, "snap"),
        ({"notified_by": "x" * 81}, "notified_by"),
    ],
)
def test_bad_figures_are_refused_with_the_envelope(client, world, body, field):
    response = client.post(EXERCISES, json=notice(**body), headers=world.auth("supervisor"))
    answer = response.get_json()
    assert response.status_code == 422 and field in str(answer["error"]["details"]), answer


@pytest.mark.both_databases  # a boolean compared in SQL
def test_only_exercises_of_ours_are_listed_with_ours_true(client, world):
    create(client, world, name="THEIRS")
    create(client, world, name="MINE", ours=True)
    mine = client.get(f"{EXERCISES}?ours=true", headers=world.auth("duty")).get_json()
    theirs = client.get(f"{EXERCISES}?ours=false", headers=world.auth("duty")).get_json()
    assert ([e["name"] for e in mine], [e["name"] for e in theirs]) == (["MINE"], ["THEIRS"])


def test_reports_that_saw_more_than_declared_are_flagged(app, client, world):
    exercise = create(
        client, world, declared_size=12_700, starts_at=isoformat(hours(-3)), notified_at=days_before(-3, 60)
    )
    assert found(exercise) == {("near_threshold", "47.4")}, exercise["checks"]
    report = file_at(client, world, INSIDE, hours(-2))
    assert report["exercise"]["id"] == exercise["id"], report["exercise"]
    observe(app, report["reference"], {"troops": 14_000, "battle_tanks": 30})

    checked = client.get(f"{EXERCISES}/{exercise['id']}", headers=world.auth("duty")).get_json()
    assert found(checked) == {
        ("near_threshold", "47.4"),
        ("observed_above_declared", "40.1.1"),
        ("observed_over_threshold", "47.4"),
    }, checked["checks"]
    seen = [c["text"] for c in checked["checks"] if c["code"] == "observed_above_declared"]
    assert sorted(seen) == [
        "Our reports saw 14,000 troops; 12,700 declared.",
        "Our reports saw 30 battle tanks; none declared.",
    ]

    page = html.unescape(signed_in(app, "duty").get(f"/exercises/{exercise['id']}").text)
    assert re.search(r'data-figure="troops"><td>troops</td><td[^>]*>12,700</td><td[^>]*>14,000</td>', page), page
    assert report["reference"] in page and "seen over the observation threshold" in page, page


# -- the CSV import --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "troops"),
    [('"12,700"', 12_700), ("12 700", 12_700), ("12'700", 12_700), ("12\u2009700", 12_700), ("12700", 12_700)],
)
def test_csv_figures_may_group_their_thousands(client, world, cell, troops):
    row = f"ZAPAD,Eastland,2027-09-14T06:00:00Z,2027-09-20T18:00:00Z,54.2 23.7,40,{cell},250,vienna_document,"
    row += "2026-07-01T06:00:00Z,no,no\n"  # when the notice came: never ahead of now
    response = client.post(f"{EXERCISES}/import", json={"csv": HEADER + row}, headers=world.auth("supervisor"))
    assert response.status_code == 201, response.get_json()
    (imported,) = response.get_json()
    assert (imported["declared_size"], imported["battle_tanks"]) == (troops, 250), imported
    assert ("near_threshold", "47.4") in found(imported), imported["checks"]


@pytest.mark.parametrize("cell", ["12.700", "12.7", "12,70", "1,2700", "12,700.5", "twelve"])
def test_csv_refuses_an_ambiguous_or_wrong_figure(app, client, world, cell):
    row = f'ZAPAD,Eastland,2027-09-14T06:00:00Z,2027-09-20T18:00:00Z,54.2 23.7,40,"{cell}",,vienna_document,,,\n'
    response = client.post(f"{EXERCISES}/import", json={"csv": HEADER + row}, headers=world.auth("supervisor"))
    answer = response.get_json()
    assert response.status_code == 422, answer
    assert "not a whole number" in answer["error"]["details"]["row 2"]["declared_size"][0], answer
    with session_scope(app) as session:
        assert session.scalar(select(ExerciseNotice.id)) is None, cell


def test_csv_reads_snap_and_ours(client, world):
    row = "DRILL,Northmark,2026-09-14T06:00:00Z,2026-09-15T06:00:00Z,54.3 22.6,20,15000,,vienna_document,"
    row += "2026-09-14T06:00:00Z,yes,Y\n"  # a past snap exercise, notified as its troops commenced
    response = client.post(f"{EXERCISES}/import", json={"csv": HEADER + row}, headers=world.auth("supervisor"))
    assert response.status_code == 201, response.get_json()
    (imported,) = response.get_json()
    assert (imported["snap"], imported["ours"]) == (True, True), imported
    assert found(imported, "note") >= {("snap", "41"), ("snap_notified", "41.1"), ("snap_not_observable", "47.7")}


# -- the calendar feed and the board ---------------------------------------------------------


def test_calendar_feed_carries_the_flags_with_their_paragraphs(client, world):
    create(
        client,
        world,
        name="LATE",
        starts_at=isoformat(hours(24)),
        ends_at=isoformat(hours(48)),
        declared_size=9_500,
        notified_at=days_before(24, 40),
    )
    create(
        client,
        world,
        name="IN TIME",
        starts_at=isoformat(hours(24)),
        ends_at=isoformat(hours(48)),
        notified_at=days_before(24, 45),
    )
    response = client.get(f"{EXERCISES}.ics", headers=world.auth("liaison"))
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    events = {str(e["SUMMARY"]): e for e in Calendar.from_ical(response.get_data()).walk("VEVENT")}
    late, in_time = events["LATE (Eastland)"], events["IN TIME (Eastland)"]
    description = str(late["DESCRIPTION"])
    assert "Vienna Document 2011 flags:" in description, description
    assert "Notified late: 40 days before the start; at least 42 days are due. (para. 38)" in description, description
    assert "Vienna Document: notified late (para. 38)" in late["CATEGORIES"].cats, late["CATEGORIES"].cats
    assert "flags" not in str(in_time["DESCRIPTION"]) and in_time["CATEGORIES"].cats == ["Exercise notice"], in_time


def test_the_feed_does_not_say_notified_of_an_exercise_with_no_notification_on_record(client, world):
    """An exercise entered without a notification time (seen, not notified) read "Notified by Vienna Document
    notification" in the calendar feed, the words of a notice that never came; the page says "no time on
    record" and the flags say "not notified". Ours, first briefed by us, reads as that briefing."""
    create(client, world, name="UNANNOUNCED", starts_at=isoformat(hours(24)), ends_at=isoformat(hours(48)))
    create(client, world, name="SEEN", starts_at=isoformat(hours(24)), ends_at=isoformat(hours(48)), notified_at=None)
    ours = create(
        client,
        world,
        name="OURS",
        ours=True,
        starts_at=isoformat(hours(24 * 50)),
        ends_at=isoformat(hours(24 * 51)),
        notified_at=None,
    )
    briefed = {"briefed_at": isoformat(hours(-2)), "briefed_to": "Eastland attaché", "via": "bilateral_briefing"}
    assert (
        client.post(f"{EXERCISES}/{ours['id']}/briefings", json=briefed, headers=world.auth("admin")).status_code == 201
    )
    response = client.get(f"{EXERCISES}.ics", headers=world.auth("liaison"))
    events = {str(e["SUMMARY"]): str(e["DESCRIPTION"]) for e in Calendar.from_ical(response.get_data()).walk("VEVENT")}
    assert "Notified by Vienna Document notification, " in events["UNANNOUNCED (Eastland)"], events
    seen = events["SEEN (Eastland)"]
    assert "Notified by" not in seen and "No notification on record (Vienna Document notification)" in seen, seen
    mine = events["OURS (Eastland)"]
    assert "Notified by" not in mine and "First briefed by us by bilateral briefing, " in mine, mine
    assert "to Eastland attaché" in mine, mine


@pytest.mark.both_databases  # the reports' releasability is a JSON column read in SQL
def test_a_feed_event_that_says_what_our_reports_saw_carries_their_marking(app, client, world):
    """The feed leaves the tracker for calendar clients (often a calendar service fetching it for them), and
    "Our reports saw 14,000 troops" is what a RESTRICTED report said: the event carried no marking. An
    event with findings from our reports opens its summary and opens and closes its description with the
    highest marking of those reports; an event with the notice alone stays unmarked."""
    running = {"starts_at": isoformat(hours(-3)), "ends_at": isoformat(hours(3))}
    seen = create(client, world, name="SEEN", declared_size=12_700, **running)
    create(client, world, name="UNSEEN", starts_at=isoformat(hours(24)), ends_at=isoformat(hours(48)))
    first = file_at(client, world, INSIDE, hours(-2), classification="RESTRICTED", releasable_to=["Eastland"])
    second = file_at(client, world, INSIDE, hours(-2))  # UNCLASSIFIED // REL TO EASTLAND
    unseen = file_at(client, world, INSIDE, hours(-2), classification="CONFIDENTIAL", releasable_to=[])
    assert first["exercise"]["id"] == second["exercise"]["id"] == unseen["exercise"]["id"] == seen["id"]
    observe(app, first["reference"], {"troops": 14_000})
    observe(app, second["reference"], {"battle_tanks": 30})  # unseen observed nothing: its marking does not count
    response = client.get(f"{EXERCISES}.ics", headers=world.auth("liaison"))
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    events = {str(e["UID"]).split("@")[0]: e for e in Calendar.from_ical(response.get_data()).walk("VEVENT")}
    marked = events[f"exercise-{seen['id']}"]
    marking = "RESTRICTED // REL TO EASTLAND"
    assert str(marked["SUMMARY"]) == f"{marking} - SEEN (Eastland)", marked["SUMMARY"]
    lines = str(marked["DESCRIPTION"]).splitlines()
    assert lines[0] == lines[-1] == marking, lines
    assert "- Our reports saw 14,000 troops; 12,700 declared. (para. 40.1.1)" in lines, lines
    plain = next(e for key, e in events.items() if key != f"exercise-{seen['id']}")
    assert str(plain["SUMMARY"]) == "UNSEEN (Eastland)" and "RESTRICTED" not in str(plain["DESCRIPTION"]), plain


def test_board_tag_of_an_incident_in_a_flagged_exercise_cites_the_paragraph(app, client, world):
    notified = days_before(-3, 39)  # at the start's hour of day: 39 calendar days whatever the time now
    create(
        client,
        world,
        name="LATE ONE",
        starts_at=isoformat(hours(-3)),
        ends_at=isoformat(hours(3)),
        notified_at=notified,
    )
    linked = file_at(client, world, INSIDE, hours(-1))
    reader = signed_in(app, "duty")
    board = reader.get("/board/rows").text
    row = next(chunk for chunk in board.split('data-reference="')[1:] if chunk.startswith(linked["reference"]))
    assert "exercise: <bdi>LATE ONE</bdi>" in row, row
    assert 'data-check="notified_late"' in row and "⚑ notified late · para. 38" in html.unescape(row), row

    page = html.unescape(reader.get(f"/incidents/{linked['reference']}").text)
    assert "Notified late: 39 days before the start" in page and "Vienna Document 2011, para. 38" in page, page


def test_board_tag_of_an_exercise_without_flags_has_none(app, client, world):
    create(
        client,
        world,
        name="ON TIME",
        starts_at=isoformat(hours(-3)),
        ends_at=isoformat(hours(3)),
        notified_at=days_before(-3, 45),
    )
    linked = file_at(client, world, INSIDE, hours(-1))
    board = signed_in(app, "duty").get("/board/rows").text
    row = next(chunk for chunk in board.split('data-reference="')[1:] if chunk.startswith(linked["reference"]))
    assert "exercise: <bdi>ON TIME</bdi>" in row and "vd-flag" not in row, row


# -- the pages ------------------------------------------------------------------------------


def test_register_page_shows_each_exercises_flags_and_links_its_page(app, client, world):
    exercise = create(client, world, declared_size=12_700, notified_at=days_before(-3, 60))
    page = html.unescape(signed_in(app, "liaison").get("/exercises/").text)
    assert f'href="/exercises/{exercise["id"]}"' in page, page
    assert 'data-check="near_threshold"' in page and "just under the observation threshold" in page, page
    detail = html.unescape(signed_in(app, "liaison").get(f"/exercises/{exercise['id']}").text)
    assert "12,700 troops declared: 300 (2.3%) under the observation threshold of 13,000." in detail, detail
    assert "(para. 47.4)" in detail and "Record a briefing" not in detail, detail


def test_form_takes_the_figures_snap_and_ours(app, world):
    client = signed_in(app, "supervisor")
    form = {
        "csrf_token": csrf(client, "/exercises/new"),
        "name": "NORTHERN SHIELD",
        "states": "Northmark",
        "starts_at": isoformat(hours(24 * 60)),
        "ends_at": isoformat(hours(24 * 65)),
        "centre": "54.3, 22.6",
        "radius_km": "25",
        "declared_size": "12,700",
        "battle_tanks": "250",
        "notified_via": "vienna_document",
        "notified_at": isoformat(hours(-1)),
        "notified_by": "Northmark",
        "notified_to": "all participating States",
        "snap": "y",
        "ours": "y",
    }
    created = client.post("/exercises/new", data=form)
    assert created.status_code == 302, html.unescape(created.text)[:2000]
    with session_scope(app) as session:
        stored = session.scalar(select(ExerciseNotice).where(ExerciseNotice.name == "NORTHERN SHIELD"))
        assert (stored.declared_size, stored.battle_tanks, stored.snap, stored.ours) == (12_700, 250, True, True)
        assert (stored.notified_by, stored.notified_to) == ("Northmark", "all participating States")
        exercise_id = stored.id
    edit = client.get(f"/exercises/{exercise_id}/edit").text
    assert re.search(r'<input checked id="ours"', edit) and 'value="12700"' in edit, edit

    refused = client.post("/exercises/new", data={**form, "name": "OTHER", "battle_tanks": "12.5"})
    errors = dict(re.findall(r'<small class="error" id="([a-z_]+)-error">([^<]*)</small>', html.unescape(refused.text)))
    assert refused.status_code == 422 and "not a whole number" in errors.get("battle_tanks", ""), errors


# -- our own briefings ----------------------------------------------------------------------


def test_briefings_on_our_exercise_are_recorded_listed_and_checked(client, world):
    ours = create(
        client,
        world,
        name="NORTHERN SHIELD",
        ours=True,
        declared_size=10_000,
        starts_at=isoformat(hours(24 * 60)),
        ends_at=isoformat(hours(24 * 65)),
        notified_at=None,
    )
    briefings = f"{EXERCISES}/{ours['id']}/briefings"
    body = {"briefed_at": isoformat(hours(-1)), "briefed_to": "Eastland defence attaché", "via": "vienna_document"}
    first = client.post(briefings, json=body, headers=world.auth("supervisor"))
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["days_before_start"] == pytest.approx(60, abs=0.1), first.get_json()
    checked = client.get(f"{EXERCISES}/{ours['id']}", headers=world.auth("duty")).get_json()
    assert found(checked) == set() and ("notified_in_time", "38") in found(checked, "note"), checked["checks"]

    # Fifty days ahead of the start, then one under the 42 days: late for us as for them.
    moved = {"starts_at": isoformat(hours(24 * 50)), "ends_at": isoformat(hours(24 * 55))}
    assert client.patch(f"{EXERCISES}/{ours['id']}", json=moved, headers=world.auth("admin")).status_code == 200
    later = client.post(
        briefings,
        json={**body, "briefed_at": isoformat(hours(0)), "via": "bilateral_briefing", "content": "Naval staff talks."},
        headers=world.auth("admin"),
    )
    assert later.status_code == 201, later.get_json()
    checked = client.get(f"{EXERCISES}/{ours['id']}", headers=world.auth("duty")).get_json()
    assert found(checked) == set(), "50 days ahead: on time"
    moved = {"starts_at": isoformat(hours(24 * 30)), "ends_at": isoformat(hours(24 * 35))}
    checked = client.patch(f"{EXERCISES}/{ours['id']}", json=moved, headers=world.auth("admin")).get_json()
    assert found(checked) == {("notified_late", "38"), ("briefing_late", "38")}, checked["checks"]

    listed = client.get(briefings, headers=world.auth("liaison")).get_json()
    assert [b["briefed_to"] for b in listed] == ["Eastland defence attaché"] * 2, listed
    assert [b["via"] for b in listed] == ["vienna_document", "bilateral_briefing"], listed


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"briefed_at": isoformat(hours(2))}, "briefed_at"),
        ({"briefed_to": ""}, "briefed_to"),
        ({"via": "rumour"}, "via"),
        ({"briefed_at": "yesterday"}, "briefed_at"),
        ({"briefed_to": "Eastland\ndefence attaché"}, "briefed_to"),  # one line: "Our briefing to ... on ..."
        ({"briefed_to": "Eastland \u202eehcatta"}, "briefed_to"),
    ],
)
def test_bad_briefing_is_refused(app, client, world, body, field):
    ours = create(client, world, ours=True)
    good = {"briefed_at": isoformat(hours(-1)), "briefed_to": "Eastland attaché", "via": "vienna_document"}
    response = client.post(f"{EXERCISES}/{ours['id']}/briefings", json={**good, **body}, headers=world.auth("admin"))
    answer = response.get_json()
    assert response.status_code == 422 and field in answer["error"]["details"], answer
    with session_scope(app) as session:
        assert session.scalar(select(ExerciseBriefing.id)) is None


def test_a_briefing_on_their_exercise_is_a_conflict(client, world):
    theirs = create(client, world)
    body = {"briefed_at": isoformat(hours(-1)), "briefed_to": "Eastland attaché", "via": "vienna_document"}
    response = client.post(f"{EXERCISES}/{theirs['id']}/briefings", json=body, headers=world.auth("admin"))
    assert response.status_code == 409 and "not ours" in response.get_json()["error"]["message"], response.get_json()
    missing = client.get(f"{EXERCISES}/999999/briefings", headers=world.auth("duty"))
    assert missing.status_code == 404, missing.get_json()


def test_briefing_is_recorded_on_the_page_and_listed_with_our_exercises(app, client, world):
    ours = create(
        client,
        world,
        name="NORTHERN SHIELD",
        ours=True,
        declared_size=10_000,
        starts_at=isoformat(hours(24 * 30)),
        ends_at=isoformat(hours(24 * 35)),
        notified_at=None,
    )
    create(client, world, name="THEIR RAMPART")
    supervisor = signed_in(app, "supervisor")
    path = f"/exercises/{ours['id']}"
    form = {"csrf_token": csrf(supervisor, path), "briefed_to": "Eastland attaché", "via": "voluntary_briefing"}

    refused = supervisor.post(f"{path}/briefings", data={**form, "briefed_at": "tomorrow"})
    assert refused.status_code == 422 and 'id="briefed_at-error"' in refused.text, refused.text[:2000]
    # Recorded or refused, the page comes back at the briefings, not at its top.
    assert f'action="{path}/briefings#briefings-title"' in refused.text, refused.text[:2000]
    an_hour_ago = hours(-1).replace(second=0, microsecond=0)  # typed as a watch log takes it
    recorded = supervisor.post(f"{path}/briefings", data={**form, "briefed_at": f"{an_hour_ago:%d%H%M}Z"})
    assert recorded.status_code == 302 and recorded.headers["Location"] == f"{path}#briefings-title", recorded.headers
    assert 'id="briefings-title"' in supervisor.get(path).text
    with session_scope(app) as session:
        assert session.scalars(select(ExerciseBriefing.briefed_at)).all() == [an_hour_ago]

    page = html.unescape(supervisor.get(path).text)
    assert "Eastland attaché" in page and "voluntary briefing" in page, page
    # Our only notification, 30 days ahead and by a voluntary briefing: late, and not under the Document.
    assert 'data-check="notified_late"' in page and 'data-check="not_notified_under_vd"' in page, page
    listing = html.unescape(signed_in(app, "duty").get("/exercises/ours").text)
    assert 'data-exercise="NORTHERN SHIELD"' in listing and "THEIR RAMPART" not in listing, listing
    assert "Eastland attaché" in listing and "notified late" in listing and "para. 38" in listing, listing
    assert "Record a briefing" not in html.unescape(signed_in(app, "duty").get(path).text)


def test_the_briefings_table_counts_the_calendar_days_the_checks_count(app, client, world):
    """A briefing on the evening of 1 October for a start early on 12 November is 42 calendar days ahead (UTC):
    the checks judge it in time. The page's table said "41.1 days" beside it, the hours divided by 24, which a
    desk reads as under the 42 days of paragraph 38."""
    ours = create(
        client,
        world,
        ours=True,
        declared_size=10_000,
        starts_at="2026-11-12T01:00:00Z",
        ends_at="2026-11-15T00:00:00Z",
        notified_at=None,
    )
    body = {"briefed_at": "2026-10-01T23:00:00Z", "briefed_to": "Eastland attaché", "via": "vienna_document"}
    recorded = client.post(f"{EXERCISES}/{ours['id']}/briefings", json=body, headers=world.auth("admin"))
    assert recorded.status_code == 201, recorded.get_json()
    checked = client.get(f"{EXERCISES}/{ours['id']}", headers=world.auth("duty")).get_json()
    assert ("notified_in_time", "38") in found(checked, "note"), checked["checks"]
    for path in (f"/exercises/{ours['id']}", "/exercises/ours"):
        page = html.unescape(signed_in(app, "duty").get(path).text)
        [cell] = re.findall(r'<td data-label="Before the start">(.*?)</td>', page)
        assert cell == "42 days (UTC calendar days)", (path, cell)


def test_an_exercise_declared_without_figures_is_not_said_to_be_under_the_thresholds(app, client, world):
    """A notice that declares no figure at all cannot be judged against paragraphs 40 and 47: the page said
    "Under every threshold of notification and observation", a verdict on figures nobody gave."""
    blank = create(client, world, name="SILENT NOTICE", declared_size=None)
    sized = create(client, world, name="SMALL NOTICE", declared_size=2_000)
    assert blank["checks"] == [] and sized["checks"] == [], (blank["checks"], sized["checks"])
    duty = signed_in(app, "duty")
    page = html.unescape(duty.get(f"/exercises/{blank['id']}").text)
    assert "Under every threshold" not in page and "No figure declared" in page, page
    page = html.unescape(duty.get(f"/exercises/{sized['id']}").text)
    assert "Under every threshold" in page and "No figure declared" not in page, page


def test_the_annual_calendar_is_recorded_by_api_csv_and_form_and_a_late_one_flagged(app, client, world):
    """When the annual calendar listing an exercise came (chapter VII): entered by the API, the CSV import and
    the form, shown on the page, and one after 15 November of the year before flagged (para. 61)."""
    late = create(
        client,
        world,
        name="LATE CALENDAR",
        starts_at="2026-03-02T06:00:00Z",
        ends_at="2026-03-09T06:00:00Z",
        notified_at="2026-01-05T09:00:00Z",
        calendar_at="2025-11-20T09:00:00Z",
    )
    assert late["calendar_at"] == "2025-11-20T09:00:00Z", late
    assert ("calendar_late", "61") in found(late), late["checks"]
    ahead = client.post(
        EXERCISES, json=notice(name="FUTURE", calendar_at=isoformat(hours(48))), headers=world.auth("supervisor")
    )
    assert ahead.status_code == 422 and "calendar_at" in ahead.get_json()["error"]["details"], ahead.get_json()

    csv = (
        HEADER.strip() + ",calendar_at\n"
        'ON TIME,Eastland,2026-03-02T06:00:00Z,2026-03-09T06:00:00Z,"54.25, 23.75",15,"9,500",,vienna_document,'
        "2026-01-05T09:00:00Z,no,no,141200ZNOV25\n"
    )
    imported = client.post(f"{EXERCISES}/import", json={"csv": csv}, headers=world.auth("supervisor"))
    assert imported.status_code == 201, imported.get_json()
    [on_time] = imported.get_json()
    assert on_time["calendar_at"] == "2025-11-14T12:00:00Z" and ("in_calendar", "61") in found(on_time, "note"), on_time

    supervisor = signed_in(app, "supervisor")
    path = f"/exercises/{late['id']}/edit"
    form = html.unescape(supervisor.get(path).text)
    assert 'name="calendar_at"' in form and 'value="2025-11-20T09:00:00Z"' in form, form
    page = html.unescape(supervisor.get(f"/exercises/{late['id']}").text)
    assert 'data-check="calendar_late"' in page and "Annual calendar" in page, page


# -- the demo and the configuration ---------------------------------------------------------


def test_demo_flags_its_late_exercise_and_has_one_of_ours_briefed_in_time(app, world):
    from tracker.services.exercises import checks, vienna, vienna_rules

    now = utcnow()
    with session_scope(app) as session:
        demo._notify_exercises(session, now, app.config["NO_NOTICE_BORDER_KM"])
    rules = vienna_rules.rules_from(app.config["VIENNA_DOCUMENT"])
    with session_scope(app) as session:
        exercises = {e.name: e for e in session.scalars(select(ExerciseNotice))}
        results = checks.check_all(session, list(exercises.values()), rules)
        rampart = {(c.code, c.paragraph) for c in vienna.flags(results[exercises["EASTERN RAMPART-26"].id])}
        shield = exercises["NORTHERN SHIELD-26"]
        assert rampart == {("notified_late", "38")}, results[exercises["EASTERN RAMPART-26"].id]
        assert shield.ours and len(shield.briefings) == 1, shield.briefings
        assert vienna.flags(results[shield.id]) == [], results[shield.id]


def test_a_deployment_may_set_some_thresholds_and_keeps_the_others(make_app):
    app = make_app(VIENNA_DOCUMENT={"NEAR_PERCENT": 0})
    assert app.config["VIENNA_DOCUMENT"]["NEAR_PERCENT"] == 0
    assert app.config["VIENNA_DOCUMENT"]["NOTICE"] == {"days": 42, "paragraph": "38"}, app.config["VIENNA_DOCUMENT"]


def test_a_threshold_without_its_paragraph_stops_the_start(make_app):
    with pytest.raises(ConfigError, match="NOTICE must cite its paragraph"):
        make_app(VIENNA_DOCUMENT={"NOTICE": {"days": 42}})


def test_a_change_of_dates_after_the_notice_is_kept_with_what_it_was(app, client, world):
    """The other side moves the start 10 days earlier after notifying 50 days ahead: the notice is now 40 days
    ahead, late (para. 38), and the register must keep what the notice said. An edit overwrote the dates and
    nothing recorded what they had been, who changed them or when."""
    start = hours(24 * 40)
    entered = create(
        client,
        world,
        name="MOVED",
        starts_at=isoformat(start),
        ends_at=isoformat(start + timedelta(days=5)),
        notified_at=isoformat(start - timedelta(days=50)),
    )
    assert entered["changes"] == [] and ("notified_in_time", "38") in found(entered, "note"), entered
    earlier = {"starts_at": isoformat(start - timedelta(days=10))}
    moved = client.patch(f"{EXERCISES}/{entered['id']}", json=earlier, headers=world.auth("admin")).get_json()
    assert ("notified_late", "38") in found(moved), moved["checks"]
    [change] = moved["changes"]
    assert change["by"] == "admin" and change["fields"] == {
        "starts_at": [isoformat(start), isoformat(start - timedelta(days=10))]
    }, change
    same = client.patch(f"{EXERCISES}/{entered['id']}", json=earlier, headers=world.auth("admin")).get_json()
    assert len(same["changes"]) == 1, "a save that changes nothing is no change"
    page = html.unescape(signed_in(app, "duty").get(f"/exercises/{entered['id']}").text)
    history = page.split('id="changes-title"')[1].split("</section>")[0]
    assert "admin" in history and isoformat(start) in history and isoformat(start - timedelta(days=10)) in history


def test_saving_the_edit_form_unchanged_records_no_change(app, client, world):
    """The form shows the stored values as text and reads them back: a save that changes nothing must not be
    recorded as a change of the polygon, the centre or the times."""
    polygon = create(client, world, name="POLY", notified_at=isoformat(hours(-24 * 50)), calendar_at=None)
    circle = create(
        client,
        world,
        name="CIRCLE",
        area=None,
        centre_latitude=54.123456,
        centre_longitude=23.654321,
        radius_km=12.345678,
    )
    supervisor = signed_in(app, "supervisor")
    for exercise in (polygon, circle):
        path = f"/exercises/{exercise['id']}/edit"
        form = html.unescape(supervisor.get(path).text)
        fields = dict(re.findall(r'<input[^>]*name="([a-z_]+)"[^>]*value="([^"]*)"', form))
        fields["area"] = re.search(r'<textarea[^>]*name="area"[^>]*>\s*([^<]*)</textarea>', form).group(1).strip()
        fields["notes"] = re.search(r'<textarea[^>]*name="notes"[^>]*>\s*([^<]*)</textarea>', form).group(1).strip()
        fields["notified_via"] = exercise["notified_via"]
        fields = {k: v for k, v in fields.items() if k not in ("snap", "ours")}
        saved = supervisor.post(path, data=fields)
        assert saved.status_code == 302, saved.text[:3000]
        again = client.get(f"{EXERCISES}/{exercise['id']}", headers=world.auth("duty")).get_json()
        assert again["changes"] == [], again["changes"]


def test_the_feed_tells_calendars_an_exercise_changed(client, world):
    """RFC 5545: LAST-MODIFIED is when the event was last revised and SEQUENCE counts its revisions. The feed
    gave the time the notice was entered whatever changed after, so a calendar that keeps events by these
    could go on showing the dates the other side had since moved."""
    start = hours(24 * 20)
    entered = create(client, world, name="SHIFTING", starts_at=isoformat(start), ends_at=isoformat(hours(24 * 25)))
    moved = {"starts_at": isoformat(start - timedelta(days=2))}
    changed = client.patch(f"{EXERCISES}/{entered['id']}", json=moved, headers=world.auth("admin")).get_json()
    response = client.get(f"{EXERCISES}.ics", headers=world.auth("liaison"))
    [event] = [
        e for e in Calendar.from_ical(response.get_data()).walk("VEVENT") if str(e["SUMMARY"]) == "SHIFTING (Eastland)"
    ]
    last = parse_moment(changed["changes"][-1]["at"]).replace(microsecond=0)  # iCalendar times are to the second
    assert event["LAST-MODIFIED"].dt == last, (event["LAST-MODIFIED"].dt, last)
    assert int(event["SEQUENCE"]) == 1 and isoformat(event["DTSTART"].dt) == moved["starts_at"], event


def test_two_figures_just_under_one_threshold_are_two_flags_each_naming_its_figure(app, client, world):
    """12,700 troops and 480 armoured combat vehicles read "⚑ just under the observation threshold" twice on the
    register and the board: only the detail page said which figures."""
    exercise = create(client, world, declared_size=12_700, armoured_combat_vehicles=480, notified_at=days_before(0, 60))
    labels = sorted(c["label"] for c in exercise["checks"] if c["code"] == "near_threshold")
    assert labels == ["armoured combat vehicles just under the observation threshold",
                      "troops just under the observation threshold"], exercise["checks"]  # fmt: skip
