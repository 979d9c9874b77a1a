"""WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi ...`. Never starts a scheduler."""

import gc

# Start-up makes some 200,000 long-lived objects and little garbage: collecting while it runs is a
# tenth of `flask --app wsgi ...`'s start. Collections resume once the app is built, and skip what it
# built (gc.freeze; as the gc documentation advises before a pre-fork server such as gunicorn forks).
gc.disable()
import sys  # noqa: E402
import tomllib  # noqa: E402

from tracker import create_app  # noqa: E402
from tracker.config import ConfigError  # noqa: E402

try:
    app = create_app()
except (ConfigError, tomllib.TOMLDecodeError) as problem:  # one line that says what to fix, not a traceback
    sys.exit(f"tracker: the configuration is not valid: {problem}")
gc.freeze()
gc.enable()
