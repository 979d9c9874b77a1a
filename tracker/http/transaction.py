"""The request's unit of work: what a route did is committed when it returns, rolled back when it
raises. Jobs and the CLI use the same helper through tracker.db.session_scope."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import ParamSpec, TypeVar

from flask import g
from sqlalchemy.orm import Session

from ..db import get_session, unit_of_work

P = ParamSpec("P")
R = TypeVar("R")
OPEN = "unit_of_work_open"


def transactional(view: Callable[P, R]) -> Callable[P, R]:
    """Commit the request's session when view returns; roll it back when view raises."""

    @wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with committed():
            return view(*args, **kwargs)

    return wrapper


@contextmanager
def committed() -> Iterator[Session]:
    """The request's session as a unit of work, for a block inside a view. Inside another one
    (tracker.http.idempotency keeps the answer in the same transaction as the work) the block
    joins it: the outer one commits, or rolls back, everything at once."""
    session = get_session()
    if g.get(OPEN):
        yield session
        return
    g.setdefault(OPEN, True)
    try:
        with unit_of_work(session):
            yield session
    finally:
        g.pop(OPEN, None)


def end_reading() -> None:
    """End the request's transaction, which has only read, before work that runs in transactions
    of its own (sending a line check): on SQLite an open transaction holds the write lock. Objects
    read so far are expired and reload on their next use."""
    session = get_session()
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("end_reading() would discard changes the request made")
    session.rollback()
