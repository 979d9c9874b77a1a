"""Every route of the app as every kind of caller: the answers tests/authorization_matrix.py expects.

One world per database for the whole module (build_world: duty, liaison on L1-L3, outsider on
"Other desk", supervisor, admin, and "revoked" whose API token is revoked): a fresh database per
route would spend most of the run emptying PostgreSQL. Isolation comes from the scenes instead:
what a route acts on is made for it when first asked for (an incident routed to L1, an
acknowledged one, an exchange over a counterpart line the liaison is on, a summary, a related link,
an exercise, a channel, a policy, a rule, a user), each incident at a time of its own so that no
two are suggested as related unless a scene means them to be. Callers the matrix refuses go first
and share one scene; each caller it lets in to change something gets a scene of its own, so a
change one of them makes never decides another's answer.

Pages run with CSRF checks off (a form without its token is refused, 400, before any role check;
CSRF has tests of its own in test_web_pages, test_admin_pages, ...) and with the rate limits out of
the way (hundreds of sign-ins and token uses from one address; they have tests of their own). The
revoked principal of the pages is a user signed in and then deactivated.
"""

import copy
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from itertools import count
from urllib.parse import quote, urlsplit

import pytest
from apiflask import APIFlask
from sqlalchemy import select, update

from tests.authorization_matrix import ANONYMOUS, EXCLUDED, LOGIN, MATRIX, NOTICE, PRINCIPALS, REVOKED
from tests.exercise_support import notice
from tests.support import World, build_world, incident_payload, run_filing_checks
from tracker import create_app, dispatch
from tracker.db import engine_of, session_scope
from tracker.models import Call, Exchange, ExchangeMessage, Incident, Role, User, Watch, WebSession
from tracker.services.accounts import people
from tracker.services.engine import decisions, notify
from tracker.services.exchanges import receipts
from tracker.timeutil import isoformat, utcnow
from tracker.web.auth import SESSION_KEY

IGNORED_METHODS = {"HEAD", "OPTIONS"}
ACCOUNTS = {"duty": "duty", "liaison_member": "liaison", "liaison_other": "outsider"}
ACCOUNTS.update(supervisor="supervisor", admin="admin", revoked="revoked")
PARAMETER = re.compile(r"<(?:[^<>:]+:)?([^<>]+)>")
UNLIMITED = 1_000_000
# A second liaison officer on the scenes' counterpart line who drafts their texts, so that every
# principal let in may approve them (four eyes refuses a text's own drafter: tests/functional/test_four_eyes.py).
DRAFTER = "drafter"
# Scene incidents happen this far apart: beyond RELATED_WINDOW_HOURS (72), so none is related to another.
APART = timedelta(hours=73)


@dataclass
class Stage:
    """The module's app and world, and a counter for names and times no two scenes share."""

    app: APIFlask
    world: World
    counter: count = field(default_factory=lambda: count(1))
    start: datetime = field(default_factory=lambda: utcnow().replace(microsecond=0) - timedelta(days=1))
    # Each principal's session cookie as its sign-in set it, kept while every one of them still holds
    # (signed_in_clients): the pages' cases signed in seven times each, a tenth of the module's time.
    cookies: dict[str, str] = field(default_factory=dict)


def staged(sqlite_database, tmp_path_factory, name: str, **config):
    """The matrix's stage (its world, and a drafter none of the principals is) on an app of its own on SQLite, the
    rate limits out of the way; config over that. A generator: a module's fixture yields from it."""
    directory = tmp_path_factory.mktemp(name)
    url = sqlite_database.copy("empty", directory / "tracker.db")
    limits = ("SIGNIN_PER_ADDRESS", "SIGNIN_PER_ACCOUNT", "TOKEN_FAILURES_PER_ADDRESS", "LINKS_PER_ADDRESS")
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": url,
            "SECRET_KEY": f"test-secret-of-the-{name}",
            "OUTBOX_DIR": str(directory / "outbox"),
            "PUBLIC_URL": "http://tracker.test",
            **dict.fromkeys(limits, UNLIMITED),
            **config,
        }
    )
    world = build_world(app)
    with session_scope(app) as session:  # four eyes: the scenes' texts are drafted by none of the principals
        drafter = people.create_user(session, DRAFTER, f"{DRAFTER}-password", Role.LIAISON, by=None)
        world.tokens[DRAFTER] = people.create_token(session, drafter, "test", by="admin")[1]
    yield Stage(app, world)
    engine_of(app).dispose()


