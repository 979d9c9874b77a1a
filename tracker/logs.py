"""Logs as one JSON object per line, with the request id and the incident reference where known.

Every web request gets an id (the caller's X-Request-ID when it is a sane token, else a new one),
echoed in the X-Request-ID response header and put on each log line written while serving it.
A line about one incident carries its reference: from the request's <reference> path value, or
from `extra={"reference": ...}` in jobs. LOG_FORMAT "text" keeps plain lines for a terminal.
Secrets (passwords, tokens, signed links, webhook secrets) are never passed to a logger. What a
server logs of a request is masked whichever server runs the app: a signed link's token
(/links/ack/<token>) and a secret query value (the calendar feed's ?key=, any token=) become "…"
(`mask`). MaskSecrets does it to every record the tracker's handler writes, to werkzeug's request
log (`flask run`, `make run`), to Flask's line about a request that failed (and its traceback) and to
gunicorn's error log; gunicorn's access log (JsonAccessLogger) drops query strings and masks the path.
"""

import json
import logging
import re
import uuid
from datetime import UTC, datetime

from flask import Flask, g, has_request_context, request

from .text import masked

REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}\Z")
_FIELDS = ("reference", "request_id", "runner", "job")
_STANDARD = set(vars(logging.makeLogRecord({})))


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def mask(text: str) -> str:
    """The text with signed-link tokens and secret query values (and JSON members) replaced by "…"."""
    return masked(text)


class MaskSecrets(logging.Filter):
    """Mask what a record's message and its traceback say of signed links and secret query values (a logging
    filter: on a handler it sees every record the handler writes, on a logger that logger's own, before any
    handler does)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask(message)
        if masked != message:
            record.msg, record.args = masked, ()
        if record.exc_info and not record.exc_text:
            # A formatter writes exc_text as it is once set: the exception may quote the URL it failed on.
            record.exc_text = mask(_TRACEBACKS.formatException(record.exc_info))
        return True


_TRACEBACKS = logging.Formatter()


class SkippedTick(logging.Filter):
    """Leave out APScheduler's warning that a job's run was skipped because the job was still running: with one
    instance of each job (tracker.scheduler) that is the plan, not a fault (the sweep run early for a deadline
    meets its interval's run; a long delivery batch meets the next). At WARNING it came every few seconds under
    load and crowded out the warnings that matter; a job that stops finishing shows on the heartbeats."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "maximum number of running instances reached" not in str(record.msg)


def _install(owner: logging.Logger | logging.Handler) -> None:
    if not any(isinstance(f, MaskSecrets) for f in owner.filters):
        owner.addFilter(MaskSecrets())


class TextFormatter(logging.Formatter):
    """Plain lines for a terminal, masked whole (a traceback may quote a URL)."""

    def format(self, record: logging.LogRecord) -> str:
        return mask(super().format(record))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": _stamp(datetime.fromtimestamp(record.created, UTC)),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if has_request_context():
            line["request_id"] = g.get("request_id")
            reference = (request.view_args or {}).get("reference")
            if reference:
                line["reference"] = reference
            line["method"], line["path"] = request.method, safe_path(request.path)
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                line[key] = value if isinstance(value, str | int | float | bool | None) else str(value)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return mask(json.dumps(line, ensure_ascii=False))


class _Handler(logging.StreamHandler):
    """The tracker's own stderr handler, marked so that configure() replaces it instead of adding one."""

    _tracker = True


def configure(level: str = "INFO", fmt: str = "json") -> None:
    """Send the tracker's, gunicorn's and the scheduler's logs to stderr in one format (idempotent)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_tracker", False):
            root.removeHandler(handler)
    handler = _Handler()
    handler.setFormatter(
        JsonFormatter() if fmt == "json" else TextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    _install(handler)
    root.addHandler(handler)
    root.setLevel(level.upper())
    _restyle_gunicorn()
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # not a line per run of each job
    skipped = logging.getLogger("apscheduler.scheduler")
    if not any(isinstance(f, SkippedTick) for f in skipped.filters):
        skipped.addFilter(SkippedTick())
    # The HTTP library under requests and Apprise logs each request's path and query at DEBUG ("POST
    # /services/T0/B0/XXXX"): a hook's secret. A tracker logging at DEBUG to find a fault never shows it.
    logging.getLogger("urllib3").setLevel(max(logging.INFO, root.level))
    # Apprise logs at DEBUG each URL it loads and posts to ("Loaded JSON URL: ...", "Telegram POST URL:
    # .../bot<token>/..."): the secret of every chat service; above DEBUG it names them with it withheld.
    logging.getLogger("apprise").setLevel(max(logging.INFO, root.level))
    # Alembic says "Context impl", "Running upgrade ..." each time a command looks at the schema:
    # only a command given --verbose shows those (show_migrations).
    logging.getLogger("alembic").setLevel(logging.WARNING)


def json_mode() -> bool:
    """Whether the tracker's handler writes JSON lines (configure(fmt="json") ran)."""
    return any(
        getattr(handler, "_tracker", False) and isinstance(handler.formatter, JsonFormatter)
        for handler in logging.getLogger().handlers
    )


def _restyle_gunicorn() -> None:
    """gunicorn's error log (its start, worker and failure lines) writes through handlers of its own, in
    its own text format: in JSON mode those lines become JSON objects too, so that a log shipper reading
    the stream never meets a plain line. (gunicorn sets them up before it loads the app, and again on
    a reload: JsonAccessLogger.setup calls this as well.)"""
    if json_mode():
        for handler in logging.getLogger("gunicorn.error").handlers:
            handler.setFormatter(JsonFormatter())


def show_migrations() -> None:
    """Let Alembic's lines through: which migrations run, on what (a command's --verbose)."""
    logging.getLogger("alembic").setLevel(logging.INFO)
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)  # its set-up, 7 lines a run


