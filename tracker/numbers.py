"""Numbers as people type them in a form, a query string, a path or a CSV cell: ASCII digits only.

Python's int() and float() read every script's decimal digits ("٥٤" is 54, "５" is 5), underscores between
digits ("1_000"), and float() also "nan", "inf" and exponents ("1e3"). None of that is how a desk writes a
count, a distance or a page number, and a number read from it could not be checked against what was typed:
these readers take an optional sign, ASCII digits and (for decimals) one decimal point, and refuse the rest
with a message that names what they saw (a digit of another script by its Unicode name). Pure functions.
"""

import math
import re
from decimal import Decimal

from .text import foreign_digit

WHOLE = re.compile(r"[+-]?[0-9]+")
DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")


def _checked(text: str, pattern: re.Pattern, what: str, rule: str) -> str:
    typed = text.strip()
    if found := foreign_digit(typed):
        raise ValueError(found)
    if not pattern.fullmatch(typed):
        shown = typed if len(typed) <= 40 else typed[:40] + "…"
        raise ValueError(f"not {what}: “{shown}” ({rule})")
    return typed


def read_whole(text: str) -> int:
    """A whole number typed with ASCII digits and an optional sign: " 12 " is 12; ValueError otherwise."""
    typed = _checked(text, WHOLE, "a whole number", "digits 0-9")
    try:
        return int(typed)
    except ValueError:  # over 4,300 digits: int() refuses to read them (sys.get_int_max_str_digits)
        raise ValueError(f"{len(typed):,} digits: no count is that large") from None


def read_decimal(text: str) -> float:
    """A decimal number typed with ASCII digits, an optional sign and point: "0.3" is 0.3; ValueError otherwise
    (nan, inf, 1e3, 1_000, a decimal comma and digits of other scripts included)."""
    value = float(_checked(text, DECIMAL, "a number", "digits 0-9 and a decimal point"))
    if not math.isfinite(value):  # 400 digits: beyond what a float holds
        raise ValueError(f"{len(text.strip()):,} digits: no distance or figure is that large")
    return value


def decimal_text(value: float) -> str:
    """A number as a form shows it back, to be read again by read_decimal: the shortest digits that read as the
    same float, without an exponent or a point and zero (200.0 is "200", 1e-05 is "0.00001")."""
    text = format(Decimal(repr(float(value) + 0.0)), "f")  # + 0.0: -0.0 is 0
    return text.rstrip("0").rstrip(".") if "." in text else text
