"""The one way a page form acts on an incident: one service call as a unit of work, tell the user,
go back to the incident page."""

from collections.abc import Callable
from typing import Any

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from markupsafe import Markup
from sqlalchemy.orm import Session

from ..db import get_session
from ..errors import Forbidden, TrackerError
from ..http.transaction import committed
from ..models.labels import key_label
from .bidi import formatted, told


def explain(error: TrackerError) -> Markup:
    """The error's message with its short details, each named in words (actions taken, not actions_taken), for
    a flash line; each name the message quotes isolated (bidi.told)."""
    said = "; ".join(f"{key_label(k)}: {v}" for k, v in error.details.items() if isinstance(v, str))
    if said and said not in error.message:
        return formatted("{message} ({said})", message=told(error), said=said)
    return told(error)


def act_on_incident(
    reference: str,
    do: Callable[[Session], object],
    done: str | Callable[[Any], str] = "",
    anchor: str | Callable[[Any], str] | None = None,
    back: str | None = None,
    form=None,
    why: Callable[[TrackerError], str | Markup] = explain,
    lands: str | None = None,
):
    """Run do(session) and commit; a refusal is a 403 page, any other domain error a flash line
    (nothing committed). Then back to the incident page (at anchor), or to back (a path on this site
    the caller checked, such as the list an Acknowledge button was on). done and anchor may be functions of
    what do returned (anchor: the id of what was acted on, such as what do made, where the focus lands).
    form: the incident page's form that was posted; refused, the page is drawn again with it as posted and
    the problem beside its field (422), so nothing typed is lost; why(error) says the problem.
    lands: the id, on back's page, of what was acted on (its row): back is gone to at it, and the keyboard's
    focus lands there (static/app.js), not at the top of the page above the header. Refused (a flash line), the
    page is gone to at its top, where that line says why."""
    try:
        with committed():
            result = do(get_session())
    except Forbidden:
        abort(403)
    except TrackerError as error:
        if form is not None:
            return page_again(reference, form, why(error), next(iter(error.details), None))
        flash(explain(error), "error")
        # The flash line says why and takes the focus (static/app.js): no fragment to scroll elsewhere, where the
        # browser would move the focus to its target after the script put it on the line.
        at = lands = None
    else:
        message = done(result) if callable(done) else done
        if message:
            flash(message, "success")
        at = anchor(result) if callable(anchor) else anchor
    if back:
        return redirect(f"{back}#{lands}" if lands else back)
    return redirect(url_for("incidents.view", reference=reference, _anchor=at))


def ask_first(question: str, cancel: str, consequence: str = "", label: str = "Delete", final: bool = True):
    """The page asking to confirm a delete (or another step not lightly taken), or None once its form
    came back with confirm=yes. final: the step cannot be undone (the page says so).

    A step of its own, not a script's confirm(): the CSP forbids inline scripts, and a page works
    without any. The button posts without confirm, this page posts again with it and with every
    field the first post carried (a note typed, a prefixed form's token), so nothing typed is lost.
    """
    if request.form.get("confirm") == "yes":
        return None
    carried = [(name, value) for name, value in request.form.items(multi=True) if name not in ("csrf_token", "confirm")]
    return render_template(
        "web/admin/confirm.html",
        question=question,
        consequence=consequence,
        cancel=cancel,
        label=label,
        final=final,
        carried=carried,
    )


def page_again(reference: str, form, problem: str | Markup, field: str | None = None):
    """The incident page drawn again (422) with the refused form as posted (kept_form) and the problem
    beside its field (unless the field's own check says why already), else above the form; the flash line
    says it too, at the top."""
    target = form[field] if field and field in form else None
    if target is not None and target.type not in ("HiddenField", "CSRFTokenField"):  # shown: beside it
        target.errors = list(target.errors) or [problem]
    else:
        form.form_errors.append(problem)
    g.setdefault("kept_forms", {})[form._prefix] = form
    flash(formatted("Nothing was recorded: {problem}", problem=problem), "error")
    return current_app.view_functions["incidents.view"](reference=reference), 422


def kept_form(prefix: str):
    """The form of that prefix refused in this request (page_again), or None."""
    return g.get("kept_forms", {}).get(prefix)
