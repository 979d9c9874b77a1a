"""The OpenAPI document describes every route the API serves, and the docs page works offline."""

import json
import re
from dataclasses import dataclass, field
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from sqlalchemy import select

from tests.support import file_incident
from tracker import dispatch, jobs
from tracker.db import session_scope
from tracker.models import Incident
from tracker.services.engine import escalation
from tracker.timeutil import utcnow

SPEC = "/api/v1/openapi.json"
DOCS = "/api/v1/docs"
REF = "#/components/schemas/"
SAMPLE_PATH_VALUES = {"reference": "INC-2026-00001"}  # any other path value is an integer id


@pytest.fixture
def spec(client) -> dict:
    response = client.get(SPEC)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_json()


def api_operations(app) -> list[tuple[str, str, str]]:
    """(OpenAPI path, method, a URL to call) for every route under /api/v1 but the spec and the docs."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.rule == SPEC or rule.rule.startswith(DOCS):
            continue
        path = re.sub(r"<(?:[^<>:]+:)?([^<>]+)>", r"{\1}", rule.rule)
        url = rule.build({name: SAMPLE_PATH_VALUES.get(name, 1) for name in rule.arguments}, append_unknown=False)[1]
        found += [(path, method.lower(), url) for method in rule.methods - {"HEAD", "OPTIONS"}]
    assert found, "no /api/v1 routes found in app.url_map"
    return sorted(found)


def resolve(spec: dict, schema: dict) -> dict:
    """Follow $refs into components/schemas."""
    while "$ref" in schema:
        assert schema["$ref"].startswith(REF), f"unexpected $ref {schema['$ref']}"
        schema = spec["components"]["schemas"][schema["$ref"].removeprefix(REF)]
    return schema


def envelope_problem(spec: dict, schema: dict | None) -> str | None:
    """Say what keeps schema from being {"error": {"code": str, "message": str, "details": object}}."""
    if schema is None:
        return "no application/json schema"
    envelope = resolve(spec, schema)
    if "error" not in envelope.get("properties", {}) or "error" not in envelope.get("required", []):
        return f"not the error envelope: {envelope}"
    error = resolve(spec, envelope["properties"]["error"])
    properties = error.get("properties", {})
    types = {name: resolve(spec, properties.get(name, {})).get("type") for name in ("code", "message", "details")}
    if types != {"code": "string", "message": "string", "details": "object"}:
        return f"error has the wrong members: {types}"
    if set(error.get("required", [])) != {"code", "message", "details"}:
        return f"error does not require code, message and details: {error.get('required')}"
    return None


def violations(spec: dict, schema: dict, instance) -> list[str]:
    """What in instance the OpenAPI schema (its $refs into components included) forbids."""
    registry = Registry().with_resource("spec", Resource.from_contents(spec, default_specification=DRAFT202012))
    root = {"$ref": "spec" + schema["$ref"]} if "$ref" in schema else schema
    errors = Draft202012Validator(root, registry=registry).iter_errors(instance)
    return [f"{list(error.absolute_path)}: {error.message}" for error in errors]


def answer_schema(spec: dict, path: str, method: str, status: int) -> dict:
    return spec["paths"][path][method]["responses"][str(status)]["content"]["application/json"]["schema"]


def test_an_incident_without_a_position_answers_within_its_documented_schema(client, world, spec):
    """No position: no border distance and no basis (null), which the document must allow."""
    reference = file_incident(client, world, latitude=None, longitude=None, sector="North")["reference"]
    detail = client.get(f"/api/v1/incidents/{reference}", headers=world.auth("duty")).get_json()
    assert detail["border_basis"] is None, detail["border_basis"]
    assert violations(spec, answer_schema(spec, "/api/v1/incidents/{reference}", "get", 200), detail) == []
    listed = client.get("/api/v1/incidents", headers=world.auth("duty")).get_json()
    assert violations(spec, answer_schema(spec, "/api/v1/incidents", "get", 200), listed) == []


README = Path(__file__).resolve().parents[2] / "README.md"
# One curl command of the README, continuation lines and quoted bodies included.
CURL = re.compile(r"curl (?:\\\n|[^'\n]|'[^']*')*")


def readme_requests() -> list[tuple[str, str, dict]]:
    """(method, path under /api/v1, JSON body) of every curl in the README that sends a body to $API."""
    found = []
    for command in CURL.findall(README.read_text(encoding="utf-8")):
        body, path = re.search(r"-d '([^']*)'", command), re.search(r"\$API(/[^\s\"`|]*)", command)
        if body and path:
            method = re.search(r"-X (\w+)", command)
            found.append(((method.group(1) if method else "POST").lower(), path.group(1), json.loads(body.group(1))))
    assert len(found) > 10, f"the README's curl examples were not found: {found}"
    return found


def test_every_request_body_in_the_readme_is_one_the_spec_accepts(spec):
    """The README's examples are pasted as they are: each body must hold what its operation requires."""
    problems = []
    for method, path, body in readme_requests():
        template = next(
            (
                name
                for name, operations in spec["paths"].items()
                if method in operations
                and re.fullmatch(re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(name)), "/api/v1" + path)
            ),
            None,
        )
        if template is None:
            problems.append(f"{method.upper()} {path}: no such operation")
            continue
        schema = spec["paths"][template][method]["requestBody"]["content"]["application/json"]["schema"]
        problems += [f"{method.upper()} {path} {found}" for found in violations(spec, schema, body)]
    assert problems == [], "\n".join(problems)


