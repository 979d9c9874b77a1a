"""The incident page's live parts: state and countdown, the Acknowledge and Resolve buttons, facts and
ladder, timeline, and the exchange panel, drawn by the same partials as the page, for static/live.js
to poll every few seconds (an ETag each, 304 while nothing changed; web/etags.py)."""

from flask import Blueprint, render_template
from flask_login import login_required

from .etags import conditional
from .incidents import page_context

bp = Blueprint("live", __name__)


@bp.get("/incidents/<reference>/live")
@login_required
def incident(reference: str):
    """The live parts of the incident page, each in its [data-live] element."""
    return conditional(render_template("web/incident/_live.html", **page_context(reference)))
