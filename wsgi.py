"""WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi ...`. Never starts a scheduler."""

import gc

# Start-up makes some 200,000 long-lived objects and little garbage: collecting while it runs is a
# tenth of `flask --app wsgi ...`'s start. Collections resume once the app is built, and skip what it
# built (gc.freeze; as the gc documentation advises before a pre-fork server such as gunicorn forks).
gc.disable()
import os  # noqa: E402
import sys  # noqa: E402
import tomllib  # noqa: E402

# The process metrics are made as the tracker is imported, each in a file of PROMETHEUS_MULTIPROC_DIR when it
# is set: a directory missing (not made yet, or emptied by removing it) or not writable ended every command,
# gunicorn and the scheduler in a FileNotFoundError traceback naming a file of prometheus_client's.
_metrics_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if _metrics_dir is not None and not (os.path.isdir(_metrics_dir) and os.access(_metrics_dir, os.W_OK | os.X_OK)):
    sys.exit(
        f"tracker: PROMETHEUS_MULTIPROC_DIR names {_metrics_dir!r}, which is not a directory this user may write: "
        "make it (empty) before the web workers and schedulers start, or unset it"
    )

from tracker import create_app  # noqa: E402
from tracker.config import ConfigError  # noqa: E402

try:
    app = create_app()
except (ConfigError, tomllib.TOMLDecodeError) as problem:  # one line that says what to fix, not a traceback
    if "--help" not in sys.argv[1:]:
        sys.exit(f"tracker: the configuration is not valid: {problem}")
    # Help is read before the configuration is right (it says how to make it so): the commands are listed and
    # explained by an app that runs none of them, the problem said first.
    said = f"tracker: the configuration is not valid: {problem} (every command refuses to run until it is)"
    print(said, file=sys.stderr)
    from flask import Flask  # noqa: E402

    from tracker import cli  # noqa: E402

    app = Flask("tracker")
    cli.init_app(app)
gc.freeze()
gc.enable()