def test_spec_is_valid_openapi_3_1(spec):
    assert spec["openapi"].startswith("3.1"), spec["openapi"]
    validate(spec)
    numbered = [name for name in spec["components"]["schemas"] if re.search(r"\d$", name)]
    assert numbered == [], f"schemas registered twice under a numbered name: {numbered}"


def test_every_api_route_and_method_is_in_the_spec(app, spec):
    missing = [
        f"{method.upper()} {path}"
        for path, method, _ in api_operations(app)
        if method not in spec["paths"].get(path, {})
    ]
    assert missing == [], f"routes missing from the spec: {missing}\nspec paths: {sorted(spec['paths'])}"


# Actions that need nothing but the path: sending a line check now.
BODYLESS = {("post", "/api/v1/channels/{channel_id}/checks")}


def test_every_post_and_patch_takes_a_json_body_with_a_schema(app, spec):
    problems = []
    for path, method, _ in api_operations(app):
        if method not in ("post", "patch") or (method, path) in BODYLESS:
            assert "requestBody" not in spec["paths"][path][method], f"{method} {path} takes a body after all"
            continue
        content = spec["paths"][path][method].get("requestBody", {}).get("content", {})
        schema = content.get("application/json", {}).get("schema")
        if schema is None or not resolve(spec, schema).get("properties"):
            problems.append(f"{method.upper()} {path}: requestBody {content or 'missing'}")
    assert problems == [], "\n".join(problems)


def test_every_operation_is_described_by_its_whole_docstring(app, spec):
    """An operation whose summary is given in @bp.doc lost its docstring's first line (APIFlask takes that line
    for the summary and the rest for the description), so its description began in the middle of a sentence."""
    problems = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if not rule.rule.startswith("/api/v1/") or not view.__doc__ or rule.rule == SPEC or rule.rule.startswith(DOCS):
            continue
        path = re.sub(r"<(?:[^<>:]+:)?([^<>]+)>", r"{\1}", rule.rule)
        first = view.__doc__.strip().splitlines()[0].strip()
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            operation = spec["paths"][path][method.lower()]
            said = f"{operation['summary']}\n{operation.get('description', '')}"
            if not said.startswith(first) and not operation.get("description", "").startswith(first):
                problems.append(f"{method} {path}: {operation.get('description', '')[:60]!r}")
    assert problems == [], "\n".join(problems)


def test_every_operation_that_needs_a_token_says_so_and_lists_401(app, client, spec):
    problems = []
    for path, method, url in api_operations(app):
        operation = spec["paths"][path][method]
        refused = client.open(url, method=method.upper()).status_code == 401
        documented = bool(operation.get("security"))
        if refused != documented:
            problems.append(f"{method.upper()} {url}: anonymous call refused={refused}, spec security={documented}")
        if refused and "401" not in operation["responses"]:
            problems.append(f"{method.upper()} {path}: needs a token but lists {sorted(operation['responses'])}")
    assert problems == [], "\n".join(problems)


