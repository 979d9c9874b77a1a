"""The admin pages through the Flask test client: channels, policies, routing rules, users."""

import dataclasses
import html
import re

import pytest
from sqlalchemy import select

from tests import support
from tests.support import CSRF_TOKEN, SHOWN_ONCE, count, filing_form, outbox_files
from tracker.db import session_scope
from tracker.models import ApiToken, ContactChannel, EscalationPolicy, Incident, Notification, RoutingRule, User
from tracker.services.accounts import people
from tracker.services.incidents import ladder

TOKEN = CSRF_TOKEN
FLASH = re.compile(r'<p class="flash ([a-z]*)" role="status">(.*?)</p>')
VERSION = re.compile(r'name="version" type="hidden" value="(\d*)"')
NO_ROUTE = {"domain": "", "category": "", "precedence": "", "min_escalation_risk": "", "sector": ""}


def sign_in(app, who: str, password: str | None = None):
    """A test client signed in as who; the sign-in answer is client.signed_in."""
    client = app.test_client()
    client.signed_in = support.sign_in(client, who, password)
    return client


def submit(client, path: str, data: dict | None = None, page: str | None = None):
    """POST a form to path with the CSRF token of the page it lives on (path itself by default)."""
    token = TOKEN.search(client.get(page or path).text)[1]
    return client.post(path, data={"csrf_token": token, **(data or {})})


def session_cookie(app, response) -> str:
    """What the answer's session cookie holds, decoded (signed by Flask, not encrypted: anyone can read it)."""
    cookies = [value for value in response.headers.getlist("Set-Cookie") if value.startswith("session=")]
    if not cookies:
        return ""
    value = cookies[-1].split(";", 1)[0].removeprefix("session=")
    return str(app.session_interface.get_signing_serializer(app).loads(value))


def flashes(response) -> list[tuple[str, str]]:
    return [(kind, html.unescape(text)) for kind, text in FLASH.findall(response.text)]


def id_of(app, model, name: str) -> int:
    with session_scope(app) as session:
        return session.scalar(select(model.id).where(model.name == name))


def channel_form(**overrides) -> dict:
    data = {
        "name": "North desk",
        "level": "2",
        "counterpart": "Eastland Northern Command",
        "transport": "outbox",
        "address": "north@test.example",
        "active": "y",
        "members": ["liaison"],
        "check_interval_seconds": "",
        "check_cron": "",
        "check_window_seconds": "900",
    }
    return {**data, **overrides}


def policy_form(name: str, *rows: tuple, repeat: int = 0) -> dict:
    """rows: (channel ids, ack seconds or "", fallback id or "") for the first rows; the rest stay empty."""
    data = {"name": name, "description": "", "repeat": str(repeat)}
    for n in range(5):
        channels, ack, fallback = rows[n] if n < len(rows) else ([], "", "")
        data.update({f"steps-{n}-channel_ids": channels, f"steps-{n}-ack_seconds": ack})
        data[f"steps-{n}-fallback_channel_id"] = fallback
    return data


def rule_form(name: str, policy_id: int, **criteria) -> dict:
    return {"name": name, "policy_id": str(policy_id), "active": "y", **NO_ROUTE, **criteria}


def rule_order(client) -> list[str]:
    return re.findall(r'data-rule="([^"]+)"', client.get("/admin/rules").text)


def preview(client, **attributes):
    query = {"domain": "air", "category": "unsafe_intercept", "precedence": "Z", "escalation_risk": "high"}
    return client.get("/admin/rules/preview", query_string={**query, **attributes})


# -- the whole route ----------------------------------------------------------------------


def test_admin_builds_a_route_that_a_newly_filed_incident_follows(app, world):
    admin = sign_in(app, "admin")
    created = submit(admin, "/admin/channels/new", channel_form())
    assert created.status_code == 302 and created.headers["Location"] == "/admin/channels", created.text[:2000]
    listing = admin.get("/admin/channels")
    assert ("success", "Channel “<bdi>North desk</bdi>” created.") in flashes(listing)
    assert "North desk" in listing.text and "Eastland Northern Command" in listing.text
    north = id_of(app, ContactChannel, "North desk")

    steps = ([str(north)], "300", str(world.channels["L3"])), ([str(world.channels["L3"])], "", "")
    response = submit(admin, "/admin/policies/new", policy_form("North ladder", *steps, repeat=1))
    assert response.status_code == 302, response.text[:2000]
    policies = html.unescape(admin.get("/admin/policies").text)
    assert (
        "<bdi>North desk</bdi> · 5 min · fallback <bdi>L3</bdi>" in policies
        and "<bdi>L3</bdi> · from precedence" in policies
    )
    policy = id_of(app, EscalationPolicy, "North ladder")

    response = submit(admin, "/admin/rules/new", rule_form("Northern sector", policy, sector="NORTH"))
    assert response.status_code == 302, response.text[:2000]
    assert rule_order(admin) == ["Northern sector", "Default"]

    before = {model: count(app, model) for model in (Incident, Notification, RoutingRule, EscalationPolicy)}
    answer = preview(admin, sector="north")
    assert answer.status_code == 200
    text = html.unescape(answer.text)
    assert "rule “<bdi>Northern sector</bdi>” → policy “<bdi>North ladder</bdi>”" in text
    assert "North desk · acknowledge within 5 min · fallback L3" in text and "L3 · acknowledge within 10 min" in text
    assert "rule “<bdi>Default</bdi>”" in html.unescape(preview(admin, sector="South").text)
    assert {model: count(app, model) for model in before} == before and outbox_files(app) == [], (
        "a preview stores nothing"
    )

    duty = sign_in(app, "duty")
    filed = duty.post("/incidents/new", data=filing_form(duty, sector="North"))
    assert filed.status_code == 302, filed.text[:2000]
    page = duty.get(filed.headers["Location"])
    facts = html.unescape(page.text)
    assert (
        "rule “<bdi>Northern sector</bdi>”, policy “<bdi>North ladder</bdi>”; notified <bdi>North desk</bdi>" in facts
    )
    assert "rule “<bdi>Northern sector</bdi>” → policy “<bdi>North ladder</bdi>”" in facts


