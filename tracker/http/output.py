"""Answers that never fail on what is stored: pages and JSON show a lone surrogate as U+FFFD.

Every input refuses text that is not Unicode scalar values (tracker.text), but a JSON column
written before that rule may hold one ("\\ud800" in a comment of the append-only timeline, in a
platform's callsign, in an exercise's states). UTF-8 cannot encode it, so a page showing it would
answer 500 for ever. Pages go through Jinja's `finalize`, which sees every value a template prints;
JSON answers go through the app's JSON provider. Both leave good text as it is.
"""

import json
from typing import Any

from flask import Flask
from flask.json.provider import DefaultJSONProvider

from ..text import each_text, scalar, shown


def _unique(pairs: list[tuple[str, Any]]) -> dict:
    found = dict(pairs)
    if len(found) != len(pairs):
        seen: set[str] = set()
        twice = next(key for key, _ in pairs if key in seen or seen.add(key))  # type: ignore[func-returns-value]
        raise ValueError(f"the key {twice!r} is given twice")
    return found


class ScalarJSONProvider(DefaultJSONProvider):
    """Flask's JSON provider, whose text never holds a lone surrogate (escaped as \\udXXX, it is
    not valid Unicode: strict clients refuse the whole answer)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        """JSON as sent, refusing an object that names a key twice: JSON leaves it undefined, and the
        last one silently winning ({"domain": "land", "domain": "air"}) files what the sender did not read."""
        return json.loads(s, object_pairs_hook=_unique, **kwargs)

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        text = super().dumps(obj, **kwargs)
        if "\\ud" not in text:  # ensure_ascii writes every surrogate so; none there, nothing to do
            return text
        kwargs.pop("default", None)  # what comes back from loads is plain JSON already
        return super().dumps(each_text(json.loads(text), scalar), **kwargs)


def init_app(app: Flask) -> None:
    app.json = ScalarJSONProvider(app)
    app.jinja_env.finalize = shown
