"""Every page runs under the Content-Security-Policy without a violation, Swagger UI included.

The pages in three tests and the API docs in a fourth, for pytest-xdist to spread: each page waits for the network
to be idle, and walked in one test the pages and the docs kept one worker 15 s in CI. Not a test a page: each test
signs in and loads the board first, and ten of them took half as much CPU again as one."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import QUICK
from tests.support import file_incident

pytestmark = pytest.mark.browser


@pytest.fixture
def app(make_app):
    """The browser tests' app, but for the pages' refresh, at its default (3 s): each page here waits for the network
    to be idle (500 ms without a request), which a page asking every 0.5 s never is."""
    return make_app(**{key: value for key, value in QUICK.items() if key != "LIVE_REFRESH_SECONDS"})


PAGES = {
    "board-queue-map": ["/", "/queue", "/map"],
    "reports-exercises-forms": ["/reports", "/exercises", "/incidents/new", "/admin/channels"],
    "an-incident": ["/incidents/{reference}", "/incidents/{reference}/print"],
}


def watched(person) -> list[str]:
    """What the person's page reports of a policy violation, or a script error, from now on."""
    violations: list[str] = []
    page = person.page
    page.on("console", lambda message: "Content Security Policy" in message.text and violations.append(message.text))
    page.on("pageerror", lambda error: violations.append(f"page error: {error}"))
    return violations


@pytest.mark.parametrize("group", PAGES)
def test_pages_run_without_a_policy_violation(app, world, sign_in, group):
    paths = PAGES[group]
    if any("{reference}" in path for path in paths):
        reference = file_incident(app.test_client(), world)["reference"]
        paths = [path.format(reference=reference) for path in paths]
    admin = sign_in("admin")
    violations = watched(admin)
    for path in paths:
        answer = admin.page.goto(path)
        assert answer is not None and answer.status == 200, f"{path}: {answer and answer.status}"
        admin.page.wait_for_load_state("networkidle")
        assert not violations, f"{path}: {violations}"


def test_the_api_docs_run_without_a_policy_violation(app, world, sign_in):
    admin = sign_in("admin")
    violations = watched(admin)
    page = admin.page
    page.goto("/api/v1/docs")
    expect(page.locator(".opblock").first).to_be_visible(timeout=15_000)
    assert page.locator(".opblock").count() > 20, "Swagger UI should list the API's operations"
    assert not violations, f"/api/v1/docs: {violations}"
    admin.screenshot("api-docs-under-csp")