def test_the_preview_puts_a_category_of_another_domain_next_to_its_field(app, world):
    admin = sign_in(app, "admin")
    answer = preview(admin, domain="maritime", sector="North")
    assert answer.status_code == 422 and 'id="category-error"' in answer.text
    assert '<option selected value="maritime">' in answer.text and 'value="North"' in answer.text


def test_the_preview_refuses_a_sector_filing_refuses(app, world):
    # Filing answers "no sector 'Nowhere'"; the preview named the default rule for it.
    admin = sign_in(app, "admin")
    answer = preview(admin, sector="Nowhere")
    assert answer.status_code == 422 and 'id="sector-error"' in answer.text, answer.text[:2000]
    assert "no sector &#39;Nowhere&#39;" in answer.text and 'value="Nowhere"' in answer.text


def test_the_preview_takes_a_position_so_a_rule_near_the_border_can_be_tried(app, world):
    """A rule "within 10 km of the border" could never be tried on the Routing page (it had no position), while
    filing and the API's preview route by it. A position is read as filing reads it, or refused beside its field."""
    with session_scope(app) as session:
        ladder.save_rule(session, {"name": "Near the border", "within_border_km": 10, "policy_id": world.policy_id})
    admin = sign_in(app, "admin")
    near = preview(admin, sector="", position="54.102, 23.311")
    said = html.unescape(near.text)
    assert near.status_code == 200 and "It would take rule “<bdi>Near the border</bdi>”" in said, said[:3000]
    assert "Read from the position: sector South, " in said and " km from the border." in said
    far = html.unescape(preview(admin, sector="", position="54.412, 22.871").text)
    assert "It would take rule “<bdi>Default</bdi>”" in far
    unread = preview(admin, sector="", position="59 ,5 27")
    assert unread.status_code == 422 and 'id="position-error"' in unread.text and "ambiguous" in unread.text


# -- routing rules ------------------------------------------------------------------------


@pytest.fixture
def two_rules(app, world):
    """Rules "First" and "Second" for sector North, each with a policy of its own."""
    with session_scope(app) as session:
        for name, channel in (("First", "L2"), ("Second", "L3")):
            policy = ladder.save_policy(
                session, {"name": f"{name} ladder", "steps": [{"channel_ids": [world.channels[channel]]}]}
            )
            ladder.save_rule(session, {"name": name, "sector": "North", "policy_id": policy.id})


def test_moving_a_rule_up_or_down_changes_the_evaluation_order(app, world, two_rules):
    admin = sign_in(app, "admin")
    assert rule_order(admin) == ["First", "Second", "Default"]
    assert "“<bdi>First ladder</bdi>”" in preview(admin, sector="North").text

    second = id_of(app, RoutingRule, "Second")
    moved = submit(admin, f"/admin/rules/{second}/move/up", page="/admin/rules")
    assert moved.status_code == 302
    assert rule_order(admin) == ["Second", "First", "Default"]
    assert "“<bdi>Second ladder</bdi>”" in preview(admin, sector="North").text

    submit(admin, f"/admin/rules/{second}/move/up", page="/admin/rules")
    assert ("error", "“<bdi>Second</bdi>” is first already.") in flashes(admin.get("/admin/rules"))
    submit(admin, f"/admin/rules/{second}/move/down", page="/admin/rules")
    assert rule_order(admin) == ["First", "Second", "Default"]
    submit(admin, f"/admin/rules/{world.default_rule_id}/move/up", page="/admin/rules")
    assert ("error", "The default rule is always evaluated last.") in flashes(admin.get("/admin/rules"))


