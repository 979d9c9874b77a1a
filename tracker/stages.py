"""The stages of the sweep (and the watchdog's), each run a committed batch at a time; a row that fails a
batch of its own is set aside.

A stage claims its due rows in deadline order. A row its code cannot handle (data no code path expected,
a fault met by one incident only) would fail every batch that claims it, and every row due after it would
wait behind it: one incident would stop every escalation. So when a batch fails after claiming, the stage
tries again with half as many rows, until the rows before the faulty one are done and it fails a batch of
its own; this process then passes over that row for SET_ASIDE_SECONDS and goes on with the rest. The row
is left as it was: an incident not escalated stays overdue, so the watchdog tells every supervisor
(services/engine/watchdog.py); a row of the other stages (an exchange, a receipt, an agreed action, an
incident's filing checks or idle check) is named, with its error, in the sweep's heartbeat, which
GET /api/v1/health shows, for as long as it is set aside. A failure of the database's (a deadlock, a
time-out, a lost connection) or one before anything is claimed ends the stage for this sweep without
setting anything aside, as does the MOST_SET_ASIDE-th row set aside in one sweep (a failure that common
is not one row's); the next sweep tries again.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import Session

from .db import session_scope
from .services.engine.claims import SetAside

log = logging.getLogger("tracker.stages")
SET_ASIDE_SECONDS = 60.0
MOST_SET_ASIDE = 3
_clock = time.monotonic  # when a row set aside is tried again (the tests move it)


@dataclass(frozen=True)
class _Kept:
    until: float  # _clock()
    noun: str  # what the row is: incident, exchange, ...
    error: str


Step = Callable[[Session, int, SetAside], int]


def _transient(error: Exception) -> bool:
    """A failure of the database's, not of a row: the next sweep tries the same rows again."""
    return isinstance(error, OperationalError | InterfaceError) or (
        isinstance(error, DBAPIError) and error.connection_invalidated
    )


class Stages:
    """One sweep's stages: run each (drain), collect what failed, and say it for the heartbeat (error)."""

    def __init__(self, app: Flask, batch: int):
        self.app, self.batch = app, batch
        self.errors: list[str] = []
        # What this process set aside, by stage, kept between sweeps with the app (a new app starts afresh).
        self.kept: dict[str, dict[int, _Kept]] = app.extensions.setdefault("tracker.set_aside", {})

    def drain(self, stage: str, noun: str, step: Step) -> int:
        """Run step (session, limit, aside) one committed batch at a time until a batch comes back short,
        setting aside each row that fails a batch of its own; return how many were handled."""
        kept = self.kept.setdefault(stage, {})
        done, limit, found = 0, self.batch, 0
        while True:
            now = _clock()
            for row in [row for row, entry in kept.items() if entry.until <= now]:
                del kept[row]
            aside = SetAside(frozenset(kept))
            try:
                with session_scope(self.app) as session:
                    count = step(session, limit, aside)
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"
                if _transient(exc):  # the database's moment (a deadlock, a time-out, a lost connection), no row's
                    log.exception("sweep failed in %s after %d", stage, done)
                    self.errors.append(f"{stage}: {error}")
                    return done
                if len(aside.claimed) > 1:
                    limit = len(aside.claimed) // 2
                    log.warning(
                        "sweep: a batch of %d in %s failed (%s); trying %d", len(aside.claimed), stage, error, limit
                    )
                    continue
                if not aside.claimed:
                    log.exception("sweep failed in %s after %d", stage, done)
                    self.errors.append(f"{stage}: {error}")
                    return done
                row, found, limit = aside.claimed[0], found + 1, self.batch
                kept[row] = _Kept(_clock() + SET_ASIDE_SECONDS, noun, error)
                log.exception(
                    "sweep set aside %s %d in %s for %.0f s: it fails alone", noun, row, stage, SET_ASIDE_SECONDS
                )
                if found >= MOST_SET_ASIDE:
                    self.errors.append(f"{stage}: stopped after setting aside {found} {noun}s in one sweep")
                    return done
                continue
            done += count
            if count < limit:
                return done

    def error(self) -> str | None:
        """What went wrong in this sweep and every row still set aside, for the heartbeat (<= 2000)."""
        now = _clock()
        aside = [
            f"{stage}: {entry.noun} {row} set aside ({entry.error})"
            for stage, rows in self.kept.items()
            for row, entry in sorted(rows.items())
            if entry.until > now
        ]
        return "; ".join([*self.errors, *aside])[:2000] or None
