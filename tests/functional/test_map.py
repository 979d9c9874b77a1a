"""The map page and /api/v1/map: sectors, borders, open incidents by precedence, exercises under way."""

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


class Elements(HTMLParser):
    """Every start tag of a page with its attributes, and the text inside the first <svg>."""

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
    without a position; a polygon and a circle exercise under way, one over and one to come."""
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
    add_exercise(app, "Northern Shield", -timedelta(hours=2), timedelta(days=2), area=square(21.5, 55.4, 22.5, 55.9))
    add_exercise(
        app,
        "Amber Circle",
        -timedelta(hours=1),
        timedelta(hours=5),
        centre_latitude=53.9,
        centre_longitude=22.4,
        radius_km=20,
    )
    add_exercise(app, "Past Drill", -timedelta(days=3), timedelta(days=1), area=square(21.1, 53.6, 21.4, 53.9))
    add_exercise(app, "Future Drill", timedelta(days=3), timedelta(days=1), area=square(21.9, 53.9, 22.1, 54.1))
    return world, {p: f["reference"] for p, f in filed.items()}, resolved["reference"], unplaced["reference"]


def test_map_page_draws_sectors_borders_open_incidents_and_exercises_under_way(client, situation):
    _, open_ones, resolved, unplaced = situation
    sign_in(client, "liaison")
    page = client.get("/map")
    assert page.status_code == 200, page.text[:500]
    elements = Elements(page.text)
    assert any(tag == "svg" for tag, _ in elements.tags), "no <svg> on the map page"

    sectors = sorted(a["data-name"] for a in elements.with_class("path", "sector"))
    assert sectors == SECTORS, f"sector shapes {sectors}, region file has {SECTORS}"
    assert all(a["d"].startswith("M") for a in elements.with_class("path", "sector"))
    borders = sorted({a["data-name"] for a in elements.with_class("polyline", "border")})
    assert borders == BORDERS, f"border lines {borders}, region file has {BORDERS}"

    markers = {a["data-reference"]: a["class"].split() for a in elements.with_class("a", "marker")}
    expected = {ref: prec for prec, ref in open_ones.items()}
    assert sorted(markers) == sorted(expected), f"markers {sorted(markers)}, open incidents {sorted(expected)}"
    for reference, precedence in expected.items():
        assert f"prec-{precedence}" in markers[reference], f"{reference} drawn as {markers[reference]}"
    assert "status-exhausted" in markers[open_ones["P"]] and "status-acknowledged" in markers[open_ones["O"]]
    assert resolved not in markers, "a resolved incident is drawn"
    assert unplaced not in markers and "No position given: " in page.text and unplaced in page.text

    links = {a["href"] for a in elements.with_class("a", "marker")}
    assert links == {f"/incidents/{ref}" for ref in expected}, links
    assert "MGRS 34U" in page.text and "°" in page.text, "tooltips give the position in DMS and MGRS"

    exercises = sorted(a["data-name"] for a in elements.with_class("path", "exercise"))
    assert exercises == ["Amber Circle", "Northern Shield"], f"exercise areas drawn: {exercises}"
    assert elements.with_class("g", "legend") and elements.with_class("g", "scale"), "no legend or scale bar"


def test_map_page_loads_nothing_from_other_hosts_and_has_no_inline_script_or_style(client, situation):
    sign_in(client, "duty")
    text = client.get("/map").text
    foreign = [url for url in re.findall(r"https?://[^\s\"'<>)]+", text) if urlsplit(url).hostname != "localhost"]
    assert foreign == [], f"the map page names other hosts: {foreign}"
    elements = Elements(text)
    inline_scripts = [attrs for tag, attrs in elements.tags if tag == "script" and "src" not in attrs]
    styled = [(tag, attrs) for tag, attrs in elements.tags if "style" in attrs or tag == "style"]
    assert inline_scripts == [] and styled == [], (inline_scripts, styled)


def test_map_needs_a_signed_in_user(client, situation):
    page = client.get("/map")
    assert page.status_code == 302 and page.headers["Location"].startswith("/signin"), page.status_code
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
    by_kind: dict[str, list] = {}
    for feature in body["features"]:
        by_kind.setdefault(feature["properties"]["kind"], []).append(feature["properties"])
    assert sorted(p["name"] for p in by_kind["sector"]) == SECTORS
    assert sorted(p["name"] for p in by_kind["border"]) == BORDERS
    assert sorted(p["name"] for p in by_kind["exercise"]) == ["Amber Circle", "Northern Shield"]
    incidents = {p["reference"]: p["precedence"] for p in by_kind["incident"]}
    assert incidents == {ref: prec for prec, ref in open_ones.items()}, incidents
    assert body["unplaced"] == [unplaced] and resolved not in incidents


def test_without_a_region_the_map_draws_the_incidents_and_says_so(make_app):
    app = make_app(REGION_FILE="")
    client = app.test_client()
    world = build_world(app)
    references = [file_incident(client, world, latitude=10.0 + n, longitude=20.0)["reference"] for n in range(2)]
    sign_in(client, "duty")
    page = client.get("/map")
    assert page.status_code == 200 and "region is not configured" in page.text, page.text[:800]
    elements = Elements(page.text)
    assert sorted(a["data-reference"] for a in elements.with_class("a", "marker")) == references
    assert elements.with_class("path", "sector") == [] and elements.with_class("polyline", "border") == []
    body = client.get("/api/v1/map", headers=world.auth("duty")).get_json()
    assert body["region_configured"] is False and len(body["features"]) == 2, body


@pytest.mark.parametrize("typed", ["54.412, 22.871", "54 24 43N 022 52 16E", "34U FF 2142 3097"])
def test_a_position_typed_in_any_notation_is_shown_in_all_three(client, situation, typed):
    sign_in(client, "duty")
    page = client.get("/map", query_string={"at": typed})
    assert page.status_code == 200, page.text[:500]
    [shown] = re.findall(r'<p class="next">(.*?)</p>', page.text, re.DOTALL)
    latitude, longitude = map(float, re.match(r"Position (\S+), (\S+) = ", shown).groups())
    assert (latitude, longitude) == pytest.approx((54.412, 22.871), abs=2e-4), shown  # DMS: 1", MGRS: 10 m
    # A second of arc is about 30 m: typed as DMS, the position may fall in the next 10 m MGRS square.
    assert re.search(r"= 54°24&#39;43&#34;N 022°52&#39;16&#34;E = MGRS 34U FF 214\d 309\d · sector North", shown), shown
    assert Elements(page.text).with_class("g", "probe"), "the position is not marked on the map"


def test_a_position_that_cannot_be_read_is_answered_next_to_the_field(client, situation):
    sign_in(client, "duty")
    page = client.get("/map", query_string={"at": "somewhere north"})
    assert page.status_code == 422 and "give decimal degrees" in page.text, page.status_code
    assert Elements(page.text).with_class("svg", "map"), "the map is still drawn"
