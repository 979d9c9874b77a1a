"""The admin page of the routing configuration's record (models.config_log): who added, changed or deleted
which line, policy, routing rule or agreement, when, and each fact before and after. Supervisors and admins."""

from flask import render_template, request

from ..db import get_session
from ..http.access import requires
from ..models.permissions import Permission
from ..services.review import config_history
from .admin import bp

PER_PAGE = 100


@bp.get("/changes")
@requires(Permission.CONFIG_HISTORY)
def changes():
    page = request.args.get("page", "1")
    number = int(page) if page.isascii() and page.isdigit() and 0 < len(page) < 7 and int(page) > 0 else 1
    items, total = config_history.changes(get_session(), None, None, number, PER_PAGE)
    pages = max(1, -(-total // PER_PAGE))
    return render_template("web/admin/changes.html", changes=items, page=number, pages=pages, total=total)
