"""A signed handover's seal covers the log of the watch handed over, on a real database (the sweep hashes the
lines as the database gives them back): a line changed, deleted or added afterwards is named by verify, a line
logged late in the watch that followed breaks nothing, and a handover sealed before the seal covered the log
still verifies as it did."""

import hashlib
import json
from datetime import UTC, timedelta

import pytest
from alembic import command
from sqlalchemy import String, create_engine, delete, insert, select, type_coerce, update
from sqlalchemy.exc import DBAPIError

from tests.audit_support import cli, is_sqlite, tamper
from tests.exchange_support import api
from tests.support import file_incident
from tracker import jobs
from tracker.db import engine_of, session_scope
from tracker.migrate import alembic_config, current, head
from tracker.models import AuditSeal, Handover, WatchEntry
from tracker.services.review import audit, handover_seals, sealed_logs

# The seal reads the lines back from the database and verify reads them again: either engine.
pytestmark = pytest.mark.both_databases

ENTRIES, SEALS, HANDOVERS = WatchEntry.__table__, AuditSeal.__table__, Handover.__table__


def handed_over(client, world) -> dict:
    """duty keeps a watch and logs three lines in it (one about an incident, one back-timed to the watch's
    start), then hands it to liaison, who signs for it."""
    reference = file_incident(client, world)["reference"]
    watch = api(client, world, "POST", "/watches", {}, who="duty", status=201)
    path = f"/watches/{watch['id']}/entries"
    lines = [
        {"text": "Hotline test with Eastland MoD: clear both ways"},
        {"text": "Eastland's attaché called about the intercept", "incident": reference},
        {"text": "Radar picture taken over from the day desk", "at": watch["starts_at"]},
    ]
    ids = [api(client, world, "POST", path, line, who="duty", status=201)["id"] for line in lines]
    body = {"incoming": "liaison", "notes": "Eastland's hotline is slow to answer."}
    prepared = api(client, world, "POST", f"/watches/{watch['id']}/handover", body, who="duty", status=201)
    api(client, world, "POST", f"/handovers/{prepared['id']}/sign", {"digest": prepared["digest"]}, who="liaison")
    return {"watch": watch, "handover": prepared["id"], "entries": ids, "reference": reference}


def seal_of(app, handover_id: int) -> AuditSeal:
    with session_scope(app) as session:
        seal = session.scalar(select(AuditSeal).where(AuditSeal.handover_id == handover_id))
        session.expunge(seal)
        return seal


def to_watch_of(app, handover_id: int) -> int:
    with session_scope(app) as session:
        return session.get(Handover, handover_id).to_watch_id


def write(app, statement) -> int | None:
    """Change watch_entries or handovers behind the application's back (they have no trigger in the way);
    return the id of the row inserted, if that is the change."""
    engine = create_engine(app.config["DATABASE_URL"])
    try:
        with engine.begin() as connection:
            result = connection.execute(statement)
            if result.is_insert:
                return result.inserted_primary_key[0]
            assert result.rowcount == 1
            return None
    finally:
        engine.dispose()


def test_the_seal_covers_the_log_as_signed_and_a_line_logged_late_breaks_nothing(app, client, world):
    """A handover's seal covered the brief and notes, not the lines logged during the watch."""
    given = handed_over(client, world)
    watch = given["watch"]
    # The watch's log closed with the signature: a line missed is logged in the watch that followed it.
    closed = client.post(
        f"/api/v1/watches/{watch['id']}/entries", json={"text": "One more thing"}, headers=world.auth("duty")
    )
    assert closed.status_code == 409, closed.get_json()
    incoming = to_watch_of(app, given["handover"])
    late = {"text": "Missed: Eastland rang at the start of the last watch", "at": watch["starts_at"]}
    late_id = api(client, world, "POST", f"/watches/{incoming}/entries", late, who="liaison", status=201)["id"]
    jobs.sweep(app)

    seal = seal_of(app, given["handover"])
    assert [entry_id for entry_id, _ in seal.watch_log] == given["entries"], "its own lines, not the late one"
    with session_scope(app) as session:
        lines = [session.get(WatchEntry, entry_id) for entry_id in given["entries"]]
        assert seal.watch_log == [[line.id, sealed_logs.entry_digest(line)] for line in lines]
    intact = cli(app, "verify")
    assert (intact.exit_code, intact.output.splitlines()[0]) == (
        0,
        f"audit chain intact: {seal.seq} seals over 1 incident, 0 events not yet sealed",
    ), intact.output

    # The late line is the next handover's to seal: liaison hands over to the supervisor.
    prepared = api(
        client, world, "POST", f"/watches/{incoming}/handover", {"incoming": "supervisor"}, who="liaison", status=201
    )
    api(client, world, "POST", f"/handovers/{prepared['id']}/sign", {"digest": prepared["digest"]}, who="supervisor")
    jobs.sweep(app)
    assert [entry_id for entry_id, _ in seal_of(app, prepared["id"]).watch_log] == [late_id]
    assert cli(app, "verify").exit_code == 0


