"""The one place errors become answers: the JSON envelope {"error": {"code", "message", "details"}}
on API paths, the error page in the layout everywhere else. A 5xx never echoes the exception."""

import logging
from datetime import datetime
from typing import Any

from apiflask import APIFlask, HTTPError
from flask import Flask, current_app, render_template, request, url_for
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound, RequestEntityTooLarge
from werkzeug.http import HTTP_STATUS_CODES

from ..errors import Conflict, TrackerError
from ..sentences import Sentence
from ..timeutil import isoformat
from . import bodies, paths

API_PREFIX = "/api/"
# The one-click links of messages (web/links.py, web/receipt_links.py): pages in a frame of their own.
LINKS_PREFIX = "/links/"
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
    503: "database_unavailable",
}
# What each refusal means, for the API's documentation of its answers.
ERRORS = {
    400: "Bad request (malformed JSON)",
    401: "No valid bearer token",
    403: "The caller's role may not do this",
    404: "Not found",
    409: "Conflict with the current state",
    413: "The body is larger than the server accepts",
    415: "The body must be application/json",
    429: "Too many attempts from this address or for this account; see Retry-After",
    503: "The database does not answer (down, restarting or out of connections); try again after Retry-After",
}
TITLES = {
    400: "Bad request",
    403: "Not allowed",
    404: "Not found",
    405: "Not allowed here",
    429: "Too many attempts",
    500: "Server error",
    503: "Database unavailable",
}

Answer = tuple[Any, int, dict[str, str]]


def wants_html() -> bool:
    """Pages answer with HTML, the API with JSON."""
    return not request.path.startswith(API_PREFIX)


def error_page(code: int, message: str | Sentence = "", title: str | None = None) -> tuple[str, int]:
    """The error page in the layout (a link's page in the links' own frame, without our navigation: a receipt
    link's reader is the other side); a message naming what was typed (a Sentence) with each name isolated."""
    template = "links/error.html" if request.path.startswith(LINKS_PREFIX) else "web/error.html"
    return render_template(template, code=code, title=title or TITLES.get(code, "Error"), message=message), code


def envelope(code: str, message: str, details: dict, status: int, headers=None) -> Answer:
    return {"error": {"code": code, "message": message, "details": details}}, status, dict(headers or {})


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


def _problems(details: dict) -> dict:
    """A 422's details in one shape, as the schemas write them and the README promises: each field's
    problems a list of sentences ({"latitude": ["..."]}), nested fields the same (platforms -> "0" ->
    transponder_on). The services' checks name one problem a field as a plain string; a client had to
    read both shapes. Other values (a number, a list of what is allowed) are facts and stay as they are."""
    return {
        key: [value] if isinstance(value, str) else _problems(value) if isinstance(value, dict) else value
        for key, value in details.items()
    }


def _phrase(status: int) -> str:
    return HTTP_STATUS_CODES.get(status, "").lower()


def _http_error(error: HTTPError):
    if wants_html():
        # Werkzeug's own phrase ("Not Found") says again, in other capitals, what the title says: no message.
        said = (error.message or "") if error.status_code < 500 else ""
        repeated = said.lower() in (TITLES.get(error.status_code, "").lower(), _phrase(error.status_code))
        return error_page(error.status_code, "" if repeated else said)
    status = error.status_code
    code = CODES.get(status, "internal_error" if status >= 500 else "error")
    message = error.message or "Error"
    details = _flatten(error.detail)
    if status == 422:
        details = _problems(details)
        if message == current_app.config["VALIDATION_ERROR_DESCRIPTION"]:
            message = _invalid(error.detail) or message
    if status == 400 and not details:
        message = "the request body is not valid JSON" if request.data else message
    if status >= 500:
        message, details = "internal error; the server log has the details", {}
    return envelope(code, message, details, status, error.headers)


# Where webargs found what it refused, as a 422's message says it.
LOCATIONS = {"json": "the body", "query": "the query", "headers": "the headers"}


def _invalid(detail) -> str:
    """A 422 from the request's schema said only "Validation error": a client that logs the message learnt
    nothing from it. It names what was refused, and where; the details say why, field by field."""
    if not isinstance(detail, dict):
        return ""
    said = [
        f"in {LOCATIONS.get(location, location)}: {', '.join(sorted(map(str, fields)))}"
        for location, fields in detail.items()
        if isinstance(fields, dict) and fields
    ]
    return f"not valid {'; '.join(said)}" if said else ""


