"""The incident and de-escalation tracker: create_app() builds it; nothing runs at import."""

from apiflask import APIFlask

from . import api, cli, db, http, logs, metrics, region, security, web
from .api.schemas import ErrorEnvelope
from .channels import build_transports
from .config import ConfigError, demo_region, load_config


def create_app(config: dict | None = None) -> APIFlask:
    """Build the app from defaults, TRACKER_CONFIG, TRACKER_* variables and config (in that order)."""
    app = APIFlask(
        __name__,
        title="Incident and de-escalation tracker",
        version="1.0",
        spec_path="/api/v1/openapi.json",
        docs_path="/api/v1/docs",
        docs_oauth2_redirect_path=None,  # no OAuth: bearer tokens only
        instance_relative_config=True,
    )
    app.config.update(
        OPENAPI_VERSION="3.1.0",
        HTTP_ERROR_SCHEMA=ErrorEnvelope,
        VALIDATION_ERROR_SCHEMA=ErrorEnvelope,
        MAX_CONTENT_LENGTH=256 * 1024,
        JSON_SORT_KEYS=False,
        DESCRIPTION=(
            "File military incidents near a border, route them to a line of communication, and "
            "escalate them until a liaison officer acknowledges. Every error answers "
            '`{"error": {"code", "message", "details"}}`.'
        ),
    )
    load_config(app, config)
    if not app.testing:
        logs.configure(app.config["LOG_LEVEL"], app.config["LOG_FORMAT"])
    logs.init_app(app)
    db.init_app(app)
    app.extensions["tracker.transports"] = build_transports(app.config)
    try:
        app.extensions["tracker.region"] = loaded = region.load(
            app.config["REGION_FILE"], app.config["REGION_BOUNDARIES"], tuple(app.config["REGION_STATES"])
        )
        # A bow-tie sector passed the structural checks and was found out only when shapely first drew it, at a
        # filing. The demo's own file is drawn by tests/unit/test_region_file.py instead, so the demo's commands
        # start without loading shapely.
        if not demo_region(app.config["REGION_FILE"]) and (problem := region.invalid_sector(loaded)):
            raise ValueError(problem)
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"REGION_FILE {app.config['REGION_FILE']!r} is not a usable region: {exc}") from exc
    if app.config["REGION_BOUNDARIES"]:
        try:  # a misspelt state would otherwise surface at the first filing with a position
            region.check_states(tuple(app.config["REGION_STATES"]))
        except ValueError as exc:
            raise ConfigError(str(exc)) from exc
    http.init_app(app)
    api.init_app(app)
    web.init_app(app)
    web.csrf.exempt(api.bp)  # bearer tokens, not cookies: no cross-site form can forge a call
    cli.init_app(app)
    security.init_app(app)
    metrics.init_app(app)
    return app
