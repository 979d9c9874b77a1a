"""Every HTTP entry point against malformed input: what an attacker or a careless client sends.

Each route the app serves (app.url_map, listed by the authorization matrix; the OpenAPI document's
operations among them) is called as a principal the matrix lets in, on things made for it by the
matrix's scenes (tests/functional/test_authorization_matrix.py), with input spoilt one way at a time:
bytes that are not UTF-8 in the path, the query, the JSON body and the form fields; a body in another
Content-Type; JSON that is not an object, nested too deeply, or holding NaN; in each field of the
route's valid body, a NUL, an integer beyond 64 bits, text too long, a value of another type; a bad
If-Match, an odd Accept-Language; a parameter the route does not have. Pages are posted with the
session's CSRF token, so what refuses them is the form, not the CSRF check.

The answer is never a 5xx, nor an exception logged as an error; on the API a 4xx carries the error
envelope, on the pages it is an HTML page (the form shown again with the message beside its field, or
the error page), or the envelope for the JSON a page's script reads. Where the input may be read as
given (any text in a text field, a body a route does not read) a 2xx or a redirect is fine.

On SQLite only, as the other HTTP contracts (tests/conftest.py): what reaches the database differently
on PostgreSQL has tests of its own marked both_databases. A run of this walk on PostgreSQL found one
(a NUL in the officer menus of the watch pages: test_input_validity.py).

Each route answers some 20 to 150 requests; a page's per-field NUL is sent one field at a time, its
other spoilt values in every field at once, to keep the module's time within CI's budget.
"""

import copy
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode

import pytest

from tests.authorization_matrix import ANONYMOUS, EXCLUDED, LOGIN, MATRIX
from tests.functional.test_authorization_matrix import Scene, staged
from tests.support import CSRF_TOKEN, csrf, sign_in

ACCOUNTS = {"duty": "duty", "liaison_member": "liaison", "liaison_other": "outsider"}
ACCOUNTS.update(supervisor="supervisor", admin="admin")
UNLIMITED = 1_000_000
PARAMETER = re.compile(r"<(?:[^<>:]+:)?([^<>]+)>")
HUGE = 10**30
API = "/api/"
JSON = "application/json"
NUL = "a\x00b"
FORM = "application/x-www-form-urlencoded"
MULTIPART = b'--b\r\nContent-Disposition: form-data; name="text"\r\n\r\n\xff\r\n--b--\r\n'
UNKNOWN_PARAMETERS = {"zz_unknown": "\x00\x00", "page": "NaN"}
# A value of each JSON type, for a documented field the valid body leaves out.
SAMPLES = {"string": "x", "integer": 1, "number": 1.5, "boolean": True, "array": [], "object": {}}
# The fields of a page's form, as its HTML names them; a page's filters, a form it sends to itself by GET.
FORM_FIELD = re.compile(r'<(?:input|select|textarea)[^>]*\bname="([^"]+)"')
FILTER_FORM = re.compile(r'<form[^>]*method="get"[^>]*action="([^"]*)"[^>]*>(.*?)</form>', re.S)


# What takes the place of a field's valid value, by the valid value's type: other types, and the edges of its own.
WRONG_VALUES: dict[type, dict[str, object]] = {
    str: {"nul": NUL, "overlong": "x" * 20_000, "huge": HUGE},
    bool: {"huge": HUGE},
    int: {"huge": HUGE, "negative": -1, "nan": float("nan"), "word": "1 or 2"},
    float: {"nan": float("nan"), "huge": HUGE},
    list: {"word": "one", "nested": [[[NUL]], HUGE, None]},
    dict: {"list": [1, 2]},
    type(None): {"object": {"a": 1}},
}
# A form field is text: a NUL one field at a time (the others as the valid form has them); a number beyond
# every column, text too long and a number no float is, in every field at once (each of 5,000 characters:
# longer than any field takes, and the whole form within MAX_CONTENT_LENGTH).
FORM_VALUES = {"nul": NUL}
FORM_EVERYWHERE = {"huge": str(HUGE), "overlong": "x" * 5_000, "nan": "NaN"}
# Bodies that are no JSON object, or no JSON, or not UTF-8, sent as the API's JSON.
RAW_BODIES = {
    "body not UTF-8": b'{"text": "\xff\xfe", "name": "\xc3"}',
    "body an array": b"[1, 2]",
    "body null": b"null",
    "body empty": b"",
    "body NaN": b"NaN",
    "body nested arrays": b"[" * 5000 + b"]" * 5000,
    "body nested objects": b'{"a":' * 5000 + b"1" + b"}" * 5000,
    "body 4000-digit integer": b'{"x": ' + b"9" * 4000 + b"}",
    "body NUL escaped": b'{"x": "\\u0000"}',
    "body lone surrogate": b'{"x": "\\ud800"}',
}
ODD_HEADERS = {
    "X-Request-ID": "a\x00b\xff" * 100,
    "Idempotency-Key": "\x00" + "k" * 300,
    "Accept-Language": "xx-;q=nan, *;q=1e999, " + "a" * 5000,
    "If-Match": 'W/"\u00ff", garbage, "' + "9" * 400 + '"',
    "If-None-Match": '"\x00", *',
}


