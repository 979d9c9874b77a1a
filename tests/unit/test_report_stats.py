"""Median and p90 of the after-action report, against values worked out by hand.

Method: linear interpolation between closest ranks. For n sorted values x[0..n-1] the
q-quantile sits at rank h = q * (n - 1); the answer is x[floor h] + (h - floor h) * (x[floor h + 1] - x[floor h]).
"""

import statistics
from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest

from tracker.services.review.reports import (
    Handled,
    in_order_of,
    percentile,
    seconds_between,
    summarize,
    time_rows,
    time_section,
)

HALF, P90 = Fraction(1, 2), Fraction(9, 10)


@pytest.mark.parametrize(
    ("values", "median", "p90"),
    [
        # n=1: h=0 for both quantiles: the value itself.
        ([300], 300, 300),
        # n=2, [100, 200]: median h=0.5 -> 150; p90 h=0.9 -> 100 + 0.9*100 = 190.
        ([200, 100], 150, 190),
        # n=3, [60, 120, 600]: median h=1 -> 120; p90 h=1.8 -> 120 + 0.8*480 = 504.
        ([600, 60, 120], 120, 504),
        # n=4, [10, 20, 30, 40]: median h=1.5 -> 25; p90 h=2.7 -> 30 + 0.7*10 = 37.
        ([40, 10, 30, 20], 25, 37),
        # n=5, [1, 2, 3, 4, 100]: median h=2 -> 3; p90 h=3.6 -> 4 + 0.6*96 = 61.6.
        ([1, 2, 3, 4, 100], 3, Fraction(616, 10)),
        # n=10, 1..10: median h=4.5 -> 5.5; p90 h=8.1 -> 9 + 0.1*1 = 9.1.
        (list(range(1, 11)), Fraction(11, 2), Fraction(91, 10)),
        # n=11, 0..100 step 10: h=5 -> 50; p90 h=9 -> 90 exactly.
        (list(range(0, 101, 10)), 50, 90),
        # Ties: [5, 5, 5, 9]: median h=1.5 -> 5; p90 h=2.7 -> 5 + 0.7*4 = 7.8.
        ([5, 9, 5, 5], 5, Fraction(78, 10)),
    ],
)
def test_median_and_p90_match_hand_computed_values(values, median, p90):
    assert percentile(values, HALF) == median, f"median of {sorted(values)}"
    assert percentile(values, P90) == p90, f"p90 of {sorted(values)}"


def test_the_method_is_that_of_statistics_quantiles_inclusive():
    for values in ([200, 100], [600, 60, 120], [1, 2, 3, 4, 100], [7, 7, 8, 30, 31, 45, 46, 90, 1000]):
        deciles = statistics.quantiles(values, n=10, method="inclusive")
        assert float(percentile(values, P90)) == deciles[8], f"p90 of {values}: ours vs statistics.quantiles"
        assert float(percentile(values, HALF)) == statistics.median(values), f"median of {values}"


def test_no_values_give_no_median_and_no_p90():
    assert percentile([], HALF) is None
    assert summarize([]) == {"count": 0, "median_seconds": None, "p90_seconds": None}


def test_summaries_are_seconds_rounded_to_the_millisecond():
    # [1/3, 2/3]: median 0.5; p90 1/3 + 0.9 * 1/3 = 0.6333... -> 0.633
    assert summarize([Fraction(1, 3), Fraction(2, 3)]) == {"count": 2, "median_seconds": 0.5, "p90_seconds": 0.633}
    assert summarize([1, 2, 3, 4, 100]) == {"count": 5, "median_seconds": 3.0, "p90_seconds": 61.6}


def test_seconds_between_is_exact_to_the_microsecond():
    start = datetime(2026, 11, 27, 14, 5, tzinfo=UTC)
    assert seconds_between(start, start + timedelta(seconds=90, microseconds=250)) == Fraction(90_000_250, 10**6)
    assert seconds_between(start, start - timedelta(seconds=5)) == -5


def test_time_section_groups_by_channel_level_precedence_and_month():
    handled = [
        Handled("Z", "Z", "2026-11", ("L1 desk",), (1,), Fraction(100), None),
        Handled("Z", "Z", "2026-12", ("L1 desk", "L2 hotline"), (1, 2), Fraction(300), Fraction(900)),
        Handled("R", "R", "2026-11", (), (), None, Fraction(60)),
    ]
    ack = time_section(handled, "ack_seconds")
    assert ack["overall"] == {"count": 2, "median_seconds": 200.0, "p90_seconds": 280.0}
    assert ack["by_channel"] == {
        "L1 desk": {"count": 2, "median_seconds": 200.0, "p90_seconds": 280.0},
        "L2 hotline": {"count": 1, "median_seconds": 300.0, "p90_seconds": 300.0},
    }
    assert list(ack["by_level"]) == ["L1", "L2"], ack["by_level"]
    assert ack["by_precedence"] == {"Z": {"count": 2, "median_seconds": 200.0, "p90_seconds": 280.0}}
    assert list(ack["by_month"]) == ["2026-11", "2026-12"]
    resolve = time_section(handled, "resolve_seconds")
    assert list(resolve["by_precedence"]) == ["Z", "R"], "precedence keys run FLASH first, ROUTINE last"
    assert resolve["by_channel"] == {
        "L1 desk": {"count": 1, "median_seconds": 900.0, "p90_seconds": 900.0},
        "L2 hotline": {"count": 1, "median_seconds": 900.0, "p90_seconds": 900.0},
    }, "an incident handled on a step without channels counts in no channel"


def test_a_times_table_lists_every_row_either_time_has_in_the_groups_order():
    """Keys of the time to acknowledge, then those only resolved, put a month with resolved incidents only
    below a later month, and ROUTINE above FLASH (reports review)."""
    report = {
        "ack_times": {"by_month": {"2026-12": {}}, "by_precedence": {"R": {}}, "by_level": {"L10": {}}},
        "resolve_times": {
            "by_month": {"2026-11": {}, "2026-12": {}},
            "by_precedence": {"Z": {}},
            "by_level": {"L2": {}},
        },
    }
    assert time_rows(report, "by_month") == ["2026-11", "2026-12"]
    assert time_rows(report, "by_precedence") == ["Z", "R"]
    assert time_rows(report, "by_level") == ["L2", "L10"]


def test_values_whose_floats_tie_are_still_ordered_exactly():
    """Sorted by their floats first (fast), by the exact value where two floats tie (in_order_of)."""
    big, bigger = Fraction(10**20), Fraction(10**20 + 1)
    assert float(big) == float(bigger)
    assert in_order_of([bigger, big, Fraction(1, 3)]) == [Fraction(1, 3), big, bigger]
    assert percentile([bigger, big], HALF) == big + Fraction(1, 2)
