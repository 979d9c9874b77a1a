"""Schemathesis against the OpenAPI document, in process: every operation, called with a bearer
token and a bounded number of generated requests, answers no 5xx, no status it does not document
and nothing its documented schema forbids.

Each operation is a test of its own with a fresh database holding a small world (a copy of a
template built once per worker); the requests of one operation share it, so what an early request
stored is there for the later ones. Half the time a generated id or reference is swapped for one
that exists, so the requests reach past "404" into the routes. The seed is fixed: a run repeats the
last one.

Schemathesis's coverage phase is off: it runs every boundary case the schema defines, however many
(1,600 requests for the filing alone), which tripled this module's time; the fuzzing phase's bounded
valid and invalid requests stay.

Found and fixed with it: a NUL in GET /audit/verify?incident= reached PostgreSQL (a 500), and no
operation said it may answer 413 for a body over MAX_CONTENT_LENGTH (tests in test_bad_input.py
and test_openapi.py).
"""

import copy

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error, response_schema_conformance, status_code_conformance

from tests.exchange_support import acknowledged_incident, add_counterpart_line, api, open_exchange
from tests.exercise_support import create as create_exercise
from tests.support import World, file_incident, run_filing_checks
from tracker import create_app

SPEC = "/api/v1/openapi.json"
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance]
CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 20261127,
        # Valid and invalid data; "database": no example store, so a run depends on the seed alone.
        "generation": {"max-examples": 20, "mode": "all", "database": "none"},
        "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
        "suppress-health-check": ["too_slow", "filter_too_much", "data_too_large", "large_base_example"],
    }
)
# The document is the same for every app: read it from one whose database is never opened.
schema = schemathesis.openapi.from_wsgi(
    SPEC,
    create_app(
        {"TESTING": True, "DATABASE_URL": "sqlite://", "SECRET_KEY": "fuzz-secret-key-of-at-least-32-characters"}
    ),
    config=CONFIG,
)
# What a liaison does: act on incidents routed to their lines, their exchanges and summaries.
liaison_actions = schema.include(
    method=["POST", "PATCH"], path_regex=r"^/api/v1/(incidents/\{reference\}/|exchanges/|summaries/)"
)
# What the test's world holds, by the name of the path parameter or body field that refers to it.
KNOWN: dict[str, object] = {}
KNOWN_IN_BODY: dict[str, object] = {}


def _either(generated, known: dict):
    """The generated values, or the same with what exists put in: half the time each."""
    if not isinstance(generated, dict) or not generated.keys() & known.keys():
        return st.just(generated)
    return st.sampled_from([generated, {**generated, **{k: known[k] for k in generated.keys() & known.keys()}}])


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    return _either(path_parameters, KNOWN)


@schema.hook
def flatmap_body(context, body):
    return _either(body, KNOWN_IN_BODY)


@pytest.fixture(scope="module")
def fuzz_template(sqlite_database) -> tuple[World, dict, dict]:
    """Build the fuzz world once and keep it as a template: an acknowledged incident with an exchange
    and a summary, another one related to it, a free counterpart line, an exercise, a routing rule
    besides the default, and a watch with its handover waiting for the signature. Return its World
    and what KNOWN and KNOWN_IN_BODY get. (Built again for each operation, it took a fifth of this
    module's time.)"""
    sqlite_database.reset("world")
    app, world = sqlite_database.app, copy.deepcopy(sqlite_database.world)
    client = app.test_client()
    reference = acknowledged_incident(client, world)
    add_counterpart_line(app, world)
    exchange = open_exchange(client, world, reference)["id"]
    summary = api(client, world, "POST", f"/incidents/{reference}/summaries", {"exchange_id": exchange}, status=201)
    related = file_incident(client, world)["reference"]  # same place, time and category
    run_filing_checks(app)  # the sweep suggests the link right after the filing
    [link] = api(client, world, "GET", f"/incidents/{related}/related")["suggested"]
    rule = {"name": "Sea incidents", "policy_id": world.policy_id, "domain": "maritime"}
    watch = api(client, world, "POST", "/watches", {}, who="duty", status=201)["id"]
    handover = api(client, world, "POST", f"/watches/{watch}/handover", {"incoming": "liaison"}, "duty", 201)
    known = {
        "reference": reference,
        "link_id": link["id"],
        "exchange_id": exchange,
        "summary_id": summary["id"],
        "exercise_id": create_exercise(client, world)["id"],
        "channel_id": world.channels["L1"],
        "policy_id": world.policy_id,
        "rule_id": api(client, world, "POST", "/rules", rule, who="admin", status=201)["id"],
        "watch_id": watch,
        "handover_id": handover["id"],
    }
    known_in_body = {
        "channel_id": add_counterpart_line(app, world, "Southland liaison mission"),
        "channel_ids": [world.channels["L1"]],
        "exchange_id": exchange,
        "policy_id": world.policy_id,
    }
    sqlite_database.keep("fuzz")
    return world, known, known_in_body


@pytest.fixture
def fuzz_world(fuzz_template, sqlite_database, app):
    """The test's database: a fresh copy of the fuzz template."""
    world, known, known_in_body = fuzz_template
    sqlite_database.reset("fuzz")
    KNOWN.update(known)
    KNOWN_IN_BODY.update(known_in_body)
    yield world
    KNOWN.clear()
    KNOWN_IN_BODY.clear()


# The database lives as long as the test, not one generated request: on purpose (see above).
# 3 generated requests per operation (Hypothesis would try up to 100): over the ~110 operations the run
# stays within CI's budget (it was a third of the suite's time at 100; 8 and 5 kept CI over six minutes on a
# slower machine), and Hypothesis's first examples already reach every parameter of every operation with boundary
# and odd values; the malformed-input walk (test_malformed_input.py) sends every route its odd values besides.
FRESH_PER_TEST = settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None, max_examples=3)


@pytest.mark.slow
@schema.parametrize()
@FRESH_PER_TEST
def test_every_operation_answers_the_admin_within_its_schema(case, app, fuzz_world):
    case.call_and_validate(app=app, headers=fuzz_world.auth("admin"), checks=CHECKS)


@pytest.mark.slow
@liaison_actions.parametrize()
@FRESH_PER_TEST
def test_what_a_liaison_does_answers_within_its_schema(case, app, fuzz_world):
    case.call_and_validate(app=app, headers=fuzz_world.auth("liaison"), checks=CHECKS)
