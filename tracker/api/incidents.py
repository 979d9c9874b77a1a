"""Incident routes: file, list, read, acknowledge, comment, resolve."""

from flask import current_app, url_for

from .. import instruments, metrics
from ..db import get_session
from ..http import wiring
from ..http.access import caller, requires
from ..http.idempotency import idempotent
from ..http.tokens import token_auth
from ..http.transaction import transactional
from ..models.permissions import Permission
from ..services.engine import decisions
from ..services.incidents import detail, filing, handling, remarking
from ..services.incidents.queries import IncidentFilter, list_incidents
from ..timeutil import utcnow
from . import ERRORS, Created, bp
from .filing_schema import IncidentIn
from .incident_out import IncidentDetailOut, IncidentPage, TimelineEventOut
from .schemas import AcknowledgeIn, CommentIn, ConfirmStepIn, IncidentQuery, MarkingIn, ResolveIn


def _errors(*codes):
    return {code: ERRORS[code] for code in codes}


# Request examples that work as they are in the docs page's "Try it out" on the demo data (the README's
# walk-through): built from the fields' own examples, a filing gave both spellings of the CPA and was refused.
FILING_EXAMPLE = {
    "occurred_at": "271405ZNOV26",
    "reporting_unit": "Border Guard Post 7",
    "domain": "air",
    "category": "airspace_violation",
    "precedence": "O",
    "escalation_risk": "serious",
    "latitude": 54.1,
    "longitude": 23.3,
    "sector": "DRILL",
    "narrative": "Small drone crossed the line at 300 m and returned.",
}
ACKNOWLEDGE_EXAMPLE = {"note": "Calling Eastland HQ now"}
COMMENT_EXAMPLE = {"text": "Eastland confirms a lost training drone."}
RESOLVE_EXAMPLE = {"resolution": "Explanation accepted."}
# Step 2 of the demo's hotline ladder (L4) is entered by decision: its FLASH incident waits for one 10 min after
# the demo was loaded.
DECISION_EXAMPLE = {"step": 2}
MARKING_EXAMPLE = {"classification": "RESTRICTED", "releasable_to": ["Eastland"]}


@bp.post("/incidents")
@bp.auth_required(token_auth)
@requires(Permission.INCIDENTS_FILE)
@bp.input(IncidentIn, arg_name="data", example=FILING_EXAMPLE)
@idempotent
@bp.output(IncidentDetailOut, status_code=201, headers=Created)
@bp.doc(summary="File an incident", responses=_errors(400, 403, 409, 415))
@transactional
def file_incident(data):
    """Validate, route by the ordered rules, snapshot the ladder and queue step 1, in one transaction."""
    session = get_session()
    draft = filing.IncidentDraft(**data)  # the CPA in the columns filing takes (IncidentIn._as_filing_takes)
    incident = filing.file_incident(session, draft, caller(), wiring.filing_limits(), utcnow(), wiring.ack_links())
    instruments.when_committed(session, metrics.FILED.labels(incident.precedence.value).inc)
    location = url_for("api.get_incident", reference=incident.reference)
    return incident, 201, {"Location": location}


@bp.get("/incidents")
@bp.auth_required(token_auth)
@bp.input(IncidentQuery, location="query", arg_name="query")
@bp.output(IncidentPage)
@bp.doc(summary="List incidents", responses=_errors(403))
def list_all(query):
    """Newest report first; filter by status, precedence, domain, category, a time range (since/until,
    on the occurrence or, with by=reported, on the report) and the reference the other side quotes."""
    per_page = query.pop("per_page", None) or current_app.config["PAGE_SIZE_DEFAULT"]
    page = query.pop("page")
    items, total = list_incidents(get_session(), IncidentFilter(**query), page, per_page)
    return {"items": items, "page": page, "per_page": per_page, "total": total}


