"""Keys the tracker makes for itself and keeps in the database, each for one purpose.

The names of failed sign-ins were digested under a key derived from SECRET_KEY, so a new SECRET_KEY started every
count again: an operator rotating it gave a guesser fresh attempts and lifted the lockouts they had seen. A key
kept beside the counts lives and goes with them (a backup carries both, a new database starts both), whatever
SECRET_KEY does. It is made on its first use, not by a migration: a migration run offline (alembic --sql) writes
its values into the script it prints.

What it keys is safe from whoever reads those tables alone (a report, a copy of one table): a password typed as a
name cannot be tested against its digest. A copy of the whole database holds the key too, as it holds the password
hashes; the counts are kept a day.

A key never changes once made, so each process reads it once per engine (every sign-in and password check asked
for it again). What is kept is only a key read as committed, and it goes when the engine is disposed: a restore
(cli/backup.py) disposes the app's engine before and after it replaces the database, which may bring a key of its
own or none.
"""

import secrets
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, event, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, SessionTransaction

from ...models import OwnKey

SIGN_IN_NAMES = "sign-in names"

# The keys read per engine, by purpose; an engine that goes takes its keys with it.
_read: WeakKeyDictionary[Engine, dict[str, bytes]] = WeakKeyDictionary()
# session.info's entry: the transaction that made a key, by purpose (not committed yet while it runs).
_MADE = "own_keys.made"


def key_for(session: Session, purpose: str) -> bytes:
    """The key kept for purpose, made (32 random bytes) in session's transaction if there is none. Of two
    transactions making it at once, one inserts and the other, waiting for it, inserts nothing and reads its key
    (INSERT ... ON CONFLICT DO NOTHING); if the first rolls back, so does its key, and nothing was counted under it.
    A key read as committed is kept until the engine is disposed, and not read again."""
    engine = _engine(session)
    if (key := _read.get(engine, {}).get(purpose)) is not None:
        return key
    query = select(OwnKey.key).where(OwnKey.purpose == purpose)
    if (key := session.scalar(query)) is not None:
        made: dict[str, SessionTransaction | None] = session.info.get(_MADE, {})
        if made.get(purpose) is not session.get_transaction():  # another transaction's: committed
            _keep(engine, purpose, key)
        return key
    table = OwnKey.__table__
    insert = (postgresql if engine.dialect.name == "postgresql" else sqlite).insert
    row = insert(table).values(purpose=purpose, key=secrets.token_bytes(32))
    session.execute(row.on_conflict_do_nothing(index_elements=[table.c.purpose]))
    session.info.setdefault(_MADE, {})[purpose] = session.get_transaction()
    return session.scalars(query).one()


def _engine(session: Session) -> Engine:
    bind = session.get_bind()
    return bind if isinstance(bind, Engine) else bind.engine


def _keep(engine: Engine, purpose: str, key: bytes) -> None:
    if not event.contains(engine, "engine_disposed", _forget):
        event.listen(engine, "engine_disposed", _forget)
    _read.setdefault(engine, {})[purpose] = key


def _forget(engine: Engine) -> None:
    """Drop the keys read through engine: it was disposed, as a restore does around replacing its database."""
    _read.pop(engine, None)
