"""Security headers on every response, and the API docs page without inline script.

The Content-Security-Policy allows scripts and styles from this app only (no inline script,
no other host); pages may not be framed; content types are not sniffed. Swagger UI's page is
rendered from our own template whose start-up code is a static file, so it runs under the
same policy (its styles need 'unsafe-inline', on that page only).

Nothing but the static files may be kept by a browser or a proxy: every other answer (pages,
exports, API JSON, the calendar feed, sign-in, signed-link pages) says `Cache-Control: no-store`,
as OWASP's session management advice asks of anything behind a sign-in; a shared computer's cache
or a proxy must not hand one officer's board to the next. Static files keep Flask's caching.
"""

from flask import Flask, render_template, request
from werkzeug.middleware.proxy_fix import ProxyFix

POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)
DOCS_POLICY = POLICY.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def init_app(app: Flask) -> None:
    if app.config["PROXY_FIX_X_FOR"]:
        # Flask's documented way to wrap the WSGI app in middleware; mypy sees wsgi_app as a method.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PROXY_FIX_X_FOR"], x_proto=1)  # type: ignore[method-assign]
    app.after_request(_headers)
    if "openapi.docs" in app.view_functions:
        app.view_functions["openapi.docs"] = _docs


def _headers(response):
    docs = request.endpoint == "openapi.docs"
    response.headers.setdefault("Content-Security-Policy", DOCS_POLICY if docs else POLICY)
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if not _static():
        response.headers["Cache-Control"] = "no-store"
    if response.status_code == 204:
        # No content, so no type of it (RFC 9110 15.3.5): APIFlask's empty answer is typed as JSON.
        response.headers.pop("Content-Type", None)
    return response


def _static() -> bool:
    """A file of a static folder (the app's, or a blueprint's such as the API docs' assets)."""
    endpoint = request.endpoint or ""
    return endpoint == "static" or endpoint.endswith(".static")


def _docs():
    return render_template("api/docs.html")
