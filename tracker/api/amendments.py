"""Amend an incident: PATCH /incidents/<reference> with the version read and the facts to correct."""

from ..db import get_session
from ..http import wiring
from ..http.access import caller, requires
from ..http.tokens import token_auth
from ..http.transaction import transactional
from ..models.permissions import Permission
from ..services.incidents import amending
from ..timeutil import utcnow
from . import ERRORS, bp
from .amendment_schemas import AmendedOut, AmendmentIn


class Answer:
    """The amended incident as AmendedOut reads it (every attribute the incident's), with what the
    amendment found beside it (amendment)."""

    def __init__(self, amended: amending.Amended):
        self.amended = amended

    def __getattr__(self, name: str):
        return getattr(self.amended.incident, name)

    @property
    def amendment(self) -> dict:
        details = self.amended.event.details
        return {
            "event_id": self.amended.event.id,
            "fields_changed": details["fields"],
            "before": details["before"],
            "after": details["after"],
            "addendum": details["addendum"],
            "deadline": self.amended.deadline,
            "reroute": self.amended.reroute,
            "reapproval": self.amended.reapproval,
            "told": self.amended.told,
        }


# The docs page's "Try it out" example, which works as it is on an incident just filed (version 1): built from
# the fields' types, it sent version 0, "string" as a position and every fact at once, and was refused.
AMENDMENT_EXAMPLE = {"version": 1, "narrative_addendum": "Radar shows the drone turned back at 1410Z."}


@bp.patch("/incidents/<reference>")
@bp.auth_required(token_auth)
@requires(Permission.INCIDENTS_AMEND)
@bp.input(AmendmentIn, arg_name="data", example=AMENDMENT_EXAMPLE)
@bp.output(AmendedOut)
@bp.doc(
    summary="Amend an incident",
    responses={code: ERRORS[code] for code in (400, 403, 404, 409, 415)},
)
@transactional
def amend_incident(reference, data):
    """Correct filed facts.

    One `amended` timeline event records each changed fact before and after. Send the `version` you
    read: if the incident was amended since, 409 with the facts as they stand (`details.facts`); an
    escalation or acknowledgement in between changes no fact and is no conflict. A fact left out stays, as
    does one sent as it stands (actions taken or platforms kept with a bidirectional control before those
    were refused are refused only when changed); an amendment that changes nothing answers 422. Supervisors
    and admins; liaison members of a notified line; the duty officer who filed it or now on watch at the desk
    it was filed from. A lower precedence takes a supervisor (403); a higher one shortens the running deadline
    (or, once acknowledged, the acknowledgement timeout) at once, and on an open incident is told to the lines
    called on its current step (`amendment.told`). The answer's `amendment` says what changed, the deadline,
    the route routing would choose now (`reroute`, never applied) and the approved texts for the other side
    that need approving again (`reapproval`)."""
    version, addendum = data.pop("version"), data.pop("narrative_addendum", "")
    amendment = amending.Amendment(version, data, addendum)
    limits = wiring.filing_limits()
    idle, links = wiring.idle_rules(), wiring.ack_links()
    return Answer(amending.amend(get_session(), reference, amendment, caller(), limits, utcnow(), idle, links))
