"""Administering the ladder through the JSON API: channels, policies, routing rules, and the
promise that a running incident keeps the ladder it was filed with."""

import dataclasses
import html
from datetime import timedelta

import pytest

from tests.support import file_incident, sign_in
from tracker import dispatch
from tracker.db import session_scope
from tracker.services.engine import escalation
from tracker.services.incidents import ladder
from tracker.timeutil import parse_moment

ROUTE = {"domain": "air", "category": "unsafe_intercept", "precedence": "O", "escalation_risk": "serious"}


def call(client, world, method, path, body=None, who="admin", status=200):
    response = client.open(f"/api/v1{path}", method=method, json=body, headers=world.auth(who))
    assert response.status_code == status, f"{method} {path}: {response.status_code} {response.get_data(True)}"
    return response.get_json() if response.data else None


def create_policy(client, world, name, *channels, ack_seconds=None):
    """A policy with one step per channel name."""
    steps = [{"channel_ids": [world.channels[c]], "ack_seconds": ack_seconds} for c in channels]
    return call(client, world, "POST", "/policies", {"name": name, "steps": steps}, status=201)


def create_rule(client, world, name, policy_id, **criteria):
    return call(client, world, "POST", "/rules", {"name": name, "policy_id": policy_id, **criteria}, status=201)


def preview(client, world, **attributes) -> str:
    """The name of the policy an incident with these attributes would take."""
    return call(client, world, "POST", "/routes/preview", {**ROUTE, **attributes}, who="duty")["policy"]["name"]


def error_of(response) -> dict:
    return response.get_json()["error"]


# -- channels -----------------------------------------------------------------------------


def test_admin_creates_reads_lists_changes_and_deletes_a_channel(client, world):
    created = call(
        client,
        world,
        "POST",
        "/channels",
        {
            "name": "L4 CBM desk",
            "level": 4,
            "counterpart": "Eastland",
            "transport": "outbox",
            "address": "cbm@test.example",
            "members": ["liaison"],
        },
        status=201,
    )
    assert created["id"] and created["active"] is True and created["members"] == ["liaison"]
    path = f"/channels/{created['id']}"
    assert created.pop("secret") is None, "only webhook channels get a signing secret"
    assert call(client, world, "GET", path, who="liaison") == created

    listed = call(client, world, "GET", "/channels", who="duty")
    assert [c["name"] for c in listed] == ["L1", "L2", "L3", "Other desk", "L4 CBM desk"]

    changed = call(client, world, "PATCH", path, {"address": "cbm2@test.example", "active": False})
    assert changed == {**created, "address": "cbm2@test.example", "active": False, "version": 2}, "no secret made"
    assert call(client, world, "PATCH", path, {"members": []})["members"] == []

    call(client, world, "DELETE", path, status=204)
    call(client, world, "GET", path, status=404)


HOOK = "https://hooks.test.example/services/T0/B0/s3cret-path?token=s3cret-query"


@pytest.mark.parametrize(
    ("transport", "address", "shown"),
    [
        ("webhook", HOOK, "https://hooks.test.example/[path withheld]"),
        ("apprise", "tgram://123456:s3cret-bot-token/98765", "tgram://[withheld]"),
    ],
)
def test_a_hooks_secret_address_is_read_whole_only_by_those_who_manage_lines(client, world, transport, address, shown):
    """A webhook's path (Slack's /services/T0/B0/XXXX) and an Apprise URL (a bot's token) are the key to the
    desk's room: whoever holds them posts there as the tracker. Every token holder reads the lines; only the
    admins, who set the address, read it whole (the delivery errors withhold it the same way)."""
    body = {"name": "Ops room", "level": 2, "transport": transport, "address": address}
    channel_id = call(client, world, "POST", "/channels", body, status=201)["id"]
    for who in ("duty", "liaison", "supervisor"):
        listed = {c["id"]: c for c in call(client, world, "GET", "/channels", who=who)}
        assert listed[channel_id]["address"] == shown, who
        assert call(client, world, "GET", f"/channels/{channel_id}", who=who)["address"] == shown, who
    assert call(client, world, "GET", f"/channels/{channel_id}")["address"] == address, "the admin reads it whole"
    assert call(client, world, "GET", f"/channels/{world.channels['L1']}", who="duty")["address"].endswith(
        "@test.example"
    ), "an e-mail address or a file drop's is no secret"
    sign_in(client, "supervisor")  # the channels page, which supervisors watch the lines' health on
    page = client.get("/admin/channels")
    assert page.status_code == 200 and "s3cret" not in page.text and html.escape(shown) in page.text


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"transport": "carrier-pigeon"}, "transport"),
        ({"members": ["duty"]}, "members"),
        ({"members": ["liaison", "supervisor"]}, "members"),
        ({"members": ["nobody"]}, "members"),
        ({"level": 6}, "level"),
        ({"name": ""}, "name"),
        ({"address": None}, "address"),
        # A bracket not closed: the URL parser raises on it, which answered 500.
        ({"transport": "webhook", "address": "http://[::1/hook"}, "address"),
        ({"transport": "webhook", "address": "https://[fe80::1%eth0/hook"}, "address"),
        # Taken, then every message failed at sending (InvalidURL), retried as an outage until dead-lettered.
        ({"transport": "webhook", "address": "http://127.0.0.1:99999/hook"}, "address"),
        ({"transport": "webhook", "address": "http://desk.test:8o8o/hook"}, "address"),
        ({"transport": "webhook", "address": "http://desk .test/hook"}, "address"),
        ({"transport": "webhook", "address": "http://:80/hook"}, "address"),
        # No mail relay in this deployment (SMTP_HOST empty): every message over the line would fail for good.
        ({"transport": "email"}, "transport"),
    ],
)
def test_invalid_channel_is_refused(client, world, body, field):
    payload = {"name": "L4", "level": 4, "transport": "outbox", "address": "l4@test.example", **body}
    response = client.post("/api/v1/channels", json=payload, headers=world.auth("admin"))
    assert response.status_code == 422, response.get_json()
    assert error_of(response)["code"] == "validation_error"
    assert field in error_of(response)["details"]
    assert len(call(client, world, "GET", "/channels")) == 4


