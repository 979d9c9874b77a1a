"""The exercise register through the API: CRUD, bad input, CSV import, roles, the link between
incidents and exercises (the acceptance test), "no notice on record", and the iCalendar feed."""

from datetime import UTC, timedelta
from pathlib import Path

import pytest
from icalendar import Calendar
from sqlalchemy import select

from tests.exercise_support import (
    EXERCISES,
    INSIDE,
    JUST_EAST,
    NEAR_BORDER,
    ON_EDGE,
    SQUARE,
    circle,
    create,
    file_at,
    hours,
    kinds,
    notice,
    unusual,
)
from tests.support import count, sign_in
from tracker.db import session_scope
from tracker.models import ExerciseNotice, User
from tracker.services.accounts import people
from tracker.timeutil import isoformat, parse_moment

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "config" / "exercises.sample.csv"


def incident(client, world, reference: str) -> dict:
    response = client.get(f"/api/v1/incidents/{reference}", headers=world.auth("duty"))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


# -- the register -------------------------------------------------------------------------


@pytest.mark.both_databases  # times stored and read back per engine
def test_exercise_is_created_read_listed_changed_and_deleted(client, world):
    created = create(client, world)
    assert created["area"] == SQUARE and created["status"] == "past", created
    assert created["created_by"] == "supervisor" and created["notified_via"] == "vienna_document", created
    location = f"{EXERCISES}/{created['id']}"

    assert client.get(location, headers=world.auth("liaison")).get_json() == created
    listed = client.get(EXERCISES, headers=world.auth("duty")).get_json()
    assert [e["name"] for e in listed] == ["EASTERN RAMPART"], listed

    empty = client.patch(location, json={}, headers=world.auth("admin"))  # it answered 200, changing nothing
    assert empty.status_code == 422 and "names nothing to change" in empty.get_json()["error"]["message"], empty.json
    changed = client.patch(
        location,
        json={
            "area": None,
            "centre_latitude": 54.25,
            "centre_longitude": 23.75,
            "radius_km": 12.5,
            "states": ["A", "B"],
        },
        headers=world.auth("admin"),
    )
    assert changed.status_code == 200, changed.get_json()
    body = changed.get_json()
    assert (body["area"], body["radius_km"], body["states"], body["name"]) == (
        None,
        12.5,
        ["A", "B"],
        "EASTERN RAMPART",
    )

    deleted = client.delete(location, headers=world.auth("supervisor"))
    # No content, so no type of content either (RFC 9110 15.3.5): it was typed application/json.
    assert (deleted.status_code, deleted.data, deleted.content_type) == (204, b"", None), deleted.headers
    gone = client.get(location, headers=world.auth("duty"))
    assert gone.status_code == 404 and gone.get_json()["error"]["code"] == "not_found", gone.get_json()


@pytest.mark.both_databases  # time windows compared in SQL
def test_list_filters_by_when_and_by_window(client, world):
    create(client, world, name="PAST", starts_at=isoformat(hours(-48)), ends_at=isoformat(hours(-24)))
    create(client, world, name="RUNNING", starts_at=isoformat(hours(-1)), ends_at=isoformat(hours(5)))
    create(client, world, name="SOON", starts_at=isoformat(hours(24)), ends_at=isoformat(hours(48)))
    create(client, world, name="LATER", starts_at=isoformat(hours(72)), ends_at=isoformat(hours(96)))

    def names(**query):
        response = client.get(EXERCISES, query_string=query, headers=world.auth("liaison"))
        assert response.status_code == 200, response.get_json()
        return [(e["name"], e["status"]) for e in response.get_json()]

    assert names(when="running") == [("RUNNING", "running")]
    assert names(when="upcoming") == [("SOON", "upcoming"), ("LATER", "upcoming")]
    assert names(when="current") == [("RUNNING", "running"), ("SOON", "upcoming"), ("LATER", "upcoming")]
    assert names(when="past") == [("PAST", "past")]
    assert [n for n, _ in names()] == ["PAST", "RUNNING", "SOON", "LATER"]
    window = {"since": isoformat(hours(12)), "until": isoformat(hours(60))}
    assert [n for n, _ in names(**window)] == ["SOON"], window
    assert client.get(EXERCISES, query_string={"when": "soon"}, headers=world.auth("duty")).status_code == 422


