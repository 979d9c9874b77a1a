"""Filing routes by a table compiled once per process: it reads one stamp instead of the rules and ladders,
and follows every change an admin makes (a rule, a policy's steps, a channel leaving the ladder), and a
database whose configuration went back (a restore) is never routed by the table of another."""

import re

import pytest
from sqlalchemy import event, select

from tests.support import build_world, file_incident
from tracker import dispatch
from tracker.db import engine_of, session_scope
from tracker.models import ChannelHealth, ContactChannel, Counter, Notification, config_version
from tracker.services.engine import links
from tracker.services.incidents import route_table
from tracker.timeutil import utcnow


@pytest.fixture
def statements(app):
    seen: list[str] = []

    def record(_conn, _cursor, statement, parameters, *_):
        # psycopg parses a statement again at every use when given more parameters than it caches.
        assert not isinstance(parameters, dict) or len(parameters) <= 50, (statement[:100], sorted(parameters))
        seen.append(statement)

    engine = engine_of(app)
    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


def test_a_filing_reads_no_rule_or_ladder_while_the_configuration_stands(app, client, statements):
    world = build_world(app)
    file_incident(client, world)  # compiles the table
    statements.clear()
    filed = file_incident(client, world)
    read = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    config_tables = ("routing_rules", "escalation_policies", "policy_steps", "policy_step_channels")
    assert not [s for s in read if any(f"FROM {t}" in s for t in config_tables)], read
    assert not [s for s in statements if s.lstrip().upper().startswith("UPDATE INCIDENTS")], "no UPDATE after INSERT"
    assert filed["ladder"]["policy_name"] == "Test ladder" and filed["next_escalation_at"] is not None


def test_each_change_an_admin_makes_is_followed_by_the_next_filing(app, client):
    world = build_world(app, steps=(("L1",), ("L2",)))
    admin = world.auth("admin")
    assert [s["channels"][0]["name"] for s in file_incident(client, world)["ladder"]["steps"]] == ["L1", "L2"]

    changed = client.patch(
        f"/api/v1/policies/{world.policy_id}",
        json={"steps": [{"channel_ids": [world.channels["L3"]], "ack_seconds": 60}]},
        headers=admin,
    )
    assert changed.status_code == 200, changed.get_json()
    ladder = file_incident(client, world)["ladder"]
    assert [(s["channels"][0]["name"], s["ack_seconds"]) for s in ladder["steps"]] == [("L3", 60)]

    renamed = client.patch(f"/api/v1/channels/{world.channels['L3']}", json={"name": "L3 desk"}, headers=admin)
    assert renamed.status_code == 200, renamed.get_json()
    assert file_incident(client, world)["ladder"]["steps"][0]["channels"][0]["name"] == "L3 desk"

    rule = client.post(
        "/api/v1/rules",
        json={"name": "Maritime", "domain": "maritime", "position": 1, "policy_id": world.policy_id},
        headers=admin,
    )
    assert rule.status_code == 201, rule.get_json()
    maritime = file_incident(client, world, domain="maritime", category="unsafe_manoeuvre")
    assert maritime["ladder"]["rule_name"] == "Maritime"
    assert file_incident(client, world)["ladder"]["rule_name"] == "Default"


def test_an_agreement_renamed_is_named_by_its_new_code_in_the_next_filing(app, client):
    """The table keeps the code of a rule's agreement for the ROUTED event, which is append-only: a stale code
    written there stays wrong for good, and only in the workers that had compiled the table before the rename."""
    world = build_world(app)
    admin = world.auth("admin")
    made = client.post("/api/v1/agreements", json={"code": "INCSEA-1972", "title": "Incidents at Sea"}, headers=admin)
    assert made.status_code == 201, made.get_json()
    agreement_id = made.get_json()["id"]
    linked = client.patch(f"/api/v1/rules/{world.default_rule_id}", json={"agreement_id": agreement_id}, headers=admin)
    assert linked.status_code == 200, linked.get_json()

    def routed_agreement(filed: dict) -> str:
        return next(e for e in filed["timeline"] if e["kind"] == "routed")["details"]["agreement"]

    assert routed_agreement(file_incident(client, world)) == "INCSEA-1972"  # the table is compiled with it
    renamed = client.patch(f"/api/v1/agreements/{agreement_id}", json={"code": "INCSEA-1972-REV"}, headers=admin)
    assert renamed.status_code == 200, renamed.get_json()
    filed = file_incident(client, world)
    assert (filed["agreement"], routed_agreement(filed)) == ("INCSEA-1972-REV", "INCSEA-1972-REV")


