"""Serve Swagger UI from the vendored swagger-ui-bundle package, so /api/v1/docs works offline."""

from apiflask import APIFlask
from flask import send_from_directory
from swagger_ui_bundle import swagger_ui_path

ASSETS = "/api/v1/docs/assets"


def init_app(app: APIFlask) -> None:
    app.config.update(
        SWAGGER_UI_CSS=f"{ASSETS}/swagger-ui.css",
        SWAGGER_UI_BUNDLE_JS=f"{ASSETS}/swagger-ui-bundle.js",
        SWAGGER_UI_STANDALONE_PRESET_JS=f"{ASSETS}/swagger-ui-standalone-preset.js",
        DOCS_FAVICON=f"{ASSETS}/favicon-32x32.png",
    )
    hidden = app.doc(hide=True)  # plumbing, not part of the API
    app.add_url_rule(f"{ASSETS}/<path:filename>", "docs_asset", hidden(_asset))


def _asset(filename: str):
    return send_from_directory(swagger_ui_path, filename, max_age=86400)
