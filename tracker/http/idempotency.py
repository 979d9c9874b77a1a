"""Idempotency-Key on the API's creating POSTs, and the filing form's one-time key: a retry of a
request whose answer was lost (a cut connection, a double click) creates nothing twice.

The key is claimed in the request's own transaction, the one that creates the row, with one
INSERT ... ON CONFLICT DO UPDATE ... WHERE expired (a fresh key, or one older than 24 h, is
claimed; a live one is not); the answer is kept in the same transaction before it commits. So
the created row and the kept answer commit together or not at all: a refusal (4xx) or a crash
leaves no key behind, and a retry does the work. A concurrent duplicate waits for the first:
on PostgreSQL its INSERT blocks on the primary key until the first commits, on SQLite the write
lock taken at BEGIN serialises them; then it finds the first's row and answers with its answer.

Keys belong to the caller (the token's user). The same key with the same body (an HMAC-SHA-256 of
the bytes under the app's SECRET_KEY: a plain hash of a body holding a line's secret would let whoever
reads the table test guesses of it) on the same route within 24 h answers the first answer again,
status and body, with `Idempotent-Replayed: true`; with another body or route it is refused (422
naming the header).
A route whose answer holds a credential (a line's webhook secret, its address) names what to keep
instead (`@idempotent(kept=...)`): the answer kept for 24 h, and replayed, holds no credential.
Modelled on Stripe's idempotent requests and the IETF draft "The Idempotency-Key HTTP Header
Field" (which answers a concurrent duplicate 409; here it simply waits for the first).
"""

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps
from typing import Any

from flask import Response, current_app, make_response, request
from sqlalchemy import CursorResult, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as AnyResponse

from ..errors import Conflict, ValidationError
from ..models import IdempotentRequest
from ..timeutil import utcnow
from .access import caller
from .transaction import committed

KEY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEEP = timedelta(hours=24)
KEY_SHAPE = re.compile(r"[\x20-\x7e]{1,200}")
# What the filing form's key is compared with: any second use of the key replays, whatever was typed.
FORM_DIGEST = hashlib.sha256(b"one-time form key").hexdigest()


def valid_key(key: str) -> bool:
    """1 to 200 printable ASCII characters."""
    return KEY_SHAPE.fullmatch(key) is not None


def body_digest(body: bytes, key: str | bytes | None = None) -> str:
    """What is kept of a request's body to tell a retry from another request: keyed (SECRET_KEY unless told), so
    the digest of a body that holds a credential (a line's webhook secret) cannot be used to test guesses of it."""
    key = current_app.secret_key if key is None else key
    key = key.encode() if isinstance(key, str) else bytes(key or b"")
    return hmac.new(key, body, hashlib.sha256).hexdigest()


def digests_before(body: bytes) -> tuple[str, ...]:
    """The body's digest under each key of SECRET_KEY_FALLBACKS: a retry of a request answered before SECRET_KEY
    was rotated is the same request, not another body."""
    return tuple(body_digest(body, key) for key in current_app.config.get("SECRET_KEY_FALLBACKS") or ())


def new_key() -> str:
    """A one-time key for a form, put in a hidden field when the form is rendered."""
    return secrets.token_urlsafe(24)


def claim(
    session: Session, user_id: int, key: str, route: str, digest: str, now: datetime, before: tuple[str, ...] = ()
) -> IdempotentRequest | None:
    """Claim (user_id, key) for this request and return None; or return the earlier request that
    holds it (waiting for it to commit), refused (422) when it was another route or body (before: the body's
    digests under the keys SECRET_KEY had, which an earlier request may have been kept under)."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    table = IdempotentRequest.__table__
    fresh = {"route": route, "body_digest": digest, "status": None, "answer": None, "answer_type": None}
    stmt = dialect.insert(table).values(user_id=user_id, key=key, created_at=now, **fresh, location=None)
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.user_id, table.c.key],
        set_={**fresh, "location": None, "created_at": now},
        where=table.c.created_at < now - KEEP,  # an expired key is claimed afresh
    ).returning(table.c.key)
    if session.execute(stmt).first() is not None:
        return None
    earlier = session.get(IdempotentRequest, (user_id, key), populate_existing=True)
    if earlier is None or earlier.status is None:  # the statement above waited for it to commit
        raise Conflict(f"the first request with this {KEY_HEADER} has not finished; try again")
    if earlier.route != route or earlier.body_digest not in (digest, *before):
        raise ValidationError(
            f"this {KEY_HEADER} was used for another request; use a new key for a new request",
            {KEY_HEADER: "used before with another body or on another route"},
        )
    return earlier


def keep_answer(
    session: Session, user_id: int, key: str, response: AnyResponse, kept: Callable[[bytes], bytes] | None = None
) -> None:
    """Keep a success (or a form's redirect) to replay for the claimed key, as kept() leaves its body (a
    credential taken out); give the key up for a refusal."""
    earlier = session.get(IdempotentRequest, (user_id, key))
    if earlier is None:
        return
    if response.status_code >= 400:
        session.delete(earlier)
        return
    earlier.status = response.status_code
    earlier.answer = response.get_data() if kept is None else kept(response.get_data())
    earlier.answer_type = response.content_type
    earlier.location = response.headers.get("Location")


def claim_form(session: Session, user_id: int, key: str, now: datetime) -> IdempotentRequest | None:
    """Claim a form's one-time key, as claim() does; any second use of the key finds the first."""
    return claim(session, user_id, key, f"{request.method} {request.path}", FORM_DIGEST, now)


def replay(earlier: IdempotentRequest) -> Response:
    """The first answer again, marked as replayed."""
    headers = {REPLAYED_HEADER: "true"}
    if earlier.location:
        headers["Location"] = earlier.location
    return Response(earlier.answer, earlier.status, headers, content_type=earlier.answer_type)


def forget_expired(session: Session, now: datetime) -> int:
    """Delete the kept answers older than 24 h; return how many."""
    result: CursorResult = session.execute(  # type: ignore[assignment]  # a DELETE's result has a rowcount
        delete(IdempotentRequest).where(IdempotentRequest.created_at < now - KEEP)
    )
    return result.rowcount


def idempotent(view: Callable[..., Any] | None = None, *, kept: Callable[[bytes], bytes] | None = None) -> Any:
    """Honour an Idempotency-Key header on a creating POST (put it above @bp.output, so the
    serialized answer is what is kept, and below the authentication and @bp.input). kept: what to
    keep of the answer's body when it holds a credential, which must not sit in the store for 24 h."""
    if view is None:
        return lambda view: idempotent(view, kept=kept)

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        key = request.headers.get(KEY_HEADER)
        if key is None:
            return view(*args, **kwargs)
        if not valid_key(key):
            raise ValidationError(
                f"{KEY_HEADER} must be 1 to 200 printable ASCII characters",
                {KEY_HEADER: "1 to 200 printable ASCII characters"},
            )
        user_id = caller().id
        digest, before = body_digest(request.get_data()), digests_before(request.get_data())
        # One unit of work for the claim, the view's work and the kept answer (the view's own
        # @transactional joins it rather than committing by itself).
        with committed() as session:
            earlier = claim(session, user_id, key, f"{request.method} {request.path}", digest, utcnow(), before)
            if earlier is not None:
                return replay(earlier)
            response = make_response(view(*args, **kwargs))
            keep_answer(session, user_id, key, response, kept)
        return response

    wrapper.idempotent = True  # type: ignore[attr-defined]  # read when the OpenAPI document is built
    return wrapper
