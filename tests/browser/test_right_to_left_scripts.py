"""What the scripts write into a page isolates each name in it as the server's pages do (web/bidi.py): the filing
form's read-back of a position and of its sector (app.js), and the map's sector labels, popups, lists and found
position (map.js). Put in as plain text beside our words, a sector named in Hebrew or an exercise named in Arabic
drew the words, dots and commas around it into its right-to-left run."""

import json
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import QUICK
from tests.exercise_support import under_way
from tests.support import build_world, file_incident

pytestmark = pytest.mark.browser

COAST = "חוף"  # Hebrew: "coast", the region's Coast sector renamed
EXERCISE = "درع الشمال"  # Arabic: "northern shield"
STATE = "מדינת מזרח"  # Hebrew: "Eastern State"
BEYOND = "56.0, 22.5"  # in the Coast's waters beyond the maritime boundary

# How each text node holding the name stands: the tag of the element holding it and how that lays it out.
HOLDERS = """(root, name) => {
    const found = [];
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        if (node.data.includes(name)) {
            const holder = node.parentElement;
            found.push({tag: holder.tagName, alone: node.data === name, bidi: getComputedStyle(holder).unicodeBidi});
        }
    }
    return found;
}"""


@pytest.fixture
def app(make_app, tmp_path):
    """The app with the demo region's Coast sector named in Hebrew."""
    region = json.loads((Path(__file__).resolve().parents[2] / "config" / "region.geojson").read_text())
    for feature in region["features"]:
        if feature["properties"].get("name") == "Coast":
            feature["properties"]["name"] = COAST
    path = tmp_path / "region.geojson"
    path.write_text(json.dumps(region, ensure_ascii=False))
    return make_app(REGION_FILE=str(path), **QUICK)


def assert_isolated(locator, name: str) -> None:
    """The name is in the element, each time alone in a <bdi> laid out as an isolate."""
    holders = locator.evaluate(HOLDERS, name)
    assert holders, f"{name!r} is not in {locator}"
    assert all(h == {"tag": "BDI", "alone": True, "bidi": "isolate"} for h in holders), (name, holders)


def test_the_filing_forms_read_back_isolates_the_sector(app, sign_in):
    build_world(app)
    duty = sign_in("duty")
    page = duty.page
    page.goto("/incidents/new")
    page.get_by_role("textbox", name="Position (").fill(BEYOND)
    position, sector = page.locator('[data-hint-for="position"]'), page.locator('[data-hint-for="sector"]')
    expect(position).to_contain_text(f"beyond the border line, in the other side's part of sector {COAST}")
    assert_isolated(position, COAST)
    expect(sector).to_have_text(f"The position lies in {COAST}.")
    assert_isolated(sector, COAST)
    page.get_by_role("combobox", name="Sector").select_option("North")
    expect(sector).to_have_text(f"The position lies in {COAST}, not in North: routing takes the sector chosen here.")
    assert_isolated(sector, COAST)
    assert duty.page_errors == [], duty.page_errors


def test_the_map_isolates_sector_and_exercise_names_among_its_words(app, sign_in):
    world = build_world(app)
    reference = file_incident(app.test_client(), world, latitude=55.5, longitude=21.5, sector=...)["reference"]
    under_way(app, EXERCISE, [STATE, "Eastland"])
    duty = sign_in("duty")
    page = duty.page
    page.goto("/map")

    item = page.locator(f'ol.map-incidents li[data-reference="{reference}"]')
    expect(item.locator(".map-item-facts")).to_contain_text(f" · sector {COAST}")
    assert_isolated(item, COAST)
    beyond = page.locator(".map-label-beyond")
    expect(beyond).to_have_text(f"{COAST} (beyond the border)")
    assert_isolated(beyond, COAST)
    assert_isolated(page.locator(".map-label-sector:not(.map-label-beyond)", has_text=COAST), COAST)

    exercise = page.locator("ul.map-exercises li", has_text=EXERCISE)
    assert_isolated(exercise, EXERCISE)
    page.locator("#map path.map-exercise-running").hover()
    tooltip = page.locator(".leaflet-tooltip", has_text=EXERCISE)
    expect(tooltip).to_have_text(EXERCISE)
    assert_isolated(tooltip, EXERCISE)
    page.locator("#map path.map-exercise-running").click()
    popup = page.locator(".leaflet-popup-content")
    expect(popup).to_contain_text(f"Exercise under way · {STATE}, Eastland")
    assert_isolated(popup, EXERCISE)
    assert_isolated(popup, STATE)

    page.get_by_label("Find a position").fill(BEYOND)
    page.get_by_role("button", name="Find", exact=True).click()
    said = page.locator("#at-readback")
    expect(said).to_contain_text(f" · sector {COAST}")
    assert_isolated(said, COAST)
    assert duty.page_errors == [], duty.page_errors
