"""A configuration that is not valid stops `flask --app wsgi ...` (and gunicorn) with one line saying what
to fix and exit status 1, not a thirty-line traceback."""

import os
import subprocess
import sys
from pathlib import Path

from tests.databases import migrate_to


def test_a_bad_setting_stops_the_command_with_one_line_not_a_traceback(tmp_path):
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "TRACKER_SECRET_KEY": "x", "TRACKER_DATABASE_URL": f"sqlite:///{tmp_path / 't.db'}"}
    ran = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "init-db"], cwd=root, env=env, capture_output=True, text=True
    )
    assert ran.returncode == 1, (ran.stdout, ran.stderr)
    assert "Traceback" not in ran.stderr and ran.stderr.startswith(
        "tracker: the configuration is not valid: SECRET_KEY"
    )
    assert len(ran.stderr.strip().splitlines()) == 1, ran.stderr

    # Help is read before the configuration is right: the commands, with the problem said first.
    for asked in (["--help"], ["init-db", "--help"]):
        helped = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", *asked], cwd=root, env=env, capture_output=True, text=True
        )
        assert helped.returncode == 0, (asked, helped.stdout, helped.stderr)
        assert helped.stderr.startswith("tracker: the configuration is not valid: SECRET_KEY"), helped.stderr
        assert "every command refuses to run until it is" in helped.stderr
        assert ("init-db" in helped.stdout and "The tracker's commands" in helped.stdout) or (
            "Create or upgrade the schema" in helped.stdout
        ), (asked, helped.stdout)


def test_an_in_memory_database_stops_init_db_with_one_line(tmp_path):
    """init-db on sqlite:// made the schema in a database gone at its exit and said it was done; the web workers and
    the scheduler each opened another, empty one."""
    root = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")} | {"TRACKER_DATABASE_URL": "sqlite://"}
    ran = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "init-db"], cwd=root, env=env, capture_output=True, text=True
    )
    assert ran.returncode == 1, (ran.stdout, ran.stderr)
    assert ran.stderr.startswith("tracker: the configuration is not valid: DATABASE_URL names an in-memory"), ran.stderr
    assert len(ran.stderr.strip().splitlines()) == 1, ran.stderr


def test_a_metrics_folder_that_is_missing_stops_the_command_with_one_line(tmp_path):
    """PROMETHEUS_MULTIPROC_DIR not made yet (or emptied by removing it): every command, gunicorn and the
    scheduler ended in a FileNotFoundError traceback naming one of prometheus_client's files."""
    root = Path(__file__).resolve().parents[2]
    missing = tmp_path / "metrics"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    env |= {"TRACKER_DATABASE_URL": f"sqlite:///{tmp_path / 't.db'}", "PROMETHEUS_MULTIPROC_DIR": str(missing)}
    ran = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "init-db"], cwd=root, env=env, capture_output=True, text=True
    )
    assert ran.returncode == 1, (ran.stdout, ran.stderr)
    assert ran.stderr == (
        f"tracker: PROMETHEUS_MULTIPROC_DIR names {str(missing)!r}, which is not a directory this user may write: "
        "make it (empty) before the web workers and schedulers start, or unset it\n"
    )
    missing.mkdir()
    migrate_to(f"sqlite:///{tmp_path / 't.db'}")  # the schema init-db makes (init-db has tests of its own)
    assert (
        subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", "init-db"], cwd=root, env=env, capture_output=True
        ).returncode
        == 0
    )


def test_init_db_into_a_folder_that_does_not_exist_names_the_folder(tmp_path):
    """SQLite says "unable to open database file", and the line sent the operator to check that the database
    exists: the folder was what was missing."""
    root = Path(__file__).resolve().parents[2]
    missing = tmp_path / "not-made"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    env["TRACKER_DATABASE_URL"] = f"sqlite:///{missing / 'tracker.db'}"
    ran = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "init-db"], cwd=root, env=env, capture_output=True, text=True
    )
    assert ran.returncode == 1, (ran.stdout, ran.stderr)
    assert f"(the folder {missing} does not exist: make it)" in ran.stderr, ran.stderr
    assert not missing.exists()
