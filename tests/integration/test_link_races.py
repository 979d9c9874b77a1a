"""A signed link used twice at once (a double click, the message opened on two screens): the second use is
refused as a used link, as it is once the first has committed, never as a clash of keys in the database."""

import pytest
from sqlalchemy import select

from tests.locks import Second
from tests.support import file_incident
from tracker import dispatch
from tracker.db import session_scope
from tracker.models import EventKind, Incident, TimelineEvent
from tracker.services.incidents import handling
from tracker.timeutil import utcnow

pytestmark = pytest.mark.both_databases


def test_an_acknowledge_link_used_while_its_first_use_commits_is_refused_as_used(backend, app, client, world):
    if backend != "postgresql":
        pytest.skip("SQLite lets one writer in at a time: the second use begins after the first committed")
    reference = file_incident(client, world)["reference"]
    with session_scope(app) as session:
        incident_id = session.scalar(select(Incident.id).where(Incident.reference == reference))
    token = dispatch.ack_links(app).issue(incident_id, world.channels["L1"], "l1@test.example", utcnow()).token

    def use_again():
        return app.test_client().post("/api/v1/acks", json={"token": token}, headers=world.auth("liaison"))

    with session_scope(app) as first:
        claims = dispatch.signer(app).read("ack", token, utcnow())
        handling.acknowledge_by_link(first, claims, utcnow())  # not committed yet
        second = Second(app, use_again, "the second use")
    answer = second.result()
    assert answer.status_code == 409 and answer.get_json()["error"]["code"] == "link_reused", answer.get_json()
    with session_scope(app) as session:
        acknowledged = session.scalars(select(TimelineEvent).where(TimelineEvent.kind == EventKind.ACKNOWLEDGED))
        assert len(acknowledged.all()) == 1
