"""A marking changed by two people at once: each change keeps what the other committed. A release
withdrawn while someone else raises the classification stays withdrawn (nothing goes to the other
side on a release the marking no longer gives)."""

import pytest
from sqlalchemy import select

from tests.support import file_incident
from tracker.db import session_scope
from tracker.models import EventKind, TimelineEvent, User
from tracker.services.incidents import handling, marking, remarking
from tracker.timeutil import utcnow

pytestmark = pytest.mark.both_databases

MARKINGS = marking.Markings(("UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL"), ("Eastland",))


def user(session, name: str) -> User:
    return session.scalars(select(User).where(User.username == name)).one()


def test_raising_the_classification_keeps_a_release_withdrawn_meanwhile(backend, app, client, world):
    if backend != "postgresql":
        pytest.skip("SQLite lets one writer in at a time: no marking change commits inside another's transaction")
    reference = file_incident(client, world, classification="RESTRICTED", releasable_to=["Eastland"])["reference"]
    with session_scope(app) as raising:
        incident = handling.get_incident(raising, reference)  # the supervisor reads REL TO EASTLAND
        with session_scope(app) as withdrawing:  # meanwhile an admin withdraws the release, and commits
            other = handling.get_incident(withdrawing, reference)
            remarking.change(withdrawing, other, None, [], user(withdrawing, "admin"), utcnow(), MARKINGS)
        remarking.change(raising, incident, "CONFIDENTIAL", None, user(raising, "supervisor"), utcnow(), MARKINGS)
    with session_scope(app) as session:
        incident = handling.get_incident(session, reference)
        assert marking.of(incident) == "CONFIDENTIAL // NOT RELEASABLE"
        changes = session.scalars(
            select(TimelineEvent)
            .where(TimelineEvent.incident_id == incident.id, TimelineEvent.kind == EventKind.MARKING_CHANGED)
            .order_by(TimelineEvent.id)
        )
        assert [(e.details["before"], e.details["after"]) for e in changes] == [
            ("RESTRICTED // REL TO EASTLAND", "RESTRICTED // NOT RELEASABLE"),
            ("RESTRICTED // NOT RELEASABLE", "CONFIDENTIAL // NOT RELEASABLE"),
        ]
