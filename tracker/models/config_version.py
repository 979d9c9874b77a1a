"""The routing configuration's version: a stamp in the counters table that changes whenever a routing
rule, an escalation policy, a ladder step, what a ladder copies of a channel (its name, level, being
active, address, health) or the code of an agreement a rule names is added, changed or deleted through
the ORM. Processes that compile the configuration (services.incidents.route_table) read the stamp and
compile again when it differs.

The stamp is random rather than counted up, so a database restored from a backup (or a test database
refilled from its template) never shows a stamp that once meant other rules.
"""

import secrets
from itertools import chain

from sqlalchemy import event, inspect, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from .agreement import Agreement
from .ladder import ContactChannel, EscalationPolicy, PolicyStep, RoutingRule
from .system import Counter

NAME = "routing-config"
# Any change to a rule, policy or step changes what the compiled table holds; of a channel or an agreement,
# only these: a channel enters a ladder snapshot by them (services.incidents.routing.snapshot_ladder) and
# a filing calls step 1's lines by them; a filing's ROUTED event names the rule's agreement by its code.
_FACTS: dict[type, tuple[str, ...]] = {
    ContactChannel: ("name", "level", "active", "address", "health"),
    Agreement: ("code",),
}
_ROUTING = (RoutingRule, EscalationPolicy, PolicyStep, ContactChannel, Agreement)


# The stamp as a column of another statement (a request's token check reads it: remember).
STAMP = select(Counter.value).where(Counter.name == NAME).scalar_subquery().label("stamp")
# session.info key: the stamp read in the session's transaction now under way, and that transaction.
_READ = "tracker.config_stamp"


def read(session: Session) -> int:
    """The stamp now (0 before the first change): as remembered in this transaction, else read."""
    remembered = session.info.get(_READ)
    if remembered is not None and remembered[0] is session.get_transaction():
        return remembered[1]
    return session.scalar(select(STAMP)) or 0


def remember(session: Session, stamp: int) -> None:
    """Keep the stamp another statement of the session's transaction under way read (STAMP), for read."""
    session.info[_READ] = (session.get_transaction(), stamp)


def bump(session: Session) -> None:
    """Give the configuration a new stamp, in the caller's transaction."""
    stamp = secrets.randbelow(2**31 - 1) + 1
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    table = Counter.__table__
    session.execute(
        dialect.insert(table)
        .values(name=NAME, value=stamp)
        .on_conflict_do_update(index_elements=[table.c.name], set_={"value": stamp})
    )


def _changes_routing(instance: object, dirty: bool) -> bool:
    if isinstance(instance, RoutingRule | EscalationPolicy | PolicyStep):
        return True
    facts = _FACTS.get(type(instance))
    if facts is None:
        return False
    if not dirty:
        return True
    attributes = inspect(instance, raiseerr=True).attrs
    return any(attributes[name].history.has_changes() for name in facts)


@event.listens_for(Session, "before_flush")
def _stamp_routing_changes(session: Session, _context, _instances) -> None:
    added_or_deleted = chain(session.new, session.deleted)
    # The type first: a sweep's flush holds thousands of dirty incidents, and is_modified is not free.
    if any(_changes_routing(o, False) for o in added_or_deleted) or any(
        _changes_routing(o, True) for o in session.dirty if isinstance(o, _ROUTING) and session.is_modified(o)
    ):
        with session.no_autoflush:
            bump(session)