def test_a_move_pressed_on_a_page_read_before_another_admins_move_moves_nothing(app, world, two_rules):
    """Two admins on the Routing page: A moved Second above First; B, on the page as it was, moved Second up again,
    which took it past a rule B never saw beside it, and B was told "Moved up"."""
    admin = sign_in(app, "admin")
    page = admin.get("/admin/rules").text
    first, second = id_of(app, RoutingRule, "First"), id_of(app, RoutingRule, "Second")
    stale = re.search(rf'action="(/admin/rules/{second}/move/up\?past={first})"', page)
    assert stale, "the Move up button names the rule it passes"
    assert submit(admin, f"/admin/rules/{second}/move/up?past={first}", page="/admin/rules").status_code == 302
    assert rule_order(admin) == ["Second", "First", "Default"]
    with session_scope(app) as session:  # a third rule, now above Second, moved there by another admin
        policy = session.scalar(select(RoutingRule.policy_id).where(RoutingRule.id == first))
        ladder.save_rule(session, {"name": "Third", "sector": "South", "policy_id": policy, "position": 1})
    assert rule_order(admin) == ["Third", "Second", "First", "Default"]
    submit(admin, f"/admin/rules/{second}/move/up?past={first}", page="/admin/rules")  # the page of before
    said = [text for kind, text in flashes(admin.get("/admin/rules")) if kind == "error"]
    assert said and said[0].startswith("Not moved: the rules were reordered since this page was read"), said
    assert rule_order(admin) == ["Third", "Second", "First", "Default"], "nothing moved"


def test_rules_with_equal_positions_still_swap(app, world, two_rules):
    with session_scope(app) as session:
        for rule in session.scalars(select(RoutingRule).where(RoutingRule.is_default.is_(False))):
            rule.position = 50
    admin = sign_in(app, "admin")
    assert rule_order(admin) == ["First", "Second", "Default"], "equal positions: the older rule first"
    submit(admin, f"/admin/rules/{id_of(app, RoutingRule, 'First')}/move/down", page="/admin/rules")
    assert rule_order(admin) == ["Second", "First", "Default"]


def test_a_rule_is_deleted_but_never_the_default(app, world, two_rules):
    admin = sign_in(app, "admin")
    page = admin.get("/admin/rules").text
    assert f"/admin/rules/{world.default_rule_id}/delete" not in page, "no delete button on the default rule"
    first = f"/admin/rules/{id_of(app, RoutingRule, 'First')}/delete"
    asked = submit(admin, first, page="/admin/rules")
    assert asked.status_code == 200 and "Delete the routing rule “<bdi>First</bdi>”?" in html.unescape(asked.text), (
        asked.text
    )
    assert rule_order(admin) == ["First", "Second", "Default"], "the Delete button only asks"
    submit(admin, first, {"confirm": "yes"}, page="/admin/rules")
    assert rule_order(admin) == ["Second", "Default"]
    refused = submit(admin, f"/admin/rules/{world.default_rule_id}/delete", {"confirm": "yes"}, page="/admin/rules")
    assert refused.status_code == 302
    assert ("error", "The default routing rule cannot be deleted.") in flashes(admin.get("/admin/rules"))
    assert rule_order(admin) == ["Second", "Default"]


def test_the_default_rule_changes_only_its_name_and_policy(app, world, two_rules):
    admin = sign_in(app, "admin")
    path = f"/admin/rules/{world.default_rule_id}/edit"
    page = admin.get(path).text
    assert 'name="sector"' not in page and 'name="active"' not in page
    policy = id_of(app, EscalationPolicy, "Second ladder")
    assert submit(admin, path, {"name": "Catch-all", "policy_id": str(policy)}).status_code == 302
    assert rule_order(admin) == ["First", "Second", "Catch-all"]
    assert "rule “<bdi>Catch-all</bdi>” → policy “<bdi>Second ladder</bdi>”" in html.unescape(
        preview(admin, sector="South").text
    )


# -- validation ---------------------------------------------------------------------------

