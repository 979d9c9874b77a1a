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


def test_the_category_chart_names_each_bar_as_the_table_beside_it_names_the_category():
    """The chart read "gnss jamming" and "fire control lock on" over a table reading "GNSS jamming" and
    "fire-control lock-on"; a sector is named as it is, never with its underscores made spaces."""
    from tracker.models.enums import category_label
    from tracker.web.reports import _count_chart

    drawn = str(_count_chart("category", "Incidents per category", {"gnss_jamming": 2, "fire_control_lock_on": 1},
                             named=category_label))  # fmt: skip
    assert "GNSS jamming" in drawn and "fire-control lock-on" in drawn and "gnss jamming" not in drawn, drawn
    assert "NORTH_3" in str(_count_chart("sector", "Incidents per sector", {"NORTH_3": 1}))


def test_on_a_phone_each_label_starts_right_of_the_axis():
    """The narrow chart drew its axis through each label's first letter ("Z|FLASH")."""
    narrow = bar_chart("p", "P", [("Z FLASH", (3,)), ("O IMMEDIATE", (1,))], (("n", "c"),)).narrow
    assert narrow is not None
    assert all(row.label_x > narrow.label_width for row in narrow.rows), [
        (r.label_x, narrow.label_width) for r in narrow.rows
    ]
