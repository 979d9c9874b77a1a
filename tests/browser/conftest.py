"""Browser fixtures: the app under a real WSGI server on a free local port, the real scheduler,
Debian's headless Chromium (never a downloaded browser), and people signed in, each in a browser
context of their own (own cookies), with every request their pages made on record.

pytest-playwright was looked at: launching Debian's Chromium with these arguments and giving
several people a context each would mean overriding most of its fixtures, so these few are ours.
"""

import contextlib
import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import BrowserContext, Page, expect, sync_playwright
from playwright.sync_api import Error as PlaywrightError
from werkzeug.serving import WSGIRequestHandler, make_server

from tests.browser.page_walk import Walk, pages, prepared
from tests.conftest import app_config
from tracker import create_app
from tracker.db import engine_of

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
# Screenshots for reviewers and the README are taken when asked (`make screenshots`): a full-page one costs
# Chromium 0.5-1.5 s of CPU, a fifth of what the browser tests cost when every run took them.
SAVE_SCREENSHOTS = os.environ.get("TRACKER_TEST_SCREENSHOTS", "") not in ("", "0")
SCREEN_HEIGHTS = {1280: 800, 390: 844}  # a desktop screen and a phone held upright

expect.set_options(timeout=10_000)


class Person:
    """One person's browser: a context with its own cookies, and what its pages asked for."""

    def __init__(self, context: BrowserContext, origin: str):
        self.context = context
        self.origin = origin
        self.requests: list[str] = []
        self.page_errors: list[str] = []
        self.page = self.new_tab()

    def new_tab(self) -> Page:
        """Open another tab in this person's browser; its requests are recorded too."""
        page = self.context.new_page()
        page.on("request", lambda request: self.requests.append(request.url))
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        return page

    def foreign_requests(self) -> list[str]:
        """Every recorded request that did not go to the app's own origin."""
        return [url for url in self.requests if _origin(url) != self.origin]

    def csrf_token(self, page: Page | None = None) -> str:
        """The CSRF token of the page's first form, as a script on that page could read it."""
        return (page or self.page).locator("input[name=csrf_token]").first.input_value()

    def screenshot(self, name: str, page: Page | None = None) -> None:
        """Save a full-page screenshot as tests/browser/screenshots/<name>.png, when asked (SAVE_SCREENSHOTS)."""
        if SAVE_SCREENSHOTS:
            SCREENSHOTS.mkdir(exist_ok=True)
            (page or self.page).screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, headless, for the whole session."""
    if not CHROMIUM.exists():
        pytest.skip(
            f"browser tests need Debian's chromium at {CHROMIUM} (`make test` installs it with apt-get; "
            "no browser is ever downloaded)"
        )
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


# A sweep, delivery and pages' refresh quick enough to watch: many tests wait for a refresh to bring what changed,
# which took 1.5 s on average at the pages' 3 s.
QUICK = {"SWEEP_INTERVAL_SECONDS": 0.3, "DELIVERY_INTERVAL_SECONDS": 0.3, "LIVE_REFRESH_SECONDS": 0.5}


@pytest.fixture
def app(make_app):
    """The app on this test's database, its clocks QUICK."""
    return make_app(**QUICK)


