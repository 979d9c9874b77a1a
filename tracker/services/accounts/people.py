"""Users, argon2 password hashes and hashed bearer tokens."""

import hashlib
import secrets
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from ...errors import Conflict, NotFound, ValidationError
from ...models import ApiToken, Role, User
from ...timeutil import utcnow

TOKEN_PREFIX = "trk_"
_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(user: User, password: str) -> bool:
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def create_user(
    session: Session, username: str, password: str, role: Role | str, full_name: str = "", email: str | None = None
) -> User:
    """Create an active user; usernames are unique and passwords at least 8 characters."""
    username = username.strip()
    if not username or len(username) > 64:
        raise ValidationError("username must be 1-64 characters", {"username": "invalid length"})
    if len(password) < 8:
        raise ValidationError("password must be at least 8 characters", {"password": "too short"})
    try:
        role = Role(role)
    except ValueError:
        raise ValidationError(f"unknown role {role!r}", {"role": [r.value for r in Role]}) from None
    if session.scalar(select(User).where(User.username == username)) is not None:
        raise Conflict(f"user {username!r} exists")
    user = User(username=username, password_hash=hash_password(password), role=role, full_name=full_name, email=email)
    session.add(user)
    session.flush()
    return user


def find_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user {username!r}")
    return user


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, user: User, name: str) -> tuple[ApiToken, str]:
    """Issue a token for user; returns the row and the token text, which is never stored."""
    text = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user=user, name=name, token_hash=digest(text), prefix=text[:10])
    session.add(token)
    session.flush()
    return token, text


def revoke_token(session: Session, token_id: int, now: datetime | None = None) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(f"no token {token_id}")
    if token.revoked_at is None:
        token.revoked_at = now or utcnow()
    return token


def user_for_token(session: Session, text: str) -> User | None:
    """Return the active user owning an unrevoked token, or None."""
    if not text.startswith(TOKEN_PREFIX):
        return None
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == digest(text)))
    if token is None or token.revoked_at is not None or not token.user.active:
        return None
    return token.user


def sign_in(
    session: Session, username: str, password: str, now: datetime, slow_after: int
) -> tuple[User | None, float]:
    """Check a password; return the user (or None) and how long to hold the answer back.

    Failures are counted per account; from the slow_after-th on, each answer waits twice as
    long as the last (0.5 s, 1 s, 2 s ... up to 8 s), which makes guessing one account slow.
    """
    user = session.scalar(select(User).where(User.username == username.strip()))
    if user is not None and user.active and verify_password(user, password):
        user.failed_logins = 0
        return user, 0.0
    if user is None:
        return None, 0.0
    user.failed_logins += 1
    user.last_failed_login_at = now
    excess = user.failed_logins - slow_after
    return None, (min(0.5 * 2**excess, 8.0) if excess >= 0 else 0.0)


def change_password(session: Session, user: User, current: str, new: str) -> None:
    if not verify_password(user, current):
        raise ValidationError("the current password is wrong", {"current_password": "wrong"})
    set_password(user, new)


def set_password(user: User, new: str) -> None:
    if len(new) < 8:
        raise ValidationError("password must be at least 8 characters", {"password": "too short"})
    user.password_hash = hash_password(new)
    user.failed_logins = 0
