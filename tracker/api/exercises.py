"""Exercise notices: the register, its CSV import, and the iCalendar feed of what is coming.

Everyone signed in reads the register (duty officers, liaison staff, supervisors, admins);
supervisors and admins change it. The feed takes a bearer token like every route, or, since
calendar clients cannot send one, a signed key in its URL (GET /exercises/feed-link).
"""

from urllib.parse import urlsplit

from apiflask.schemas import FileSchema
from flask import current_app, request, url_for

from ..db import get_session
from ..errors import Forbidden, Unauthorized, ValidationError
from ..http import ratelimit, tokens, wiring
from ..http.access import caller, requires
from ..http.idempotency import idempotent
from ..http.tokens import token_auth
from ..http.transaction import transactional
from ..models import User
from ..models.permissions import Permission, may
from ..services.exercises import briefings, checks, csv_import, ical, register
from ..timeutil import utcnow
from . import ERRORS, Created, bp
from .exercise_schemas import (
    BriefingIn,
    BriefingOut,
    ExerciseImportIn,
    ExerciseIn,
    ExerciseOut,
    ExerciseQuery,
    FeedLinkOut,
    prime_checks,
)

READ = {code: ERRORS[code] for code in (403, 404)}
WRITE = {code: ERRORS[code] for code in (400, 403, 404, 409, 415)}
TAGS = ["Exercises"]
FEED_KEY = {
    "type": "apiKey",
    "in": "query",
    "name": "key",
    "description": "The signed key of a feed link (GET /api/v1/exercises/feed-link), for calendar clients.",
}


# The docs page's "Try it out" examples, which work as they are on the demo data (a supervisor's): an exercise of
# our own (the demo has three: the new one is exercise 4), changed, and our briefing on it; then an import of one
# of theirs. A briefing and a notification are recorded once given, so their times are past (after the filing
# example's 27 November 2026); an exercise's own may lie either side of now.
EXERCISE_EXAMPLE = {
    "name": "NORTHERN GUARD-27",
    "states": ["Northmark"],
    "starts_at": "2027-04-12T06:00:00Z",
    "ends_at": "2027-04-18T18:00:00Z",
    "centre_latitude": 54.3,
    "centre_longitude": 22.6,
    "radius_km": 20,
    "declared_size": 4000,
    "notified_via": "voluntary_briefing",
    "ours": True,
    "notes": "Brigade command post exercise with troops in the field.",
}
EXERCISE_CHANGE_EXAMPLE = {"declared_size": 4500}
BRIEFING_EXAMPLE = {
    "briefed_at": "2026-11-30T10:00:00Z",
    "briefed_to": "Eastland defence attaché",
    "via": "voluntary_briefing",
    "content": "Dates, area and 4,500 troops.",
}
IMPORT_EXAMPLE = {
    "csv": "name,states,starts_at,ends_at,centre,radius_km,declared_size,notified_via,notified_at,notified_by\n"
    'WESTERN SHIELD-27,Eastland,2027-06-01T06:00:00Z,2027-06-05T18:00:00Z,"54 09 00N 023 45 00E",30,'
    "6000,vienna_document,2026-11-25T09:00:00Z,Eastland\n"
}


@bp.record_once
def _document_feed_key(state) -> None:
    schemes = state.app.config.get("SECURITY_SCHEMES") or {}
    state.app.config["SECURITY_SCHEMES"] = {**schemes, "FeedKey": FEED_KEY}


@bp.get("/exercises")
@bp.auth_required(token_auth)
@requires(Permission.EXERCISES_READ)
@bp.input(ExerciseQuery, location="query", arg_name="query")
@bp.output(ExerciseOut(many=True))
@bp.doc(tags=TAGS, responses=READ)
def list_exercises(query):
    """List notified exercises

    All (soonest first), or only the upcoming, running, current (running or upcoming) or past ones
    (newest first); since and until keep those overlapping that window; ours=true only our own.
    Each carries its Vienna Document checks.
    """
    exercises = register.list_exercises(get_session(), utcnow(), **query)
    prime_checks(exercises)
    return exercises


