"""The statements a block of a test sends to the database, for tests that count or read them."""

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from tracker.db import engine_of


@contextmanager
def recorded(app) -> Iterator[list[str]]:
    """The statements sent to the app's database inside the block, as sent."""
    seen: list[str] = []

    def record(_connection, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(engine_of(app), "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine_of(app), "before_cursor_execute", record)
