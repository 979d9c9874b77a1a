"""Health, the category catalogue, the routing preview, and the audit chain's verification."""

import logging
from contextlib import nullcontext
from datetime import timedelta

from apiflask import Schema, fields
from apiflask.validators import Length
from flask import current_app
from sqlalchemy.exc import DBAPIError

from .. import dispatch
from ..backup import anchor
from ..db import get_session
from ..http.access import requires
from ..http.fields import Query, Text
from ..http.tokens import token_auth
from ..models import CATEGORIES, EscalationRisk, Precedence, SafetyRisk, categories_for
from ..models.enums import CATALOGUE
from ..models.permissions import Permission
from ..services.engine import heartbeat
from ..services.incidents import handling, route_table
from ..services.incidents.filing import with_named_sector
from ..services.incidents.routing import RouteQuery, check_query, choose_rule, locate, snapshot_ladder
from ..services.review import audit
from ..timeutil import utcnow
from . import ERRORS, bp
from .incident_out import RoutePreviewOut
from .schemas import Catalogue, HealthOut, RouteAttributes

log = logging.getLogger(__name__)
ATTRIBUTES_INVALID = "the incident's attributes are not valid"  # as routing.check_query says it


@bp.get("/health")
@bp.output(HealthOut)
@bp.doc(tags=["System"], summary="Database and scheduler health (no token needed)")
def health():
    """`status` is ok when the database answers and a sweep finished recently and whole, and the delivery job
    ran recently and whole; degraded when either is stale, failing or never ran, or a live scheduler signs links
    with a key this host does not hold (`link_keys` mismatch), or no active supervisor is left to tell (`supervisors`:
    the admins are told instead, or nobody); down, with 503, when the database does not answer."""
    config = current_app.config
    stale = timedelta(seconds=config["SWEEP_INTERVAL_SECONDS"] * config["SWEEP_STALE_INTERVALS"])
    delivery = timedelta(seconds=config["DELIVERY_INTERVAL_SECONDS"] * config["SWEEP_STALE_INTERVALS"])
    try:
        return heartbeat.health(get_session(), utcnow(), stale, dispatch.keys(current_app), max(stale, delivery))
    except DBAPIError as exc:
        log.warning("health: the database does not answer: %s", type(exc.orig).__name__)
        down = {"status": "down", "database": "down", "sweep": "unknown", "last_sweep_at": None}
        unknown = {"delivery": "unknown", "last_delivery_at": None, "link_keys": "unknown", "supervisors": "unknown"}
        return {**down, "last_sweep_runner": None, "last_sweep_error": None, **unknown}, 503


@bp.get("/catalogue")
@bp.output(Catalogue)
@bp.doc(tags=["System"], summary="Domains, categories, precedences and risk classes")
def catalogue():
    return {
        "domains": {domain.value: list(categories_for(domain)) for domain in CATEGORIES},
        "categories": [
            {"name": c.name, "label": c.shown, "domains": [d.value for d in c.domains], "definition": c.definition}
            for c in CATALOGUE
        ],
        "precedences": {p.value: p.default_ack_seconds for p in Precedence},
        "safety_risks": [r.value for r in SafetyRisk],
        "escalation_risks": [r.value for r in EscalationRisk],
    }


# The README's example, for the docs page's "Try it out".
PREVIEW_EXAMPLE = {"domain": "land", "category": "stray_fire", "precedence": "Z", "escalation_risk": "high"}


@bp.post("/routes/preview")
@bp.auth_required(token_auth)
@bp.input(RouteAttributes, arg_name="data", example=PREVIEW_EXAMPLE)
@bp.output(RoutePreviewOut)
@bp.doc(
    tags=["Ladder"],
    summary="Which rule and policy would an incident take?",
    responses={code: ERRORS[code] for code in (400, 409, 415)},
)
def preview_route(data):
    """Evaluate the routing rules for the given attributes; nothing is stored."""
    session, region = get_session(), current_app.extensions["tracker.region"]
    # The sector as filing reads it (spaces, case, one nobody names: 422), else the preview names another route.
    named = with_named_sector(RouteQuery(**data), region, route_table.current(session), ATTRIBUTES_INVALID)
    query = locate(named, region)
    check_query(query)
    rule = choose_rule(session, query)
    return {
        "rule": {"id": rule.id, "name": rule.name},
        "policy": {"id": rule.policy.id, "name": rule.policy.name},
        "ladder": snapshot_ladder(rule, data["precedence"]),
        "sector": query.sector,
        "border_distance_km": query.border_distance_km,
        "agreement": rule.agreement.code if rule.agreement else None,
        "counterpart_state": rule.counterpart_state,
    }