INVALID = [
    # (what, path, form data, the field the error sits next to, input that must come back)
    (
        "address",
        "/admin/channels/new",
        channel_form(transport="webhook", address="north desk"),
        "address",
        "north desk",
    ),
    # An e-mail line where no mail relay is configured: every message over it would fail for good.
    ("no relay", "/admin/channels/new", channel_form(transport="email"), "transport", 'value="North desk"'),
    ("cron", "/admin/channels/new", channel_form(check_cron="hourly"), "check_cron", "hourly"),
    ("cron never due", "/admin/channels/new", channel_form(check_cron="0 6 31 2 *"), "check_cron", "0 6 31 2 *"),
    (
        "interval and cron",
        "/admin/channels/new",
        channel_form(check_interval_seconds="3600", check_cron="0 */6 * * *"),
        "check_cron",
        'value="3600"',
    ),
    ("taken name", "/admin/channels/new", channel_form(name="L1", address="x@test.example"), "name", "x@test.example"),
    ("member", "/admin/channels/new", channel_form(members=["duty"]), "members", "north@test.example"),
    (
        "interval",
        "/admin/channels/new",
        channel_form(check_interval_seconds="45"),
        "check_interval_seconds",
        'value="45"',
    ),
    ("no steps", "/admin/policies/new", policy_form("Empty"), "steps-0-channel_ids", 'value="Empty"'),
    # str.isdigit() takes "²", int() refuses it: a row numbered so was a 500; it is no row, as "steps-x-..." is none
    (
        "row numbered ²",
        "/admin/policies/new",
        {**policy_form("Superscript"), "steps-²-channel_ids": ["1"], "steps-²-ack_seconds": "600"},
        "steps-0-channel_ids",
        'value="Superscript"',
    ),
    # 400 digits: WTForms' range rule raised OverflowError (a 500) converting them to a float
    (
        "huge window",
        "/admin/channels/new",
        channel_form(check_window_seconds="9" * 400),
        "check_window_seconds",
        "9" * 400,
    ),
    (
        "huge step deadline",
        "/admin/policies/new",
        policy_form("Huge", (["1"], "9" * 400, "")),
        "steps-0-ack_seconds",
        'value="Huge"',
    ),
    (
        "row",
        "/admin/policies/new",
        policy_form("Gap", ([], "", ""), (["1"], "", ""), ([], "60", "")),
        "steps-2-channel_ids",
        'value="60"',
    ),
    (
        "category",
        "/admin/rules/new",
        rule_form("Odd", 1, domain="air", category="stray_fire"),
        "category",
        'value="Odd"',
    ),
    ("policy", "/admin/rules/new", rule_form("Lost", 999), "policy_id", 'value="Lost"'),
    (
        "password",
        "/admin/users/new",
        {"username": "newbie", "role": "liaison", "password": "short"},
        "password",
        "newbie",
    ),
    (
        "e-mail address",
        "/admin/users/new",
        {"username": "newbie", "role": "liaison", "password": "long-enough", "email": "duty desk"},
        "email",
        'value="duty desk"',
    ),
    (
        "user taken",
        "/admin/users/new",
        {"username": "duty", "role": "liaison", "password": "long-enough"},
        "username",
        'value="duty"',
    ),
]


@pytest.mark.parametrize(("what", "path", "data", "field", "kept"), INVALID, ids=[case[0] for case in INVALID])
def test_a_refused_form_comes_back_as_422_with_the_error_next_to_its_field(app, world, what, path, data, field, kept):
    admin = sign_in(app, "admin")
    before = [count(app, model) for model in (ContactChannel, EscalationPolicy, RoutingRule, User)]
    response = submit(admin, path, data)
    assert response.status_code == 422, response.text[:2000]
    assert f'id="{field}-error"' in response.text, re.findall(r'<small class="error"[^>]*>[^<]*', response.text)
    assert kept in response.text, "the input is kept"
    assert [count(app, model) for model in (ContactChannel, EscalationPolicy, RoutingRule, User)] == before


# -- channels -----------------------------------------------------------------------------


def test_a_webhook_channel_shows_its_signing_secret_once(app, world):
    admin = sign_in(app, "admin")
    form = channel_form(name="Hotline", transport="webhook", address="https://hotline.test.example/in", members=[])
    response = submit(admin, "/admin/channels/new", form)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    shown = SHOWN_ONCE.findall(response.text)
    with session_scope(app) as session:
        assert shown == [session.scalar(select(ContactChannel.secret).where(ContactChannel.name == "Hotline"))]
    assert "Channel “<bdi>Hotline</bdi>” created." in html.unescape(response.text)
    assert shown[0] not in session_cookie(app, response), "the secret never travels in the cookie"
    assert SHOWN_ONCE.findall(admin.get("/admin/channels").text) == [], "never shown again"


def test_editing_a_channel_keeps_its_next_check_unless_the_schedule_changes(app, world):
    admin = sign_in(app, "admin")
    path = f"/admin/channels/{world.channels['L1']}/edit"
    page = admin.get(path).text
    assert '<option selected value="liaison">' in page and 'value="l1@test.example"' in page
    submit(admin, path, channel_form(name="L1", level="1", address="l1@test.example", check_interval_seconds="3600"))
    with session_scope(app) as session:
        scheduled = session.get(ContactChannel, world.channels["L1"]).next_check_at
    assert scheduled is not None
    response = submit(
        admin,
        path,
        channel_form(name="L1 desk", level="1", address="l1@test.example", members=[], check_interval_seconds="3600"),
    )
    assert response.status_code == 302
    with session_scope(app) as session:
        channel = session.get(ContactChannel, world.channels["L1"])
        assert (channel.name, channel.member_names, channel.next_check_at) == ("L1 desk", [], scheduled)


