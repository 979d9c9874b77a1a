"""Text on the pages' coloured backgrounds reads at WCAG 2.2's 4.5:1 (1.4.3): the precedence badges and map
markers, and the primary buttons (Acknowledge, File, Save...), worked out from the stylesheets themselves."""

import re
from pathlib import Path

import pytest

STATIC = Path(__file__).resolve().parents[2] / "tracker" / "static"
RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")


def _declarations(css: str, selectors: tuple[str, ...]) -> dict[str, str]:
    """The properties the selectors set, later rules and later selectors winning (enough for these flat sheets)."""
    properties: dict[str, str] = {}
    for wanted in selectors:
        for head, body in RULE.findall(re.sub(r"/\*.*?\*/", "", css, flags=re.S)):
            names = [name.strip() for name in head.rsplit("{", 1)[-1].split(",")]
            if wanted in names:
                for part in body.split(";"):
                    if ":" in part:
                        name, value = part.split(":", 1)
                        properties[name.strip()] = value.strip()
    return properties


def _colour(value: str, css: str) -> tuple[float, float, float]:
    if value.startswith("var("):
        name = value[4:-1]
        value = re.search(rf"{re.escape(name)}:\s*(#[0-9a-fA-F]{{3,6}})", css)[1]
    hex_digits = value.lstrip("#")
    if len(hex_digits) == 3:
        hex_digits = "".join(c * 2 for c in hex_digits)
    return tuple(int(hex_digits[i : i + 2], 16) / 255 for i in (0, 2, 4))  # type: ignore[return-value]


def _luminance(rgb: tuple[float, float, float]) -> float:
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: tuple[float, float, float], b: tuple[float, float, float]) -> float:
    """The WCAG contrast ratio of two sRGB colours."""
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


@pytest.mark.parametrize(
    ("sheet", "selectors"),
    [("app.css", (".badge", f".badge.prec-{letter}")) for letter in "ZOPR"]
    + [("map.css", (kind, f"{kind}.prec-{letter}")) for kind in (".map-marker", ".map-cluster") for letter in "ZOPR"]
    + [("map.css", (".map-cluster-key",))]  # the legend's cluster, drawn as a FLASH one is
    + [
        ("app.css", ("button", "button.primary")),
        ("app.css", ("button", "a.button", "a.button.primary")),
    ],
)
def test_text_on_precedence_colours_and_primary_buttons_reads_at_4_5_to_1(sheet, selectors):
    css = (STATIC / "app.css").read_text() + (STATIC / sheet).read_text()
    style = _declarations(css, selectors)
    ratio = contrast(_colour(style["color"], css), _colour(style["background"], css))
    assert ratio >= 4.5, f"{selectors[-1]}: {style['color']} on {style['background']} is {ratio:.2f}:1"
