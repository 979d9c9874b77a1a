"""The JSON API under /api/v1: parse -> authorize -> call a service -> commit -> serialize.

Errors are answered by tracker.http.errors (the JSON envelope), for the pages as well."""

import codecs
import json
import re
from typing import Any

from apiflask import APIBlueprint, APIFlask, HTTPError, Schema, fields
from flask import current_app, request
from werkzeug.exceptions import BadRequest

from ..errors import ValidationError
from ..http import idempotency
from ..http.errors import ERRORS

bp = APIBlueprint("api", __name__, url_prefix="/api/v1", tag="Incidents")


class Created(Schema):
    """The headers of a 201 that made something one can read: @bp.output(..., status_code=201, headers=Created)."""

    location = fields.String(
        data_key="Location", required=True, metadata={"description": "the path to GET what was created"}
    )


# What a JSON body that is no object is, in a refusal's words.
JSON_KINDS: dict[type, str] = {
    list: "an array",
    str: "a string",
    int: "a number",
    float: "a number",
    bool: "true or false",
    type(None): "null",
}


def _require_json_body():
    """Refuse a body that is not JSON (415), or that does not parse (400, saying what is wrong and where),
    before webargs reads it.

    request.get_json() parses it with the app's own JSON reader (http.output), which names a key given twice.
    Outside debug mode Flask answers a parse failure with a bare BadRequest, so the reader's own error (a key
    given twice, a missing comma at line 3) is taken from behind it. webargs catches only JSONDecodeError: JSON
    nested too deeply (RecursionError) or holding an integer of more than 4,300 digits (Python's int limit, a
    plain ValueError) would be a 500."""
    if request.method in ("POST", "PUT", "PATCH") and (request.content_length or request.data):
        if not request.is_json:
            raise HTTPError(
                415,
                f"send the body as application/json, not {request.mimetype}"
                if request.mimetype
                else "send the body as application/json: the request says no Content-Type",
            )
        body = request.get_data(cache=True)
        if body.startswith(codecs.BOM_UTF8):  # Flask reads past it, webargs does not
            said = "begins with a byte order mark: send JSON without one"  # (RFC 8259 8.1)
            raise HTTPError(400, "the request body is not valid JSON", {"body": said})
        if wrong := _not_utf8(body):
            # RFC 8259 8.1: JSON between systems is UTF-8. The reader decodes as the first bytes suggest (UTF-16
            # for FF FE, say), so it named a byte further on that is UTF-8, read on and named a place in what it
            # decoded, or read it all and webargs, reading it as UTF-8, answered a bare 400: told first, at the
            # first byte that is not UTF-8.
            said = f"byte {wrong.object[wrong.start]:#04x} at offset {wrong.start} is not UTF-8: send the JSON as UTF-8"
            raise HTTPError(400, "the request body is not UTF-8 text", {"body": said})
        try:
            sent = request.get_json()
        except RecursionError:
            raise HTTPError(400, "the JSON body is nested too deeply", {"body": "too deeply nested"}) from None
        except BadRequest as refused:
            raise _unreadable(_reason(refused)) from None
        if not isinstance(sent, dict):  # marshmallow said only "_schema": "Invalid input type."
            kind = JSON_KINDS.get(type(sent), "a value")
            said = f'must be a JSON object ({{"name": value, ...}}), not {kind}'
            raise HTTPError(422, "the request body must be a JSON object", {"body": [said]})


def _reason(refused: BaseException) -> ValueError | None:
    """The JSON reader's own error behind Flask's BadRequest (raised from it), if any."""
    seen: BaseException | None = refused
    while seen is not None and not isinstance(seen, ValueError):
        seen = seen.__cause__ or seen.__context__
    return seen


def _not_utf8(body: bytes) -> UnicodeDecodeError | None:
    """Where body is not UTF-8, if anywhere."""
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as wrong:
        return wrong
    return None


def _unreadable(error: ValueError | None) -> HTTPError:
    """The 400 for a body the reader refused, saying what is wrong and where."""
    if isinstance(error, json.JSONDecodeError):
        said = f"{error.msg} at line {error.lineno}, column {error.colno}"
    else:  # a key given twice (http.output), an integer beyond Python's limit
        said = str(error or "")
        if "is given twice" not in said:
            said = "holds a number of more than 4,300 digits" if "digits" in said else "not valid JSON"
    return HTTPError(400, "the request body is not valid JSON", {"body": said})


bp.before_request(_require_json_body)

# The operations that read their query themselves, not through a schema: the calendar feed's signed key.
READ_OWN_QUERY = frozenset({"api.exercise_feed"})


