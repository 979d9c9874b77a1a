"""Horizontal bar charts laid out in Python and drawn as inline SVG by templates/web/_charts.html.

No chart library: the page must work offline under a strict CSP (no script, no external asset),
and pygal or matplotlib would bring a plotting stack for a few rectangles. Colours come from
app.css through the class names, so the charts follow the page's theme and print in black.

Each chart is laid out twice: wide (labels left of the bars, 640 units) and narrow for a phone (each label
above its bars, 360 units, so that a 390 px screen draws its text near full size: the wide one shrunk
to a phone's width wrote 6 px labels). app.css shows the one that fits the screen.
"""

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ..timeutil import duration as words

WIDTH = 640
LABEL_WIDTH = 180  # room for a channel or category name on the left
VALUE_ROOM = 90  # room for the value written after the longest bar
BAR_HEIGHT = 14
BAR_GAP = 3
ROW_GAP = 12
TOP = 30  # the legend
AXIS = 24
NARROW_WIDTH = 360  # a phone's width, less the card's padding: drawn at about its own size
NARROW_VALUE_ROOM = 90
LABEL_ROOM = 16  # a narrow chart's label line, above its bars
NARROW_LEFT = 10  # room for half the first tick's text


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    css: str
    text: str


@dataclass(frozen=True)
class Row:
    label: str
    label_y: float
    bars: list[Bar]
    label_x: float = LABEL_WIDTH - 8
    anchor: str = "end"


@dataclass
class Chart:
    id: str
    title: str
    height: float
    series: list[tuple[str, str]]  # (name, css class) for the legend
    rows: list[Row] = field(default_factory=list)
    ticks: list[tuple[float, str]] = field(default_factory=list)
    width: int = WIDTH
    label_width: int = LABEL_WIDTH
    narrow: "Chart | None" = None  # the same chart laid out for a phone

    @property
    def empty(self) -> bool:
        return not self.rows

    @property
    def axis_y(self) -> float:
        return self.height - AXIS


def _slug(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")


def short(label: str, limit: int = 26) -> str:
    """Cut a label to fit the label column."""
    return label if len(label) <= limit else label[: limit - 1] + "…"


def bar_chart(
    chart_id: str,
    title: str,
    rows: Sequence[tuple[str, Sequence[float | None]]],
    series: Sequence[tuple[str, str]],
    fmt: Callable[[float], str] = str,
    ticks: Sequence[float] = (0, 0.5, 1),
) -> Chart:
    """Lay out one group of bars per row (one bar per series), scaled to the largest value: wide, and
    narrow for a phone (chart.narrow)."""
    chart = _layout(chart_id, title, rows, series, fmt, ticks, narrow=False)
    chart.narrow = _layout(chart_id, title, rows, series, fmt, ticks, narrow=True)
    return chart


def _layout(chart_id, title, rows, series, fmt, ticks, narrow: bool) -> Chart:
    width, left = (NARROW_WIDTH, NARROW_LEFT) if narrow else (WIDTH, LABEL_WIDTH)
    above = LABEL_ROOM if narrow else 0  # a narrow chart writes each label on a line of its own, above its bars
    per_row = len(series) * (BAR_HEIGHT + BAR_GAP) - BAR_GAP
    height = TOP + len(rows) * (above + per_row + ROW_GAP) + AXIS
    chart = Chart(chart_id, title, height, list(series), width=width, label_width=left)
    largest = max((v for _, values in rows for v in values if v is not None), default=0) or 1
    span = width - left - (NARROW_VALUE_ROOM if narrow else VALUE_ROOM)
    y = TOP
    for label, values in rows:
        bars = [
            Bar(
                left,
                y + above + i * (BAR_HEIGHT + BAR_GAP),
                round(span * (value or 0) / largest, 1),
                BAR_HEIGHT,
                f"{css} row-{_slug(label)}",
                "–" if value is None else fmt(value),
            )
            for i, ((_, css), value) in enumerate(zip(series, values, strict=True))
        ]
        if narrow:
            # Right of the axis (at left), which drawn through the label's first letter read "Z|FLASH".
            chart.rows.append(Row(short(label, 44), y + 12, bars, label_x=left + 4, anchor="start"))
        else:
            chart.rows.append(Row(short(label), y + per_row / 2 + 4, bars))
        y += above + per_row + ROW_GAP
    chart.ticks = [(left + span * share, fmt(largest * share)) for share in ticks]
    return chart


def duration(seconds: float | None) -> str:
    """Write seconds in words, as every page does (tracker.timeutil.duration): 45 s, 12 min 5 s, 2 d 4 h."""
    return words(seconds)


def count(value: float) -> str:
    return f"{value:g}" if value != int(value) else str(int(value))
