"""The pages the page-walking browser test opens (tests/browser/test_no_overflow.py: the layout and, on a phone, the
touch targets of each page, in one page load).

Every GET route of the web blueprints: those without arguments as they are, those with arguments on things made
for them by the authorization matrix's scenes (tests/functional/test_authorization_matrix.py), plus the incident
page after a resolve and the one-click link's page. Each page is opened by a role that may see it. A route that is
not a page (rows the pages refresh, JSON, downloads) is named in NOT_PAGES; a new route must be one or the other.

The scene is made once for a worker's walks (the page_walk fixture, tests/browser/conftest.py) and the walk is
cut into parts, each a test of its own, so that pytest-xdist spreads the pages over its workers: walked in one
test, the pages kept one worker busy for up to 48 s at the end of a CI run while the other waited.
"""

from dataclasses import dataclass
from datetime import timedelta

from flask import url_for
from playwright.sync_api import Page
from sqlalchemy import select

from tests.functional.test_authorization_matrix import DRAFTER, Scene, Stage
from tests.support import build_world
from tracker import dispatch
from tracker.db import session_scope
from tracker.models import Incident, Role, Watch
from tracker.models.permissions import may
from tracker.services.accounts import people

# GET routes that answer something other than a page, by endpoint.
NOT_PAGES = {
    "static": "the scripts, styles and images",
    "metrics": "Prometheus text for a scraper",
    "board.favicon": "the icon",
    "board.board_rows": "rows the board refreshes",
    "board.queue_rows": "rows My queue refreshes",
    "board.board_notices": "the board's live notices",
    "board.queue_notices": "My queue's live notices",
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
    """(viewer, path) of every page, and the GET routes neither visited nor named in NOT_PAGES; the one-click
    link's page as FRESH_ACK_LINK."""
    values, visits, unknown = path_values(scene), [], []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.rule.startswith("/api/") or rule.endpoint in NOT_PAGES:
            continue
        if rule.endpoint == "links.confirm":
            visits.append(("duty", FRESH_ACK_LINK))  # a link of its own for each walk that opens it (Walk.part)
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


# Where pages() puts the one-click link's page: each walk that opens it gets a link of its own, still unused.
FRESH_ACK_LINK = "/links/ack/<fresh>"


@dataclass
class Walk:
    """The scene of a worker's walks, the pages to open in it, and the GET routes it cannot open."""

    scene: Scene
    visits: list[tuple[str, str]]
    unknown: list[str]
    origin: str

    def part(self, index: int, parts: int) -> list[tuple[str, str]]:
        """The index-th of parts consecutive runs of the visits (the parts together are every visit, once), with a
        fresh one-click link of its own where the link's page is."""
        count = len(self.visits)
        chosen = self.visits[index * count // parts : (index + 1) * count // parts]
        return [(who, _fresh(self.scene) if path == FRESH_ACK_LINK else path) for who, path in chosen]


def _fresh(scene: Scene) -> str:
    return f"/links/ack/{fresh_ack_link(scene)}"