@bp.before_request
def _refuse_a_query_it_does_not_have():
    """Refuse (422, naming them) query parameters an operation without a query of its own was sent, as one with a
    query schema refuses those it does not have (http.fields.Query): ?bogus=1 filed an incident, deleted a line and
    answered GET /channels with every line, as if it were a filter."""
    if not request.args or request.endpoint in READ_OWN_QUERY:
        return
    spec = getattr(current_app.view_functions.get(request.endpoint or ""), "_spec", None) or {}
    if any(location == "query" for _schema, location in spec.get("args") or ()):
        return
    problems = {name: ["not a parameter of this operation"] for name in request.args}
    raise ValidationError("the query is not valid", problems)


def init_app(app: APIFlask) -> None:
    """Register the API blueprint and what its documentation says of every operation."""
    from . import (  # noqa: F401  (routes register on import)
        acks,
        agreements,
        amendments,
        approvals,
        calls,
        docs,
        exchanges,
        exercises,
        incidents,
        ladder,
        mapview,
        related,
        reports,
        summaries,
        system,
        watches,
    )

    app.register_blueprint(bp)
    # One processor: APIFlask keeps only the last one registered.
    app.spec_processor(
        lambda spec: _document_idempotency(app, _describe_by_whole_docstrings(app, _document_shared_refusals(spec)))
    )
    docs.init_app(app)


def _document_shared_refusals(spec: Any) -> Any:
    """Say on every operation that takes a body that it may answer 413 (a body over
    MAX_CONTENT_LENGTH is refused before any route runs), on every operation that takes a
    bearer token that it may answer 429 (an address that sent too many wrong tokens), with its Retry-After,
    and on every operation that it may answer 503 while the database does not answer, with its Retry-After."""

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
                operation["responses"].setdefault("429", {**answer(429), "headers": {"Retry-After": RETRY_AFTER}})
            if "429" in operation["responses"]:  # said by the operation itself too (a link's use: POST /acks)
                operation["responses"]["429"].setdefault("headers", {"Retry-After": RETRY_AFTER})
            operation["responses"].setdefault("503", {**answer(503), "headers": {"Retry-After": RETRY_AFTER}})
    return spec


RETRY_AFTER = {"description": "seconds to wait before trying again", "schema": {"type": "integer"}}


def _operations(app: APIFlask, methods=("GET", "POST", "PATCH", "PUT", "DELETE")):
    """(view function, OpenAPI path, method) of every operation the app's rules serve."""
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<(?:[^<>:]+:)?([^<>]+)>", r"{\1}", rule.rule)
        for method in sorted((rule.methods or set()) & set(methods)):
            yield app.view_functions[rule.endpoint], path, method.lower()


def _describe_by_whole_docstrings(app: APIFlask, spec: Any) -> Any:
    """Describe an operation whose summary is given (@bp.doc(summary=...)) by its whole docstring. APIFlask takes a
    docstring's first line for the summary and the rest for the description even then, so the first line was
    lost and the description began in the middle of a sentence ("notice (in messages, status draft): ..."), or
    was missing where the docstring is one line."""
    for view, path, method in _operations(app):
        given = getattr(view, "_spec", {})
        operation = spec["paths"].get(path, {}).get(method)
        if operation is None or not given.get("summary") or given.get("description") or not view.__doc__:
            continue
        lines = [line.strip() for line in view.__doc__.strip().split("\n")]
        if lines[0] == given["summary"]:  # said once is enough
            lines = lines[1:]
        if description := "\n".join(lines).strip():
            operation["description"] = description
    return spec


IDEMPOTENCY_KEY = {
    "name": idempotency.KEY_HEADER,
    "in": "header",
    "required": False,
    "description": (
        "A key of your choosing (1 to 200 printable ASCII characters; a UUID will do) that makes a retry "
        "safe: the same key with the same body within 24 h creates nothing new and answers the first "
        f"answer again, with `{idempotency.REPLAYED_HEADER}: true`; the same key with another body "
        "answers 422. A retry sent while the first is still running waits for it."
    ),
    "schema": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": "^[\\x20-\\x7E]+$"},
}
REPLAYED = {
    "description": "true when this is the answer to an earlier request with the same Idempotency-Key",
    "schema": {"type": "string", "enum": ["true"]},
}


def _document_idempotency(app: APIFlask, spec: Any) -> Any:
    """Document the Idempotency-Key header on every operation that honours it (tracker.http.idempotency)."""
    for rule in app.url_map.iter_rules():
        if not getattr(app.view_functions[rule.endpoint], "idempotent", False):
            continue
        path = re.sub(r"<(?:[^<>:]+:)?([^<>]+)>", r"{\1}", rule.rule)
        for method in (rule.methods or set()) & {"POST"}:
            operation = spec["paths"][path][method.lower()]
            operation.setdefault("parameters", []).append(IDEMPOTENCY_KEY)
            for status, answer in operation["responses"].items():
                if str(status).startswith("2"):
                    answer.setdefault("headers", {})[idempotency.REPLAYED_HEADER] = REPLAYED
    return spec
