"""gunicorn settings for the tracker's web workers: `gunicorn -c config/gunicorn.conf.py wsgi:app`.

Web workers never start a scheduler; run one or two `flask --app wsgi scheduler` processes beside
them on the same PostgreSQL (see README, "Running it for real"). Every value can be overridden
from the environment (TRACKER_WEB_*), so one file serves the systemd unit and the benchmarks.
"""

import multiprocessing
import os
import sys


def _whole(name: str, default: int, least: int = 1) -> int:
    """A TRACKER_WEB_* count, or one line naming the variable (a ValueError traceback did not). least 0 where
    gunicorn reads 0 as "never" (no timeout, no recycling), as a deployment may have set it."""
    given = os.environ.get(name, "").strip()
    if not given:
        return default
    if not given.isascii() or not given.isdigit() or int(given) < least:
        sys.exit(f"tracker: {name} must be a whole number of {least} or more, not {given!r}")
    return int(given)


def _bind(name: str, default: str) -> str:
    """TRACKER_WEB_BIND as gunicorn takes it (HOST, HOST:PORT, [IPv6]:PORT, unix:PATH, fd://N), or one line naming
    it when its port is no port: 127.0.0.1:80000 ended gunicorn's start in an OverflowError traceback."""
    given = os.environ.get(name, "").strip() or default
    port = given.rpartition(":")[2]
    if ":" in given and not given.startswith(("unix:", "fd://")) and not given.endswith("]"):
        if not port.isascii() or not port.isdigit() or int(port) > 65535:
            sys.exit(f"tracker: {name} must be HOST:PORT with a port of 0-65535 (or unix:PATH), not {given!r}")
    return given


bind = _bind("TRACKER_WEB_BIND", "127.0.0.1:8000")
# Sync workers: each request is short (one transaction) and the database is the bottleneck.
workers = _whole("TRACKER_WEB_WORKERS", multiprocessing.cpu_count() * 2 + 1)
worker_class = "sync"
# A request that takes longer than this is killed and logged; filing takes milliseconds.
timeout = _whole("TRACKER_WEB_TIMEOUT", 30, least=0)
graceful_timeout = 20
keepalive = 5
# Recycle workers now and then so a slow leak can never take a desk down.
max_requests = _whole("TRACKER_WEB_MAX_REQUESTS", 5000, least=0)
max_requests_jitter = 500
# Load the app once in the master: faster worker start, and a broken configuration fails at once.
preload_app = True
# Access log to stdout, one JSON object per line (client, method, path without query string and
# with signed-link tokens masked, status, bytes, duration, request id): tracker.logs.JsonAccessLogger.
accesslog = os.environ.get("TRACKER_WEB_ACCESS_LOG", "-")
logger_class = "tracker.logs.JsonAccessLogger"
errorlog = "-"
loglevel = os.environ.get("TRACKER_WEB_LOG_LEVEL", "").strip().lower() or "info"
if loglevel not in ("debug", "info", "warning", "error", "critical"):  # gunicorn fell back to info, unsaid
    sys.exit(f"tracker: TRACKER_WEB_LOG_LEVEL must be debug, info, warning, error or critical, not {loglevel!r}")
# gunicorn's control socket (gunicornc) is off: its default path, ~/.gunicorn/gunicorn.ctl, is one per user, so a
# second gunicorn of the user on the host took it over, and under the systemd unit (ProtectSystem=strict) it could not
# be made and every start logged an error. TRACKER_WEB_CONTROL_SOCKET=PATH turns it on.
control_socket = os.environ.get("TRACKER_WEB_CONTROL_SOCKET", "")
control_socket_disable = not control_socket
# Behind a reverse proxy on the same host: trust its X-Forwarded-* headers.
forwarded_allow_ips = os.environ.get("TRACKER_WEB_FORWARDED_ALLOW_IPS", "127.0.0.1")