def test_the_window_takes_dates_as_the_reports_and_the_incident_list_do(client, world):
    """A date alone is its 00:00Z and until is exclusive, as in the reports and the incident list, so a
    desk gives the three the same dates (a plain date was refused here with 422)."""
    create(client, world, name="EARLY", starts_at="2027-03-01T06:00:00Z", ends_at="2027-03-02T18:00:00Z")
    create(client, world, name="MIDDAY", starts_at="2027-03-05T12:00:00Z", ends_at="2027-03-06T12:00:00Z")

    def names(**query):
        response = client.get(EXERCISES, query_string=query, headers=world.auth("liaison"))
        assert response.status_code == 200, (query, response.get_json())
        return [e["name"] for e in response.get_json()]

    assert names(since="2027-03-02") == ["EARLY", "MIDDAY"], "EARLY runs on 2 March"
    assert names(since="2027-03-03") == ["MIDDAY"]
    assert names(until="2027-03-05") == ["EARLY"], "MIDDAY starts on 5 March, after its 00:00Z"
    assert names(since="2027-03-01", until="2027-03-06") == ["EARLY", "MIDDAY"]
    assert names(until="2027-03-05T12:00:00Z") == ["EARLY"], "until is exclusive, as the reports' to"
    backwards = client.get(
        EXERCISES, query_string={"since": "2027-03-06", "until": "2027-03-01"}, headers=world.auth("duty")
    )
    assert backwards.status_code == 422 and "until" in backwards.get_json()["error"]["details"], backwards.get_json()
    # An exercise lasts: since equal to until asks which ran at that moment (still running, started by then).
    assert names(since="2027-03-06", until="2027-03-06") == ["MIDDAY"], "MIDDAY runs at 00:00Z on 6 March"
    assert names(since="2027-03-04", until="2027-03-04") == [], "nothing runs at 00:00Z on 4 March"
    # Both ends belong to an exercise: at the moment it starts, and the moment it ends, it is running.
    assert names(since="2027-03-05T12:00:00Z", until="2027-03-05T12:00:00Z") == ["MIDDAY"], "MIDDAY starts then"
    assert names(since="2027-03-06T12:00:00Z", until="2027-03-06T12:00:00Z") == ["MIDDAY"], "MIDDAY ends then"
    wrong = client.get(EXERCISES, query_string={"since": "2027-02-30"}, headers=world.auth("duty"))
    assert wrong.status_code == 422 and "since" in wrong.get_json()["error"]["details"], wrong.get_json()


@pytest.mark.parametrize(
    ("label", "body", "field"),
    [
        ("ends before it starts", notice(ends_at=isoformat(hours(-4))), "ends_at"),
        ("ends as it starts", notice(ends_at=notice()["starts_at"]), "ends_at"),
        ("polygon and circle", notice(centre_latitude=54.2, centre_longitude=23.7, radius_km=5), "area"),
        ("no area at all", notice(area=None), "area"),
        ("circle without radius", circle(radius_km=None), "radius_km"),
        ("radius zero", circle(radius_km=0), "radius_km"),
        ("radius negative", circle(radius_km=-3), "radius_km"),
        ("centre off the globe", circle(centre_latitude=91), "centre_latitude"),
        (
            "self-intersecting polygon",
            notice(
                area={"type": "Polygon", "coordinates": [[[23.5, 54], [24, 54.5], [24, 54], [23.5, 54.5], [23.5, 54]]]}
            ),
            "area",
        ),
        (
            "latitude first",
            notice(area={"type": "Polygon", "coordinates": [[[54, 23.5], [54, 240], [54.5, 240], [54, 23.5]]]}),
            "area",
        ),
        ("polygon as text", notice(area="POLYGON ((23 54, 24 54, 24 55, 23 54))"), "area"),
        ("no states", notice(states=[]), "states"),
        ("blank state", notice(states=[""]), "states"),
        ("negative size", notice(declared_size=-1), "declared_size"),
        ("unknown channel", notice(notified_via="rumour"), "notified_via"),
        ("local time", notice(starts_at="2026-11-27T06:00:00"), "starts_at"),
        ("no name", notice(name=...), "name"),
    ],
)
def test_bad_exercise_is_refused_with_the_envelope_and_nothing_stored(app, client, world, label, body, field):
    response = client.post(EXERCISES, json=body, headers=world.auth("supervisor"))
    answer = response.get_json()
    assert response.status_code == 422, f"{label}: {response.status_code} {answer}"
    assert answer["error"]["code"] == "validation_error" and field in answer["error"]["details"], f"{label}: {answer}"
    assert count(app, ExerciseNotice) == 0, label


