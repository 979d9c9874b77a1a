"""The floor of a filing for bench_filing: the rows a filing writes, and nothing else.

Same server, database and engine settings as the tracker, and the very statements its filing writes with
(tracker.services.incidents.writing): the bearer token's row looked up by its hash, the incident with its
reference counter in one statement, its first timeline events and outbox rows in another, in one
transaction. What it leaves out is everything else a filing does: no validation, routing, ladder, message
text, throttle or idempotency, no apiflask, webargs or marshmallow, no ORM unit of work. The rows of one real
filing, made at start-up through the tracker's own API, are written again for each request with the
request's position, category and narrative. No filing that writes these rows with these statements can
cost less: its ratio to the bare insert is the ceiling of the tracker's.
"""

import hashlib
import json
import os

import orjson
from flask import Flask, request
from sqlalchemy import text

from tracker import create_app
from tracker.db import build_engine, engine_of
from tracker.models import json_values
from tracker.services.incidents import writing

URL = os.environ["TRACKER_DATABASE_URL"]
TOKEN = text(
    "SELECT t.user_id FROM api_tokens t JOIN users u ON u.id = t.user_id "
    "WHERE t.token_hash = :token_hash AND t.revoked_at IS NULL AND u.active"
)


def _one_filing() -> dict:
    """File the benchmark's report once through the tracker's API; return the rows it wrote, as given to
    writing.insert_incident and writing.insert_rows."""
    rows: dict = {}
    insert_incident, insert_rows = writing.insert_incident, writing.insert_rows

    def incident(session, given, prefix, year):
        rows.update(incident=dict(given), counter=f"{prefix}-{year}")
        return insert_incident(session, given, prefix, year)

    def events_and_messages(session, filed, events, messages):
        rows.update(events=[dict(e) for e in events], messages=[dict(m) for m in messages])
        return insert_rows(session, filed, events, messages)

    tracker = create_app({"DATABASE_URL": URL, "REGION_FILE": os.environ["TRACKER_REGION_FILE"]})
    writing.insert_incident, writing.insert_rows = incident, events_and_messages
    try:
        answer = tracker.test_client().post(
            "/api/v1/incidents",
            json=json.loads(os.environ["BENCH_BODY"]),
            headers={"Authorization": f"Bearer {os.environ['BENCH_TOKEN']}"},
        )
    finally:
        writing.insert_incident, writing.insert_rows = insert_incident, insert_rows
    if answer.status_code != 201:
        raise SystemExit(f"the floor's model filing answered {answer.status_code}: {answer.get_data(as_text=True)}")
    engine_of(tracker).dispose()
    return rows


MODEL = _one_filing()
INCIDENTS = writing._INCIDENTS
engine = build_engine(URL)  # the tracker's settings: pre-ping, UTC, orjson for JSON columns
engine.dispose()  # no connection may be shared across the forked workers
app = Flask(__name__)


@app.post("/incidents")
def file_rows():
    report = request.get_json()
    token_hash = hashlib.sha256(request.headers.get("Authorization", "")[len("Bearer ") :].encode()).hexdigest()
    with engine.begin() as connection:
        user_id = connection.execute(TOKEN, {"token_hash": token_hash}).scalar()
        if user_id is None:
            return "wrong token", 401
        given = {
            **MODEL["incident"],
            "latitude": report["latitude"],
            "longitude": report["longitude"],
            "category": report["category"],
            "narrative": report["narrative"],
            "filed_by_id": user_id,
        }
        parameters = {k: v for k, v in writing.complete(INCIDENTS, given).items() if k not in writing._LATER}
        counter = MODEL["counter"]
        filed = connection.execute(
            writing._counted_insert(), {**parameters, "counter": counter, "prefix": f"{counter}-"}
        ).one()
        events = [writing.complete(writing._EVENTS, {**e, "incident_id": filed.id}) for e in MODEL["events"]]
        messages = [writing.complete(writing._MESSAGES, {**m, "incident_id": filed.id}) for m in MODEL["messages"]]
        written = {
            "events": json_values.dumps(events, writing._plain),
            "messages": json_values.dumps(messages, writing._plain),
        }
        ids = connection.execute(writing._both_statement(), written).all()
    answer = {"id": filed.id, "reference": filed.reference, "rows": len(ids)}
    return orjson.dumps(answer), 201, {"Content-Type": "application/json"}
