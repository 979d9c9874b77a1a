"""Health, the category catalogue, the routing preview, and the audit chain's verification."""

from contextlib import nullcontext
from datetime import timedelta

from apiflask import Schema, fields
from apiflask.validators import Length
from flask import current_app

from ..auth import ADMINS, require_role, token_auth
from ..db import get_session
from ..models import CATEGORIES, EscalationRisk, Precedence, SafetyRisk, categories_for
from ..services import audit, handling, heartbeat
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


class AuditQuery(Schema):
    incident = fields.String(validate=Length(min=1, max=20), metadata={"description": "only this incident's chain"})


class AuditBreakOut(Schema):
    event_id = fields.Integer()
    incident = fields.String(attribute="reference", allow_none=True)
    kind = fields.String()
    problem = fields.String(
        metadata={"description": "content: the event changed after it was recorded; link: one before it went or came"}
    )
    expected = fields.String(metadata={"description": "the hash the chain calls for"})
    found = fields.String(metadata={"description": "the hash on record"})
    message = fields.String()


class AuditOut(Schema):
    intact = fields.Boolean()
    events = fields.Integer(metadata={"description": "events whose hash and link hold"})
    incidents = fields.Integer()
    broken = fields.Nested(AuditBreakOut, allow_none=True, metadata={"description": "the first broken link"})


@bp.get("/audit/verify")
@bp.auth_required(token_auth)
@require_role(*ADMINS)
@bp.input(AuditQuery, location="query", arg_name="query")
@bp.output(AuditOut)
@bp.doc(tags=["System"], summary="Verify the timeline's audit chain", responses={c: ERRORS[c] for c in (403, 404)})
def verify_audit(query):
    """Walk every incident's hash chain, or one incident's, and name the first broken link.
    A whole large database is better checked with `flask --app wsgi audit verify`."""
    session = get_session()
    incident_id = handling.get_incident(session, query["incident"]).id if "incident" in query else None
    verdict = audit.verify(lambda: nullcontext(session), incident_id)
    broken = verdict.broken
    return {
        "intact": verdict.intact,
        "events": verdict.events,
        "incidents": verdict.incidents,
        "broken": None if broken is None else {**vars(broken), "message": broken.describe()},
    }