def _werkzeug_error(error: HTTPException):
    """An HTTPException (Werkzeug's own, or a page's abort()) answered as an HTTPError is. APIFlask's handler kept
    only the status's name, so what a page said to abort() ("The form's one-time key is damaged: open the form
    again.") was never shown; a description of the exception's own is said, Werkzeug's stock text is not."""
    said = error.description if error.description != type(error).description else error.name
    headers = {name: value for name, value in error.get_headers() if name != "Content-Type"}
    if not wants_html() and request.url_rule is None and isinstance(error, NotFound | MethodNotAllowed):
        return _http_error(HTTPError(error.code, *_unrouted(error), headers=headers))
    if isinstance(error, RequestEntityTooLarge) and said == error.name and (limit := request.max_content_length):
        # "Request Entity Too Large" left the sender to guess by how much: the limit is no secret.
        said = f"the body is larger than the {limit:,} bytes this server accepts"
        return _http_error(HTTPError(413, said, {"body": f"over {limit:,} bytes"}, headers=headers))
    return _http_error(HTTPError(error.code or 500, said, headers=headers))


def _unrouted(error: NotFound | MethodNotAllowed) -> tuple[str, dict]:
    """What an API request that matched no operation did wrong, and where: the bare "Not Found" or "Method Not
    Allowed" left a client to guess whether the path, the method or a record was wrong."""
    path, method = request.path, request.method
    if isinstance(error, MethodNotAllowed):
        allowed = sorted(set(error.valid_methods or ()) - {"HEAD", "OPTIONS"})
        said = f"{path} takes {', '.join(allowed)}, not {method}"
        return said, {"method": f"{method} is not allowed here", "allowed": allowed}
    if found := paths.id_not_whole(current_app, request):  # the path of an operation but for its id
        name, given = found
        said = f"{name} in {path} must be a whole number of 1 or more, not {given!r}"
        return said, {"path": path, name: "a whole number of 1 or more"}
    docs = url_for("openapi.docs") if "openapi.docs" in current_app.view_functions else None
    said = f"no operation of the API at {path}" + (f": {docs} lists them" if docs else "")
    return said, {"path": path}


def _domain_error(error: TrackerError):
    headers = {}
    if "retry_after_seconds" in error.details:
        headers["Retry-After"] = str(error.details["retry_after_seconds"])
    if wants_html():
        page, status = error_page(error.status, error.sentence or error.message)
        return page, status, headers
    details = _jsonable(error.details)
    return envelope(
        error.code, error.message, _problems(details) if error.status == 422 else details, error.status, headers
    )


def _stale(_error: StaleDataError):
    return _domain_error(Conflict("the incident changed while you were acting on it; read it again"))


def _integrity(error: IntegrityError):
    return _domain_error(
        Conflict("the change conflicts with existing data", {"constraint": str(error.orig).splitlines()[0][:200]})
    )


log = logging.getLogger(__name__)
# Why a database does not answer, not what a statement did wrong: PostgreSQL's connection exceptions (class 08),
# its shutting down or refusing more (57P0x, 53300); SQLite's file held by a writer too long, or out of reach.
_UNAVAILABLE_STATES = ("08", "57P01", "57P02", "57P03", "53300")
_UNAVAILABLE_SQLITE = ("database is locked", "unable to open database file", "disk i/o error")
RETRY_AFTER_SECONDS = 5


def unavailable(error: OperationalError) -> bool:
    """Whether the database failed to answer at all (not a statement's own fault)."""
    state = getattr(error.orig, "sqlstate", None)
    said = str(error.orig).strip().lower()
    if error.connection_invalidated or (state is None and hasattr(error.orig, "sqlstate")):  # psycopg: no server
        return True
    if state is not None:
        return state.startswith(_UNAVAILABLE_STATES)
    return said.startswith(_UNAVAILABLE_SQLITE)


def _database_unavailable(error: OperationalError):
    """The database down, restarting or out of connections: 503 with Retry-After, on either door, and one line in
    the log (the driver's first), not a 500 with a traceback for every request while it is so. Any other
    OperationalError is a fault of ours: raised on, a 500."""
    if not unavailable(error):
        raise error
    first = str(error.orig).strip().splitlines()[0][:200] if str(error.orig).strip() else type(error.orig).__name__
    log.warning("the database did not answer %s %s: %s", request.method, request.path, first)
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    said = "the database is not answering: try again in a few seconds"
    if wants_html():
        page, status = error_page(503, "The database is not answering: try again in a few seconds.")
        return page, status, headers
    return envelope("database_unavailable", said, {"retry_after_seconds": RETRY_AFTER_SECONDS}, 503, headers)