@bp.get("/incidents/<reference>")
@bp.auth_required(token_auth)
@bp.output(IncidentDetailOut)
@bp.doc(summary="Read an incident", responses=_errors(403, 404))
def get_incident(reference):
    """The incident with its timeline and the status of every notification."""
    return detail.incident_detail(get_session(), reference)


@bp.post("/incidents/<reference>/acknowledge")
@bp.auth_required(token_auth)
@requires(Permission.INCIDENTS_HANDLE)
@bp.input(AcknowledgeIn, arg_name="data", example=ACKNOWLEDGE_EXAMPLE)
@bp.output(IncidentDetailOut)
@bp.doc(summary="Acknowledge an incident", responses=_errors(400, 403, 404, 409, 415))
@transactional
def acknowledge(reference, data):
    """Stop the escalation. Liaison members of a notified channel, supervisors and admins only;
    a second acknowledgement answers 409 with the current state."""
    session = get_session()
    incident = handling.acknowledge(session, reference, caller(), utcnow(), data["note"], wiring.idle_rules())
    return incident


@bp.post("/incidents/<reference>/decision")
@bp.auth_required(token_auth)
@requires(Permission.INCIDENTS_DECIDE)
@bp.input(ConfirmStepIn, arg_name="data", example=DECISION_EXAMPLE)
@bp.output(IncidentDetailOut)
@bp.doc(summary="Confirm a step reached by decision", responses=_errors(400, 403, 404, 409, 415))
@transactional
def confirm_decision(reference, data):
    """Enter at once the step waiting for a supervisor's decision (political levels): its lines are called
    and its deadline set. Supervisors and admins; with no question open (confirmed already, acknowledged,
    resolved) or another step's, 409 with the current state. The docs page's example confirms step 2, which the
    demo's FLASH incident waits for from 10 min after the demo was loaded."""
    session = get_session()
    incident = handling.get_incident(session, reference)
    return decisions.confirm(session, incident, caller(), utcnow(), wiring.ack_links(), data.get("step"))


@bp.post("/incidents/<reference>/comments")
@bp.auth_required(token_auth)
@bp.input(CommentIn, arg_name="data", example=COMMENT_EXAMPLE)
@idempotent
@bp.output(TimelineEventOut, status_code=201)
@bp.doc(summary="Comment on an incident", responses=_errors(400, 403, 404, 415))
@transactional
def add_comment(reference, data):
    """Add a comment to the timeline."""
    session = get_session()
    event = handling.comment(session, reference, caller(), utcnow(), data["text"])
    return event


@bp.post("/incidents/<reference>/resolve")
@bp.auth_required(token_auth)
@requires(Permission.INCIDENTS_HANDLE)
@bp.input(ResolveIn, arg_name="data", example=RESOLVE_EXAMPLE)
@bp.output(IncidentDetailOut)
@bp.doc(summary="Resolve an incident", responses=_errors(400, 403, 404, 409, 415))
@transactional
def resolve(reference, data):
    """Close the loop with a resolution text (liaison members, supervisors, admins)."""
    session = get_session()
    incident = handling.resolve(session, reference, caller(), utcnow(), data["resolution"])
    return incident


@bp.patch("/incidents/<reference>/marking")
@bp.auth_required(token_auth)
@requires(Permission.INCIDENTS_HANDLE)
@bp.input(MarkingIn, arg_name="data", example=MARKING_EXAMPLE)
@bp.output(IncidentDetailOut)
@bp.doc(summary="Change an incident's marking", responses=_errors(400, 403, 404, 409, 415))
@transactional
def change_marking(reference, data):
    """Set the classification (one of CLASSIFICATIONS) and the counterparts it is releasable to (from
    RELEASABLE_TO; [] is not releasable). Liaison members of a notified line, supervisors and admins; an
    unknown value answers 422 naming the field, and so does the marking it has already (nothing changes);
    the timeline records the marking before and after."""
    session = get_session()
    incident = handling.get_incident(session, reference)
    return remarking.change(
        session, incident, data.get("classification"), data.get("releasable_to"), caller(), utcnow(), wiring.markings()
    )