def test_a_line_is_made_an_e_mail_line_only_where_a_mail_relay_is_configured(app, client, world):
    """Without SMTP_HOST a line cannot become an e-mail line; a mail line made while a relay was configured
    still takes changes to its other fields (its checks say the relay is gone)."""
    path = f"/api/v1/channels/{world.channels['L1']}"
    refused = client.patch(path, json={"transport": "email"}, headers=world.auth("admin"))
    assert refused.status_code == 422, refused.get_json()
    assert "SMTP_HOST" in str(error_of(refused)["details"]["transport"]), refused.get_json()
    assert call(client, world, "GET", f"/channels/{world.channels['L1']}")["transport"] == "outbox"

    transports = app.extensions["tracker.transports"]
    with_relay = {**transports, "email": dataclasses.replace(transports["email"], host="relay.test.example")}
    with session_scope(app) as session:
        mail = ladder.save_channel(
            session, {"name": "Mail desk", "level": 4, "transport": "email", "address": "m@test.example"}, with_relay
        ).id
    renamed = client.patch(f"/api/v1/channels/{mail}", json={"name": "Mail room"}, headers=world.auth("admin"))
    assert renamed.status_code == 200 and renamed.get_json()["transport"] == "email", renamed.get_json()


def test_a_mail_address_the_message_cannot_be_addressed_to_is_refused_on_the_line(app, client, world, monkeypatch):
    """A local part beyond ASCII (дежурный@...) was taken, and every message over the line then failed for good
    ("cannot address the message": the standard library's Address refuses it), found out at the first alert."""
    transports = app.extensions["tracker.transports"]
    with_relay = {**transports, "email": dataclasses.replace(transports["email"], host="relay.test.example")}
    monkeypatch.setitem(app.extensions, "tracker.transports", with_relay)
    payload = {"name": "Mail desk", "level": 4, "transport": "email"}
    refused = client.post(
        "/api/v1/channels", json={**payload, "address": "дежурный@test.example"}, headers=world.auth("admin")
    )
    assert refused.status_code == 422, refused.get_json()
    assert "ASCII" in error_of(refused)["details"]["address"][0], refused.get_json()
    made = client.post("/api/v1/channels", json={**payload, "address": "desk@bücher.test"}, headers=world.auth("admin"))
    assert made.status_code == 201, made.get_json()  # a domain beyond ASCII is addressed (IDNA, or SMTPUTF8)


def test_invalid_change_to_a_channel_stores_nothing(client, world):
    path = f"/channels/{world.channels['L1']}"
    before = call(client, world, "GET", path)
    response = client.patch(
        f"/api/v1{path}", json={"address": "x@test.example", "members": ["duty"]}, headers=world.auth("admin")
    )
    assert response.status_code == 422
    assert call(client, world, "GET", path) == before


@pytest.mark.parametrize("body", [{}, {"version": 1}], ids=["empty", "version-only"])
@pytest.mark.parametrize("what", ["channel", "policy", "rule"])
def test_a_change_naming_nothing_to_change_is_refused_and_counts_no_save(client, world, what, body):
    """`{}` answered 200 and counted a save (the version went up), where an incident's empty amendment is 422."""
    path = {
        "channel": f"/channels/{world.channels['L1']}",
        "policy": f"/policies/{world.policy_id}",
        "rule": f"/rules/{world.default_rule_id}",
    }[what]
    before = call(client, world, "GET", path)
    response = client.patch(f"/api/v1{path}", json=body, headers=world.auth("admin"))
    assert response.status_code == 422, response.get_json()
    assert "names nothing to change" in response.get_json()["error"]["message"], response.get_json()
    assert call(client, world, "GET", path) == before


@pytest.mark.both_databases  # a unique constraint
def test_duplicate_channel_name_conflicts(client, world):
    payload = {"name": "L1", "level": 1, "transport": "outbox", "address": "again@test.example"}
    response = client.post("/api/v1/channels", json=payload, headers=world.auth("admin"))
    assert response.status_code == 409 and error_of(response)["code"] == "conflict"
    renamed = client.patch(f"/api/v1/channels/{world.channels['L2']}", json={"name": "L1"}, headers=world.auth("admin"))
    assert renamed.status_code == 409


