"""WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi ...`. Never starts a scheduler."""

from tracker import create_app

app = create_app()
