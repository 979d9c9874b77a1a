"""Helpers the tests share: a small world of users, channels and policies, and API calls."""

import io
import re
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select

from tracker import dispatch
from tracker.db import session_scope
from tracker.models import AccountEvent, ContactChannel, Role, User
from tracker.services.accounts import people
from tracker.services.incidents import checks, filing, ladder
from tracker.timeutil import utcnow

ROLES = {
    "duty": Role.DUTY_OFFICER,
    "liaison": Role.LIAISON,
    "outsider": Role.LIAISON,
    "supervisor": Role.SUPERVISOR,
    "admin": Role.ADMIN,
    "revoked": Role.DUTY_OFFICER,
}


@dataclass
class World:
    tokens: dict[str, str] = field(default_factory=dict)
    channels: dict[str, int] = field(default_factory=dict)
    policy_id: int = 0
    default_rule_id: int = 0

    def auth(self, who: str) -> dict:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


def build_world(app, steps=(("L1",), ("L2",)), ack_seconds=600, repeat=0) -> World:
    """Create users of every role (tokens in world.tokens), channels L1-L3 plus an 'Other desk'
    the outsider belongs to, a policy with the given steps, and the default rule."""
    world = World()
    transports = app.extensions["tracker.transports"]
    with session_scope(app) as session:
        users = {}
        for name, role in ROLES.items():
            users[name] = people.create_user(
                session, name, f"{name}-password", role, email=f"{name}@test.example", by=None
            )
            token, text = people.create_token(session, users[name], "test", by="admin")
            world.tokens[name] = text
            if name == "revoked":
                people.revoke_token(session, token.id, by="admin")
        for level, name in enumerate(("L1", "L2", "L3"), start=1):
            channel = ladder.save_channel(
                session,
                {
                    "name": name,
                    "level": level,
                    "transport": "outbox",
                    "address": f"{name.lower()}@test.example",
                    "members": ["liaison"],
                },
                transports,
            )
            world.channels[name] = channel.id
        other = ladder.save_channel(
            session,
            {
                "name": "Other desk",
                "level": 3,
                "transport": "outbox",
                "address": "other@test.example",
                "members": ["outsider"],
            },
            transports,
        )
        world.channels["Other desk"] = other.id
        policy = ladder.save_policy(
            session,
            {
                "name": "Test ladder",
                "repeat": repeat,
                "steps": [
                    {"channel_ids": [world.channels[c] for c in step], "ack_seconds": ack_seconds} for step in steps
                ],
            },
        )
        world.policy_id = policy.id
        rule = ladder.save_rule(session, {"name": "Default", "is_default": True, "policy_id": policy.id})
        world.default_rule_id = rule.id
    return world


def name_a_sector(app, world: World, sector: str, rule: str) -> None:
    """Make a sector known by a routing rule that names it (to the world's ladder), so a report may give it."""
    with session_scope(app) as session:
        ladder.save_rule(session, {"name": rule, "sector": sector, "policy_id": world.policy_id, "position": 1})


MARKING_LINE = re.compile(r'<p class="marking-line"[^>]*>(.*?)</p>')


def marking_lines(page: str) -> list[str]:
    """The marking lines a page shows, as read: each of its names is an isolate (its <bdi> tags left out here)."""
    return [re.sub(r"</?bdi>", "", found) for found in MARKING_LINE.findall(page)]


def switch_channel(app, channel_id: int, **data) -> None:
    """Change a channel (its transport and address, say) as an admin would."""
    with session_scope(app) as session:
        channel = session.get(ContactChannel, channel_id)
        ladder.save_channel(session, data, app.extensions["tracker.transports"], channel)


NO_COLLISION_RISK = {domain.value for domain in filing.NO_COLLISION_RISK}


def incident_payload(**overrides) -> dict:
    """A valid filing body (about 500 bytes); override any field."""
    body = {
        "occurred_at": "2026-11-27T09:15:00Z",
        "reporting_unit": "2nd Air Defence Squadron",
        "domain": "air",
        "category": "unsafe_intercept",
        "precedence": "O",
        "escalation_risk": "serious",
        "safety_risk": "B",
        "latitude": 54.412,
        "longitude": 22.871,
        "position_text": "54 24 43N 022 52 16E",
        "sector": "North",
        "narrative": "Fighter closed to 30 m of our maritime patrol aircraft in international airspace.",
        "platforms": [{"kind": "fighter aircraft", "nationality": "Eastland", "transponder_on": False}],
        # Marked for release to the other side: exchanges and summaries need it (NOT RELEASABLE otherwise).
        "releasable_to": ["Eastland"],
    }
    if ("latitude" in overrides or "longitude" in overrides) and "position_text" not in overrides:
        del body["position_text"]  # the default text reads as the default place: it would disagree (422)
    if overrides.get("domain") in NO_COLLISION_RISK and "safety_risk" not in overrides:
        del body["safety_risk"]  # an airprox class on a land incident is refused (422)
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not ...}


