"""Call-log routes: log a call on an incident (in progress or whole), list them, fill one in and end
it, mark an agreed action done. Logging a call sends nothing to anyone."""

from flask import current_app, url_for

from ..db import get_session
from ..http.access import caller, requires
from ..http.idempotency import idempotent
from ..http.tokens import token_auth
from ..http.transaction import transactional
from ..models.permissions import Permission
from ..services.exchanges import calls
from ..services.incidents import handling
from ..timeutil import utcnow
from . import ERRORS, Created, bp
from .call_schemas import ActionDoneIn, ActionOut, CallIn, CallOut, CallPatchIn

TAGS = ["Calls"]
READ = {code: ERRORS[code] for code in (403, 404)}
WRITE = {code: ERRORS[code] for code in (400, 403, 404, 409, 415)}


def _limits() -> calls.Limits:
    return calls.Limits(current_app.config["MAX_FUTURE_SKEW_SECONDS"])


# The docs page's "Try it out" example, a call in progress on the demo's counterpart hotline (line 6): built
# from the fields' own examples, it gave line 0, an end as early as its start and an action due then.
CALL_EXAMPLE = {
    "direction": "we_called",
    "channel_id": 6,
    "our_speaker": "Maj Lind, duty liaison officer",
    "their_rank": "Lt Col",
    "their_name": "Orlov",
    "their_post": "duty officer",
    "we_said": "We notified you of a drone over the line at 1405Z.",
    "they_said": "We will check and call back.",
}
# Filling the call in and ending it. An action's due time is to come, so no example can hold one: add actions as
# [{"text", "party", "due_at"}]. The action's example (version 1) works on an action just added.
CALL_CHANGE_EXAMPLE = {"they_said": "We will check and call back within the hour.", "end": True}
ACTION_DONE_EXAMPLE = {"version": 1}


@bp.post("/incidents/<reference>/calls")
@bp.auth_required(token_auth)
@requires(Permission.EXCHANGES_TALK)
@bp.input(CallIn, arg_name="data", example=CALL_EXAMPLE)
@idempotent
@bp.output(CallOut, status_code=201, headers=Created)
@bp.doc(tags=TAGS, summary="Log a call with the other side on a counterpart line", responses=WRITE)
@transactional
def log_call(reference, data):
    """Without ended_at the call is in progress (end it with PATCH). Each agreed action becomes a clock;
    moves_to moves the call's exchange (422 with the allowed states when it may not). 422 for a time
    in the future, an end before the start, a line that is not a counterpart line. Liaison members of
    a notified line or of the call's line, supervisors, admins."""
    session = get_session()
    incident = handling.get_incident(session, reference)
    call = calls.log_call(session, incident, data, caller(), utcnow(), _limits())
    return call, 201, {"Location": url_for("api.get_call", call_id=call.id)}


@bp.get("/incidents/<reference>/calls")
@bp.auth_required(token_auth)
@bp.output(CallOut(many=True))
@bp.doc(tags=TAGS, summary="The incident's calls with the other side, first call first", responses=READ)
def list_calls(reference):
    session = get_session()
    return calls.for_incident(session, handling.get_incident(session, reference))


@bp.get("/calls/<int:call_id>")
@bp.auth_required(token_auth)
@bp.output(CallOut)
@bp.doc(tags=TAGS, summary="A call: times, who spoke, what was said, the actions agreed", responses=READ)
def get_call(call_id):
    return calls.get_call(get_session(), call_id)


@bp.patch("/calls/<int:call_id>")
@bp.auth_required(token_auth)
@requires(Permission.EXCHANGES_TALK)
@bp.input(CallPatchIn, arg_name="data", example=CALL_CHANGE_EXAMPLE)
@bp.output(CallOut)
@bp.doc(tags=TAGS, summary="Fill in a call, add the actions agreed, end it", responses=WRITE)
@transactional
def update_call(call_id, data):
    """end: true stamps the end now (409 if it ended already); ended_at back-times it. Fields given
    replace what is on record; actions given are added. version: 409 if the call changed since. The docs
    page's example adds no action, whose due time is to come: give your own, as
    {"actions": [{"text": "...", "party": "them", "due_at": "<a time to come>"}]}."""
    session = get_session()
    call = calls.get_call(session, call_id)
    end, version = data.pop("end", False), data.pop("version", None)
    return calls.update_call(session, call, data, caller(), utcnow(), _limits(), end=end, expected_version=version)


@bp.post("/actions/<int:action_id>/done")
@bp.auth_required(token_auth)
@requires(Permission.EXCHANGES_TALK)
@bp.input(ActionDoneIn, arg_name="data", example=ACTION_DONE_EXAMPLE)
@bp.output(ActionOut)
@bp.doc(tags=TAGS, summary="Mark an action agreed on a call done", responses=WRITE)
@transactional
def action_done(action_id, data):
    """Done late when its clock ran out (the timeline says so); 409 when it is done already."""
    session = get_session()
    action = calls.get_action(session, action_id)
    return calls.mark_done(session, action, caller(), utcnow(), data.get("version"))
