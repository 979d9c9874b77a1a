"""The edge both doors share: one error answer per door, one permission decorator, one unit of work,
and rate-limit bookkeeping in transactions of its own."""

import re

import pytest
from werkzeug.routing import AnyConverter, IntegerConverter

from tests.support import filing_form, sign_in
from tracker.db import get_session, session_scope
from tracker.errors import Conflict
from tracker.http import ratelimit
from tracker.http.transaction import transactional
from tracker.models import Counter
from tracker.services.accounts import throttle
from tracker.timeutil import utcnow

KEY = "test:address:198.51.100.7"


def _count(app, key: str = KEY) -> int:
    with session_scope(app) as session:
        return throttle.count(session, key, app.config["RATE_LIMIT_WINDOW_SECONDS"], utcnow())


def _counter(app, name: str) -> Counter | None:
    with session_scope(app) as session:
        return session.get(Counter, name)


@pytest.mark.both_databases  # counted by an upsert written per engine, in a transaction of its own
def test_rate_limit_counts_are_committed_apart_from_the_request(app):
    with app.test_request_context("/api/v1/incidents", method="POST"):
        ratelimit.attempt(KEY, "SIGNIN_PER_ADDRESS", "attempts")
        session = get_session()
        session.add(Counter(name="request-work", value=1))
        session.flush()
        # Once the request's own transaction is open, the bookkeeping refuses to run rather than
        # commit it (or, on SQLite, wait for the write lock that transaction holds).
        with pytest.raises(RuntimeError, match="before the request's session begins"):
            ratelimit.attempt(KEY, "SIGNIN_PER_ADDRESS", "attempts")
        session.rollback()
    assert _count(app) == 1, "the attempt made before the request's work is counted, and only that one"
    assert _counter(app, "request-work") is None, "the request's own work was never committed"


@pytest.mark.both_databases  # counted by an upsert written per engine, in a transaction of its own
def test_a_refused_check_is_counted_and_raised_again(app):
    def refuse(_session):
        raise Conflict("not this one")

    with app.test_request_context("/api/v1/exercises.ics"):
        with pytest.raises(Conflict, match="not this one"):
            ratelimit.guarded(KEY, "TOKEN_FAILURES_PER_ADDRESS", "wrong keys", refuse)
        assert ratelimit.guarded(KEY, "TOKEN_FAILURES_PER_ADDRESS", "wrong keys", lambda _s: "found") == "found"
    assert _count(app) == 1, "the refusal counts as a failure; the success does not"


@pytest.mark.both_databases  # the unit of work's commit and rollback
def test_the_unit_of_work_commits_a_view_that_returns_and_rolls_back_one_that_raises(app):
    @transactional
    def works(name: str):
        get_session().add(Counter(name=name, value=7))
        return name

    @transactional
    def fails(name: str):
        get_session().add(Counter(name=name, value=7))
        get_session().flush()
        raise Conflict("changed meanwhile")

    with app.test_request_context("/", method="POST"):
        assert works("kept") == "kept"
        with pytest.raises(Conflict):
            fails("dropped")
    assert _counter(app, "kept") is not None and _counter(app, "kept").value == 7
    assert _counter(app, "dropped") is None, "a view that raised leaves nothing behind"


@pytest.mark.parametrize(
    ("path", "kind"),
    [("/api/v1/incidents/INC-0000-99999", "json"), ("/incidents/INC-0000-99999", "html")],
)
def test_one_error_registration_answers_each_door_in_its_own_form(app, client, world, path, kind):
    if kind == "json":
        answer = client.get(path, headers=world.auth("duty"))
        assert answer.status_code == 404 and answer.get_json()["error"]["code"] == "not_found", answer.text
    else:
        sign_in(client, "duty", "duty-password")
        answer = client.get(path)
        assert answer.status_code == 404 and "<html" in answer.text.lower(), answer.text[:300]


@pytest.mark.parametrize(("path", "method", "status"), [("/no-such-page", "GET", 404), ("/signout", "PUT", 405)])
def test_an_error_page_says_its_title_once_not_again_in_werkzeugs_capitals(client, world, path, method, status):
    """The 404 page read "404 · Not found", then "Not Found" below it: the same words twice."""
    sign_in(client, "duty")
    answer = client.open(path, method=method)
    assert answer.status_code == status, answer.text[:300]
    main = answer.text[answer.text.index("<main") :]
    said = re.sub(r"<[^>]+>", " ", main[: main.index("Back to the board")])
    assert len(re.findall(r"not (found|allowed)", said, re.I)) == 1, said


