"""Every link, button and form control of every page is a target a finger finds on a phone (390 x 844): at least
24 x 24 CSS px (WCAG 2.2 SC 2.5.8, Target Size (Minimum)), or exempt as the SC exempts it (its spacing exception is
not taken: how far apart a card's links stand changes with the words in it):

- inline: a link in a sentence, whose height the line of text around it sets;
- a tick box or radio button counts with its label, which ticks it too (tests/browser/test_no_overflow.py).

The pages are those test_no_overflow.py visits (tests/browser/page_walk.py: every GET page of the web blueprints,
on the authorization matrix's scenes), each opened by a role that may see it, in PARTS tests.
"""

import pytest
from playwright.sync_api import Page

from tests.browser.conftest import SCREEN_HEIGHTS
from tests.browser.page_walk import sign_in_as
from tests.browser_support import styled

pytestmark = pytest.mark.browser

PHONE = 390
PARTS = 4
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


def small_targets(page: Page, path: str) -> list[str]:
    """Open the page; its targets under 24 px that stand in no sentence."""
    response = page.goto(path)
    assert response is not None and (response.ok or path.startswith("/links/")), (path, response)
    if path == "/map":  # its list of incidents is drawn from JSON the page asks for once loaded
        page.locator(".map-incidents li:not(.empty)").first.wait_for()
    return styled(page).evaluate(SMALL_TARGETS)


@pytest.mark.parametrize("part", range(PARTS), ids=lambda part: f"part{part + 1}of{PARTS}")
def test_every_target_of_every_page_is_24_px_or_exempt_on_a_phone(page_walk, browser, part):
    assert not page_walk.unknown, page_walk.unknown
    viewport = {"width": PHONE, "height": SCREEN_HEIGHTS[PHONE]}
    context = browser.new_context(base_url=page_walk.origin, viewport=viewport)
    page, viewer, problems = context.new_page(), None, []
    for who, path in page_walk.part(part, PARTS):
        if who != viewer:
            sign_in_as(page, who)
            viewer = who
        problems += [f"{path} ({who}): {target}" for target in small_targets(page, path)]
    context.close()
    assert not problems, f"{len(problems)} targets under 24 x 24 px at {PHONE} px:\n" + "\n".join(problems)