@pytest.mark.parametrize(
    ("line", "policy", "rule"),
    [
        ("l1", "test LADDER", "default"),  # case
        (" L1 ", " Test ladder ", "Default "),  # spaces around
        ("L1\u00a0", "Test\u00a0 ladder", "DEFAULT\u00a0"),  # a no-break space, two spaces
        ("\uff2c1", "\uff34est ladder", "\uff24efault"),  # fullwidth letters
    ],
)
def test_a_name_that_reads_as_one_taken_conflicts(client, world, line, policy, rule):
    # Each was kept beside "L1", "Test ladder" and "Default": two lines, policies or rules a menu shows alike.
    body = {"name": line, "level": 1, "transport": "outbox", "address": "again@test.example"}
    assert client.post("/api/v1/channels", json=body, headers=world.auth("admin")).status_code == 409
    body = {"name": policy, "steps": [{"channel_ids": [world.channels["L1"]]}]}
    assert client.post("/api/v1/policies", json=body, headers=world.auth("admin")).status_code == 409
    body = {"name": rule, "policy_id": world.policy_id}
    assert client.post("/api/v1/rules", json=body, headers=world.auth("admin")).status_code == 409


@pytest.mark.parametrize(
    ("what", "taken", "alike"),
    [
        ("channels", "L1", "L\u0031\u200b"),  # a zero-width space after it
        ("policies", "Standard ladder", "\u0405tandard ladder"),  # a Cyrillic Ѕ
    ],
)
def test_a_name_that_only_looks_like_one_taken_is_refused(client, world, what, taken, alike):
    """ "L1 Nаtional Operations Centre" with a Cyrillic а, or a policy with a zero-width space, stood beside the one it
    imitates in the step picker and the rule's policy menu: an admin could put the wrong line on a ladder."""
    if what == "policies":
        call(client, world, "PATCH", f"/policies/{world.policy_id}", {"name": taken})
        body = {"name": alike, "steps": [{"channel_ids": [world.channels["L1"]]}]}
    else:
        body = {"name": alike, "level": 4, "transport": "outbox", "address": "l4@test.example"}
    response = client.post(f"/api/v1/{what}", json=body, headers=world.auth("admin"))
    assert response.status_code == 409 and "is taken" in error_of(response)["message"], response.get_json()


def test_a_name_is_kept_without_the_spaces_around_it_and_one_of_spaces_is_refused(client, world):
    line = {"name": " L4 desk ", "level": 4, "transport": "outbox", "address": "l4@test.example"}
    assert call(client, world, "POST", "/channels", line, status=201)["name"] == "L4 desk"
    renamed = call(client, world, "PATCH", f"/channels/{world.channels['L1']}", {"name": "l1"})
    assert renamed["name"] == "l1", "a line may be renamed in another case"
    refused = call(client, world, "PATCH", f"/channels/{world.channels['L2']}", {"name": "   "}, status=422)
    assert "name" in refused["error"]["details"]


@pytest.mark.both_databases  # rows that refer to it
def test_channel_used_by_a_policy_cannot_be_deleted(client, world):
    response = client.delete(f"/api/v1/channels/{world.channels['L1']}", headers=world.auth("admin"))
    assert response.status_code == 409
    assert error_of(response)["details"]["in_policy"] is True
    call(client, world, "GET", f"/channels/{world.channels['L1']}")


def spare_as_fallback(client, world) -> int:
    """A line "Spare", made the fallback of the policy's step 1 (L1); its id."""
    spare = call(
        client,
        world,
        "POST",
        "/channels",
        {"name": "Spare", "level": 1, "transport": "outbox", "address": "spare@test.example"},
        status=201,
    )["id"]
    steps = [{"channel_ids": [world.channels["L1"]], "fallback_channel_id": spare}]
    call(client, world, "PATCH", f"/policies/{world.policy_id}", {"steps": steps})
    return spare


@pytest.mark.both_databases  # rows that refer to it
def test_channel_that_is_a_steps_fallback_cannot_be_deleted(client, world):
    # Deleting it answered 204 and the policy lost its fallback without a word (the foreign key sets it null).
    spare = spare_as_fallback(client, world)

    response = client.delete(f"/api/v1/channels/{spare}", headers=world.auth("admin"))

    assert response.status_code == 409, response.get_json()
    assert error_of(response)["details"]["in_policy"] is True
    assert call(client, world, "GET", f"/policies/{world.policy_id}")["steps"][0]["fallback_channel_id"] == spare


@pytest.mark.both_databases  # the ladder snapshot is a JSON column
def test_channel_that_is_a_fallback_on_a_running_ladder_cannot_be_deleted(client, world):
    spare = spare_as_fallback(client, world)
    file_incident(client, world)  # its ladder's step 1 falls back on Spare
    call(client, world, "PATCH", f"/policies/{world.policy_id}", {"steps": [{"channel_ids": [world.channels["L1"]]}]})

    response = client.delete(f"/api/v1/channels/{spare}", headers=world.auth("admin"))

    assert response.status_code == 409, response.get_json()
    assert error_of(response)["details"]["on_running_ladder"] is True


