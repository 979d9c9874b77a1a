"""Migration 0032 deletes the failed sign-ins kept under the name as typed (a password typed as a name was readable
there): the code keeps a keyed digest now (tests/functional/test_signin.py), which a migration cannot compute."""

from datetime import UTC, datetime

from sqlalchemy import create_engine, text

from tracker import migrate


def test_the_names_kept_readable_go_at_the_upgrade(database_at):
    url = database_at("0031")
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text("INSERT INTO signin_failures (account, address, failures, last_failed_at) VALUES (:a, :b, 3, :t)"),
                {"a": "hunter2-typed-as-name", "b": "10.0.0.1", "t": datetime.now(UTC).replace(tzinfo=None)},
            )
        migrate.upgrade(url, "0032")
        with engine.connect() as connection:
            kept = connection.execute(text("SELECT account FROM signin_failures")).scalars().all()
    finally:
        engine.dispose()
    assert kept == [], kept
    assert migrate.current(url) == "0032"