def test_a_supervisor_tests_a_channel_now_but_may_not_change_channels(app, world):
    # A mail line made while a relay was configured, which the deployment has since lost (SMTP_HOST empty).
    transports = app.extensions["tracker.transports"]
    with_relay = {**transports, "email": dataclasses.replace(transports["email"], host="relay.test.example")}
    with session_scope(app) as session:
        ladder.save_channel(
            session, {"name": "Mail desk", "level": 2, "transport": "email", "address": "mail@test.example"}, with_relay
        )
    supervisor = sign_in(app, "supervisor")
    listing = supervisor.get("/admin/channels")
    assert listing.status_code == 200 and "New channel" not in listing.text and "/edit" not in listing.text

    tested = submit(supervisor, f"/admin/channels/{world.channels['L1']}/test", page="/admin/channels")
    assert tested.status_code == 302
    kind, text = flashes(supervisor.get("/admin/channels"))[0]
    assert kind == "success" and text.startswith("Check of <bdi>L1</bdi>: pending, to be confirmed by ")
    assert len(outbox_files(app)) == 1, "the check message went out"
    history = supervisor.get(f"/admin/channels/{world.channels['L1']}/checks").text
    assert "PENDING" in history and ">supervisor</td>" in history

    submit(supervisor, f"/admin/channels/{id_of(app, ContactChannel, 'Mail desk')}/test", page="/admin/channels")
    listing = supervisor.get("/admin/channels")
    assert flashes(listing) == [
        (
            "error",
            "Check of <bdi>Mail desk</bdi>: failed (<bdi>not delivered: SMTP_HOST is not configured</bdi>); "
            "health now degraded.",
        )
    ]
    row = re.search(r'data-channel="Mail desk">(.*?)</tr>', listing.text, re.S)[1]
    assert "DEGRADED" in row and "never" in row, "health readable without colour; no successful check yet"

    assert supervisor.get("/admin/channels/new").status_code == 403
    assert submit(supervisor, "/admin/channels/new", channel_form(), page="/admin/channels").status_code == 403
    for path in ("/admin/policies", "/admin/rules", "/admin/users", f"/admin/channels/{world.channels['L1']}/edit"):
        assert supervisor.get(path).status_code == 403, path
    assert count(app, ContactChannel) == 5


def test_a_duty_officer_is_refused_and_a_stranger_is_sent_to_sign_in(app, world):
    refused = sign_in(app, "duty").get("/admin/channels")
    assert refused.status_code == 403 and 'class="top"' in refused.text and "Not allowed" in refused.text
    stranger = app.test_client().get("/admin/channels")
    assert stranger.status_code == 302 and stranger.headers["Location"].startswith("/signin?next=")


def test_a_channel_in_use_is_not_deleted(app, world):
    admin = sign_in(app, "admin")
    path = f"/admin/channels/{world.channels['L1']}/delete"
    assert submit(admin, path, {"confirm": "yes"}, page="/admin/channels").status_code == 302
    kind, text = flashes(admin.get("/admin/channels"))[0]
    assert kind == "error" and "is used by a policy" in text
    assert count(app, ContactChannel) == 4


# -- policies -----------------------------------------------------------------------------


def test_editing_a_policy_starts_from_its_steps(app, world):
    admin = sign_in(app, "admin")
    path = f"/admin/policies/{world.policy_id}/edit"
    page = admin.get(path).text
    first_row = re.search(r'<select id="steps-0-channel_ids".*?</select>', page, re.S)[0]
    assert f'<option selected value="{world.channels["L1"]}">' in first_row and 'value="600"' in page
    rows = ([str(world.channels["L2"])], "", ""), ([str(world.channels["L3"])], "120", str(world.channels["L1"]))
    assert submit(admin, path, policy_form("Test ladder", *rows)).status_code == 302
    listed = html.unescape(admin.get("/admin/policies").text)
    assert "<bdi>L2</bdi> · from precedence" in listed and "<bdi>L3</bdi> · 2 min · fallback <bdi>L1</bdi>" in listed


# -- users --------------------------------------------------------------------------------


def test_admin_creates_a_user_resets_the_password_and_deactivates_them(app, world):
    admin = sign_in(app, "admin")
    created = submit(
        admin,
        "/admin/users/new",
        {
            "username": "night",
            "full_name": "Night Desk",
            "email": "",
            "role": "duty_officer",
            "password": "night-one-pw",
        },
    )
    assert created.status_code == 302, created.text[:2000]
    user_page = created.headers["Location"]
    assert security_log(admin, user_page) == [("created", "127.0.0.1", "by: admin, role: duty_officer")]
    night = sign_in(app, "night", "night-one-pw")
    assert night.signed_in.status_code == 302 and night.get("/").status_code == 200

    reset = submit(admin, f"{user_page}/password", {"password": "night-two-pw"}, page=user_page)
    assert reset.status_code == 302
    assert night.get("/").status_code == 302, "a reset signs the user's sessions out"
    assert sign_in(app, "night", "night-one-pw").signed_in.status_code == 401
    night = sign_in(app, "night", "night-two-pw")
    assert night.signed_in.status_code == 302

    short = submit(admin, f"{user_page}/password", {"password": "short"}, page=user_page)
    assert short.status_code == 422 and 'id="password-error"' in short.text

    asked = submit(admin, f"{user_page}/deactivate", page=user_page)
    assert (
        asked.status_code == 200
        and "Deactivate <bdi>night</bdi>?" in asked.text
        and "cannot be undone" not in asked.text
    )
    assert night.get("/").status_code == 200, "asked first"
    assert submit(admin, f"{user_page}/deactivate", {"confirm": "yes"}, page=user_page).status_code == 302
    assert night.get("/").status_code == 302, "signed out at once"
    assert sign_in(app, "night", "night-two-pw").signed_in.status_code == 401
    row = re.search(r'data-user="night">(.*?)</tr>', admin.get("/admin/users").text, re.S)[1]
    assert ">inactive<" in row


