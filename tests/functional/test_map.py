"""The map page, its JSON (/map/data, /map/position) and /api/v1/map: sectors, borders, open incidents
most urgent first, exercises by time, typed positions read back, and nothing from other hosts."""

import json
import re
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from tests.support import build_world, file_incident, sign_in
from tracker.db import session_scope
from tracker.models import ExerciseNotice, Incident, IncidentStatus, NotifiedVia
from tracker.timeutil import isoformat, utcnow

REGION = json.loads((Path(__file__).resolve().parents[2] / "config" / "region.geojson").read_text())
SECTORS = sorted(f["properties"]["name"] for f in REGION["features"] if f["properties"]["kind"] == "sector")
BORDERS = sorted(f["properties"]["name"] for f in REGION["features"] if f["properties"]["kind"] == "border")
LINES = [f["geometry"]["coordinates"] for f in REGION["features"] if f["properties"]["kind"] == "border"]
BORDER_EAST = max(lon for line in LINES for lon, _ in line)  # the easternmost point of every border line


class Elements(HTMLParser):
    """Every start tag of a page with its attributes."""

    def __init__(self, text: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def with_class(self, tag: str, name: str) -> list[dict]:
        return [attrs for t, attrs in self.tags if t == tag and name in (attrs.get("class") or "").split()]


def add_exercise(app, name: str, starts_in: timedelta, lasts: timedelta, **where) -> None:
    now = utcnow()
    with session_scope(app) as session:
        session.add(
            ExerciseNotice(
                name=name,
                states=["Eastland"],
                starts_at=now + starts_in,
                ends_at=now + starts_in + lasts,
                notified_via=NotifiedVia.VIENNA_DOCUMENT,
                created_by="test",
                **where,
            )
        )


def square(west, south, east, north) -> dict:
    return {
        "type": "Polygon",
        "coordinates": [[[west, south], [east, south], [east, north], [west, north], [west, south]]],
    }


def earlier(hours: float) -> str:
    return isoformat(utcnow() - timedelta(hours=hours))


@pytest.fixture
def situation(app, client):
    """Open incidents of every precedence (one acknowledged, one exhausted), one resolved, one
    without a position; a polygon across the border and a circle under way, one over lately, one
    long over and one to come."""
    world = build_world(app)
    filed = {
        "Z": file_incident(client, world, precedence="Z", occurred_at=earlier(1), latitude=54.10, longitude=23.30),
        "O": file_incident(client, world, precedence="O", occurred_at=earlier(2), category="airspace_violation"),
        "P": file_incident(client, world, precedence="P", occurred_at=earlier(3), latitude=55.50, longitude=22.00),
        "R": file_incident(client, world, precedence="R", occurred_at=earlier(4), latitude=53.80, longitude=21.60),
    }
    resolved = file_incident(client, world, precedence="Z", occurred_at=earlier(5), latitude=54.9, longitude=22.2)
    unplaced = file_incident(client, world, precedence="P", latitude=None, longitude=None, position_text=None)
    answers = [
        client.post(f"/api/v1/incidents/{filed['O']['reference']}/acknowledge", json={}, headers=world.auth("liaison")),
        client.post(
            f"/api/v1/incidents/{resolved['reference']}/resolve",
            json={"resolution": "Explained."},
            headers=world.auth("supervisor"),
        ),
    ]
    assert [a.status_code for a in answers] == [200, 200], [a.get_json() for a in answers]
    with session_scope(app) as session:  # as if no step had been acknowledged
        exhausted = session.scalar(select(Incident).where(Incident.reference == filed["P"]["reference"]))
        exhausted.status = IncidentStatus.EXHAUSTED
    day = timedelta(days=1)
    add_exercise(app, "Northern Shield", -timedelta(hours=2), 2 * day, area=square(23.0, 54.2, 24.2, 54.6))
    add_exercise(
        app, "Amber Circle", -timedelta(hours=1), timedelta(hours=5), centre_latitude=53.9, centre_longitude=22.4,
        radius_km=20,
    )  # fmt: skip
    add_exercise(app, "Past Drill", -3 * day, day, area=square(21.1, 53.6, 21.4, 53.9))
    add_exercise(app, "Old Drill", -60 * day, day, area=square(21.1, 53.6, 21.4, 53.9))
    add_exercise(app, "Future Drill", 3 * day, day, area=square(21.9, 53.9, 22.1, 54.1))
    return world, {p: f["reference"] for p, f in filed.items()}, resolved["reference"], unplaced["reference"]


def by_kind(body: dict) -> dict[str, list[dict]]:
    kinds: dict[str, list] = {}
    for feature in body["features"]:
        kinds.setdefault(feature["properties"]["kind"], []).append(feature)
    return kinds


def test_map_page_holds_the_map_its_controls_and_the_files_it_loads_from_this_app_only(client, situation):
    sign_in(client, "liaison")
    page = client.get("/map")
    assert page.status_code == 200, page.text[:500]
    elements = Elements(page.text)
    [root] = elements.with_class("div", "map-page")
    assert root["data-map-data"] == "/map/data" and root["data-map-position"] == "/map/position", root
    assert [a["id"] for a in elements.with_class("div", "map-canvas")] == ["map"]
    options = [(a["value"], "selected" in a) for t, a in elements.tags if t == "option"]
    assert options == [("running", True), ("upcoming", False), ("past", False), ("all", False)], options

    scripts = [a["src"] for t, a in elements.tags if t == "script"]
    styles = [a["href"] for t, a in elements.tags if t == "link" and a.get("rel") == "stylesheet"]
    assert "/static/map.js" in scripts and "/static/vendor/leaflet/leaflet.js" in scripts, scripts
    assert "/static/map.css" in styles and "/static/vendor/leaflet/leaflet.css" in styles, styles
    for path in [*scripts, *styles, root["data-map-base"], "/static/vendor/leaflet/images/layers.png"]:
        answer = client.get(path)
        assert answer.status_code == 200 and len(answer.data) > 100, (path, answer.status_code)
        answer.close()
    base = client.get(root["data-map-base"])
    world = json.loads(base.data)
    base.close()
    kinds = {f["properties"]["kind"]: f["geometry"]["type"] for f in world["features"]}
    assert kinds == {"land": "MultiPolygon", "border": "MultiLineString"}, kinds

    foreign = [url for url in re.findall(r"https?://[^\s\"'<>)]+", page.text) if urlsplit(url).hostname != "localhost"]
    assert foreign == [], f"the map page names other hosts: {foreign}"
    inline_scripts = [attrs for tag, attrs in elements.tags if tag == "script" and "src" not in attrs]
    styled = [(tag, attrs) for tag, attrs in elements.tags if "style" in attrs or tag == "style"]
    assert inline_scripts == [] and styled == [], (inline_scripts, styled)


def test_map_data_holds_the_region_the_open_incidents_most_urgent_first_and_exercises_under_way(client, situation):
    _, open_ones, resolved, unplaced = situation
    sign_in(client, "liaison")
    answer = client.get("/map/data")
    assert answer.status_code == 200 and answer.mimetype == "application/json", answer.status_code
    body = answer.get_json()
    assert body["type"] == "FeatureCollection" and body["region_configured"] is True
    kinds = by_kind(body)
    assert sorted(f["properties"]["name"] for f in kinds["sector"]) == SECTORS
    assert sorted(f["properties"]["name"] for f in kinds["border"]) == BORDERS
    incidents = [f["properties"] for f in kinds["incident"]]
    assert [(p["precedence"], p["reference"]) for p in incidents] == [(p, open_ones[p]) for p in "ZOPR"], incidents
    assert [p["status"] for p in incidents] == ["open", "acknowledged", "exhausted", "open"]
    assert resolved not in str(body) and body["unplaced"] == [unplaced]
    flash = incidents[0]
    assert flash["position"]["mgrs"].startswith("34U") and "°" in flash["position"]["dms"], flash
    assert flash["category_label"] and flash["status_label"] == "open" and flash["precedence_name"] == "FLASH"
    assert [p["outside_sectors"] for p in incidents] == [False] * 4, "all four lie in a sector"
    exercises = {f["properties"]["name"]: f["properties"]["phase"] for f in kinds["exercise"]}
    assert exercises == {"Northern Shield": "running", "Amber Circle": "running"}, exercises


def test_the_coast_waters_beyond_the_maritime_boundary_are_drawn_as_the_other_sides(client, situation):
    """The sectors stop at the border lines; the Coast's waters beyond the maritime boundary, which still route
    as Coast, come as a part of their own marked beyond_border, and the legend says what that part is."""
    sign_in(client, "duty")
    sectors = [f["properties"] for f in by_kind(client.get("/map/data").get_json())["sector"]]
    marked = [(p["name"], p["beyond_border"]) for p in sectors]
    assert marked == [("Coast", False), ("Coast", True), ("North", False), ("South", False)], marked
    legend = Elements(client.get("/map").text).with_class("span", "map-key-sector-beyond")
    assert len(legend) == 1, "the legend keys the part beyond the border"


def test_an_exercise_area_across_the_border_is_sent_whole(client, situation):
    sign_in(client, "duty")
    body = client.get("/map/data").get_json()
    [shield] = [f for f in by_kind(body)["exercise"] if f["properties"]["name"] == "Northern Shield"]
    east = max(lon for lon, _ in shield["geometry"]["coordinates"][0])
    assert east == 24.2 > BORDER_EAST, f"the area ends at {east}, the border line at {BORDER_EAST}"


@pytest.mark.parametrize(
    ("when", "names"),
    [
        ("running", ["Amber Circle", "Northern Shield"]),
        ("upcoming", ["Future Drill"]),
        ("past", ["Past Drill"]),
        ("all", ["Amber Circle", "Future Drill", "Northern Shield", "Old Drill", "Past Drill"]),
    ],
)
def test_the_time_filter_chooses_the_exercises(client, situation, when, names):
    sign_in(client, "duty")
    body = client.get("/map/data", query_string={"exercises": when}).get_json()
    exercises = by_kind(body)["exercise"] if names else []
    assert sorted(f["properties"]["name"] for f in exercises) == names
    phases = {f["properties"]["name"]: f["properties"]["phase"] for f in exercises}
    expected = {"Past Drill": "past", "Old Drill": "past", "Future Drill": "upcoming"}
    assert all(phases[n] == expected.get(n, "running") for n in names), phases
    assert len(by_kind(body)["incident"]) == 4, "the incidents do not depend on the filter"


def test_an_unknown_time_filter_is_refused_in_the_json_envelope(client, situation):
    sign_in(client, "duty")
    answer = client.get("/map/data", query_string={"exercises": "yesterday"})
    assert answer.status_code == 422, answer.status_code
    error = answer.get_json()["error"]
    assert error["code"] == "validation_error" and "running, upcoming, past, all" in error["message"], error


def test_map_and_its_data_need_a_signed_in_user(client, situation):
    for path in ("/map", "/map/data", "/map/position?q=54.4,22.8"):
        page = client.get(path)
        assert page.status_code == 302 and page.headers["Location"].startswith("/signin"), (path, page.status_code)
    api = client.get("/api/v1/map")
    assert api.status_code == 401 and api.get_json()["error"]["code"] == "unauthorized", api.get_json()


def valid_position(position) -> bool:
    return len(position) == 2 and -180 <= position[0] <= 180 and -90 <= position[1] <= 90


def geometry_problem(geometry: dict) -> str | None:
    """Say what keeps geometry from being a GeoJSON geometry with valid coordinates."""
    kind, coordinates = geometry.get("type"), geometry.get("coordinates")
    if kind == "Point":
        return None if valid_position(coordinates) else f"bad point {coordinates}"
    lines = {"LineString": [coordinates], "MultiLineString": coordinates}.get(kind)
    if lines is not None:
        ok = all(len(line) >= 2 and all(valid_position(p) for p in line) for line in lines)
        return None if ok else f"bad line {coordinates}"
    polygons = {"Polygon": [coordinates], "MultiPolygon": coordinates}.get(kind)
    if polygons is not None:
        rings = [ring for polygon in polygons for ring in polygon]
        ok = all(len(r) >= 4 and r[0] == r[-1] and all(valid_position(p) for p in r) for r in rings)
        return None if ok else f"bad polygon {coordinates}"
    return f"unknown geometry type {kind}"


def test_api_map_is_geojson_of_the_same_things(client, situation):
    world, open_ones, resolved, unplaced = situation
    response = client.get("/api/v1/map", headers=world.auth("duty"))
    assert response.status_code == 200 and response.mimetype == "application/geo+json", response.mimetype
    body = response.get_json()
    assert body["type"] == "FeatureCollection" and body["region_configured"] is True, {k: body[k] for k in body}
    problems = [
        (f.get("properties"), problem)
        for f in body["features"]
        if f.get("type") != "Feature" or (problem := geometry_problem(f.get("geometry") or {}))
    ]
    assert problems == [], problems
    sign_in(client, "duty")
    assert client.get("/map/data").get_json() == body, "the page draws what the API serves"
    upcoming = client.get("/api/v1/map", query_string={"exercises": "upcoming"}, headers=world.auth("duty"))
    assert [f["properties"]["name"] for f in by_kind(upcoming.get_json())["exercise"]] == ["Future Drill"]
    refused = client.get("/api/v1/map", query_string={"exercises": "soon"}, headers=world.auth("duty"))
    assert refused.status_code == 422 and "exercises" in refused.get_json()["error"]["details"], refused.get_json()


def test_without_a_region_the_map_has_the_incidents_and_says_so(make_app):
    app = make_app(REGION_FILE="")
    client = app.test_client()
    world = build_world(app)
    references = [
        file_incident(client, world, latitude=10.0 + n, longitude=20.0, sector=...)["reference"] for n in range(2)
    ]
    sign_in(client, "duty")
    page = client.get("/map")
    assert page.status_code == 200 and "region is not configured" in page.text, page.text[:800]
    assert "map-key-sector-beyond" not in page.text, "no sector reaches beyond a border: no key for it"
    body = client.get("/map/data").get_json()
    assert body["region_configured"] is False and set(by_kind(body)) == {"incident"}, body
    assert sorted(f["properties"]["reference"] for f in body["features"]) == references
    assert not any(f["properties"]["outside_sectors"] for f in body["features"]), "no sectors: none is outside"


@pytest.mark.parametrize("typed", ["54.412, 22.871", "54 24 43N 022 52 16E", "34U FF 2142 3097"])
def test_a_position_typed_in_any_notation_is_read_back_in_all_of_them(client, situation, typed):
    sign_in(client, "duty")
    answer = client.get("/map/position", query_string={"q": typed})
    assert answer.status_code == 200, answer.get_json()
    where = answer.get_json()
    assert (where["latitude"], where["longitude"]) == pytest.approx((54.412, 22.871), abs=2e-4), where
    # A second of arc is about 30 m: typed as DMS, the position may fall in the next 10 m MGRS square.
    assert where["dms"] == "54°24'43\"N 022°52'16\"E" and re.fullmatch(r"34U FF 214\d 309\d", where["mgrs"]), where
    assert where["sector"] == "North" and where["ddm"].startswith("54°24.7") and where["border_km"] > 0, where

    page = client.get("/map", query_string={"at": typed})
    assert page.status_code == 200, page.text[:500]
    [root] = Elements(page.text).with_class("div", "map-page")
    assert json.loads(root["data-probe"]) == where, "the page marks the same position the search box does"
    [said] = re.findall(r'<p id="at-readback"[^>]*>(.*?)</p>', page.text, re.DOTALL)
    assert re.search(
        r"= 54°24&#39;43&#34;N 022°52&#39;16&#34;E = MGRS 34U FF 214\d 309\d · sector <bdi>North</bdi>", said
    ), said


def test_a_position_that_cannot_be_read_is_answered_with_how_it_was_read(client, situation):
    sign_in(client, "duty")
    answer = client.get("/map/position", query_string={"q": "somewhere north"})
    assert answer.status_code == 422 and "give decimal degrees" in answer.get_json()["error"]["message"]
    page = client.get("/map", query_string={"at": "somewhere north"})
    assert page.status_code == 422 and "give decimal degrees" in page.text, page.status_code
    assert "data-probe" not in page.text and Elements(page.text).with_class("div", "map-canvas"), "the map is there"


def test_beyond_its_limit_the_map_keeps_the_most_urgent_and_says_how_many_it_left_off(client, situation, monkeypatch):
    from tracker.services.review import mapview

    _, open_ones, _, unplaced = situation
    monkeypatch.setattr(mapview, "MAX_INCIDENTS", 2)
    sign_in(client, "liaison")
    body = client.get("/map/data").get_json()
    shown = [f["properties"]["reference"] for f in by_kind(body)["incident"]]
    assert shown == [open_ones["Z"], open_ones["O"]], "the FLASH and the IMMEDIATE, not the two oldest"
    assert body["unplaced"] == [] and body["left_off"] == 3, (body["unplaced"], body.get("left_off"))
    api = client.get("/api/v1/map", headers=situation[0].auth("liaison")).get_json()
    assert api["left_off"] == 3, "the API says it too"
    assert unplaced not in shown


def test_a_position_longer_than_any_is_refused_not_read_cut_short(client, situation):
    """The map cut what was typed at 120 characters and read the rest: "54.412, 22." and 119 eights read as
    22.888... though the text went on. It is refused whole, as filing refuses it."""
    sign_in(client, "duty")
    typed = "54.412, 22." + "8" * 109 + "7" * 10  # 130 characters; its first 120 read as a position
    answer = client.get("/map/position", query_string={"q": typed})
    assert answer.status_code == 422, answer.get_json()
    assert "130 characters: a position takes at most 120" in answer.get_json()["error"]["message"]
    page = client.get("/map", query_string={"at": typed})
    assert page.status_code == 422 and "130 characters" in page.text


def test_the_map_says_whether_an_exercise_was_notified(app, client, situation):
    """The map draws every exercise of the register alike; one entered with no notification on record (seen,
    not told) looked like a notified one. Its feature says when it was notified (null: not on record)."""
    told_at = utcnow().replace(microsecond=0) - timedelta(days=45)
    with session_scope(app) as session:
        shield = session.scalar(select(ExerciseNotice).where(ExerciseNotice.name == "Northern Shield"))
        shield.notified_at = told_at
    sign_in(client, "duty")
    body = client.get("/map/data").get_json()
    said = {f["properties"]["name"]: f["properties"]["notified_at"] for f in by_kind(body)["exercise"]}
    assert said == {"Northern Shield": isoformat(told_at), "Amber Circle": None}, said