def test_bad_change_is_refused_and_the_exercise_stays(client, world):
    created = create(client, world)
    location = f"{EXERCISES}/{created['id']}"
    both = client.patch(location, json={"radius_km": 5}, headers=world.auth("supervisor"))
    assert both.status_code == 422, both.get_json()
    assert "not both" in both.get_json()["error"]["details"]["area"][0], both.get_json()
    assert client.get(location, headers=world.auth("duty")).get_json() == created


@pytest.mark.both_databases  # found by an equal start time in SQL
def test_the_same_exercise_twice_is_a_conflict(app, client, world):
    first = create(client, world)  # the same again: notice() would take its times from a later clock
    same = notice(starts_at=first["starts_at"], ends_at=first["ends_at"], notified_at=first["notified_at"])
    again = client.post(EXERCISES, json=same, headers=world.auth("admin"))
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "conflict", again.get_json()
    said = f"exercise {first['name']!r} starting {first['starts_at']} is in the register already"
    assert first["starts_at"].endswith("Z") and again.get_json()["error"]["message"] == said, again.get_json()
    assert count(app, ExerciseNotice) == 1


@pytest.mark.parametrize(
    ("who", "method", "path", "status"),
    [
        ("duty", "POST", EXERCISES, 403),
        ("liaison", "POST", EXERCISES, 403),
        ("supervisor", "POST", EXERCISES, 201),
        ("admin", "POST", EXERCISES, 201),
        ("liaison", "PATCH", "{exercise}", 403),
        ("duty", "DELETE", "{exercise}", 403),
        ("liaison", "POST", f"{EXERCISES}/import", 403),
        ("duty", "GET", EXERCISES, 200),
        ("liaison", "GET", "{exercise}", 200),
        ("revoked", "GET", EXERCISES, 401),
        (None, "GET", EXERCISES, 401),
        (None, "POST", EXERCISES, 401),
    ],
)
def test_roles(client, world, who, method, path, status):
    existing = create(client, world, name="EXISTING")
    url = path.format(exercise=f"{EXERCISES}/{existing['id']}")
    body = {"csv": SAMPLE.read_text()} if url.endswith("/import") else notice(name="NEW")
    response = client.open(
        url, method=method, json=body if method != "GET" else None, headers=world.auth(who) if who else {}
    )
    assert response.status_code == status, f"{who} {method} {url}: {response.status_code} {response.get_json()}"
    if status >= 400:
        assert response.get_json()["error"]["code"] in ("forbidden", "unauthorized"), response.get_json()


# -- CSV import ---------------------------------------------------------------------------


def test_sample_csv_imports_every_row(app, client, world):
    response = client.post(f"{EXERCISES}/import", json={"csv": SAMPLE.read_text()}, headers=world.auth("supervisor"))
    assert response.status_code == 201, response.get_json()
    imported = {e["name"]: e for e in response.get_json()}
    assert set(imported) == {"EASTERN RAMPART-27", "STEADFAST HARBOUR-27", "SILENT SKY-27"}, imported
    rampart, harbour, sky = (imported[n] for n in ("EASTERN RAMPART-27", "STEADFAST HARBOUR-27", "SILENT SKY-27"))
    assert rampart["area"]["coordinates"][0][0] == [23.55, 54.2] and rampart["declared_size"] == 12500, rampart
    assert harbour["states"] == ["Eastland", "Southland"], harbour
    assert (harbour["starts_at"], harbour["ends_at"]) == ("2027-04-12T06:00:00Z", "2027-04-18T20:00:00Z"), harbour
    assert (harbour["centre_latitude"], harbour["centre_longitude"], harbour["radius_km"]) == (55.75, 22.3, 40), harbour
    assert sky["starts_at"] == "2027-05-20T19:00:00Z" and sky["notified_at"] is None, sky
    assert round(sky["centre_latitude"], 3) == 54.62 and round(sky["centre_longitude"], 3) == 23.95, sky
    assert count(app, ExerciseNotice) == 3


def test_a_notification_time_ahead_of_now_is_refused_not_judged_in_time(client, world):
    ahead = client.post(EXERCISES, json=notice(notified_at=isoformat(hours(24 * 30))), headers=world.auth("supervisor"))
    assert ahead.status_code == 422, ahead.get_json()
    assert "is in the future" in ahead.get_json()["error"]["details"]["notified_at"][0], ahead.get_json()
    created = create(client, world)
    moved = client.patch(
        f"{EXERCISES}/{created['id']}", json={"notified_at": isoformat(hours(2))}, headers=world.auth("admin")
    )
    assert moved.status_code == 422, moved.get_json()


