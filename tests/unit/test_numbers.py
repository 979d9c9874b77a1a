"""Numbers typed by people are read from ASCII digits: int() and float() also read other scripts' digits,
underscores, and (float) nan, inf and exponents."""

import pytest

from tracker.numbers import decimal_text, read_decimal, read_whole


@pytest.mark.parametrize(("text", "value"), [("12", 12), (" 12 ", 12), ("-5", -5), ("+7", 7), ("007", 7)])
def test_a_whole_number_of_ascii_digits_is_read(text, value):
    assert read_whole(text) == value


@pytest.mark.parametrize(
    ("text", "value"), [("0.3", 0.3), (".5", 0.5), ("5.", 5.0), ("-1.25", -1.25), (" 300 ", 300.0)]
)
def test_a_decimal_of_ascii_digits_is_read(text, value):
    assert read_decimal(text) == value


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("٥", "ARABIC-INDIC DIGIT FIVE"),
        ("５", "FULLWIDTH DIGIT FIVE"),
        ("1_000", "not a whole number"),
        ("1.0", "not a whole number"),
        ("", "not a whole number"),
        ("9" * 5000, "5,000 digits"),  # int() itself refuses over 4,300 digits
        ("²", "not a whole number"),
    ],
)
def test_a_whole_number_in_any_other_writing_is_refused(text, said):
    with pytest.raises(ValueError, match=said):
        number = read_whole(text)
        pytest.fail(f"{text!r} read as {number}")


@pytest.mark.parametrize("text", ["nan", "inf", "-inf", "1e3", "1_0.5", "0,3", "٠.٣", "1.2.3", "", "9" * 400])
def test_a_decimal_in_any_other_writing_is_refused(text):
    with pytest.raises(ValueError):
        number = read_decimal(text)
        pytest.fail(f"{text!r} read as {number}")


@pytest.mark.parametrize(
    ("value", "shown"),
    [(200.0, "200"), (0.3, "0.3"), (1e-05, "0.00001"), (12.34567, "12.34567"), (1e7, "10000000"), (-0.0, "0")],
)
def test_a_number_is_shown_as_digits_that_read_back_as_the_same_number(value, shown):
    assert decimal_text(value) == shown
    assert read_decimal(shown) == value
