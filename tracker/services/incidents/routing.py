"""Choose an escalation policy by ordered routing rules, and snapshot its ladder."""

from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...errors import Conflict, ValidationError
from ...models import Domain, EscalationRisk, Precedence, RoutingRule, categories_for


@dataclass(frozen=True)
class RouteQuery:
    """The attributes of an incident that routing looks at."""

    domain: Domain
    category: str
    precedence: Precedence
    escalation_risk: EscalationRisk
    sector: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    border_distance_km: float | None = None


def locate(query: RouteQuery, region) -> RouteQuery:
    """Fill in the sector (unless given) and the distance to the border from the position."""
    if query.latitude is None or query.longitude is None or region is None:
        return query
    return replace(
        query,
        sector=query.sector or region.sector_of(query.latitude, query.longitude),
        border_distance_km=region.border_distance_km(query.latitude, query.longitude),
    )


def category_problem(domain: Domain, category: str) -> str | None:
    """Explain why a category does not belong to a domain, or return None when it does."""
    if category in categories_for(domain):
        return None
    return f"{category!r} is not a category of domain {domain.value!r}; allowed: {', '.join(categories_for(domain))}"


def check_query(query: RouteQuery) -> None:
    problem = category_problem(query.domain, query.category)
    if problem:
        raise ValidationError("the incident's attributes are not valid", {"category": problem})


def matches(rule: RoutingRule, query: RouteQuery) -> bool:
    """Return True when every criterion the rule sets holds for the query (unset = any)."""
    if rule.is_default:
        return True
    if rule.domain is not None and rule.domain != query.domain:
        return False
    if rule.category is not None and rule.category != query.category:
        return False
    if rule.precedence is not None and rule.precedence != query.precedence:
        return False
    if rule.min_escalation_risk is not None and query.escalation_risk.level < rule.min_escalation_risk.level:
        return False
    if rule.sector is not None and (query.sector or "").casefold() != rule.sector.casefold():
        return False
    if rule.within_border_km is not None and (
        query.border_distance_km is None or query.border_distance_km > rule.within_border_km
    ):
        return False
    return True


def evaluation_order(rule: RoutingRule) -> tuple:
    """The sort key of rules in evaluation order: by position, the default rule always last."""
    return (rule.is_default, rule.position, rule.id)


def ordered_rules(session: Session, *options) -> list[RoutingRule]:
    """Return active rules in evaluation order (with the loader options given)."""
    rules = session.scalars(select(RoutingRule).where(RoutingRule.active.is_(True)).options(*options)).all()
    return sorted(rules, key=evaluation_order)


def choose_rule(session: Session, query: RouteQuery) -> RoutingRule:
    """Return the first matching rule; without a default rule the tracker cannot route."""
    for rule in ordered_rules(session):
        if matches(rule, query):
            return rule
    raise Conflict(
        "routing is not configured: no default routing rule exists",
        {"hint": "an admin must create a routing rule with is_default=true"},
    )


def snapshot_ladder(rule: RoutingRule, precedence: Precedence) -> dict:
    """Copy the rule's policy into a plain dict, so later policy edits cannot touch it."""
    policy = rule.policy
    return {
        "rule_id": rule.id,
        "rule_name": rule.name,
        "policy_id": policy.id,
        "policy_name": policy.name,
        "repeat": policy.repeat,
        "steps": [
            {
                "number": index,
                "ack_seconds": step.ack_seconds_for(precedence),
                # The step's time follows the incident's precedence (no ack_seconds of its own): an
                # amended precedence retimes it (retime_ladder).
                "from_precedence": step.ack_seconds is None,
                "channels": [_entry(c) for c in step.channels if c.active],
                "fallback": _entry(step.fallback_channel) if step.fallback_channel else None,
                # Entered only when a supervisor confirms it (services.engine.decisions).
                "by_decision": bool(step.by_decision),
            }
            for index, step in enumerate(policy.steps, start=1)
        ],
    }


def _entry(channel) -> dict:
    return {"id": channel.id, "name": channel.name, "level": channel.level}


def from_precedence(step: dict, precedence: Precedence) -> bool:
    """Whether a snapshot step takes its time from the precedence. Snapshots taken before the step said so
    are read by their seconds: the precedence's own window is taken to come from it."""
    if "from_precedence" in step:
        return bool(step["from_precedence"])
    return step["ack_seconds"] == precedence.default_ack_seconds


def retime_ladder(ladder: dict, old: Precedence, new: Precedence) -> dict:
    """A copy of the snapshot whose steps that take their time from the precedence take the new one's window;
    channels, rule and policy stay as they are (a running ladder is never moved)."""
    steps = [
        {**step, "ack_seconds": new.default_ack_seconds, "from_precedence": True}
        if from_precedence(step, old)
        else {**step, "from_precedence": False}  # an older snapshot's guess, kept from now on
        for step in ladder["steps"]
    ]
    return {**ladder, "steps": steps}