@bp.post("/exercises")
@bp.auth_required(token_auth)
@requires(Permission.EXERCISES_MANAGE)
@bp.input(ExerciseIn, arg_name="data", example=EXERCISE_EXAMPLE)
@idempotent
@bp.output(ExerciseOut, status_code=201, headers=Created)
@bp.doc(tags=TAGS, responses=WRITE)
@transactional
def create_exercise(data):
    """Enter a notified exercise

    Give a polygon area, or a centre and a radius. Incidents not yet resolved that lie inside its
    area and time are linked to it at once (supervisors and admins).
    """
    exercise = register.create_exercise(get_session(), data, caller().username, utcnow(), wiring.border_km())
    return exercise, 201, {"Location": url_for("api.get_exercise", exercise_id=exercise.id)}


@bp.get("/exercises/<int:exercise_id>")
@bp.auth_required(token_auth)
@requires(Permission.EXERCISES_READ)
@bp.output(ExerciseOut)
@bp.doc(tags=TAGS, summary="Read a notified exercise", responses=READ)
def get_exercise(exercise_id):
    return register.get_exercise(get_session(), exercise_id)


@bp.patch("/exercises/<int:exercise_id>")
@bp.auth_required(token_auth)
@requires(Permission.EXERCISES_MANAGE)
@bp.input(ExerciseIn(partial=True), arg_name="data", example=EXERCISE_CHANGE_EXAMPLE)
@bp.output(ExerciseOut)
@bp.doc(tags=TAGS, responses=WRITE)
@transactional
def update_exercise(exercise_id, data):
    """Change a notified exercise

    Fields left out keep their value; to swap the polygon for a circle (or back), set the other
    shape's fields to null. Incidents not yet resolved are linked or unlinked to match.
    """
    session = get_session()
    exercise = register.get_exercise(session, exercise_id)
    if not data:  # as a line's, policy's, rule's or agreement's: it answered 200 and recorded an empty change
        raise ValidationError(
            "the change names nothing to change: give the exercise's fields to change", {"body": "no field to change"}
        )
    return register.update_exercise(session, exercise, data, caller().username, utcnow(), wiring.border_km())


@bp.delete("/exercises/<int:exercise_id>")
@bp.auth_required(token_auth)
@requires(Permission.EXERCISES_MANAGE)
@bp.output({}, status_code=204)
@bp.doc(tags=TAGS, summary="Delete a notified exercise (its incidents lose the link)", responses=WRITE)
@transactional
def delete_exercise(exercise_id):
    register.delete_exercise(get_session(), exercise_id, caller().username, utcnow(), wiring.border_km())
    return None


@bp.post("/exercises/import")
@bp.auth_required(token_auth)
@requires(Permission.EXERCISES_MANAGE)
@bp.input(ExerciseImportIn, arg_name="data", example=IMPORT_EXAMPLE)
@idempotent
@bp.output(ExerciseOut(many=True), status_code=201)
@bp.doc(tags=TAGS, responses=WRITE)
@transactional
def import_exercises(data):
    """Import notified exercises from CSV text, all rows or none

    One bad row and nothing is stored: the 422 answer lists each bad row ("row 3", the header
    being row 1) with its problems.
    """
    created = csv_import.import_csv(get_session(), data["csv"], caller().username, utcnow(), wiring.border_km())
    prime_checks(created)
    return created


@bp.get("/exercises/<int:exercise_id>/briefings")
@bp.auth_required(token_auth)
@requires(Permission.EXERCISES_READ)
@bp.output(BriefingOut(many=True))
@bp.doc(tags=TAGS, summary="List our briefings on one of our own exercises, oldest first", responses=READ)
def list_briefings(exercise_id):
    return briefings.list_briefings(get_session(), exercise_id)