@pytest.mark.parametrize(
    "change, line, problem, says",
    [
        ("text", 0, "entry_changed", "changed after it was sealed (sealed as "),
        ("author", 1, "entry_changed", "changed after it was sealed (sealed as "),
        ("at", 2, "entry_changed", "changed after it was sealed (sealed as "),
        ("incident", 1, "entry_changed", "changed after it was sealed (sealed as "),
        ("deleted", 1, "entry_deleted", "is gone, deleted from watch_entries or moved to another watch"),
        ("moved", 0, "entry_deleted", "is gone, deleted from watch_entries or moved to another watch"),
        ("added", None, "entry_added", "was not in it when the handover was sealed"),
        ("unreadable", 2, "entry_changed", "into a time that cannot be read"),
    ],
)
def test_a_line_of_the_log_handed_over_changed_deleted_or_added_is_named(
    app, client, world, change, line, problem, says
):
    """A line of a handed-over watch's log edited, deleted or written in the database: verify said intact."""
    if change == "unreadable" and not is_sqlite(app):
        pytest.skip("PostgreSQL keeps no text in a column of times")
    given = handed_over(client, world)
    jobs.sweep(app)
    seal = seal_of(app, given["handover"])
    assert cli(app, "verify").exit_code == 0
    entry_id = None if line is None else given["entries"][line]
    row = ENTRIES.c.id == entry_id
    with session_scope(app) as session:
        at = session.get(WatchEntry, given["entries"][2]).at
    statements = {
        "text": update(ENTRIES).where(row).values(text="Hotline test with Eastland MoD: no answer"),
        "author": update(ENTRIES).where(row).values(author="supervisor"),
        "at": update(ENTRIES).where(row).values(at=at - timedelta(hours=1)),
        "incident": update(ENTRIES).where(row).values(incident_id=None),
        "deleted": delete(ENTRIES).where(row),
        "moved": update(ENTRIES).where(row).values(watch_id=to_watch_of(app, given["handover"])),
        "unreadable": update(ENTRIES).where(row).values(at=type_coerce("the day before", String)),
        "added": insert(ENTRIES).values(
            watch_id=given["watch"]["id"], at=at, author="duty", text="Eastland agreed to stand off: logged later"
        ),
    }
    entry_id = write(app, statements[change]) or entry_id

    result = cli(app, "verify")
    assert result.exit_code == 1, result.output
    named = f"audit chain broken at handover {given['handover']}, seal {seal.seq}: line {entry_id} of the log of "
    assert result.output.startswith(named + "the watch handed over "), result.output
    assert says in result.output, result.output
    broken = client.get("/api/v1/audit/verify", headers=world.auth("admin")).get_json()["broken"]
    found = (broken["seq"], broken["handover_id"], broken["entry_id"], broken["problem"])
    assert found == (seal.seq, given["handover"], entry_id, problem), broken
    sealed = dict(map(tuple, seal.watch_log))
    if problem != "entry_added":
        assert broken["expected"] == sealed[entry_id], "the line's digest as sealed"
    assert cli(app, "verify", "--incident", given["reference"]).exit_code == 0, "a handover is no incident's"


