"""Related incidents: read the suggestions and the confirmed pattern, confirm or dismiss a link."""

from apiflask import Schema, fields
from apiflask.validators import Length

from ..db import get_session
from ..http.access import caller, requires
from ..http.fields import UTC, Text
from ..http.tokens import token_auth
from ..http.transaction import transactional
from ..models import Domain, IncidentStatus, LinkState, Precedence
from ..models.permissions import Permission
from ..services.incidents import handling, related
from ..timeutil import utcnow
from . import ERRORS, bp

TAG = "Related incidents"
DECISION_ERRORS = {code: ERRORS[code] for code in (400, 403, 404, 409, 415)}


class RelatedIncidentOut(Schema):
    reference = fields.String()
    occurred_at = UTC()
    occurred_dtg = fields.String()
    domain = fields.Enum(Domain, by_value=True)
    category = fields.String()
    precedence = fields.Enum(Precedence, by_value=True)
    status = fields.Enum(IncidentStatus, by_value=True)
    latitude = fields.Float(allow_none=True)
    longitude = fields.Float(allow_none=True)
    sector = fields.String(allow_none=True)


class RelatedLinkOut(Schema):
    id = fields.Integer(attribute="link.id")
    state = fields.Enum(LinkState, by_value=True, attribute="link.state")
    newer = fields.String(attribute="link.incident.reference", metadata={"description": "the later occurrence"})
    older = fields.String(attribute="link.related.reference")
    distance_km = fields.Float(attribute="link.distance_km", allow_none=True)
    hours_apart = fields.Float(attribute="link.hours_apart")
    suggested_at = UTC(attribute="link.suggested_at")
    decided_at = UTC(attribute="link.decided_at", allow_none=True)
    decided_by = fields.String(attribute="link.decided_by", allow_none=True)
    other = fields.Nested(RelatedIncidentOut, metadata={"description": "the incident at the other end"})


class DecidedLinkOut(RelatedLinkOut):
    """RelatedLinkOut as a route's answer: a class of its own, or apiflask would register the
    nested one twice (see schemas.TimelineEntryOut)."""


class PatternMemberOut(Schema):
    incident = fields.Nested(RelatedIncidentOut)
    distance_km = fields.Float(allow_none=True, metadata={"description": "from the incident asked about"})
    hours_from = fields.Float(metadata={"description": "from the incident asked about; negative: before it"})


class PatternOut(Schema):
    count = fields.Integer()
    first_at = UTC()
    last_at = UTC()
    hours_span = fields.Float()
    distance_span_km = fields.Float(allow_none=True, metadata={"description": "largest distance between two members"})
    members = fields.List(fields.Nested(PatternMemberOut))


class RelatedOut(Schema):
    reference = fields.String()
    suggested = fields.List(fields.Nested(RelatedLinkOut))
    confirmed = fields.List(fields.Nested(RelatedLinkOut))
    dismissed = fields.List(fields.Nested(RelatedLinkOut))
    pattern = fields.Nested(PatternOut, metadata={"description": "the cluster of confirmed links, oldest first"})


class DecisionIn(Schema):
    note = Text(load_default="", validate=Length(max=1000))


# The docs page's "Try it out" example: the demo leaves one suggestion undecided, and two reports of one drone (the
# filing's example sent twice) are suggested as related once the sweep has checked them.
DECISION_EXAMPLE = {"note": "Same drone, reported twice."}


@bp.get("/incidents/<reference>/related")
@bp.auth_required(token_auth)
@bp.output(RelatedOut)
@bp.doc(
    tags=[TAG],
    summary="Related incidents: suggestions, confirmed links and the pattern",
    responses={code: ERRORS[code] for code in (403, 404)},
)
def get_related(reference):
    """Incidents of the same category near in space and time (suggested when filed), and the
    pattern the confirmed links make: every incident reachable through confirmed links."""
    session = get_session()
    incident = handling.get_incident(session, reference)
    found = related.relations(session, incident)
    by_state = {state: [r for r in found if r.link.state is state] for state in LinkState}
    return {
        "reference": incident.reference,
        "suggested": by_state[LinkState.SUGGESTED],
        "confirmed": by_state[LinkState.CONFIRMED],
        "dismissed": by_state[LinkState.DISMISSED],
        "pattern": related.pattern(session, incident),
    }


def _decide(reference, link_id, data, decide):
    session = get_session()
    link = decide(session, reference, link_id, caller(), utcnow(), data["note"])
    return related.relation(link, reference)


@bp.post("/incidents/<reference>/related/<int:link_id>/confirm")
@bp.auth_required(token_auth)
@requires(Permission.RELATED_DECIDE)
@bp.input(DecisionIn, arg_name="data", example=DECISION_EXAMPLE)
@bp.output(DecidedLinkOut)
@bp.doc(tags=[TAG], summary="Confirm a suggested link", responses=DECISION_ERRORS)
@transactional
def confirm_link(reference, link_id, data):
    """Duty officers, supervisors, admins, and liaison staff of a channel notified for either
    incident; a link already confirmed or dismissed answers 409 with its state."""
    return _decide(reference, link_id, data, related.confirm)


@bp.post("/incidents/<reference>/related/<int:link_id>/dismiss")
@bp.auth_required(token_auth)
@requires(Permission.RELATED_DECIDE)
@bp.input(DecisionIn, arg_name="data", example=DECISION_EXAMPLE)
@bp.output(DecidedLinkOut)
@bp.doc(tags=[TAG], summary="Dismiss a suggested link", responses=DECISION_ERRORS)
@transactional
def dismiss_link(reference, link_id, data):
    """The same people as confirm; a dismissed link is never suggested again."""
    return _decide(reference, link_id, data, related.dismiss)
