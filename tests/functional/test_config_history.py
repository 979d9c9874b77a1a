"""Who changed the routing configuration: every line, policy, routing rule and agreement added, changed or
deleted is on record with its author, time and facts before and after (secrets withheld), whichever door
the change came through; what the scheduler changes of a line (its health) and a filing are not."""

import re

import pytest
from sqlalchemy import select

from tests.support import file_incident, sign_in
from tracker.db import session_scope
from tracker.models import ChannelHealth, ConfigChange, ContactChannel, EscalationPolicy
from tracker.services.incidents import ladder

API = "/api/v1"
# Written by the ORM's flush events with INSERT ... RETURNING and merged by UPDATE within a transaction.
pytestmark = pytest.mark.both_databases


def call(client, world, method: str, path: str, body=None, who: str = "admin", status: int = 200):
    response = client.open(f"{API}{path}", method=method, json=body, headers=world.auth(who))
    assert response.status_code == status, f"{method} {path} as {who}: {response.status_code} {response.get_data(True)}"
    return response.get_json()


def history(client, world, who: str = "supervisor", **query) -> dict:
    response = client.get(f"{API}/config-changes", query_string=query, headers=world.auth(who))
    assert response.status_code == 200, f"as {who}: {response.status_code} {response.get_data(True)}"
    return response.get_json()


def new_hook(client, world) -> dict:
    """A webhook line "Hotline" whose address holds its credential (s3cr3t), made by the admin: the answer."""
    body = {"name": "Hotline", "level": 1, "transport": "webhook", "address": "https://desk.example.org/hook/s3cr3t"}
    return call(client, world, "POST", "/channels", body, status=201)


def newest(client, world, **query) -> dict:
    return history(client, world, **query)["items"][0]


def test_each_change_of_a_line_is_on_record_with_its_author_and_facts_before_and_after(app, client, world):
    hook = new_hook(client, world)
    created = newest(client, world)
    assert (created["actor"], created["action"], created["subject"]) == ("admin", "created", "line"), created
    assert created["subject_id"] == hook["id"] and created["name"] == "Hotline" and created["at"].endswith("Z")
    assert created["changes"]["address"] == "(withheld)" and created["changes"]["secret"] == "(withheld)", created
    assert hook["secret"] not in str(created) and "s3cr3t" not in str(created)

    call(client, world, "PATCH", f"/channels/{hook['id']}", {"level": 2, "members": ["liaison"], "active": False})
    changed = newest(client, world)
    assert changed["action"] == "changed" and changed["actor"] == "admin", changed
    assert changed["changes"] == {
        "level": {"before": 1, "after": 2},
        "active": {"before": True, "after": False},
        "members": {"before": [], "after": ["liaison"]},
    }, changed

    with session_scope(app) as session:  # the scheduler's checks: the line's working state, no change of ours
        channel = session.get(ContactChannel, hook["id"])
        channel.health, channel.consecutive_failures = ChannelHealth.DOWN, 3
    file_incident(client, world)
    assert newest(client, world)["id"] == changed["id"], "neither a line's health nor a filing is a change"

    call(client, world, "DELETE", f"/channels/{hook['id']}", status=204)
    deleted = newest(client, world)
    assert (deleted["action"], deleted["name"], deleted["changes"]["level"]) == ("deleted", "Hotline", 2), deleted

    only = history(client, world, subject="line", subject_id=hook["id"])
    assert [c["action"] for c in only["items"]] == ["deleted", "changed", "created"] and only["total"] == 3, only


def test_a_hooks_address_stays_withheld_when_the_line_moves_to_another_transport(client, world):
    # The URL of a webhook or Apprise line may hold its credential: moved to the outbox, its old address
    # is still one; moved to Apprise, its new one is.
    hook = new_hook(client, world)
    call(client, world, "PATCH", f"/channels/{hook['id']}", {"transport": "outbox", "address": "hotline"})
    moved = newest(client, world)
    assert moved["changes"]["address"] == {"before": "(withheld)", "after": "hotline"}, moved
    assert moved["changes"]["secret"] == {"before": "(withheld)", "after": None}, "the secret was dropped: said so"
    assert "s3cr3t" not in str(moved) and hook["secret"] not in str(moved), moved
    call(client, world, "PATCH", f"/channels/{hook['id']}", {"transport": "apprise", "address": "json://h/t0k3n"})
    back = newest(client, world)
    assert back["changes"]["address"] == {"before": "hotline", "after": "(withheld)"}, back
    assert "t0k3n" not in str(back), back