def on_starting(server):
    """Say which demo defaults a deployment still has (tracker.config.demo_settings: a warning each), and
    refuse to serve a database whose schema is not this tracker's (the code upgraded, init-db forgotten):
    every request would answer 500 on a missing column; or one whose demo accounts still take the published
    passwords, unless PUBLIC_URL is on this machine. One line in the error log, exit 1. A database not
    reachable yet is no reason to stay down: the workers connect when asked."""
    import sys

    if "wsgi" not in sys.modules:  # another app (the benchmarks' baseline)
        return
    from tracker import config, migrate

    for setting in config.demo_settings(sys.modules["wsgi"].app.config):  # served, but said
        server.log.warning("tracker: %s", setting)
    if problem := config.proxy_problem(sys.modules["wsgi"].app.config, serves_tls=server.cfg.is_ssl):
        server.log.warning("tracker: %s", problem)

    try:
        problem = migrate.schema_problem(migrate.current(sys.modules["wsgi"].app.config["DATABASE_URL"]))
    except Exception as error:  # the URL is not logged: it may hold a password
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[:1]
        server.log.warning("cannot read the database's schema revision, serving anyway: %s", "".join(reason))
        return
    if problem:
        server.log.error("tracker: %s", problem)
        sys.exit(1)
    from tracker import dispatch

    if problem := dispatch.link_keys_problem(sys.modules["wsgi"].app):  # served, but said
        server.log.warning("tracker: %s", problem)
    _refuse_published_logins(server, sys.modules["wsgi"].app)


def _refuse_published_logins(server, app):
    """A database that `flask demo` filled (it fills only a new one, a deployment's first database among them)
    keeps accounts whose passwords the README publishes, an admin among them: served where desks reach it
    (PUBLIC_URL not on this machine), anyone who has read the README signs in. Refused, one line, exit 1; on
    this machine (a demo, a trial) said and served."""
    import sys

    from tracker import config, demo
    from tracker.db import session_scope

    with session_scope(app, reads_only=True) as session:
        published = demo.published_logins(session)
    if not published:
        return
    said = (
        f"tracker: the accounts {', '.join(published)} still sign in with the demo's published passwords "
        "(<name>-demo-password): give each a password of its own (flask --app wsgi user set-password NAME) "
        "or deactivate it (flask --app wsgi user deactivate NAME)"
    )
    if config.on_this_machine(app.config):
        server.log.warning("%s", said)
        return
    server.log.error("%s", said)
    sys.exit(1)


def child_exit(server, worker):
    """In multiprocess metrics mode, forget a dead worker's live gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def pre_fork(server, worker):
    """Keep what the preloaded app made out of the garbage collector's full passes in every worker (and
    its memory shared with the master: a pass that touches an object copies its page). gc.freeze() right
    before fork() is what CPython's documentation advises for such servers."""
    import gc

    gc.freeze()


def post_fork(server, worker):
    """Each worker opens its own connections: drop any pooled connection inherited from the master."""
    import sys

    if "wsgi" in sys.modules:  # the tracker (another app, e.g. the benchmarks' baseline, has its own)
        from tracker.db import engine_of

        engine_of(sys.modules["wsgi"].app).dispose(close=False)


def post_worker_init(worker):
    """What gunicorn refuses before the app sees the request (a request line over its limit: 414; a header too
    large or too many: 431; a request line or header it cannot read: 400) it answered with an HTML page of its
    own: answered in the JSON envelope every refusal of the app has (tracker.http.errors)."""
    from gunicorn import util

    util.write_error = _json_error


# The envelope's code of each status gunicorn refuses with before the app.
_REFUSED = {400: "bad_request", 403: "forbidden", 414: "uri_too_long", 417: "expectation_failed"}
_REFUSED |= {431: "headers_too_large", 500: "internal_error", 501: "not_implemented"}


def _json_error(sock, status_int, reason, mesg):
    import json

    from gunicorn import util

    message = f"{reason}: {mesg}" if mesg else reason
    body = {"error": {"code": _REFUSED.get(status_int, "bad_request"), "message": message, "details": {}}}
    data = json.dumps(body).encode()
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(data)}\r\n\r\n"
    )
    util.write_nonblock(sock, head.encode("latin-1") + data)
