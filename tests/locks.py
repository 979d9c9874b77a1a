"""Another connection holding SQLite's write lock, for the tests that show who waits for it; and a second unit of
work racing a first whose transaction is open, for the tests that show it waits on PostgreSQL."""

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text

from tests.schedulers import wait_until
from tracker.db import session_scope

# How long the holder keeps the lock at most: only a unit of work that wrongly waits for it waits this long.
GIVE_UP_SECONDS = 5


class Writer:
    """A connection of its own holding SQLite's write lock (BEGIN IMMEDIATE, then statement) in a
    thread of its own until released, or until it gives up after GIVE_UP_SECONDS (gave_up is set)."""

    def __init__(self, path: str, statement: str = "", parameters: tuple = ()):
        self.path, self.statement, self.parameters = path, statement, parameters
        self.holding, self.release, self.gave_up = threading.Event(), threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self._hold, daemon=True)

    def _hold(self) -> None:
        connection = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        try:
            connection.execute("BEGIN IMMEDIATE")
            if self.statement:
                connection.execute(self.statement, self.parameters)
            self.holding.set()
            if not self.release.wait(GIVE_UP_SECONDS):
                self.gave_up.set()
            connection.execute("COMMIT")
        finally:
            connection.close()


@contextmanager
def write_lock_held(app, statement: str = "", parameters: tuple = ()) -> Iterator[Writer]:
    """Hold the write lock of app's SQLite database for the block (released at its end)."""
    writer = Writer(app.config["DATABASE_URL"].removeprefix("sqlite:///"), statement, parameters)
    writer.thread.start()
    assert writer.holding.wait(10), "the writer never got the lock"
    try:
        yield writer
    finally:
        writer.release.set()
        writer.thread.join(10)


# PostgreSQL's sessions waiting for a lock another transaction holds (row locks and advisory locks alike).
WAITING = "SELECT count(*) FROM pg_locks WHERE NOT granted"


class Second:
    """A second unit of work started in a thread of its own while the first's transaction is still open: its
    outcome (what it returned, or what it raised) once done."""

    def __init__(self, app, attempt, what: str):
        self.outcome: list = []
        self.thread = threading.Thread(target=self._run, args=(attempt,))
        self.thread.start()

        def waiting_or_done():
            with session_scope(app, reads_only=True) as session:
                return self.outcome or session.scalar(text(WAITING))

        wait_until(waiting_or_done, 30, f"{what} waiting for the first, or done")

    def _run(self, attempt) -> None:
        try:
            self.outcome.append(attempt())
        except Exception as raised:  # the test says which refusal it expects
            self.outcome.append(raised)

    def result(self):
        """What the second ended with, once the first has committed."""
        self.thread.join(30)
        [ended] = self.outcome
        return ended
