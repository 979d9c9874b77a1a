"""The edge both doors share: the error answers (JSON on the API, pages elsewhere), the permission
decorator, bearer tokens, rate limits, the request's unit of work, and what both read from the
app's configuration. tracker.api and tracker.web use it and never import each other."""

from flask import Flask

from . import errors, output
from .paths import AsciiIntegerConverter


def init_app(app: Flask) -> None:
    """Register the one set of error handlers for the whole app, answers that show stored text safely, and the
    path converters (before either door's routes are registered: a rule takes its converter when it is added)."""
    app.url_map.converters["int"] = AsciiIntegerConverter
    errors.init_app(app)
    output.init_app(app)
