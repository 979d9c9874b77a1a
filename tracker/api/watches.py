"""Watch routes: start a watch at a desk, log in it, hand it over with a brief, and sign for it."""

from flask import current_app, url_for

from ..db import get_session
from ..http import wiring
from ..http.access import caller, requires
from ..http.idempotency import idempotent
from ..http.ratelimit import address
from ..http.tokens import token_auth
from ..http.transaction import transactional
from ..models.permissions import Permission
from ..services.watches import handover, log
from ..timeutil import utcnow
from . import ERRORS, Created, bp
from .watch_schemas import (
    BriefOut,
    CurrentWatchQuery,
    HandoverCreateIn,
    HandoverIn,
    HandoverNotesIn,
    HandoverOut,
    HandoverRegenerateIn,
    HandoverSignIn,
    WatchDetailOut,
    WatchEntryIn,
    WatchEntryOut,
    WatchOut,
    WatchQuery,
    WatchStartIn,
)

TAGS = ["Watches"]
READ = {code: ERRORS[code] for code in (403, 404)}
WRITE = {code: ERRORS[code] for code in (400, 403, 404, 409, 415)}


def _limits() -> log.Limits:
    return log.Limits(current_app.config["MAX_FUTURE_SKEW_SECONDS"])


# The docs page's "Try it out" examples, which work as they are on the demo data (no watch is kept there): the
# duty officer keeps the duty desk, logs a line and hands the watch to liaison, who signs and hands it back. Built
# from the fields' types, they named "string" as the incoming officer. The brief taken again and the signature
# need nothing ({}: APIFlask drops an empty `example`, so it is given as a named one); a signature may name the
# digest it read, which only the handover's answer gives.
WATCH_EXAMPLE = {"desk": "Duty desk"}
ENTRY_EXAMPLE = {"text": "Hotline test with Eastland MoD: clear both ways"}
HANDOVER_EXAMPLE = {"incoming": "liaison", "notes": "Eastland owes us the drone's flight data."}
NOTES_EXAMPLE = {"notes": "Eastland owes us the drone's flight data; chase it at 0800Z."}
NOTHING = {"nothing": {"summary": "nothing to give", "value": {}}}
HAND_BACK_EXAMPLE = {"incoming": "duty", "desk": "Duty desk"}


@bp.post("/watches")
@bp.auth_required(token_auth)
@requires(Permission.WATCHES_KEEP)
@bp.input(WatchStartIn, arg_name="data", example=WATCH_EXAMPLE)
@idempotent
@bp.output(WatchDetailOut, status_code=201, headers=Created)
@bp.doc(tags=TAGS, summary="Start a watch at a desk", responses=WRITE)
@transactional
def start_watch(data):
    """Kept by the caller, or by `officer` when a supervisor or an admin gives one (403 for others).
    409 while the desk has an open watch (details name it): a desk changes hands by a signed handover."""
    session = get_session()
    watch = log.start_watch(session, caller(), utcnow(), data.get("desk"), data.get("officer"))
    return watch, 201, {"Location": url_for("api.get_watch", watch_id=watch.id)}


@bp.get("/watches")
@bp.auth_required(token_auth)
@bp.input(WatchQuery, location="query", arg_name="query")
@bp.output(WatchOut(many=True))
@bp.doc(tags=TAGS, summary="Watches: the open ones first, then the latest started (at most 100)", responses=READ)
def list_watches(query):
    return log.list_watches(get_session(), query.get("desk"), query.get("open"))


@bp.get("/watches/<int:watch_id>")
@bp.auth_required(token_auth)
@bp.output(WatchDetailOut)
@bp.doc(tags=TAGS, summary="A watch with its log and its handovers", responses=READ)
def get_watch(watch_id):
    return log.watch_with_log(get_session(), watch_id)


@bp.post("/watches/<int:watch_id>/entries")
@bp.auth_required(token_auth)
@requires(Permission.WATCHES_KEEP)
@bp.input(WatchEntryIn, arg_name="data", example=ENTRY_EXAMPLE)
@idempotent
@bp.output(WatchEntryOut, status_code=201, headers=Created)
@bp.doc(tags=TAGS, summary="Log a line in the watch (never edited or deleted)", responses=WRITE)
@transactional
def add_entry(watch_id, data):
    """The officer of the watch, supervisors and admins. 422 for a time in the future or before the
    watch began, or an incident reference that names none; 409 once the watch is over."""
    session = get_session()
    watch = log.get_watch(session, watch_id)
    entry = log.add_entry(
        session, watch, caller(), utcnow(), data["text"], data.get("at"), data.get("incident"), _limits()
    )
    return entry, 201, {"Location": url_for("api.get_watch", watch_id=watch.id)}


