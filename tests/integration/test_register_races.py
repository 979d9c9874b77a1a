"""The same exercises entered twice at once (two supervisors importing one file): the register keeps one of
each. No unique index can say "the same name in any case", so the register's lock does (SQLite: the write
lock taken at BEGIN; PostgreSQL: an advisory lock the second import waits on)."""

import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from tests.schedulers import wait_until
from tracker.db import session_scope
from tracker.errors import ValidationError
from tracker.models import ExerciseNotice
from tracker.services.exercises import csv_import
from tracker.timeutil import utcnow

pytestmark = pytest.mark.both_databases

SAMPLE = Path(__file__).resolve().parents[2] / "config" / "exercises.sample.csv"
WAITING = "SELECT count(*) FROM pg_locks WHERE NOT granted AND locktype = 'advisory'"


def test_one_file_imported_twice_at_once_enters_each_exercise_once(backend, app):
    if backend != "postgresql":
        pytest.skip("SQLite lets one writer in at a time: no import reads the register while another writes it")
    csv = SAMPLE.read_text()
    second: list = []

    def import_again() -> None:
        try:
            with session_scope(app) as session:
                second.append(len(csv_import.import_csv(session, csv, "admin", utcnow())))
        except ValidationError as refused:
            second.append(refused)

    with session_scope(app) as first:
        assert len(csv_import.import_csv(first, csv, "supervisor", utcnow())) == 3  # not committed yet
        racing = threading.Thread(target=import_again)
        racing.start()

        def waiting_or_done():
            with session_scope(app, reads_only=True) as session:
                return second or session.scalar(text(WAITING))

        wait_until(waiting_or_done, 30, "the second import waiting for the first, or done")
    racing.join(30)
    [refused] = second
    assert isinstance(refused, ValidationError) and "in the register already" in refused.message, refused
    with session_scope(app) as session:
        assert session.scalar(select(func.count()).select_from(ExerciseNotice)) == 3