@pytest.fixture(scope="module")
def stage(sqlite_database, tmp_path_factory):
    """On SQLite only: the answers are an HTTP contract, the same on any engine."""
    yield from staged(sqlite_database, tmp_path_factory, "authorization-matrix", WTF_CSRF_ENABLED=False)


def served_routes(app) -> set[tuple[str, str]]:
    return {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        for method in rule.methods - IGNORED_METHODS
        if (method, rule.rule) not in EXCLUDED
    }


def test_the_matrix_lists_every_route_the_app_serves(stage):
    served = served_routes(stage.app)
    missing = sorted(served - MATRIX.keys())
    stale = sorted(MATRIX.keys() - served)
    assert not missing, f"routes with no entry in tests/authorization_matrix.py: {missing}"
    assert not stale, f"entries in tests/authorization_matrix.py for routes the app no longer has: {stale}"
    for route, call in MATRIX.items():
        assert set(call.expected) == set(PRINCIPALS), f"{route}: one status for each of {PRINCIPALS}"


def test_each_route_names_the_permission_the_matrix_expects(stage):
    """The matrix's answers come from the permission table through the permission a route names;
    the route must name that same permission (tracker.http.access.requires), or none at all."""
    endpoints = {
        (method, rule.rule): rule.endpoint for rule in stage.app.url_map.iter_rules() for method in rule.methods
    }
    wrong = []
    for route, call in MATRIX.items():
        named = getattr(stage.app.view_functions[endpoints[route]], "permission", None)
        if named != call.expected.permission:
            wrong.append(f"{route}: the route names {named}, the matrix expects {call.expected.permission}")
    assert not wrong, "\n".join(wrong)