@pytest.fixture(scope="module")
def stage(sqlite_database, tmp_path_factory):
    """The matrix's stage on an app of the module's own, CSRF checks on (the rate limits out of the way)."""
    yield from staged(sqlite_database, tmp_path_factory, "malformed-input-test", LOGIN_SLOWDOWN_AFTER=UNLIMITED)


@pytest.fixture(scope="module")
def spec(stage) -> dict:
    """The OpenAPI document the app serves."""
    return stage.app.test_client().get("/api/v1/openapi.json").get_json()


@pytest.fixture(scope="module")
def cookies() -> dict[str, str]:
    """Each principal's session cookie, signed in once for the module (again after a case ended it)."""
    return {}


def _principal(route) -> str:
    """A principal the matrix lets in (admin first), or anyone for a public route."""
    expected = MATRIX[route].expected
    for who in ("admin", "supervisor", "liaison_member", "duty", "liaison_other"):
        answer = expected[who]
        if answer != LOGIN and answer < 400:
            return who
    return ANONYMOUS


def _by_token(rule: str) -> bool:
    """Whether the route takes a bearer token (the API and /metrics) rather than a signed-in session."""
    return rule.startswith(API) or rule == "/metrics"


@dataclass
class Caller:
    """Sends one spoilt request of a route, as its principal, and says what was wrong with the answer."""

    scene: Scene
    method: str
    rule: str
    who: str
    values: dict
    body: object
    query: dict
    cookies: dict  # each principal's session cookie, kept while it lasts
    parameters: dict = field(default_factory=dict)  # the query parameters its document names
    # Each field the route reads (the valid body's, those its document or its form names) and a value of its type.
    fields: dict = field(default_factory=dict)

    def __post_init__(self):
        self.client = self.scene.app.test_client()
        self.api = _by_token(self.rule)
        self.headers: dict[str, str] = {}
        self.token = ""
        if self.who != ANONYMOUS and self.api:
            self.headers["Authorization"] = f"Bearer {self.scene.world.tokens[ACCOUNTS[self.who]]}"
        elif self.who != ANONYMOUS:
            self.token = self._signed_in()

    def _signed_in(self) -> str:
        """Sign the client in as the principal (again only when a request ended its session); its CSRF token."""
        name = self.scene.app.config["SESSION_COOKIE_NAME"]
        if self.who in self.cookies:
            self.client.set_cookie(name, self.cookies[self.who])
            form = self.client.get("/password")
            if form.status_code == 200:
                return CSRF_TOKEN.search(form.text)[1]
        assert sign_in(self.client, ACCOUNTS[self.who]).status_code == 302, f"{self.who} could not sign in"
        self.cookies[self.who] = self.client.get_cookie(name).value
        return csrf(self.client, "/password")

    def fresh_body(self):
        """The route's valid body, made again (a file in it is read once)."""
        body = self.body(self.scene) if callable(self.body) else copy.deepcopy(self.body)
        return {} if body is None else body

    def url(self, values: dict | None = None) -> str:
        """The route's address with its path values, some of them replaced by values (sent as given)."""
        values = {**self.values, **(values or {})}
        return PARAMETER.sub(lambda m: quote(str(values[m[1]]), safe="%"), self.rule)

    def form(self, fields) -> dict:
        """Form fields with the session's CSRF token."""
        return {**(fields if isinstance(fields, dict) else {}), **({"csrf_token": self.token} if self.token else {})}

    def raw(self, label: str, data: bytes, content_type: str) -> str | None:
        return self.send(label, data=data, content_type=content_type, query_string=self.query)

    def send(self, label: str, url: str | None = None, client=None, **request) -> str | None:
        """Send the request; None when the answer is right, else what was wrong with it."""
        headers = {**self.headers, **request.pop("headers", {})}
        url = url or self.url()
        try:
            answer = (client or self.client).open(url, method=self.method, headers=headers, **request)
        except Exception as exc:  # noqa: BLE001 - TESTING propagates what would have been a 500
            return f"{label}: {self.method} {url[:120]} raised {type(exc).__name__}: {str(exc)[:300]}"
        wrong = _wrong(self.rule, answer)
        body = answer.get_data(as_text=True)[:300]
        return f"{label}: {self.method} {url[:120]} answered {answer.status_code} {body!r}{wrong}" if wrong else None