@pytest.mark.parametrize("change", ["forgotten", "line taken out", "no JSON", "no log, hash and all"])
def test_the_log_kept_in_the_seal_is_covered_by_its_hash(app, client, world, change):
    """The seal's list of lines edited to match the log (a line deleted and taken out of the list too), or the
    list set to NULL to pass for a seal of before it covered the log: the seal no longer holds. Edited into
    what is no JSON, or into JSON that is no log with the last seal's hash made to match, it is named as such
    rather than failing verify with a traceback."""
    if change == "no JSON" and not is_sqlite(app):
        pytest.skip("PostgreSQL stores only valid JSON in a JSON column")
    given = handed_over(client, world)
    jobs.sweep(app)
    seal = seal_of(app, given["handover"])
    values: dict = {"watch_log": None}
    if change == "line taken out":
        write(app, delete(ENTRIES).where(ENTRIES.c.id == given["entries"][1]))
        values["watch_log"] = [pair for pair in seal.watch_log if pair[0] != given["entries"][1]]
    elif change == "no JSON":
        values["watch_log"] = type_coerce('[[1, "', String)
    elif change == "no log, hash and all":
        with session_scope(app) as session:
            last = audit.head(session)
            handover = session.get(Handover, given["handover"])
            values = {
                "watch_log": {"1": "x"},
                "hash": handover_seals.handover_hash(seal.prev_hash, handover, {"1": "x"}),
            }
        assert last.seq == seal.seq, "the last seal: no seal after it names its hash"
    tamper(app, update(SEALS).where(SEALS.c.seq == seal.seq).values(values))
    result = cli(app, "verify")
    assert result.exit_code == 1, result.output
    said = (
        f"audit chain broken at handover {given['handover']}, seal {seal.seq}: its content changed after it was sealed"
    )
    assert result.output.startswith(said), result.output


def sealed_before_0034(prev_hash: str, handover: Handover) -> str:
    """A handover's seal as the sweep hashed it from 0031 to 0034 (fb481c0), written out here so that a change to
    how such a seal is checked cannot go unseen."""
    times = [
        at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        for at in (handover.prepared_at, handover.since, handover.signed_at)
    ]
    officers = [
        handover.from_watch_id,
        handover.to_watch_id,
        handover.outgoing_officer_id,
        handover.incoming_officer_id,
    ]
    content = [
        prev_hash,
        "handover",
        handover.id,
        *officers,
        handover.notes,
        *times,
        json.loads(json.dumps(handover.brief)),
    ]
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def test_a_handover_sealed_before_the_seal_covered_its_log_verifies_as_before(app, client, world):
    """Seals made before migration 0034 keep no log: they are hashed as they were, and are still checked."""
    given = handed_over(client, world)
    with session_scope(app) as session:
        last = audit.head(session) or audit.ChainHead(0, audit.GENESIS, None)
        handover = session.get(Handover, given["handover"])
        old = {"seq": last.seq + 1, "handover_id": handover.id, "prev_hash": last.hash}
        session.execute(insert(AuditSeal).values(old | {"hash": sealed_before_0034(last.hash, handover)}))
    jobs.sweep(app)  # the events after it
    assert seal_of(app, given["handover"]).watch_log is None
    intact = cli(app, "verify")
    assert intact.exit_code == 0, intact.output

    # Its log was never sealed, so a line edited is not seen: what such a seal covered is checked as before.
    write(app, update(ENTRIES).where(ENTRIES.c.id == given["entries"][0]).values(text="Nothing to report"))
    assert cli(app, "verify").exit_code == 0
    write(app, update(HANDOVERS).where(HANDOVERS.c.id == given["handover"]).values(notes="Nothing to hand over."))
    result = cli(app, "verify")
    assert result.exit_code == 1 and "its content changed after it was sealed" in result.output, result.output


def test_the_migration_keeps_older_seals_and_will_not_drop_a_sealed_log(app, client, world):
    """0034 adds the seal's log in place: the append-only triggers stay; going back is refused once a seal
    keeps a log its hash covers."""
    given = handed_over(client, world)
    jobs.sweep(app)
    url = app.config["DATABASE_URL"]
    engine_of(app).dispose()
    command.downgrade(alembic_config(url), "0034")  # the later ones first: SQLite runs each in its own transaction
    with pytest.raises(RuntimeError, match="handovers are sealed with their watch's log"):
        command.downgrade(alembic_config(url), "0033")
    assert current(url) == "0034"
    command.upgrade(alembic_config(url), "head")
    assert current(url) == head()
    assert cli(app, "verify").exit_code == 0
    seal = seal_of(app, given["handover"])
    with pytest.raises(DBAPIError, match="append-only"):
        with session_scope(app) as session:
            session.execute(update(AuditSeal).where(AuditSeal.seq == seal.seq).values(watch_log=[]))
