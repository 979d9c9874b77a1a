"""Migration 0035 makes the table of the database's own keys and deletes the failed sign-ins kept under the key
derived from SECRET_KEY, which the code no longer has (tests/integration/test_signin_key.py)."""

from datetime import UTC, datetime

from sqlalchemy import create_engine, text

from tracker import migrate


def test_the_counts_under_the_old_key_go_and_no_key_is_made_yet(database_at):
    url = database_at("0034")
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text("INSERT INTO signin_failures (account, address, failures, last_failed_at) VALUES (:a, :b, 3, :t)"),
                {"a": "0" * 64, "b": "10.0.0.1", "t": datetime.now(UTC).replace(tzinfo=None)},
            )
        migrate.upgrade(url, "0035")
        with engine.connect() as connection:
            kept = connection.execute(text("SELECT account FROM signin_failures")).scalars().all()
            keys = connection.execute(text("SELECT purpose FROM own_keys")).scalars().all()
    finally:
        engine.dispose()
    assert (kept, keys) == ([], []), (kept, keys)
    assert migrate.current(url) == "0035"