def _wrong(rule: str, answer) -> str:
    """What is wrong with the answer to a malformed request ("" when nothing is)."""
    if answer.status_code >= 500:
        return " (a server error)"
    if answer.status_code < 400:
        return ""
    if rule.startswith(API) or answer.mimetype == JSON:  # the API, and the JSON a page's script reads (the map's)
        error = (answer.get_json(silent=True) or {}).get("error") if answer.mimetype == JSON else None
        enveloped = isinstance(error, dict) and sorted(error) == ["code", "details", "message"]
        return "" if enveloped else " (no error envelope)"
    if rule == "/metrics" and answer.mimetype == "text/plain":  # its refusals are a scraper's plain text
        return ""
    return "" if answer.mimetype == "text/html" else " (no HTML page)"


def _json_text(value) -> bytes:
    """JSON as a careless client writes it: NaN and Infinity as bare words."""
    return json.dumps(value, allow_nan=True).encode()


def _spoil_path(caller: Caller) -> list[str | None]:
    """Each path value as bytes that are not UTF-8, and as a number beyond 64 bits."""
    return [
        caller.send(f"path {name} {label}", url=caller.url({name: value}), query_string=caller.query)
        for name in caller.values
        for label, value in (("%FF", "%FF"), ("huge", str(HUGE)))
    ]


def _spoil_query(caller: Caller) -> list[str | None]:
    """The query not UTF-8, a parameter the route does not have, odd headers, each parameter's edges."""
    url = caller.url()
    spoilt = "&".join(f"{name}=%FF" for name in caller.query) or "x=%FF"
    problems = [
        caller.send("query %FF", url=f"{url}?{spoilt}"),
        caller.send("query name %FF", url=f"{url}?%FF=1"),
        caller.send(
            "unknown parameter, odd headers",
            url=f"{url}?{urlencode({**caller.query, **UNKNOWN_PARAMETERS})}",
            headers=ODD_HEADERS,
        ),
    ]
    # Credentials that are none: a bearer token of NUL and bytes beyond ASCII, a signed key of nothing, a
    # session cookie of junk (a client of its own, signed in as no one).
    stranger = caller.scene.app.test_client()
    stranger.set_cookie(caller.scene.app.config["SESSION_COOKIE_NAME"], "\xff.junk.%00")
    problems.append(
        caller.send(
            "junk credentials",
            url=f"{url}?{urlencode({**caller.query, 'key': NUL})}",
            client=stranger,
            headers={"Authorization": "Bearer " + "\x00\xff" * 50},
        )
    )
    for name in {**caller.parameters, **caller.query}:
        for label, value in (("nul", NUL), ("huge", str(HUGE))):
            problems.append(
                caller.send(f"query {name} {label}", url=f"{url}?{urlencode({**caller.query, name: value})}")
            )
    return problems


def _spoil_body(caller: Caller) -> list[str | None]:
    """The body as a whole, then each field the route reads in turn, the others as in its valid body."""
    body = caller.fresh_body()
    if caller.api:
        problems = [caller.raw(label, data, JSON) for label, data in RAW_BODIES.items()]
        valid = _json_text(body)
        problems += [
            caller.raw("body as text/plain", valid, "text/plain"),
            caller.raw("body as a form", b"text=%FF&name=x", FORM),
            caller.raw("body as multipart", MULTIPART, "multipart/form-data; boundary=b"),
        ]
    else:
        names = list(caller.fields) or ["text"]
        token = f"csrf_token={caller.token}&".encode()
        problems = [
            caller.raw("form %FF", token + "&".join(f"{quote(name)}=%FF" for name in names).encode(), FORM),
            caller.raw(
                "form raw bytes", token + b"&".join(quote(name).encode() + b"=\xff\xfe" for name in names), FORM
            ),
            caller.raw("form as JSON", _json_text(dict.fromkeys(names, "x")), JSON),
        ]
        for label, value in FORM_EVERYWHERE.items():
            spoilt = {**caller.fresh_body(), **dict.fromkeys(names, value)}
            problems.append(caller.send(f"every field {label}", data=caller.form(spoilt), query_string=caller.query))
    for label, spoilt in _spoilt_fields(caller):
        if caller.api:
            problems.append(caller.raw(label, _json_text({**caller.fresh_body(), **spoilt}), JSON))
        else:
            data = caller.form({**caller.fresh_body(), **spoilt})
            problems.append(caller.send(label, data=data, query_string=caller.query))
    return problems


