"""Migration 0033 (0033_failures_masked) masks the failures kept before a receiver's answer was masked (fc0f6a1): a
message's last error and each attempt's, a dead letter's text, HTML part and facts, a check's detail and a sweep's
error lose the signed link and the "token" they quote; a text holding none, and a call to act's own link, stay."""

import pytest
import sqlalchemy as sa
from sqlalchemy import create_engine

from tests.databases import filled_row
from tracker import migrate

pytestmark = pytest.mark.both_databases  # a JSON column, keyed batches, and an UPDATE per row on either engine

LINK, TOKEN = "https://tracker.example/links/ack/eyJsaW5rIjoxfQ.SIGNED1", "eyJsaW5rIjoyfQ.SIGNED2"
# A receiver refusing our webhook body, quoting it: what delivery kept before fc0f6a1.
QUOTED = f'HTTP 400 refused: {{"acknowledge": {{"token": "{TOKEN}", "url": "{LINK}"}}}}'
MASKED = 'HTTP 400 refused: {"acknowledge": {"token": "…", "url": "https://tracker.example/links/ack/…"}}'
PLAIN = "HTTP 503 Service Unavailable: try later"
# More failed messages than one batch reads, the last with a secret: a batch after the first is masked too.
MANY = 501
INCIDENT = {
    "reference": "INC-OLD-00001", "reporting_unit": "Test unit", "domain": "air", "category": "unsafe_intercept",
    "precedence": "R", "escalation_risk": "near_routine", "status": "open", "narrative": "filed", "platforms": [],
    "ladder": {},
}  # fmt: skip


def message(incident_id: int, kind: str, **given) -> dict:
    return {"incident_id": incident_id, "kind": kind, "step": 1, "loop": 0, "status": "dead", "subject": "s"} | given


def test_failures_kept_before_masking_are_masked_and_others_left_as_they_are(database_at):
    url = database_at("0032")
    engine = create_engine(url)
    try:
        tables = sa.MetaData()
        names = ("incidents", "notifications", "delivery_attempts", "job_runs", "channel_checks", "contact_channels")
        incidents, notifications, attempts, job_runs, checks, channels = (
            sa.Table(name, tables, autoload_with=engine) for name in names
        )
        with engine.begin() as connection:
            incident_id = connection.execute(
                incidents.insert().values(filled_row(incidents, INCIDENT))
            ).inserted_primary_key[0]
            line = {"name": "L1", "level": 1, "transport": "webhook", "address": "http://x/in", "health": "ok"}
            channel_id = connection.execute(channels.insert().values(filled_row(channels, line))).inserted_primary_key[
                0
            ]
            ids = {}
            rows = {
                "quoted": message(incident_id, "notified", body=f"Acknowledge: {LINK}", last_error=QUOTED),
                # A call to act's own link, in its text and facts, is what it is sent with: never masked.
                "plain": message(incident_id, "notified", body=f"Acknowledge: {LINK}", last_error=PLAIN)
                | {"payload": {"acknowledge": {"token": TOKEN, "url": LINK}}},
                "dead letter": message(
                    incident_id,
                    "dead_letter",
                    status="pending",
                    body=f"DEAD LETTER\nLast error: {QUOTED}\n",
                    html=f"<p>Last error: {QUOTED.replace(chr(34), '&#34;')}</p>",
                    payload={"event": "incident.dead_letter", "failed_error": QUOTED, "page": {"url": "https://p/1"}},
                ),
                "dead letter of nothing secret": message(
                    incident_id,
                    "dead_letter",
                    body=f"DEAD LETTER\nLast error: {PLAIN}\n",
                    html=f"<p>Last error: {PLAIN}</p>",
                    payload={"event": "incident.dead_letter", "failed_error": PLAIN},
                ),
            }
            for name, row in rows.items():
                filled = filled_row(notifications, row)
                ids[name] = connection.execute(notifications.insert().values(filled)).inserted_primary_key[0]
            many = [
                filled_row(notifications, message(incident_id, "escalated", step=2, loop=n, body="b", last_error=PLAIN))
                for n in range(MANY - 1)
            ]
            connection.execute(notifications.insert(), many)
            last = message(incident_id, "escalated", step=3, loop=0, body="b", last_error=f"{PLAIN}: {LINK}")
            ids["last"] = connection.execute(
                notifications.insert().values(filled_row(notifications, last))
            ).inserted_primary_key[0]
            tried = {"notification_id": ids["quoted"], "transport": "webhook", "outcome": "permanent", "latency_ms": 5}
            connection.execute(attempts.insert(), [filled_row(attempts, tried | {"error": e}) for e in (QUOTED, PLAIN)])
            connection.execute(
                job_runs.insert(),
                [
                    {"name": "sweep", "last_error": f"deliver: IntegrityError [parameters: ('{QUOTED}',)]"},
                    {"name": "deliver", "last_error": PLAIN},
                    {"name": "beat", "last_error": None},
                ],
            )
            check = {"channel_id": channel_id, "requested_by": "scheduler", "outcome": "failed"}
            connection.execute(
                checks.insert(),
                [
                    filled_row(checks, check | {"detail": f"not delivered: {QUOTED}"}),
                    filled_row(checks, check | {"detail": "not confirmed in time"}),
                ],
            )
        with engine.connect() as connection:
            before = {row.id: row for row in connection.execute(sa.select(notifications))}

        migrate.upgrade(url, "0033")
        with engine.connect() as connection:
            after = {row.id: row for row in connection.execute(sa.select(notifications))}
            attempt_errors = connection.execute(sa.select(attempts.c.error).order_by(attempts.c.id)).scalars().all()
            job_errors = dict(connection.execute(sa.select(job_runs.c.name, job_runs.c.last_error)).all())
            details = connection.execute(sa.select(checks.c.detail).order_by(checks.c.id)).scalars().all()
    finally:
        engine.dispose()
    assert migrate.current(url) == "0033"

    assert after[ids["quoted"]].last_error == MASKED, after[ids["quoted"]]
    assert after[ids["last"]].last_error == f"{PLAIN}: https://tracker.example/links/ack/…", "a batch after the first"
    letter = after[ids["dead letter"]]
    assert letter.body == f"DEAD LETTER\nLast error: {MASKED}\n", letter.body
    assert letter.payload == {"event": "incident.dead_letter", "failed_error": MASKED, "page": {"url": "https://p/1"}}
    assert letter.html is None, "the HTML part quoting it escaped is left for the mail to frame the masked text"
    assert attempt_errors == [MASKED, PLAIN]
    assert job_errors == {
        "sweep": f"deliver: IntegrityError [parameters: ('{MASKED}',)]",
        "deliver": PLAIN,
        "beat": None,
    }
    assert details == [f"not delivered: {MASKED}", "not confirmed in time"]
    masked_ids = {ids["quoted"], ids["dead letter"], ids["last"]}
    untouched = {i: tuple(row) for i, row in after.items() if i not in masked_ids}
    assert untouched == {i: tuple(row) for i, row in before.items() if i not in masked_ids}, "no secret: untouched"
    for row in after.values():
        for text in (row.last_error, row.body, row.html, str(row.payload)):
            assert "SIGNED" not in (text or "") or row.kind == "notified", row
