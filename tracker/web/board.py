"""The board of open incidents and the liaison's queue; both refresh themselves."""

from flask import Blueprint, render_template, request
from flask_login import current_user, login_required

from ..db import get_session
from ..models import IncidentStatus, Precedence
from ..services.exchanges import exchanges
from ..services.incidents import queries

bp = Blueprint("board", __name__)


def _filters() -> dict:
    statuses = [s for s in request.args.getlist("status") if s in queries.BOARD_STATUSES]
    precedences = [p for p in request.args.getlist("precedence") if p in {x.value for x in Precedence}]
    return {"status": statuses, "precedence": precedences}


@bp.get("/")
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
