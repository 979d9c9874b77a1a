"""Four eyes under concurrency: an approval names the wording its approver read. A rewording that
commits while the approval is under way is never approved in its place, nor is a text sent while it
is being reworded recorded as something other than what went out."""

import pytest
from sqlalchemy import select

from tests.exchange_support import NOTICE, acknowledged_incident, add_counterpart_line, drafts, open_exchange
from tracker.db import session_scope
from tracker.errors import Conflict, InvalidTransition
from tracker.models import ExchangeMessage, Notification, NotificationKind, OutgoingStatus, User
from tracker.services.exchanges import counterpart, exchanges
from tracker.timeutil import utcnow

pytestmark = pytest.mark.both_databases

REWORDED = "Northmark liaison: we notify an unsafe air intercept at 0930Z. Please confirm receipt."


def user(session, name: str) -> User:
    return session.scalars(select(User).where(User.username == name)).one()


@pytest.fixture
def draft(backend, app, client, world) -> dict:
    """A text to the other side awaiting approval, on PostgreSQL: SQLite lets one writer in at a time, so
    no rewording can commit inside another transaction there."""
    if backend != "postgresql":
        pytest.skip("SQLite lets one writer in at a time: no rewording commits inside another's transaction")
    add_counterpart_line(app, world)
    reference = acknowledged_incident(client, world)
    exchange = open_exchange(client, world, reference, release=False)
    [draft] = drafts(client, world, exchange["id"])
    return draft


def test_a_rewording_committed_during_an_approval_is_not_approved_in_its_place(app, draft):
    now = utcnow()
    with session_scope(app) as approving:
        message = counterpart.get_message(approving, draft["id"])  # the supervisor reads the wording
        assert message.text == NOTICE
        with session_scope(app) as editing:  # meanwhile the drafter rewords it, and commits
            edited = editing.get_one(ExchangeMessage, draft["id"])
            counterpart.edit(editing, edited, REWORDED, None, draft["version"], user(editing, "liaison"), now)
        with pytest.raises(Conflict, match="changed since you read it"):
            counterpart.approve(approving, message, user(approving, "supervisor"), now, draft["version"])
    with session_scope(app) as session:
        stored = session.get_one(ExchangeMessage, draft["id"])
        assert (stored.text, stored.status, stored.approved_by) == (REWORDED, OutgoingStatus.DRAFT, None)


def test_a_text_reworded_while_it_is_being_sent_is_not_sent_on_the_old_approval(app, draft):
    now = utcnow()
    with session_scope(app) as session:
        counterpart.approve(session, session.get_one(ExchangeMessage, draft["id"]), user(session, "supervisor"), now)
    with session_scope(app) as sending:
        message = counterpart.get_message(sending, draft["id"])  # approved, as the liaison reads it
        assert message.status is OutgoingStatus.APPROVED
        with session_scope(app) as editing:
            edited = editing.get_one(ExchangeMessage, draft["id"])
            counterpart.edit(editing, edited, REWORDED, None, edited.version, user(editing, "liaison"), now)
        with pytest.raises(InvalidTransition, match="only an approved message goes out"):
            exchanges.send_message(sending, message, user(sending, "liaison"), now)
    with session_scope(app) as session:
        stored = session.get_one(ExchangeMessage, draft["id"])
        assert (stored.text, stored.status) == (REWORDED, OutgoingStatus.DRAFT)
        assert not session.scalars(select(Notification).where(Notification.kind == NotificationKind.COUNTERPART)).all()
