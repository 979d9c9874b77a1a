"""config/gunicorn.conf.py reads its counts from TRACKER_WEB_* as gunicorn takes them."""

import re
import runpy
from pathlib import Path

import pytest

CONF = Path(__file__).resolve().parents[2] / "config" / "gunicorn.conf.py"


@pytest.mark.parametrize(
    "name, setting", [("TRACKER_WEB_TIMEOUT", "timeout"), ("TRACKER_WEB_MAX_REQUESTS", "max_requests")]
)
def test_zero_where_gunicorn_reads_it_as_never_is_taken(monkeypatch, name, setting):
    """gunicorn's documented 0: no worker timeout, no recycling after a number of requests. A deployment that set
    it (a long export behind the proxy's own timeout) stopped at start-up once the counts were checked."""
    monkeypatch.setenv(name, "0")
    assert runpy.run_path(str(CONF))[setting] == 0


def test_no_workers_is_still_refused(monkeypatch):
    monkeypatch.setenv("TRACKER_WEB_WORKERS", "0")
    with pytest.raises(SystemExit, match="TRACKER_WEB_WORKERS must be a whole number of 1 or more, not '0'"):
        runpy.run_path(str(CONF))


def test_the_web_unit_offers_no_reload_that_would_keep_the_old_configuration(monkeypatch):
    """The app is loaded once in gunicorn's master (preload_app): the unit's ExecReload (a HUP) started new workers
    on the configuration and code the master had read, so `systemctl reload` after editing tracker.toml changed
    nothing, and said so nowhere."""
    monkeypatch.delenv("TRACKER_WEB_WORKERS", raising=False)
    assert runpy.run_path(str(CONF))["preload_app"] is True
    unit = (CONF.parent / "systemd" / "tracker-web.service").read_text()
    assert not [line for line in unit.splitlines() if line.startswith("ExecReload=")]


@pytest.mark.parametrize("bind", ["127.0.0.1:80000", "127.0.0.1:", "0.0.0.0:8000x", "[::1]:65536"])
def test_a_bind_whose_port_is_no_port_is_refused_in_one_line(monkeypatch, bind):
    """A port out of range ended gunicorn's start in an OverflowError traceback from its socket code."""
    monkeypatch.setenv("TRACKER_WEB_BIND", bind)
    with pytest.raises(SystemExit, match=f"TRACKER_WEB_BIND must be HOST:PORT .*, not '{re.escape(bind)}'"):
        runpy.run_path(str(CONF))


@pytest.mark.parametrize("bind", ["127.0.0.1:8000", "[::1]:8000", "localhost", "[::1]", "unix:/run/tracker/web.sock"])
def test_every_form_of_bind_gunicorn_takes_is_taken(monkeypatch, bind):
    monkeypatch.setenv("TRACKER_WEB_BIND", bind)
    assert runpy.run_path(str(CONF))["bind"] == bind


@pytest.mark.parametrize("level", ["verbose", "warn ing", "5"])
def test_a_log_level_gunicorn_does_not_know_is_refused_in_one_line(monkeypatch, level):
    """gunicorn read an unknown level as info, unsaid: an operator asking for more got no more."""
    monkeypatch.setenv("TRACKER_WEB_LOG_LEVEL", level)
    with pytest.raises(SystemExit, match="TRACKER_WEB_LOG_LEVEL must be debug, info, warning, error or critical"):
        runpy.run_path(str(CONF))


def test_a_log_level_is_read_in_any_case(monkeypatch):
    monkeypatch.setenv("TRACKER_WEB_LOG_LEVEL", " WARNING ")
    assert runpy.run_path(str(CONF))["loglevel"] == "warning"
