"""The exercise pages through the test client: the register, forms with CSRF tokens, the CSV upload,
the feed link, and the exercise context on the incident page and the board."""

import html
import io
import re
from pathlib import Path

import pytest
from icalendar import Calendar
from sqlalchemy import select

from tests.exercise_support import INSIDE, NEAR_BORDER, create, file_at, hours, unusual
from tests.functional.test_accessible_pages import by_id, parse
from tests.support import count, csrf, sign_in
from tracker.db import session_scope
from tracker.models import ExerciseNotice, Incident
from tracker.timeutil import format_dtg, isoformat

SAMPLE = Path(__file__).resolve().parents[2] / "config" / "exercises.sample.csv"
FIELD_ERROR = re.compile(r'<small class="error" id="([a-z_]+)-error">([^<]*)</small>')


def signed_in(app, who: str):
    client = app.test_client()
    answer = sign_in(client, who)
    assert answer.status_code == 302, f"{who} could not sign in: {answer.status_code}"
    return client


def exercise_form(client, path: str, **overrides) -> dict:
    data = {
        "csrf_token": csrf(client, path),
        "name": "NORTHERN SHIELD",
        "states": "Eastland; Southland",
        "starts_at": isoformat(hours(-3)),
        "ends_at": "271800ZDEC30",
        "area": "",
        "centre": "54 15 00N 023 45 00E",
        "radius_km": "15",
        "declared_size": "4000",
        "notified_via": "bilateral_briefing",
        "notified_at": "",
        "notes": "Briefed at the staff talks.",
    }
    return {**data, **overrides}


def stored(app, name: str) -> ExerciseNotice | None:
    with session_scope(app) as session:
        return session.scalar(select(ExerciseNotice).where(ExerciseNotice.name == name))


def test_supervisor_enters_edits_and_deletes_an_exercise(app, world):
    client = signed_in(app, "supervisor")
    created = client.post("/exercises/new", data=exercise_form(client, "/exercises/new"))
    assert created.status_code == 302 and created.headers["Location"] == "/exercises/", created.text[:500]
    exercise = stored(app, "NORTHERN SHIELD")
    assert exercise is not None and exercise.states == ["Eastland", "Southland"], exercise
    assert (exercise.centre_latitude, exercise.centre_longitude, exercise.radius_km) == (54.25, 23.75, 15.0)
    assert exercise.ends_at.isoformat() == "2030-12-27T18:00:00+00:00" and exercise.created_by == "supervisor"
    listing = client.get("/exercises/")
    assert 'data-exercise="NORTHERN SHIELD"' in listing.text and "bilateral briefing" in listing.text

    edit = f"/exercises/{exercise.id}/edit"
    page = client.get(edit)
    assert page.status_code == 200 and 'value="54 15 00N' not in page.text and "54.25000, 23.75000" in page.text
    square = "POLYGON ((23.5 54, 24 54, 24 54.5, 23.5 54.5, 23.5 54))"
    saved = client.post(edit, data=exercise_form(client, edit, area=square, centre="", radius_km=""))
    assert saved.status_code == 302, saved.text[:500]
    changed = stored(app, "NORTHERN SHIELD")
    assert changed.area["coordinates"][0][1] == [24.0, 54.0] and changed.radius_km is None, changed.area
    # The form as drawn, sent again, moves no vertex: written with six decimals, one stored with more moved.
    fine = "POLYGON ((23.5 54, 24.0123456789 54, 24 54.5, 23.5 54.5, 23.5 54))"
    assert client.post(edit, data=exercise_form(client, edit, area=fine, centre="", radius_km="")).status_code == 302
    form = client.get(edit).text
    assert "24.0123456789 54" in form, "the area field shows every digit stored"
    drawn = re.search(r'name="area"[^>]*>([^<]*)</textarea>', form)
    assert drawn, "the area's text area"
    again = client.post(edit, data=exercise_form(client, edit, area=html.unescape(drawn[1]), centre="", radius_km=""))
    assert again.status_code == 302, again.text[:500]
    assert stored(app, "NORTHERN SHIELD").area["coordinates"][0][1] == [24.0123456789, 54.0]

    asked = client.post(f"/exercises/{exercise.id}/delete", data={"csrf_token": csrf(client, edit)})
    assert asked.status_code == 200 and "Delete the exercise “<bdi>NORTHERN SHIELD</bdi>”" in asked.text, asked.text[
        :800
    ]
    assert count(app, ExerciseNotice) == 1, "asked first"
    deleted = client.post(f"/exercises/{exercise.id}/delete", data={"csrf_token": csrf(client, edit), "confirm": "yes"})
    assert deleted.status_code == 302 and count(app, ExerciseNotice) == 0


