"""Admin and truth (issue 16): deletes ask first, a token's "Last used" is written (at most once a
minute), report filters say what is applied, the site has an icon, and each role lands on its own page."""

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from tests.locks import write_lock_held
from tests.support import count, csrf, sign_in
from tracker.db import session_scope
from tracker.models import ApiToken, ContactChannel, EscalationPolicy, RoutingRule, User
from tracker.services.incidents import ladder
from tracker.timeutil import utcnow


def signed_in(app, who: str):
    client = app.test_client()
    assert sign_in(client, who).status_code == 302
    return client


# -- deletes ask first ------------------------------------------------------------------------


def unused(app, world, what: str) -> tuple[str, object, str]:
    """A rule, policy or channel nothing else needs: (its delete path, its model, the page it is on)."""
    with session_scope(app) as session:
        if what == "rule":
            rule = ladder.save_rule(session, {"name": "Spare rule", "policy_id": world.policy_id, "domain": "air"})
            return f"/admin/rules/{rule.id}/delete", RoutingRule, "/admin/rules"
        if what == "policy":
            spare = {"name": "Spare policy", "steps": [{"channel_ids": [world.channels["L1"]], "ack_seconds": 60}]}
            policy = ladder.save_policy(session, spare)
            return f"/admin/policies/{policy.id}/delete", EscalationPolicy, f"/admin/policies/{policy.id}/edit"
        channel = ladder.save_channel(
            session,
            {"name": "Spare line", "level": 2, "transport": "outbox", "address": "spare@test.example"},
            app.extensions["tracker.transports"],
        )
        return f"/admin/channels/{channel.id}/delete", ContactChannel, f"/admin/channels/{channel.id}/edit"


@pytest.mark.parametrize(
    ("what", "question"),
    [
        ("rule", "Delete the routing rule “<bdi>Spare rule</bdi>”?"),
        ("policy", "Delete the escalation policy “<bdi>Spare policy</bdi>”?"),
        ("channel", "Delete the channel “<bdi>Spare line</bdi>”?"),
    ],
)
def test_a_delete_asks_for_confirmation_before_it_deletes(app, world, what, question):
    path, model, page = unused(app, world, what)
    admin = signed_in(app, "admin")
    before = count(app, model)
    listed = admin.get(page).text
    assert f'action="{path}"' in listed, f"the {what}'s page has its Delete button"

    asked = admin.post(path, data={"csrf_token": csrf(admin, page)})
    shown = html.unescape(asked.text)
    assert asked.status_code == 200 and question in shown, shown[:2000]
    assert 'name="confirm" value="yes"' in asked.text and f'action="{path}"' in asked.text
    assert "This cannot be undone." in shown and 'class="button" href="' in asked.text, "a way back"
    assert "<script" not in asked.text.split("</head>")[1], "no script: a page of its own asks"
    assert count(app, model) == before, "asking deletes nothing"

    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', asked.text)[1]
    done = admin.post(path, data={"csrf_token": token, "confirm": "yes"})
    assert done.status_code == 302 and count(app, model) == before - 1, f"the confirmed delete removes the {what}"


def test_a_delete_that_only_asks_still_needs_the_right_role(app, world):
    path, model, page = unused(app, world, "rule")
    supervisor = signed_in(app, "supervisor")
    refused = supervisor.post(path, data={"csrf_token": csrf(supervisor, "/password")})
    assert refused.status_code == 403 and "Delete the routing rule" not in refused.text


# -- a token's "Last used" ----------------------------------------------------------------------


def last_used(app, who: str):
    with session_scope(app) as session:
        user = session.scalar(select(User).where(User.username == who))
        return session.scalar(select(ApiToken.last_used_at).where(ApiToken.user_id == user.id))


@pytest.mark.both_databases  # a conditional UPDATE on a time comparison
def test_a_tokens_last_use_is_written_at_most_once_a_minute(app, client, world):
    assert last_used(app, "duty") is None
    started = utcnow()
    assert client.get("/api/v1/incidents", headers=world.auth("duty")).status_code == 200
    first = last_used(app, "duty")
    assert first is not None and started <= first <= utcnow(), first

    assert client.get("/api/v1/incidents", headers=world.auth("duty")).status_code == 200
    assert last_used(app, "duty") == first, "not written again within the minute"

    with session_scope(app) as session:  # the same token, its last use on record 61 s back
        moved = first - timedelta(seconds=61)
        session.execute(update(ApiToken).where(ApiToken.last_used_at == first).values(last_used_at=moved))
    assert client.get("/api/v1/incidents", headers=world.auth("duty")).status_code == 200
    assert last_used(app, "duty") > first, "written again once a minute has passed"

    assert client.get("/api/v1/incidents", headers={"Authorization": "Bearer trk_wrong"}).status_code == 401
    assert last_used(app, "liaison") is None, "a token nobody used stays 'never'"
    with session_scope(app) as session:
        duty_id = session.scalar(select(User.id).where(User.username == "duty"))
    admin = signed_in(app, "admin")
    row = re.search(r'<td data-label="Last used">([^<]*)</td>', admin.get(f"/admin/users/{duty_id}").text)
    shown = row and re.fullmatch(r"\S+ \S+Z \(\d{6}Z[A-Z]{3}\d\d\)", row[1])  # the time, its DTG beside it
    assert shown, "the admin page shows it"


