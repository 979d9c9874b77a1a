"""Users: the list, create, deactivate and reactivate, reset a password, issue and revoke API tokens."""

from typing import TypedDict

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..db import get_session
from ..errors import NotFound
from ..http import idempotency, ratelimit
from ..http.access import requires
from ..models import AccountEvent, ApiToken, User
from ..models.permissions import Permission
from ..services.accounts import people
from ..timeutil import format_dtg, utcnow
from .acting import ask_first
from .admin import apply_change, bp, page, save, shown_once
from .bidi import formatted, isolated, isolated_list, said
from .forms import NewPasswordForm, TokenForm, UserForm

# What issuing answers for a token form sent a second time (its one-time key used): no second token.
SENT_ALREADY = object()


def _user(user_id: int) -> User:
    user = get_session().get(User, user_id)
    if user is None:
        raise NotFound(f"no user {user_id}")
    return user


class Acting(TypedDict):
    by: str
    address: str


def _acting() -> Acting:
    """Who changes an account, and from where, for its security log."""
    return {"by": current_user.username, "address": ratelimit.address()}


def _back(user_id: int):
    return redirect(url_for("admin.user", user_id=user_id))


@bp.get("/users")
@requires(Permission.USERS_MANAGE)
def users():
    # Each row counts the user's tokens in use: read for all the users at once.
    users = get_session().scalars(select(User).order_by(User.username).options(selectinload(User.tokens)))
    return render_template("web/admin/users.html", users=users)


@bp.route("/users/new", methods=["GET", "POST"])
@requires(Permission.USERS_MANAGE)
def new_user():
    form = UserForm()
    if form.validate_on_submit():
        user = save(
            form,
            lambda s: people.create_user(
                s,
                form.username.data,
                form.password.data,
                form.role.data,
                form.full_name.data or "",
                form.email.data,
                **_acting(),
            ),
            # "user exists" names no field: it belongs next to the username.
            lambda key: form[key] if key in form else form.username,
        )
        if user is not None:
            flash(said("User {name} created.", name=user.username), "success")
            return _back(user.id)
    return page("web/admin/user_form.html", form)


def _with_key(form: TokenForm) -> TokenForm:
    """The token form with its one-time key: a new one, unless it comes back refused with its key unused."""
    if not form.issue_key.data:
        form.issue_key.data = idempotency.new_key()
    return form


def _user_page(user: User, password_form=None, token_form=None, secret: dict | None = None):
    tokens = get_session().scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc()))
    events = get_session().scalars(
        select(AccountEvent).where(AccountEvent.user_id == user.id).order_by(AccountEvent.id.desc()).limit(20)
    )
    failed = password_form is not None or token_form is not None
    return render_template(
        "web/admin/user.html",
        user=user,
        tokens=list(tokens),
        account_events=list(events),
        password_form=password_form or NewPasswordForm(formdata=None),
        token_form=_with_key(token_form or TokenForm(formdata=None)),
        secret=secret,
    ), 422 if failed else 200


@bp.get("/users/<int:user_id>")
@requires(Permission.USERS_MANAGE)
def user(user_id: int):
    return _user_page(_user(user_id))


@bp.post("/users/<int:user_id>/password")
@requires(Permission.USERS_MANAGE)
def reset_password(user_id: int):
    user, form = _user(user_id), NewPasswordForm()

    def reset(session):
        people.set_password(session, user, form.password.data, **_acting())
        return user

    if form.validate() and save(form, reset):
        flash(
            formatted("Password of {name} reset: {reset}", name=isolated(user.username), reset=people.RESET_SAID),
            "success",
        )
        return _back(user_id)
    return _user_page(user, password_form=form)


@bp.post("/users/<int:user_id>/tokens")
@requires(Permission.USERS_MANAGE)
def issue_token(user_id: int):
    user, form = _user(user_id), TokenForm()
    key = form.issue_key.data or ""  # none from a page rendered before the form had one
    if key and not idempotency.valid_key(key):
        abort(400, "The form's one-time key is damaged: open the form again.")
    me = current_user._get_current_object()

    def issue(session):
        if key and idempotency.claim_form(session, me.id, key, utcnow()) is not None:
            return SENT_ALREADY
        issued = people.create_token(session, user, form.name.data, **_acting())
        if key:  # what a second use of the key finds: the user's page, never the token
            idempotency.keep_answer(session, me.id, key, redirect(url_for("admin.user", user_id=user_id)))
        return issued

    issued = form.validate() and save(form, issue)
    if issued is SENT_ALREADY:
        flash("This form was sent already: the token it issued was shown then, once. Issue another below.", "error")
        return redirect(url_for("admin.user", user_id=user_id))
    if not issued:
        return _user_page(user, token_form=form)
    token, text = issued
    label = f"API token “{token.name}” for {user.username} (send it as “Authorization: Bearer …”)"
    return _user_page(user, secret=shown_once(label, text))  # the answer itself shows it (shown_once)


