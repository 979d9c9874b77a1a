"""What the browser tests measure of a page's layout and style, once its stylesheets have come."""

from playwright.sync_api import Page


def styled(page: Page) -> Page:
    """The page after its load event. A page reached by a click or a form has its DOM before its stylesheets (each
    one a conditional request), so a test waiting for an element can find it unstyled: laid out without them,
    My queue was 543 px wide at 390 (a CI run), and an empty list still numbered."""
    page.wait_for_load_state("load")
    return page


def sideways(page: Page) -> int:
    """How many pixels the page scrolls sideways (0 or less: it does not), measured once it is styled."""
    return styled(page).evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


# Settles once static/live.js has put a refresh's fresh HTML into the page (its tracker:updated event).
NEXT_REFRESH = """() => new Promise((resolve, reject) => {
    document.addEventListener("tracker:updated", () => resolve(), {once: true});
    setTimeout(() => reject(new Error("no live refresh was put into the page within 10 s")), 10000);
})"""


def a_refresh(page: Page) -> None:
    """Wait until the page's live refresh has come and gone: fresh HTML fetched and put in (static/live.js), after
    this call. A poll answered 304 (nothing changed) puts nothing in and does not count; a page holding a row or form
    (typed in, or refused) asks for all of it again each time, so there the next poll counts."""
    page.evaluate(NEXT_REFRESH)