def test_the_same_exercise_in_another_case_is_in_the_register_already(client, world):
    first = create(client, world)
    # The same times as the first: notice() reads the clock, and a second may pass between the two posts.
    same = {name: first[name] for name in ("starts_at", "ends_at", "notified_at")}
    again = client.post(EXERCISES, json=notice(name="Eastern Rampart", **same), headers=world.auth("supervisor"))
    assert again.status_code == 409 and again.get_json()["error"]["details"] == {"id": first["id"]}, again.get_json()


def test_the_same_exercise_in_another_case_of_another_script_is_in_the_register_already(client, world):
    """Names are often Cyrillic (ЗАПАД-2025): their case folds as Latin's does (SQLite's lower() folds ASCII only)."""
    first = create(client, world, name="ЗАПАД-2025")
    same = {name: first[name] for name in ("starts_at", "ends_at", "notified_at")}
    again = client.post(EXERCISES, json=notice(name="Запад-2025", **same), headers=world.auth("supervisor"))
    assert again.status_code == 409 and again.get_json()["error"]["details"] == {"id": first["id"]}, again.get_json()


BAD_CSV = """name,states,starts_at,ends_at,area,centre,radius_km,declared_size,notified_via,notified_at,notes
GOOD ONE,Eastland,2027-01-01T00:00:00Z,2027-01-02T00:00:00Z,,54.2 23.7,10,,voluntary_briefing,,
BAD TIMES,Eastland,2027-01-05T00:00:00Z,2027-01-04T00:00:00Z,,54.2 23.7,10,,voluntary_briefing,,
BAD AREA,Eastland,2027-01-05T00:00:00Z,2027-01-06T00:00:00Z,"POLYGON ((23 54, 24 54",,,,vienna_document,,
GOOD TWO,Eastland;Southland,010000ZFEB27,030000ZFEB27,,34U FF 9045 5650,5,100,bilateral_briefing,,
BAD EVERYTHING,,yesterday,,,somewhere,-1,many,telepathy,,
"""


def test_csv_with_bad_rows_imports_nothing_and_lists_each_row(app, client, world):
    response = client.post(f"{EXERCISES}/import", json={"csv": BAD_CSV}, headers=world.auth("admin"))
    answer = response.get_json()
    assert response.status_code == 422, answer
    details = answer["error"]["details"]
    assert answer["error"]["code"] == "validation_error" and "nothing was imported" in answer["error"]["message"]
    assert sorted(details) == ["row 3", "row 4", "row 6"], details
    assert set(details["row 3"]) == {"ends_at"}, details["row 3"]
    assert set(details["row 4"]) == {"area"} and "WKT" in details["row 4"]["area"][0], details["row 4"]
    expected = {"states", "starts_at", "ends_at", "centre", "declared_size", "notified_via"}
    assert expected <= set(details["row 6"]), details["row 6"]
    assert count(app, ExerciseNotice) == 0


def test_a_bad_row_is_named_by_its_row_in_the_spreadsheet_whatever_line_breaks_its_cells_hold(client, world):
    """A note typed on two lines (Alt+Enter) is one row in the spreadsheet, and a blank line is a row of its
    own: the rows named are those the officer sees, not the lines of the file."""
    text = (
        "name,states,starts_at,ends_at,centre,radius_km,notified_via,notes\n"
        'TWO LINES,Eastland,2027-01-01T00:00:00Z,2027-01-02T00:00:00Z,54.2 23.7,10,vienna_document,"live firing\n'
        'then withdrawal"\n'
        "BAD TIMES,Eastland,2027-01-05T00:00:00Z,2027-01-04T00:00:00Z,54.2 23.7,10,vienna_document,\n"
        "\n"
        "BAD AGAIN,Eastland,2027-01-05T00:00:00Z,2027-01-04T00:00:00Z,54.2 23.7,10,vienna_document,\n"
    )
    response = client.post(f"{EXERCISES}/import", json={"csv": text}, headers=world.auth("admin"))
    assert response.status_code == 422, response.get_json()
    assert sorted(response.get_json()["error"]["details"]) == ["row 3", "row 5"], response.get_json()


