"""The bare baseline for the filing benchmark: Flask + SQLAlchemy inserting the same payload.

Same server (gunicorn, config/gunicorn.conf.py, 2 sync workers), same database, one table, one
INSERT per request, no authentication, routing, ladder or timeline: the floor the tracker's
filing is measured against.
"""

import json
import os

from flask import Flask, request
from sqlalchemy import JSON, Column, DateTime, Integer, MetaData, String, Table, Text, create_engine, func, insert

metadata = MetaData()
reports = Table(
    "baseline_reports",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("occurred_at", String(40)),
    Column("reporting_unit", String(120)),
    Column("domain", String(16)),
    Column("category", String(64)),
    Column("precedence", String(1)),
    Column("narrative", Text),
    Column("payload", JSON),
    Column("created_at", DateTime(timezone=True), server_default=func.now()),
)

engine = create_engine(os.environ["BASELINE_DATABASE_URL"], pool_pre_ping=True)
metadata.create_all(engine)
engine.dispose()  # no connection may be shared across the forked workers
app = Flask(__name__)


@app.post("/incidents")
def file_report():
    body = request.get_json()
    with engine.begin() as connection:
        new_id = connection.execute(
            insert(reports)
            .values(
                occurred_at=body["occurred_at"],
                reporting_unit=body["reporting_unit"],
                domain=body["domain"],
                category=body["category"],
                precedence=body["precedence"],
                narrative=body.get("narrative", ""),
                payload=body,
            )
            .returning(reports.c.id)
        ).scalar_one()
    return json.dumps({"id": new_id}), 201, {"Content-Type": "application/json"}
