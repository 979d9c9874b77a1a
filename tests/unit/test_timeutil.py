"""Date-time groups (DDHHMMZMONYY) and ISO 8601 moments, always returned as aware UTC."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.timeutil import (
    MONTHS,
    ZuluTime,
    format_dtg,
    isoformat,
    parse_dtg,
    parse_due,
    parse_moment,
    parse_recent,
    read_zulu,
    zone_offset,
)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("061620ZDEC17", utc(2017, 12, 6, 16, 20)),
        ("061620zdec17", utc(2017, 12, 6, 16, 20)),
        (" 061620Z DEC 17 ", utc(2017, 12, 6, 16, 20)),
        ("061620ADEC17", utc(2017, 12, 6, 15, 20)),
        ("061620KDEC17", utc(2017, 12, 6, 6, 20)),
        ("061620MDEC17", utc(2017, 12, 6, 4, 20)),
        ("061620NDEC17", utc(2017, 12, 6, 17, 20)),
        ("061620YDEC17", utc(2017, 12, 7, 4, 20)),
        ("070000ZDEC17", utc(2017, 12, 7, 0, 0)),
        ("312359ZDEC25", utc(2025, 12, 31, 23, 59)),
        ("290000ZFEB24", utc(2024, 2, 29, 0, 0)),
        ("010030AJAN26", utc(2025, 12, 31, 23, 30)),
        # The year in four digits, as some staff and formats write it: the same time, not refused.
        ("061620ZDEC2017", utc(2017, 12, 6, 16, 20)),
        ("061620Z DEC 2017", utc(2017, 12, 6, 16, 20)),
        ("271405ZNOV1999", utc(1999, 11, 27, 14, 5)),
        ("010030AJAN2100", utc(2099, 12, 31, 23, 30)),
    ],
)
def test_date_time_group_is_parsed_to_utc(text, expected):
    moment = parse_dtg(text)
    assert moment == expected
    assert moment.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("061620JDEC17", r"J \(the writer's local time\) names no zone"),
        ("061620DEC17", r"names its time zone after the time \(Z for UTC: 061620ZDEC17\)"),
        ("0616 20 dec 2017", r"\(Z for UTC: 061620ZDEC2017\)"),
        ("062400ZDEC17", "midnight is 0000"),
        ("062500ZDEC17", "hour must be 00-23"),
        ("061620ZDEX17", "unknown month"),
        ("310220ZFEB26", "impossible date-time group"),
        ("310220ZAPR26", "impossible date-time group"),
        ("061660ZDEC17", "impossible date-time group"),
        ("001620ZDEC17", "impossible date-time group"),
        ("61620ZDEC17", "not a date-time group"),
        ("061620ZDEC217", "not a date-time group"),
        ("061620ZDEC20170", "not a date-time group"),
        ("290000ZFEB2100", "impossible date-time group"),
        ("010000ZJAN0000", "impossible date-time group"),
        ("311200ZDEC1899", "must lie between 1900-01-01 and 2100-12-31"),
        ("010000ZJAN2101", "must lie between 1900-01-01 and 2100-12-31"),
        ("010030AJAN0001", "must lie between 1900-01-01 and 2100-12-31"),
        ("", "not a date-time group"),
    ],
)
def test_malformed_date_time_group_is_rejected(text, complaint):
    with pytest.raises(ValueError, match=complaint):
        parse_dtg(text)


@pytest.mark.parametrize(
    ("letter", "hours"),
    [("Z", 0), ("A", 1), ("I", 9), ("K", 10), ("M", 12), ("N", -1), ("Y", -12)],
)
def test_zone_letters_give_their_offsets(letter, hours):
    assert zone_offset(letter) == timedelta(hours=hours)


def test_zone_letter_j_is_local_time_and_has_no_offset():
    with pytest.raises(ValueError, match="unknown time-zone letter"):
        zone_offset("J")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-27T14:05:00Z", utc(2026, 11, 27, 14, 5)),
        ("2026-11-27T14:05:00z", utc(2026, 11, 27, 14, 5)),
        ("2026-11-27T14:05:00+00:00", utc(2026, 11, 27, 14, 5)),
        ("2026-11-27T14:05:00+02:00", utc(2026, 11, 27, 12, 5)),
        ("2026-11-27T00:30:00-05:00", utc(2026, 11, 27, 5, 30)),
        ("2026-11-27T14:05:00+14:00", utc(2026, 11, 27, 0, 5)),  # Line Islands, the furthest east
        ("2026-11-27T00:05:00-12:00", utc(2026, 11, 27, 12, 5)),  # Baker Island, the furthest west
        ("2026-11-27T14:05:00+05:45", utc(2026, 11, 27, 8, 20)),
        ("271405ZNOV26", utc(2026, 11, 27, 14, 5)),
        ("271405znov26", utc(2026, 11, 27, 14, 5)),
        ("271605BNOV26", utc(2026, 11, 27, 14, 5)),
        ("271405ZNOV2026", utc(2026, 11, 27, 14, 5)),
    ],
)
def test_moment_is_parsed_to_utc(text, expected):
    moment = parse_moment(text)
    assert moment == expected
    assert moment.tzinfo is UTC


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("2026-11-27T14:05:00", "needs a zone"),
        ("2026-11-27", "needs a zone"),
        ("27 Nov 2026 14:05", "expected ISO 8601 with a zone"),
        ("yesterday", "expected ISO 8601 with a zone"),
        ("062400ZDEC17", "midnight is 0000"),
        # The right shape, but no such day or time: said so, not "expected ISO 8601" (it was)
        ("2026-02-29T00:00:00Z", r"^no such date or time: day is out of range for month$"),
        ("2016-12-31T23:59:60Z", r"^no such date or time: second must be in 0\.\.59$"),
        ("2026-13-01T00:00:00Z", r"^no such date or time: month must be in 1\.\.12$"),
        ("2026-11-27T24:00:00Z", r"^no such date or time: hour must be in 0\.\.23$"),
        ("0000-01-01T00:00:00Z", r"^must lie between 1900-01-01 and 2100-12-31 \(UTC\)$"),
        ("2026-11-27T09:15:00+24:00", r"^the zone offset must be under 24 hours"),
        # Under 24 hours but no zone's: a slip that would put the time most of a day off.
        ("2026-11-27T09:15:00+23:59", r"^no zone is that far from UTC: the offset lies between -12:00 and \+14:00$"),
        ("2026-11-27T09:15:00+14:01", r"^no zone is that far from UTC"),
        ("2026-11-27T09:15:00-12:30", r"^no zone is that far from UTC"),
    ],
)
def test_ambiguous_or_malformed_moment_is_rejected(text, complaint):
    with pytest.raises(ValueError, match=complaint):
        parse_moment(text)


@pytest.mark.parametrize("text", ["061620ZDEC17", "010000ZJAN00", "312359ZDEC99", "290000ZFEB24", "150730ZJUL26"])
def test_zulu_date_time_group_survives_a_round_trip(text):
    assert format_dtg(parse_dtg(text)) == text


@pytest.mark.parametrize("moment", [utc(1999, 11, 27, 14, 5), utc(1900, 1, 1, 0, 0), utc(2100, 12, 31, 23, 59)])
def test_a_time_outside_2000_2099_is_written_with_its_year_whole_so_it_reads_back_as_itself(moment):
    """Two digits name 2000-2099: 1999 written 99 was read back as 2099 (the filing form's read-back said
    "1999-11-27T14:05:00Z = 271405ZNOV99", and the amend form showed it so)."""
    written = format_dtg(moment)
    assert written == f"{moment:%d%H%M}Z{MONTHS[moment.month - 1]}{moment.year}", written
    assert parse_dtg(written) == parse_moment(written) == moment


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (utc(2017, 12, 6, 16, 20, 59), "061620ZDEC17"),
        (datetime(2017, 12, 6, 18, 20, tzinfo=timezone(timedelta(hours=2))), "061620ZDEC17"),
        (datetime(2018, 1, 1, 1, 0, tzinfo=timezone(timedelta(hours=3))), "312200ZDEC17"),
        (parse_dtg("061620MDEC17"), "060420ZDEC17"),
    ],
)
def test_date_time_group_is_always_written_in_zulu(moment, expected):
    assert format_dtg(moment) == expected


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (utc(2026, 11, 27, 14, 5), "2026-11-27T14:05:00Z"),
        (datetime(2026, 11, 27, 16, 5, tzinfo=timezone(timedelta(hours=2))), "2026-11-27T14:05:00Z"),
        (utc(2026, 11, 27, 14, 5, 0, 250000), "2026-11-27T14:05:00.250000Z"),
    ],
)
def test_isoformat_is_utc_with_a_z(moment, expected):
    assert isoformat(moment) == expected
    assert parse_moment(isoformat(moment)) == moment


def test_isoformat_of_no_moment_is_none():
    assert isoformat(None) is None


@settings(max_examples=300, deadline=None)
@given(
    moment=st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(2100, 12, 30), timezones=st.timezones()),
)
def test_a_date_time_group_reads_as_strftime_writes_it_in_zulu(moment):
    zulu = moment.astimezone(UTC)
    year = zulu.strftime("%y") if 2000 <= zulu.year <= 2099 else zulu.strftime("%Y")  # two digits name 2000-2099
    assert format_dtg(moment) == zulu.strftime("%d%H%MZ") + zulu.strftime("%b").upper() + year
    assert parse_dtg(format_dtg(moment)) == zulu.replace(second=0, microsecond=0)


@pytest.mark.parametrize(
    ("text", "refused"),
    [
        ("２７1405ZNOV26", "FULLWIDTH DIGIT TWO"),
        ("271405ZNOV٢٦", "ARABIC-INDIC DIGIT TWO"),
        ("27१405ZNOV26", "DEVANAGARI DIGIT ONE"),
        ("271405Zſep26", "LATIN SMALL LETTER LONG S"),  # upper-cased, it was SEP
        ("271405ZNOV26\u212a", "KELVIN SIGN"),
        ("٢٠٢٦-11-27T14:05:00Z", "ARABIC-INDIC DIGIT TWO"),
    ],
)
def test_a_time_with_digits_or_letters_of_another_script_is_refused_naming_the_character(text, refused):
    """int() reads every script's digits and regex \\d matches them; str.upper() turns "ſ" into S: a DTG typed
    so was read as a time nobody could check against the text. Only ASCII is read."""
    with pytest.raises(ValueError) as refusal:
        moment = parse_moment(text)
        pytest.fail(f"{text!r} was read as {moment}")
    assert refused in str(refusal.value), str(refusal.value)


def test_any_space_between_the_parts_of_a_dtg_is_a_space():
    assert parse_moment("271405Z\u00a0NOV\u202f26") == utc(2026, 11, 27, 14, 5)


NIGHT = datetime(2026, 12, 6, 0, 40, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    "typed, read",
    [
        ("0027Z", datetime(2026, 12, 6, 0, 27, tzinfo=UTC)),  # earlier tonight
        ("2350Z", datetime(2026, 12, 5, 23, 50, tzinfo=UTC)),  # before midnight: yesterday
        ("0100Z", datetime(2026, 12, 5, 1, 0, tzinfo=UTC)),  # never a moment to come: the day before
        ("0040Z", datetime(2026, 12, 6, 0, 40, tzinfo=UTC)),  # this very minute
        ("00 27 z", datetime(2026, 12, 6, 0, 27, tzinfo=UTC)),
        ("052350Z", datetime(2026, 12, 5, 23, 50, tzinfo=UTC)),  # a day-time group: this month
        ("070000Z", datetime(2026, 11, 7, 0, 0, tzinfo=UTC)),  # a day still to come this month: last month's
        ("310000Z", datetime(2026, 10, 31, 0, 0, tzinfo=UTC)),  # November has no 31st: October's
        ("052350ZDEC26", datetime(2026, 12, 5, 23, 50, tzinfo=UTC)),  # a whole DTG as parse_moment reads it
        ("2026-12-05T23:50:00Z", datetime(2026, 12, 5, 23, 50, tzinfo=UTC)),
    ],
)
def test_a_zulu_time_alone_or_with_its_day_is_the_latest_such_moment_by_now(typed, read):
    assert parse_recent(typed, NIGHT) == read, typed


@pytest.mark.parametrize(
    "typed, now, read",
    [
        ("0041Z", NIGHT, datetime(2026, 12, 6, 0, 41, tzinfo=UTC)),  # 30 s ahead: not yesterday's
        ("0045Z", NIGHT, datetime(2026, 12, 6, 0, 45, tzinfo=UTC)),
        ("0046Z", NIGHT, datetime(2026, 12, 5, 0, 46, tzinfo=UTC)),  # beyond a clock's skew: yesterday's
        ("060041Z", NIGHT, datetime(2026, 12, 6, 0, 41, tzinfo=UTC)),  # not last month's
        ("0001Z", datetime(2026, 12, 31, 23, 59, 30, tzinfo=UTC), datetime(2027, 1, 1, 0, 1, tzinfo=UTC)),
        ("010001Z", datetime(2026, 12, 31, 23, 59, 30, tzinfo=UTC), datetime(2027, 1, 1, 0, 1, tzinfo=UTC)),
    ],
)
def test_a_zulu_time_a_clock_skew_ahead_is_now_not_a_day_or_a_month_back(typed, now, read):
    """1530Z typed at 15:29:40 (a watch a minute fast) is this afternoon: it was filed as yesterday's, where the
    whole DTG 061530ZDEC26 typed at the same moment is taken as given (MAX_FUTURE_SKEW_SECONDS)."""
    assert parse_recent(typed, now) == read, typed


@pytest.mark.parametrize("typed", ["2400Z", "0060Z", "0027", "000Z", "2350A", "322350Z", "٠٠٢٧Z", "００27Z"])
def test_a_time_alone_that_cannot_be_is_refused_with_a_reason(typed):
    with pytest.raises(ValueError) as refused:
        parse_recent(typed, NIGHT)
    assert str(refused.value), typed


@pytest.mark.parametrize(
    "said, at, first, last",
    [
        ("1800Z", "2026-12-07T17:00Z", "2026-12-07T18:00Z", "2026-12-06T18:00Z"),
        ("1800Z", "2026-12-07T19:00Z", "2026-12-08T18:00Z", "2026-12-07T18:00Z"),
        ("1800Z", "2026-12-07T18:00Z", "2026-12-07T18:00Z", "2026-12-07T18:00Z"),
        ("311800Z", "2026-11-15T00:00Z", "2026-12-31T18:00Z", "2026-10-31T18:00Z"),  # November has no 31st
        ("071800Z", "2026-12-07T19:00Z", "2027-01-07T18:00Z", "2026-12-07T18:00Z"),  # into the next year
        ("0000Z", "2026-12-31T23:30Z", "2027-01-01T00:00Z", "2026-12-31T00:00Z"),
    ],
)
def test_a_zulu_time_without_its_date_is_placed_from_when_it_was_said(said, at, first, last):
    zulu, when = read_zulu(said), parse_moment(at)
    assert (zulu.first_from(when), zulu.last_by(when)) == (parse_moment(first), parse_moment(last)), zulu


@pytest.mark.parametrize(
    "said, problem",
    [("2400Z", "no such time 2400Z"), ("1860Z", "no such time 1860Z"), ("001800Z", "no day 00 in any month")],
)
def test_a_zulu_time_that_does_not_exist_is_refused_saying_why(said, problem):
    with pytest.raises(ValueError, match=problem):
        parse_due(said)


def test_a_due_time_in_a_full_form_is_read_as_any_moment():
    assert parse_due("271800ZNOV26") == parse_moment("2026-11-27T18:00:00Z")
    assert parse_due("271800Z") == ZuluTime(27, 18, 0) and parse_due(" 1800z ") == ZuluTime(None, 18, 0)


@pytest.mark.parametrize("typed", ["0605", "070605", " 0605 "])
def test_a_short_time_without_its_zone_letter_is_told_to_add_it(typed):
    """It was answered as malformed ISO 8601; the field takes 0605Z."""
    with pytest.raises(ValueError, match=rf"{typed.strip()} has no zone letter: {typed.strip()}Z if it is UTC"):
        parse_moment(typed)