@pytest.mark.parametrize(
    ("overrides", "field", "complaint"),
    [
        ({"ends_at": isoformat(hours(-4))}, "ends_at", "must be after starts_at"),
        ({"area": "POLYGON ((23 54, 24 54, 24 55, 23 54))"}, "area", "not both"),
        ({"centre": "somewhere"}, "centre", "decimal degrees"),
        ({"radius_km": "0"}, "radius_km", "more than 0"),
        ({"radius_km": "١٥"}, "radius_km", "ARABIC-INDIC DIGIT ONE"),  # float() read it as 15
        ({"radius_km": "1_5"}, "radius_km", "not a number"),
        ({"centre": "٥٤.٢٥, ٢٣.٧٥"}, "centre", "ARABIC-INDIC DIGIT FIVE"),
        ({"states": " ; "}, "states", "give 1 to 30 states"),
        ({"notified_via": ""}, "notified_via", "must be given"),
    ],
)
def test_bad_form_comes_back_with_the_problem_next_to_its_field(app, world, overrides, field, complaint):
    client = signed_in(app, "admin")
    answer = client.post("/exercises/new", data=exercise_form(client, "/exercises/new", **overrides))
    assert answer.status_code == 422, f"{overrides}: {answer.status_code}"
    errors = dict(FIELD_ERROR.findall(answer.text))
    assert complaint in html.unescape(errors.get(field, "")), f"{overrides}: errors {errors}"
    assert count(app, ExerciseNotice) == 0


def test_a_bad_form_says_every_problem_at_once_the_notification_time_too(app, world):
    """A size of 12.700 and a notification in the future: only the size was said, then the time once it was mended."""
    client = signed_in(app, "admin")
    typed = {"declared_size": "12.700", "notified_at": isoformat(hours(2))}
    answer = client.post("/exercises/new", data=exercise_form(client, "/exercises/new", **typed))
    assert answer.status_code == 422
    errors = dict(FIELD_ERROR.findall(answer.text))
    assert {"declared_size", "notified_at"} <= set(errors), errors
    assert count(app, ExerciseNotice) == 0


def test_a_form_without_csrf_token_is_refused(app, world):
    client = signed_in(app, "admin")
    data = exercise_form(client, "/exercises/new")
    del data["csrf_token"]
    assert client.post("/exercises/new", data=data).status_code == 400
    assert count(app, ExerciseNotice) == 0


def test_everyone_reads_the_register_and_only_supervisors_and_admins_change_it(app, client, world):
    exercise = create(client, world)
    for who in ("duty", "liaison"):
        reader = signed_in(app, who)
        listing = reader.get("/exercises/")
        assert listing.status_code == 200 and "EASTERN RAMPART" in listing.text, who
        assert "/exercises/new" not in listing.text and "/edit" not in listing.text, f"{who} sees the edit links"
        for path in ("/exercises/new", f"/exercises/{exercise['id']}/edit", "/exercises/import"):
            assert reader.get(path).status_code == 403, f"{who} GET {path}"
        refused = reader.post(f"/exercises/{exercise['id']}/delete", data={"csrf_token": csrf(reader, "/password")})
        assert refused.status_code == 403, who
    assert "Exercises</a>" in signed_in(app, "duty").get("/").text, "the nav links the register"
    assert count(app, ExerciseNotice) == 1


