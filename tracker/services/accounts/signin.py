"""Sign-in: passwords checked at the same cost for every name, failures counted per account and
address, and an early refusal (429) instead of a slow answer.

No request ever waits on purpose. Each (account, address) pair may fail `slow_after` times; after
that its next attempt is allowed only from `next_attempt_at` on (1 s, 2 s, 4 s ... up to
`backoff_max` seconds), kept in the database so every web worker refuses it the same way. Before
then the attempt is refused at once with Retry-After, without checking the password.

Failures from one address never lock the account for others: an address with no recent failures
for the account may always try, and the right password lets it in, even while someone elsewhere is
guessing. Only when the account as a whole has failed `account_limit` times within the window are
addresses that have failed for it themselves refused until the window passes. The account's owner
is told at their next sign-in how many failures there were and from where, and the account's
security log (account_events) records the guessing when a pair starts to be slowed down.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ...errors import TooManyRequests
from ...models import AccountEvent, SignInFailure, User
from . import people


@dataclass(frozen=True)
class Limits:
    slow_after: int  # failures per account and address before each next attempt must wait
    backoff_max: int  # seconds: the longest wait between attempts of one pair
    account_limit: int  # failures of one account in the window before failing addresses are refused
    window: int  # seconds over which failures count


@dataclass(frozen=True)
class Outcome:
    user: User | None
    # Failed sign-ins for the account since its last successful one (told to the user).
    failed_before: int = 0
    failed_from: tuple[str, ...] = ()
    last_failed_at: datetime | None = None


account_key = people.account_key


def refuse_early(session: Session, account: str, address: str, now: datetime, limits: Limits) -> None:
    """Raise TooManyRequests (429, Retry-After) when this pair may not try yet; checks no password."""
    pair = session.get(SignInFailure, (account, address))
    if pair is None:
        return
    # Before the window test: the wait doubles up to backoff_max, which may be longer than the window.
    if pair.next_attempt_at is not None and pair.next_attempt_at > now:
        _refuse(pair.next_attempt_at - now, "too many failed sign-ins for this account from this address")
    if pair.last_failed_at < now - timedelta(seconds=limits.window):
        return
    failing: int = session.execute(
        select(func.coalesce(func.sum(SignInFailure.failures), 0)).where(
            SignInFailure.account == account,
            SignInFailure.last_failed_at >= now - timedelta(seconds=limits.window),
        )
    ).scalar_one()
    if failing >= limits.account_limit:
        _refuse(pair.last_failed_at + timedelta(seconds=limits.window) - now, "this account is under attack")


def _refuse(wait: timedelta, why: str) -> None:
    seconds = max(1, int(wait.total_seconds() + 0.999))
    raise TooManyRequests(f"{why}; try again in {seconds} s", {"retry_after_seconds": seconds})


def sign_in(session: Session, username: str, password: str, address: str, now: datetime, limits: Limits) -> Outcome:
    """Check the password (spending the same work whether or not the name exists) and record the
    outcome; raise TooManyRequests when the pair must wait first."""
    account = account_key(session, username)
    refuse_early(session, account, address, now, limits)
    user = session.scalar(select(User).where(User.username == username.strip()))
    if user is None:
        people.spend_a_check(password)
        right = False
    else:
        right = people.verify_password(user, password) and user.active
    if right and user is not None:
        return _succeeded(session, user, account, address, now)
    _failed(session, user, account, address, now, limits)
    return Outcome(None)


def check_password_again(
    session: Session, user: User, password: str, address: str, now: datetime, limits: Limits
) -> bool:
    """Whether password is the signed-in user's own (asked again before changing it), under the same
    limits as signing in: a session borrowed at a browser left open guesses no faster than a stranger,
    and a wrong one is counted and told to the owner like a failed sign-in."""
    account = account_key(session, user.username)
    refuse_early(session, account, address, now, limits)
    if people.verify_password(user, password):
        return True
    _failed(session, user, account, address, now, limits)
    return False


def _succeeded(session: Session, user: User, account: str, address: str, now: datetime) -> Outcome:
    outcome = Outcome(user)
    if user.failed_logins:
        since = user.last_failed_login_at
        addresses = people.failed_from(session, account)
        outcome = Outcome(user, user.failed_logins, (*addresses,), since)
    # After reading where the failures came from: this address's own are among them.
    session.execute(delete(SignInFailure).where(SignInFailure.account == account, SignInFailure.address == address))
    session.add(
        AccountEvent(
            user_id=user.id, kind="signed_in", address=address, at=now, details={"failed_before": user.failed_logins}
        )
    )
    user.failed_logins = 0
    return outcome


def _failed(session: Session, user: User | None, account: str, address: str, now: datetime, limits: Limits) -> None:
    """Count the failure for the pair and the account, each in one statement: failures arriving together
    (read, then written back) counted as one, and the first of a pair's two raised a duplicate key."""
    failures = _count_failure(session, account, address, now, limits.window)
    excess = failures - limits.slow_after
    waits_until = now + timedelta(seconds=min(2**excess, limits.backoff_max)) if excess >= 0 else None
    session.execute(
        update(SignInFailure)
        .where(SignInFailure.account == account, SignInFailure.address == address)
        .values(next_attempt_at=waits_until)
    )
    if user is not None:
        session.execute(
            update(User)
            .where(User.id == user.id)
            .values(failed_logins=User.failed_logins + 1, last_failed_login_at=now),
            execution_options={"synchronize_session": False},
        )
        if excess == 0:
            session.add(
                AccountEvent(
                    user_id=user.id,
                    kind="guessing",
                    address=address,
                    at=now,
                    details={"failures_from_address": failures},
                )
            )
    session.execute(delete(SignInFailure).where(SignInFailure.last_failed_at < now - timedelta(days=1)))


def _count_failure(session: Session, account: str, address: str, now: datetime, window: int) -> int:
    """One more failure for the pair (a streak whose last failure, or the end of the wait it was given,
    is older than window starts again from one); return the count."""
    table = SignInFailure.__table__
    insert = (postgresql if session.get_bind().dialect.name == "postgresql" else sqlite).insert
    since = now - timedelta(seconds=window)
    recent = or_(table.c.last_failed_at >= since, table.c.next_attempt_at >= since)
    statement = (
        insert(table)
        .values(account=account, address=address, failures=1, last_failed_at=now)
        .on_conflict_do_update(
            index_elements=[table.c.account, table.c.address],
            set_={"failures": case((recent, table.c.failures + 1), else_=1), "last_failed_at": now},
        )
        .returning(table.c.failures)
    )
    return session.execute(statement).scalar_one()
