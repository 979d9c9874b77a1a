"""The one way a page form acts on an incident: one service call as a unit of work, tell the user,
go back to the incident page."""

from collections.abc import Callable
from typing import Any

from flask import abort, flash, redirect, url_for
from sqlalchemy.orm import Session

from ..db import get_session
from ..errors import Forbidden, TrackerError
from ..http.transaction import committed


def explain(error: TrackerError) -> str:
    """The error's message with its short details, for a flash line."""
    said = "; ".join(f"{k}: {v}" for k, v in error.details.items() if isinstance(v, str))
    return f"{error.message} ({said})" if said and said not in error.message else error.message


def act_on_incident(
    reference: str,
    do: Callable[[Session], object],
    done: str | Callable[[Any], str] = "",
    anchor=None,
    back: str | None = None,
):
    """Run do(session) and commit; a refusal is a 403 page, any other domain error a flash line
    (nothing committed). Then back to the incident page (at anchor), or to back (a path on this site
    the caller checked, such as the list an Acknowledge button was on). done may be a function of
    what do returned."""
    try:
        with committed():
            result = do(get_session())
    except Forbidden:
        abort(403)
    except TrackerError as error:
        flash(explain(error), "error")
    else:
        message = done(result) if callable(done) else done
        if message:
            flash(message, "success")
    return redirect(back or url_for("incidents.view", reference=reference, _anchor=anchor))