@pytest.mark.both_databases  # rows that refer to it
def test_channel_with_past_notifications_cannot_be_deleted(client, world):
    file_incident(client, world)
    call(client, world, "PATCH", f"/policies/{world.policy_id}", {"steps": [{"channel_ids": [world.channels["L3"]]}]})
    response = client.delete(f"/api/v1/channels/{world.channels['L1']}", headers=world.auth("admin"))
    assert response.status_code == 409
    assert error_of(response)["details"]["in_history"] is True


def test_a_line_to_the_other_side_with_an_exchange_cannot_be_deleted_and_says_so(app, client, world):
    """An exchange opened on it, a draft not yet sent: the delete ended on a bare "conflicts with existing data"
    (its foreign key), where every other line in use says why and offers to deactivate it."""
    from tests.exchange_support import acknowledged_incident, add_counterpart_line, open_exchange

    line = add_counterpart_line(app, world)
    open_exchange(client, world, acknowledged_incident(client, world), text="Draft notice.", release=False)
    response = client.delete(f"/api/v1/channels/{line}", headers=world.auth("admin"))
    assert response.status_code == 409 and error_of(response)["details"]["in_history"] is True, response.get_json()
    assert error_of(response)["details"]["hint"] == "set active=false instead", response.get_json()


# -- policies -----------------------------------------------------------------------------


def test_admin_creates_reads_lists_changes_and_deletes_a_policy(client, world):
    l1, l2, l3 = (world.channels[c] for c in ("L1", "L2", "L3"))
    created = call(
        client,
        world,
        "POST",
        "/policies",
        {
            "name": "Hotline",
            "description": "for FLASH",
            "repeat": 1,
            "steps": [{"channel_ids": [l2, l1]}, {"channel_ids": [l3], "ack_seconds": 300}],
        },
        status=201,
    )
    assert [(s["position"], s["ack_seconds"], s["channels"]) for s in created["steps"]] == [
        (1, None, ["L1", "L2"]),
        (2, 300, ["L3"]),
    ]
    assert created["repeat"] == 1 and created["description"] == "for FLASH"
    path = f"/policies/{created['id']}"
    assert call(client, world, "GET", path, who="liaison") == created
    assert [p["name"] for p in call(client, world, "GET", "/policies")] == ["Hotline", "Test ladder"]

    described = call(client, world, "PATCH", path, {"description": "FLASH and high risk"})
    assert described == {**created, "description": "FLASH and high risk", "version": 2}

    restepped = call(client, world, "PATCH", path, {"steps": [{"channel_ids": [l3], "ack_seconds": 60}]})
    assert [(s["position"], s["ack_seconds"], s["channels"]) for s in restepped["steps"]] == [(1, 60, ["L3"])]
    assert restepped["repeat"] == 1
    assert call(client, world, "GET", path) == restepped

    call(client, world, "DELETE", path, status=204)
    call(client, world, "GET", path, status=404)
    assert [p["name"] for p in call(client, world, "GET", "/policies")] == ["Test ladder"]


@pytest.mark.parametrize(
    "steps",
    [
        [{"channel_ids": [9999]}],
        [{"channel_ids": ["L1"]}, {"channel_ids": [9999]}],
        [],
        [{"channel_ids": []}],
        [{"channel_ids": ["L1"], "ack_seconds": 0}],
    ],
)
def test_invalid_policy_is_refused_and_nothing_is_stored(client, world, steps):
    steps = [{**s, "channel_ids": [world.channels.get(i, i) for i in s["channel_ids"]]} for s in steps]
    response = client.post("/api/v1/policies", json={"name": "Broken", "steps": steps}, headers=world.auth("admin"))
    assert response.status_code == 422, response.get_json()
    assert error_of(response)["code"] == "validation_error"
    assert [p["name"] for p in call(client, world, "GET", "/policies")] == ["Test ladder"]


def test_policy_step_naming_a_missing_channel_says_which(client, world):
    steps = [{"channel_ids": [world.channels["L1"]]}, {"channel_ids": [world.channels["L2"], 9999]}]
    response = client.post("/api/v1/policies", json={"name": "Broken", "steps": steps}, headers=world.auth("admin"))
    assert response.status_code == 422
    assert error_of(response)["details"] == {"steps.2.channel_ids": ["no such channels: [9999]"]}


def test_invalid_change_to_a_policy_keeps_its_steps(client, world):
    path = f"/policies/{world.policy_id}"
    before = call(client, world, "GET", path)
    response = client.patch(
        f"/api/v1{path}", json={"name": "Renamed", "steps": [{"channel_ids": [9999]}]}, headers=world.auth("admin")
    )
    assert response.status_code == 422
    assert call(client, world, "GET", path) == before


