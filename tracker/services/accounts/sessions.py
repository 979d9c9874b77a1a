"""Web sessions kept in the database: the session cookie carries only a random id, and sign-out,
a password change or deactivation revoke it here, so a copied cookie stops working at once.

A session also ends `absolute` after it was opened, whatever its use; the idle limit is the
signed cookie's own age (Flask checks it against PERMANENT_SESSION_LIFETIME on every request).
"""

import secrets
from datetime import datetime, timedelta

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
    opened = WebSession(id=secrets.token_urlsafe(32), user_id=user.id, created_at=now, address=address[:64])
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


def user_of(session: Session, session_id: str, user_id: int, now: datetime, absolute: timedelta) -> User | None:
    """The active user of a live session (one statement), or None."""
    return session.scalar(
        select(User)
        .join(WebSession, WebSession.user_id == User.id)
        .where(
            WebSession.id == session_id,
            WebSession.user_id == user_id,
            WebSession.revoked_at.is_(None),
            WebSession.created_at > now - absolute,
            User.active.is_(True),
        )
    )


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
