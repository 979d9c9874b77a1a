"""The path converters both doors use, and what a path of no operation got wrong in an integer id."""

import re

from flask import Flask, Request
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter, Map, Rule

# <int:name>, with or without arguments: the variable an integer id fills.
_INTEGER = re.compile(r"<int(?:\([^<>]*\))?:(\w+)>")
_RELAXED = "tracker.relaxed_ids"


class AsciiIntegerConverter(IntegerConverter):
    """`<int:...>` matched by ASCII digits only. Werkzeug's matches `\\d+`, which in Python also matches
    Arabic-Indic or fullwidth digits, and int() reads them: /api/v1/channels/١ answered channel 1. A path
    is an address, and one thing has one: any other spelling finds nothing (404)."""

    regex = r"[0-9]+"


def _relaxed(app: Flask) -> Map:
    """The app's rules that take an integer id, each taking any text there instead and named by the rule it
    relaxes (built once, on first need: the rules are all registered by then)."""
    found = app.extensions.get(_RELAXED)
    if found is None:
        rules = [
            Rule(_INTEGER.sub(r"<\1>", rule.rule), endpoint=rule.rule, methods=rule.methods)
            for rule in app.url_map.iter_rules()
            if _INTEGER.search(rule.rule)
        ]
        found = app.extensions[_RELAXED] = Map(rules, strict_slashes=False, merge_slashes=False)
    return found


def id_not_whole(app: Flask, request: Request) -> tuple[str, str] | None:
    """The integer id (its name and the text given) that kept the request from matching an operation, if it
    would match one with a whole number there: /api/v1/exchanges/abc is GET /exchanges/<int:exchange_id>."""
    try:
        original, values = _relaxed(app).bind_to_environ(request.environ).match(method=request.method)
    except HTTPException:  # no rule for the path, or none for the method: not an id's fault
        return None
    for name in _INTEGER.findall(original):
        if not re.fullmatch(AsciiIntegerConverter.regex, given := str(values.get(name, ""))):
            return name, given
    return None
