"""A database error names its statement, never the values bound to it: a password's or token's hash
must not reach a terminal or a log through a failed INSERT."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tracker.db import build_engine


def test_a_failed_statement_does_not_print_its_values(database_url):
    engine = build_engine(database_url)
    try:
        with pytest.raises(DBAPIError) as failed, engine.connect() as connection:
            connection.execute(text("SELECT * FROM no_such_table WHERE x = :v"), {"v": "$argon2id$SECRET-HASH"})
        assert "SECRET-HASH" not in str(failed.value), str(failed.value)
        assert "no_such_table" in str(failed.value)
    finally:
        engine.dispose()