def file_incident(client, world: World, who: str = "duty", **overrides) -> dict:
    response = client.post("/api/v1/incidents", json=incident_payload(**overrides), headers=world.auth(who))
    assert response.status_code == 201, f"filing failed: {response.status_code} {response.get_json()}"
    return response.get_json()


def run_filing_checks(app) -> int:
    """What the next sweep does after a filing (related incidents, the exercise link), done now."""
    with session_scope(app) as session:
        return checks.check_batch(session, utcnow(), 10_000, dispatch.filing_checks(app))


def file_checked(client, world: World, who: str = "duty", **overrides) -> dict:
    """File an incident, let the sweep's checks run, and read it back (with its exercise and suggestions)."""
    reference = file_incident(client, world, who, **overrides)["reference"]
    run_filing_checks(client.application)
    response = client.get(f"/api/v1/incidents/{reference}", headers=world.auth(who))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def outbox_files(app) -> list[Path]:
    directory = Path(app.config["OUTBOX_DIR"])
    return sorted(directory.glob("*.eml")) if directory.exists() else []


# A secret a page shows once (a new API token, a line's webhook secret).
SHOWN_ONCE = re.compile(r"<code class=\"secret-text\" data-secret>([^<]+)</code>")
CSRF_TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def csrf(client, path: str) -> str:
    """The CSRF token of the form on the page at path."""
    page = client.get(path)
    assert page.status_code == 200, (path, page.status_code)
    return CSRF_TOKEN.search(page.text)[1]


def sign_in(client, who: str, password: str | None = None):
    """Sign a test client in through the sign-in form; return the answer."""
    return client.post(
        "/signin",
        data={"csrf_token": csrf(client, "/signin"), "username": who, "password": password or f"{who}-password"},
    )


def filing_form(client, **overrides) -> dict:
    """A valid filing form for POST /incidents/new, with the page's CSRF token; override any field."""
    data = {
        "csrf_token": csrf(client, "/incidents/new"),
        "occurred_at": "271405ZNOV26",
        "reporting_unit": "Border Guard Post 7",
        "domain": "air",
        "category": "unsafe_intercept",
        "position": "34U FF 2142 3097",
        "sector": "North",
        "precedence": "Z",
        "escalation_risk": "high",
        "safety_risk": "B",
        "platform_kind": "fighter aircraft",
        "platform_transponder": "yes",
        "narrative": "Closed to 30 m.",
    }
    return {**data, **overrides}


def count(app, model) -> int:
    """How many rows the model's table holds."""
    with session_scope(app) as session:
        return session.scalar(select(func.count()).select_from(model))


def assert_reset_keeps_the_failures_on_record(app, client, who: str, password: str, failures: int) -> None:
    """After a password reset (by an admin or on the command line): the new password signs in at once, however
    many failures held the account back; the owner is told of them at that sign-in; the reset's line in the
    security log counts them, and from where they came."""
    answer = sign_in(client, who, password)
    assert answer.status_code == 302, answer.status_code
    told = client.get(answer.headers["Location"], follow_redirects=True).text
    assert f"{failures} failed sign-in attempt(s) on your account" in told and "from 127.0.0.1" in told, told[:3000]
    with session_scope(app) as session:
        user_id = session.scalar(select(User.id).where(User.username == who))
        reset = session.scalars(
            select(AccountEvent.details).where(AccountEvent.user_id == user_id, AccountEvent.kind == "password_reset")
        ).one()
    assert reset["failed_before"] == failures and reset["failed_from"] == "127.0.0.1", reset
    assert reset["last_failed_at"].endswith("Z"), reset


def write_archive(path: Path, parts: dict[str, bytes]) -> Path:
    """A .tar.gz at path holding parts (member name: bytes), as a backup is written: for tests that edit one."""
    with tarfile.open(path, "w:gz") as tar:
        for name, data in parts.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path
