"""A transaction's lock on a name, for what no unique index can hold: "the same desk in any case", "the same
exercise under another spelling", "a line named as another is, folded". Two transactions taking the same name
take turns until the first ends.

PostgreSQL: a transaction-scoped advisory lock on the name's hash. SQLite: BEGIN IMMEDIATE gave the transaction
the database's only write lock already (tracker.db), so nothing more is needed.
"""

import hashlib

from sqlalchemy import BigInteger, cast, func, select
from sqlalchemy.orm import Session


def hold(session: Session, name: str) -> None:
    """Hold the lock on name until this transaction ends (waiting for one that holds it)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
    session.execute(select(func.pg_advisory_xact_lock(cast(key, BigInteger))))