def _closed_before_serving(app):
    """Hand werkzeug's server each response already read and closed.

    When a browser resets a connection while the server drains the request after the response,
    werkzeug 3.1's `run_wsgi` raises out of its `finally` before it closes the response: a static
    file's handle is left to the garbage collector, whose ResourceWarning then fails whichever test
    happens to be running (warnings are errors). The app streams nothing, so reading the body here
    costs nothing and closes the file in every case.
    """

    def wsgi(environ, start_response):
        body = app(environ, start_response)
        try:
            return [b"".join(body)]
        finally:
            if hasattr(body, "close"):
                body.close()

    return wsgi


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Note on the test whether its call passed (open_browser keeps its contexts only then)."""
    outcome = yield
    if call.when == "call":
        item._call_passed = outcome.get_result().passed


class _Serving:
    """The WSGI app of the worker's one server: the running test's app, or 503 between tests."""

    def __init__(self):
        self.app = None

    def __call__(self, environ, start_response):
        app = self.app
        if app is None:
            start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
            return [b"no browser test is running"]
        return app(environ, start_response)


class _Unlogged(WSGIRequestHandler):
    """The browser tests' server logs nothing: it outlives them in the worker, and a connection Chromium ends
    late was logged (werkzeug's logger) into whichever test ran then, which failed a test counting log records."""

    def log(self, type: str, message: str, *args) -> None:
        pass


@pytest.fixture(scope="session")
def _server() -> Iterator[tuple[str, _Serving]]:
    """Werkzeug's threaded WSGI server on a free local port, for the worker's browser tests one after another:
    the origin stays the same, so the browser contexts made for one test serve the next (open_browser)."""
    serving = _Serving()
    server = make_server("127.0.0.1", 0, serving, threaded=True, request_handler=_Unlogged)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", serving
    server.shutdown()
    thread.join(timeout=5)
    server.server_close()


@pytest.fixture
def live_server(app, _server) -> Iterator[str]:
    """Serve the app (werkzeug's threaded WSGI server on a local port); yield its origin."""
    origin, serving = _server
    app.config["PUBLIC_URL"] = origin  # links in messages point at this server
    serving.app = _closed_before_serving(app)
    yield origin
    serving.app = None


@pytest.fixture(scope="session")
def _walk(browser, _server, sqlite_database, tmp_path_factory) -> Iterator[Walk]:
    """The page walk's scene (tests/browser/page_walk.py), made once for the worker's walks on an app and a SQLite
    file of its own: a walk only looks, but for the one-click link each walk uses, of its own (Walk.part).
    Sign-in is not rate-limited here: every part of every walk signs in through the form."""
    origin = _server[0]
    directory = tmp_path_factory.mktemp("walk")
    url = sqlite_database.copy("empty", directory / "tracker.db")
    limits = dict.fromkeys(("SIGNIN_PER_ADDRESS", "SIGNIN_PER_ACCOUNT"), 1_000_000)
    app = create_app(app_config(directory / "outbox", DATABASE_URL=url, PUBLIC_URL=origin, **limits))
    scene = prepared(app)
    yield Walk(scene, *pages(app, scene), origin)
    engine_of(app).dispose()


@pytest.fixture
def page_walk(_walk, _server) -> Iterator[Walk]:
    """The worker's page walk, its app served for this test (live_server's part, on the walk's own app)."""
    serving = _server[1]
    serving.app = _closed_before_serving(_walk.scene.app)
    yield _walk
    serving.app = None


@pytest.fixture(scope="session")
def _contexts(browser) -> Iterator[dict[int, list[tuple[BrowserContext, Page]]]]:
    """Browser contexts not in use, by screen width, each with a page kept open on the app's icon.

    Chromium started a renderer process for each person's first page: a new context cost about 0.35 s of its
    CPU with that page and two loads, a kept context whose open page keeps the site's renderer process running
    about 0.22 s (measured; a kept context without that page saved nothing). A context is cleaned and kept after each
    test (open_browser) rather than closed; the kept page shows the icon, runs no script and asks nothing."""
    idle: dict[int, list[tuple[BrowserContext, Page]]] = {}
    yield idle
    for kept in idle.values():
        for context, _ in kept:
            context.close()


def _cleaned(context: BrowserContext, keeper: Page, origin: str) -> bool:
    """Leave the context as a new one but for its kept page: no other page, and nothing kept for the origin
    (cookies, local storage, the HTTP cache...). False when that could not be done (the context is then
    closed, not kept)."""
    try:
        for page in context.pages:
            if page != keeper:
                page.close()
        devtools = context.new_cdp_session(keeper)
        devtools.send("Storage.clearDataForOrigin", {"origin": origin, "storageTypes": "all"})
        devtools.send("Network.clearBrowserCache")
        devtools.detach()
        context.clear_cookies()
        context.set_default_timeout(10_000)
    except PlaywrightError:
        return False
    return context.pages == [keeper]


@pytest.fixture
def open_browser(request, browser, live_server, _contexts):
    """Open a new browser context (another person's browser) at the given width, not signed in: one made for
    an earlier test and cleaned (_contexts, _cleaned), or a new one. A test that failed closes its contexts:
    a renderer it left stuck would be the kept page's, shared with the next test's pages."""
    taken: list[tuple[int, BrowserContext, Page]] = []

    def open_(width: int = 1280) -> Person:
        idle = _contexts.setdefault(width, [])
        if idle:
            context, keeper = idle.pop()
        else:
            context = browser.new_context(
                base_url=live_server, viewport={"width": width, "height": SCREEN_HEIGHTS.get(width, 800)}
            )
            context.set_default_timeout(10_000)
            keeper = context.new_page()
            keeper.goto("/static/favicon.svg")
        taken.append((width, context, keeper))
        return Person(context, live_server)

    yield open_
    passed = getattr(request.node, "_call_passed", False)  # a failed test's renderer may be what failed
    for width, context, keeper in taken:
        if passed and _cleaned(context, keeper, live_server):
            _contexts[width].append((context, keeper))
        else:
            with contextlib.suppress(PlaywrightError):
                context.close()


# Where sign-in lands a role other than on the board itself (web/board.py landing).
LANDING = {"liaison": "/queue", "outsider": "/queue", "admin": "/admin/channels"}


@pytest.fixture
def sign_in(app, open_browser, live_server):
    """Open a new browser context signed in as username (password "<username>-password"), on the board.

    By default the sign-in form is filled in by the app's test client, in this process, and the browser is
    given the session cookie it got (a page load and a form post fewer in Chromium for each person, which
    were a fifth of the browser tests' navigations); the session is the same server-side row, checked on
    every request. through_form=True fills the form in the browser, for a test that looks at that page
    (test_pages.py; the sign-in's answers have functional tests of their own)."""

    def sign_in_(username: str, width: int = 1280, through_form: bool = False) -> Person:
        person = open_browser(width)
        page = person.page
        if through_form:
            page.goto("/signin")
            page.get_by_label("Username").fill(username)
            page.get_by_label("Password").fill(f"{username}-password")
            page.get_by_role("button", name="Sign in").click()
            expect(page).to_have_url(f"{live_server}{LANDING.get(username, '/')}")  # each role's own page
        else:
            person.context.add_cookies([_session_cookie(app, username, live_server)])
        if through_form and username not in LANDING:
            return person
        page.goto("/board" if username in LANDING else "/")  # every role starts from the board
        return person

    return sign_in_


def _session_cookie(app, username: str, origin: str) -> dict:
    """The session cookie signing in as username through the form gives, for the browser at origin."""
    client = app.test_client()
    form = client.get("/signin").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form)
    assert token, f"no CSRF token on the sign-in page:\n{form[:2000]}"
    answer = client.post(
        "/signin", data={"csrf_token": token[1], "username": username, "password": f"{username}-password"}
    )
    assert answer.status_code == 302, (
        f"{username} could not sign in: {answer.status_code} {answer.get_data(True)[:500]}"
    )
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None, f"signing in as {username} set no session cookie: {answer.headers}"
    same_site = (cookie.same_site or "Lax").capitalize()
    return {
        "name": cookie.key,
        "value": cookie.value,
        "url": origin,
        "httpOnly": cookie.http_only,
        "sameSite": same_site,
    }