def test_every_operation_that_takes_a_body_documents_413(spec):
    """A body over MAX_CONTENT_LENGTH is refused with 413 before any route runs (found by the fuzz test)."""
    undocumented = [
        f"{method.upper()} {path}"
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
        if "requestBody" in operation and "413" not in operation["responses"]
    ]
    assert undocumented == [], f"operations that take a body but do not list 413: {undocumented}"


def test_every_4xx_response_is_the_error_envelope(spec):
    problems = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for status, response in operation.get("responses", {}).items():
                if status.startswith("4"):
                    schema = response.get("content", {}).get("application/json", {}).get("schema")
                    problem = envelope_problem(spec, schema)
                    if problem:
                        problems.append(f"{method.upper()} {path} {status}: {problem}")
    assert problems == [], "\n".join(problems)


class _Links(HTMLParser):
    """Collect the src and href attributes of a page."""

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.urls += [value for name, value in attrs if name in ("src", "href") and value]


def test_docs_page_loads_only_assets_the_app_serves(client):
    response = client.get(DOCS)
    assert response.status_code == 200 and response.mimetype == "text/html", response.get_data(as_text=True)[:500]
    links = _Links()
    links.feed(response.get_data(as_text=True))
    assert links.urls, "the docs page references no assets"
    external = [url for url in links.urls if urlsplit(url).scheme or urlsplit(url).netloc]
    assert external == [], f"the docs page loads from other hosts: {external}"
    for url in links.urls:
        with client.get(urljoin(DOCS, url)) as asset:
            assert asset.status_code == 200 and asset.get_data(), f"{url} answered {asset.status_code}"


@dataclass(frozen=True)
class Step:
    """One "Try it out" of the walk: an operation run with its documented example by a demo user. Its path takes
    the walk's values named as its variables (or as `names` maps them), and `learns` what later steps need from
    its answer (a dotted path: "messages.0.id")."""

    method: str
    path: str
    who: str
    learns: dict[str, str] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)

    def url(self, walk: dict[str, str]) -> str:
        return re.sub(r"\{(\w+)\}", lambda named: walk[self.names.get(named[1], named[1])], self.path)


def the_sweep_runs(app, client, walk: dict, auth) -> None:
    """What the scheduler does within seconds of a filing: the related check suggests the two reports of one
    drone as related (the example filed twice)."""
    jobs.sweep(app)
    related = client.get(f"/api/v1/incidents/{walk['again']}/related", headers=auth("duty")).get_json()
    walk["link_id"] = str(next(link["id"] for link in related["suggested"] if link["older"] == walk["reference"]))


def the_demos_open_questions(app, client, walk: dict, auth) -> None:
    """What the demo leaves for someone to decide: its FLASH incident, whose first step runs out 10 min after it
    was loaded (its political level then waits for a supervisor), and the suggestion it leaves undecided."""
    listed = client.get("/api/v1/incidents?per_page=100", headers=auth("duty")).get_json()["items"]
    walk["flash"] = next(incident["reference"] for incident in listed if incident["precedence"] == "Z")
    with session_scope(app) as session:
        deadline = session.scalar(select(Incident.next_escalation_at).where(Incident.reference == walk["flash"]))
        assert escalation.sweep_batch(session, deadline, 1, "test", dispatch.ack_links(app)) == 1
    for incident in listed:
        related = client.get(f"/api/v1/incidents/{incident['reference']}/related", headers=auth("duty")).get_json()
        if related["suggested"]:
            walk["demo_incident"], walk["demo_link_id"] = incident["reference"], str(related["suggested"][0]["id"])


