"""No page of the web app scrolls sideways (issue 16), at a desktop width and a phone's (390x844), and no
column heading is squeezed until a word of it breaks across lines; nor is a tick box or radio button a target
under 24 px (WCAG 2.5.8), counting its label, which ticks it too.

Every GET route of the web blueprints is visited: those without arguments as they are, those with
arguments on things made for them by the authorization matrix's scenes (tests/functional/
test_authorization_matrix.py: an incident, an acknowledged one with an exchange over a counterpart
line and a call, a summary, an exercise of ours, a channel with a pending check, a policy, a rule,
a user, a watch and its handover, a one-click link), plus the incident page after a resolve and the
one-click link's answer page. Each page is opened by a role that may see it, in one browser context
per width that signs in once per role. A route that is not a page (rows the pages refresh, JSON,
downloads) is named in NOT_PAGES; a new route must be one or the other, so no page escapes.
"""

from datetime import timedelta

import pytest
from flask import url_for
from playwright.sync_api import Page
from sqlalchemy import select

from tests.browser.conftest import SCREEN_HEIGHTS
from tests.browser_support import sideways
from tests.exercise_support import create
from tests.functional.test_authorization_matrix import DRAFTER, Scene, Stage
from tests.support import build_world, file_incident
from tracker import dispatch
from tracker.db import session_scope
from tracker.models import Incident, Role, Watch
from tracker.models.permissions import may
from tracker.services.accounts import people

pytestmark = pytest.mark.browser

WIDTHS = (1280, 390)
# GET routes that answer something other than a page, by endpoint.
NOT_PAGES = {
    "static": "the scripts, styles and images",
    "metrics": "Prometheus text for a scraper",
    "board.favicon": "the icon",
    "board.board_rows": "rows the board refreshes",
    "board.queue_rows": "rows My queue refreshes",
    "exchanges.board_rows": "rows of the board's exchanges",
    "live.incident": "the incident page's live parts",
    "incidents.readback": "JSON for the filing form",
    "mapview.data": "JSON for the map",
    "mapview.position": "JSON for the map's search",
    "reports.export_csv": "a download",
    "reports.export_geojson": "a download",
    "reports.review_csv": "a download",
    "exchanges.find": "a redirect to the incident's exchange",
}
# Who opens a page: the liaison officer the lists of whose own lines these are, else the first of VIEWERS
# whose role holds the page's permission.
OWN_LISTS = {"board.queue": "liaison", "acknowledging.confirm_all": "liaison"}
VIEWERS = (("supervisor", Role.SUPERVISOR), ("duty", Role.DUTY_OFFICER), ("admin", Role.ADMIN))
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


def path_values(scene: Scene) -> dict[str, object]:
    """What each route argument is filled with."""
    return {
        "reference": scene.acknowledged,  # acknowledged, with an exchange, a summary and a call
        "agreement_id": scene.agreement,
        "channel_id": scene.channel,
        "policy_id": scene.policy,
        "rule_id": scene.rule,
        "user_id": scene.user,
        "call_id": scene.call["id"],
        "exercise_id": scene.our_exercise,
        "watch_id": scene.watch,
        "handover_id": scene.handover,
        "token": scene.receipt_token,
    }


def prepared(app) -> Scene:
    """A scene with every thing a page shows made: the scenes' things are made when first asked for."""
    world = build_world(app)
    with session_scope(app) as session:  # four eyes: a second liaison drafts the scenes' texts
        drafter = people.create_user(session, DRAFTER, f"{DRAFTER}-password", Role.LIAISON, by=None)
        world.tokens[DRAFTER] = people.create_token(session, drafter, "test", by="admin")[1]
    scene = Scene(Stage(app, world), {})
    assert scene.summary and scene.call and scene.check and scene.approved_draft  # shown on the pages visited
    with session_scope(app) as session:  # kept beyond its hours: the board and My queue say it is due for relief
        watch = session.get(Watch, scene.watch)
        watch.starts_at = watch.starts_at - timedelta(hours=app.config["WATCH_HOURS"] + 1)
    return scene


def resolved(scene: Scene) -> str:
    """An incident acknowledged, then resolved: its messages table, the resolution and the timeline."""
    reference = scene._file()["reference"]
    scene._api("POST", f"/incidents/{reference}/acknowledge", {"note": "On it."}, who="liaison")
    scene._api("POST", f"/incidents/{reference}/resolve", {"resolution": "Explained by the other side."}, who="liaison")
    return reference


def fresh_ack_link(scene: Scene) -> str:
    """The token of an L1 message's one-click link for an incident of its own, still open."""
    reference = scene._file()["reference"]
    with session_scope(scene.app) as session:
        incident_id = session.scalar(select(Incident.id).where(Incident.reference == reference))
    channel = scene.world.channels["L1"]
    return dispatch.signer(scene.app).issue("ack", incident=incident_id, channel=channel, recipient="l1@test.example")


def pages(app, scene: Scene) -> tuple[list[tuple[str, str]], list[str]]:
    """(viewer, path) of every page, and the GET routes neither visited nor named in NOT_PAGES."""
    values, visits, unknown = path_values(scene), [], []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.rule.startswith("/api/") or rule.endpoint in NOT_PAGES:
            continue
        if rule.endpoint == "links.confirm":
            visits.append(("duty", f"/links/ack/{fresh_ack_link(scene)}"))
            continue
        if missing := rule.arguments - values.keys():
            unknown.append(f"{rule.rule} (no value for {sorted(missing)})")
            continue
        permission = getattr(app.view_functions[rule.endpoint], "permission", None)
        viewer = OWN_LISTS.get(rule.endpoint) or next(
            (name for name, role in VIEWERS if permission is None or may(role, permission)), None
        )
        if viewer is None:
            unknown.append(f"{rule.rule} (no viewer holds {permission})")
            continue
        with app.test_request_context():
            visits.append((viewer, url_for(rule.endpoint, **{k: values[k] for k in rule.arguments})))
    visits += [("supervisor", f"/incidents/{scene.incident}"), ("supervisor", f"/incidents/{resolved(scene)}")]
    return sorted(visits, key=lambda visit: (visit[0], visit[1].startswith("/links/"))), unknown


def sign_in_as(page: Page, username: str) -> None:
    page.context.clear_cookies()
    page.goto("/signin")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(f"{username}-password")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/signin" not in url)


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


def test_no_page_scrolls_sideways_at_either_width(app, browser, live_server):
    scene = prepared(app)
    visits, unknown = pages(app, scene)
    assert not unknown, f"GET routes this test cannot open (fill them in path_values or NOT_PAGES): {unknown}"
    problems = []
    for width in WIDTHS:
        context = browser.new_context(base_url=live_server, viewport={"width": width, "height": SCREEN_HEIGHTS[width]})
        page, viewer = context.new_page(), None
        for who, path in visits:
            if who != viewer:
                sign_in_as(page, who)
                viewer = who
            problems.append((who, width, too_wide(page, path, width)))
            if path.startswith("/links/ack/") and page.locator("form button").count():  # used at the next width
                with page.expect_navigation():
                    page.locator("form button").first.click()
                problems.append((who, width, wider(page, f"{path} answered", width)))
        context.close()
    offending = [f"{who} at {width} px: {problem}" for who, width, problem in problems if problem]
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
