"""GET /metrics: only for a bearer token that may read metrics (or the scrape secret), and served from
the figures the scheduler's metrics job counted, without writing or taking SQLite's write lock."""

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.locks import write_lock_held
from tests.statements import recorded
from tests.support import file_incident
from tracker import jobs
from tracker.db import session_scope
from tracker.models import MetricsSnapshot
from tracker.scheduler import build_scheduler
from tracker.timeutil import utcnow

SECRET = "scrape-secret-for-the-tests-0123456789"
OPEN_Z = ("tracker_incidents", (("precedence", "Z"), ("status", "open")))


def samples(answer) -> dict:
    assert answer.status_code == 200 and answer.mimetype == "text/plain", (answer.status_code, answer.text[:300])
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(answer.text)
        for s in family.samples
    }


def keep_figures(app) -> None:
    """A snapshot as the metrics job leaves it, written here so the scrapes below have one to read."""
    with session_scope(app) as session:
        body = (
            "# TYPE tracker_metrics_snapshot_timestamp_seconds gauge\ntracker_metrics_snapshot_timestamp_seconds 1.0\n"
        )
        session.merge(MetricsSnapshot(name="database", body=body, refreshed_at=utcnow()))


def test_without_a_bearer_token_the_answer_is_401_and_says_how(client, world):
    for headers in ({}, {"Authorization": "Basic c3VwZXJ2aXNvcjpzdXBlcnZpc29yLXBhc3N3b3Jk"}):
        answer = client.get("/metrics", headers=headers)
        assert answer.status_code == 401, answer.text[:300]
        assert answer.headers["WWW-Authenticate"].startswith("Bearer"), answer.headers
        assert "tracker_" not in answer.text
    for token in ("trk_not-a-token", world.tokens["revoked"]):
        answer = client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 401, answer.text[:300]


@pytest.mark.parametrize(("who", "status"), [("duty", 403), ("liaison", 403), ("supervisor", 200), ("admin", 200)])
def test_a_token_must_belong_to_someone_who_may_read_metrics(client, world, who, status):
    answer = client.get("/metrics", headers=world.auth(who))
    assert answer.status_code == status, answer.text[:300]
    if status == 403:
        assert "tracker_" not in answer.text and "may not read metrics" in answer.text


def test_the_scrape_secret_is_a_bearer_token_too(make_app, world):
    client = make_app(METRICS_SCRAPE_SECRET=SECRET).test_client()
    assert client.get("/metrics", headers={"Authorization": f"Bearer {SECRET}"}).status_code == 200
    assert client.get("/metrics", headers={"Authorization": f"Bearer {SECRET[:-1]}"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer x"}).status_code == 401
    # No secret configured: an empty credential is no secret.
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 401


def test_the_figures_are_those_the_metrics_job_counted_last(app, client, world):
    auth = world.auth("supervisor")
    assert OPEN_Z not in samples(client.get("/metrics", headers=auth)), "no figures before the job's first run"
    file_incident(client, world, precedence="Z")
    assert OPEN_Z not in samples(client.get("/metrics", headers=auth)), "a scrape counted the database itself"

    jobs.refresh_metrics(app)
    counted = samples(client.get("/metrics", headers=auth))
    assert counted[OPEN_Z] == 1
    assert counted[("tracker_metrics_snapshot_timestamp_seconds", ())] <= utcnow().timestamp()
    file_incident(client, world, precedence="Z")
    assert samples(client.get("/metrics", headers=auth))[OPEN_Z] == 1, "the next count is the job's"
    jobs.refresh_metrics(app)
    assert samples(client.get("/metrics", headers=auth))[OPEN_Z] == 2

    with session_scope(app) as session:  # whatever the row holds is what is served
        session.get(MetricsSnapshot, "database").body = 'tracker_incidents{status="open",precedence="Z"} 42.0\n'
    assert samples(client.get("/metrics", headers=auth))[OPEN_Z] == 42


def test_the_scheduler_refreshes_the_figures_every_few_seconds(app):
    scheduler = build_scheduler(app)
    job = scheduler.get_job("metrics")
    assert job is not None and job.func is jobs.refresh_metrics
    assert job.trigger.interval.total_seconds() == app.config["METRICS_REFRESH_SECONDS"] == 5


@pytest.mark.both_databases  # what each engine is sent: no write, and on SQLite no write lock
def test_a_scrape_writes_nothing(make_app, world):
    app = make_app(METRICS_SCRAPE_SECRET=SECRET)
    keep_figures(app)
    client = app.test_client()
    with recorded(app) as statements:
        answers = [
            client.get("/metrics", headers=auth)
            for auth in ({"Authorization": f"Bearer {SECRET}"}, world.auth("supervisor"))
        ]
    writes = [s for s in statements if s.split()[0].upper() in ("INSERT", "UPDATE", "DELETE") or "IMMEDIATE" in s]
    assert not writes, writes
    for answer in answers:
        assert ("tracker_metrics_snapshot_timestamp_seconds", ()) in samples(answer), "the figures are the snapshot's"


def test_a_scrape_answers_while_a_writer_holds_the_sqlite_write_lock(make_app, world):
    app = make_app(METRICS_SCRAPE_SECRET=SECRET)
    keep_figures(app)
    client = app.test_client()
    with write_lock_held(app) as writer:
        for auth in ({"Authorization": f"Bearer {SECRET}"}, world.auth("admin")):
            answer = client.get("/metrics", headers=auth)
            assert not writer.gave_up.is_set(), "the scrape waited for the writer to let go of the write lock"
            assert ("tracker_metrics_snapshot_timestamp_seconds", ()) in samples(answer)
