"""A web session's last use, recorded as its requests come (services.accounts.sessions.mark_seen): the idle limit
runs from it. At most once a minute per session, and never at a request's cost."""

import logging
from datetime import datetime

from flask import request
from sqlalchemy.exc import OperationalError

from ..db import NO_WAIT, READING_METHODS, get_session, session_scope
from ..http.wiring import the_app
from ..services.accounts import sessions

log = logging.getLogger("tracker.sessions")


def record(session_id: str, now: datetime) -> None:
    """Record now as the session's last use.

    A request that writes, on SQLite, records it in its own transaction: that holds the database's one write lock
    from BEGIN, so nothing else could write it before the request ends (and SQLite has no row locks to take out of
    turn). Any other request records it in a short unit of work of its own, before its work: on PostgreSQL the
    session's row is not held locked while the request runs (a deactivation locks the user, then their sessions; a
    request holding its session's row, then updating its user, as a filing does, would deadlock with it). That one
    never waits for SQLite's write lock (NO_WAIT): a busy database leaves it to the session's next request. The
    request's session first gives back what it began, reading the session, as a token's last use does
    (http/tokens.py): held meanwhile, its connection was a second one of the pool's, which each worker then kept
    open; the user is read again in the request's new transaction when next used."""
    db = get_session()
    if request.method not in READING_METHODS and db.get_bind().dialect.name == "sqlite":
        sessions.mark_seen(db, session_id, now)
        return
    db.rollback()
    try:
        with session_scope(the_app()) as own:
            own.connection(execution_options={NO_WAIT: True})
            sessions.mark_seen(own, session_id, now)
    except OperationalError:
        log.info("a web session's last use was not recorded: the database was busy")
