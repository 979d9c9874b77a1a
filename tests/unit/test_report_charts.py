"""The report page's bar-chart layout and how durations are written."""

import pytest

from tracker.web.charts import LABEL_WIDTH, bar_chart, duration, short


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "–"),
        (0, "0 s"),
        (45.4, "45 s"),
        (60.5, "1 min"),
        (725, "12 min 5 s"),
        (11100, "3 h 5 min"),
        (187200, "2 d 4 h"),
    ],
)
def test_durations_read_as_staff_write_them(seconds, text):
    assert duration(seconds) == text, seconds


def test_bars_scale_to_the_largest_value_and_keep_their_series_order():
    chart = bar_chart("t", "T", [("Z FLASH", (100, 400)), ("O IMMEDIATE", (50, None))], (("median", "a"), ("p90", "b")))
    longest = max(bar.width for row in chart.rows for bar in row.bars)
    z, o = chart.rows
    assert z.bars[1].width == longest and z.bars[0].width == longest / 4, [b.width for b in z.bars]
    assert o.bars[1].width == 0 and o.bars[1].text == "–", "a missing value draws no bar"
    assert [b.css.split()[0] for b in z.bars] == ["a", "b"] and all(b.x == LABEL_WIDTH for b in z.bars)
    assert z.bars[0].y < z.bars[1].y < o.bars[0].y, "series within a row, rows top to bottom"
    assert chart.height > o.bars[1].y + o.bars[1].height, "the axis fits below the last bar"


def test_an_empty_chart_says_so_and_long_labels_are_cut():
    assert bar_chart("e", "E", [], (("n", "c"),)).empty
    assert short("harassment of non military ship") == "harassment of non militar…"
