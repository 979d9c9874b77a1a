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


def started(app, monkeypatch, tls: bool = False) -> list[tuple[str, str]]:
    """What on_starting logs for app, gunicorn serving TLS itself (a certfile) or not."""
    monkeypatch.setitem(sys.modules, "wsgi", SimpleNamespace(app=app))
    log = Log()
    runpy.run_path(str(CONF))["on_starting"](server(log, tls))
    return log.lines


def server(log: Log, tls: bool = False) -> SimpleNamespace:
    return SimpleNamespace(log=log, cfg=SimpleNamespace(is_ssl=tls))


@pytest.fixture
def deployed(app, monkeypatch):
    """The app as a deployment sets it up: its own address over TLS behind one proxy, its own region and states."""
    own = {
        "PUBLIC_URL": "https://tracker.example.org",
        "PROXY_FIX_X_FOR": 1,
        "REGION_FILE": "",
        "RELEASABLE_TO": ["Russia"],
        "OUR_STATION": "NATO SHAPE LIAISON DESK",
    }
    for key, value in own.items():
        monkeypatch.setitem(app.config, key, value)
    return app


def test_the_demo_s_public_url_and_region_are_named_at_start(deployed, monkeypatch):
    monkeypatch.setitem(deployed.config, "PUBLIC_URL", "http://127.0.0.1:5000")
    monkeypatch.setitem(deployed.config, "REGION_FILE", str(CONF.parent / "region.geojson"))
    lines = started(deployed, monkeypatch)
    assert [kind for kind, _ in lines] == ["warning", "warning"], lines
    assert lines[0][1].startswith("tracker: PUBLIC_URL is http://127.0.0.1:5000: the links in messages"), lines
    assert lines[1][1].startswith("tracker: REGION_FILE is the demo's region (region.geojson"), lines


def test_a_deployment_s_own_settings_start_without_a_word(deployed, monkeypatch, tmp_path):
    own = tmp_path / "region.geojson"
    own.write_bytes((CONF.parent / "region.geojson").read_bytes())  # the same borders, the deployment's own file
    monkeypatch.setitem(deployed.config, "REGION_FILE", str(own))
    assert started(deployed, monkeypatch) == []


def test_a_public_url_of_plain_http_elsewhere_is_named_at_start(deployed, monkeypatch):
    """PUBLIC_URL is what desks open: on plain http at a host of the network every password typed at sign-in, every
    session cookie and every API token crosses the network readable, and gunicorn served it without a word."""
    monkeypatch.setitem(deployed.config, "PUBLIC_URL", "http://tracker.example.org")
    [(kind, line)] = started(deployed, monkeypatch)
    assert kind == "warning" and line.startswith("tracker: PUBLIC_URL is http://tracker.example.org: passwords"), line
    assert "https://" in line and "SESSION_COOKIE_SECURE = true" in line, line


def test_tls_ended_by_a_proxy_whose_client_addresses_are_not_read_is_named_at_start(deployed, monkeypatch):
    """An https PUBLIC_URL that gunicorn does not serve itself is a proxy's, in front of it. With PROXY_FIX_X_FOR 0
    every request came from the proxy's address, so the sign-in slow-down and the limits per address held every
    desk back together: one guesser at an account's password kept its owner out, and one script with an old token
    spent the whole office's allowance."""
    monkeypatch.setitem(deployed.config, "PROXY_FIX_X_FOR", 0)
    [(kind, line)] = started(deployed, monkeypatch)
    assert kind == "warning" and line.startswith("tracker: PUBLIC_URL is https but gunicorn serves no TLS"), line
    assert "set PROXY_FIX_X_FOR to the number of proxies" in line, line
    assert started(deployed, monkeypatch, tls=True) == [], "gunicorn serves TLS itself: no proxy to see through"