@pytest.mark.both_databases  # a unique constraint
def test_duplicate_policy_name_conflicts(client, world):
    steps = [{"channel_ids": [world.channels["L1"]]}]
    response = client.post(
        "/api/v1/policies", json={"name": "Test ladder", "steps": steps}, headers=world.auth("admin")
    )
    assert response.status_code == 409


@pytest.mark.both_databases  # rows that refer to it
def test_policy_used_by_a_rule_cannot_be_deleted(client, world):
    response = client.delete(f"/api/v1/policies/{world.policy_id}", headers=world.auth("admin"))
    assert response.status_code == 409
    assert error_of(response)["details"] == {"rules": ["Default"]}
    call(client, world, "GET", f"/policies/{world.policy_id}")


# -- routing rules ------------------------------------------------------------------------


def test_admin_creates_reads_lists_changes_and_deletes_a_rule(client, world):
    special = create_policy(client, world, "Special", "L3")
    created = create_rule(client, world, "Maritime", special["id"], domain="maritime")
    assert created["policy"] == "Special" and created["is_default"] is False and created["active"] is True
    assert created["domain"] == "maritime" and created["sector"] is None
    path = f"/rules/{created['id']}"
    assert call(client, world, "GET", path, who="duty") == created
    assert [r["name"] for r in call(client, world, "GET", "/rules")] == ["Maritime", "Default"]

    changed = call(client, world, "PATCH", path, {"sector": "North", "domain": None})
    assert changed == {**created, "sector": "North", "domain": None, "version": 2}
    repointed = call(client, world, "PATCH", path, {"policy_id": world.policy_id})
    assert repointed["policy_id"] == world.policy_id and repointed["policy"] == "Test ladder"

    call(client, world, "DELETE", path, status=204)
    call(client, world, "GET", path, status=404)
    assert [r["name"] for r in call(client, world, "GET", "/rules")] == ["Default"]


def test_a_rule_cannot_name_the_sector_the_reports_call_no_sector(client, world):
    """The after-action report counts incidents without a sector under "(none)": a rule naming a sector so
    would let incidents filed under it merge with those, and there is nothing else to route by."""
    answer = client.post(
        "/api/v1/rules",
        json={"name": "Nowhere", "policy_id": world.policy_id, "sector": "(None)"},
        headers=world.auth("admin"),
    )
    body = answer.get_json()
    assert answer.status_code == 422, body
    assert "what the reports call no sector" in body["error"]["details"]["sector"][0], body
    assert [r["name"] for r in call(client, world, "GET", "/rules")] == ["Default"]


def test_rules_are_evaluated_by_position_and_reordering_changes_the_choice(client, world):
    air = create_policy(client, world, "Air ladder", "L2")
    flash = create_policy(client, world, "Flash ladder", "L3")
    create_rule(client, world, "Air", air["id"], domain="air", position=10)
    flash_rule = create_rule(client, world, "Flash", flash["id"], precedence="Z", position=20)
    assert [r["name"] for r in call(client, world, "GET", "/rules")] == ["Air", "Flash", "Default"]
    assert preview(client, world, precedence="Z") == "Air ladder"
    assert preview(client, world, domain="maritime", category="collision", precedence="Z") == "Flash ladder"

    call(client, world, "PATCH", f"/rules/{flash_rule['id']}", {"position": 5})
    assert [r["name"] for r in call(client, world, "GET", "/rules")] == ["Flash", "Air", "Default"]
    assert preview(client, world, precedence="Z") == "Flash ladder"
    assert preview(client, world, precedence="O") == "Air ladder"


def test_default_rule_is_evaluated_last_whatever_its_position(client, world):
    special = create_policy(client, world, "Special", "L3")
    create_rule(client, world, "Maritime", special["id"], domain="maritime", position=500)
    call(client, world, "PATCH", f"/rules/{world.default_rule_id}", {"position": 0})
    assert [r["name"] for r in call(client, world, "GET", "/rules")] == ["Maritime", "Default"]
    assert preview(client, world, domain="maritime", category="collision") == "Special"


def test_inactive_rule_is_skipped(client, world):
    special = create_policy(client, world, "Special", "L3")
    rule = create_rule(client, world, "Air", special["id"], domain="air")
    assert preview(client, world) == "Special"
    call(client, world, "PATCH", f"/rules/{rule['id']}", {"active": False})
    assert preview(client, world) == "Test ladder"
    assert [r["name"] for r in call(client, world, "GET", "/rules")] == ["Default", "Air"]


@pytest.mark.parametrize(
    ("criterion", "matching", "other"),
    [
        ({"domain": "maritime"}, {"domain": "maritime", "category": "collision"}, {"domain": "air"}),
        ({"category": "laser"}, {"domain": "cyber_em", "category": "laser"}, {"category": "airspace_violation"}),
        ({"precedence": "Z"}, {"precedence": "Z"}, {"precedence": "O"}),
        ({"min_escalation_risk": "serious"}, {"escalation_risk": "high"}, {"escalation_risk": "near_routine"}),
        ({"min_escalation_risk": "high"}, {"escalation_risk": "high"}, {"escalation_risk": "serious"}),
        ({"sector": "DRILL"}, {"sector": "drill"}, {"sector": "North"}),
        ({"sector": "DRILL"}, {"sector": "Drill"}, {"sector": None}),
        (
            {"domain": "air", "precedence": "Z"},
            {"precedence": "Z"},
            {"domain": "land", "category": "stray_fire", "precedence": "Z"},
        ),
    ],
)
def test_rule_criteria_pick_their_policy_and_others_fall_through_to_default(client, world, criterion, matching, other):
    special = create_policy(client, world, "Special", "L3")
    create_rule(client, world, "Special case", special["id"], **criterion)
    assert preview(client, world, **matching) == "Special"
    assert preview(client, world, **other) == "Test ladder"


