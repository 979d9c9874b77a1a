"""Rate limits in the database, so every web worker counts the same attempts.

A fixed window per key: "signin:account:<name>", "signin:address:<ip>", "token:address:<ip>",
"link:address:<ip>". The count is advanced atomically (INSERT ... ON CONFLICT DO UPDATE ...
RETURNING), so concurrent attempts are all counted.
"""

from datetime import datetime

from sqlalchemy import ScalarSelect, bindparam, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ...errors import TooManyRequests
from ...models import ThrottleHit

# Windows older than this are deleted when a key opens a new window.
KEEP_SECONDS = 86400


def _window(now: datetime, seconds: int) -> int:
    epoch = int(now.timestamp())
    return epoch - epoch % seconds


# count() as a scalar subquery, to be read in the same statement as what it guards, with the parameters
# count_parameters gives (a statement built once: SQLAlchemy's compiled cache serves every request).
COUNT: ScalarSelect[int] = select(
    func.coalesce(
        select(ThrottleHit.count)
        .where(
            ThrottleHit.key == bindparam("throttle_key", type_=ThrottleHit.key.type),
            ThrottleHit.window_start == bindparam("throttle_window", type_=ThrottleHit.window_start.type),
        )
        .scalar_subquery(),
        0,
    )
).scalar_subquery()


def count_parameters(key: str, window_seconds: int, now: datetime) -> dict:
    """The parameters of COUNT for key's current window."""
    return {"throttle_key": key, "throttle_window": _window(now, window_seconds)}


def count(session: Session, key: str, window_seconds: int, now: datetime) -> int:
    """Attempts recorded for key in the current window."""
    return session.scalar(select(COUNT), count_parameters(key, window_seconds, now)) or 0


def hit(session: Session, key: str, window_seconds: int, now: datetime) -> int:
    """Record one attempt for key; return the window's count including it."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    table = ThrottleHit.__table__
    start = _window(now, window_seconds)
    stmt = (
        dialect.insert(table)
        .values(key=key, window_start=start, count=1)
        .on_conflict_do_update(index_elements=[table.c.key, table.c.window_start], set_={"count": table.c.count + 1})
        .returning(table.c.count)
    )
    value = session.execute(stmt).scalar_one()
    if value == 1:
        session.execute(delete(ThrottleHit).where(ThrottleHit.window_start < start - KEEP_SECONDS))
    return value


def retry_after(now: datetime, window_seconds: int) -> int:
    return window_seconds - (int(now.timestamp()) - _window(now, window_seconds))


def refuse_if_over(session: Session, key: str, limit: int, window_seconds: int, now: datetime, what: str) -> None:
    """Raise TooManyRequests (429, with Retry-After) when key already spent its attempts."""
    refuse_over(count(session, key, window_seconds, now), limit, window_seconds, now, what)


def refuse_over(attempts: int, limit: int, window_seconds: int, now: datetime, what: str) -> None:
    """Raise TooManyRequests (429, with Retry-After) when attempts reached limit."""
    if attempts >= limit:
        wait = retry_after(now, window_seconds)
        raise TooManyRequests(f"too many {what}; try again in {wait} s", {"retry_after_seconds": wait})
