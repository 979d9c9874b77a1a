"""The board of open incidents and the liaison's queue (both refresh themselves: their rows, and the notices
around them), each role's landing page at "/", and the site's icon at /favicon.ico."""

from pathlib import Path

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.datastructures import MultiDict

from ..db import get_session
from ..models import Precedence, Role
from ..services.engine import line_checks
from ..services.exchanges import exchanges
from ..services.incidents import queries
from ..services.watches import brief
from .etags import conditional

bp = Blueprint("board", __name__)


@bp.app_template_global()
def lines_not_working() -> list:
    """Active lines whose checks went unconfirmed (down first): the board and My queue say so, so that
    a line that died between two calls is known before it is needed."""
    return queries.lines_not_working(get_session())


def _filters(args: MultiDict) -> dict:
    """The board's filters as asked for, in any case (?precedence=z is Z); what names no precedence or state is
    left out here and named by _unknown, for the page to say: it showed every incident without a word."""
    statuses = [s.lower() for s in args.getlist("status") if s.lower() in queries.BOARD_STATUSES]
    precedences = [p.upper() for p in args.getlist("precedence") if p.upper() in {x.value for x in Precedence}]
    return {"status": statuses, "precedence": precedences}


def _unknown(args: MultiDict) -> list[str]:
    """The filter values asked for that name no precedence or state, as typed."""
    known = {"status": queries.BOARD_STATUSES, "precedence": [x.value for x in Precedence]}
    folds = {"status": str.lower, "precedence": str.upper}
    return [
        f"{name} “{value}”" for name in known for value in args.getlist(name) if folds[name](value) not in known[name]
    ]


def _asked(args: MultiDict) -> dict[str, list[str]]:
    """What of the query the board reads (its filters, its page), for the links that keep it (the rows it polls,
    the pager). The whole query went into url_for, whose own arguments a query can name: ?endpoint=x was a 500,
    and ?_external=1 or ?_scheme=... changed the links themselves."""
    return {name: args.getlist(name) for name in ("status", "precedence", "page") if name in args}


def _page(args: MultiDict) -> int:
    """The board's page asked for (?page=2); anything else is the first."""
    asked = args.get("page", "")
    return int(asked) if asked.isascii() and asked.isdigit() and 0 < len(asked) < 7 else 1


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
    return draw_board(request.args)


def draw_board(args: MultiDict, back: str | None = None) -> str:
    """The board as asked for by args (its filters and page), its rows' Acknowledge buttons coming back to back
    (None: to this request's page). An Acknowledge button's refused note draws it from its own POST
    (web/acknowledging.py), where request.args are not the board's."""
    filters = _filters(args)
    shown = queries.board(get_session(), **filters, page=_page(args))
    return render_template(
        "web/board.html",
        incidents=shown.rows,
        shown=shown,
        exchanges=exchanges.listing(get_session(), True),
        filters=filters,
        unknown=_unknown(args),
        precedences=list(Precedence),
        statuses=queries.BOARD_STATUSES,
        asked=_asked(args),
        back=back,
    )


@bp.get("/board/rows")
@login_required
def board_rows():
    """The board's rows alone, for the page's own polling (filters come along in the query); 304 while
    they are unchanged. An Acknowledge button on a row comes back to the board with its filters."""
    query = request.query_string.decode("latin-1")  # as the browser sent it: percent-encoded ASCII
    back = url_for("board.board") + (f"?{query}" if query else "")
    rows = queries.board(get_session(), **_filters(request.args), page=_page(request.args)).rows
    return conditional(render_template("web/_incident_rows.html", incidents=rows, back=back))


@bp.get("/board/notices")
@login_required
def board_notices():
    """The board's notices alone (lines not working, handovers and approvals waiting for me, watches due for
    relief), for the page's own polling: a line that went down, or a text that waits for my approval, shows
    while the board stays open all watch, as its rows do; 304 while they are unchanged."""
    return conditional(render_template("web/_board_live.html"))


@bp.get("/queue")
@login_required
def queue():
    return draw_queue()


def _owed_on_my_lines() -> dict:
    """What My queue shows besides its rows: what is owed on the lines I serve and their checks awaiting an answer."""
    session = get_session()
    lines = queries.lines_served(session, current_user)
    return {"owed": brief.owed(session, lines), "checks": line_checks.pending_on(session, lines)}


def draw_queue() -> str:
    """My queue; its rows' Acknowledge buttons come back to it, wherever it is drawn from (draw_board)."""
    incidents = queries.queue(get_session(), current_user)
    return render_template("web/queue.html", incidents=incidents, back=url_for("board.queue"), **_owed_on_my_lines())


@bp.get("/queue/notices")
@login_required
def queue_notices():
    """My queue's notices and what is owed on my lines alone, for the page's own polling (board_notices)."""
    return conditional(render_template("web/_queue_live.html", **_owed_on_my_lines()))


@bp.get("/queue/rows")
@login_required
def queue_rows():
    rows = queries.queue(get_session(), current_user)
    return conditional(render_template("web/_incident_rows.html", incidents=rows, back=url_for("board.queue")))


@bp.get("/favicon.ico")
def favicon():
    """The icon the pages link (static/favicon.svg), where browsers look for it by themselves; read whole
    (half a kilobyte), so no file is left open for the server to close."""
    icon = Path(current_app.static_folder or "", "favicon.svg").read_bytes()
    return Response(icon, mimetype="image/svg+xml")
