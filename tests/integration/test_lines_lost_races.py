"""A line lost under a running step while one of its incidents is acknowledged, on PostgreSQL: the admin's save held
the line FOR UPDATE and then made the incident's step due; the acknowledgement had updated the incident and wrote its
message to the line, whose foreign key asks the line's KEY SHARE lock. Each waited on the other: a deadlock, one of
them a 500. The line is held FOR NO KEY UPDATE (ladder.count_save, line_checks._claim_pending), and a save that loses
the line holds the incidents it may make due before it writes the line's change (lines_lost.hold: a new name, a key,
locks the row whole): the two take turns, neither a deadlock's victim."""

import pytest

from tests.pauses import PauseAt, Run
from tests.support import build_world, file_incident
from tracker import jobs
from tracker.db import session_scope
from tracker.models import ContactChannel, Incident, IncidentStatus
from tracker.services.incidents import ladder

pytestmark = pytest.mark.both_databases


@pytest.mark.parametrize(
    "change",
    [
        {"active": False},
        # A name is a key (its unique index): changing it locks the line's row whole, whatever the save asked for, so
        # the incidents are held first (lines_lost.hold).
        {"active": False, "name": "L1 (retired)"},
    ],
    ids=["deactivated", "deactivated and renamed"],
)
def test_a_line_deactivated_while_its_incident_is_acknowledged_holds_up_neither(backend, app, change):
    if backend != "postgresql":
        pytest.skip("SQLite lets one writer in at a time: the two never hold locks at once")
    world = build_world(app, ack_seconds=6 * 3600)
    client = app.test_client()
    reference = file_incident(client, world)["reference"]
    assert jobs.deliver(app) == 1
    transports = app.extensions["tracker.transports"]
    pause = PauseAt(app, r"^\s*UPDATE contact_channels SET.*\bactive=", after=True)

    def deactivate():
        with session_scope(app) as session:
            line = session.get_one(ContactChannel, world.channels["L1"])
            ladder.save_channel(session, dict(change), transports, line)

    admin = Run(deactivate, pause)

    def acknowledge():
        answer = client.post(f"/api/v1/incidents/{reference}/acknowledge", json={}, headers=world.auth("liaison"))
        return answer.status_code, answer.get_json()

    ack = Run(acknowledge)
    try:
        admin.start()
        pause.wait()  # the line's change written (a new name locks its row whole), not committed
        ack.start()
        ack.join(2)  # it waits on what the save holds: the incident, since the save holds it first
    finally:
        pause.go()
        admin.join(20)
        pause.remove()
    admin.result()  # no deadlock: neither is its victim
    assert ack.result()[0] == 200, ack.result()
    with session_scope(app) as session:
        incident = session.query(Incident).filter_by(reference=reference).one()
        assert incident.status is IncidentStatus.ACKNOWLEDGED
