"""No page of the web app scrolls sideways (issue 16), at a desktop width and a phone's (390x844), and no
column heading is squeezed until a word of it breaks across lines; nor is a tick box or radio button a target
under 24 px (WCAG 2.5.8), counting its label, which ticks it too.

Every GET route of the web blueprints is visited: those without arguments as they are, those with
arguments on things made for them by the authorization matrix's scenes (tests/functional/
test_authorization_matrix.py: an incident, an acknowledged one with an exchange over a counterpart
line and a call, a summary, an exercise of ours, a channel with a pending check, a policy, a rule,
a user, a watch and its handover, a one-click link), plus the incident page after a resolve and the
one-click link's answer page, and its page once used. Each page is opened by a role that may see it. A route
that is not a page (rows the pages refresh, JSON, downloads) is named in NOT_PAGES; a new route must be one or
the other, so no page escapes (tests/browser/page_walk.py). The walk at each width is cut into PARTS tests, each
in a browser context of its own that signs in once per role.
"""

import pytest
from playwright.sync_api import Page

from tests.browser.conftest import SCREEN_HEIGHTS
from tests.browser.page_walk import sign_in_as
from tests.browser_support import sideways
from tests.exercise_support import create
from tests.support import build_world, file_incident

pytestmark = pytest.mark.browser

WIDTHS = (1280, 390)
# The walk at each width in this many tests (tests/browser/page_walk.py), for pytest-xdist to spread.
PARTS = 4
# A table scrolling sideways inside its card does not widen the page but hides its right-hand side.
CLIPPED = """Array.from(document.querySelectorAll('.table-wrap'))
    .filter(wrap => wrap.scrollWidth > wrap.clientWidth + 1)
    .map(wrap => `${(wrap.querySelector('table') || wrap).className}: ${wrap.scrollWidth} px in ${wrap.clientWidth}`)"""
# A column heading squeezed until a word breaks across lines ("Recei/pts") reads as two words.
BROKEN_HEADINGS = r"""Array.from(document.querySelectorAll('th')).filter(th => th.offsetParent !== null).flatMap(th => {
    const broken = [];
    const walker = document.createTreeWalker(th, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        for (const match of node.data.matchAll(/[^\s\-\/]+/g)) {
            const range = document.createRange();
            range.setStart(node, match.index);
            range.setEnd(node, match.index + match[0].length);
            const rects = Array.from(range.getClientRects()).filter(r => r.width > 0);
            const tops = new Set(rects.map(r => Math.round(r.top)));
            if (tops.size > 1) broken.push(`"${match[0]}" in "${th.textContent.trim()}"`);
        }
    }
    return broken;
})"""

# A tick box with its labels, as big as a finger or pointer finds it: at least 24 x 24 px.
SMALL_CHOICES = """Array.from(document.querySelectorAll('input[type=checkbox], input[type=radio]'))
    .filter(input => input.offsetParent !== null).flatMap(input => {
        const boxes = [input, ...input.labels].map(e => e.getBoundingClientRect());
        const width = Math.max(...boxes.map(r => r.width)), height = Math.max(...boxes.map(r => r.height));
        const size = `${Math.round(width)} x ${Math.round(height)} px`;
        return width < 24 || height < 24 ? [`${input.name}=${input.value}: ${size}`] : [];
    })"""


def too_wide(page: Page, path: str, width: int) -> str | None:
    """Open the page; what is wrong with it at this width, or None."""
    response = page.goto(path)
    if response is None or not (response.ok or path.startswith("/links/")):  # a used link answers 409, a page
        return f"{path}: answered {response.status if response else 'nothing'}, not the page"
    if page.locator("main").count() == 0:
        return f"{path}: no <main>: not a page (name it in NOT_PAGES if it is meant not to be one)"
    return wider(page, path, width)


