"""Failures kept before a receiver's answer was masked (fc0f6a1) lose the signed link and credentials they quote.

A webhook receiver refusing a message often quotes it: the acknowledge object of our body ({"token": "..."}) or its
/links/ack/<token> url. Its answer was kept whole as the message's failure (notifications.last_error, shown on the
incident page and in the API to every reader of the incident; delivery_attempts.error), told to the supervisors in
a dead letter (its text, its HTML part and its facts), and, for a communications check, as the check's detail (the
admin pages, `flask lines`, the line's health alert). A sweep's error (job_runs.last_error) is quoted in a watchdog
alert to the supervisors. Each of these texts is masked now as tracker.text.masked masks what is kept since: the
same function, imported (earlier migrations import the tracker's own modules too), so that the rows kept before
and after read alike. A row whose texts mask to themselves is not written.

A dead letter's or watchdog alert's HTML part (kept on the row by the versions that stored it) quotes the failure
with its quotes escaped, which masked() does not read: such a part holding a secret is cleared instead, and the mail
frames the masked text as it does for every message queued since (delivery.Composer.compose).

Timeline events (a dead letter's "error", a watchdog alert's "last_sweep_error") are not rewritten: the audit chain
seals them as kept. The pages, the print and the API mask their texts where they show them (text.masked_in).

No downgrade gives the secrets back: they were never meant to be kept.

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-07
"""

import html
from collections.abc import Iterator

import sqlalchemy as sa
from alembic import op

from tracker.text import masked, masked_in

revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None

# Rows read at a time, by key: a large outbox is never loaded at once.
BATCH = 500
NOTIFICATIONS = sa.table(
    "notifications",
    sa.column("id", sa.Integer),
    sa.column("kind", sa.String),
    sa.column("last_error", sa.Text),
    sa.column("body", sa.Text),
    sa.column("html", sa.Text),
    sa.column("payload", sa.JSON),
)
# The messages to the supervisors that quote a failure: a dead letter (the line's), a watchdog alert (the sweep's).
QUOTING = ("dead_letter", "watchdog")
# Each table's key, and the text in it that may quote a failure.
FAILURES = {
    "delivery_attempts": ("id", sa.Integer, "error"),
    "job_runs": ("name", sa.String, "last_error"),
    "channel_checks": ("id", sa.Integer, "detail"),
}


def upgrade() -> None:
    bind = op.get_bind()
    for name, (key, key_type, text) in FAILURES.items():
        table = sa.table(name, sa.column(key, key_type), sa.column(text, sa.Text))
        for row in _rows(bind, table, table.c[key], table.c[text].is_not(None)):
            if masked(row[text]) != row[text]:
                bind.execute(table.update().where(table.c[key] == row[key]).values({text: masked(row[text])}))
    quoting = NOTIFICATIONS.c.kind.in_(QUOTING)
    for row in _rows(bind, NOTIFICATIONS, NOTIFICATIONS.c.id, sa.or_(NOTIFICATIONS.c.last_error.is_not(None), quoting)):
        changed = _masked_message(row) if row["kind"] in QUOTING else {}
        if row["last_error"] is not None and masked(row["last_error"]) != row["last_error"]:
            changed["last_error"] = masked(row["last_error"])
        if changed:
            bind.execute(NOTIFICATIONS.update().where(NOTIFICATIONS.c.id == row["id"]).values(changed))


def _masked_message(row) -> dict[str, object]:
    """What of a message to the supervisors changes when masked: its text, its facts (every text in them), and
    its HTML part, cleared when the text it shows (unescaped) holds a secret."""
    changed: dict[str, object] = {}
    if masked(row["body"]) != row["body"]:
        changed["body"] = masked(row["body"])
    if row["payload"] is not None and masked_in(row["payload"]) != row["payload"]:
        changed["payload"] = masked_in(row["payload"])
    if row["html"] is not None and masked(html.unescape(row["html"])) != html.unescape(row["html"]):
        changed["html"] = None
    return changed


def _rows(bind, table: sa.TableClause, key: sa.ColumnClause, where) -> Iterator[dict]:
    """The table's rows where where holds, BATCH at a time in the order of key (each batch read whole before
    any of its rows is written)."""
    last = None
    while True:
        query = sa.select(table).where(where).order_by(key).limit(BATCH)
        batch = bind.execute(query if last is None else query.where(key > last)).mappings().all()
        yield from batch
        if len(batch) < BATCH:
            return
        last = batch[-1][key.name]


def downgrade() -> None:
    pass  # the secrets masked are not given back: they were never meant to be kept
