"""HTML pages. For now: the pages behind the one-click links in messages."""

from flask import Flask

from . import links


def init_app(app: Flask) -> None:
    app.register_blueprint(links.bp)