@pytest.mark.parametrize(
    ("label", "text", "key"),
    [
        ("unknown column", "name,states,starts_at,ends_at,notified_via,colour\n", "unknown_columns"),
        ("missing column", "name,starts_at,ends_at,notified_via\n", "missing_columns"),
        ("header only", "name,states,starts_at,ends_at,notified_via\n", "csv"),
        ("too many cells", "name,states,starts_at,ends_at,notified_via,centre,radius_km\nA,B,C,D,E,F,G,H\n", "row 2"),
        # a column named twice: the later cell would win unread (a radius of 5 km imported as 500)
        (
            "column named twice",
            "name,states,starts_at,ends_at,notified_via,centre,radius_km,radius_km\n"
            "TWICE,Eastland,2027-01-01T00:00:00Z,2027-01-02T00:00:00Z,vienna_document,54.2 23.7,5,500\n",
            "duplicate_columns",
        ),
        (
            "column named twice in another case",
            "name,states,starts_at,ends_at,notified_via,centre,radius_km,Name\n"
            "REAL,Eastland,2027-01-01T00:00:00Z,2027-01-02T00:00:00Z,vienna_document,54.2 23.7,5,OTHER\n",
            "duplicate_columns",
        ),
    ],
)
def test_malformed_csv_is_refused(app, client, world, label, text, key):
    response = client.post(f"{EXERCISES}/import", json={"csv": text}, headers=world.auth("admin"))
    answer = response.get_json()
    assert response.status_code == 422 and key in answer["error"]["details"], f"{label}: {answer}"
    assert count(app, ExerciseNotice) == 0, label


@pytest.mark.both_databases  # found by an equal start time in SQL
def test_importing_the_same_file_twice_imports_nothing_the_second_time(app, client, world):
    first = client.post(f"{EXERCISES}/import", json={"csv": SAMPLE.read_text()}, headers=world.auth("admin"))
    assert first.status_code == 201, first.get_json()
    second = client.post(f"{EXERCISES}/import", json={"csv": SAMPLE.read_text()}, headers=world.auth("admin"))
    assert second.status_code == 422, second.get_json()
    assert sorted(second.get_json()["error"]["details"]) == ["row 2", "row 3", "row 4"], second.get_json()
    assert count(app, ExerciseNotice) == 3


def test_csv_upload_as_text_csv_is_refused_with_415(client, world):
    response = client.post(
        f"{EXERCISES}/import", data=SAMPLE.read_text(), content_type="text/csv", headers=world.auth("admin")
    )
    assert response.status_code == 415 and "application/json" in response.get_json()["error"]["message"]


# -- incidents inside exercises: the acceptance test --------------------------------------


@pytest.mark.both_databases  # time windows compared in SQL
def test_incident_inside_an_exercise_is_linked_and_one_just_outside_is_not(client, world):
    """Acceptance: inside the area and time -> linked; just outside in space or in time -> not."""
    exercise = create(client, world)
    starts, ends = parse_moment(exercise["starts_at"]), parse_moment(exercise["ends_at"])
    middle = starts + (ends - starts) / 2

    inside = file_at(client, world, INSIDE, middle)
    on_edge_at_end = file_at(client, world, ON_EDGE, ends)
    east_by_100_m = file_at(client, world, JUST_EAST, middle)
    a_second_late = file_at(client, world, INSIDE, ends + timedelta(seconds=1))
    a_second_early = file_at(client, world, INSIDE, starts - timedelta(seconds=1))

    expected = {"id": exercise["id"], "name": "EASTERN RAMPART"}
    for label, filed in (("inside", inside), ("on the edge at the last second", on_edge_at_end)):
        assert filed["exercise"] == expected, f"{label}: {filed['exercise']}"
        stored = incident(client, world, filed["reference"])
        assert stored["exercise"] == expected, f"{label}: read back {stored['exercise']}"
        linked = [e for e in stored["timeline"] if e["kind"] == "exercise_linked"]
        assert len(linked) == 1 and linked[0]["details"]["exercise"] == "EASTERN RAMPART", f"{label}: {linked}"
        assert linked[0]["details"]["exercise_id"] == exercise["id"] and stored["no_notice"] is False, linked
    for label, filed in (
        ("100 m east of the area", east_by_100_m),
        ("1 s after the end", a_second_late),
        ("1 s before the start", a_second_early),
    ):
        assert filed["exercise"] is None, f"{label}: {filed['exercise']}"
        assert "exercise_linked" not in kinds(filed), f"{label}: {kinds(filed)}"