def _operation(spec: dict, method: str, rule: str) -> dict:
    """The route's operation in the OpenAPI document ({} for a page)."""
    return spec["paths"].get(PARAMETER.sub(lambda m: f"{{{m[1]}}}", rule), {}).get(method.lower(), {})


def _documented_parameters(spec: dict, method: str, rule: str) -> dict:
    """The query parameters of the operation in the OpenAPI document."""
    return {p["name"]: "x" for p in _operation(spec, method, rule).get("parameters", []) if p.get("in") == "query"}


def _filters(caller: Caller) -> dict:
    """The query parameters of a page's own filter forms (a GET form sent to the page itself)."""
    if caller.method != "GET":
        return {}
    answer = caller.client.get(caller.url(), query_string=caller.query)
    forms = FILTER_FORM.findall(answer.get_data(as_text=True)) if answer.status_code == 200 else []
    return {name: "x" for action, inside in forms if action == caller.url() for name in FORM_FIELD.findall(inside)}


def _documented(spec: dict, method: str, rule: str) -> dict:
    """The properties of the operation's JSON body in the OpenAPI document, each with a value of its type."""
    body = _operation(spec, method, rule).get("requestBody", {})
    schema = body.get("content", {}).get(JSON, {}).get("schema", {})
    if "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    fields = {}
    for name, prop in schema.get("properties", {}).items():
        kinds = prop.get("type", "string")
        kind = next((k for k in ([kinds] if isinstance(kinds, str) else kinds) if k != "null"), "string")
        fields[name] = SAMPLES.get(kind, "x")
    return fields


def _on_its_form(caller: Caller) -> dict:
    """The fields of the page's own form (GET of the same address), each as text."""
    answer = caller.client.get(caller.url(), query_string=caller.query)
    names = FORM_FIELD.findall(answer.get_data(as_text=True)) if answer.status_code == 200 else []
    return {name: "x" for name in names if name != "csrf_token"}


def _fields(caller: Caller, spec: dict) -> dict:
    """The fields the route reads: those of its valid body, and those its document or its page's form names."""
    found = _documented(spec, caller.method, caller.rule) if caller.api else _on_its_form(caller)
    return {**found, **caller.fresh_body()}


def _spoilt_fields(caller: Caller) -> Iterator[tuple[str, dict]]:
    """Each field in turn with a wrong value; on the API also each field of a nested object, or of the first
    row of a list of them (a platform, a ladder step, a distance with its unit)."""
    for name, valid in caller.fields.items():
        for label, value in (WRONG_VALUES.get(type(valid), {}) if caller.api else FORM_VALUES).items():
            yield f"field {name} {label}", {name: value}
        row = valid[0] if caller.api and isinstance(valid, list) and valid else valid
        if not caller.api or not isinstance(row, dict):
            continue
        for inner, inner_valid in row.items():
            for label, value in WRONG_VALUES.get(type(inner_valid), {}).items():
                spoilt_row = {**row, inner: value}
                yield f"field {name}.{inner} {label}", {name: [spoilt_row] if row is not valid else spoilt_row}


def test_the_walk_covers_every_route_and_every_documented_operation(stage, spec):
    served = {
        (method, rule.rule)
        for rule in stage.app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
        if (method, rule.rule) not in EXCLUDED
    }
    assert served == set(MATRIX), sorted(served ^ set(MATRIX))
    documented = {
        (method.upper(), re.sub(r"\{([^}]+)\}", r"<\1>", path))
        for path, operations in spec["paths"].items()
        for method in operations
    }
    walked = {(method, PARAMETER.sub(lambda m: f"<{m[1]}>", rule)) for method, rule in MATRIX}
    assert documented <= walked, sorted(documented - walked)


@pytest.mark.parametrize("route", sorted(MATRIX), ids=lambda route: f"{route[0]} {route[1]}")
def test_malformed_input_is_refused_never_a_server_error(stage, spec, cookies, route, caplog):
    method, rule = route
    call = MATRIX[route]
    scene = Scene(stage, {})
    values = call.path(scene) if call.path else {}
    query = call.query(scene) if callable(call.query) else call.query
    caller = Caller(scene, method, rule, _principal(route), values, call.body, query, cookies)
    caller.parameters = _documented_parameters(spec, method, rule) if caller.api else _filters(caller)
    if method != "GET":
        caller.fields = _fields(caller, spec)
    caplog.set_level(logging.ERROR)
    problems = _spoil_path(caller) + _spoil_query(caller)
    if method != "GET":
        problems += _spoil_body(caller)
    problems = [problem for problem in problems if problem]
    logged = [f"{r.name}: {r.getMessage()[:300]}" for r in caplog.records if r.levelno >= logging.ERROR]
    assert not problems and not logged, "\n".join(problems + logged)