def test_reactivating_a_user_brings_back_neither_their_api_tokens_nor_their_feed_links(app, world):
    """Deactivation made the tokens and feed link stop answering while the account was off, and
    reactivation silently revived every one: a token left on a lost laptop came back with the account."""
    client = app.test_client()
    token = world.auth("liaison")
    feed = (
        client.get("/api/v1/exercises/feed-link", headers=token).get_json()["url"].removeprefix("http://tracker.test")
    )
    assert client.get(feed).status_code == 200 and client.get("/api/v1/incidents", headers=token).status_code == 200
    with session_scope(app) as session:
        liaison = session.scalar(select(User.id).where(User.username == "liaison"))
    user_page = f"/admin/users/{liaison}"

    admin = sign_in(app, "admin")
    assert submit(admin, f"{user_page}/deactivate", {"confirm": "yes"}, page=user_page).status_code == 302
    said = [text for _, text in flashes(admin.get(user_page))]
    assert any("API tokens and calendar feed links revoked" in text for text in said), said
    assert submit(admin, f"{user_page}/activate", page=user_page).status_code == 302
    said = [text for _, text in flashes(admin.get(user_page))]
    assert any("stay revoked" in text for text in said), said

    answer = client.get("/api/v1/incidents", headers=token)
    assert answer.status_code == 401, f"the old token after reactivation: {answer.status_code} {answer.get_json()}"
    assert client.get(feed).status_code == 401, "the old feed link after reactivation"
    assert sign_in(app, "liaison").signed_in.status_code == 302, "the password still signs in"
    with session_scope(app) as session:
        tokens = session.scalars(select(ApiToken).where(ApiToken.user_id == liaison)).all()
        assert tokens and all(t.revoked_at is not None for t in tokens), [(t.name, t.revoked_at) for t in tokens]


def reactivated_twin(app, name: str):
    """An inactive liaison account named name, made before such names were refused, reactivated by the admin on
    its page: the admin's client, the page's path, and the warnings it flashed."""
    with session_scope(app) as session:
        twin = User(username=name, password_hash=people.hash_password("long-enough-pw"), role="liaison")
        twin.active = False
        session.add(twin)
        session.flush()
        user_page = f"/admin/users/{twin.id}"
    admin = sign_in(app, "admin")
    assert submit(admin, f"{user_page}/activate", page=user_page).status_code == 302
    said = flashes(admin.get(user_page))
    return admin, user_page, [text for kind, text in said if kind == "warning"]


def test_reactivating_a_user_whose_name_reads_as_an_active_ones_warns_the_admin(app, world):
    """`flask user activate` named a pair it made again (names read as one share one count of failed sign-ins),
    the admin page's Activate said nothing."""
    admin, user_page, warned = reactivated_twin(app, "Liaison")
    assert warned == [
        "<bdi>Liaison</bdi> reads as <bdi>liaison</bdi>: the two share one count of failed sign-ins, so failures on "
        "either slow the other down. Keep one of them active, and give the other's owner an account under a name "
        "unlike any other."
    ], warned
    assert submit(admin, f"{user_page}/deactivate", {"confirm": "yes"}, page=user_page).status_code == 302
    assert not [kind for kind, _ in flashes(admin.get(user_page)) if kind == "warning"], "deactivating warns of none"


def test_reactivating_a_user_whose_name_looks_like_an_active_ones_warns_the_admin_with_its_codes(app, world):
    """ "lіaison" with a Cyrillic і, reactivated beside "liaison": the page said nothing, and would have shown the two
    names the same."""
    _, _, warned = reactivated_twin(app, "l\u0456aison")
    assert len(warned) == 1 and warned[0].startswith(
        "<bdi>'l\\u0456aison'</bdi> looks like <bdi>'liaison'</bdi> (as written here"
    ), warned


def test_an_admin_cannot_deactivate_themselves(app, world):
    admin = sign_in(app, "admin")
    with session_scope(app) as session:
        me = session.scalar(select(User.id).where(User.username == "admin"))
    submit(admin, f"/admin/users/{me}/deactivate", page=f"/admin/users/{me}")
    assert ("error", "You cannot deactivate yourself: ask another admin.") in flashes(admin.get(f"/admin/users/{me}"))
    assert admin.get("/admin/users").status_code == 200


def test_a_token_refused_for_a_deactivated_user_says_why_on_the_page(app, world):
    """The page came back 422 with no word of why, the name typed gone: the admin could not tell a token was made."""
    admin = sign_in(app, "admin")
    with session_scope(app) as session:
        duty = session.scalar(select(User).where(User.username == "duty"))
        duty.active, duty_id = False, duty.id
    user_page = f"/admin/users/{duty_id}"
    refused = submit(admin, f"{user_page}/tokens", {"name": "after deactivation"}, page=user_page)
    assert refused.status_code in (409, 422), refused.status_code
    said = html.unescape(refused.text)
    assert "deactivated" in said and 'role="alert"' in said, said[:3000]
    assert SHOWN_ONCE.findall(refused.text) == []


