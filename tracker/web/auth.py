"""Sign in, sign out, change password.

A sign-in opens a web session kept in the database (services.accounts.sessions): the old session
cookie and its CSRF token are dropped and new ones issued. Sign-out revokes the session there, so a
copied cookie is useless afterwards. Too many failures from one address for one account are refused
early with 429 and Retry-After (services.accounts.signin); no answer is ever held back.
"""

import posixpath
import re
from collections.abc import Mapping
from datetime import timedelta
from urllib.parse import urlsplit, urlunsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from ..http import ratelimit
from ..http.transaction import committed
from ..services.accounts import people, sessions, signin
from ..timeutil import utcnow
from .board import landing
from .forms import PasswordForm, SignInForm

bp = Blueprint("auth", __name__)
SESSION_KEY = "web_session"
# Anything at or below space, DEL, and the backslash some browsers read as a slash.
UNSAFE = re.compile(r"[\x00-\x20\x7f\\]")


def safe_next(target: str | None) -> str | None:
    """The path on this site that `target` names, normalised, or None for anything else: another
    host, a scheme, control characters or whitespace anywhere, or something that is not a path."""
    if not target or len(target) > 2000 or UNSAFE.search(target):
        return None
    try:
        parts = urlsplit(target)
    except ValueError:  # "//[evil.example": a host's bracket not closed
        return None
    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
        return None
    path = posixpath.normpath(parts.path)
    if path.startswith("//"):  # normpath keeps a leading "//"; a browser reads it as another host
        return None
    if parts.path.endswith("/") and path != "/":
        path += "/"
    return urlunsplit(("", "", path, parts.query, ""))


def limits() -> signin.Limits:
    config = current_app.config
    return signin.Limits(
        slow_after=config["LOGIN_SLOWDOWN_AFTER"],
        backoff_max=config["SIGNIN_BACKOFF_MAX_SECONDS"],
        account_limit=config["SIGNIN_PER_ACCOUNT"],
        window=config["RATE_LIMIT_WINDOW_SECONDS"],
    )


def start_session(user) -> bool:
    """End the session this browser came with (its row and cookie, and its CSRF token) and open a new one
    for user, kept in the database: signing in again, or as someone else, leaves no old session live.
    False (and no session at all) when the account was deactivated since its password was checked."""
    with committed() as db:
        session_id = sessions.replace(db, session.get(SESSION_KEY), user, ratelimit.address(), utcnow())
    session.clear()
    if session_id is None:
        logout_user()
        return False
    session.permanent = True  # the idle limit: PERMANENT_SESSION_LIFETIME
    session[SESSION_KEY] = session_id
    login_user(user)
    return True


@bp.get("/login")
def log_in():
    """The address people try first (every other site's): the sign-in page, with where they were going."""
    target = safe_next(request.args.get("next"))
    return redirect(url_for("auth.sign_in", next=target) if target else url_for("auth.sign_in"), 301)


@bp.route("/signin", methods=["GET", "POST"])
def sign_in():
    form = SignInForm()
    if form.validate_on_submit():
        address = ratelimit.address()
        ratelimit.attempt(f"signin:address:{address}", "SIGNIN_PER_ADDRESS", "sign-in attempts from this address")
        with committed() as db:
            outcome = signin.sign_in(db, form.username.data, form.password.data, address, utcnow(), limits())
        if outcome.user is not None and start_session(outcome.user):
            if outcome.failed_before:
                flash(
                    f"{outcome.failed_before} failed sign-in attempt(s) on your account since your last sign-in, "
                    f"the last at {outcome.last_failed_at:%Y-%m-%d %H:%M}Z, from {', '.join(outcome.failed_from)}. "
                    "If that was not you, someone is guessing your password: tell your administrator.",
                    "error",
                )
            return redirect(safe_next(request.args.get("next")) or landing(outcome.user))
        form.password.errors.append("Wrong username or password.")
    return render_template(
        "web/signin.html", form=form
    ), 200 if request.method == "GET" else 401 if form.errors else 200


@bp.post("/signout")
@login_required
def sign_out():
    session_id = session.get(SESSION_KEY)
    if session_id:
        with committed() as db:
            sessions.revoke(db, session_id, "signed_out", utcnow())
    logout_user()
    session.clear()
    flash("Signed out.")
    return redirect(url_for("auth.sign_in"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password():
    form = PasswordForm()
    if form.validate_on_submit():
        address = ratelimit.address()
        with committed() as db:  # a wrong password is counted (committed) like a failed sign-in
            user = db.merge(current_user._get_current_object())
            right = signin.check_password_again(db, user, form.current_password.data, address, utcnow(), limits())
            if right:
                people.set_password(db, user, form.password.data, by=user.username, address=address)
        if right:
            # Every session was revoked; this browser gets a new one, unless the account was deactivated.
            if not start_session(user):
                return redirect(url_for("auth.sign_in"))
            flash("Password changed; other sessions are signed out.")
            return redirect(landing(user))
        form.current_password.errors.append("The current password is wrong.")
    # Refused, 422 as every other form's refusal (it answered 200).
    return render_template("web/password.html", form=form), 422 if form.is_submitted() else 200


def absolute_limit() -> timedelta:
    return absolute_limit_of(current_app.config)


def absolute_limit_of(config: Mapping) -> timedelta:
    """How long a web session lasts from sign-in, however it is used."""
    return timedelta(hours=config["SESSION_ABSOLUTE_HOURS"])


def idle_limit() -> timedelta:
    """How long a web session lasts after its last use on record."""
    return timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])