def test_a_stamp_the_table_was_not_compiled_at_compiles_it_again(app, client):
    world = build_world(app)
    file_incident(client, world)
    with session_scope(app) as session:
        compiled = route_table.current(session)
        session.execute(
            Counter.__table__.update().where(Counter.name == config_version.NAME).values(value=compiled.stamp + 1)
        )
    with session_scope(app) as session:
        assert route_table.current(session).stamp == compiled.stamp + 1
        stored = session.scalar(select(Counter.value).where(Counter.name == config_version.NAME))
    assert stored == compiled.stamp + 1


@pytest.mark.both_databases  # the counter and the incident are one statement on PostgreSQL
def test_a_filing_is_written_in_a_few_statements_and_answers_what_it_wrote(app, client, statements):
    world = build_world(app, steps=(("L1", "L2"), ("L3",)))  # two messages: each id must go with its row
    file_incident(client, world)  # compiles the table and writes the token's last use
    statements.clear()
    filed = file_incident(client, world)
    if engine_of(app).dialect.name == "postgresql":  # SQLite writes a row per statement where order matters
        # The token with the routing stamp, the counter and the incident, the events and messages.
        assert len(statements) == 3, "\n".join(statements)
    assert not [s for s in statements if s.lstrip().upper().startswith("UPDATE")], "\n".join(statements)
    # The answer is built from the rows just written: the same ids and texts a read finds.
    read = client.get(f"/api/v1/incidents/{filed['reference']}", headers=world.auth("duty")).get_json()
    for key in ("timeline", "notifications", "reference", "version", "next_escalation_at", "ladder", "marking"):
        assert filed[key] == read[key], key
    assert [e["kind"] for e in filed["timeline"]] == ["filed", "routed"]
    assert sorted(n["channel"] for n in filed["notifications"]) == ["L1", "L2"]


@pytest.mark.both_databases  # the reference is made in SQL on PostgreSQL, in Python on SQLite
def test_a_reference_past_99999_keeps_every_digit(app, client):
    world = build_world(app)
    first = file_incident(client, world)["reference"]
    prefix = first.rsplit("-", 1)[0]
    with session_scope(app) as session:
        session.execute(Counter.__table__.update().where(Counter.name == prefix).values(value=123456))
    assert file_incident(client, world)["reference"] == f"{prefix}-123457"


def test_a_line_gone_down_or_readdressed_is_followed_by_the_next_filing(app, client):
    """The table keeps the channels a filing calls: a line check's verdict and a new address (written through the
    ORM, as line_checks and the admin pages write them) give the configuration a new stamp."""
    world = build_world(app, steps=(("L1",), ("L2",)))
    first = file_incident(client, world)  # compiles the table with L1 up
    assert [n["channel"] for n in first["notifications"]] == ["L1"]
    with session_scope(app) as session:
        session.get(ContactChannel, world.channels["L1"]).health = ChannelHealth.DOWN
    down = file_incident(client, world)
    assert down["notifications"] == [] and down["next_escalation_at"] == down["reported_at"], down["notifications"]
    with session_scope(app) as session:
        channel = session.get(ContactChannel, world.channels["L1"])
        channel.health, channel.address = ChannelHealth.OK, "new-l1@test.example"
    readdressed = file_incident(client, world)
    with session_scope(app) as session:
        body = session.scalar(select(Notification.body).where(Notification.id == readdressed["notifications"][0]["id"]))
    assert readdressed["notifications"][0]["channel"] == "L1"
    ack = dispatch.signer(app).read("ack", re.search(r"/links/ack/([A-Za-z0-9_\-.]+)", body).group(1), utcnow())
    assert links.made_for(ack, "new-l1@test.example"), ack