def test_filed_incident_takes_the_policy_of_the_matching_rule(client, world):
    special = create_policy(client, world, "Special", "L3", ack_seconds=120)
    create_rule(client, world, "FLASH", special["id"], precedence="Z")
    body = file_incident(client, world, precedence="Z")
    assert body["ladder"]["policy_name"] == "Special" and body["ladder"]["rule_name"] == "FLASH"
    assert [n["channel"] for n in body["notifications"]] == ["L3"]
    assert file_incident(client, world, precedence="P")["ladder"]["policy_name"] == "Test ladder"


def test_a_rules_sector_is_kept_without_the_spaces_around_it_as_the_page_keeps_it(client, world):
    # Through the API "North " was kept as sent: no incident of sector North ever matched the rule.
    special = create_policy(client, world, "Special", "L3")
    rule = create_rule(client, world, "North", special["id"], sector=" North ")
    assert rule["sector"] == "North"
    assert file_incident(client, world, sector="North")["ladder"]["policy_name"] == "Special"
    assert preview(client, world, sector="North") == "Special"
    assert call(client, world, "PATCH", f"/rules/{rule['id']}", {"sector": "  "})["sector"] is None, "blank: any"


def test_the_preview_reads_the_sector_as_filing_does(client, world):
    # Filing reads " north " as North and refuses a sector nobody names; the preview compared the sector as
    # typed: it named the default rule for the first while filing took the North rule, and for the second
    # named a route where filing answers 422.
    special = create_policy(client, world, "Special", "L3")
    create_rule(client, world, "North", special["id"], sector="North")
    assert file_incident(client, world, sector=" north ")["ladder"]["policy_name"] == "Special"
    assert preview(client, world, sector=" north ") == "Special"

    refused = client.post("/api/v1/routes/preview", json={**ROUTE, "sector": "Nowhere"}, headers=world.auth("duty"))
    assert refused.status_code == 422, refused.get_json()
    assert "no sector 'Nowhere'" in str(error_of(refused)["details"]["sector"])


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"domain": "air", "category": "collision"}, "category"),
        ({"category": "no_such_thing"}, "category"),
        ({"policy_id": 9999}, "policy_id"),
        ({"domain": "sea"}, "domain"),
        ({"precedence": "X"}, "precedence"),
        ({"min_escalation_risk": "extreme"}, "min_escalation_risk"),
        ({"sector": ""}, "sector"),
    ],
)
def test_invalid_rule_is_refused(client, world, body, field):
    payload = {"name": "Broken", "policy_id": world.policy_id, **body}
    response = client.post("/api/v1/rules", json=payload, headers=world.auth("admin"))
    assert response.status_code == 422, response.get_json()
    assert field in error_of(response)["details"]
    assert [r["name"] for r in call(client, world, "GET", "/rules")] == ["Default"]


@pytest.mark.parametrize(
    ("change", "field"),
    [({"domain": "air"}, "is_default"), ({"sector": "North"}, "is_default"), ({"active": False}, "active")],
)
def test_default_rule_must_match_everything_and_stay_active(client, world, change, field):
    response = client.patch(f"/api/v1/rules/{world.default_rule_id}", json=change, headers=world.auth("admin"))
    assert response.status_code == 422
    assert field in error_of(response)["details"]
    assert preview(client, world, domain="land", category="stray_fire") == "Test ladder"


def test_default_rule_cannot_be_deleted(client, world):
    response = client.delete(f"/api/v1/rules/{world.default_rule_id}", headers=world.auth("admin"))
    assert response.status_code == 409
    call(client, world, "GET", f"/rules/{world.default_rule_id}")


@pytest.mark.both_databases  # a partial unique index
def test_second_default_rule_conflicts(client, world):
    response = client.post(
        "/api/v1/rules",
        json={"name": "Another default", "is_default": True, "policy_id": world.policy_id},
        headers=world.auth("admin"),
    )
    assert response.status_code == 409 and error_of(response)["code"] == "conflict"
    assert [r["name"] for r in call(client, world, "GET", "/rules")] == ["Default"]


@pytest.mark.parametrize("which", ["default", "other"])
def test_which_rule_is_the_default_cannot_change(client, world, which):
    other = create_rule(client, world, "Other", world.policy_id, domain="air")
    rule_id, flag = (world.default_rule_id, False) if which == "default" else (other["id"], True)
    response = client.patch(f"/api/v1/rules/{rule_id}", json={"is_default": flag}, headers=world.auth("admin"))
    assert response.status_code == 409