def an_action_agreed(app, client, walk: dict, auth) -> None:
    """An action agreed on the call, due an hour on: a due time is to come, so no example can hold one."""
    due = (utcnow() + timedelta(hours=1)).isoformat()
    action = {"text": "Eastland to send the drone's flight data", "party": "them", "due_at": due}
    call = client.patch(f"/api/v1/calls/{walk['call_id']}", json={"actions": [action]}, headers=auth("liaison"))
    assert call.status_code == 200, call.get_json()
    walk["action_id"] = str(call.get_json()["actions"][0]["id"])


# The operations whose request body the docs page offers as an example, in the order a desk uses them, and
# what the walk does between them.
WALK = [
    Step("post", "/api/v1/incidents", "duty", learns={"reference": "reference"}),
    Step("patch", "/api/v1/incidents/{reference}", "duty"),
    Step("post", "/api/v1/incidents/{reference}/acknowledge", "liaison"),
    Step("patch", "/api/v1/incidents/{reference}/releasability", "liaison"),
    Step("patch", "/api/v1/incidents/{reference}/marking", "liaison"),
    Step(
        "post",
        "/api/v1/incidents/{reference}/exchanges",
        "liaison",
        learns={"exchange_id": "id", "message_id": "messages.0.id"},
    ),
    Step("patch", "/api/v1/exchange-messages/{message_id}", "liaison"),
    Step("post", "/api/v1/exchange-messages/{message_id}/approve", "supervisor"),
    Step("post", "/api/v1/exchange-messages/{message_id}/send", "liaison"),
    Step("post", "/api/v1/exchanges/{exchange_id}/messages/{message_id}/receipt", "liaison"),
    Step("post", "/api/v1/exchanges/{exchange_id}/transitions", "liaison"),
    Step("post", "/api/v1/exchanges/{exchange_id}/messages", "liaison"),
    Step("post", "/api/v1/exchanges/{exchange_id}/receipts", "liaison"),
    Step("post", "/api/v1/incidents/{reference}/calls", "liaison", learns={"call_id": "id"}),
    Step("patch", "/api/v1/calls/{call_id}", "liaison"),
    an_action_agreed,
    Step("post", "/api/v1/actions/{action_id}/done", "liaison"),
    Step("post", "/api/v1/incidents/{reference}/summaries", "liaison", learns={"summary_id": "id"}),
    Step("patch", "/api/v1/summaries/{summary_id}", "liaison"),
    Step("post", "/api/v1/summaries/{summary_id}/approve", "supervisor"),
    Step("post", "/api/v1/summaries/{summary_id}/send", "liaison"),
    Step("post", "/api/v1/incidents/{reference}/comments", "liaison"),
    the_demos_open_questions,
    Step("post", "/api/v1/incidents/{reference}/decision", "supervisor", names={"reference": "flash"}),
    Step(
        "post",
        "/api/v1/incidents/{reference}/related/{link_id}/dismiss",
        "duty",
        names={"reference": "demo_incident", "link_id": "demo_link_id"},
    ),
    Step("post", "/api/v1/incidents", "duty", learns={"again": "reference"}),
    the_sweep_runs,
    Step("post", "/api/v1/incidents/{reference}/related/{link_id}/confirm", "duty", names={"reference": "again"}),
    Step("post", "/api/v1/incidents/{reference}/resolve", "liaison"),
    Step("post", "/api/v1/routes/preview", "duty"),
    Step("post", "/api/v1/agreements", "admin", learns={"agreement_id": "id"}),
    Step("patch", "/api/v1/agreements/{agreement_id}", "admin"),
    Step("post", "/api/v1/channels", "admin", learns={"channel_id": "id"}),
    Step("patch", "/api/v1/channels/{channel_id}", "admin"),
    Step("post", "/api/v1/policies", "admin", learns={"policy_id": "id"}),
    Step("patch", "/api/v1/policies/{policy_id}", "admin"),
    Step("post", "/api/v1/rules", "admin", learns={"rule_id": "id"}),
    Step("patch", "/api/v1/rules/{rule_id}", "admin"),
    Step("post", "/api/v1/exercises", "supervisor", learns={"exercise_id": "id"}),
    Step("patch", "/api/v1/exercises/{exercise_id}", "supervisor"),
    Step("post", "/api/v1/exercises/{exercise_id}/briefings", "supervisor"),
    Step("post", "/api/v1/exercises/import", "supervisor"),
    Step("post", "/api/v1/watches", "duty", learns={"watch_id": "id"}),
    Step("post", "/api/v1/watches/{watch_id}/entries", "duty"),
    Step("post", "/api/v1/watches/{watch_id}/handover", "duty", learns={"handover_id": "id"}),
    Step("post", "/api/v1/handovers/{handover_id}/notes", "duty"),
    Step("post", "/api/v1/handovers/{handover_id}/brief", "duty"),
    Step("post", "/api/v1/handovers/{handover_id}/sign", "liaison"),
    Step("post", "/api/v1/handovers", "liaison"),
]


