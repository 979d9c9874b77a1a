"""Read one incident with what its API detail, its page and its printed record show, each relationship read
once for all its rows: the calls' agreed actions, the lines of the exchanges and messages, the delivery
attempts of every notification were read one row at a time, and an incident with a long history (a ladder
repeated, a dozen calls) cost a statement for each."""

from functools import cache

from sqlalchemy.orm import Session, selectinload

from ...models import Call, Exchange, ExchangeMessage, Incident, Notification
from .handling import get_incident


@cache
def _detail_loads() -> tuple:
    """What GET /incidents/{reference} shows: the timeline, each notification's line and person, the calls
    with their line and actions, each exchange's line. Made on first use (the options set up every mapper)."""
    calls = Incident.calls  # type: ignore[attr-defined]  # a backref
    exchanges = Incident.exchanges  # type: ignore[attr-defined]  # a backref
    return (
        selectinload(Incident.events),
        selectinload(Incident.notifications).options(
            selectinload(Notification.channel), selectinload(Notification.user)
        ),
        selectinload(calls).options(selectinload(Call.actions), selectinload(Call.channel)),
        selectinload(exchanges).selectinload(Exchange.channel),
    )


@cache
def _page_loads() -> tuple:
    """The page shows more: each notification's delivery attempts, and each exchange's messages (with their
    line), opener and calls."""
    exchanges = selectinload(Incident.exchanges)  # type: ignore[attr-defined]  # a backref
    exchange_calls = Exchange.calls  # type: ignore[attr-defined]  # a backref
    return (
        *_detail_loads(),
        selectinload(Incident.notifications).selectinload(Notification.attempts_made),
        exchanges.selectinload(Exchange.messages).selectinload(ExchangeMessage.channel),
        exchanges.selectinload(Exchange.opened_by),
        # The incident's own calls, their actions and lines read above: the same objects, not read again.
        exchanges.selectinload(exchange_calls),
    )


def incident_detail(session: Session, reference: str) -> Incident:
    """The incident as GET /incidents/{reference} shows it (404 if unknown)."""
    return get_incident(session, reference, _detail_loads())


def incident_page(session: Session, reference: str) -> Incident:
    """The incident as its page, its live parts and its printed record show it (404 if unknown)."""
    return get_incident(session, reference, _page_loads())