class Scene:
    """What the calls of a cell act on, each thing made when first asked for, through the API as
    a role that may make it. The scenes of one route share its counterpart line (in `shared`)."""

    def __init__(self, stage: Stage, shared: dict):
        self.stage, self.app, self.world, self.shared = stage, stage.app, stage.world, shared
        self.client = stage.app.test_client()
        # An officer keeps one desk at a time, and the stage's people are every scene's: each scene
        # starts with nobody on watch (the watches of scenes before it ended).
        with session_scope(self.app) as session:
            session.execute(update(Watch).where(Watch.ends_at.is_(None)).values(ends_at=utcnow()))

    def _api(self, method: str, path: str, body=None, who: str = "admin", status: int = 200):
        response = self.client.open(f"/api/v1{path}", method=method, json=body, headers=self.world.auth(who))
        assert response.status_code == status, (
            f"preparing the scene: {method} {path} as {who}: {response.status_code} {response.get_data(True)[:500]}"
        )
        return response.get_json()

    def unique(self, stem: str) -> str:
        return f"{stem} {next(self.stage.counter)}"

    def _file(self, when=None, **overrides) -> dict:
        """File as the duty officer, at a time no other scene's incident is near (unless given)."""
        when = when or isoformat(self.stage.start - APART * next(self.stage.counter))
        body = incident_payload(occurred_at=when, **overrides)
        return self._api("POST", "/incidents", body, who="duty", status=201)

    @cached_property
    def filed(self) -> dict:
        return self._file()

    @cached_property
    def incident(self) -> str:
        """An incident routed to L1: the liaison's channel, not the outsider's."""
        return self.filed["reference"]

    @cached_property
    def acknowledged(self) -> str:
        reference = self._file()["reference"]
        self._api("POST", f"/incidents/{reference}/acknowledge", {}, who="liaison")
        return reference

    @property
    def line(self) -> int:
        """A counterpart line the liaison is on (one per route)."""
        if "line" not in self.shared:
            body = {
                "name": self.unique("Eastland liaison mission"),
                "level": 3,
                "transport": "outbox",
                "address": "mission@eastland.test",
                "members": ["liaison", DRAFTER],
                "counterpart_line": True,
                "language": "ru",
            }
            self.shared["line"] = self._api("POST", "/channels", body, status=201)["id"]
        return self.shared["line"]

    @property
    def free_line(self) -> int:
        """The route's line with no call in progress (a line has one at a time): an earlier scene's ended."""
        line = self.line
        with session_scope(self.app) as session:
            for call in session.scalars(select(Call).where(Call.channel_id == line, Call.ended_at.is_(None))):
                call.ended_at = call.started_at
        return line

    @cached_property
    def exchange(self) -> int:
        body = {"channel_id": self.line, "text": NOTICE}
        exchange = self._api("POST", f"/incidents/{self.acknowledged}/exchanges", body, who="liaison", status=201)
        notice = exchange["messages"][0]["id"]  # a draft: approved by a second person, then sent
        self._api("POST", f"/exchange-messages/{notice}/approve", {"version": 1}, who="supervisor")
        self._api("POST", f"/exchange-messages/{notice}/send", {}, who="liaison")
        return exchange["id"]

    @property
    def exchange_version(self) -> str:
        """self.exchange's version as its panel's form carries it (the page refuses a move without it)."""
        with session_scope(self.app) as session:
            return str(session.get_one(Exchange, self.exchange).version)

    @property
    def call_version(self) -> str:
        """self.call's version as its form carries it (the page refuses a save without it)."""
        with session_scope(self.app) as session:
            return str(session.get_one(Call, self.call["id"]).version)

    @cached_property
    def draft(self) -> int:
        """A text to the other side on self.exchange, drafted by DRAFTER (none of the principals)."""
        body = {"direction": "out", "text": "Northmark liaison: we propose a call at 1200Z."}
        return self._api("POST", f"/exchanges/{self.exchange}/messages", body, who=DRAFTER, status=201)["id"]

    @cached_property
    def approved_draft(self) -> int:
        self._api("POST", f"/exchange-messages/{self.draft}/approve", {"version": 1}, who="supervisor")
        return self.draft

    @cached_property
    def call(self) -> dict:
        """A call on the counterpart line about self.incident, with one action agreed on it."""
        body = {
            "direction": "they_called",
            "channel_id": self.line,
            "they_said": "Eastland confirms the aircraft's track.",
            # Due within the year (one further on is a year typed wrong), long after any test ends.
            "actions": [
                {
                    "text": "Eastland sends the flight data",
                    "party": "them",
                    "due_at": isoformat(utcnow() + timedelta(days=300)),
                }
            ],
            # Ended: the scenes share the line, which has one call in progress at a time.
            "started_at": (datetime.now(UTC) - timedelta(minutes=5)).isoformat(),
            "ended_at": datetime.now(UTC).isoformat(),
        }
        return self._api("POST", f"/incidents/{self.incident}/calls", body, who="liaison", status=201)

    @cached_property
    def summary(self) -> dict:
        body = {"exchange_id": self.exchange}
        return self._api("POST", f"/incidents/{self.acknowledged}/summaries", body, who=DRAFTER, status=201)

    @cached_property
    def approved_summary(self) -> dict:
        body = {"version": self.summary["version"]}
        return self._api("POST", f"/summaries/{self.summary['id']}/approve", body, who="liaison")  # not its drafter

    @cached_property
    def link(self) -> tuple[str, int]:
        """A suggested link between two incidents 5 km and no time apart: (reference, link id)."""
        first = self.filed
        nearby = {"latitude": first["latitude"] + 0.045, "position_text": None}
        second = self._file(first["occurred_at"], **nearby)["reference"]
        run_filing_checks(self.app)  # the sweep suggests the link right after the filing
        suggested = self._api("GET", f"/incidents/{second}/related", who="duty")["suggested"]
        [link_id] = [link["id"] for link in suggested if link["other"]["reference"] == first["reference"]]
        return second, link_id

    @cached_property
    def exercise(self) -> int:
        return self._api("POST", "/exercises", notice(name=self.unique("RAMPART")), who="supervisor", status=201)["id"]

    @cached_property
    def our_exercise(self) -> int:
        """One of our own exercises: briefings are recorded on those only."""
        body = notice(name=self.unique("NORTHERN SHIELD"), ours=True)
        return self._api("POST", "/exercises", body, who="supervisor", status=201)["id"]

    @cached_property
    def channel(self) -> int:
        """A channel no ladder uses (the member liaison serves it; the other does not)."""
        body = {"name": self.unique("Spare desk"), "level": 2, "transport": "outbox", "address": "spare@test.example"}
        body["members"] = ["liaison"]
        return self._api("POST", "/channels", body, status=201)["id"]

    @cached_property
    def their_message(self) -> int:
        """A message the other side sent on self.exchange (our receipt of it not yet sent)."""
        body = {"direction": "in", "kind": "reply", "text": "Eastland: a training flight."}
        return self._api("POST", f"/exchanges/{self.exchange}/messages", body, who="liaison", status=201)["id"]

    @cached_property
    def check(self) -> int:
        """A pending communications check of self.channel (its answer not yet logged)."""
        return self._api("POST", f"/channels/{self.channel}/checks", None, who="supervisor", status=201)["id"]

    @cached_property
    def agreement(self) -> int:
        body = {"code": self.unique("DMA").replace(" ", "-"), "title": "Dangerous Military Activities"}
        return self._api("POST", "/agreements", body, status=201)["id"]

    @cached_property
    def policy(self) -> int:
        """A policy no rule uses."""
        body = {"name": self.unique("Short ladder"), "steps": [{"channel_ids": [self.world.channels["L1"]]}]}
        return self._api("POST", "/policies", body, status=201)["id"]

    def _rule(self) -> int:
        """A rule for maritime incidents (the scenes file air incidents: they keep the default rule)."""
        body = {"name": self.unique("Sea incidents"), "policy_id": self.world.policy_id, "domain": "maritime"}
        return self._api("POST", "/rules", body, status=201)["id"]

    @cached_property
    def rule(self) -> int:
        return self._rule()

    @cached_property
    def later_rule(self) -> int:
        """A rule evaluated after self.rule, so it can move up."""
        assert self.rule
        return self._rule()

    @cached_property
    def user(self) -> int:
        with session_scope(self.app) as session:
            made = people.create_user(session, self.unique("clerk"), "clerk-password", Role.DUTY_OFFICER, by=None)
            session.flush()
            return made.id

    @cached_property
    def token(self) -> int:
        with session_scope(self.app) as session:
            token, _text = people.create_token(session, session.get(User, self.user), "desk script", by="admin")
            session.flush()
            return token.id

    @cached_property
    def deciding(self) -> str:
        """An incident whose step 2 (by decision in its snapshot) waits for a supervisor's confirmation."""
        reference = self._file()["reference"]
        with session_scope(self.app) as session:
            incident = session.scalars(select(Incident).where(Incident.reference == reference)).one()
            snapshot = copy.deepcopy(incident.ladder)
            snapshot["steps"][1]["by_decision"] = True
            incident.ladder = snapshot
            recipients, links = notify.Recipients.load(session), dispatch.ack_links(self.app)
            decisions.ask(session, incident, utcnow(), "matrix", recipients, links, decisions.REASK)
        return reference

    @cached_property
    def watch(self) -> int:
        """A watch kept by the duty officer at a desk of its own (one open watch per desk)."""
        return self._api("POST", "/watches", {"desk": self.unique("Desk")}, who="duty", status=201)["id"]

    def desk_of(self, watch: int) -> str:
        return self._api("GET", f"/watches/{watch}")["desk"]

    @cached_property
    def handover(self) -> int:
        """The handover of self.watch to the liaison member, waiting for the signature."""
        body = {"incoming": "liaison"}
        return self._api("POST", f"/watches/{self.watch}/handover", body, who="duty", status=201)["id"]

    @cached_property
    def ack_token(self) -> str:
        """The signed link an L1 message carries for self.incident."""
        with session_scope(self.app) as session:
            incident_id = session.scalar(select(Incident.id).where(Incident.reference == self.incident))
        channel, recipient = self.world.channels["L1"], "l1@test.example"
        return dispatch.signer(self.app).issue("ack", incident=incident_id, channel=channel, recipient=recipient)

    @cached_property
    def sent_message(self) -> int:
        """The notice of self.exchange, sent to the other side (its receipt not yet given)."""
        messages = self._api("GET", f"/exchanges/{self.exchange}")["messages"]
        return next(m["id"] for m in messages if m["direction"] == "out")

    @cached_property
    def receipt_token(self) -> str:
        """The receipt link that notice carried (services/exchanges/receipts.link_for)."""
        with session_scope(self.app) as session:
            message = session.get(ExchangeMessage, self.sent_message)
            return receipts.link_for(dispatch.ack_links(self.app), message, utcnow()).token