@bp.post("/watches/<int:watch_id>/handover")
@bp.auth_required(token_auth)
@requires(Permission.WATCHES_KEEP)
@bp.input(HandoverIn, arg_name="data", example=HANDOVER_EXAMPLE)
@idempotent
@bp.output(HandoverOut, status_code=201, headers=Created)
@bp.doc(tags=TAGS, summary="Prepare the handover of the watch: the brief for the incoming officer", responses=WRITE)
@transactional
def prepare_handover(watch_id, data):
    """The officer of the watch, supervisors and admins. The brief is a snapshot: open incidents FLASH
    first, the clocks of the next 12 hours, lines not OK, exercises running or within 7 days, what changed
    since the last handover and the watch's log. 409 when a handover of the watch waits for its
    signature (POST /handovers/{id}/brief regenerates it) or the watch is over."""
    session = get_session()
    watch = log.get_watch(session, watch_id)
    notes, markings = data.get("notes", ""), wiring.markings()
    prepared = handover.prepare(session, watch, caller(), data["incoming"], utcnow(), notes, markings)
    return prepared, 201, {"Location": url_for("api.get_handover", handover_id=prepared.id)}


@bp.get("/handovers/<int:handover_id>")
@bp.auth_required(token_auth)
@bp.output(HandoverOut)
@bp.doc(tags=TAGS, summary="A handover on record: who to whom, the brief, the notes, the signature", responses=READ)
def get_handover(handover_id):
    return handover.get_handover(get_session(), handover_id)


@bp.get("/handovers/<int:handover_id>/brief")
@bp.auth_required(token_auth)
@bp.output(BriefOut)
@bp.doc(tags=TAGS, summary="The handover's brief as it was prepared", responses=READ)
def get_brief(handover_id):
    return handover.get_handover(get_session(), handover_id).brief


@bp.post("/handovers/<int:handover_id>/brief")
@bp.auth_required(token_auth)
@requires(Permission.WATCHES_KEEP)
@bp.input(HandoverRegenerateIn, arg_name="data", examples=NOTHING)
@bp.output(HandoverOut)
@bp.doc(tags=TAGS, summary="Take the brief again as of now, until the handover is signed", responses=WRITE)
@transactional
def regenerate_brief(handover_id, data):
    """The outgoing side (the officer of the watch, supervisors, admins) or the incoming officer;
    `incoming` hands over to someone else instead (the outgoing side only). 409 once signed."""
    session = get_session()
    found = handover.get_handover(session, handover_id)
    return handover.regenerate(session, found, caller(), utcnow(), data.get("incoming"), wiring.markings())


@bp.post("/handovers/<int:handover_id>/notes")
@bp.auth_required(token_auth)
@requires(Permission.WATCHES_KEEP)
@bp.input(HandoverNotesIn, arg_name="data", example=NOTES_EXAMPLE)
@bp.output(HandoverOut)
@bp.doc(tags=TAGS, summary="Write the outgoing officer's notes on the handover", responses=WRITE)
@transactional
def write_notes(handover_id, data):
    """The officer of the outgoing watch, supervisors and admins; replaces the notes; 409 once signed."""
    session = get_session()
    found = handover.get_handover(session, handover_id)
    return handover.set_notes(session, found, caller(), data["notes"])


@bp.post("/handovers/<int:handover_id>/sign")
@bp.auth_required(token_auth)
@requires(Permission.WATCHES_KEEP)
@bp.input(HandoverSignIn, arg_name="data", examples=NOTHING)
@bp.output(HandoverOut)
@bp.doc(tags=TAGS, summary="Sign for the watch as its incoming officer", responses=WRITE)
@transactional
def sign_handover(handover_id, data):
    """The incoming officer only (403 for anyone else, admins included). The outgoing watch ends and
    the incoming officer's starts at the signature. `digest`: the one read (409 if the brief or the
    notes changed since); 409 once signed."""
    session = get_session()
    found = handover.get_handover(session, handover_id)
    return handover.sign(session, found, caller(), utcnow(), data.get("digest"), address())


# -- the desk-centred spellings: the current watch, a handover named by its desk --


@bp.get("/watches/current")
@bp.auth_required(token_auth)
@bp.input(CurrentWatchQuery, location="query", arg_name="query")
@bp.output(WatchDetailOut)
@bp.doc(tags=TAGS, summary="The desk's open watch with its log (404 while nobody is on watch)", responses=READ)
def current_watch(query):
    return log.current_watch(get_session(), query.get("desk"))


@bp.post("/handovers")
@bp.auth_required(token_auth)
@requires(Permission.WATCHES_KEEP)
@bp.input(HandoverCreateIn, arg_name="data", example=HAND_BACK_EXAMPLE)
@idempotent
@bp.output(HandoverOut, status_code=201, headers=Created)
@bp.doc(tags=TAGS, summary="Prepare the handover of a desk's open watch for the incoming officer", responses=WRITE)
@transactional
def create_handover(data):
    """As POST /watches/{id}/handover, for `watch_id` or else the open watch at `desk` (404 when
    nobody is on watch there; 422 when both are given and the watch is kept at another desk)."""
    session = get_session()
    watch = log.watch_to_hand_over(session, data.get("watch_id"), data.get("desk"))
    notes, markings = data.get("notes", ""), wiring.markings()
    prepared = handover.prepare(session, watch, caller(), data["incoming"], utcnow(), notes, markings)
    return prepared, 201, {"Location": url_for("api.get_handover", handover_id=prepared.id)}
