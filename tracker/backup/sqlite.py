"""SQLite: copy the database with its online backup API (sqlite3.Connection.backup).

The copy is made in one step, inside one read transaction, so it is the database as of one commit,
with every transaction committed before it, including those still only in the -wal file (a plain
copy of the database file misses those). Writers go on meanwhile: in WAL mode a reader blocks none.
"""

import sqlite3
from contextlib import closing
from pathlib import Path

from .. import migrate
from . import BackupError


def dump(source: Path, target: Path) -> None:
    """Copy the live database at source into the new file target, as one self-contained file."""
    if not source.is_file():
        raise BackupError(f"no SQLite database at {source}")
    with closing(sqlite3.connect(source, timeout=30)) as live, closing(sqlite3.connect(target)) as copy:
        live.backup(copy)  # pages=-1: all in one step, one snapshot
        copy.execute("PRAGMA journal_mode=DELETE")  # no -wal file beside the copy: it is all in one file


def load(copy: Path, target: Path) -> None:
    """Replace the content of the database at target (made if missing) by the copy's, page by page
    under SQLite's own locks, so a -wal file left beside target can never be replayed over it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    migrate.owner_only(f"sqlite:///{target}")  # a target made now is its owner's only, as init-db makes one
    with closing(sqlite3.connect(copy)) as source, closing(sqlite3.connect(target, timeout=30)) as database:
        source.backup(database)
        database.execute("PRAGMA journal_mode=WAL")
