"""A 201 that made something one can read says where it is (Location), and the OpenAPI document says so."""

import pytest

CHANNEL = {"name": "Night desk", "level": 1, "transport": "outbox", "address": "night@test.example"}
AGREEMENT = {"code": "DMA-1989", "title": "Dangerous Military Activities", "default_article": "Article II"}


def creations(world) -> list[tuple[str, dict]]:
    """What an admin's integration creates on the ladder, each read back at its own path."""
    return [
        ("/api/v1/channels", CHANNEL),
        ("/api/v1/policies", {"name": "Night ladder", "steps": [{"channel_ids": [world.channels["L1"]]}]}),
        ("/api/v1/rules", {"name": "Night rule", "policy_id": world.policy_id, "domain": "maritime"}),
        ("/api/v1/agreements", AGREEMENT),
    ]


@pytest.mark.parametrize("kind", ["channels", "policies", "rules", "agreements"])
def test_a_line_policy_rule_or_agreement_made_says_where_to_read_it(client, world, kind):
    """Lines, policies, rules and agreements answered 201 with no Location: a client had to build the path from
    the id in the body, where an incident, an exchange or a call gave it."""
    path, body = next(item for item in creations(world) if item[0].endswith(f"/{kind}"))
    made = client.post(path, json=body, headers={**world.auth("admin"), "Idempotency-Key": f"make-{kind}"})
    assert made.status_code == 201, made.get_json()
    location = made.headers.get("Location")
    assert location == f"{path}/{made.get_json()['id']}", (location, made.get_json())
    read = client.get(location, headers=world.auth("admin"))
    assert read.status_code == 200 and read.get_json()["id"] == made.get_json()["id"], read.get_json()
    again = client.post(path, json=body, headers={**world.auth("admin"), "Idempotency-Key": f"make-{kind}"})
    assert again.headers.get("Idempotent-Replayed") == "true" and again.headers.get("Location") == location


def test_every_201_that_gives_a_location_documents_it(client, world):
    """The OpenAPI document said nothing of Location on any answer, though the README promises it for retries."""
    spec = client.get("/api/v1/openapi.json").get_json()
    documented = {
        (method, path)
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
        if "Location" in operation.get("responses", {}).get("201", {}).get("headers", {})
    }
    made = [("post", path) for path, _body in creations(world)] + [("post", "/api/v1/incidents")]
    assert set(made) <= documented, set(made) - documented
    for method, path in documented:
        schema = spec["paths"][path][method]["responses"]["201"]["headers"]["Location"]
        assert schema.get("required") is True and schema["schema"]["type"] == "string", (path, schema)
