"""SQLite's write lock is taken only by units of work that write: pages, API reads and the health
check never wait for a writer, and a writing request still queues behind one (tracker/db.py).

SQLite only: the write lock is SQLite's (PostgreSQL has row locks and no such lock at BEGIN).
"""

import threading

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import OperationalError

from tests.locks import write_lock_held
from tests.support import file_incident, incident_payload, sign_in
from tracker.db import session_scope
from tracker.models import Counter


def test_pages_and_api_reads_answer_while_another_connection_holds_the_write_lock(app, client, world):
    reference = file_incident(client, world)["reference"]
    sign_in(client, "supervisor")
    reads = {
        "the board": lambda: client.get("/"),
        "an incident page": lambda: client.get(f"/incidents/{reference}"),
        "the API's incident list": lambda: client.get("/api/v1/incidents", headers=world.auth("supervisor")),
        "an incident by the API": lambda: client.get(f"/api/v1/incidents/{reference}", headers=world.auth("duty")),
        "the health check": lambda: client.get("/api/v1/health"),
    }
    with write_lock_held(app) as writer:
        for what, read in reads.items():
            answer = read()
            assert answer.status_code == 200, (what, answer.status_code, answer.text[:300])
            assert not writer.gave_up.is_set(), f"{what} waited for the writer to let go of the write lock"


def test_a_filing_waits_for_the_writer_and_files_after_it(app, client, world):
    first = file_incident(client, world)["reference"]
    counter = first.rsplit("-", 1)[0]  # INC-2026: the counter the references come from
    answers: list = []
    # The holder moves the reference counter on by 1000 before it lets go: a filing that waited for
    # it gets a number after that, one that did not would have been refused (database is locked).
    with write_lock_held(app, "UPDATE counters SET value = value + 1000 WHERE name = ?", (counter,)) as writer:
        filer = threading.Thread(
            target=lambda: answers.append(
                app.test_client().post("/api/v1/incidents", json=incident_payload(), headers=world.auth("duty"))
            )
        )
        filer.start()
        filer.join(0.3)
        assert not answers, "a filing completed while another connection held the write lock"
        writer.release.set()
        filer.join(30)
    [answer] = answers
    assert answer.status_code == 201, answer.text
    assert not writer.gave_up.is_set()
    assert int(answer.get_json()["reference"].rsplit("-", 1)[1]) > 1000, answer.get_json()["reference"]


def test_a_reading_unit_of_work_cannot_write(app):
    """A deferred transaction that later writes could fail at once with SQLITE_BUSY; reading ones
    are therefore made unable to write at all."""
    with pytest.raises(OperationalError, match="readonly"), session_scope(app, reads_only=True) as session:
        session.execute(insert(Counter).values(name="never", value=1))
    with session_scope(app) as session:
        assert session.get(Counter, "never") is None
