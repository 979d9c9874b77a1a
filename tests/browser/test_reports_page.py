"""The after-action report as a supervisor sees it: charts drawn by the app, nothing from outside,
filters that narrow it, export links that download; screenshots of the report and a printed incident."""

import csv
import io
import re

import pytest
from playwright.sync_api import expect

from tests.browser_support import sideways
from tests.report_fixture import insert_fixture, reference
from tests.support import build_world

pytestmark = pytest.mark.browser


def test_supervisor_reads_the_report_filters_it_and_exports(app, sign_in):
    insert_fixture(app, build_world(app))
    person = sign_in("supervisor")
    page = person.page
    page.get_by_role("link", name="Reports").click()
    expect(page.get_by_role("heading", name="After-action report")).to_be_visible()
    charts = page.locator("figure.chart svg:visible")  # the wide drawing of each (a phone's is hidden)
    expect(charts).to_have_count(7)
    for box in (charts.nth(i).bounding_box() for i in range(7)):
        assert box and box["width"] > 300 and box["height"] > 60, f"a chart drawn too small: {box}"
    table = page.locator("#times-by_channel")
    expect(table.get_by_role("row", name="Other desk")).to_contain_text("25 min")  # E: 1500 s
    drawn = page.screenshot()  # the screen as it is, in memory
    assert len(drawn) > 10_000, f"the report's screen is a PNG of {len(drawn)} bytes: it looks empty"
    person.screenshot("report")

    page.get_by_label("Z Flash").check()
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"/reports\?.*precedence=Z"))
    expect(page.locator("p.summary")).to_contain_text("4 incidents reported")
    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    saved = download.value.path().read_bytes()
    assert saved.startswith(b"\xef\xbb\xbf"), "a UTF-8 byte-order mark, so that Excel reads the file as UTF-8"
    marking, table = saved.decode("utf-8-sig").split("\n", 1)
    assert marking.startswith("MARKING: "), "the file's marking stands on its first line"
    rows = list(csv.DictReader(io.StringIO(table)))
    assert [r["reference"] for r in rows] == [reference(x) for x in "ABCD"], "the export carries the filter"
    assert person.foreign_requests() == [] and person.page_errors == [], (person.foreign_requests(), person.page_errors)


def test_printed_incident_leaves_the_navigation_off_the_paper(app, sign_in):
    insert_fixture(app, build_world(app))
    person = sign_in("duty")
    page = person.page
    page.goto(f"/incidents/{reference('A')}")
    page.get_by_role("link", name="Print").click()
    # filed, routed, acknowledged, resolved, and the reply deadline its exchange X2 let pass
    expect(page.locator("table.print-timeline tbody tr")).to_have_count(5)
    page.emulate_media(media="print")
    expect(page.locator("header.top")).to_be_hidden()
    expect(page.locator("table.print-timeline")).to_be_visible()
    person.screenshot("incident-print")


def test_a_refused_filter_says_why_within_a_phone_screen(app, sign_in):
    build_world(app)
    person = sign_in("supervisor", width=390)
    page = person.page
    page.goto("/reports?domain=air&category=laser")  # the list of the domain's categories is long codes
    expect(page.locator("small.error")).to_contain_text("laser is not a category of the air domain")
    assert sideways(page) <= 0, "the problem beside the category pushed the page sideways"
