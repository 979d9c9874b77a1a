"""Keys the tracker makes for itself and keeps in the database, each for one purpose.

The names of failed sign-ins were digested under a key derived from SECRET_KEY, so a new SECRET_KEY started every
count again: an operator rotating it gave a guesser fresh attempts and lifted the lockouts they had seen. A key
kept beside the counts lives and goes with them (a backup carries both, a new database starts both), whatever
SECRET_KEY does. It is made on its first use, not by a migration: a migration run offline (alembic --sql) writes
its values into the script it prints.

What it keys is safe from whoever reads those tables alone (a report, a copy of one table): a password typed as a
name cannot be tested against its digest. A copy of the whole database holds the key too, as it holds the password
hashes; the counts are kept a day.
"""

import secrets

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ...models import OwnKey

SIGN_IN_NAMES = "sign-in names"


def key_for(session: Session, purpose: str) -> bytes:
    """The key kept for purpose, made (32 random bytes) in session's transaction if there is none. Of two
    transactions making it at once, one inserts and the other, waiting for it, inserts nothing and reads its key
    (INSERT ... ON CONFLICT DO NOTHING); if the first rolls back, so does its key, and nothing was counted under it."""
    query = select(OwnKey.key).where(OwnKey.purpose == purpose)
    if (key := session.scalar(query)) is not None:
        return key
    table = OwnKey.__table__
    insert = (postgresql if session.get_bind().dialect.name == "postgresql" else sqlite).insert
    made = insert(table).values(purpose=purpose, key=secrets.token_bytes(32))
    session.execute(made.on_conflict_do_nothing(index_elements=[table.c.purpose]))
    return session.scalars(query).one()
