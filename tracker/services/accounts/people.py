"""Users, argon2 password hashes and hashed bearer tokens."""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any, cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import CursorResult, Select, and_, bindparam, func, or_, select, true, update
from sqlalchemy.orm import Session

from ...channels.email import address_problem
from ...errors import Conflict, NotFound, ValidationError
from ...models import AccountEvent, ApiToken, Role, SignInFailure, User, config_version
from ...sentences import Sentence
from ...text import name_problem
from ...timeutil import isoformat, utcnow
from ..engine import sides
from . import names, own_keys, sessions, throttle

TOKEN_PREFIX = "trk_"
# How a change to an account was made when no signed-in person made it (`flask user ...`, `flask demo`):
# the security log says "via" this, never "by", so that no user can be named like it.
COMMAND_LINE = "the command line"
# How many addresses of failed sign-ins the owner is told of, and a reset's log line keeps, latest first.
ADDRESSES_SHOWN = 5
# What a reset does, as the command line and the admin's page both say it.
RESET_SAID = (
    "their web sessions ended; they sign in with it at once, their failed sign-ins kept on record but no longer "
    "holding them back"
)

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(user: User, password: str) -> bool:
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


_stand_in: dict[tuple, str] = {}


def spend_a_check(password: str) -> None:
    """Verify password against a stand-in hash made with the current parameters, so that a name
    nobody has costs the same time as one that exists (no telling them apart by timing)."""
    parameters = (_hasher.time_cost, _hasher.memory_cost, _hasher.parallelism, _hasher.hash_len, _hasher.salt_len)
    if parameters not in _stand_in:
        _stand_in[parameters] = _hasher.hash(secrets.token_urlsafe(16))
    try:
        _hasher.verify(_stand_in[parameters], password)
    except (VerificationError, InvalidHashError):
        pass


def check_new_name(session: Session, username: str) -> None:
    """Refuse a name no new account may have: empty, too long, not one line, or one an account has (or reads as).
    The command line asks it before a password is typed for it."""
    username = username.strip()
    if not username or len(username) > 64:
        raise ValidationError("username must be 1-64 characters", {"username": "invalid length"})
    if found := _line_problem(username, 64):
        raise ValidationError("a name and an e-mail address are one line of text each", {"username": found})
    _name_free(session, username)


def _name_free(session: Session, username: str) -> None:
    """Refuse a name an account has, or one that reads as an account's."""
    if (alike := _named_alike(session, username)) == username:
        raise Conflict(Sentence("user {username} exists", {"username": repr(username)}))
    if alike is not None:  # one name to whoever reads them, and one count of failed sign-ins (account_key)
        raise Conflict(
            Sentence(
                "user {alike} exists, and {username} reads as the same name: choose another",
                {"alike": repr(alike), "username": repr(username)},
            )
        )


def create_user(
    session: Session,
    username: str,
    password: str,
    role: Role | str,
    full_name: str = "",
    email: str | None = None,
    *,
    by: str | None,
    address: str = "",
) -> User:
    """Create an active user (noted in their security log); usernames are unique and passwords at least
    8 characters. by: the admin who creates them, None for the command line."""
    username = username.strip()
    if not username or len(username) > 64:
        raise ValidationError("username must be 1-64 characters", {"username": "invalid length"})
    problems = {
        name: found
        for name, value, longest in (("username", username, 64), ("full_name", full_name, 120), ("email", email, 254))
        if (found := _line_problem(value, longest))
    }
    if problems:
        raise ValidationError("a name and an e-mail address are one line of text each", problems)
    if email and (wrong := address_problem(email)):  # the supervisors' messages go there: refused now, not then
        raise ValidationError(Sentence("{email} is not an e-mail address", {"email": repr(email)}), {"email": wrong})
    # Where our messages to them go: their mailbox, else their username (a line's label, an outbox address).
    where = sides.mailbox(email, username)
    if line := sides.their_line_at(session, where):
        field = "email" if email else "username"
        raise ValidationError(
            "our messages would go to the other side: the address is a counterpart line's",
            {field: f"{where} is where counterpart line {line.name!r} goes ({line.address})"},
        )
    if len(password) < 8:
        raise ValidationError("password must be at least 8 characters", {"password": "too short"})
    try:
        role = Role(role)
    except ValueError:
        raise ValidationError(f"unknown role {role!r}", {"role": [r.value for r in Role]}) from None
    _name_free(session, username)
    user = User(username=username, password_hash=hash_password(password), role=role, full_name=full_name, email=email)
    session.add(user)
    session.flush()
    _note(session, user.id, "created", by, address, role=role.value)
    return user


