"""Health, the category catalogue, and the routing preview."""

from datetime import timedelta

from flask import current_app

from ..auth import token_auth
from ..db import get_session
from ..models import CATEGORIES, EscalationRisk, Precedence, SafetyRisk, categories_for
from ..services import heartbeat
from ..services.routing import RouteQuery, check_query, choose_rule, locate, snapshot_ladder
from ..timeutil import utcnow
from . import ERRORS, bp
from .schemas import Catalogue, HealthOut, RouteAttributes, RoutePreviewOut


@bp.get("/health")
@bp.output(HealthOut)
@bp.doc(tags=["System"], summary="Database and scheduler health (no token needed)")
def health():
    """`status` is ok when the database answers and a sweep finished recently."""
    config = current_app.config
    stale = timedelta(seconds=config["SWEEP_INTERVAL_SECONDS"] * config["SWEEP_STALE_INTERVALS"])
    return heartbeat.health(get_session(), utcnow(), stale)


@bp.get("/catalogue")
@bp.output(Catalogue)
@bp.doc(tags=["System"], summary="Domains, categories, precedences and risk classes")
def catalogue():
    return {
        "domains": {domain.value: list(categories_for(domain)) for domain in CATEGORIES},
        "precedences": {p.value: p.default_ack_seconds for p in Precedence},
        "safety_risks": [r.value for r in SafetyRisk],
        "escalation_risks": [r.value for r in EscalationRisk],
    }


@bp.post("/routes/preview")
@bp.auth_required(token_auth)
@bp.input(RouteAttributes, arg_name="data")
@bp.output(RoutePreviewOut)
@bp.doc(
    tags=["Ladder"],
    summary="Which rule and policy would an incident take?",
    responses={code: ERRORS[code] for code in (400, 409, 415)},
)
def preview_route(data):
    """Evaluate the routing rules for the given attributes; nothing is stored."""
    query = locate(RouteQuery(**data), current_app.extensions["tracker.region"])
    check_query(query)
    rule = choose_rule(get_session(), query)
    return {
        "rule": {"id": rule.id, "name": rule.name},
        "policy": {"id": rule.policy.id, "name": rule.policy.name},
        "ladder": snapshot_ladder(rule, data["precedence"]),
        "sector": query.sector,
        "border_distance_km": query.border_distance_km,
    }