def test_incident_inside_a_circle_is_linked(client, world):
    response = client.post(EXERCISES, json=circle(), headers=world.auth("supervisor"))
    assert response.status_code == 201, response.get_json()
    filed = file_at(client, world, (54.3, 23.8), hours(-2))  # ~6.5 km from the centre
    far = file_at(client, world, (54.25, 24.0), hours(-2))  # ~16.3 km east of the centre
    assert filed["exercise"] == {"id": response.get_json()["id"], "name": "EASTERN RAMPART"}, filed["exercise"]
    assert far["exercise"] is None, far["exercise"]


def test_incident_without_a_position_is_never_linked(client, world):
    create(client, world)
    filed = file_at(client, world, (None, None), hours(-2), sector="South")
    assert filed["exercise"] is None and filed["no_notice"] is False, filed


# -- no notice on record ------------------------------------------------------------------


def test_unusual_activity_near_the_border_with_no_notice_is_flagged(client, world):
    flagged = unusual(client, world, NEAR_BORDER, hours(-2))
    assert flagged["no_notice"] is True and flagged["exercise"] is None, flagged
    assert flagged["border_distance_km"] < 50, flagged["border_distance_km"]
    event = next(e for e in flagged["timeline"] if e["kind"] == "no_notice")
    assert "no notice on record" in event["details"]["note"], event

    far_inland = unusual(client, world, (54.4, 21.5), hours(-2))
    assert far_inland["no_notice"] is False and far_inland["border_distance_km"] > 50, far_inland
    intercept = file_at(client, world, NEAR_BORDER, hours(-2))  # an unsafe intercept, not unusual activity
    assert intercept["no_notice"] is False, intercept
    assert "no_notice" not in kinds(far_inland) + kinds(intercept)


@pytest.mark.both_databases  # time windows compared in SQL
def test_unusual_activity_inside_a_notified_exercise_is_linked_not_flagged(client, world):
    exercise = create(client, world, area=..., centre_latitude=54.1, centre_longitude=23.4, radius_km=20)
    filed = unusual(client, world, NEAR_BORDER, hours(-2))
    assert filed["exercise"] == {"id": exercise["id"], "name": exercise["name"]}, filed
    assert filed["no_notice"] is False and "no_notice" not in kinds(filed), kinds(filed)


@pytest.mark.parametrize("notified", [None, "after"], ids=["never-notified", "notified-after-the-incident"])
def test_an_exercise_not_notified_by_then_links_the_incident_but_leaves_the_flag(client, world, notified):
    """Known but not announced: the exercise is context; "no notice on record" stands (Chapter III's trigger)."""
    notified_at = None if notified is None else isoformat(hours(-1))
    exercise = create(
        client, world, area=..., centre_latitude=54.1, centre_longitude=23.4, radius_km=20, notified_at=notified_at
    )
    filed = unusual(client, world, NEAR_BORDER, hours(-2))
    assert filed["exercise"] == {"id": exercise["id"], "name": exercise["name"]}, filed
    assert filed["no_notice"] is True and "no_notice" in kinds(filed), kinds(filed)
    linked = next(e for e in filed["timeline"] if e["kind"] == "exercise_linked")
    assert "inside unnotified exercise" in linked["details"]["note"], linked
    assert linked["details"]["notified"] is False and linked["details"]["no_notice_cleared"] is False, linked
    sign_in(client, "duty")
    page = client.get(f"/incidents/{filed['reference']}").text
    assert "Inside an exercise with no notice on record" in page and "Inside a notified exercise" not in page
    board = client.get("/board").text
    assert "no notice on record" in board and f"exercise: <bdi>{exercise['name']}</bdi>" in board


def test_of_several_exercises_the_first_started_notified_one_is_linked_whatever_the_order_entered(client, world):
    later = create(client, world, name="LATER", starts_at=isoformat(hours(-3)))
    filed = file_at(client, world, INSIDE, hours(-2))
    assert filed["exercise"]["name"] == "LATER", filed["exercise"]
    unnotified = create(client, world, name="KNOWN ONLY", starts_at=isoformat(hours(-5)), notified_at=None)
    assert incident(client, world, filed["reference"])["exercise"]["name"] == "LATER", "a notified one first"
    earlier = create(client, world, name="EARLIER", starts_at=isoformat(hours(-4)))
    relinked = incident(client, world, filed["reference"])
    assert relinked["exercise"] == {"id": earlier["id"], "name": "EARLIER"}, relinked["exercise"]
    again = file_at(client, world, INSIDE, hours(-2))
    assert again["exercise"]["name"] == "EARLIER", "a report filed now is linked the same way"
    assert {later["id"], unnotified["id"]}.isdisjoint({relinked["exercise"]["id"], again["exercise"]["id"]})


