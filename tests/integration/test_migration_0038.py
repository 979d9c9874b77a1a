"""Migration 0038 masks a signed link's token kept bare in a failure ("unknown token eyJ..."), which 0033's masking
knew only inside a /links/ url or as a JSON member; a failure quoting none is left as it is."""

import sqlalchemy as sa
from sqlalchemy import create_engine

from tests.databases import filled_row
from tracker import migrate
from tracker.services.engine.links import LinkSigner

INCIDENT = {
    "reference": "INC-OLD-00001", "reporting_unit": "Test unit", "domain": "air", "category": "unsafe_intercept",
    "precedence": "R", "escalation_risk": "near_routine", "status": "open", "narrative": "filed", "platforms": [],
    "ladder": {},
}  # fmt: skip


def test_a_token_quoted_bare_in_a_kept_failure_is_masked(database_at):
    token = LinkSigner("a-key-of-the-test", 3600).issue("ack", incident=1, channel=1)
    url = database_at("0037")
    engine = create_engine(url)
    try:
        tables = sa.MetaData()
        incidents, notifications = (
            sa.Table(name, tables, autoload_with=engine) for name in ("incidents", "notifications")
        )
        errors = [f"HTTP 404 unknown token {token}", "HTTP 503 Service Unavailable: try later"]
        with engine.begin() as connection:
            incident = connection.execute(
                incidents.insert().values(filled_row(incidents, INCIDENT))
            ).inserted_primary_key[0]
            for error in errors:
                row = {"incident_id": incident, "kind": "notified", "step": 1, "loop": 0, "status": "dead"}
                connection.execute(
                    notifications.insert().values(filled_row(notifications, row | {"last_error": error}))
                )
        migrate.upgrade(url, "0038")
        with engine.connect() as connection:
            kept = (
                connection.execute(sa.select(notifications.c.last_error).order_by(notifications.c.id)).scalars().all()
            )
        assert kept == ["HTTP 404 unknown token …", errors[1]], kept
    finally:
        engine.dispose()
