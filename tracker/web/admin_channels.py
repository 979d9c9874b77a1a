"""Contact channels: the list with each line's health, "test now", check history, create and edit."""

from flask import current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from .. import dispatch
from ..channels import withheld
from ..db import get_session
from ..errors import TrackerError
from ..http.access import requires
from ..http.transaction import end_reading
from ..http.wiring import the_app
from ..models import ChannelCheck, CheckOutcome, ContactChannel, Role, User
from ..models.permissions import Permission
from ..services.engine import line_checks
from ..services.incidents import ladder
from .acting import ask_first
from .admin import apply_change, bp, page, save, shown_once
from .admin_agreements import agreement_choices
from .bidi import formatted, isolated, said, told
from .forms import ChannelForm

FIELDS = (
    "name",
    "level",
    "counterpart",
    "transport",
    "address",
    "active",
    "members",
    "check_interval_seconds",
    "check_cron",
    "check_window_seconds",
    "counterpart_line",
    "reply_deadline_seconds",
    "meeting_deadline_seconds",
    "language",
    "our_station",
    "their_station",
    "counterpart_state",
    "agreement_id",
    "receipt_seconds",
)
# Left blank, a deadline keeps its value (48 h on a new line).
KEEP_WHEN_BLANK = ("reply_deadline_seconds", "meeting_deadline_seconds")


def _transports() -> dict:
    return current_app.extensions["tracker.transports"]


@bp.app_template_filter("withheld")
def _withheld(channel: ContactChannel) -> str:
    """The line's address with a webhook's or Apprise URL's secret withheld (the page shows it whole to admins)."""
    return withheld(channel.transport, channel.address)


@bp.get("/channels")
@requires(Permission.CHANNELS_WATCH)
def channels():
    return _channels_page()


def _channels_page(secret: dict | None = None) -> str:
    return render_template("web/admin/channels.html", channels=ladder.list_channels(get_session()), secret=secret)


def _form(channel: ContactChannel | None = None) -> ChannelForm:
    form = ChannelForm(obj=channel)
    form.transport.choices = [SelectChoice(name) for name in _transports()]
    liaisons = get_session().scalars(select(User.username).where(User.role == Role.LIAISON).order_by(User.username))
    form.members.choices = [SelectChoice(name) for name in liaisons]
    form.agreement_id.choices = agreement_choices(channel.agreement_id if channel is not None else None)
    if channel is not None and not form.is_submitted():
        form.members.data = channel.member_names
    return form


def _data(form: ChannelForm, channel: ContactChannel | None) -> dict:
    """The form's values for ladder.save_channel; for an edit only what changed, so that saving
    a new name does not move the channel's next check."""
    data = {name: form[name].data for name in FIELDS}
    data.update(counterpart=data["counterpart"] or "", check_cron=data["check_cron"] or None)
    data = {k: v for k, v in data.items() if not (k in KEEP_WHEN_BLANK and v is None)}
    if channel is None:
        return data
    changed = {k: v for k, v in data.items() if v != (channel.member_names if k == "members" else getattr(channel, k))}
    return {**changed, "version": form.version.data}


def _saved(channel: ContactChannel, had_secret: bool, verb: str):
    flash(formatted("Channel “{name}” {verb}.", name=isolated(channel.name), verb=verb), "success")
    if channel.secret and not had_secret:  # the answer itself shows it (shown_once)
        label = f"Signing secret of “{channel.name}”: the receiver checks each request's signature with it"
        return _channels_page(shown_once(label, channel.secret))
    return redirect(url_for("admin.channels"))


@bp.route("/channels/new", methods=["GET", "POST"])
@requires(Permission.CHANNELS_MANAGE)
def new_channel():
    form = _form()
    if form.validate_on_submit():
        channel = save(form, lambda s: ladder.save_channel(s, _data(form, None), _transports()))
        if channel is not None:
            return _saved(channel, False, "created")
    return page("web/admin/channel_form.html", form, channel=None)


@bp.route("/channels/<int:channel_id>/edit", methods=["GET", "POST"])
@requires(Permission.CHANNELS_MANAGE)
def edit_channel(channel_id: int):
    channel = ladder.get_channel(get_session(), channel_id)
    form = _form(channel)
    if form.validate_on_submit():
        had_secret = bool(channel.secret)
        saved = save(form, lambda s: ladder.save_channel(s, _data(form, channel), _transports(), channel))
        if saved is not None:
            return _saved(saved, had_secret, "saved")
    return page("web/admin/channel_form.html", form, channel=channel)


@bp.post("/channels/<int:channel_id>/delete")
@requires(Permission.CHANNELS_MANAGE)
def delete_channel(channel_id: int):
    channel = ladder.get_channel(get_session(), channel_id)
    back = url_for("admin.edit_channel", channel_id=channel_id)
    consequence = "Only a channel no policy, incident or message refers to can go; untick “Active” to retire one."
    if asked := ask_first(said("Delete the channel “{name}”?", name=channel.name), back, consequence):
        return asked
    if apply_change(lambda s: ladder.delete_channel(s, channel_id), "Channel deleted."):
        return redirect(url_for("admin.channels"))
    return redirect(url_for("admin.edit_channel", channel_id=channel_id))


@bp.post("/channels/<int:channel_id>/test")
@requires(Permission.CHANNELS_WATCH)
def test_channel(channel_id: int):
    """Send a communications check now and say how it went."""
    session = get_session()
    name, requested_by = ladder.get_channel(session, channel_id).name, current_user.username
    # send_check writes in transactions of its own; on SQLite this request's open transaction
    # would hold the write lock it waits for (the API's test_channel does the same).
    end_reading()
    try:
        check_id = dispatch.send_check(the_app(), channel_id, requested_by)
    except TrackerError as error:
        flash(formatted("No check sent on {name}: {why}.", name=isolated(name), why=told(error)), "error")
    else:
        check = session.get_one(ChannelCheck, check_id)
        if check.outcome is CheckOutcome.FAILED:
            health = check.health_after.value if check.health_after else "unknown"
            text = "Check of {name}: failed ({detail}); health now {health}."
            flash(formatted(text, name=isolated(name), detail=isolated(check.detail), health=health), "error")
        else:
            text = "Check of {name}: {outcome}, to be confirmed by {due:%H:%M}Z."
            flash(formatted(text, name=isolated(name), outcome=check.outcome.value, due=check.due_by), "success")
    return redirect(url_for("admin.channels"))


@bp.get("/channels/<int:channel_id>/checks")
@requires(Permission.CHANNELS_WATCH)
def channel_checks(channel_id: int):
    session = get_session()
    channel = ladder.get_channel(session, channel_id)
    return render_template(
        "web/admin/channel_checks.html", channel=channel, checks=line_checks.history(session, channel_id)
    )
