"""JSON text of stored values, by orjson, falling back to the standard library for what only it takes.

A sweep writes two JSON values per escalation (an event's details, a message's webhook facts) and
reads six per incident, and a filing writes its first events and messages as JSON: the standard
library's encoder and decoder were about a ninth of a sweep's instructions. orjson refuses a lone
surrogate (which a value stored before the doors refused it may hold: tracker.text) and a key that is
not a string; those go through json as before. What both refuse still fails: orjson is told to pass
dates and dataclasses on (to default, else refused), as json.dumps does.
"""

import json
from collections.abc import Callable
from typing import Any

import orjson

_AS_JSON_DUMPS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def dumps(value: Any, default: Callable[[Any], Any] | None = None) -> str:
    """value as JSON text (str: a COPY row takes a JSON column's bind processor as it is, and bytes
    there would be written as bytea); default converts what JSON has no type for, as json.dumps's."""
    try:
        return orjson.dumps(value, default=default, option=_AS_JSON_DUMPS).decode()
    except TypeError:  # orjson.JSONEncodeError is one
        return json.dumps(value, default=default)


def loads(data: bytes | str) -> Any:
    """A JSON column's value as the driver hands it over (PostgreSQL: UTF-8 bytes)."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)