def test_a_login_to_a_mail_relay_elsewhere_without_tls_is_named_at_start(deployed, monkeypatch):
    """SMTP_SECURITY = "none" sends the relay's login (SMTP_PASSWORD) as base64 at every message: fine to a relay on
    this machine, readable by anyone on the path to one elsewhere, and started without a word."""
    monkeypatch.setitem(deployed.config, "SMTP_SECURITY", "none")
    monkeypatch.setitem(deployed.config, "SMTP_USERNAME", "tracker")
    monkeypatch.setitem(deployed.config, "SMTP_PASSWORD", "s3cret-pw")
    monkeypatch.setitem(deployed.config, "SMTP_HOST", "relay.example.org")
    [(kind, line)] = started(deployed, monkeypatch)
    assert kind == "warning" and line.startswith("tracker: SMTP_SECURITY is none with a login to the relay at relay"), (
        line
    )
    assert "SMTP_PASSWORD crosses the network readable" in line and "s3cret" not in line
    for here in ("localhost", "127.0.0.1", "[::1]"):
        monkeypatch.setitem(deployed.config, "SMTP_HOST", here)
        assert started(deployed, monkeypatch) == [], f"a relay on this machine: {here}"
    monkeypatch.setitem(deployed.config, "SMTP_HOST", "relay.example.org")
    monkeypatch.setitem(deployed.config, "SMTP_USERNAME", "")
    assert started(deployed, monkeypatch) == [], "no login to give away"


def test_the_demo_s_invented_states_still_marking_and_signing_messages_are_named_at_start(deployed, monkeypatch):
    """Left as committed, RELEASABLE_TO marks every incident and message REL TO EASTLAND and OUR_STATION signs the
    messages to the other side from NORTHMARK NATIONAL OPERATIONS CENTRE: the demo's invented states, in a
    deployment's every subject line, without a word at start."""
    monkeypatch.setitem(deployed.config, "RELEASABLE_TO", ["Eastland"])
    monkeypatch.setitem(deployed.config, "OUR_STATION", "NORTHMARK NATIONAL OPERATIONS CENTRE")
    lines = started(deployed, monkeypatch)
    assert [kind for kind, _ in lines] == ["warning", "warning"], lines
    assert lines[0][1].startswith("tracker: RELEASABLE_TO is still the demo's invented Eastland: every"), lines
    assert lines[1][1].startswith("tracker: OUR_STATION is still the demo's invented NORTHMARK NATIONAL"), lines
    monkeypatch.setitem(deployed.config, "RELEASABLE_TO", ["Russia"])
    assert [line for _, line in started(deployed, monkeypatch)] == [lines[1][1]]


def test_every_spelling_of_this_machine_is_named(deployed, monkeypatch):
    """The IPv6 unspecified address and a host with the root's final dot are this machine too."""
    for url in ("http://[::]:8000", "http://localhost.:5000", "http://[::1]:8000"):
        monkeypatch.setitem(deployed.config, "PUBLIC_URL", url)
        assert [kind for kind, _ in started(deployed, monkeypatch)] == ["warning"], url


def test_demo_accounts_with_their_published_passwords_stop_a_served_start(deployed, monkeypatch, tmp_path):
    """`flask demo` fills any new database, a deployment's first among them: its accounts (an admin among them)
    kept the passwords the README publishes, and gunicorn served them to every desk without a word. Where desks
    reach the tracker (PUBLIC_URL not on this machine) the start is refused in one line; on this machine (a demo,
    a trial) it is said and served; an account given its own password is no longer named."""
    app = deployed
    with session_scope(app) as session:
        for name, role in (("admin", Role.ADMIN), ("duty", Role.DUTY_OFFICER)):
            people.create_user(session, name, demo.PASSWORD.format(name), role, email=f"{name}@test.example", by=None)

    log = Log()
    monkeypatch.setitem(sys.modules, "wsgi", SimpleNamespace(app=app))
    with pytest.raises(SystemExit) as stopped:
        runpy.run_path(str(CONF))["on_starting"](server(log))
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