def _signed_in(app, username: str, password: str) -> str:
    """Sign in as username through the form; return the session cookie it set."""
    client = app.test_client()
    answer = client.post("/signin", data={"username": username, "password": password})
    assert answer.status_code == 302, f"{username} could not sign in: {answer.status_code}"
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None, f"signing in as {username} set no session cookie: {answer.headers}"
    return cookie.value


def _sign_in_everyone(scene: Scene) -> dict[str, str]:
    """Each principal's session cookie; the revoked principal is a user of its own, deactivated once signed in."""
    cookies = {
        principal: _signed_in(scene.app, username, f"{username}-password")
        for principal, username in ACCOUNTS.items()
        if principal != REVOKED
    }
    with session_scope(scene.app) as session:
        gone = people.create_user(session, scene.unique("leaver"), "leaver-password", Role.DUTY_OFFICER, by=None)
        username = gone.username
    cookies[REVOKED] = _signed_in(scene.app, username, "leaver-password")
    with session_scope(scene.app) as session:
        session.scalars(select(User).where(User.username == username)).one().active = False
    return cookies


def _still_as_signed_in(app, cookies: dict[str, str]) -> bool:
    """Whether every principal's session is live (the revoked principal's too: its refusal must come from its
    deactivated user, not from a session ended) and that user still deactivated: a case may have signed one
    out or changed a password (each ends the caller's sessions)."""
    serializer = app.session_interface.get_signing_serializer(app)
    ids = {principal: serializer.loads(value)[SESSION_KEY] for principal, value in cookies.items()}
    with session_scope(app) as session:
        live = set(
            session.scalars(
                select(WebSession.id).where(WebSession.id.in_(ids.values()), WebSession.revoked_at.is_(None))
            )
        )
        gone = session.scalar(
            select(User.active).join(WebSession, WebSession.user_id == User.id).where(WebSession.id == ids[REVOKED])
        )
    return gone is False and set(ids.values()) <= live  # the revoked principal's session too: refused for its user


