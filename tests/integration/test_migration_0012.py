"""Migration 0012 moves existing lines into a valid shape: a line that speaks to the other side (it names
a counterpart and is addressed outside our users' mail domain) becomes a counterpart line and leaves
every policy step and fallback; an internal "HQ duty desk" with its members takes its place."""

import pytest
from sqlalchemy import create_engine, text

from tracker import migrate

pytestmark = pytest.mark.both_databases  # a data migration in SQL: each engine runs its own


USER = (
    "INSERT INTO users (username, full_name, email, password_hash, role, active, created_at) "
    "VALUES (:name, :name, :email, 'x', :role, :yes, CURRENT_TIMESTAMP) RETURNING id"
)
CHANNEL = (
    "INSERT INTO contact_channels (name, level, counterpart, transport, address, active, created_at) "
    "VALUES (:name, :level, :counterpart, 'outbox', :address, :yes, CURRENT_TIMESTAMP) RETURNING id"
)


def _seed(connection) -> dict[str, int]:
    """Our users at northmark.example; the demo's old ladder, its level-3 line addressed to Eastland."""
    one = connection.scalar
    ids = {
        "duty": one(
            text(USER), {"name": "duty", "email": "duty@northmark.example", "role": "duty_officer", "yes": True}
        ),
        "attache": one(
            text(USER), {"name": "attache", "email": "attache@northmark.example", "role": "liaison", "yes": True}
        ),
        "liaison": one(
            text(USER), {"name": "liaison", "email": "Liaison@Northmark.example", "role": "liaison", "yes": True}
        ),
    }
    lines = [
        ("L1 National Operations Centre", 1, "", "noc@northmark.example"),
        ("L3 HQ-to-HQ hotline", 3, "Eastland Western Command", "hotline@eastland.example"),
        # Names a counterpart but is our own desk (our domain): it stays on the ladder.
        ("L4 Vienna Document Chapter III desk", 4, "OSCE participating State Eastland", "cbm@northmark.example"),
    ]
    for name, level, counterpart, address in lines:
        ids[name] = one(
            text(CHANNEL), {"name": name, "level": level, "counterpart": counterpart, "address": address, "yes": True}
        )
    hotline, l1, l4 = (
        ids["L3 HQ-to-HQ hotline"],
        ids["L1 National Operations Centre"],
        ids["L4 Vienna Document Chapter III desk"],
    )
    for user in ("attache", "liaison"):
        connection.execute(
            text("INSERT INTO channel_members (channel_id, user_id) VALUES (:c, :u)"), {"c": hotline, "u": ids[user]}
        )
    ids["policy"] = one(
        text(
            "INSERT INTO escalation_policies (name, description, repeat, created_at, updated_at) "
            "VALUES ('Hotline ladder', '', 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP) RETURNING id"
        )
    )
    step = "INSERT INTO policy_steps (policy_id, position, fallback_channel_id) VALUES (:p, :n, :f) RETURNING id"
    ids["step1"] = one(text(step), {"p": ids["policy"], "n": 1, "f": hotline})  # the hotline as a fallback
    ids["step2"] = one(text(step), {"p": ids["policy"], "n": 2, "f": None})
    for step_id, channel_id in ((ids["step1"], l1), (ids["step2"], hotline), (ids["step2"], l4)):
        connection.execute(
            text("INSERT INTO policy_step_channels (step_id, channel_id) VALUES (:s, :c)"),
            {"s": step_id, "c": channel_id},
        )
    return ids


def test_a_line_to_the_other_side_leaves_the_ladder_and_an_hq_duty_desk_takes_its_place(database_at):
    url = database_at("0011")
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            ids = _seed(connection)
        migrate.upgrade(url)
        assert migrate.current(url) == migrate.head()
        with engine.connect() as connection:
            q = connection.execute
            lines = {
                r.name: r
                for r in q(text("SELECT id, name, level, counterpart, address, counterpart_line FROM contact_channels"))
            }
            steps = {(s, c) for s, c in q(text("SELECT step_id, channel_id FROM policy_step_channels"))}
            fallbacks = dict(q(text("SELECT id, fallback_channel_id FROM policy_steps")).all())
            desk = lines["HQ duty desk"]
            desk_members = set(
                q(
                    text(
                        "SELECT u.username FROM channel_members m JOIN users u ON u.id = m.user_id "
                        "WHERE m.channel_id = :c"
                    ),
                    {"c": desk.id},
                ).scalars()
            )
    finally:
        engine.dispose()

    hotline = lines["L3 HQ-to-HQ hotline"]
    assert bool(hotline.counterpart_line), "the line to Eastland is a counterpart line now"
    assert all(channel != hotline.id for _, channel in steps), "and on no policy step"
    assert hotline.id not in fallbacks.values(), "nor any step's fallback"

    assert not desk.counterpart_line and desk.counterpart == ""
    assert (desk.level, desk.address) == (3, "hq-duty-desk@northmark.example")
    assert desk_members == {"attache", "liaison"}, "the desk keeps the hotline's members"
    assert (ids["step2"], desk.id) in steps and fallbacks[ids["step1"]] == desk.id

    l1, l4 = ids["L1 National Operations Centre"], ids["L4 Vienna Document Chapter III desk"]
    assert not lines["L1 National Operations Centre"].counterpart_line
    assert not lines["L4 Vienna Document Chapter III desk"].counterpart_line, "our own desk naming a counterpart"
    assert {(ids["step1"], l1), (ids["step2"], l4)} <= steps
    assert len(steps) == 3, steps


def test_a_new_database_with_no_users_migrates_without_moving_anything(database_at):
    url = database_at()
    migrate.upgrade(url)
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            assert connection.scalar(text("SELECT count(*) FROM contact_channels")) == 0
    finally:
        engine.dispose()
