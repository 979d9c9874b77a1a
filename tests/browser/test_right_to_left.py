"""A sector named in Arabic keeps the rest of its line in place (web/bidi.py): on the board its cell lays it out as
an isolate, and on the incident page the distance from the border stays after it. Unisolated, Unicode's
bidirectional algorithm took the number that follows an Arabic word for part of the Arabic run: "32.3 · <sector>
km from the border"."""

import pytest
from playwright.sync_api import expect

from tests.support import build_world, file_incident, name_a_sector

pytestmark = pytest.mark.browser

SECTOR = "قطاع الشمال"  # Arabic: "the northern sector"

# How the element holding the sector in the incident's row lays it out. The row is found in the script: the board's
# refresh (every 0.5 s here) may replace it between a locator's finding it and a script's reading it, and a row
# no longer in the page has no computed style (empty strings).
SECTOR_STYLE = """([reference, sector]) => {
    const row = document.querySelector(`tr[data-reference="${reference}"]`);
    const walker = document.createTreeWalker(row, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        if (node.data.includes(sector)) {
            const style = getComputedStyle(node.parentElement);
            return {unicodeBidi: style.unicodeBidi, direction: style.direction};
        }
    }
    return null;
}"""
# The on-screen boxes of the sector's characters and of the distance's number, in the Sector fact.
SECTOR_AND_DISTANCE = """(facts, sector) => {
    const box = (node, start, end) => {
        const range = document.createRange();
        range.setStart(node, start);
        range.setEnd(node, end);
        const rects = Array.from(range.getClientRects()).filter(r => r.width > 0);
        return {left: Math.min(...rects.map(r => r.left)), right: Math.max(...rects.map(r => r.right)),
                top: Math.min(...rects.map(r => r.top)), bottom: Math.max(...rects.map(r => r.bottom))};
    };
    const found = {};
    const walker = document.createTreeWalker(facts, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const at = node.data.indexOf(sector);
        if (at >= 0 && !found.sector) found.sector = box(node, at, at + sector.length);
        const number = node.data.match(/\\d+\\.\\d(?= km from the border)/);
        if (number && !found.distance) found.distance = box(node, number.index, number.index + number[0].length);
    }
    return found;
}"""

# Where the cell's element of each row stands, left to right (None: no such element).
PLACES = """([cell, ...references]) => references.map(reference => {
    const found = document.querySelector(`tr[data-reference="${reference}"] ${cell}`);
    return found ? found.getBoundingClientRect().x : null;
})"""


def test_an_arabic_sector_leaves_the_row_and_the_distance_from_the_border_in_place(app, sign_in):
    world = build_world(app)
    name_a_sector(app, world, SECTOR, "Northern sector, Arabic")
    client = app.test_client()
    arabic = file_incident(client, world, sector=SECTOR)["reference"]
    latin = file_incident(client, world)["reference"]  # sector North, the same place and ladder
    duty = sign_in("duty")
    page = duty.page
    page.goto("/board")
    rows = {reference: page.locator(f'tr[data-reference="{reference}"]') for reference in (arabic, latin)}
    expect(rows[arabic]).to_contain_text(SECTOR)

    style = page.evaluate(SECTOR_STYLE, [arabic, SECTOR])
    assert style == {"unicodeBidi": "isolate", "direction": "rtl"}, f"the sector in the board row is laid out {style}"
    for cell in ("td:first-child a", "time.countdown"):  # the reference and the countdown: where the other row has them
        # Both measured in one script: the board's refresh (every 0.5 s here) may replace a row between two calls.
        places = page.evaluate(PLACES, [cell, arabic, latin])
        assert None not in places and abs(places[0] - places[1]) < 1, (cell, arabic, latin, places)

    page.goto(f"/incidents/{arabic}")
    facts = page.locator('dl[data-live="facts"]')
    expect(facts).to_contain_text("km from the border")
    found = facts.evaluate(SECTOR_AND_DISTANCE, SECTOR)
    assert {"sector", "distance"} <= found.keys(), found
    sector, distance = found["sector"], found["distance"]
    # After it on its line, or on a line below (the fact may wrap where the facts' column is narrow: its width
    # follows the other facts, a countdown among them).
    after = distance["top"] >= sector["bottom"] - 1 or distance["left"] >= sector["right"]
    assert after, f"the distance from the border stands before the sector it follows: {found}"
    assert not duty.page_errors, duty.page_errors


# Where each line of the narrative starts and ends, against its paragraph's box, measured in one script.
LINE_SIDES = """(p) => {
  const box = p.getBoundingClientRect(), text = p.firstChild.textContent, sides = {};
  for (const word of ["مرحبا", "Корабль", "https"]) {
    const at = text.indexOf(word), range = document.createRange();
    range.setStart(p.firstChild, at); range.setEnd(p.firstChild, at + word.length);
    const r = range.getBoundingClientRect();
    sides[word] = {left: r.left - box.left, right: box.right - r.right};
  }
  return sides;
}"""


def test_each_line_of_a_narrative_takes_its_own_direction(app, sign_in):
    """A narrative of an Arabic line, then a Russian one and a link: the whole block took the first line's direction,
    and the Russian line read right to left, its full stop first (".Корабль подошёл на 300 м")."""
    world = build_world(app)
    narrative = "مرحبا، طائرة بدون طيار\nКорабль подошёл на 300 м.\nhttps://example.test/report/7"
    reference = file_incident(app.test_client(), world, narrative=narrative)["reference"]
    duty = sign_in("duty", 390)
    page = duty.page
    page.goto(f"/incidents/{reference}")
    paragraph = page.locator("p.narrative").first
    expect(paragraph).to_contain_text("Корабль")
    sides = paragraph.evaluate(LINE_SIDES)
    assert sides["مرحبا"]["right"] < 2, f"the Arabic line starts at the right: {sides}"
    for word in ("Корабль", "https"):
        assert sides[word]["left"] < 2, f"the {word} line starts at the left, left to right: {sides}"
    assert not duty.page_errors, duty.page_errors
