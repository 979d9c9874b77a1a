"""config/gunicorn.conf.py reads its counts from TRACKER_WEB_* as gunicorn takes them."""

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