def test_csv_upload_imports_every_row_or_lists_the_bad_ones(app, world):
    client = signed_in(app, "supervisor")

    def upload(content: bytes):
        form = {"csrf_token": csrf(client, "/exercises/import"), "file": (io.BytesIO(content), "notices.csv")}
        return client.post("/exercises/import", data=form, content_type="multipart/form-data")

    bad = SAMPLE.read_text().replace("2027-03-09T18:00:00Z", "2027-03-01T18:00:00Z").replace("34U FF", "99Q ZZ")
    refused = upload(bad.encode())
    text = html.unescape(refused.text)
    assert refused.status_code == 422 and "Nothing was imported" in text, text[:1000]
    assert 'data-row="row 2"' in text and "ends at: must be after starts_at" in text, text
    assert 'data-row="row 4"' in text and 'data-row="row 3"' not in text, text
    assert count(app, ExerciseNotice) == 0

    assert upload(b"\xff\xfe not utf-8").status_code == 422
    imported = upload(("\ufeff" + SAMPLE.read_text()).encode())  # a spreadsheet's byte-order mark
    assert imported.status_code == 302, html.unescape(imported.text)[:1000]
    assert count(app, ExerciseNotice) == 3


def test_feed_link_on_the_page_serves_the_calendar(app, client, world):
    create(client, world, name="RUNNING", starts_at=isoformat(hours(-1)), ends_at=isoformat(hours(5)))
    page = signed_in(app, "liaison").get("/exercises/")
    url = html.unescape(page.text.split("data-feed>")[1].split("<")[0])
    assert url.startswith("http://tracker.test/api/v1/exercises.ics?key="), url
    feed = app.test_client().get(url.removeprefix("http://tracker.test"))
    assert feed.status_code == 200, feed.get_data(as_text=True)[:300]
    events = [str(e["SUMMARY"]) for e in Calendar.from_ical(feed.get_data()).walk("VEVENT")]
    assert events == ["RUNNING (Eastland)"], events


def test_incident_page_and_board_show_the_exercise_or_the_missing_notice(app, client, world):
    create(client, world, name="RAMPART", starts_at=isoformat(hours(-3)), ends_at=isoformat(hours(3)))
    linked = file_at(client, world, INSIDE, hours(-1))
    flagged = unusual(client, world, NEAR_BORDER, hours(-1))
    plain = file_at(client, world, (54.9, 22.0), hours(-1))
    reader = signed_in(app, "duty")

    page = html.unescape(reader.get(f"/incidents/{linked['reference']}").text)
    assert "Inside a notified exercise" in page and "RAMPART" in page and "Vienna Document notification" in page
    page = html.unescape(reader.get(f"/incidents/{flagged['reference']}").text)
    assert "No notice on record" in page and "Inside a notified exercise" not in page
    page = html.unescape(reader.get(f"/incidents/{plain['reference']}").text)
    assert "No notice on record" not in page and "Inside a notified exercise" not in page

    board = reader.get("/board/rows").text
    rows = {chunk.split('"')[0]: chunk for chunk in board.split('data-reference="')[1:]}
    assert "exercise: <bdi>RAMPART</bdi>" in rows[linked["reference"]], rows[linked["reference"]]
    assert "no notice on record" in rows[flagged["reference"]], rows[flagged["reference"]]
    assert "exercise:" not in rows[plain["reference"]] and "no notice" not in rows[plain["reference"]]


