"""Web sessions kept in the database: the session cookie carries only a random id, and sign-out,
a password change or deactivation revoke it here, so a copied cookie stops working at once.

A session also ends `absolute` after it was opened, whatever its use, and `idle` after its last use on
record. That is written at most once a minute (mark_seen), so a board refreshing every few seconds does
not write on each request, and the idle limit is kept to the minute: it was the signed cookie's own age,
which a page's own requests do not sign again (web/session_cookie.py).
"""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from ...models import AccountEvent, User, WebSession


def open_session(session: Session, user: User, address: str, now: datetime) -> str | None:
    """Open a session for user and return its id (for the cookie); None when the account is no longer
    active. The user's row is read again under a share lock (SQLite's writing transaction holds its
    lock from BEGIN), so a deactivation committed since the password was checked is seen, and one
    arriving now waits for this session and then revokes it: no session outlives a deactivation to
    come back to life when the account is activated again."""
    active = session.scalar(select(User.active).where(User.id == user.id).with_for_update(read=True))
    if not active:
        return None
    opened = WebSession(
        id=secrets.token_urlsafe(32), user_id=user.id, created_at=now, last_seen_at=now, address=address[:64]
    )
    session.add(opened)
    return opened.id


def replace(session: Session, previous: object, user: User, address: str, now: datetime) -> str | None:
    """Open a session for user (open_session) and end the one the browser came with (previous: the id
    its cookie held, if any). The user's row is locked before the old session's: a deactivation or a
    password change takes them in that order (the user, then their sessions), so the two never wait
    on each other in turn."""
    opened = open_session(session, user, address, now)
    if isinstance(previous, str):
        revoke(session, previous, "replaced", now)
    return opened


@dataclass(frozen=True)
class Live:
    """A live session's active user, and its last use on record."""

    user: User
    last_seen_at: datetime


def user_of(
    session: Session, session_id: str, user_id: int, now: datetime, idle: timedelta, absolute: timedelta
) -> Live | None:
    """The active user of a live session and its last use (one statement), or None: a session revoked, opened
    absolute ago or more, or not used for idle."""
    row = session.execute(
        select(User, WebSession.last_seen_at)
        .join(WebSession, WebSession.user_id == User.id)
        .where(
            WebSession.id == session_id,
            WebSession.user_id == user_id,
            WebSession.revoked_at.is_(None),
            WebSession.created_at > now - absolute,
            WebSession.last_seen_at > now - idle,
            User.active.is_(True),
        )
    ).one_or_none()
    return Live(row[0], row[1]) if row is not None else None


# A session's last use is news to the minute, as a token's is (people.LAST_USED_EVERY).
SEEN_EVERY = timedelta(minutes=1)


def needs_seen(last_seen_at: datetime, now: datetime) -> bool:
    """Whether a session's last use on record is SEEN_EVERY old or older."""
    return now - last_seen_at >= SEEN_EVERY


def mark_seen(session: Session, session_id: str, now: datetime) -> bool:
    """Record now as the live session's last use, unless one within SEEN_EVERY is on record already: a conditional
    UPDATE, so of two tabs' requests at once one writes and the other (on PostgreSQL, after waiting for the first's
    row lock) finds the row fresh and writes nothing. Return whether it wrote."""
    result = session.execute(
        update(WebSession)
        .where(
            WebSession.id == session_id,
            WebSession.revoked_at.is_(None),
            WebSession.last_seen_at <= now - SEEN_EVERY,
        )
        .values(last_seen_at=now),
        execution_options={"synchronize_session": False},
    )
    return bool(cast(CursorResult[Any], result).rowcount)


def revoke(session: Session, session_id: str, why: str, now: datetime) -> None:
    session.execute(
        update(WebSession)
        .where(WebSession.id == session_id, WebSession.revoked_at.is_(None))
        .values(revoked_at=now, revoked_why=why)
    )


def revoke_all(session: Session, user_id: int, why: str, now: datetime) -> None:
    """Revoke every live session of user_id and note it in the account's security log."""
    result: CursorResult = session.execute(  # type: ignore[assignment]  # an UPDATE's result has a rowcount
        update(WebSession)
        .where(WebSession.user_id == user_id, WebSession.revoked_at.is_(None))
        .values(revoked_at=now, revoked_why=why)
    )
    revoked = result.rowcount
    if revoked:
        session.add(
            AccountEvent(user_id=user_id, kind="sessions_revoked", at=now, details={"why": why, "count": revoked})
        )
