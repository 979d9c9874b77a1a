"""Human references such as INC-2026-00042, from a per-year counter advanced atomically."""

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ...models import Counter


def next_number(session: Session, name: str) -> int:
    """Advance the named counter by one and return the new value, safely under concurrency."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    table = Counter.__table__
    stmt = dialect.insert(table).values(name=name, value=1)
    stmt = stmt.on_conflict_do_update(index_elements=[table.c.name], set_={"value": table.c.value + 1}).returning(
        table.c.value
    )
    return session.execute(stmt).scalar_one()


def next_reference(session: Session, prefix: str, year: int) -> str:
    return f"{prefix}-{year}-{next_number(session, f'{prefix}-{year}'):05d}"
