"""A line lost under a running step while one of its incidents is acknowledged, on PostgreSQL: the admin's save held
the line FOR UPDATE and then made the incident's step due; the acknowledgement had updated the incident and wrote its
message to the line, whose foreign key asks the line's KEY SHARE lock. Each waited on the other: a deadlock, one of
them a 500. The line is held FOR NO KEY UPDATE (ladder.count_save, line_checks._claim_pending): the acknowledgement
goes through, and the save's guarded UPDATE finds the incident acknowledged and leaves it."""

import pytest

from tests.pauses import PauseAt, Run
from tests.support import build_world, file_incident
from tracker import jobs
from tracker.db import session_scope
from tracker.models import ContactChannel, EventKind, Incident, IncidentStatus
from tracker.services.incidents import ladder

pytestmark = pytest.mark.both_databases


def test_a_line_deactivated_while_its_incident_is_acknowledged_holds_up_neither(backend, app):
    if backend != "postgresql":
        pytest.skip("SQLite lets one writer in at a time: the two never hold locks at once")
    world = build_world(app, ack_seconds=6 * 3600)
    client = app.test_client()
    reference = file_incident(client, world)["reference"]
    assert jobs.deliver(app) == 1
    transports = app.extensions["tracker.transports"]
    pause = PauseAt(app, r"^\s*UPDATE incidents SET .*decision_step IS NULL")

    def deactivate():
        with session_scope(app) as session:
            line = session.get_one(ContactChannel, world.channels["L1"])
            ladder.save_channel(session, {"active": False}, transports, line)

    admin = Run(deactivate, pause)
    try:
        admin.start()
        pause.wait()  # the line held by the save, the incident not yet touched

        def acknowledge():
            answer = client.post(f"/api/v1/incidents/{reference}/acknowledge", json={}, headers=world.auth("liaison"))
            return answer.status_code, answer.get_json()

        ack = Run(acknowledge)
        ack.start()
        ack.join(5)
        assert not ack.is_alive(), "the acknowledgement waits on the admin's hold of the line"
        assert ack.result()[0] == 200, ack.result()
    finally:
        pause.go()
        admin.join(20)
        pause.remove()
    admin.result()
    with session_scope(app) as session:
        incident = session.query(Incident).filter_by(reference=reference).one()
        assert incident.status is IncidentStatus.ACKNOWLEDGED
        assert not [e for e in incident.events if e.kind is EventKind.FALLBACK], "an acknowledged step made due"