class AuditQuery(Query):
    # Text: a NUL would reach PostgreSQL, which refuses it (a 500); Text answers 422 instead.
    incident = Text(validate=Length(min=1, max=20), metadata={"description": "only this incident's seals"})


class AuditBreakOut(Schema):
    seq = fields.Integer(metadata={"description": "the seal where the chain breaks"})
    event_id = fields.Integer(allow_none=True, metadata={"description": "none: the seal is a handover's"})
    handover_id = fields.Integer(allow_none=True, metadata={"description": "the signed watch handover it seals"})
    entry_id = fields.Integer(
        allow_none=True, metadata={"description": "entry_*: the line of the handed-over watch's log (watch_entries)"}
    )
    incident = fields.String(attribute="reference", allow_none=True, metadata={"description": "none: event gone"})
    kind = fields.String(allow_none=True)
    problem = fields.String(
        metadata={
            "description": "gap: the seal before it was deleted; link: the seal before it does not match; "
            "missing: the event was deleted; content: the event changed after it was sealed; moved: the event "
            "was moved to another incident after it was sealed; entry_changed, entry_deleted, entry_added: a line "
            "of the log of the watch a sealed handover handed over changed, was deleted or was added since; cut: the "
            "database lacks the seal recorded outside it (an older copy); rewritten: that seal's hash differs; "
            "inserted: an event below those sealed has no seal (written behind the application's back)"
        }
    )
    expected = fields.String(metadata={"description": "the hash the chain calls for"})
    found = fields.String(allow_none=True, metadata={"description": "what is on record instead (none: nothing)"})
    message = fields.String()


class AuditSealOut(Schema):
    seq = fields.Integer()
    hash = fields.String(metadata={"description": "keep it elsewhere: it anchors the chain up to this seal"})


class AuditOut(Schema):
    intact = fields.Boolean()
    seals = fields.Integer(metadata={"description": "seals whose hash and link hold"})
    incidents = fields.Integer()
    unsealed = fields.Integer(metadata={"description": "events not yet sealed (the sweep seals them), not an error"})
    latest = fields.Nested(AuditSealOut, allow_none=True, metadata={"description": "the last seal that holds"})
    broken = fields.Nested(AuditBreakOut, allow_none=True, metadata={"description": "the first broken link"})
    anchor = fields.String(
        metadata={
            "description": "checked: the database holds the chain head kept outside it; none: no head is kept "
            "there (seals cut off the end cannot be told); unreadable: the file kept there is no anchor (seals "
            "cut off the end or a chain rewritten cannot be told: `flask --app wsgi audit verify` names the file)"
        }
    )


@bp.get("/audit/verify")
@bp.auth_required(token_auth)
@requires(Permission.AUDIT_VERIFY)
@bp.input(AuditQuery, location="query", arg_name="query")
@bp.output(AuditOut)
@bp.doc(tags=["System"], summary="Verify the timeline's audit chain", responses={c: ERRORS[c] for c in (403, 404)})
def verify_audit(query):
    """Walk the audit chain seal by seal, or only one incident's seals (each still checked against the
    seal before it), and name the first broken link. A whole large database is better checked with
    `flask --app wsgi audit verify`."""
    session = get_session()
    incident_id = handling.get_incident(session, query["incident"]).id if "incident" in query else None
    kept = "checked"
    try:
        head = anchor.read(anchor.path_for(current_app.config, current_app.instance_path))
    except ValueError:  # not an anchor: the CLI names the file; here the chain is checked without it, and says so
        head, kept = None, "unreadable"
    if head is None and kept == "checked":
        kept = "none"
    verdict = audit.verify(lambda: nullcontext(session), incident_id, anchor=head)
    broken = verdict.broken
    return {
        "intact": verdict.intact,
        "seals": verdict.seals,
        "incidents": verdict.incidents,
        "unsealed": verdict.unsealed,
        "latest": None if verdict.last_seq is None else {"seq": verdict.last_seq, "hash": verdict.last_hash},
        "broken": None if broken is None else {**vars(broken), "message": broken.describe()},
        "anchor": kept,
    }
