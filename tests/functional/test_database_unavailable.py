"""A database that does not answer (down, restarting, out of connections) is told as such on either door: 503 with
Retry-After, and one line in the log, where every request answered 500 with a traceback while /health said down."""

import logging

import pytest

from tests.conftest import app_config
from tests.support import csrf
from tracker import create_app
from tracker.db import engine_of

UNREACHABLE = "postgresql+psycopg://tracker@127.0.0.1:1/tracker"  # port 1: nothing listens


@pytest.fixture
def unreachable(tmp_path):
    app = create_app(app_config(tmp_path / "outbox", DATABASE_URL=UNREACHABLE))
    yield app
    engine_of(app).dispose()


def test_the_api_answers_503_with_retry_after_and_logs_one_line(unreachable, caplog):
    token = "trk_" + "a1B2c3D4e5" * 4
    caplog.set_level(logging.WARNING)
    answer = unreachable.test_client().get("/api/v1/incidents", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "5", answer.get_data(as_text=True)
    error = answer.get_json()["error"]
    assert error["code"] == "database_unavailable" and "try again" in error["message"], error
    said = [r for r in caplog.records if "did not answer" in r.getMessage()]
    assert len(said) == 1 and not said[0].exc_info, [r.getMessage() for r in caplog.records]
    assert "GET /api/v1/incidents" in said[0].getMessage() and "Connection refused" in said[0].getMessage()
    assert token not in caplog.text


def test_a_page_answers_503_in_the_layout(unreachable):
    client = unreachable.test_client()
    token = csrf(client, "/signin")  # the sign-in page itself reads nothing from the database
    page = client.post("/signin", data={"username": "duty", "password": "x" * 12, "csrf_token": token})
    assert page.status_code == 503 and page.headers["Retry-After"] == "5", page.get_data(as_text=True)[:400]
    assert "Database unavailable" in page.text and "try again in a few seconds" in page.text
