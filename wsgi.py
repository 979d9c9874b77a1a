"""WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi ...`. Never starts a scheduler."""

import gc

# Start-up makes some 200,000 long-lived objects and little garbage: collecting while it runs is a
# tenth of `flask --app wsgi ...`'s start. Collections resume once the app is built, and skip what it
# built (gc.freeze; as the gc documentation advises before a pre-fork server such as gunicorn forks).
gc.disable()
from tracker import create_app  # noqa: E402

app = create_app()
gc.freeze()
gc.enable()
