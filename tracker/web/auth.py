"""Sign in, sign out, change password."""

import time

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from ..errors import ValidationError
from ..http import ratelimit
from ..http.transaction import committed
from ..services.accounts import people
from ..timeutil import utcnow
from .forms import PasswordForm, SignInForm

bp = Blueprint("auth", __name__)


@bp.route("/signin", methods=["GET", "POST"])
def sign_in():
    form = SignInForm()
    if form.validate_on_submit():
        address, account = ratelimit.address(), form.username.data.strip().casefold()
        ratelimit.attempt(f"signin:address:{address}", "SIGNIN_PER_ADDRESS", "sign-in attempts from this address")
        ratelimit.attempt(f"signin:account:{account}", "SIGNIN_PER_ACCOUNT", "sign-in attempts for this account")
        slow_after = current_app.config["LOGIN_SLOWDOWN_AFTER"]
        with committed() as session:
            user, delay = people.sign_in(session, form.username.data, form.password.data, utcnow(), slow_after)
        if user is not None:
            login_user(user)
            target = request.args.get("next", "")
            return redirect(
                target if target.startswith("/") and not target.startswith("//") else url_for("board.board")
            )
        time.sleep(delay)  # many failures for one account: each answer comes later
        form.password.errors.append("Wrong username or password.")
    return render_template(
        "web/signin.html", form=form
    ), 200 if request.method == "GET" else 401 if form.errors else 200


@bp.post("/signout")
@login_required
def sign_out():
    logout_user()
    flash("Signed out.")
    return redirect(url_for("auth.sign_in"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password():
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            with committed() as session:
                user = session.merge(current_user._get_current_object())
                people.change_password(session, user, form.current_password.data, form.password.data)
        except ValidationError as error:
            form.current_password.errors.append(error.message)
        else:
            login_user(user)  # the session key follows the new password
            flash("Password changed; other sessions are signed out.")
            return redirect(url_for("board.board"))
    return render_template("web/password.html", form=form)
