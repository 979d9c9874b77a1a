"""What the audit chain hashes records with: times to the microsecond in UTC, content as canonical JSON; and
how verify reads a stored value back that may have been edited into what its column cannot read."""

import hashlib
import json
from datetime import UTC, datetime


def format_at(at: datetime) -> str:
    """ISO 8601 in UTC, always with microseconds (SQLite and PostgreSQL both keep them)."""
    if at.tzinfo is None:
        raise ValueError("naive datetime given; timeline times are aware UTC")
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def as_stored(value) -> object:
    """value as the database gives JSON back (tuples become lists, integer keys strings)."""
    return json.loads(json.dumps(value))


def canonical_json(content: list) -> bytes:
    """UTF-8 JSON with sorted keys and no spaces: the same bytes however the content was read."""
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8", "surrogatepass")  # a lone surrogate from a JSON body must not fail the seal


def sha256_of(content: list) -> str:
    """The hex SHA-256 of content's canonical JSON."""
    return hashlib.sha256(canonical_json(content)).hexdigest()


# A stored value verify could not read as its column's type: SQLite keeps any text in any column, and one time
# or JSON edited into something else would otherwise fail the whole batch's read, and verify with a traceback
# that names no seal.
UNREADABLE = object()


def read_back(column, value, dialect) -> object:
    """value as the driver gave it (the column read raw), decoded as column's type would; UNREADABLE if it fails."""
    process = column.type.dialect_impl(dialect).result_processor(dialect, None)
    if process is None or value is None:
        return value
    try:
        return process(value)
    except (TypeError, ValueError):  # not JSON, not an ISO time (or not text at all)
        return UNREADABLE
