"""What may go to the other side: releasability of an incident's fields, and counterpart summaries
(draft from releasable fields, edit, approve, send over an exchange)."""

from apiflask import Schema, fields
from apiflask.validators import Length
from flask import url_for

from ..db import get_session
from ..errors import Conflict, ValidationError
from ..http import wiring
from ..http.access import caller, requires
from ..http.fields import UTC, Pattern, Text
from ..http.idempotency import idempotent
from ..http.tokens import token_auth
from ..http.transaction import committed, transactional
from ..models import Exchange, SummaryStatus
from ..models.permissions import Permission
from ..services.exchanges import four_eyes, summaries
from ..services.incidents import handling
from ..timeutil import utcnow
from . import ERRORS, Created, bp
from .incident_out import IncidentDetailOut
from .schemas import ID, ReleasabilityIn

READ = {code: ERRORS[code] for code in (403, 404)}
WRITE = {code: ERRORS[code] for code in (400, 403, 404, 409, 415)}
TEXT = Length(min=1, max=summaries.TEXT_MAX_LENGTH)
VERSION = fields.Integer(
    strict=True, required=True, validate=ID, metadata={"description": "the summary's version as you read it"}
)


class ReleasabilityChangeIn(ReleasabilityIn):
    """The body of PATCH .../releasability (a class of its own: see TimelineEntryOut)."""


class SummaryDraftIn(Schema):
    exchange_id = fields.Integer(
        strict=True, allow_none=True, validate=ID, metadata={"description": "the exchange it will go out on"}
    )
    language = Text(
        allow_none=True,
        validate=Pattern(r"^[a-z]{2,3}$", error="a language code of 2 or 3 lower-case letters, e.g. ru"),
        metadata={"description": "second language; default: the exchange line's (English only without one)"},
    )


class SummaryEditIn(Schema):
    text = Text(validate=TEXT, metadata={"description": "the English text"})
    text_second = Text(validate=TEXT, metadata={"description": "the text in the line's second language"})
    version = VERSION


class SummaryApproveIn(Schema):
    version = VERSION


class SummarySendIn(Schema):
    exchange_id = fields.Integer(
        strict=True, allow_none=True, validate=ID, metadata={"description": "default: the summary's own exchange"}
    )


class SummaryOut(Schema):
    id = fields.Integer()
    reference = fields.String(attribute="incident.reference")
    exchange_id = fields.Integer(allow_none=True)
    status = fields.Enum(SummaryStatus, by_value=True, metadata={"description": "draft, approved or sent"})
    text = fields.String()
    language = fields.String(allow_none=True, metadata={"description": "of text_second; null: English only"})
    text_second = fields.String(allow_none=True)
    fields_used = fields.List(
        fields.String(), attribute="fields", metadata={"description": "incident fields the draft was made from"}
    )
    problems = fields.Method(
        "_problems",
        metadata={
            "type": "object",
            "description": "field -> why the summary may not go out now (empty when it may)",
        },
    )
    drafted_at = UTC()
    drafted_by = fields.String()
    updated_at = UTC()
    approved_at = UTC(allow_none=True)
    approved_by = fields.String(allow_none=True, metadata={"description": "a second person, never an author"})
    edited_by = fields.String(allow_none=True, metadata={"description": "who last reworded it (an author too)"})
    needs_approval = fields.Function(
        summaries.needs_approval,
        metadata={
            "type": "boolean",
            "description": "a draft, or approved on incident facts that changed since: a second person must approve",
        },
    )
    sent_at = UTC(allow_none=True)
    message_id = fields.Integer(allow_none=True, metadata={"description": "the exchange message it went out as"})
    version = fields.Integer()

    def _problems(self, summary) -> dict:
        return summaries.problems(summary)


def _exchange(exchange_id: int | None) -> Exchange | None:
    if exchange_id is None:
        return None
    exchange = get_session().get(Exchange, exchange_id)
    if exchange is None:
        raise ValidationError(f"no exchange {exchange_id}", {"exchange_id": "no such exchange"})
    return exchange


# The docs page's "Try it out" examples, which work as they are on the incident filed by its own example once
# it is acknowledged and its exchange opened (exchange 1, the demo having none): a summary is drafted (version
# 1), reworded (2), approved by a second person and sent.
RELEASABILITY_EXAMPLE = {"narrative": True}
SUMMARY_EXAMPLE = {"exchange_id": 1}
SUMMARY_EDIT_EXAMPLE = {
    "text": "On 27 November at 1405Z a small drone crossed the line at 300 m and returned.",
    "version": 1,
}
SUMMARY_APPROVE_EXAMPLE = {"version": 2}
SUMMARY_SEND_EXAMPLE = {"exchange_id": 1}


# -- releasability ------------------------------------------------------------------------


