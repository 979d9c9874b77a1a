"""Agreements the other side is talked to under: every signed-in person reads them, admins keep them."""

from apiflask import Schema, fields
from apiflask.validators import Length
from flask import url_for

from ..db import get_session
from ..http.access import requires
from ..http.fields import Flag, Text
from ..http.idempotency import idempotent
from ..http.tokens import token_auth
from ..http.transaction import transactional
from ..models.permissions import Permission
from ..services.exchanges import agreements
from . import ERRORS, Created, bp
from .schemas import version_count, version_read

READ = {code: ERRORS[code] for code in (403, 404)}
WRITE = {code: ERRORS[code] for code in (400, 403, 404, 409, 415)}
KINDS = ", ".join(agreements.KINDS)


class AgreementIn(Schema):
    code = Text(
        required=True,
        validate=Length(min=1, max=40),
        metadata={"description": "short and unique, as a message header cites it", "examples": ["INCSEA-1972"]},
    )
    title = Text(required=True, validate=Length(min=1, max=200))
    counterpart_state = Text(validate=Length(max=80), metadata={"description": "the other party; empty: multilateral"})
    default_article = Text(validate=Length(max=120), metadata={"examples": ["Article VI"]})
    articles = fields.Dict(
        keys=Text(validate=Length(min=1, max=32)),
        values=Text(validate=Length(max=120)),
        metadata={"description": f"the article cited per kind of message ({KINDS}); others cite the default"},
    )
    notes = Text(validate=Length(max=4000))
    active = Flag()
    version = version_read()


class AgreementOut(Schema):
    id = fields.Integer()
    version = version_count()
    code = fields.String()
    title = fields.String()
    counterpart_state = fields.String()
    default_article = fields.String()
    articles = fields.Dict(keys=fields.String(), values=fields.String())
    notes = fields.String()
    active = fields.Boolean()


# The docs page's "Try it out" examples, which work as they are on the demo data (an admin's): the demo has three
# agreements, so the new one is agreement 4.
AGREEMENT_EXAMPLE = {
    "code": "NM-EL-AIR",
    "title": "Agreement between Northmark and Eastland on the Safety of Military Flights near the Border",
    "counterpart_state": "Eastland",
    "default_article": "Article IV",
    "articles": {"notice": "Article IV(1)", "meeting_request": "Article VIII"},
}
AGREEMENT_CHANGE_EXAMPLE = {"notes": "Signed at Kell; in force from its signature."}


@bp.get("/agreements")
@bp.auth_required(token_auth)
@bp.output(AgreementOut(many=True))
@bp.doc(tags=["Ladder"], summary="List agreements", responses=READ)
def list_agreements():
    return agreements.listing(get_session())


@bp.get("/agreements/<int:agreement_id>")
@bp.auth_required(token_auth)
@bp.output(AgreementOut)
@bp.doc(tags=["Ladder"], summary="Read an agreement", responses=READ)
def get_agreement(agreement_id):
    return agreements.get(get_session(), agreement_id)


@bp.post("/agreements")
@bp.auth_required(token_auth)
@requires(Permission.AGREEMENTS_MANAGE)
@bp.input(AgreementIn, arg_name="data", example=AGREEMENT_EXAMPLE)
@idempotent
@bp.output(AgreementOut, status_code=201, headers=Created)
@bp.doc(tags=["Ladder"], summary="Create an agreement (admins)", responses=WRITE)
@transactional
def create_agreement(data):
    """A code taken already, or an article for an unknown kind of message, answers 422 naming the field."""
    agreement = agreements.save(get_session(), data)
    return agreement, 201, {"Location": url_for("api.get_agreement", agreement_id=agreement.id)}


@bp.patch("/agreements/<int:agreement_id>")
@bp.auth_required(token_auth)
@requires(Permission.AGREEMENTS_MANAGE)
@bp.input(AgreementIn(partial=True), arg_name="data", example=AGREEMENT_CHANGE_EXAMPLE)
@bp.output(AgreementOut)
@bp.doc(tags=["Ladder"], summary="Change an agreement (admins)", responses=WRITE)
@transactional
def update_agreement(agreement_id, data):
    session = get_session()
    return agreements.save(session, data, agreements.get(session, agreement_id))