@bp.post("/tokens/<int:token_id>/revoke")
@requires(Permission.USERS_MANAGE)
def revoke_token(token_id: int):
    token = get_session().get(ApiToken, token_id)
    if token is None:
        raise NotFound(f"no token {token_id}")
    user_id = token.user_id
    if token.revoked_at is not None:  # from a page read before another admin revoked it: nothing changes
        flash(f"Token {token.prefix}… was revoked already, {format_dtg(token.revoked_at)}.", "warning")
        return _back(user_id)
    question = formatted(
        "Revoke the API token “{name}” ({prefix}…) of {user}?",
        name=isolated(token.name),
        prefix=token.prefix,
        user=isolated(token.user.username),
    )
    consequence = "Whatever sends it is refused from now on; a new token must be issued and handed over."
    if asked := ask_first(question, url_for("admin.user", user_id=user_id), consequence, label="Revoke"):
        return asked
    apply_change(lambda s: people.revoke_token(s, token_id, **_acting()), f"Token {token.prefix}… revoked.")
    return _back(user_id)


@bp.post("/users/<int:user_id>/deactivate")
@requires(Permission.USERS_MANAGE)
def deactivate_user(user_id: int):
    user = _user(user_id)
    # Not refused: an account taken over is cut off at once, the last supervisor's too; said before and after.
    last = people.last_active_supervisor(get_session(), user) and said(people.LAST_SUPERVISOR, name=user.username)
    if user.id == current_user.id:
        flash("You cannot deactivate yourself: ask another admin.", "error")
    elif asked := ask_first(
        said("Deactivate {user}?", user=user.username),
        url_for("admin.user", user_id=user_id),
        Markup.escape(
            "Their sessions end and their API tokens and calendar feed links are revoked at once (an officer on "
            "watch is cut off); an admin can activate them again, but the tokens and links stay revoked."
        )
        + (Markup(" ") + last if last else ""),
        label="Deactivate",
        final=False,
    ):
        return asked
    else:
        done = apply_change(
            lambda s: people.deactivate(s, user, **_acting()),
            said(
                "{name} deactivated: their sessions ended, their API tokens and calendar feed links revoked.",
                name=user.username,
            ),
        )
        if done and last:
            flash(last, "warning")
    return _back(user_id)


@bp.post("/users/<int:user_id>/activate")
@requires(Permission.USERS_MANAGE)
def activate_user(user_id: int):
    user = _user(user_id)
    done = apply_change(
        lambda s: people.reactivate(s, user, **_acting()),
        said(
            "{name} reactivated: they sign in with their password. Their old API tokens and calendar feed links stay "
            "revoked: issue new tokens below if they need them.",
            name=user.username,
        ),
    )
    alike = [group for group in people.names_alike(get_session()) if user.username in group] if done else []
    for group in alike:  # as `flask user activate` warns (cli/people.py)
        others = [name for name in group if name != user.username]
        flash(
            said(
                "{name} reads as {others}: the two share one count of failed sign-ins, so failures on either slow the "
                "other down. Keep one of them active, and give the other's owner an account under a name unlike any "
                "other.",
                name=user.username,
                others=isolated_list(others),
            ),
            "warning",
        )
    looking = [group for group in people.names_looking_alike(get_session()) if user.username in group] if done else []
    for group in looking:
        others = [ascii(name) for name in group if name != user.username]
        flash(
            said(
                "{name} looks like {others} (as written here, each letter beyond ASCII by its code): in letters of two "
                "scripts, a four-eyes list or a timeline shows them as one person. Keep one of them active, and give "
                "the other's owner an account under a name unlike any other.",
                name=ascii(user.username),
                others=isolated_list(others),
            ),
            "warning",
        )
    return _back(user_id)