def test_an_issued_token_is_shown_once_works_and_stops_when_revoked(app, world):
    admin = sign_in(app, "admin")
    with session_scope(app) as session:
        duty = session.scalar(select(User.id).where(User.username == "duty"))
    user_page = f"/admin/users/{duty}"
    issued = submit(admin, f"{user_page}/tokens", {"name": "wall display"}, page=user_page)
    assert issued.status_code == 200 and issued.headers["Cache-Control"] == "no-store"
    page = issued.text
    (text,) = SHOWN_ONCE.findall(page)
    assert text not in session_cookie(app, issued), "the token never travels in the cookie"
    assert f'data-token="{text[:10]}"' in page and "wall display" in page
    assert SHOWN_ONCE.findall(admin.get(user_page).text) == [], "never shown again"

    api = app.test_client()
    bearer = {"Authorization": f"Bearer {text}"}
    assert api.get("/api/v1/incidents", headers=bearer).status_code == 200

    revoke = re.search(r'action="(/admin/tokens/\d+/revoke)"[^<]*<input[^>]*>\s*<button[^>]*wall display', page)
    assert revoke, "a revoke button for the token"
    asked = submit(admin, revoke[1], page=user_page)
    assert asked.status_code == 200 and "Revoke the API token" in asked.text and "cannot be undone" in asked.text
    assert submit(admin, revoke[1], {"confirm": "yes"}, page=user_page).status_code == 302
    assert api.get("/api/v1/incidents", headers=bearer).status_code == 401
    row = re.search(rf'data-token="{text[:10]}">(.*?)</tr>', admin.get(user_page).text, re.S)[1]
    assert "<button" not in row and re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ \(\d{6}Z[A-Z]{3}\d\d\)</td>\s*$", row)
    # From a page read before: it says the token was revoked already, not that this revoked it.
    again = submit(admin, revoke[1], {"confirm": "yes"}, page=user_page)
    assert again.status_code == 302, again.status_code
    said = admin.get(again.headers["Location"]).text
    assert "was revoked already" in said and "revoked.</" not in said, said[:3000]

    empty = submit(admin, f"{user_page}/tokens", {"name": ""}, page=user_page)
    assert empty.status_code == 422 and 'id="name-error"' in empty.text


def test_reloading_the_page_that_showed_a_new_token_issues_no_second_one(app, world):
    """The answer to the token form shows the token itself; the browser's reload sends the form again. The
    form's one-time key makes that second sending issue nothing: it says so, and shows no token."""
    admin = sign_in(app, "admin")
    with session_scope(app) as session:
        duty = session.scalar(select(User.id).where(User.username == "duty"))
    user_page = f"/admin/users/{duty}"
    form = admin.get(user_page).text
    token = TOKEN.search(form)[1]
    key = re.search(r'name="issue_key" type="hidden" value="([^"]+)"', form)[1]
    sent = {"csrf_token": token, "issue_key": key, "name": "wall display"}
    first = admin.post(f"{user_page}/tokens", data=sent)
    assert first.status_code == 200 and len(SHOWN_ONCE.findall(first.text)) == 1, first.status_code
    fresh = re.search(r'name="issue_key" type="hidden" value="([^"]+)"', first.text)[1]
    assert fresh != key, "the answer's form has a key of its own"
    again = admin.post(f"{user_page}/tokens", data=sent)
    assert again.status_code == 302 and again.headers["Location"].endswith(user_page), again.status_code
    page = admin.get(user_page).text
    assert "This form was sent already" in page and SHOWN_ONCE.findall(page) == [], page[:2000]
    with session_scope(app) as session:
        issued = session.scalars(select(ApiToken.name).where(ApiToken.user_id == duty, ApiToken.name == "wall display"))
        assert len(issued.all()) == 1, "one token for one form"


def security_log(admin, user_page: str) -> list[tuple[str, str, str]]:
    """(kind, from, details) of each line of the user's security log, newest first."""
    rows = re.findall(
        r'<tr data-event="([a-z_]+)">.*?data-label="From">([^<]*)</td>\s*<td data-label="Details">([^<]*)</td>',
        admin.get(user_page).text,
        re.S,
    )
    return [(kind, html.unescape(where), html.unescape(details)) for kind, where, details in rows]


def test_an_admins_reset_lets_the_owner_in_at_once_and_keeps_their_failed_sign_ins_on_record(app, world):
    """As the command line's reset does (tests/functional/test_cli.py): the guesses at the old password no longer
    hold the new one back (429), but the owner is told of them at the next sign-in and the reset's line in the
    security log counts them; both say what a reset does in the same words."""
    owner = app.test_client()
    tries = [support.sign_in(owner, "duty", f"wrong-password-{n}").status_code for n in range(6)]
    assert 429 in tries, tries
    admin = sign_in(app, "admin")
    with session_scope(app) as session:
        user_page = f"/admin/users/{session.scalar(select(User.id).where(User.username == 'duty'))}"
    reset = submit(admin, f"{user_page}/password", {"password": "duty-new-pw"}, page=user_page)
    assert reset.status_code == 302
    assert ("success", f"Password of <bdi>duty</bdi> reset: {people.RESET_SAID}") in flashes(admin.get(user_page))
    support.assert_reset_keeps_the_failures_on_record(app, owner, "duty", "duty-new-pw", tries.count(401))