def test_keeping_the_last_use_never_waits_for_a_writer(app, client, world):
    with write_lock_held(app) as writer:  # another connection holds SQLite's write lock
        answer = client.get("/api/v1/incidents", headers=world.auth("supervisor"))
        assert answer.status_code == 200 and not writer.gave_up.is_set(), "the request waited for the writer"
    assert last_used(app, "supervisor") is None, "skipped while the database was busy"
    assert client.get("/api/v1/incidents", headers=world.auth("supervisor")).status_code == 200
    assert last_used(app, "supervisor") is not None, "the next use writes it"


# -- report filters ----------------------------------------------------------------------------


def test_report_filters_say_what_is_applied(app, client, world):
    sign_in(client, "supervisor")
    plain = client.get("/reports").text
    assert re.search(r"<strong>Showing:</strong> all time · every precedence", plain), "no filter: all time"
    assert not re.search(r'placeholder="\d{4}-\d{2}-\d{2}"', plain), "no placeholder that looks like an applied date"
    assert 'name="from" value=""' in plain and 'name="to" value=""' in plain

    narrowed = html.unescape(client.get("/reports?from=2026-11-01&to=2026-12-01&domain=air&precedence=Z").text)
    showing = re.search(r"<strong>Showing:</strong> ([^<]*)</p>", narrowed)[1]
    assert (
        showing == "reported from 2026-11-01 00:00Z to before 2026-12-01 00:00Z · domain air · precedence now Z FLASH"
    )
    assert "Showing:" not in client.get("/reports?from=2026-13-01").text, "bad filters: nothing claims to be shown"


def test_report_filters_say_the_seconds_they_start_and_end_at(app, client, world):
    sign_in(client, "supervisor")
    page = html.unescape(client.get("/reports?from=2026-11-30T23:59:30Z&to=010000ZDEC26").text)
    showing = re.search(r"<strong>Showing:</strong> ([^<]*)</p>", page)[1]
    assert showing.startswith("reported from 2026-11-30 23:59:30Z to before 2026-12-01 00:00Z"), (
        f"an incident reported at 23:59:10 is left out, so the line may not say 23:59: {showing}"
    )


# -- the site's icon ---------------------------------------------------------------------------


def test_every_page_links_the_icon_and_favicon_ico_serves_it(app, client, world):
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml" and b"<svg" in icon.data
    assert '<link rel="icon" href="/static/favicon.svg"' in client.get("/signin").text
    sign_in(client, "duty")
    assert '<link rel="icon" href="/static/favicon.svg"' in client.get("/").text
    assert '<link rel="icon" href="/static/favicon.svg"' in client.get("/links/ack/not-a-token").text


# -- each role lands on its own page -----------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "lands", "heading"),
    [("duty", "/", "<h1>Board</h1>"), ("supervisor", "/", "<h1>Board</h1>"), ("liaison", "/queue", "My queue")],
)
def test_each_role_lands_on_its_own_page_after_sign_in_and_at_the_root(app, world, who, lands, heading):
    client = app.test_client()
    answer = sign_in(client, who)
    assert answer.status_code == 302 and answer.headers["Location"] == lands, answer.headers.get("Location")
    assert heading in client.get(lands).text
    root = client.get("/")
    if lands == "/":
        assert root.status_code == 200 and "<h1>Board</h1>" in root.text
    else:
        assert root.status_code == 302 and root.headers["Location"] == lands
    assert "<h1>Board</h1>" in client.get("/board").text, "the board stays one click away for everyone"


def test_an_admin_lands_on_the_admin_pages(app, world):
    client = app.test_client()
    answer = sign_in(client, "admin")
    assert answer.status_code == 302 and answer.headers["Location"] == "/admin/"
    assert client.get("/").headers["Location"] == "/admin/"
    assert "Contact channels" in client.get("/admin/", follow_redirects=True).text
    board = client.get("/board").text
    assert re.search(r'href="/board"[^>]*>Board</a>', board), "the nav's Board link goes to the board"