@bp.patch("/incidents/<reference>/releasability")
@bp.auth_required(token_auth)
@requires(Permission.EXCHANGES_TALK)
@bp.input(ReleasabilityChangeIn, arg_name="data", example=RELEASABILITY_EXAMPLE)
@bp.output(IncidentDetailOut)
@bp.doc(tags=["Summaries"], summary="Mark fields releasable or not", responses=WRITE)
@transactional
def change_releasability(reference, data):
    """Change the fields named; the others keep their setting. The timeline records before and after."""
    session = get_session()
    incident = handling.get_incident(session, reference)
    return summaries.change_releasability(session, incident, data, caller(), utcnow())


# -- summaries ----------------------------------------------------------------------------


@bp.post("/incidents/<reference>/summaries")
@bp.auth_required(token_auth)
@requires(Permission.EXCHANGES_TALK)
@bp.input(SummaryDraftIn, arg_name="data", example=SUMMARY_EXAMPLE)
@idempotent
@bp.output(SummaryOut, status_code=201, headers=Created)
@bp.doc(tags=["Summaries"], summary="Draft a counterpart summary", responses=WRITE)
@transactional
def draft_summary(reference, data):
    """Draft from releasable fields only, in English and the line's second language (422 when no
    catalogue serves it, naming the languages available)."""
    session = get_session()
    incident = handling.get_incident(session, reference)
    exchange = _exchange(data.get("exchange_id"))
    summary = summaries.draft(session, incident, exchange, caller(), utcnow(), data.get("language"))
    return summary, 201, {"Location": url_for("api.get_summary", summary_id=summary.id)}


@bp.get("/incidents/<reference>/summaries")
@bp.auth_required(token_auth)
@bp.output(SummaryOut(many=True))
@bp.doc(tags=["Summaries"], summary="List an incident's summaries", responses=READ)
def list_summaries(reference):
    session = get_session()
    return summaries.for_incident(session, handling.get_incident(session, reference))


@bp.get("/summaries/<int:summary_id>")
@bp.auth_required(token_auth)
@bp.output(SummaryOut)
@bp.doc(tags=["Summaries"], summary="Read a summary", responses=READ)
def get_summary(summary_id):
    return summaries.get_summary(get_session(), summary_id)


@bp.patch("/summaries/<int:summary_id>")
@bp.auth_required(token_auth)
@requires(Permission.EXCHANGES_TALK)
@bp.input(SummaryEditIn, arg_name="data", example=SUMMARY_EDIT_EXAMPLE)
@bp.output(SummaryOut)
@bp.doc(tags=["Summaries"], summary="Edit a summary", responses=WRITE)
@transactional
def edit_summary(summary_id, data):
    """Change the wording (409 when it changed since you read it); an approved summary goes back to draft."""
    session = get_session()
    summary = summaries.get_summary(session, summary_id)
    texts = (data.get("text"), data.get("text_second"))
    return summaries.edit(session, summary, *texts, data["version"], caller(), utcnow())


@bp.post("/summaries/<int:summary_id>/approve")
@bp.auth_required(token_auth)
@requires(Permission.EXCHANGES_APPROVE)
@bp.input(SummaryApproveIn, arg_name="data", example=SUMMARY_APPROVE_EXAMPLE)
@bp.output(SummaryOut)
@bp.doc(tags=["Summaries"], summary="Approve a summary", responses=WRITE)
@transactional
def approve_summary(summary_id, data):
    """Four eyes: a second person approves the version they read, never its drafter or last editor (403
    with the reason). Supervisors and admins; liaison members of a line notified for the incident or of
    the exchange's counterpart line. 422 naming each field whose withheld content the text holds."""
    session = get_session()
    summary = summaries.get_summary(session, summary_id)
    return summaries.approve(session, summary, caller(), utcnow(), data["version"])


@bp.post("/summaries/<int:summary_id>/send")
@bp.auth_required(token_auth)
@requires(Permission.EXCHANGES_TALK)
@bp.input(SummarySendIn, arg_name="data", example=SUMMARY_SEND_EXAMPLE)
@bp.output(SummaryOut)
@bp.doc(tags=["Summaries"], summary="Send an approved summary", responses=WRITE)
def send_summary(summary_id, data):
    """Queue the approved text, exactly as approved, on the exchange's counterpart line (its drafter may).
    409 "the incident changed since approval: approve it again" when the incident's facts changed since
    approval: the summary is then a draft again (that change is kept)."""
    session = get_session()
    with committed():
        summary = summaries.get_summary(session, summary_id)
        withdrawn = summaries.withdraw_stale_approval(session, summary, caller(), utcnow())
    if withdrawn:
        raise Conflict(four_eyes.STALE, {"status": summary.status.value, "version": summary.version})
    with committed():
        summary = summaries.get_summary(session, summary_id)
        exchange = _exchange(data.get("exchange_id"))
        summaries.send(session, summary, exchange, caller(), utcnow(), wiring.outgoing_settings())
    return summary
