"""Every page runs under the Content-Security-Policy without a violation, Swagger UI included."""

import pytest
from playwright.sync_api import expect

from tests.support import build_world, file_incident

pytestmark = pytest.mark.browser

PAGES = ["/", "/queue", "/map", "/reports", "/exercises", "/incidents/new", "/admin/channels"]


def test_pages_and_the_api_docs_run_without_a_policy_violation(app, sign_in):
    world = build_world(app)
    reference = file_incident(app.test_client(), world)["reference"]
    admin = sign_in("admin")
    page = admin.page
    violations: list[str] = []
    page.on("console", lambda message: "Content Security Policy" in message.text and violations.append(message.text))
    page.on("pageerror", lambda error: violations.append(f"page error: {error}"))
    for path in [*PAGES, f"/incidents/{reference}", f"/incidents/{reference}/print"]:
        answer = page.goto(path)
        assert answer is not None and answer.status == 200, f"{path}: {answer and answer.status}"
        page.wait_for_load_state("networkidle")
        assert not violations, f"{path}: {violations}"
    page.goto("/api/v1/docs")
    expect(page.locator(".opblock").first).to_be_visible(timeout=15_000)
    assert page.locator(".opblock").count() > 20, "Swagger UI should list the API's operations"
    assert not violations, f"/api/v1/docs: {violations}"
    admin.screenshot("api-docs-under-csp")