def test_an_id_without_its_subject_is_refused_not_read_across_lines_policies_and_rules(client, world):
    # Line 1, policy 1 and rule 1 are three things: an id alone would list the changes of all of them.
    response = client.get(f"{API}/config-changes", query_string={"subject_id": 1}, headers=world.auth("supervisor"))
    assert response.status_code == 422, response.get_data(True)
    assert "subject_id" in response.get_json()["error"]["details"], response.get_json()


def test_a_policys_steps_and_a_rules_facts_are_on_record_before_and_after(app, client, world):
    l1, l2, l3 = (world.channels[name] for name in ("L1", "L2", "L3"))
    steps = [{"channel_ids": [l1], "ack_seconds": 300}, {"channel_ids": [l3], "fallback_channel_id": l2}]
    call(client, world, "PATCH", f"/policies/{world.policy_id}", {"steps": steps})
    [change] = history(client, world, subject="policy")["items"][:1]
    assert change["changes"]["steps"]["after"] == ["L1; 5 min", "L3; fallback L2"], change
    assert change["changes"]["steps"]["before"] == ["L1; 10 min", "L2; 10 min"], change

    rule = call(client, world, "GET", f"/rules/{world.default_rule_id}")
    call(client, world, "PATCH", f"/rules/{world.default_rule_id}", {"name": "Everything else"})
    renamed = newest(client, world, subject="rule")
    assert renamed["changes"] == {"name": {"before": rule["name"], "after": "Everything else"}}, renamed


def test_a_change_through_the_admin_pages_names_who_made_it_and_only_they_and_admins_read_it(app, client, world):
    admin = app.test_client()
    sign_in(admin, "admin")
    page = admin.get(f"/admin/channels/{world.channels['L2']}/edit").text
    token = page.split('name="csrf_token" type="hidden" value="', 1)[1].split('"', 1)[0]
    form = {
        "csrf_token": token,
        "name": "L2 desk",
        "level": "2",
        "transport": "outbox",
        "address": "l2@test.example",
        "members": ["liaison"],
        "check_window_seconds": "900",
        "reply_deadline_seconds": "172800",
        "meeting_deadline_seconds": "172800",
    }
    assert admin.post(f"/admin/channels/{world.channels['L2']}/edit", data=form).status_code == 302
    renamed = newest(client, world)
    assert renamed["actor"] == "admin" and renamed["changes"]["name"] == {"before": "L2", "after": "L2 desk"}

    listed = admin.get("/admin/changes")
    assert listed.status_code == 200 and "L2 desk" in listed.text and "admin" in listed.text
    past = admin.get("/admin/changes?page=999")
    assert past.status_code == 200 and "L2 desk" in past.text and "No change recorded yet" not in past.text
    for who in ("liaison", "duty"):
        assert client.get(f"{API}/config-changes", headers=world.auth(who)).status_code == 403
    with session_scope(app) as session:
        assert session.scalar(select(ConfigChange.actor).order_by(ConfigChange.id.desc()).limit(1)) == "admin"


def test_the_changes_page_says_the_facts_in_words_not_as_json(client, world):
    sign_in(client, "supervisor")
    page = client.get("/admin/changes").text
    created_l1 = page[page.index("<strong><bdi>L1</bdi></strong>") :]
    assert "reply deadline: 2 d" in created_l1 and "check window: 15 min" in created_l1, "spans in words"
    assert "active: yes" in created_l1 and "counterpart line: no" in created_l1 and "members: liaison" in created_l1
    rows = page[page.index("<tbody>") : page.index("</tbody>")]
    assert not any(json in rows for json in ("null", "true", "false", "{}", "[", "&#34;")), "no JSON"
    # A rule names its policy, a line its agreement, by name as it is now, not by id.
    with session_scope(client.application) as session:
        policy = session.get(EscalationPolicy, world.policy_id).name
    created_rule = page[page.index("created rule") :]
    assert f"policy: {policy}" in created_rule and "policy id" not in rows, created_rule[:600]