def signed_in_clients(scene: Scene) -> dict:
    """A client per principal, each with its session cookie: signed in once for the module, again after a
    case ended a session (_still_as_signed_in); each case's clients start from the cookies as signed in."""
    stage = scene.stage
    if not stage.cookies or not _still_as_signed_in(stage.app, stage.cookies):
        stage.cookies = _sign_in_everyone(scene)
    clients = {ANONYMOUS: scene.app.test_client()}
    for principal, value in stage.cookies.items():
        clients[principal] = scene.app.test_client()
        clients[principal].set_cookie(scene.app.config["SESSION_COOKIE_NAME"], value)
    return clients


def _url(rule: str, values: dict) -> str:
    return PARAMETER.sub(lambda m: quote(str(values[m[1]]), safe=""), rule)


def _outcome(response, client) -> int | str:
    """The status; LOGIN for a page's redirect to the sign-in form; "302 flashed [...]" for a page's
    redirect with an error message: the request was let in but did not do its work."""
    if response.status_code != 302:
        return response.status_code
    location = urlsplit(response.headers["Location"])
    if location.path == "/signin" and "next=" in location.query:
        return LOGIN
    with client.session_transaction() as cookie:
        errors = [text for kind, text in cookie.pop("_flashes", []) if kind == "error"]
    return f"302 flashed {errors}" if errors else 302


def _by_token(rule: str) -> bool:
    """Whether the route takes a bearer token (the API and /metrics) rather than a signed-in session."""
    return rule.startswith("/api/") or rule == "/metrics"


def _call(scene: Scene, clients: dict, route, who: str):
    method, rule = route
    call = MATRIX[route]
    url = _url(rule, call.path(scene) if call.path else {})
    body = call.body(scene) if callable(call.body) else call.body
    query = call.query(scene) if callable(call.query) else call.query
    if _by_token(rule):
        headers = {} if who == ANONYMOUS else {"Authorization": f"Bearer {scene.world.tokens[ACCOUNTS[who]]}"}
        response = scene.app.test_client().open(url, method=method, json=body, headers=headers, query_string=query)
        return url, response, response.status_code
    client = clients[who]
    response = client.open(url, method=method, data=body, query_string=query)
    return url, response, _outcome(response, client)


def _said(response) -> str:
    """The answer in short: a JSON body, or a page's title and the problems it shows."""
    text = response.get_data(as_text=True)
    if response.mimetype == "text/html":
        title = re.search(r"<title>([^<]*)</title>", text)
        problems = re.findall(r'class="(?:flash )?error"[^>]*>([^<]+)<', text)
        text = f"page {title[1] if title else '-'!r}, problems shown: {problems}"
    return re.sub(r"\s+", " ", text)[:400]


def _succeeds(expected) -> bool:
    return expected != LOGIN and expected < 400


@pytest.mark.parametrize("route", sorted(MATRIX), ids=lambda route: f"{route[0]} {route[1]}")
def test_each_principal_gets_what_the_matrix_says(stage, route):
    method, rule = route
    expected = MATRIX[route].expected
    shared: dict = {}
    refused_scene = Scene(stage, shared)
    clients = {} if _by_token(rule) else signed_in_clients(refused_scene)
    # The refused first, on one scene; each caller let in to change something gets a scene of its own.
    problems = []
    for who in sorted(PRINCIPALS, key=lambda who: _succeeds(expected[who])):
        mutates = method != "GET" and _succeeds(expected[who])
        scene = Scene(stage, shared) if mutates else refused_scene
        url, response, actual = _call(scene, clients, route, who)
        if actual != expected[who]:
            problems.append(f"{who}: expected {expected[who]}, got {actual} from {method} {url}: {_said(response)}")
    assert not problems, f"{method} {rule}\n" + "\n".join(problems)
