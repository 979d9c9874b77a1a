"""The web server says, as it starts, which of the demo's defaults the deployment still has (tracker.config.
demo_settings, from config/gunicorn.conf.py's on_starting): links to 127.0.0.1 in every message, the demo's
invented region. It serves anyway; a demo on one machine (make run) is not a web server's start."""

import runpy
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from tracker import demo
from tracker.db import session_scope
from tracker.models import Role
from tracker.services.accounts import people

CONF = Path(__file__).resolve().parents[2] / "config" / "gunicorn.conf.py"


class Log:
    def __init__(self):
        self.lines: list[tuple[str, str]] = []

    def warning(self, message, *args):
        self.lines.append(("warning", message % args))

    def error(self, message, *args):
        self.lines.append(("error", message % args))


def started(app, monkeypatch) -> list[tuple[str, str]]:
    monkeypatch.setitem(sys.modules, "wsgi", SimpleNamespace(app=app))
    log = Log()
    runpy.run_path(str(CONF))["on_starting"](SimpleNamespace(log=log))
    return log.lines


def test_the_demo_s_public_url_and_region_are_named_at_start(app, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_URL", "http://127.0.0.1:5000")
    monkeypatch.setitem(app.config, "REGION_FILE", str(CONF.parent / "region.geojson"))
    monkeypatch.setitem(app.config, "RELEASABLE_TO", ["Russia"])
    monkeypatch.setitem(app.config, "OUR_STATION", "NATO SHAPE LIAISON DESK")
    lines = started(app, monkeypatch)
    assert [kind for kind, _ in lines] == ["warning", "warning"], lines
    assert lines[0][1].startswith("tracker: PUBLIC_URL is http://127.0.0.1:5000: the links in messages"), lines
    assert lines[1][1].startswith("tracker: REGION_FILE is the demo's region (region.geojson"), lines


def test_a_deployment_s_own_settings_start_without_a_word(app, monkeypatch, tmp_path):
    own = tmp_path / "region.geojson"
    own.write_bytes((CONF.parent / "region.geojson").read_bytes())  # the same borders, the deployment's own file
    monkeypatch.setitem(app.config, "PUBLIC_URL", "https://tracker.example.org")
    monkeypatch.setitem(app.config, "REGION_FILE", str(own))
    monkeypatch.setitem(app.config, "RELEASABLE_TO", ["Russia"])
    monkeypatch.setitem(app.config, "OUR_STATION", "NATO SHAPE LIAISON DESK")
    assert started(app, monkeypatch) == []


def test_a_public_url_of_plain_http_elsewhere_is_named_at_start(app, monkeypatch):
    """PUBLIC_URL is what desks open: on plain http at a host of the network every password typed at sign-in, every
    session cookie and every API token crosses the network readable, and gunicorn served it without a word."""
    monkeypatch.setitem(app.config, "REGION_FILE", "")
    monkeypatch.setitem(app.config, "RELEASABLE_TO", ["Russia"])
    monkeypatch.setitem(app.config, "OUR_STATION", "NATO SHAPE LIAISON DESK")
    monkeypatch.setitem(app.config, "PUBLIC_URL", "http://tracker.example.org")
    [(kind, line)] = started(app, monkeypatch)
    assert kind == "warning" and line.startswith("tracker: PUBLIC_URL is http://tracker.example.org: passwords"), line
    assert "https://" in line and "SESSION_COOKIE_SECURE = true" in line, line


def test_a_login_to_a_mail_relay_elsewhere_without_tls_is_named_at_start(app, monkeypatch):
    """SMTP_SECURITY = "none" sends the relay's login (SMTP_PASSWORD) as base64 at every message: fine to a relay on
    this machine, readable by anyone on the path to one elsewhere, and started without a word."""
    for key, value in {
        "REGION_FILE": "",
        "PUBLIC_URL": "https://tracker.example.org",
        "RELEASABLE_TO": ["Russia"],
    }.items():
        monkeypatch.setitem(app.config, key, value)
    monkeypatch.setitem(app.config, "OUR_STATION", "NATO SHAPE LIAISON DESK")
    monkeypatch.setitem(app.config, "SMTP_SECURITY", "none")
    monkeypatch.setitem(app.config, "SMTP_USERNAME", "tracker")
    monkeypatch.setitem(app.config, "SMTP_PASSWORD", "s3cret-pw")
    monkeypatch.setitem(app.config, "SMTP_HOST", "relay.example.org")
    [(kind, line)] = started(app, monkeypatch)
    assert kind == "warning" and line.startswith("tracker: SMTP_SECURITY is none with a login to the relay at relay"), (
        line
    )
    assert "SMTP_PASSWORD crosses the network readable" in line and "s3cret" not in line
    for here in ("localhost", "127.0.0.1", "[::1]"):
        monkeypatch.setitem(app.config, "SMTP_HOST", here)
        assert started(app, monkeypatch) == [], f"a relay on this machine: {here}"
    monkeypatch.setitem(app.config, "SMTP_HOST", "relay.example.org")
    monkeypatch.setitem(app.config, "SMTP_USERNAME", "")
    assert started(app, monkeypatch) == [], "no login to give away"


def test_the_demo_s_invented_states_still_marking_and_signing_messages_are_named_at_start(app, monkeypatch):
    """Left as committed, RELEASABLE_TO marks every incident and message REL TO EASTLAND and OUR_STATION signs the
    messages to the other side from NORTHMARK NATIONAL OPERATIONS CENTRE: the demo's invented states, in a
    deployment's every subject line, without a word at start."""
    monkeypatch.setitem(app.config, "REGION_FILE", "")
    monkeypatch.setitem(app.config, "PUBLIC_URL", "https://tracker.example.org")
    lines = started(app, monkeypatch)
    assert [kind for kind, _ in lines] == ["warning", "warning"], lines
    assert lines[0][1].startswith("tracker: RELEASABLE_TO is still the demo's invented Eastland: every"), lines
    assert lines[1][1].startswith("tracker: OUR_STATION is still the demo's invented NORTHMARK NATIONAL"), lines
    monkeypatch.setitem(app.config, "RELEASABLE_TO", ["Russia"])
    assert [line for _, line in started(app, monkeypatch)] == [lines[1][1]]


def test_every_spelling_of_this_machine_is_named(app, monkeypatch):
    """The IPv6 unspecified address and a host with the root's final dot are this machine too."""
    monkeypatch.setitem(app.config, "REGION_FILE", "")
    monkeypatch.setitem(app.config, "RELEASABLE_TO", ["Russia"])
    monkeypatch.setitem(app.config, "OUR_STATION", "NATO SHAPE LIAISON DESK")
    for url in ("http://[::]:8000", "http://localhost.:5000", "http://[::1]:8000"):
        monkeypatch.setitem(app.config, "PUBLIC_URL", url)
        assert [kind for kind, _ in started(app, monkeypatch)] == ["warning"], url


def test_demo_accounts_with_their_published_passwords_stop_a_served_start(app, monkeypatch, tmp_path):
    """`flask demo` fills any new database, a deployment's first among them: its accounts (an admin among them)
    kept the passwords the README publishes, and gunicorn served them to every desk without a word. Where desks
    reach the tracker (PUBLIC_URL not on this machine) the start is refused in one line; on this machine (a demo,
    a trial) it is said and served; an account given its own password is no longer named."""
    monkeypatch.setitem(app.config, "REGION_FILE", "")
    monkeypatch.setitem(app.config, "RELEASABLE_TO", ["Russia"])
    monkeypatch.setitem(app.config, "OUR_STATION", "NATO SHAPE LIAISON DESK")
    with session_scope(app) as session:
        for name, role in (("admin", Role.ADMIN), ("duty", Role.DUTY_OFFICER)):
            people.create_user(session, name, demo.PASSWORD.format(name), role, email=f"{name}@test.example", by=None)

    monkeypatch.setitem(app.config, "PUBLIC_URL", "https://tracker.example.org")
    log = Log()
    monkeypatch.setitem(sys.modules, "wsgi", SimpleNamespace(app=app))
    with pytest.raises(SystemExit) as stopped:
        runpy.run_path(str(CONF))["on_starting"](SimpleNamespace(log=log))
    assert stopped.value.code == 1
    [(kind, line)] = log.lines
    assert kind == "error" and line.startswith("tracker: the accounts admin, duty still sign in with the demo's"), line

    monkeypatch.setitem(app.config, "PUBLIC_URL", "http://127.0.0.1:5000")
    assert [kind for kind, _ in started(app, monkeypatch)] == ["warning", "warning"]

    monkeypatch.setitem(app.config, "PUBLIC_URL", "https://tracker.example.org")
    with session_scope(app) as session:
        people.set_password(session, people.find_user(session, "admin"), "a-password-of-its-own", by=None)
        people.deactivate(session, people.find_user(session, "duty"), by=None)
    assert started(app, monkeypatch) == []
