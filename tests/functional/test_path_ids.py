"""A path of the API whose integer id is not a whole number says so: GET /api/v1/exchanges/abc answered "no
operation of the API at ...", true, but it left the caller to guess that the id was what was wrong."""

import re

# Each integer id in a rule: <int:exchange_id>.
INTEGER = re.compile(r"<int(?:\([^<>]*\))?:(\w+)>")


def integer_id_operations(app) -> list[tuple[str, str, str]]:
    """(method, rule, integer variable) for every operation of the API that takes an integer id, each id in turn."""
    found = [
        (method, rule.rule, name)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/")
        for name in INTEGER.findall(rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
    ]
    assert len({rule for _method, rule, _name in found}) > 20, found
    return found


def with_ids(rule: str, wrong: str, given: str) -> str:
    """The rule's path with given for the id named wrong, 1 for the other ids and an incident's reference."""
    path = INTEGER.sub(lambda named: given if named[1] == wrong else "1", rule)
    return re.sub(r"<(?:\w+:)?(\w+)>", "INC-2026-00001", path)


def test_every_integer_id_given_as_no_whole_number_is_told_to_be_one(app, client, world):
    """Whatever the method, whoever asks (the path is refused before the token is read)."""
    problems = []
    for method, rule, name in integer_id_operations(app):
        for given in ("abc", "-1", "1.5", "١"):
            path = with_ids(rule, name, given)
            answer = client.open(path, method=method, headers=world.auth("admin"))
            error = (answer.get_json() or {}).get("error", {})
            said = f"{method} {path}: {answer.status_code} {error}"
            if answer.status_code != 404 or error.get("details", {}).get(name) != "a whole number of 1 or more":
                problems.append(said)
            elif f"{name} in " not in error["message"] or f"not {given!r}" not in error["message"]:
                problems.append(said)
    assert problems == [], "\n".join(problems[:20])


def test_the_exchange_the_integrator_asked_for(client, world):
    answer = client.get("/api/v1/exchanges/abc", headers=world.auth("duty"))
    assert answer.status_code == 404, answer.get_json()
    assert answer.get_json()["error"] == {
        "code": "not_found",
        "message": "exchange_id in /api/v1/exchanges/abc must be a whole number of 1 or more, not 'abc'",
        "details": {"path": "/api/v1/exchanges/abc", "exchange_id": "a whole number of 1 or more"},
    }


def test_a_path_of_no_operation_and_a_wrong_method_are_told_as_before(client, world):
    """Only a path that would name an operation with a whole number there is told about its id."""
    misspelt = client.get("/api/v1/exchange/abc", headers=world.auth("duty")).get_json()["error"]
    assert misspelt["message"].startswith("no operation of the API at /api/v1/exchange/abc"), misspelt
    # /exchanges/<int:exchange_id> takes GET only: DELETE is no operation whatever the id
    deleted = client.delete("/api/v1/exchanges/abc", headers=world.auth("admin")).get_json()["error"]
    assert deleted["message"].startswith("no operation of the API"), deleted
    # a whole number that names nothing is the operation's own 404
    unknown = client.get("/api/v1/exchanges/999999", headers=world.auth("duty"))
    assert unknown.status_code == 404 and "whole number" not in unknown.get_json()["error"]["message"]