def test_the_changes_page_says_a_rules_criteria_and_a_lines_receipt_deadlines_in_words(client, world):
    # They stood as codes and seconds: "domain: cyber_em", "min escalation risk: near_routine", "Z: 600".
    body = {
        "name": "Jamming",
        "policy_id": world.policy_id,
        "domain": "cyber_em",
        "category": "jamming_c2_interference",
    }
    rule = call(
        client, world, "POST", "/rules", {**body, "precedence": "Z", "min_escalation_risk": "near_routine"}, status=201
    )
    call(client, world, "PATCH", f"/rules/{rule['id']}", {"domain": "hybrid", "category": "gnss_jamming"})
    call(client, world, "PATCH", f"/channels/{world.channels['L3']}", {"receipt_seconds": {"Z": 600}})
    sign_in(client, "supervisor")
    page = client.get("/admin/changes").text
    rows = page[page.index("<tbody>") : page.index("</tbody>")]
    assert (
        "domain: cyber / electromagnetic → hybrid" in rows
        and "category: jamming / C2 interference → GNSS jamming" in rows
    )
    assert "precedence: Z FLASH" in rows and "min escalation risk: near-routine" in rows
    assert "receipt: – → Z: 10 min" in rows
    # In what changed only: a row's time (070600ZDEC26 at 06:00) holds "600" too.
    changes = "".join(re.findall(r'<td data-label="Changes">(.*?)</td>', rows, re.S))
    assert "Z: 10 min" in changes, rows
    assert not any(code in changes for code in ("cyber_em", "gnss_jamming", "jamming_c2", "near_routine", "600")), rows


def test_a_fact_that_comes_back_in_its_transaction_leaves_no_empty_change_and_a_rename_names_the_row(
    app, client, world
):
    # Moving a rule on the admin page spreads equal positions out, then trades two: C goes 20 -> 30 -> 20.
    for name, position in (("A", 10), ("B", 20), ("C", 20)):
        body = {"name": name, "position": position, "policy_id": world.policy_id, "sector": name}
        call(client, world, "POST", "/rules", body, status=201)
    last = newest(client, world)["id"]
    c_id = history(client, world, subject="rule")["items"][0]["subject_id"]
    admin = app.test_client()
    sign_in(admin, "admin")
    page = admin.get("/admin/rules").text
    token = page.split('name="csrf_token" type="hidden" value="', 1)[1].split('"', 1)[0]
    assert admin.post(f"/admin/rules/{c_id}/move/up", data={"csrf_token": token}).status_code == 302
    moved = [c for c in history(client, world)["items"] if c["id"] > last]
    assert [(c["name"], c["changes"]) for c in moved] == [("B", {"position": {"before": 20, "after": 30}})], moved

    with session_scope(app) as session:  # one transaction, two flushes: created, then renamed
        rule = ladder.save_rule(session, {"name": "X", "policy_id": world.policy_id, "sector": "x"})
        ladder.save_rule(session, {"name": "Y"}, rule)
    created = newest(client, world)
    assert (created["action"], created["name"], created["changes"]["name"]) == ("created", "Y", "Y"), created


def test_a_hooks_old_address_stays_withheld_when_the_transport_moved_in_an_earlier_flush(app, client, world):
    # Code that moves a line off its webhook, flushes, then changes the address in the same transaction: the
    # old address is still the hook's, with its credential in it.
    hook = new_hook(client, world)
    with session_scope(app) as session:
        line = session.get(ContactChannel, hook["id"])
        line.transport = "outbox"
        session.flush()
        line.address = "hotline"
    moved = newest(client, world)
    assert moved["changes"]["address"] == {"before": "(withheld)", "after": "hotline"}, moved
    assert "s3cr3t" not in str(moved), moved


def test_a_change_rolled_back_in_a_savepoint_leaves_no_record_and_takes_none_with_it(app, client, world):
    # A savepoint rolled back takes its record rows with it: a change after it is recorded on its own, not merged
    # into a row that is gone (lost) nor into one holding the facts rolled back (a change that never was).
    line_id = world.channels["L1"]
    with session_scope(app) as session:
        line = session.get(ContactChannel, line_id)
        with session.begin_nested() as savepoint:
            line.level = 4
            session.flush()
            savepoint.rollback()
        line.active = False
    kept = newest(client, world)
    assert (kept["subject_id"], kept["changes"]) == (line_id, {"active": {"before": True, "after": False}}), kept
    last = kept["id"]

    with session_scope(app) as session:
        line = session.get(ContactChannel, line_id)
        line.level = 2
        session.flush()
        with session.begin_nested() as savepoint:
            line.name = "Renamed"
            session.flush()
            savepoint.rollback()
        line.active = True
    [changed] = [c for c in history(client, world)["items"] if c["id"] > last]
    assert changed["name"] == "L1" and changed["changes"] == {
        "level": {"before": 1, "after": 2},
        "active": {"before": False, "after": True},
    }, changed