def wider(page: Page, what: str, width: int) -> str | None:
    """How much wider than the screen the page is, which tables scroll inside their cards, headings broken, tick
    boxes too small; None: none of these."""
    overflow, clipped, broken = sideways(page), page.evaluate(CLIPPED), page.evaluate(BROKEN_HEADINGS)
    small = page.evaluate(SMALL_CHOICES)
    problems = [f"{width + overflow} px wide"] if overflow > 0 else []
    problems += [f"table {table} scrolls sideways" for table in clipped]
    problems += [f"heading word broken across lines: {word}" for word in broken]
    problems += [f"tick box under 24 px: {choice}" for choice in small]
    return f"{what}: {'; '.join(problems)}" if problems else None


@pytest.mark.parametrize("part", range(PARTS), ids=lambda part: f"part{part + 1}of{PARTS}")
@pytest.mark.parametrize("width", WIDTHS, ids=lambda width: f"{width}px")
def test_no_page_scrolls_sideways_at_either_width(page_walk, browser, width, part):
    unknown = page_walk.unknown
    assert not unknown, f"GET routes this test cannot open (fill them in path_values or NOT_PAGES): {unknown}"
    visits, problems = page_walk.part(part, PARTS), []
    context = browser.new_context(base_url=page_walk.origin, viewport={"width": width, "height": SCREEN_HEIGHTS[width]})
    page, viewer = context.new_page(), None
    for who, path in visits:
        if who != viewer:
            sign_in_as(page, who)
            viewer = who
        problems.append((who, too_wide(page, path, width)))
        if path.startswith("/links/ack/") and page.locator("form button").count():
            with page.expect_navigation():
                page.locator("form button").first.click()
            problems.append((who, wider(page, f"{path} answered", width)))
            problems.append((who, too_wide(page, path, width)))  # the link once used: its 409 page
    context.close()
    offending = [f"{who} at {width} px: {problem}" for who, problem in problems if problem]
    assert not offending, f"{len(offending)} of {len(problems)} pages scroll sideways or did not open:\n" + "\n".join(
        offending
    )


# Words longer than a phone is wide, as staff paste them: a link, a unit or a desk written without spaces.
LINK = "https://imagery.mil.example/tracks/2026/12/06/north-sector/radar-replay-0915Z-fighter-closing-to-30m.mp4"
UNIT = "NATIONAL-OPERATIONS-CENTRE/2ND-AIR-DEFENCE-SQUADRON/QRA-FLIGHT-NORTH"


def test_a_long_word_typed_into_a_page_breaks_instead_of_widening_it_on_a_phone(app, sign_in):
    """A narrative with a pasted link, a unit, a platform, a comment, a desk, an exercise's name and notes
    without spaces made the incident page, its print and amend form, the watch page and the exercise page
    scroll sideways at 390 px (the incident page by 6,000 px): each breaks inside the word now."""
    world = build_world(app)
    client = app.test_client()
    platform = {"kind": "fighter aircraft", "nationality": "Eastland", "type": UNIT[:60], "callsign": UNIT[:60]}
    reference = file_incident(
        client, world, reporting_unit=UNIT, narrative=f"Replay: {LINK}", actions_taken=LINK, platforms=[platform]
    )["reference"]
    said = client.post(f"/api/v1/incidents/{reference}/comments", json={"text": LINK}, headers=world.auth("duty"))
    watch = client.post("/api/v1/watches", json={"desk": UNIT}, headers=world.auth("duty"))
    logged = client.post(
        f"/api/v1/watches/{watch.get_json()['id']}/entries", json={"text": LINK}, headers=world.auth("duty")
    )
    exercise = create(client, world, name=UNIT, notes=LINK)
    assert (said.status_code, watch.status_code, logged.status_code) == (201, 201, 201), said.text + watch.text
    page = sign_in("supervisor", 390).page
    problems = []
    for path in (
        f"/incidents/{reference}",
        f"/incidents/{reference}/print",
        f"/incidents/{reference}/amend",
        f"/watches/{watch.get_json()['id']}",
        f"/exercises/{exercise['id']}",
        "/board",
        "/watches/",
        "/exercises/",
    ):
        page.goto(path)
        problems.append(wider(page, path, 390))
    assert not [p for p in problems if p], "\n".join(p for p in problems if p)