def account_key(session: Session, username: str) -> str:
    """The account a sign-in failure is counted against (signin.py): the name as it reads (names.folded: look-alikes
    are one account), as its HMAC-SHA-256 under the database's own key for them (own_keys, never SECRET_KEY, so a
    new SECRET_KEY keeps the counts). A password typed into the name field was kept readable for a day; a digest
    without a key would let whoever reads the table test guesses of it."""
    name = names.folded(username).encode()
    return hmac.new(own_keys.key_for(session, own_keys.SIGN_IN_NAMES), name, hashlib.sha256).hexdigest()


def _named_alike(session: Session, username: str) -> str | None:
    """The name of the user whose name reads as username (names.folded) or looks like it in another script
    (names.looks: "аlice" with a Cyrillic а beside "alice", whom a four-eyes list or a timeline would show as the
    same person), if any; username itself first."""
    if session.scalar(select(User.username).where(User.username == username)) is not None:
        return username
    folded, looks = names.folded(username), names.looks(username)
    return next(
        (
            name
            for name in session.scalars(select(User.username))
            if names.folded(name) == folded or names.looks(name) == looks
        ),
        None,
    )


def names_alike(session: Session) -> list[list[str]]:
    """The active users' names that read as one (names.folded), each set sorted, for the operator to resolve. They
    were made before create_user refused such names, and share one count of failed sign-ins (account_key): the owner
    of one is slowed down by guesses at, or their colleague's mistakes on, the other. A deactivated account shares
    none: it cannot sign in."""
    return _grouped(session, names.folded)


def names_looking_alike(session: Session) -> list[list[str]]:
    """The active users' names that look alike in two scripts (names.looks: "alice" and "аlice" with a Cyrillic
    а) without all reading as one, each set sorted. Made before create_user refused them: they count their
    failed sign-ins apart, but a four-eyes list, a timeline or an audit line shows their owners as one person."""
    return [group for group in _grouped(session, names.looks) if len({names.folded(name) for name in group}) > 1]


def _grouped(session: Session, key) -> list[list[str]]:
    groups: dict[str, list[str]] = {}
    for name in session.scalars(select(User.username).where(User.active.is_(True)).order_by(User.username)):
        groups.setdefault(key(name), []).append(name)
    return sorted(sorted(group) for group in groups.values() if len(group) > 1)  # by code point, on any engine


def active_admins(session: Session) -> int:
    """How many active accounts may manage accounts and lines on the pages."""
    return session.scalar(select(func.count()).where(User.active.is_(True), User.role == Role.ADMIN)) or 0


# Said when the last active supervisor is deactivated (on the page before and after, and by `flask user deactivate`).
LAST_SUPERVISOR = (
    "{name} is the last active supervisor: until another is activated or made, exhausted incidents, steps waiting "
    "for a decision and dead letters are told to the admins instead, and /health says degraded."
)


def last_active_supervisor(session: Session, user: User) -> bool:
    """Whether user is the one active supervisor (deactivating them leaves the supervisors' messages to the admins:
    notify.active_supervisors)."""
    if user.role is not Role.SUPERVISOR or not user.active:
        return False
    others = select(func.count()).where(User.active.is_(True), User.role == Role.SUPERVISOR, User.id != user.id)
    return not session.scalar(others)


