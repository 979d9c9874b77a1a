"""One thread's transaction stopped at a chosen SQL statement while the test runs another unit of work against it:
for the race tests that must force an interleaving on PostgreSQL rather than hope for it."""

import re
import threading

from sqlalchemy import event

from tracker.db import engine_of

TIMEOUT = 20


class PauseAt:
    """In the thread that calls arm(), stop before (or after) the first statement matching pattern until go()."""

    def __init__(self, app, pattern: str, after: bool = False):
        self.engine = engine_of(app)
        self.pattern = re.compile(pattern, re.IGNORECASE | re.DOTALL)
        self.after = after
        self.reached, self.released = threading.Event(), threading.Event()
        self.thread: int | None = None
        self.fired = False
        self.statements: list[str] = []
        self.kind = "after_cursor_execute" if after else "before_cursor_execute"
        event.listen(self.engine, self.kind, self._hook)

    def arm(self) -> None:
        self.thread = threading.get_ident()

    def _hook(self, conn, cursor, statement, parameters, context, executemany):
        if threading.get_ident() != self.thread or self.fired:
            return
        if self.pattern.search(statement):
            self.fired = True
            self.statements.append(statement)
            self.reached.set()
            assert self.released.wait(TIMEOUT), "never released"

    def wait(self) -> None:
        assert self.reached.wait(TIMEOUT), f"the thread never reached {self.pattern.pattern}"

    def go(self) -> None:
        self.released.set()

    def remove(self) -> None:
        self.released.set()
        event.remove(self.engine, self.kind, self._hook)


class Run(threading.Thread):
    """Run fn in a thread, arming the pause first; keep what it returned or raised."""

    def __init__(self, fn, pause: PauseAt | None = None):
        super().__init__(daemon=True)
        self.fn, self.pause = fn, pause
        self.outcome: object = None
        self.error: BaseException | None = None

    def run(self):
        if self.pause is not None:
            self.pause.arm()
        try:
            self.outcome = self.fn()
        except BaseException as exc:  # noqa: BLE001  # handed to the test, which says which it expects
            self.error = exc

    def result(self, timeout: float = TIMEOUT):
        self.join(timeout)
        assert not self.is_alive(), "the thread hung"
        if self.error is not None:
            raise self.error
        return self.outcome
