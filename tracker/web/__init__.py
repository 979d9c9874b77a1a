"""HTML pages: sign-in, board, queue, filing, incident pages, admin, and the one-click links.

Built on the same services as the API; pages check the same roles. Every form carries a CSRF
token (Flask-WTF); the JSON API (bearer tokens) and the signed links are exempt.
"""

from datetime import datetime

from flask import Flask, redirect, request, session, url_for
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

from ..db import get_session
from ..models import User
from ..models.enums import category_label
from ..models.labels import event_label, key_label, label
from ..services.accounts import sessions
from ..text import masked_in
from ..timeutil import countdown, duration, format_dtg, isoformat, utcnow
from . import (  # noqa: F401  (routes on exchanges.bp and links.bp)
    acknowledging,
    admin,
    amending,
    auth,
    bidi,
    board,
    calls,
    drafts,
    exchange_receipts,
    exchanges,
    exercises,
    incidents,
    links,
    live,
    mapview,
    marking,
    receipt_links,
    related,
    reports,
    session_cookie,
    session_seen,
    summaries,
    watches,
)

login_manager = LoginManager()
login_manager.login_view = "auth.sign_in"
login_manager.login_message = "Sign in to continue."
csrf = CSRFProtect()


@login_manager.unauthorized_handler
def _unauthorized():
    """Pages go to the sign-in page; the board's own refresh requests get a plain 401."""
    if request.headers.get("X-Requested-With") == "fetch":
        return "signed out", 401
    return redirect(url_for(login_manager.login_view, next=request.full_path.rstrip("?")))


@login_manager.user_loader
def _load_user(key: str) -> User | None:
    """The user of the cookie's web session, if that session is live (not revoked, not too old, not idle too long);
    its last use is recorded now if the one on record is a minute old."""
    session_id = session.get(auth.SESSION_KEY)
    if not (key.isascii() and key.isdigit()) or not isinstance(session_id, str):  # "²" is a digit to isdigit()
        return None
    now = utcnow()
    live = sessions.user_of(get_session(), session_id, int(key), now, auth.idle_limit(), auth.absolute_limit())
    if live is None:
        return None
    if sessions.needs_seen(live.last_seen_at, now):
        session_seen.record(session_id, now)
    return live.user


def init_app(app: Flask) -> None:
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_SECURE"] = bool(app.config["SESSION_COOKIE_SECURE"])
    # The signed cookie is good for as long as a session may last; whether the session is live, used within the idle
    # limit included, is the database's to say (_load_user). Signed again by each page and form, never by a page's own
    # requests unless they changed the session (session_cookie.py).
    app.config["PERMANENT_SESSION_LIFETIME"] = auth.absolute_limit_of(app.config)
    app.session_interface = session_cookie.SessionInterface()
    login_manager.init_app(app)
    csrf.init_app(app)
    csrf.exempt(links.bp)  # the signed link is the credential; the API is exempted by create_app
    for blueprint in (
        acknowledging.bp,
        amending.bp,
        auth.bp,
        board.bp,
        incidents.bp,
        exchanges.bp,
        exercises.bp,
        links.bp,
        live.bp,
        mapview.bp,
        marking.bp,
        related.bp,
        reports.bp,
        summaries.bp,
        watches.bp,
        admin.blueprint(),
    ):
        app.register_blueprint(blueprint)
    app.add_template_filter(format_dtg, "dtg")
    app.add_template_filter(_zulu, "zulu")
    app.add_template_filter(_zulu_dtg, "zulu_dtg")
    app.add_template_filter(isoformat, "iso")
    app.add_template_filter(category_label, "category_label")
    # Codes, spans and countdowns in words (models/labels.py, timeutil.duration): every page and the print.
    app.add_template_filter(label, "label")
    app.add_template_filter(event_label, "event_label")
    app.add_template_filter(key_label, "key_label")
    # A timeline event's details as shown: its texts masked (text.masked_in; the details_text filter, web/bidi.py,
    # reads them masked from models.labels.detail_lines).
    app.add_template_filter(masked_in, "masked_in")
    app.add_template_filter(duration, "duration")
    app.add_template_filter(lambda deadline: countdown(deadline, utcnow()), "countdown")
    marking.init_app(app)
    bidi.init_app(app)
    app.context_processor(lambda: {"now_utc": utcnow(), "admin_pages": "admin.channels" in app.view_functions})


def _zulu(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S}Z" if moment else "-"


def _zulu_dtg(moment: datetime | None) -> str:
    """A time as the duty pages show it: 2026-12-06 00:27:00Z (060027ZDEC26), the DTG beside the time."""
    return f"{_zulu(moment)} ({format_dtg(moment)})" if moment else "-"