@pytest.mark.both_databases  # a unique constraint
def test_duplicate_rule_name_conflicts(client, world):
    response = client.post(
        "/api/v1/rules", json={"name": "Default", "policy_id": world.policy_id}, headers=world.auth("admin")
    )
    assert response.status_code == 409


# -- who may administer -------------------------------------------------------------------


@pytest.mark.parametrize("who", ["duty", "liaison", "supervisor"])
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/channels"),
        ("PATCH", "/channels/{L1}"),
        ("DELETE", "/channels/{L1}"),
        ("POST", "/policies"),
        ("PATCH", "/policies/{policy}"),
        ("DELETE", "/policies/{policy}"),
        ("POST", "/rules"),
        ("PATCH", "/rules/{rule}"),
        ("DELETE", "/rules/{rule}"),
    ],
)
def test_only_admins_change_the_ladder(client, world, who, method, path):
    path = path.format(L1=world.channels["L1"], policy=world.policy_id, rule=world.default_rule_id)
    response = client.open(
        f"/api/v1{path}", method=method, json={"name": "x"} if method != "DELETE" else None, headers=world.auth(who)
    )
    assert response.status_code == 403, response.get_json()
    assert error_of(response)["code"] == "forbidden"


@pytest.mark.parametrize("path", ["/channels/9999", "/policies/9999", "/rules/9999"])
@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
def test_missing_ladder_rows_are_not_found(client, world, path, method):
    response = client.open(
        f"/api/v1{path}", method=method, json={} if method == "PATCH" else None, headers=world.auth("admin")
    )
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


# -- running incidents keep their ladder --------------------------------------------------


def sweep(app, now) -> int:
    with session_scope(app) as session:
        return escalation.sweep_batch(session, now, 100, "test", dispatch.ack_links(app))


@pytest.mark.both_databases  # the ladder snapshot is a JSON column
def test_editing_or_deleting_a_policy_does_not_change_running_ladders(app, client, world):
    filed = file_incident(client, world)
    reference, original = filed["reference"], filed["ladder"]
    assert [(s["ack_seconds"], [c["name"] for c in s["channels"]]) for s in original["steps"]] == [
        (600, ["L1"]),
        (600, ["L2"]),
    ]

    edited = call(
        client,
        world,
        "PATCH",
        f"/policies/{world.policy_id}",
        {
            "repeat": 3,
            "steps": [
                {"channel_ids": [world.channels["L3"]], "ack_seconds": 60},
                {"channel_ids": [world.channels["Other desk"]], "ack_seconds": 30},
            ],
        },
    )
    assert [s["channels"] for s in edited["steps"]] == [["L3"], ["Other desk"]]
    replacement = create_policy(client, world, "Replacement ladder", "L3", "Other desk", ack_seconds=90)
    rule = call(client, world, "PATCH", f"/rules/{world.default_rule_id}", {"policy_id": replacement["id"]})
    assert rule["policy"] == "Replacement ladder"
    call(client, world, "DELETE", f"/policies/{world.policy_id}", status=204)

    before = call(client, world, "GET", f"/incidents/{reference}", who="supervisor")
    assert before["ladder"] == original and before["current_step"] == 1

    now = parse_moment(before["next_escalation_at"]) + timedelta(seconds=1)
    assert sweep(app, now - timedelta(seconds=2)) == 0
    assert sweep(app, now) == 1

    after = call(client, world, "GET", f"/incidents/{reference}", who="supervisor")
    assert after["status"] == "open" and after["current_step"] == 2 and after["loop"] == 0
    assert after["ladder"] == original
    assert [(n["kind"], n["step"], n["channel"]) for n in after["notifications"]] == [
        ("notified", 1, "L1"),
        ("escalated", 2, "L2"),
    ]
    assert parse_moment(after["next_escalation_at"]) == now + timedelta(seconds=600)
    escalated = next(e for e in after["timeline"] if e["kind"] == "escalated")
    assert escalated["details"]["channels"] == ["L2"] and escalated["details"]["skipped"] == []

    # The original ladder had no repeats: the next sweep exhausts it, whatever the edited policy says.
    assert sweep(app, now + timedelta(seconds=601)) == 1
    done = call(client, world, "GET", f"/incidents/{reference}", who="supervisor")
    assert done["status"] == "exhausted" and done["current_step"] == 2

    fresh = file_incident(client, world)
    assert fresh["ladder"]["policy_name"] == "Replacement ladder"
    assert [(s["ack_seconds"], [c["name"] for c in s["channels"]]) for s in fresh["ladder"]["steps"]] == [
        (90, ["L3"]),
        (90, ["Other desk"]),
    ]
    assert [n["channel"] for n in fresh["notifications"]] == ["L3"]