def test_a_page_that_refuses_with_a_reason_says_it(app, client, world):
    """What a page gave abort() was dropped for the status's name: a damaged one-time key on the filing form
    answered a bare "400 · Bad request", never "open the form again"."""
    sign_in(client, "duty")
    answer = client.post("/incidents/new", data=filing_form(client, filing_key="k" * 201))
    assert answer.status_code == 400, answer.text[:300]
    assert "The form&#39;s one-time key is damaged: open the form again." in answer.text, answer.text[-2500:]
    stock = client.open("/signout", method="PUT")  # Werkzeug's own 405, its stock text left unsaid
    assert stock.status_code == 405 and "method is not allowed" not in stock.text, stock.text[-1500:]
    api = client.delete("/api/v1/health")
    assert api.status_code == 405, api.text
    assert api.get_json()["error"]["message"] == "/api/v1/health takes GET, not DELETE", api.text


@pytest.mark.both_databases  # PostgreSQL raises on an id beyond 32 bits or a NUL; SQLite finds nothing
def test_every_page_answers_a_path_value_no_row_can_have_with_the_not_found_page(app, client, world):
    """Ids beyond what the columns hold (PostgreSQL: 32 bits; SQLite: 64) and text holding a NUL would
    raise in the database: every page with a path argument refuses them first, as the API does."""
    sign_in(client, "admin", "admin-password")
    wrong, tried = [], 0
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/") or not rule.arguments or not {"GET", "POST"} & rule.methods:
            continue
        for big in (3_000_000_000, 2**63 + 1):
            path = rule.build({name: _impossible(rule._converters[name], big) for name in rule.arguments})[1]
            for method in sorted({"GET", "POST"} & rule.methods):
                answer, tried = client.open(path, method=method), tried + 1
                if answer.status_code not in (400, 404) or "<html" not in answer.text.lower():
                    wrong.append(f"{method} {path!r}: {answer.status_code} {answer.text[:120]!r}")
    assert tried > 50 and not wrong, f"{len(wrong)} of {tried} answered wrongly:\n" + "\n".join(wrong)


def _impossible(converter, big: int):
    """A value of the argument's kind that no row can have: the id beyond the column, text with a NUL."""
    if isinstance(converter, IntegerConverter):
        return big
    if isinstance(converter, AnyConverter):  # a fixed word, not looked up: any of them
        return sorted(converter.items)[0]
    return "INC-2026-00001\x00"


def test_an_id_in_a_path_written_in_other_digits_finds_nothing(app, client, world):
    """Werkzeug's int converter matched \\d+, and int() read "١" as 1: /api/v1/channels/١ answered channel 1."""
    numbered = [
        rule
        for rule in app.url_map.iter_rules()
        if any(isinstance(c, IntegerConverter) for c in rule._converters.values())
    ]
    assert numbered and all(
        rule._converters[name].regex == "[0-9]+"
        for rule in numbered
        for name in rule.arguments
        if isinstance(rule._converters[name], IntegerConverter)
    ), [r.rule for r in numbered][:5]
    line = world.channels["L1"]
    assert client.get(f"/api/v1/channels/{line}", headers=world.auth("admin")).status_code == 200
    for zero in ("٠", "０", "०"):  # the line's id in Arabic-Indic, fullwidth and Devanagari digits
        spelt = "".join(chr(ord(zero) + int(digit)) for digit in str(line))
        answer = client.get(f"/api/v1/channels/{spelt}", headers=world.auth("admin"))
        assert answer.status_code == 404 and answer.get_json()["error"]["code"] == "not_found", (
            spelt,
            answer.text[:200],
        )


@pytest.mark.parametrize(
    ("method", "path", "status"), [("GET", "/api/v1//health", 308), ("OPTIONS", "/api/v1/health", 200)]
)
def test_the_api_answers_no_html_even_before_any_route_runs(client, method, path, status):
    """A doubled slash was redirected with Werkzeug's "Redirecting..." page, and OPTIONS answered an empty body
    typed text/html: HTML from the API."""
    answer = client.open(path, method=method)
    assert answer.status_code == status, answer.text[:300]
    assert answer.mimetype != "text/html" and "<" not in answer.text, (answer.headers, answer.text[:300])
    if status == 308:
        assert answer.headers["Location"].endswith("/api/v1/health"), answer.headers
