"""The JSON API under /api/v1: parse -> authorize -> call a service -> serialize -> commit."""

from datetime import datetime

from apiflask import APIBlueprint, APIFlask, HTTPError
from flask import request
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from ..errors import Conflict, TrackerError
from ..timeutil import isoformat

bp = APIBlueprint("api", __name__, url_prefix="/api/v1", tag="Incidents")

CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "too_many_requests",
}
ERRORS = {
    400: "Bad request (malformed JSON)",
    401: "No valid bearer token",
    403: "The caller's role may not do this",
    404: "Not found",
    409: "Conflict with the current state",
    413: "The body is larger than the server accepts",
    415: "The body must be application/json",
    429: "Too many attempts from this address or for this account; see Retry-After",
}


def envelope(code: str, message: str, details: dict, status: int, headers=None):
    return {"error": {"code": code, "message": message, "details": details}}, status, headers or {}


def _flatten(detail) -> dict:
    """Turn webargs' {"json": {"field": [...]}} into {"field": [...]}, keeping the location."""
    if not isinstance(detail, dict):
        return {}
    flat = {}
    for location, fields in detail.items():
        if isinstance(fields, dict):
            flat.update(fields)
        else:
            flat[location] = fields
    return flat


def _process_http_error(error: HTTPError):
    from ..web import error_page, wants_html

    if wants_html():
        return error_page(error.status_code, error.message if error.status_code < 500 else "")
    status = error.status_code
    code = CODES.get(status, "internal_error" if status >= 500 else "error")
    message = error.message or "Error"
    details = _flatten(error.detail)
    if status == 400 and not details:
        message = "the request body is not valid JSON" if request.data else message
    if status >= 500:
        message, details = "internal error; the server log has the details", {}
    return envelope(code, message, details, status, error.headers)


def _domain_error(error: TrackerError):
    from ..web import error_page, wants_html

    headers = {}
    if "retry_after_seconds" in error.details:
        headers["Retry-After"] = str(error.details["retry_after_seconds"])
    if wants_html():
        page, status = error_page(error.status, error.message)
        return page, status, headers
    return envelope(error.code, error.message, _jsonable(error.details), error.status, headers)


def _stale(_error):
    return _domain_error(Conflict("the incident changed while you were acting on it; read it again"))


def _integrity(error: IntegrityError):
    return _domain_error(
        Conflict("the change conflicts with existing data", {"constraint": str(error.orig).splitlines()[0][:200]})
    )


def _jsonable(details: dict) -> dict:
    return {k: isoformat(v) if isinstance(v, datetime) else v for k, v in details.items()}


def _require_json_body():
    """Refuse a body that is not JSON (415), or JSON nested too deeply to parse (400), before parsing."""
    if request.method in ("POST", "PUT", "PATCH") and (request.content_length or request.data):
        if not request.is_json:
            raise HTTPError(415, f"send the body as application/json, not {request.mimetype or 'no type'}")
        try:
            request.get_json(silent=True)  # webargs catches only ValueError; this would be a 500
        except RecursionError:
            raise HTTPError(400, "the JSON body is nested too deeply", {"body": "too deeply nested"}) from None


def _refuse_impossible_path_values():
    """Answer 404 for a path value no row can have (a NUL, an id beyond 32 bits): the database
    would raise on it (a 500) instead of finding nothing."""
    for name, value in (request.view_args or {}).items():
        if (isinstance(value, str) and "\x00" in value) or (isinstance(value, int) and value > 2**31 - 1):
            raise HTTPError(404, f"no {name} {value!r}", {name: "no such value can exist"})


bp.before_request(_refuse_impossible_path_values)
bp.before_request(_require_json_body)


def init_app(app: APIFlask) -> None:
    """Register the API blueprint and the one error envelope."""
    from . import acks, docs, exchanges, exercises, incidents, ladder, mapview, related, reports, summaries, system  # noqa: F401  (routes register on import)

    app.register_blueprint(bp)
    app.error_processor(_process_http_error)
    app.register_error_handler(TrackerError, _domain_error)
    app.register_error_handler(StaleDataError, _stale)
    app.register_error_handler(IntegrityError, _integrity)
    app.spec_processor(_document_shared_refusals)
    docs.init_app(app)


def _document_shared_refusals(spec: dict) -> dict:
    """Say on every operation that takes a body that it may answer 413 (a body over
    MAX_CONTENT_LENGTH is refused before any route runs), and on every operation that takes a
    bearer token that it may answer 429 (an address that sent too many wrong tokens)."""

    def answer(code: int) -> dict:
        return {
            "description": ERRORS[code],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}},
        }

    for operations in spec["paths"].values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            if "requestBody" in operation:
                operation["responses"].setdefault("413", answer(413))
            if any("BearerAuth" in requirement for requirement in operation.get("security", [])):
                operation["responses"].setdefault("429", answer(429))
    return spec