def test_the_security_log_names_who_deactivated_reactivated_reset_and_handled_tokens(app, world):
    """Deactivating, activating again, resetting a password and issuing or revoking a token were
    done without a trace in the account's security log: an admin could not tell who had cut an
    officer off or handed out a token."""
    with session_scope(app) as session:
        duty = session.scalar(select(User.id).where(User.username == "duty"))
    user_page = f"/admin/users/{duty}"
    admin = sign_in(app, "admin")
    before = len(security_log(admin, user_page))

    issued = submit(admin, f"{user_page}/tokens", {"name": "wall display"}, page=user_page)
    assert issued.status_code == 200, issued.status_code
    prefix = SHOWN_ONCE.findall(issued.text)[0][:10]
    with session_scope(app) as session:
        token_id = session.scalar(select(ApiToken.id).where(ApiToken.prefix == prefix))
    assert submit(admin, f"/admin/tokens/{token_id}/revoke", {"confirm": "yes"}, page=user_page).status_code == 302
    assert submit(admin, f"{user_page}/password", {"password": "duty-new-pw"}, page=user_page).status_code == 302
    assert submit(admin, f"{user_page}/deactivate", {"confirm": "yes"}, page=user_page).status_code == 302
    assert submit(admin, f"{user_page}/activate", page=user_page).status_code == 302
    assert submit(admin, f"{user_page}/activate", page=user_page).status_code == 302, "once more: already active"

    everything = security_log(admin, user_page)
    log = everything[: len(everything) - before]
    kinds = [kind for kind, _, _ in log]
    assert kinds == ["reactivated", "deactivated", "password_reset", "token_revoked", "token_issued"], log
    for kind, where, details in log[:5]:
        assert "by: admin" in details and where == "127.0.0.1", (kind, where, details)
    assert f"token: {prefix}" in log[3][2] and f"token: {prefix}" in log[4][2] and "wall display" in log[4][2], log
    assert "tokens revoked: 1" in log[1][2], f"duty's test token was live when deactivated: {log[1]}"
    page = admin.get(user_page).text
    for words in ("API token issued", "API token revoked", "password reset", "deactivated", "activated again"):
        assert words in page, words


def test_a_user_changing_their_own_password_is_logged_as_changed_not_reset(app, world):
    duty = sign_in(app, "duty")
    short = submit(duty, "/password", {"current_password": "duty-password", "password": " " * 7})
    assert short.status_code == 422 and "at least 8 characters" in short.text, short.text[:2000]
    assert "This field is required" not in short.text, "seven spaces were typed: too short, not missing"
    changed = submit(duty, "/password", {"current_password": "duty-password", "password": "duty-new-pw"})
    assert changed.status_code == 302, changed.text[:2000]
    with session_scope(app) as session:
        user_id = session.scalar(select(User.id).where(User.username == "duty"))
    log = security_log(sign_in(app, "admin"), f"/admin/users/{user_id}")
    assert [(kind, details) for kind, _, details in log if kind.startswith("password")] == [
        ("password_changed", "by: duty")
    ], log


def test_a_form_saved_over_since_it_was_opened_says_so_and_keeps_what_was_typed(app, world):
    """An admin's rule form opened, another admin's change saved through the API, then the form sent: it put
    its facts over the change, unsaid. It is refused with what was typed kept, and sent again it saves."""
    admin = sign_in(app, "admin")
    with session_scope(app) as session:
        rule_id = ladder.save_rule(session, {"name": "Maritime", "policy_id": world.policy_id, "domain": "maritime"}).id
    path = f"/admin/rules/{rule_id}/edit"
    opened = admin.get(path).text
    token = TOKEN.search(opened)[1]
    [version] = VERSION.findall(opened)
    changed = admin.patch(f"/api/v1/rules/{rule_id}", json={"sector": "North"}, headers=world.auth("admin"))
    assert changed.status_code == 200, changed.get_json()

    typed = {"csrf_token": token, "version": version, **rule_form("Maritime west", world.policy_id)}
    refused = admin.post(path, data=typed)
    assert refused.status_code == 422, refused.text[:2000]
    said = html.unescape(refused.text)
    assert "The rule was saved by someone else since you read it (version 1, now 2). Nothing was saved" in said
    assert 'value="Maritime west"' in refused.text, "what was typed is kept"
    with session_scope(app) as session:
        assert session.get(RoutingRule, rule_id).name == "Maritime"
    assert VERSION.findall(refused.text) == ["2"], "sent again, the form names the version it was shown"
    saved = admin.post(path, data={**typed, "version": "2"})
    assert saved.status_code == 302, saved.text[:2000]
    with session_scope(app) as session:
        rule = session.get(RoutingRule, rule_id)
        assert (rule.name, rule.sector, rule.version) == ("Maritime west", None, 3)
