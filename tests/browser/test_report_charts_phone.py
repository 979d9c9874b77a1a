"""The after-action report's charts on a phone held upright (390 px): each chart spans the screen's width,
its labels and values drawn at a size one reads (11 px or more, none cut at the edge), and the tables with
the numbers still stand below. Screenshot: report-390.png."""

import pytest
from playwright.sync_api import expect

from tests.browser_support import sideways
from tests.report_fixture import insert_fixture
from tests.support import build_world

pytestmark = pytest.mark.browser

MEASURE = """svg => {
  const box = svg.getBoundingClientRect(), scale = box.width / svg.viewBox.baseVal.width;
  const cut = Array.from(svg.querySelectorAll("text")).filter(t => {
    const at = t.getBoundingClientRect();
    return at.left < box.left - 1 || at.right > box.right + 1;
  });
  return {
    width: box.width,
    font: scale * parseFloat(getComputedStyle(svg).fontSize),
    cut: cut.map(t => t.textContent),
  };
}"""


def test_report_charts_are_full_width_and_legible_on_a_phone(app, sign_in):
    insert_fixture(app, build_world(app))
    person = sign_in("supervisor", 390)
    page = person.page
    page.goto("/reports")
    charts = page.locator("figure.chart svg:visible")
    expect(charts).to_have_count(7)
    screen = page.viewport_size["width"]
    for n in range(7):
        drawn = charts.nth(n).evaluate(MEASURE)
        assert drawn["width"] >= screen - 60, f"chart {n} is {drawn['width']:.0f} px wide on a {screen} px screen"
        assert drawn["font"] >= 11, f"chart {n} writes its labels at {drawn['font']:.1f} px"
        assert drawn["cut"] == [], f"chart {n} cuts {drawn['cut']} at the edge"
    expect(page.locator("#times-by_channel")).to_be_visible()  # the numbers, below the charts
    assert sideways(page) <= 0
    person.screenshot("report-390")
    assert not person.page_errors, person.page_errors


def test_the_annual_reviews_title_reads_across_a_phone(app, sign_in):
    """The table shown as cards on a phone kept its caption a table caption, as wide as its first cell: 94 px, one
    word a line, 255 px tall."""
    world = build_world(app)
    insert_fixture(app, world)
    page = sign_in("supervisor", 390).page
    page.goto("/reports/review")
    caption = page.locator("#annual-review caption")
    expect(caption).to_be_visible()
    box = caption.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] < 80, box
