"""Every page of the web app walked (tests/browser/page_walk.py) at a desktop width and a phone's (390x844), one page
load for every check made at that width:

- at both widths, no page scrolls sideways (issue 16), no table scrolls sideways inside its card, no column heading
  is squeezed until a word of it breaks across lines, and no tick box or radio button is a target under 24 px
  (WCAG 2.5.8), counting its label, which ticks it too;
- at 390 px, every link, button and form control is a target a finger finds: at least 24 x 24 CSS px (WCAG 2.2
  SC 2.5.8, Target Size (Minimum)), or exempt as the SC exempts it (its spacing exception is not taken: how far
  apart a card's links stand changes with the words in it): inline, a link in a sentence, whose height the line of
  text around it sets; a tick box or radio button counts with its label.

Every GET route of the web blueprints is visited: those without arguments as they are, those with
arguments on things made for them by the authorization matrix's scenes (tests/functional/
test_authorization_matrix.py: an incident, an acknowledged one with an exchange over a counterpart
line and a call, a summary, an exercise of ours, a channel with a pending check, a policy, a rule,
a user, a watch and its handover, a one-click link), plus the incident page after a resolve and the
one-click link's answer page, and its page once used. Each page is opened by a role that may see it. A route
that is not a page (rows the pages refresh, JSON, downloads) is named in NOT_PAGES; a new route must be one or
the other, so no page escapes (tests/browser/page_walk.py). The walk at each width is cut into PARTS tests, each
in a browser context of its own that signs in once per role.

A long word typed into the pages is tried at 390 px in a test of its own, below.
"""

import pytest
from playwright.sync_api import Page

from tests.browser.conftest import SCREEN_HEIGHTS
from tests.browser.page_walk import sign_in_as
from tests.browser_support import sideways, styled
from tests.exercise_support import create
from tests.support import build_world, file_incident

pytestmark = pytest.mark.browser

PHONE = 390
WIDTHS = (1280, PHONE)
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


# What is tapped: links, buttons, the controls of forms and the headings that fold a part open.
TARGETS = "a[href], button, input:not([type=hidden]), select, textarea, summary, [role=button], [tabindex]"
SMALL_TARGETS = r"""(() => {
  const MIN = 24;
  const shown = el => {
    const style = getComputedStyle(el), box = el.getBoundingClientRect();
    return style.visibility !== 'hidden' && box.width > 0 && box.height > 0 && box.right > 0 && box.bottom > 0
      && (el.offsetParent !== null || style.position === 'fixed');
  };
  const box = el => {  // a tick box and its labels are one target
    const tick = el.labels && /checkbox|radio/.test(el.type);
    const boxes = [el, ...(tick ? el.labels : [])].map(e => e.getBoundingClientRect());
    const left = Math.min(...boxes.map(b => b.left)), top = Math.min(...boxes.map(b => b.top));
    const right = Math.max(...boxes.map(b => b.right)), bottom = Math.max(...boxes.map(b => b.bottom));
    return {width: right - left, height: bottom - top};
  };
  // In a sentence: laid out inline, with text around it that is no part of it (the SC's inline exception).
  const inSentence = el => {
    if (getComputedStyle(el).display !== 'inline') return false;
    let block = el.parentElement;
    while (block && getComputedStyle(block).display.startsWith('inline')) block = block.parentElement;
    const around = (block ? block.textContent : '').replace(el.textContent, '');
    return /[A-Za-z0-9]{2}/.test(around);
  };
  const small = Array.from(document.querySelectorAll(TARGETS)).filter(shown)
    .map(el => ({el, box: box(el)}))
    .filter(t => (t.box.width < MIN - 0.5 || t.box.height < MIN - 0.5) && !inSentence(t.el));
  const classes = e => e.className ? '.' + String(e.className).trim().split(/\s+/).join('.') : '';
  const named = el => {
    const text = (el.getAttribute('aria-label') || el.textContent || el.value || el.name || '').trim()
      .replace(/\s+/g, ' ').slice(0, 40);
    const where = [el.parentElement.parentElement, el.parentElement].filter(Boolean)
      .map(e => e.tagName.toLowerCase() + classes(e)).join(' > ');
    return `<${el.tagName.toLowerCase()}${el.type ? ' ' + el.type : ''}> "${text}" in ${where}`;
  };
  return small.map(t => `${named(t.el)}: ${Math.round(t.box.width)} x ${Math.round(t.box.height)} px`);
})()""".replace("TARGETS", repr(TARGETS))


def opened(page: Page, path: str) -> str | None:
    """Open the page and let it be drawn whole; None, or why it is not the page."""
    response = page.goto(path)
    if response is None or not (response.ok or path.startswith("/links/")):  # a used link answers 409, a page
        return f"{path}: answered {response.status if response else 'nothing'}, not the page"
    if page.locator("main").count() == 0:
        return f"{path}: no <main>: not a page (name it in NOT_PAGES if it is meant not to be one)"
    if path == "/map":  # its list of incidents is drawn from JSON the page asks for once loaded
        page.locator(".map-incidents li:not(.empty)").first.wait_for()
    return None


def small_targets(page: Page) -> list[str]:
    """The page's targets under 24 px that stand in no sentence, measured once it is styled."""
    return styled(page).evaluate(SMALL_TARGETS)


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
def test_every_page_fits_the_screen_and_on_a_phone_its_targets_a_finger(page_walk, browser, width, part):
    unknown = page_walk.unknown
    assert not unknown, f"GET routes this test cannot open (fill them in path_values or NOT_PAGES): {unknown}"
    visits, problems, small = page_walk.part(part, PARTS), [], []
    context = browser.new_context(base_url=page_walk.origin, viewport={"width": width, "height": SCREEN_HEIGHTS[width]})
    page, viewer = context.new_page(), None

    def look(who: str, path: str, what: str, go: bool = True) -> None:
        """Open the page (unless go is False: it is open), named what: what is wrong with it at this width, and on a
        phone its small targets."""
        if go and (not_the_page := opened(page, path)):
            problems.append((who, not_the_page))
            return
        problems.append((who, wider(page, what, width)))
        if width == PHONE:
            small.extend(f"{what} ({who}): {target}" for target in small_targets(page))

    for who, path in visits:
        if who != viewer:
            sign_in_as(page, who)
            viewer = who
        look(who, path, path)
        if path.startswith("/links/ack/") and page.locator("form button").count():
            with page.expect_navigation():
                page.locator("form button").first.click()
            look(who, path, f"{path} answered", go=False)
            look(who, path, path)  # the link once used: its 409 page
    context.close()
    offending = [f"{who} at {width} px: {problem}" for who, problem in problems if problem]
    said = (
        [f"{len(offending)} of {len(problems)} pages scroll sideways or did not open:", *offending] if offending else []
    )
    said += [f"{len(small)} targets under 24 x 24 px at {PHONE} px:", *small] if small else []
    assert not said, "\n".join(said)


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