def test_no_notice_border_distance_is_configurable(make_app):
    from tests.support import build_world

    app = make_app(NO_NOTICE_BORDER_KM=5)
    world, client = build_world(app), app.test_client()
    seven_km_out = unusual(client, world, NEAR_BORDER, hours(-2))
    assert seven_km_out["no_notice"] is False, seven_km_out["border_distance_km"]


@pytest.mark.both_databases  # time windows compared in SQL
def test_entering_changing_and_deleting_an_exercise_relinks_open_incidents(client, world):
    flagged = unusual(client, world, NEAR_BORDER, hours(-2))
    resolved = unusual(client, world, NEAR_BORDER, hours(-2))
    done = client.post(
        f"/api/v1/incidents/{resolved['reference']}/resolve", json={"resolution": "old"}, headers=world.auth("admin")
    )
    assert done.status_code == 200, done.get_json()

    exercise = create(client, world, area=..., centre_latitude=54.1, centre_longitude=23.4, radius_km=20)
    linked = incident(client, world, flagged["reference"])
    assert linked["exercise"] == {"id": exercise["id"], "name": exercise["name"]} and not linked["no_notice"], linked
    event = linked["timeline"][-1]
    assert event["kind"] == "exercise_linked" and event["details"]["no_notice_cleared"] is True, event
    assert event["actor"] == "supervisor", event
    assert incident(client, world, resolved["reference"])["exercise"] is None, "resolved incidents are left alone"

    location = f"{EXERCISES}/{exercise['id']}"
    moved = client.patch(location, json={"centre_longitude": 24.5}, headers=world.auth("admin"))
    assert moved.status_code == 200, moved.get_json()
    unlinked = incident(client, world, flagged["reference"])
    assert unlinked["exercise"] is None and unlinked["no_notice"] is True, unlinked
    assert [e["kind"] for e in unlinked["timeline"][-2:]] == ["exercise_linked", "no_notice"], unlinked["timeline"]
    assert unlinked["timeline"][-2]["details"]["unlinked_from"] == exercise["name"], unlinked["timeline"][-2]

    back = client.patch(location, json={"centre_longitude": 23.4}, headers=world.auth("admin"))
    assert back.status_code == 200 and incident(client, world, flagged["reference"])["exercise"] is not None
    assert client.delete(location, headers=world.auth("admin")).status_code == 204
    after = incident(client, world, flagged["reference"])
    assert after["exercise"] is None and after["no_notice"] is True, after
    assert "deleted" in after["timeline"][-2]["details"]["note"], after["timeline"][-2]


# -- the iCalendar feed -------------------------------------------------------------------


def feed_events(response) -> dict[str, object]:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "text/calendar", response.headers
    calendar = Calendar.from_ical(response.get_data())
    return {str(event["SUMMARY"]): event for event in calendar.walk("VEVENT")}


@pytest.mark.both_databases  # time windows compared in SQL
def test_ics_feed_has_a_vevent_per_running_and_upcoming_exercise(client, world):
    create(client, world, name="PAST", starts_at=isoformat(hours(-48)), ends_at=isoformat(hours(-24)))
    running = create(client, world, name="RUNNING", starts_at=isoformat(hours(-1)), ends_at=isoformat(hours(5)))
    soon = client.post(
        EXERCISES,
        json=circle(
            name="SOON", states=["Eastland", "Southland"], starts_at=isoformat(hours(24)), ends_at=isoformat(hours(48))
        ),
        headers=world.auth("admin"),
    ).get_json()

    events = feed_events(client.get(f"{EXERCISES}.ics", headers=world.auth("liaison")))
    assert sorted(events) == ["RUNNING (Eastland)", "SOON (Eastland, Southland)"], sorted(events)
    for body, event in ((running, events["RUNNING (Eastland)"]), (soon, events["SOON (Eastland, Southland)"])):
        assert str(event["UID"]) == f"exercise-{body['id']}@tracker.test", event["UID"]
        start, end = event.decoded("DTSTART"), event.decoded("DTEND")
        assert start.utcoffset() == timedelta(0) and end.tzinfo is not None, (start, end)
        # RFC 5545: DTEND is the first moment after the event; the exercise holds its last moment, ends_at.
        assert (isoformat(start.astimezone(UTC)), isoformat(end.astimezone(UTC))) == (
            body["starts_at"],
            isoformat(parse_moment(body["ends_at"]) + timedelta(seconds=1)),
        )
        assert "DTSTAMP" in event and "LAST-MODIFIED" in event and "LOCATION" in event, event
        assert "Vienna Document notification" in str(event["DESCRIPTION"]), event["DESCRIPTION"]
    square = events["RUNNING (Eastland)"]["GEO"]
    assert (round(square.latitude, 4), round(square.longitude, 4)) == (54.25, 23.75), "the polygon's centroid"
    centre = events["SOON (Eastland, Southland)"]["GEO"]
    assert (centre.latitude, centre.longitude) == (54.25, 23.75), "the circle's centre"
    assert "15 km" in str(events["SOON (Eastland, Southland)"]["LOCATION"])


