"""The path converters both doors use."""

from werkzeug.routing import IntegerConverter


class AsciiIntegerConverter(IntegerConverter):
    """`<int:...>` matched by ASCII digits only. Werkzeug's matches `\\d+`, which in Python also matches
    Arabic-Indic or fullwidth digits, and int() reads them: /api/v1/channels/١ answered channel 1. A path
    is an address, and one thing has one: any other spelling finds nothing (404)."""

    regex = r"[0-9]+"