@pytest.mark.both_databases  # the ladder snapshot is a JSON column
def test_channel_still_on_a_running_ladder_cannot_be_deleted(app, client, world):
    filed = file_incident(client, world)
    call(client, world, "PATCH", f"/policies/{world.policy_id}", {"steps": [{"channel_ids": [world.channels["L3"]]}]})

    response = client.delete(f"/api/v1/channels/{world.channels['L2']}", headers=world.auth("admin"))
    assert response.status_code == 409, response.get_json()
    assert error_of(response)["details"]["on_running_ladder"] is True

    sweep(app, parse_moment(filed["next_escalation_at"]) + timedelta(seconds=1))
    after = call(client, world, "GET", f"/incidents/{filed['reference']}", who="supervisor")
    assert [(n["step"], n["channel"]) for n in after["notifications"]] == [(1, "L1"), (2, "L2")]


def test_a_line_still_on_a_running_ladder_cannot_become_a_counterpart_line(client, world):
    """Taken off the policy, L2 was made a counterpart line while an incident's ladder still named it: its step
    then skipped it and the incident went to exhausted with nobody called there."""
    file_incident(client, world)
    call(client, world, "PATCH", f"/policies/{world.policy_id}", {"steps": [{"channel_ids": [world.channels["L3"]]}]})
    change = {"counterpart_line": True, "counterpart": "Eastland MoD", "counterpart_state": "Eastland"}
    response = client.patch(f"/api/v1/channels/{world.channels['L2']}", json=change, headers=world.auth("admin"))
    assert response.status_code == 422, response.get_json()
    assert "not yet resolved" in error_of(response)["message"], response.get_json()
    assert call(client, world, "GET", f"/channels/{world.channels['L2']}")["counterpart_line"] is False


@pytest.mark.both_databases  # the ladder snapshot is a JSON column
def test_channel_on_an_acknowledged_incidents_ladder_cannot_be_deleted(client, world):
    # Left alone, an acknowledged incident goes back up its ladder (engine.idle): its step 2 is still to come.
    # The delete answered 204, and on SQLite the next line created took the freed id, which that step then called.
    filed = file_incident(client, world)
    call(client, world, "POST", f"/incidents/{filed['reference']}/acknowledge", {"note": "on it"}, who="liaison")
    call(client, world, "PATCH", f"/policies/{world.policy_id}", {"steps": [{"channel_ids": [world.channels["L3"]]}]})

    response = client.delete(f"/api/v1/channels/{world.channels['L2']}", headers=world.auth("admin"))

    assert response.status_code == 409, response.get_json()
    assert error_of(response)["details"]["on_running_ladder"] is True


def test_a_step_given_in_a_patch_is_read_whole(client, world):
    """A PATCH reads the policy in part, never its steps: a step without its channels is refused (422), as
    on POST, and a step without by_decision takes its default (not a 500, not a step missing a part)."""
    path = f"/policies/{world.policy_id}"
    refused = call(client, world, "PATCH", path, {"steps": [{"ack_seconds": 60}]}, status=422)
    assert "channel_ids" in str(refused["error"]["details"]), refused
    restepped = call(client, world, "PATCH", path, {"steps": [{"channel_ids": [world.channels["L3"]]}]})
    assert [(s["channels"], s["by_decision"]) for s in restepped["steps"]] == [(["L3"], False)], restepped


CONFIG_EDITS = {
    "line": ("/channels", lambda world: world.channels["L3"], {"counterpart": "North"}, {"counterpart": "South"}),
    "policy": ("/policies", lambda world: world.policy_id, {"repeat": 1}, {"repeat": 2}),
    "rule": ("/rules", None, {"sector": "North"}, {"sector": "South"}),
    "agreement": ("/agreements", None, {"title": "First"}, {"title": "Second"}),
}


@pytest.mark.parametrize("subject", CONFIG_EDITS)
def test_an_edit_naming_a_version_saved_over_since_is_refused(client, world, subject):
    """Two admins editing one line, policy, rule or agreement: the second save put its facts over the first's,
    silently. An edit naming the version it read is refused (409) once another was saved; one naming none
    is made on what stands, as before."""
    collection, existing, first, second = CONFIG_EDITS[subject]
    if subject == "rule":
        ident = create_rule(client, world, "Maritime", world.policy_id, domain="maritime")["id"]
    elif subject == "agreement":
        body = {"code": "INCSEA-1972", "title": "Incidents at sea"}
        ident = call(client, world, "POST", "/agreements", body, status=201)["id"]
    else:
        ident = existing(world)
    path = f"{collection}/{ident}"
    read = call(client, world, "GET", path, who="admin")["version"]
    saved = call(client, world, "PATCH", path, {**first, "version": read})
    assert saved["version"] == read + 1, saved
    stale = call(client, world, "PATCH", path, {**second, "version": read}, status=409)
    assert stale["error"]["details"] == {"version": read + 1}, stale
    assert "saved by someone else since you read it" in stale["error"]["message"], stale
    assert {k: call(client, world, "GET", path)[k] for k in first} == first, "the refused edit changed nothing"
    unnamed = call(client, world, "PATCH", path, second)
    assert unnamed["version"] == read + 2 and {k: unnamed[k] for k in second} == second, unnamed
    changes = call(client, world, "GET", "/config-changes", who="admin")["items"]
    assert not any("version" in c["changes"] for c in changes), "a save's count is no fact of the configuration"
