"""A web host and a scheduler given different SECRET_KEYs went unnoticed until the desks' acknowledge links were
refused as "altered". Each live scheduler keeps the fingerprint of the key it signs with beside its heartbeat
(runners.signs_with, links.fingerprint); /health compares it with the host's key and SECRET_KEY_FALLBACKS, and the
web server and a starting scheduler say what they find (config/gunicorn.conf.py, cli/running.py)."""

from datetime import timedelta

from sqlalchemy import select

from tests.functional.test_gunicorn_start import started
from tracker import dispatch, jobs
from tracker.db import session_scope
from tracker.models import Runner
from tracker.services.engine import heartbeat
from tracker.services.engine.links import fingerprint
from tracker.timeutil import utcnow

OTHER_KEY = "another-key-of-at-least-thirty-two-characters"
OLD_KEY = "the-key-before-the-rotation-at-least-32-chars"


def scheduler_beats(app, name: str, key: str | None, ago: timedelta = timedelta(0)) -> None:
    """A scheduler called name beats, signing with key (None: a runner of before migration 0037)."""
    with session_scope(app) as session:
        heartbeat.beat_runner(session, name, utcnow() - ago, fingerprint(key) if key else None)


def health(client) -> dict:
    return client.get("/api/v1/health").get_json()


def test_the_running_jobs_say_which_key_signs_their_links(app, client, world):
    jobs.beat(app)
    jobs.deliver(app)
    with session_scope(app) as session:
        [(name, signs_with)] = session.execute(select(Runner.name, Runner.signs_with)).all()
    assert name == jobs.runner_id() and signs_with == fingerprint(app.config["SECRET_KEY"])
    assert app.config["SECRET_KEY"] not in str(signs_with) and len(signs_with) == 16


def test_health_is_degraded_while_a_live_scheduler_signs_with_a_key_this_host_does_not_hold(app, client, world):
    jobs.sweep(app)
    jobs.deliver(app)  # health asks of both
    scheduler_beats(app, "ours", app.config["SECRET_KEY"])
    scheduler_beats(app, "before-0037", None)
    scheduler_beats(app, "gone", OTHER_KEY, ago=timedelta(hours=1))
    assert (health(client)["status"], health(client)["link_keys"]) == ("ok", "ok"), "a gone or older runner is no word"
    scheduler_beats(app, "host-b:4242", OTHER_KEY)
    body = health(client)
    assert (body["status"], body["link_keys"], body["sweep"]) == ("degraded", "mismatch", "ok"), body
    assert "host-b" not in str(body) and fingerprint(OTHER_KEY) not in str(body), (
        "no name or key to a caller without a token"
    )


def test_a_scheduler_still_on_the_key_before_a_rotation_is_said_but_not_degraded(app, client, world, monkeypatch):
    monkeypatch.setitem(app.config, "SECRET_KEY_FALLBACKS", [OLD_KEY])
    jobs.sweep(app)
    jobs.deliver(app)  # health asks of both
    scheduler_beats(app, "host-b:4242", OLD_KEY)
    body = health(client)
    assert (body["status"], body["link_keys"]) == ("ok", "rotating"), body
    problem = dispatch.link_keys_problem(app)
    assert problem and problem.startswith(
        "scheduler host-b:4242 still signs links with a key this process keeps in SECRET_KEY_FALLBACKS"
    ), problem


def test_a_scheduler_starting_beside_one_with_another_key_names_it_and_leaves_itself_out(app):
    scheduler_beats(app, "host-a:1", app.config["SECRET_KEY"])
    scheduler_beats(app, "host-b:2", OTHER_KEY)
    problem = dispatch.link_keys_problem(app, leave_out="host-a:1")
    assert problem and problem.startswith("scheduler host-b:2 signs links with another SECRET_KEY than this process's")
    assert OTHER_KEY not in problem and app.config["SECRET_KEY"] not in problem
    assert dispatch.link_keys_problem(app, leave_out="host-b:2") is None, "the one that differs, starting, is alone"


def test_the_web_server_says_at_start_that_a_live_scheduler_signs_with_another_key(app, monkeypatch):
    for key, value in {"PUBLIC_URL": "http://127.0.0.1:5000", "REGION_FILE": ""}.items():
        monkeypatch.setitem(app.config, key, value)
    scheduler_beats(app, "host-b:2", OTHER_KEY)
    lines = started(app, monkeypatch)
    said = [line for kind, line in lines if "SECRET_KEY" in line]
    assert len(said) == 1 and said[0].startswith("tracker: scheduler host-b:2 signs links with another"), lines
