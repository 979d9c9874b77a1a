"""The tracker's one exception hierarchy. No Flask here: the outer ring maps these to HTTP."""

from .sentences import Sentence


class TrackerError(Exception):
    """Base of every domain error; carries a stable code and optional details.

    A message naming what people typed (a line's name, a desk) is given as a Sentence: message is the plain
    sentence the API says, sentence keeps the names apart for the pages, which isolate each (web/bidi.py told)."""

    code = "error"
    status = 400

    def __init__(self, message: str | Sentence, details: dict | None = None):
        super().__init__(str(message))
        self.message = str(message)
        self.sentence = message if isinstance(message, Sentence) else None
        self.details = details or {}


class ValidationError(TrackerError):
    code = "validation_error"
    status = 422


class Unauthorized(TrackerError):
    code = "unauthorized"
    status = 401


class Forbidden(TrackerError):
    code = "forbidden"
    status = 403


class NotFound(TrackerError):
    code = "not_found"
    status = 404


class Conflict(TrackerError):
    code = "conflict"
    status = 409


class InvalidTransition(Conflict):
    code = "invalid_transition"


class TooManyRequests(TrackerError):
    """Rate limited; details carry retry_after_seconds, sent as the Retry-After header too."""

    code = "too_many_requests"
    status = 429
