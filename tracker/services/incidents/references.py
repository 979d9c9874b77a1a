"""Human references such as INC-2026-00042, from a per-year counter advanced atomically."""

from sqlalchemy import Integer, String, bindparam, text
from sqlalchemy.orm import Session

# Advance the counter named :counter by one (created at 1) and return its new value, safely under
# concurrency (PostgreSQL and SQLite alike). Text, not the dialects' insert().on_conflict_do_update(),
# which SQLAlchemy compiles again at every use.
ADVANCE = (
    text(
        "INSERT INTO counters (name, value) VALUES (:counter, 1) "
        "ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 RETURNING value"
    )
    .bindparams(bindparam("counter", type_=String))
    .columns(value=Integer)
)


def next_number(session: Session, name: str) -> int:
    """Advance the named counter by one and return the new value, safely under concurrency."""
    return session.execute(ADVANCE, {"counter": name}).scalar_one()


def next_reference(session: Session, prefix: str, year: int) -> str:
    return f"{prefix}-{year}-{next_number(session, f'{prefix}-{year}'):05d}"
