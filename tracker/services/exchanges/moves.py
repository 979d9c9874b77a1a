"""Whether a call moved an exchange to the state it is in, as the timeline records it (calls.move_by_call):
the exchange panel says so beside the state ("by call 3, not approved"), and the API gives it on the
exchange (moved_by_call), so a request of ours said on a call is never taken for one a second person
approved and sent."""

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import EventKind, Exchange, TimelineEvent

# What changes an exchange's state: a transition, and their receipt of a notified exchange (which a call
# records as a receipt: calls.move_by_call).
MOVES = (EventKind.EXCHANGE_CHANGED, EventKind.RECEIPT_RECORDED)


def last_move_by_call(events: Iterable[TimelineEvent], exchange: Exchange) -> dict | None:
    """The details of the exchange's last change of state (events newest first) when a call made it and the
    exchange is still in the state it moved to; None when it came otherwise (a message approved and sent,
    a reply or receipt recorded other than from a call, the engine) or moved on since."""
    for event in events:
        if event.kind in MOVES and event.details.get("exchange") == exchange.id:
            moved = event.details
            if event.kind is EventKind.RECEIPT_RECORDED and moved.get("from_state") == moved.get("to_state"):
                continue  # a receipt that moved nothing (the exchange was past notified)
            return moved if moved.get("by_call") and moved.get("to_state") == exchange.state.value else None
    return None


def moved_by_call(session: Session, exchange: Exchange, known: dict[int, list] | None = None) -> dict | None:
    """{"call": 3, "approval": "not_approved"} when a call moved the exchange to the state it is in
    ("not_approved": a request of ours said on the call, which no second person approved; "not_needed":
    the other side's act logged from a call), else None.

    `known`, kept for one answer, holds the changes read so far by incident: a list of 500 exchanges reads
    them for every exchange the session holds in one query, not one query an exchange."""
    if known is None:
        known = {}
    if exchange.incident_id not in known:
        wanted = {exchange.incident_id} | {
            held.incident_id for held in list(session.identity_map.values()) if isinstance(held, Exchange)
        }
        wanted -= known.keys()
        for incident_id in wanted:
            known[incident_id] = []
        changes = session.scalars(
            select(TimelineEvent)
            .where(TimelineEvent.incident_id.in_(wanted), TimelineEvent.kind.in_(MOVES))
            .order_by(TimelineEvent.id.desc())
        )
        for change in changes:
            known[change.incident_id].append(change)
    moved = last_move_by_call(known[exchange.incident_id], exchange)
    return None if moved is None else {"call": moved.get("call"), "approval": moved.get("approval", "not_needed")}
