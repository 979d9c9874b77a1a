"""The audit chain's head kept outside the database (the anchor): written after each commit of new
seals, checked by `flask --app wsgi audit verify`, set by `flask --app wsgi restore`.

A copy of the database that lacks its newest commits (a SQLite file copied without its -wal file,
an older backup put back by hand) holds a shorter chain than the one the anchor saw, and verify says
so; a chain recomputed from some seal on no longer has the anchor's hash there. The anchor only
ever names a committed seal: it may lag behind the database (another process sealed since), never
run ahead of it, unless the database lost what was committed.

Where it is kept: AUDIT_ANCHOR_FILE; else beside a SQLite database file (<file>.audit-anchor);
else in the instance folder, named after the PostgreSQL database.
"""

import json
import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path

from sqlalchemy.engine import make_url

from ..services.review.audit import ChainHead
from ..timeutil import isoformat, utcnow
from . import durable


def path_for(config: Mapping, instance_path: str) -> Path | None:
    """Where the anchor of the configured database is kept (None: an in-memory database has none)."""
    if config.get("AUDIT_ANCHOR_FILE"):
        return Path(config["AUDIT_ANCHOR_FILE"])
    url = make_url(config["DATABASE_URL"])
    if url.get_backend_name() == "sqlite":
        return Path(f"{url.database}.audit-anchor") if url.database not in (None, "", ":memory:") else None
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", url.database or "postgres")
    return Path(instance_path) / f"audit-anchor-{name}.json"


def read(path: Path | None) -> ChainHead | None:
    """The recorded head, or None when there is none; ValueError when the file is not an anchor."""
    if path is None:
        return None
    try:
        data = json.loads(path.read_text())
        handover = data.get("handover_id")  # the head seals a signed handover (0031), not an event
        if handover is not None:
            return ChainHead(int(data["seq"]), str(data["hash"]), None, int(handover))
        return ChainHead(int(data["seq"]), str(data["hash"]), int(data["event_id"]))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"the audit anchor {path} cannot be read ({exc}): delete it or restore it") from exc


def body(head: ChainHead) -> dict:
    """head as an anchor or a backup's manifest records it (handover_id only when it seals a handover)."""
    recorded = {"seq": head.seq, "hash": head.hash, "event_id": head.event_id}
    return recorded if head.handover_id is None else {**recorded, "handover_id": head.handover_id}


def write(path: Path | None, head: ChainHead) -> None:
    """Record head, atomically (a reader sees the old anchor or the new one, never half of one)."""
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    recorded = {**body(head), "recorded_at": isoformat(utcnow())}
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w") as out:
            json.dump(recorded, out)
        durable.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def remove(path: Path | None) -> None:
    """Forget the anchor (a database made afresh starts a chain of its own)."""
    if path is not None:
        path.unlink(missing_ok=True)