def test_times_on_the_exercise_pages_and_the_incident_page_carry_their_dtg(app, client, world):
    """Military records are kept as DTGs: each time these pages show in UTC has its DTG beside it."""
    notified = hours(-24 * 40)
    exercise = create(
        client,
        world,
        name="RAMPART",
        starts_at=isoformat(hours(-3)),
        ends_at=isoformat(hours(3)),
        notified_at=isoformat(notified),
    )
    linked = file_at(client, world, INSIDE, hours(-1))
    reader = signed_in(app, "duty")
    with session_scope(app) as session:
        found = session.get(ExerciseNotice, exercise["id"])
        starts, ends = found.starts_at, found.ends_at
    with session_scope(app) as session:
        incident = session.scalar(select(Incident).where(Incident.reference == linked["reference"]))
        reported, occurred = incident.reported_at, incident.occurred_at

    page = html.unescape(reader.get(f"/incidents/{linked['reference']}").text)
    facts = page.split("<dt>Reported</dt>")[1].split("</dd>")[0]
    assert format_dtg(reported) in facts, f"the reported time has no DTG beside it: {facts}"
    context = page.split('id="exercise-title"')[1].split("</section>")[0]
    assert format_dtg(starts) in context and format_dtg(ends) in context, f"the exercise's span has no DTG: {context}"

    detail = html.unescape(reader.get(f"/exercises/{exercise['id']}").text)
    row = detail.split(f">{linked['reference']}</a>")[1].split("</tr>")[0]
    assert format_dtg(occurred) in row, f"the linked incident's time has no DTG on the exercise page: {row}"

    listing = html.unescape(reader.get("/exercises/").text)
    notified_cell = listing.split('data-label="Notified"')[1].split("</td>")[0]
    assert format_dtg(notified) in notified_cell, f"the notification time has no DTG in the register: {notified_cell}"
    feed = listing.split("It works until")[1].split(", or until")[0]
    assert re.search(r"\(\d{6}Z[A-Z]{3}\d{2}\)", feed), f"the feed link's expiry has no DTG: {feed}"


def test_the_register_says_when_no_notification_is_on_record(app, client, world):
    """An exercise entered with no notification time (seen, not notified) showed only "Vienna Document
    notification" in the register's Notified column, as if it had come; the exercise's page says "no time
    on record"."""
    create(client, world, name="SEEN NOT TOLD", notified_at=None)
    create(client, world, name="TOLD")
    page = html.unescape(signed_in(app, "duty").get("/exercises/?when=all").text)
    cells = dict(re.findall(r'<tr data-exercise="([^"]+)">.*?<td data-label="Notified">(.*?)</td>', page, re.S))
    assert "no notification on record" in cells["SEEN NOT TOLD"], cells
    assert "no notification on record" not in cells["TOLD"], cells


def test_an_incident_inside_our_exercise_briefed_by_us_names_the_briefing_as_its_notification(app, client, world):
    """Our exercise, no notice time on record, first briefed by us by a bilateral briefing: that briefing is the
    notification the checks judge. The incident page said "Notified by Vienna Document notification." with no
    time, a notice that was never given in that form."""
    ours = create(
        client, world, name="OUR SHIELD", ours=True, starts_at=isoformat(hours(-3)), ends_at=isoformat(hours(3)),
        notified_at=None,
    )  # fmt: skip
    body = {"briefed_at": isoformat(hours(-24 * 50)), "briefed_to": "Eastland attaché", "via": "bilateral_briefing"}
    assert (
        client.post(f"/api/v1/exercises/{ours['id']}/briefings", json=body, headers=world.auth("admin")).status_code
        == 201
    )
    linked = file_at(client, world, INSIDE, hours(-1))
    page = html.unescape(signed_in(app, "duty").get(f"/incidents/{linked['reference']}").text)
    section = page.split('id="exercise-title"')[1].split("</section>")[0]
    assert "Inside a notified exercise" in section, section
    assert "Notified by Vienna Document notification" not in section, section
    assert "bilateral briefing" in section and "Eastland attaché" in section, section


def test_every_time_field_of_the_exercise_forms_says_it_is_utc(app, world):
    """A field for a time is read in Zulu time: Ends said only "the last moment of the exercise", so an officer
    typing a local end time learnt the zone from the refusal."""
    client = signed_in(app, "supervisor")
    exercise = create(client, world, ours=True)  # its page has the briefing form
    for path in ("/exercises/new", f"/exercises/{exercise['id']}/edit", f"/exercises/{exercise['id']}"):
        page = parse(client.get(path).get_data(as_text=True))
        times = [i for i in page.find_all("input") if re.search(r"_at$", i.attrs.get("name", ""))]
        assert times, f"{path}: no time field"
        for field in times:
            label = " ".join(label.text for label in page.find_all("label", **{"for": field.attrs["id"]}))
            hints = " ".join(by_id(page, d).text for d in field.attrs.get("aria-describedby", "").split())
            assert "UTC" in f"{label} {hints}", f"{path}: {field.attrs['name']} reads {label!r} {hints!r}"
