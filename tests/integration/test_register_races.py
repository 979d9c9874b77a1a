"""The same exercises entered twice at once (two supervisors importing one file): the register keeps one of
each. No unique index can say "the same name in any case", so the register's lock does (SQLite: the write
lock taken at BEGIN; PostgreSQL: an advisory lock the second import waits on)."""

from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.locks import Second
from tracker.db import session_scope
from tracker.errors import ValidationError
from tracker.models import ExerciseNotice
from tracker.services.exercises import csv_import
from tracker.timeutil import utcnow

pytestmark = pytest.mark.both_databases

SAMPLE = Path(__file__).resolve().parents[2] / "config" / "exercises.sample.csv"


def import_again(app, csv: str) -> int:
    with session_scope(app) as session:
        return len(csv_import.import_csv(session, csv, "admin", utcnow()))


def test_one_file_imported_twice_at_once_enters_each_exercise_once(backend, app):
    if backend != "postgresql":
        pytest.skip("SQLite lets one writer in at a time: no import reads the register while another writes it")
    csv = SAMPLE.read_text()
    with session_scope(app) as first:
        assert len(csv_import.import_csv(first, csv, "supervisor", utcnow())) == 3  # not committed yet
        second = Second(app, lambda: import_again(app, csv), "the second import")
    refused = second.result()
    assert isinstance(refused, ValidationError) and "in the register already" in refused.message, refused
    with session_scope(app) as session:
        assert session.scalar(select(func.count()).select_from(ExerciseNotice)) == 3