def init_app(app: Flask) -> None:
    app.before_request(_start)
    app.after_request(_finish)
    # werkzeug's development server (flask run) logs each request line, query string and all, on
    # its own logger, through the tracker's handler or a handler of its own: mask it at the logger.
    _install(logging.getLogger("werkzeug"))
    # Flask logs a failed request as "Exception on <path> [GET]" with its traceback, on the app's logger: masked
    # there too, so that every handler (not the tracker's alone) is given it without a link's token.
    _install(app.logger)


def _start() -> None:
    given = request.headers.get("X-Request-ID", "")
    g.request_id = given if REQUEST_ID.match(given) else uuid.uuid4().hex


def _finish(response):
    response.headers["X-Request-ID"] = g.get("request_id", "")
    return response


def safe_path(path: str) -> str:
    """The path with a signed link's token masked (it is a credential until used)."""
    return mask(path)


try:  # gunicorn is installed in production; the access logger is used from config/gunicorn.conf.py
    from gunicorn.glogging import Logger as _GunicornLogger

    class JsonAccessLogger(_GunicornLogger):
        """gunicorn's logger with one JSON object per access line, no query strings, no link tokens;
        its error log (which names the URI of a request that failed) masked too."""

        def setup(self, cfg) -> None:
            super().setup(cfg)
            _install(self.error_log)
            _restyle_gunicorn()

        def access(self, resp, req, environ, request_time):
            if not getattr(self, "access_log_enabled", True):
                return
            line = {
                "time": _stamp(datetime.now(UTC)),
                "level": "info",
                "logger": "gunicorn.access",
                "client": environ.get("REMOTE_ADDR"),
                "method": environ.get("REQUEST_METHOD"),
                "path": safe_path(environ.get("PATH_INFO", "")),
                "status": int(str(resp.status).split()[0]) if resp.status else None,
                "bytes": getattr(resp, "sent", None),
                "duration_ms": round(request_time.total_seconds() * 1000, 2),
                "request_id": dict(resp.headers or []).get("X-Request-ID"),
            }
            try:
                self.access_log.info(json.dumps(line))
            except Exception:  # never let logging break a response
                self.error("cannot write the access log")
except ImportError:  # pragma: no cover
    # Only where gunicorn is not installed (it is a runtime requirement); nothing then asks for it.
    JsonAccessLogger = None  # type: ignore[misc, assignment]
