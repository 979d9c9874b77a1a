"""The board of open incidents and the liaison's queue (both refresh themselves), each role's landing
page at "/", and the site's icon at /favicon.ico."""

from pathlib import Path

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..db import get_session
from ..models import IncidentStatus, Precedence, Role
from ..services.exchanges import exchanges
from ..services.incidents import queries

bp = Blueprint("board", __name__)


def _filters() -> dict:
    statuses = [s for s in request.args.getlist("status") if s in queries.BOARD_STATUSES]
    precedences = [p for p in request.args.getlist("precedence") if p in {x.value for x in Precedence}]
    return {"status": statuses, "precedence": precedences}


def landing(user) -> str:
    """Where a role starts its day: a liaison officer at My queue, an admin at the admin pages, duty
    officers and supervisors at the board (served at "/" itself)."""
    if user.role is Role.LIAISON:
        return url_for("board.queue")
    if user.role is Role.ADMIN and "admin.index" in current_app.view_functions:
        return url_for("admin.index")
    return url_for("board.home")


@bp.get("/")
@login_required
def home():
    """Each role's own page; the board for those who land on it."""
    target = landing(current_user)
    return board() if target == url_for("board.home") else redirect(target)


@bp.get("/board")
@login_required
def board():
    filters = _filters()
    incidents = queries.board(get_session(), **filters)
    return render_template(
        "web/board.html",
        incidents=incidents,
        exchanges=exchanges.listing(get_session(), True),
        filters=filters,
        precedences=list(Precedence),
        statuses=queries.BOARD_STATUSES,
    )


@bp.get("/board/rows")
@login_required
def board_rows():
    """The board's rows alone, for the page's own polling (filters come along in the query)."""
    return render_template("web/_incident_rows.html", incidents=queries.board(get_session(), **_filters()))


@bp.get("/queue")
@login_required
def queue():
    return render_template("web/queue.html", incidents=queries.queue(get_session(), current_user))


@bp.get("/queue/rows")
@login_required
def queue_rows():
    return render_template("web/_incident_rows.html", incidents=queries.queue(get_session(), current_user))


@bp.app_template_global()
def is_handled(incident) -> bool:
    return incident.status in (IncidentStatus.ACKNOWLEDGED, IncidentStatus.RESOLVED)


@bp.get("/favicon.ico")
def favicon():
    """The icon the pages link (static/favicon.svg), where browsers look for it by themselves; read whole
    (half a kilobyte), so no file is left open for the server to close."""
    icon = Path(current_app.static_folder or "", "favicon.svg").read_bytes()
    return Response(icon, mimetype="image/svg+xml")