@pytest.mark.parametrize("last", ["18:00:00", "18:00:00.500000", "23:59:59.999999"])
def test_ics_feed_ends_each_event_after_the_exercises_last_moment(client, world, last):
    """RFC 5545 leaves DTEND out of the event, and writes no fraction of a second: the exercise's last
    moment (it holds both its ends) must lie inside [DTSTART, DTEND), not on DTEND or after it."""
    day = hours(48).date().isoformat()
    create(client, world, name="LAST", starts_at=f"{day}T06:00:00.250000Z", ends_at=f"{day}T{last}Z")
    event = feed_events(client.get(f"{EXERCISES}.ics", headers=world.auth("liaison")))["LAST (Eastland)"]
    start, end = event.decoded("DTSTART"), event.decoded("DTEND")
    first, final = parse_moment(f"{day}T06:00:00.250000Z"), parse_moment(f"{day}T{last}Z")
    assert start <= first and final < end <= final + timedelta(seconds=1), (start, end)
    assert end == final.replace(microsecond=0) + timedelta(seconds=1), end


def test_ics_feed_takes_a_signed_feed_link_instead_of_a_bearer_token(app, client, world):
    create(client, world, name="RUNNING", starts_at=isoformat(hours(-1)), ends_at=isoformat(hours(5)))
    link = client.get(f"{EXERCISES}/feed-link", headers=world.auth("duty"))
    assert link.status_code == 200, link.get_json()
    url = link.get_json()["url"]
    assert url.startswith("http://tracker.test/api/v1/exercises.ics?key="), url
    path = url.removeprefix("http://tracker.test")
    assert list(feed_events(client.get(path))) == ["RUNNING (Eastland)"]

    refusals = {
        "no credentials": client.get(f"{EXERCISES}.ics"),
        "tampered key": client.get(path[:-3] + ("abc" if not path.endswith("abc") else "xyz")),
        "bad bearer token": client.get(f"{EXERCISES}.ics", headers={"Authorization": "Bearer nope"}),
    }
    for label, response in refusals.items():
        answer = response.get_json()
        assert response.status_code == 401 and answer["error"]["code"] == "unauthorized", f"{label}: {answer}"
    key = path.partition("?key=")[2]
    twice = client.get(f"{EXERCISES}.ics?key={key}&key={key}")  # as any one-value parameter given twice
    assert twice.status_code == 422 and "key" in twice.get_json()["error"]["details"], twice.get_json()

    liaison_link = client.get(f"{EXERCISES}/feed-link", headers=world.auth("liaison")).get_json()["url"]
    liaison_path = liaison_link.removeprefix("http://tracker.test")
    assert client.get(liaison_path).status_code == 200
    with session_scope(app) as session:
        session.scalar(select(User).where(User.username == "duty")).active = False
        people.set_password(
            session, session.scalar(select(User).where(User.username == "liaison")), "a-new-password", by="admin"
        )
    for label, stale in (("deactivated user", path), ("new password", liaison_path)):
        answer = client.get(stale)
        assert answer.status_code == 401, f"{label}: {answer.status_code} {answer.get_json()}"


def test_feed_link_does_not_carry_any_piece_of_the_password_hash(app, client, world):
    import base64
    import json

    url = client.get(f"{EXERCISES}/feed-link", headers=world.auth("duty")).get_json()["url"]
    payload = url.split("key=")[1].split(".")[0]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    with session_scope(app) as session:
        password_hash = session.scalar(select(User.password_hash).where(User.username == "duty"))
    assert password_hash[-12:] not in json.dumps(claims), f"the session key's piece of the hash is in {claims}"
