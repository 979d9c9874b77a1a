"""What an amendment sets off beyond its own facts: the route routing would choose now (a preview: the
running ladder is never moved), and the texts for the other side approved on the facts as they were."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...errors import Conflict
from ...models import Exchange, ExchangeMessage, Incident, OutgoingStatus, Summary, SummaryStatus
from . import routing


def preview_route(session: Session, incident: Incident) -> dict:
    """Which rule and policy routing would choose for the incident as it stands, beside the running ones.
    Nothing moves: the running ladder stays the one taken at filing."""
    ladder = incident.ladder
    running = {"rule_id": ladder.get("rule_id"), "rule": ladder.get("rule_name"), "policy_id": ladder.get("policy_id")}
    running["policy"] = ladder.get("policy_name")
    query = routing.RouteQuery(
        incident.domain,
        incident.category,
        incident.precedence,
        incident.escalation_risk,
        incident.sector,
        incident.latitude,
        incident.longitude,
        incident.border_distance_km,
    )
    try:
        rule = routing.choose_rule(session, query)
    except Conflict as error:
        return {"running": running, "now": None, "differs": None, "moved": False, "note": error.message}
    steps = routing.snapshot_ladder(rule, incident.precedence)["steps"]
    chosen = {"rule_id": rule.id, "rule": rule.name, "policy_id": rule.policy_id, "policy": rule.policy.name}
    chosen["steps"] = [{"ack_seconds": s["ack_seconds"], "channels": [c["name"] for c in s["channels"]]} for s in steps]
    differs = (rule.id, rule.policy_id) != (running["rule_id"], running["policy_id"])
    note = (
        f"routing would now choose rule “{rule.name}” → policy “{rule.policy.name}”; the running ladder "
        f"(rule “{running['rule']}” → policy “{running['policy']}”) is not moved"
        if differs
        else "routing would choose the running rule and policy again"
    )
    return {"running": running, "now": chosen, "differs": differs, "moved": False, "note": note}


def approved_on(session: Session, incident: Incident, digest: str) -> list[dict]:
    """The texts for the other side approved on the facts as they stand (digest), not yet sent."""
    summaries = session.scalars(
        select(Summary).where(
            Summary.incident_id == incident.id,
            Summary.status == SummaryStatus.APPROVED,
            Summary.facts_digest == digest,
        )
    )
    messages = session.scalars(
        select(ExchangeMessage)
        .join(Exchange)
        .where(
            Exchange.incident_id == incident.id,
            ExchangeMessage.status == OutgoingStatus.APPROVED,
            ExchangeMessage.facts_digest == digest,
        )
        .order_by(ExchangeMessage.id)
    )
    return [
        *(
            {"kind": "summary", "id": s.id, "exchange_id": s.exchange_id, "approved_by": s.approved_by}
            for s in summaries
        ),
        *(
            {"kind": "message", "id": m.id, "exchange_id": m.exchange_id, "approved_by": m.approved_by}
            for m in messages
        ),
    ]