@bp.post("/exercises/<int:exercise_id>/briefings")
@bp.auth_required(token_auth)
@requires(Permission.EXERCISES_MANAGE)
@bp.input(BriefingIn, arg_name="data", example=BRIEFING_EXAMPLE)
@idempotent
@bp.output(BriefingOut, status_code=201)
@bp.doc(tags=TAGS, responses=WRITE)
@transactional
def record_briefing(exercise_id, data):
    """Record a briefing we gave on one of our own exercises

    What we briefed, to whom, when and how (supervisors and admins). Only on an exercise marked ours
    (409 otherwise). The exercise's checks then read it as our notification: one given under 42 days
    before a notifiable exercise's start is flagged late.
    """
    session = get_session()
    exercise = register.get_exercise(session, exercise_id)
    return briefings.record_briefing(session, exercise, data, caller().username, utcnow())


@bp.get("/exercises/feed-link")
@bp.auth_required(token_auth)
@requires(Permission.EXERCISES_READ)
@bp.output(FeedLinkOut)
@bp.doc(tags=TAGS, responses=READ)
def exercise_feed_link():
    """A link to the iCalendar feed, for calendar clients

    Signed for the caller; it stops working when it expires, or when the caller's password
    changes or the account is deactivated.
    """
    return wiring.feed_link(caller())


def _feed_reader() -> User:
    """The caller by bearer token, or by the feed link's key (either under the limit on wrong tokens)."""
    header = request.headers.get("Authorization", "")
    key = request.args.get("key", "")
    if len(request.args.getlist("key")) > 1:  # as every query's one-value parameter (http.fields.Query)
        raise ValidationError(
            "the query is not valid", {"key": ["given more than once; this parameter takes one value"]}
        )
    if header:
        scheme, _, token = header.partition(" ")
        user = tokens.user_for_token(token.strip()) if scheme.lower() == "bearer" else None
        if user is None:
            raise Unauthorized("the bearer token is not valid")
    elif key:
        user_id = ratelimit.guarded(
            f"token:address:{ratelimit.address()}",
            "TOKEN_FAILURES_PER_ADDRESS",
            "wrong tokens from this address",
            lambda session: ical.feed_reader(session, wiring.feed_signer(), key, utcnow()).id,
        )
        user = get_session().get(User, user_id)
    else:
        raise Unauthorized("send a bearer token, or use the signed feed link from the Exercises page")
    if user is None:
        raise Unauthorized("the feed link is no longer valid: copy a new one from the Exercises page")
    if not may(user.role, Permission.EXERCISES_READ):
        raise Forbidden(f"{user.username} ({user.role.label}) may not read the exercises")
    return user


@bp.get("/exercises.ics")
@bp.output(
    FileSchema(type="string", format="binary"),
    content_type="text/calendar",
    description="An iCalendar (RFC 5545) document: one VEVENT per running or upcoming exercise",
)
@bp.doc(tags=TAGS, security=[{"BearerAuth": []}, {"FeedKey": []}], responses={403: ERRORS[403]})
def exercise_feed():
    """iCalendar feed of running and upcoming exercises

    Subscribe a calendar client to the link from GET /exercises/feed-link (or the Exercises page);
    scripts may send their bearer token instead.
    """
    _feed_reader()
    session = get_session()
    now = utcnow()
    host = urlsplit(current_app.config["PUBLIC_URL"]).hostname or "tracker.invalid"
    exercises = register.list_exercises(session, now, "current")
    found = checks.check_all(session, exercises, wiring.vienna_rules())
    marked = checks.observed_marking(session, [e.id for e in exercises], wiring.markings())
    body = ical.calendar(exercises, host, now, found, marked)
    headers = {
        "Content-Type": "text/calendar; charset=utf-8",
        "Content-Disposition": 'inline; filename="exercises.ics"',
    }
    return current_app.response_class(body, 200, headers)