def _csrf_refused(error: CSRFError):
    return error_page(400, error.description or "", title="Form expired")


def _jsonable(details: dict) -> dict:
    return {k: isoformat(v) if isinstance(v, datetime) else v for k, v in details.items()}


def _refuse_impossible_path_values():
    """Answer 404, on either door, for a path value no row can have (a NUL, an id beyond 32 bits): the
    database would raise on it (a 500) instead of finding nothing."""
    for name, value in (request.view_args or {}).items():
        if (isinstance(value, str) and "\x00" in value) or (isinstance(value, int) and value > 2**31 - 1):
            raise HTTPError(404, f"no {name} {value!r}", {name: "no such value can exist"})


FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"


def _refuse_unreadable_bodies():
    """Refuse, on either door, a request the tracker would misread rather than read:
    - a query parameter that is not UTF-8 once unquoted (?sector=%FF): Werkzeug read it with replacement
      characters, so a filter matched nothing, or a name with U+FFFD in it was searched for (400);
    - a compressed body (Content-Encoding other than identity): nothing here decompresses, so the
      compressed bytes were read as the body (415);
    - a form field that is not UTF-8 text, url-encoded or multipart (http.bodies): mojibake, replacement
      characters or nothing was stored where a person wrote (400);
    - a JSON body sent to a page (415): Flask-WTF read it as the page's form, so a number or an object
      reached the text rules and length checks of a field (a 500); no page's script posts JSON."""
    if (parameter := bodies.urlencoded_field_not_utf8(request.query_string)) is not None:
        raise HTTPError(
            400, f"the query's parameter {parameter!r} is not UTF-8 text: send it again", {parameter: "not UTF-8"}
        )
    encoding = request.headers.get("Content-Encoding", "").strip().lower()
    if encoding not in ("", "identity"):
        raise HTTPError(
            415, f"send the body uncompressed: Content-Encoding {encoding!r} is not accepted", {"encoding": encoding}
        )
    if request.method not in ("POST", "PUT", "PATCH", "DELETE"):
        return
    if wants_html() and request.is_json:
        raise HTTPError(415, "a page takes its form as a browser sends it (url-encoded or multipart), not as JSON")
    field = None
    if request.mimetype == FORM:
        field = bodies.urlencoded_field_not_utf8(request.get_data(cache=True))
    elif request.mimetype == MULTIPART and (boundary := request.mimetype_params.get("boundary")):
        field = bodies.multipart_field_not_utf8(request.get_data(cache=True), boundary.encode("latin-1", "replace"))
    if field is not None:
        raise HTTPError(400, f"the form's field {field!r} is not UTF-8 text: send it again", {field: "not UTF-8"})


def _no_html_on_api_paths(response):
    """Werkzeug answers two things on API paths before any route or error handler runs, both as HTML: the
    redirect of a path with doubled slashes (/api/v1//incidents: a "Redirecting..." page) and the automatic
    answer to OPTIONS (an empty body typed text/html). Neither is a page: the redirect keeps its Location and
    loses the page, and nothing of either is said to be HTML."""
    if wants_html() or response.mimetype != "text/html":
        return response
    if 300 <= response.status_code < 400 or request.method == "OPTIONS":
        response.set_data(b"")
        del response.headers["Content-Type"]
    return response


def init_app(app: Flask) -> None:
    """Register every error handler of the app, for both doors, and the check of path values."""
    if isinstance(app, APIFlask):
        app.error_processor(_http_error)
    app.register_error_handler(HTTPException, _werkzeug_error)
    # Before the CSRF check (web.init_app registers it after this): the raw body must be read before
    # anything parses the form. After logs' request id, so that a refusal carries one.
    app.before_request(_refuse_unreadable_bodies)
    app.before_request(_refuse_impossible_path_values)
    app.register_error_handler(TrackerError, _domain_error)
    app.register_error_handler(StaleDataError, _stale)
    app.register_error_handler(IntegrityError, _integrity)
    app.register_error_handler(OperationalError, _database_unavailable)
    app.register_error_handler(CSRFError, _csrf_refused)
    app.after_request(_no_html_on_api_paths)