def example_of(operation: dict):
    """The request body the docs page's "Try it out" fills in, if the operation documents one."""
    content = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    if "example" in content:
        return content["example"]
    return next(iter(content.get("examples", {}).values()), {}).get("value")


def answered(body, where: str) -> str:
    for key in where.split("."):
        body = body[int(key)] if isinstance(body, list) else body[key]
    return str(body)


def test_every_request_example_of_the_docs_works_as_it_is_on_the_demo_data(app, client, spec, tmp_path, monkeypatch):
    """The docs page's "Try it out" sends an operation's example: built from the fields' own examples, a
    filing gave both spellings of the CPA and position_text "string", and was refused (422); with none, an
    exchange's transition sent state "notified" and a watch's handover incoming "string"."""
    monkeypatch.setattr(app, "instance_path", str(tmp_path / "instance"))  # the demo's credentials file
    loaded = app.test_cli_runner().invoke(args=["demo"])
    assert loaded.exit_code == 0, loaded.output
    tokens = dict(re.findall(r"^(\w+)\s+password \S+\s+token (trk_\S+)$", loaded.output, re.MULTILINE))

    def auth(who: str) -> dict:
        return {"Authorization": f"Bearer {tokens[who]}"}

    documented = {
        (method, path): example_of(operation)
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
        if example_of(operation) is not None
    }
    steps = [step for step in WALK if isinstance(step, Step)]
    assert sorted(documented) == sorted({(step.method, step.path) for step in steps})
    walk: dict[str, str] = {}
    for step in WALK:
        if not isinstance(step, Step):
            step(app, client, walk, auth)
            continue
        body = documented[(step.method, step.path)]
        url = step.url(walk)
        response = client.open(url, method=step.method, json=body, headers=auth(step.who))
        assert response.status_code in (200, 201), f"{step.method.upper()} {url} {body}: {response.get_json()}"
        walk.update({name: answered(response.get_json(), where) for name, where in step.learns.items()})


# Operations the docs page offers no example for, each saying why in its description.
WITHOUT_EXAMPLE = {
    ("post", "/api/v1/acks"),
    ("post", "/api/v1/channels/{channel_id}/checks/{check_id}/answer"),
}


def test_every_operation_that_takes_a_body_has_an_example_or_says_why_not(spec):
    """Swagger UI builds the body of an operation with no example from its fields' types (version 0, "string"
    for a position, line 0), which the API refuses: what cannot have one says so where the docs page shows it."""
    problems = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if "requestBody" not in operation or example_of(operation) is not None:
                continue
            if (method, path) not in WITHOUT_EXAMPLE:
                problems.append(f"{method.upper()} {path}: no example")
            elif "no example" not in operation.get("description", ""):
                problems.append(f"{method.upper()} {path}: its description does not say why it has no example")
    assert problems == [], "\n".join(problems)


def test_every_operation_documents_503_and_the_retry_after_of_429_and_503(spec):
    """Every operation answers 503 with Retry-After while the database does not answer, and none said so; 429 named
    its Retry-After in words only."""
    missing = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or not path.startswith("/api/v1"):
                continue
            for code in ("503", "429"):
                answer = operation["responses"].get(code)
                if (code == "503" and answer is None) or (
                    answer is not None and "Retry-After" not in answer.get("headers", {})
                ):
                    missing.append(f"{method.upper()} {path} {code}")
    assert missing == [], missing
