"""A page or an API read costs the same number of statements however many rows it shows: each test reads
at two sizes and compares, so a relationship loaded one row at a time (N+1) fails it."""

from datetime import timedelta

import pytest

from tests.exchange_support import acknowledged_incident, add_counterpart_line, api, open_exchange
from tests.statements import recorded
from tests.support import World, file_incident, run_filing_checks, sign_in
from tracker.db import session_scope
from tracker.models import Role
from tracker.services.accounts import people
from tracker.timeutil import isoformat, utcnow


def statements_of(client, path: str, headers: dict | None = None) -> list[str]:
    """The statements one GET of the path sends, read the second time (the first fills caches: the route
    table, a token's last use)."""
    client.get(path, headers=headers)
    with recorded(client.application) as seen:
        answer = client.get(path, headers=headers)
    assert answer.status_code == 200, (path, answer.status_code, answer.get_data(True)[:500])
    return seen


def costs(client, paths: list[str], headers: dict | None = None) -> dict[str, int]:
    return {path: len(statements_of(client, path, headers)) for path in paths}


@pytest.fixture
def signed_in(app, world: World):
    """A page client signed in as the supervisor (who sees every page read here)."""
    client = app.test_client()
    assert sign_in(client, "supervisor").status_code == 302
    return client


LINES = (("Eastland liaison mission", "mission"), ("Eastland hotline", "hotline"))
EXCHANGE_READS = ["/api/v1/exchanges", "/api/v1/exchanges?open=true"]
EXCHANGE_PAGES = ["/board", "/board/exchanges/rows"]


def test_the_open_exchanges_cost_the_same_statements_for_six_as_for_two(app, client, world, signed_in):
    """The board (refreshed every 3 s) and GET /exchanges read each exchange's messages in a statement of its
    own, for the receipt awaited and the states offered next."""
    add_counterpart_line(app, world)

    def open_more(count: int) -> None:
        for _ in range(count):
            open_exchange(client, world, acknowledged_incident(client, world))

    open_more(2)
    few = costs(client, EXCHANGE_READS, world.auth("supervisor")) | costs(signed_in, EXCHANGE_PAGES)
    open_more(4)
    more = costs(client, EXCHANGE_READS, world.auth("supervisor")) | costs(signed_in, EXCHANGE_PAGES)
    assert more == few, f"two exchanges: {few}; six: {more}"


def log_calls(client, world: World, reference: str, exchange_id: int, count: int) -> None:
    """Calls on the exchange, each ended with an action agreed."""
    for number in range(count):
        body = {
            "direction": "they_called",
            "exchange_id": exchange_id,
            "started_at": isoformat(utcnow() - timedelta(minutes=10)),
            "ended_at": isoformat(utcnow() - timedelta(minutes=5)),
            "actions": [
                {"text": f"Action {number}", "party": "them", "due_at": isoformat(utcnow() + timedelta(hours=2))}
            ],
        }
        api(client, world, "POST", f"/incidents/{reference}/calls", body, status=201)


def test_an_incident_with_a_longer_history_costs_no_more_statements(app, client, world, signed_in):
    """The incident's API detail, page, live parts and printed record read each call's actions, each
    exchange's line, messages and calls, each notification's delivery attempts and each related incident
    in a statement of its own; the page's live parts are polled every few seconds."""
    lines = [add_counterpart_line(app, world, name, address=f"{tag}@eastland.test") for name, tag in LINES]
    reference = acknowledged_incident(client, world)
    reads = [f"/api/v1/incidents/{reference}", f"/api/v1/incidents/{reference}/exchanges"]
    reads += [f"/api/v1/incidents/{reference}/related"]
    pages = [f"/incidents/{reference}", f"/incidents/{reference}/live", f"/incidents/{reference}/print"]

    def grow(line: str, calls: int, look_alikes: int) -> dict[str, int]:
        exchange = open_exchange(client, world, reference, line=line)
        log_calls(client, world, reference, exchange["id"], calls)
        for _ in range(look_alikes):  # the same category, place and time: suggested as related
            file_incident(client, world)
        run_filing_checks(app)
        return costs(client, reads, world.auth("supervisor")) | costs(signed_in, pages)

    assert len(lines) == 2
    few = grow(LINES[0][0], calls=1, look_alikes=1)
    more = grow(LINES[1][0], calls=4, look_alikes=4)
    related = api(client, world, "GET", f"/incidents/{reference}/related", who="supervisor")
    assert len(related["suggested"]) == 5, related
    assert more == few, f"one exchange, call and related incident: {few}; two, five and five: {more}"


ADMIN_READS = ["/api/v1/channels", "/api/v1/policies", "/api/v1/rules"]
ADMIN_PAGES = ["/admin/users", "/admin/channels", "/admin/policies", "/admin/rules"]


def test_the_admin_lists_cost_the_same_statements_for_more_lines_policies_rules_and_users(app, client, world):
    """The lists of lines, policies, rules and users read each line's members, each policy's steps and their
    lines, each rule's policy and each user's tokens in a statement of their own."""
    admin = app.test_client()
    assert sign_in(admin, "admin").status_code == 302

    def add(first: int, count: int) -> dict[str, int]:
        for number in range(first, first + count):
            with session_scope(app) as session:
                user = people.create_user(
                    session,
                    f"officer{number}",
                    "officer-password",
                    Role.LIAISON,
                    email=f"o{number}@test.example",
                    by=None,
                )
                people.create_token(session, user, "desk", by="admin")
            line = {"name": f"Line {number}", "level": 2, "transport": "outbox", "members": [f"officer{number}"]}
            line = api(
                client, world, "POST", "/channels", line | {"address": f"line{number}@test.example"}, "admin", 201
            )
            step = {"channel_ids": [line["id"]], "ack_seconds": 60, "fallback_channel_id": world.channels["L3"]}
            policy = api(
                client, world, "POST", "/policies", {"name": f"Ladder {number}", "steps": [step]}, "admin", 201
            )
            rule = {"name": f"Rule {number}", "domain": "maritime", "position": 1, "policy_id": policy["id"]}
            api(client, world, "POST", "/rules", rule, "admin", 201)
        return costs(client, ADMIN_READS, world.auth("admin")) | costs(admin, ADMIN_PAGES)

    few = add(0, 1)
    more = add(1, 4)
    assert more == few, f"one more of each: {few}; five: {more}"


def test_a_watch_read_through_the_api_costs_the_same_statements_for_a_longer_log(app, client, world):
    """GET /watches/{id} read the incident each log line names in a statement of its own."""
    watch = api(client, world, "POST", "/watches", {"desk": "Duty desk"}, who="duty", status=201)
    path = f"/api/v1/watches/{watch['id']}"

    def log_lines(count: int) -> int:
        for number in range(count):
            line = {"text": f"Called the post ({number}).", "incident": file_incident(client, world)["reference"]}
            api(client, world, "POST", f"/watches/{watch['id']}/entries", line, who="duty", status=201)
        return len(statements_of(client, path, world.auth("duty")))

    few = log_lines(1)
    more = log_lines(4)
    assert more == few, f"one line: {few} statements; five: {more}"