def find_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(Sentence("no user {username}", {"username": repr(username)}))
    return user


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, user: User, name: str, *, by: str | None, address: str = "") -> tuple[ApiToken, str]:
    """Issue a token for user and note it in their security log; returns the row and the token text,
    which is never stored."""
    if found := _line_problem(name, 64):
        raise ValidationError("a token's name is one line of text", {"name": found})
    if not user.active:  # it would be refused at every use, then start working on a reactivation nobody tied to it
        said = "user {username} is deactivated: activate them first, then issue the token"
        raise Conflict(Sentence(said, {"username": repr(user.username)}))
    text = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user=user, name=name, token_hash=digest(text), prefix=text[:10])
    session.add(token)
    session.flush()
    _note(session, user.id, "token_issued", by, address, token=token.prefix, name=name)
    return token, text


def revoke_token(
    session: Session, token_id: int, *, by: str | None, address: str = "", now: datetime | None = None
) -> ApiToken:
    """Revoke a token (noted in its user's security log); a token already revoked stays as it was."""
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(f"no token {token_id}")
    if token.revoked_at is None:
        token.revoked_at = now or utcnow()
        _note(session, token.user_id, "token_revoked", by, address, token.revoked_at, token=token.prefix)
    return token


def token_for(session: Session, text: str) -> ApiToken | None:
    """Return the unrevoked token of an active user that text is, or None."""
    if not text.startswith(TOKEN_PREFIX):
        return None
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == digest(text)))
    if token is None or token.revoked_at is not None or not token.user.active:
        return None
    return token


@dataclass(frozen=True)
class TokenCheck:
    """What one statement tells of a bearer token: the guard's count of wrong tokens, and the active user
    owning it unrevoked (None for a wrong token) with the token's id and last use on record."""

    attempts: int
    user: User | None
    token_id: int | None
    last_used_at: datetime | None
    # The routing configuration's stamp, read in the same statement (models.config_version.remember).
    config_stamp: int = 0


def check_token(session: Session, text: str, guard: dict) -> TokenCheck:
    """The token's user and the guard's count (throttle.COUNT with guard, its count_parameters) in one round
    trip (a text without the token prefix matches nothing: every stored hash is of a prefixed token)."""
    row = session.execute(_token_check(), {**guard, "token_hash": digest(text)}).one()
    user = row[1]
    return TokenCheck(row.attempts, user, row.id if user is not None else None, row.last_used_at, row.stamp or 0)


@cache
def _token_check() -> Select:
    """check_token's statement, built once (SQLAlchemy's compiled cache serves every request)."""
    guard = select(throttle.COUNT.label("attempts")).subquery()
    token = (
        select(ApiToken.id, ApiToken.user_id, ApiToken.last_used_at)
        .where(
            ApiToken.token_hash == bindparam("token_hash", type_=ApiToken.token_hash.type),
            ApiToken.revoked_at.is_(None),
        )
        .subquery()
    )
    return (
        select(guard.c.attempts, User, token.c.id, token.c.last_used_at, config_version.STAMP)
        .select_from(guard)
        .outerjoin(token, true())  # the count stands alone when no token matches
        .outerjoin(User, and_(User.id == token.c.user_id, User.active.is_(True)))
    )


def user_for_token(session: Session, text: str) -> User | None:
    """Return the active user owning an unrevoked token, or None."""
    token = token_for(session, text)
    return token.user if token is not None else None


# "Last used" is news to the minute: a token used all day is written once a minute, not per request.
LAST_USED_EVERY = timedelta(minutes=1)


def needs_last_used(last_used_at: datetime | None, now: datetime) -> bool:
    """Whether a token's last use on record is older than LAST_USED_EVERY (or there is none)."""
    return last_used_at is None or now - last_used_at >= LAST_USED_EVERY


def mark_token_used(session: Session, token_id: int, now: datetime) -> bool:
    """Record now as the token's last use, unless one within LAST_USED_EVERY is on record already (a
    conditional UPDATE: of two requests at once, one writes); return whether it wrote."""
    result = session.execute(
        update(ApiToken)
        .where(
            ApiToken.id == token_id,
            or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at <= now - LAST_USED_EVERY),
        )
        .values(last_used_at=now),
        execution_options={"synchronize_session": False},
    )
    return bool(cast(CursorResult[Any], result).rowcount)


