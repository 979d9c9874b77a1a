"""The routing rules and their ladders, compiled once per process and per database, for filing.

A filing reads one stamp (models.config_version) instead of the rules, policies, steps and channels
(five statements): the compiled table is used while the stamp is the one it was compiled at, and
compiled again, in the caller's transaction, when an admin's change gave the configuration a new one.
What a filing takes from it is plain data, never an ORM object of another session.
"""

import threading
from copy import deepcopy
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, make_transient_to_detached, selectinload

from ...errors import Conflict
from ...models import (
    ContactChannel,
    Domain,
    EscalationPolicy,
    EscalationRisk,
    PolicyStep,
    Precedence,
    RoutingRule,
    config_version,
)
from ..engine.notify import Recipients, step_channel_ids
from .routing import RouteQuery, matches, ordered_rules, snapshot_ladder


@dataclass(frozen=True)
class CompiledRule:
    """A routing rule as routing.matches reads it, with what filing keeps of it and its ladder."""

    id: int
    name: str
    position: int
    is_default: bool
    domain: Domain | None
    category: str | None
    precedence: Precedence | None
    min_escalation_risk: EscalationRisk | None
    sector: str | None
    within_border_km: float | None
    policy_id: int
    agreement_id: int | None
    agreement_code: str | None
    counterpart_state: str | None
    # routing.snapshot_ladder per precedence: a step's time may come from the precedence.
    ladders: dict[Precedence, dict]

    def ladder(self, precedence: Precedence) -> dict:
        """A copy of the ladder snapshot for an incident of this precedence (the incident owns it)."""
        return deepcopy(self.ladders[precedence])


@dataclass(frozen=True)
class RouteTable:
    stamp: int
    rules: tuple[CompiledRule, ...]  # in evaluation order: routing.ordered_rules
    # The active channels as of the stamp, as detached copies of no session: a filing merges the few it
    # calls into its own (recipients), without a statement.
    channels: dict[int, ContactChannel] = field(default_factory=dict)

    def recipients(self, session: Session, step: dict) -> Recipients:
        """notify.Recipients.for_step for a step of one of the table's ladders, read from the table: the
        channels are the session's own objects (merged without loading), never the shared copies."""
        known = [self.channels[i] for i in step_channel_ids(step) if i in self.channels]
        return Recipients({c.id: session.merge(c, load=False) for c in known}, [])

    def choose(self, query: RouteQuery) -> CompiledRule:
        """The first matching rule, as routing.choose_rule chooses it."""
        for rule in self.rules:
            if matches(rule, query):  # type: ignore[arg-type]  # the same attributes as a RoutingRule
                return rule
        raise Conflict(
            "routing is not configured: no default routing rule exists",
            {"hint": "an admin must create a routing rule with is_default=true"},
        )


_tables: dict[str, RouteTable] = {}
_lock = threading.Lock()


def current(session: Session) -> RouteTable:
    """The table for the session's database as its configuration stands in this transaction."""
    stamp = config_version.read(session)
    key = session.connection().engine.url.render_as_string(hide_password=True)
    table = _tables.get(key)
    if table is None or table.stamp != stamp:
        table = compile_table(session, stamp)
        with _lock:
            _tables[key] = table
    return table


def compile_table(session: Session, stamp: int) -> RouteTable:
    ordered = ordered_rules(
        session,
        selectinload(RoutingRule.agreement),
        selectinload(RoutingRule.policy)
        .selectinload(EscalationPolicy.steps)
        .options(selectinload(PolicyStep.channels), selectinload(PolicyStep.fallback_channel)),
    )
    channels = session.scalars(select(ContactChannel).where(ContactChannel.active.is_(True))).all()
    return RouteTable(stamp, tuple(_compile(rule) for rule in ordered), {c.id: _copy(c) for c in channels})


def _copy(channel: ContactChannel) -> ContactChannel:
    """A detached copy of the channel's columns, in no session (the caller's objects stay its own)."""
    copy = ContactChannel(**{column.key: getattr(channel, column.key) for column in ContactChannel.__table__.columns})
    make_transient_to_detached(copy)
    return copy


def _compile(rule: RoutingRule) -> CompiledRule:
    return CompiledRule(
        id=rule.id,
        name=rule.name,
        position=rule.position,
        is_default=rule.is_default,
        domain=rule.domain,
        category=rule.category,
        precedence=rule.precedence,
        min_escalation_risk=rule.min_escalation_risk,
        sector=rule.sector,
        within_border_km=rule.within_border_km,
        policy_id=rule.policy_id,
        agreement_id=rule.agreement_id,
        agreement_code=rule.agreement.code if rule.agreement is not None else None,
        counterpart_state=rule.counterpart_state,
        ladders={precedence: snapshot_ladder(rule, precedence) for precedence in Precedence},
    )
