"""The request's unit of work: what a route did is committed when it returns, rolled back when it
raises. Jobs and the CLI use the same helper through tracker.db.session_scope."""

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from ..db import get_session, unit_of_work

P = ParamSpec("P")
R = TypeVar("R")


def transactional(view: Callable[P, R]) -> Callable[P, R]:
    """Commit the request's session when view returns; roll it back when view raises."""

    @wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with unit_of_work(get_session()):
            return view(*args, **kwargs)

    return wrapper


def committed():
    """The request's session as a unit of work, for a block inside a view."""
    return unit_of_work(get_session())


def end_reading() -> None:
    """End the request's transaction, which has only read, before work that runs in transactions
    of its own (sending a line check): on SQLite an open transaction holds the write lock. Objects
    read so far are expired and reload on their next use."""
    session = get_session()
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("end_reading() would discard changes the request made")
    session.rollback()