def set_password(session: Session, user: User, new: str, *, by: str | None, address: str = "") -> None:
    """Set a new password and revoke every web session of the user; noted in their security log as
    changed (by the user) or reset (by an admin, or on the command line: the same reset either way)."""
    if len(new) < 8:
        raise ValidationError("password must be at least 8 characters", {"password": "too short"})
    user.password_hash = hash_password(new)
    now = utcnow()
    sessions.revoke_all(session, user.id, "password_changed", now)
    if by == user.username:  # signed in, and the current password given again: told of any failures at sign-in
        user.failed_logins = 0
        _note(session, user.id, "password_changed", by, address, now)
    else:
        _note(session, user.id, "password_reset", by, address, now, **lift_lockout(session, user))


def lift_lockout(session: Session, user: User) -> dict:
    """Let the account sign in at once, from anywhere (a reset): the failures piled up trying to remember the old
    password would refuse the new one with 429 for minutes (signin.refuse_early). They stop counting but stay on
    record: returned for the reset's line in the security log (how many since the last sign-in, the last when,
    from where), and kept for the owner's next sign-in, which tells them, as after any failed sign-ins."""
    account = account_key(session, user.username)
    addresses = failed_from(session, account)
    session.execute(
        update(SignInFailure).where(SignInFailure.account == account).values(failures=0, next_attempt_at=None)
    )
    if not user.failed_logins:
        return {"failed_before": 0}
    last = isoformat(user.last_failed_login_at) if user.last_failed_login_at else None
    return {"failed_before": user.failed_logins, "last_failed_at": last, "failed_from": ", ".join(addresses)}


def deactivate(session: Session, user: User, *, by: str | None, address: str = "", now: datetime | None = None) -> int:
    """Deactivate user: their web sessions and API tokens are revoked and their calendar feed links
    ended, for good: reactivating the account brings none of them back (new tokens must be issued).
    Noted in their security log with who did it. Return how many tokens were revoked."""
    now = now or utcnow()
    was_active = user.active
    user.active = False
    user.credentials_epoch = (user.credentials_epoch or 0) + 1
    sessions.revoke_all(session, user.id, "deactivated", now)
    revoked = cast(
        CursorResult[Any],
        session.execute(
            update(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=now)
            .execution_options(synchronize_session="fetch")
        ),
    ).rowcount
    if was_active or revoked:
        _note(session, user.id, "deactivated", by, address, now, tokens_revoked=revoked)
    return revoked


def reactivate(session: Session, user: User, *, by: str | None, address: str = "") -> None:
    """Let user sign in again with their password; their old tokens and feed links stay ended."""
    if not user.active:
        user.active = True
        _note(session, user.id, "reactivated", by, address)


def _note(
    session: Session,
    user_id: int,
    kind: str,
    by: str | None,
    address: str,
    at: datetime | None = None,
    **details: object,
) -> None:
    """A line in user_id's security log: what was done to the account, by whom (None: on the command
    line) and from where."""
    who = {"by": by} if by is not None else {"via": COMMAND_LINE}
    session.add(
        AccountEvent(user_id=user_id, kind=kind, address=address[:64], at=at or utcnow(), details={**who, **details})
    )


def remember_reporting_unit(user: User, unit: str) -> None:
    """Keep the reporting unit the user just filed for: their next filing form offers it again."""
    user.last_reporting_unit = unit.strip() or None


def _line_problem(value: str | None, longest: int) -> str | None:
    """What is wrong with one line of text for a column of longest characters (None: nothing)."""
    if value is None:
        return None
    if len(value) > longest:
        return f"at most {longest} characters"
    return name_problem(value)


def failed_from(session: Session, account: str) -> list[str]:
    """The addresses an account's failed sign-ins came from, the latest first (at most ADDRESSES_SHOWN)."""
    query = select(SignInFailure.address).where(SignInFailure.account == account)
    return list(session.scalars(query.order_by(SignInFailure.last_failed_at.desc()).limit(ADDRESSES_SHOWN)))
