"""Positions typed as decimal degrees, DMS, DDM or MGRS, read back in each; what is ambiguous or wrong is
refused with how it was read (tests/unit/test_geo_properties.py: the same over the whole globe)."""

import re

import pytest

from tracker.geo import MGRS_MIN_DIGITS, parse_position, to_mgrs

POINT = (54.41194, 22.87111)


@pytest.mark.parametrize(
    "text",
    [
        "54 24 43N 022 52 16E",
        "542443N0225216E",
        "54°24'43\"N 22°52'16\"E",
        "54:24:43N, 022:52:16E",
        "22 52 16E 54 24 43N",
        "54 24 43n 022 52 16e",
        "N54 24 43 E022 52 16",
        "n 54 24 43, e 022 52 16",
        "54 24 43 022 52 16",
        "54 24 43, 22 52 16",
        "54°24′43″N 22°52′16″E",
        "54º24’43”N 22º52’16”E",
        "54°24'43''N 22°52'16''E",
        "54d24m43sN 22d52m16sE",
        "54d 24m 43s 22d 52m 16s",
        "54 deg 24 min 43 sec N 22 deg 52 min 16 sec E",
        "54-24-43N 022-52-16E",
        "54*24'43\"N, 22*52'16\"E",
        "N542443 E0225216",
        "0225216E542443N",
    ],
)
def test_degrees_minutes_seconds(text):
    position = parse_position(text)
    assert (round(position.latitude, 5), round(position.longitude, 5)) == POINT
    assert position.dms == "54°24'43\"N 022°52'16\"E"
    assert position.text == text.strip()


@pytest.mark.parametrize(
    ("text", "latitude", "longitude"),
    [
        ("54.412, 22.871", 54.412, 22.871),
        ("-33.9 151.2", -33.9, 151.2),
        ("0,0", 0, 0),
        ("54.412;22.871", 54.412, 22.871),
        ("54.412N 22.871E", 54.412, 22.871),
        ("54.412 N, 22.871 E", 54.412, 22.871),
        ("N54.412 E22.871", 54.412, 22.871),
        ("S 33.9 W 151.2", -33.9, -151.2),
        ("33.9°S 151.2°W", -33.9, -151.2),
        ("151.2W 33.9S", -33.9, -151.2),
        ("-33.9S 151.2E", -33.9, 151.2),  # the sign and the letter agree
        ("+54.412 +22.871", 54.412, 22.871),
        ("54°-22°", 54, -22),  # a hyphen after a sign is a minus, not a joiner
        ("54.5,-22.5", 54.5, -22.5),
        ("54.412/22.871", 54.412, 22.871),
        ("54.412N22.871E", 54.412, 22.871),
    ],
)
def test_decimal_degrees(text, latitude, longitude):
    position = parse_position(text)
    assert (position.latitude, position.longitude) == (latitude, longitude)


@pytest.mark.parametrize(
    ("text", "latitude", "longitude"),
    [
        ("54 42.0N 026 30.0E", 54.7, 26.5),  # was stored as 54°04'02"N 026°03'00"E
        ("44.1 N 33.0 E", 44.1, 33.0),  # was stored as 4.00114, 3.00083
        ("N54 42.000 E026 30.000", 54.7, 26.5),  # was refused
        ("54°42.000'N 26°30.000'E", 54.7, 26.5),
    ],
)
def test_the_strings_of_issue_14_parse_to_the_right_place(text, latitude, longitude):
    position = parse_position(text)
    assert position.latitude == pytest.approx(latitude, abs=1e-9), position
    assert position.longitude == pytest.approx(longitude, abs=1e-9), position


@pytest.mark.parametrize(
    "text",
    [
        "54 42.0N 026 30.0E",
        "N54 42.000 E026 30.000",
        "54°42.000'N 26°30.000'E",
        "54°42′N 026°30′E",
        "54º 42.0’ N, 026º 30.0’ E",
        "54d42.0mN 26d30.0mE",
        "54 deg 42 min N 26 deg 30 min E",
        "54:42.0N 026:30.0E",
        "54-42N 026-30E",
        "n54 42 e26 30",
        "26 30.0E 54 42.0N",
        "54 42.0 26 30.0",  # no letters: only the DDM reading is well formed
        "54 42, 26 30",
        "-54 42.0, -26 30.0",
        "5442.0N02630.0E",
        "5442N02630E",
        "N5442.000 E02630.000",
    ],
)
def test_degrees_and_decimal_minutes(text):
    position = parse_position(text)
    latitude, longitude = (54.7, 26.5) if not text.startswith("-") else (-54.7, -26.5)
    assert (position.latitude, position.longitude) == (pytest.approx(latitude), pytest.approx(longitude)), position
    assert position.ddm == ("54°42.000'N 026°30.000'E" if latitude > 0 else "54°42.000'S 026°30.000'W")
    assert position.text == text


def test_ddm_reads_back_to_the_thousandth_of_a_minute():
    assert parse_position("33 54 00S 151 12 00W").ddm == "33°54.000'S 151°12.000'W"
    assert parse_position("54.412, 22.871").ddm == "54°24.720'N 022°52.260'E"
    assert parse_position("0.0000001, -0.0000001").ddm == "00°00.000'N 000°00.000'W"


@pytest.mark.parametrize(
    ("text", "read_back"),
    [
        ("34UFF2142330971", "34U FF 21423 30971"),
        ("34U FF 2142 3097", "34U FF 2142 3097"),
        ("34uff21423097", "34U FF 2142 3097"),
    ],
)
def test_mgrs_reads_back_at_ten_metre_precision_or_the_metre_given(text, read_back):
    position = parse_position(text)
    assert abs(position.latitude - 54.412) < 0.001 and abs(position.longitude - 22.871) < 0.001
    assert position.mgrs == read_back


def test_southern_and_western_hemispheres():
    position = parse_position("33 54 00S 151 12 00W")
    assert (position.latitude, position.longitude) == (-33.9, -151.2)
    assert position.dms == "33°54'00\"S 151°12'00\"W"


def test_mgrs_of_a_known_point():
    assert to_mgrs(54.412, 22.871) == "34U FF 2142 3097"


@pytest.mark.parametrize(("latitude", "longitude"), [(89.5, 10.0), (-85.0, 10.0), (90.0, 0.0)])
def test_mgrs_beyond_utm_uses_the_polar_bands(latitude, longitude):
    reference = to_mgrs(latitude, longitude)
    assert reference[0] in "ABYZ", reference
    position = parse_position(reference)
    assert abs(position.latitude - latitude) < 0.001, (reference, position)


def test_mgrs_just_south_of_the_equator_reads_back():
    """`mgrs` writes band M with a northing it cannot read for latitudes within millimetres of 0."""
    reference = to_mgrs(-1e-8, 3.0)
    assert abs(parse_position(reference).latitude) < 0.001, reference


@pytest.mark.parametrize(
    ("text", "lies_in"),
    [
        ("1N AA 5000 5000", "60N (0.45173, 179.85618)"),  # zone 1's letters west of its edge: across the antimeridian
        ("31N AA 00000 00000", "30N (0.00000, -0.59232)"),  # a metre square just west of zone 31
        ("34T FF 2142 3096", "34U (54.41191, 22.87104)"),  # band U's square (40-48°N is T)
        ("34C FF 2142 3096", "35D (-71.79017, 24.48308)"),
        ("1C AA 000 000", "59D (-71.75540, 171.49190)"),
    ],
)
# `mgrs` also warns of some of these ("Latitude Warning"), which our warnings-as-errors would turn into a
# refusal of its own; a server only prints the warning, and this refusal is what its staff read.
@pytest.mark.filterwarnings('ignore:Warning in "Convert_MGRS_To_Geodetic"')
def test_mgrs_square_outside_the_grid_zone_it_names_is_refused(text, lies_in):
    """`mgrs` reads any square letters in any zone and places them wherever its arithmetic goes."""
    with pytest.raises(
        ValueError, match=re.escape(f"{text} is not in grid zone {text.split()[0]}: read there, it lies in {lies_in}")
    ):
        parse_position(text)


@pytest.mark.parametrize(
    ("latitude", "longitude", "digits"),
    [
        (55.99990114182589, -83.9999962643433, 1),  # 10 km square over the corner of 17U, 17V, 16U and 16V
        (55.99990114182589, -83.9999962643433, 3),
        (-80.00000940024255, 29.999949911845135, 2),  # over band C's southern edge, beside polar band B
        (83.99998950287161, 72.00002621260472, 2),  # over band X's northern edge, beside polar band Z
        (-55.99998299157627, -173.99995710380807, 1),
        (0.0, -180.0, 1),
    ],
)
def test_mgrs_square_reaching_into_its_grid_zone_from_over_a_corner_is_read(latitude, longitude, digits):
    """A square written for a point just inside a zone's corner has no corner of its own inside that zone."""
    reference = to_mgrs(latitude, longitude, digits)
    if digits * 2 < MGRS_MIN_DIGITS:  # a 1 or 10 km square is refused for its size, not for its zone
        with pytest.raises(ValueError, match="names a square of"):
            parse_position(reference)
    else:
        parse_position(reference)  # not refused


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("91, 20", "latitude"),
        ("10, 181", "longitude"),
        ("hello", "MGRS"),
        ("34UFF214233097", "as many easting"),
        ("34U FF 90455 650", "as many easting"),  # not re-split into 9045 5650
        ("34U FF 904 55650", "as many easting"),
        ("34U FF 9 5", "names a square of 10,000 m"),  # its centre could be 7 km from the point
        ("34U FF 90 56", "names a square of 1,000 m"),
        ("54 24 43N 55 10 00S", "one latitude"),
        ("", "decimal degrees"),
        ("54.5 N 22.5 E and more", "could not read “and”"),
    ],
)
def test_unreadable_positions_say_what_is_understood(text, says):
    with pytest.raises(ValueError, match=says):
        parse_position(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # minutes or seconds out of range
        ("54 62.0N 026 30.0E", "read as 54°62.0'N 26°30.0'E? minutes must be below 60"),
        ("54 60N 026 30E", "read as 54°60'N 26°30'E? minutes must be below 60"),
        ("54 24 60N 022 52 16E", "read as 54°24'60\"N 22°52'16\"E? seconds must be below 60"),
        ("54 24 59.99N 022 52 75E", "read as 54°24'59.99\"N 22°52'75\"E? seconds must be below 60"),
        ("5462.0N02630.0E", "read as 54°62.0'N 26°30.0'E? minutes must be below 60"),
        # a decimal before the last number of a coordinate
        ("54.5 30N 22E", "read as 54.5°30'N 22°E? only the last number of a coordinate may have decimals"),
        ("54 30.5 10N 22E", "read as 54°30.5'10\"N 22°E? only the last number of a coordinate may have decimals"),
        # two latitudes, two longitudes
        ("54N 55N", "read as 54°N 55°N? two latitudes; give one latitude (N/S) and one longitude (E/W)"),
        ("22E 23W", "read as 22°E 23°W? two longitudes"),
        # a sign contradicting the letter, or misplaced
        ("-54.5N 22E", "read as -54.5°N 22°E? the sign - and the letter N say opposite hemispheres"),
        ("54.5N +22W", "read as 54.5°N +22°W? the sign + and the letter W say opposite hemispheres"),
        ("54 -30N 22E", "read as 54°30'N 22°E? a sign belongs before the degrees, not before 30"),
        # out of range
        ("91N 22E", "read as 91°N 22°E? latitude must be between -90 and 90"),
        ("90 30N 22E", "read as 90°30'N 22°E? latitude must be between -90 and 90"),
        ("54N 180 0 1E", "read as 54°N 180°0'1\"E? longitude must be between -180 and 180"),
        # signs out of order, too many numbers
        ("54'24 N 22 E", "the latitude's first number is marked as minutes: give degrees"),
        ('54°24"N 22E', "the latitude's second number is marked as seconds: give degrees, minutes"),
        ("54 30 12 10 N 22E", "4 numbers for the latitude: at most degrees, minutes and seconds"),
        # packed forms of the wrong width
        ("54423N02630E", "read 54423N as a packed latitude? it takes 4 digits (DDMM) or 6 (DDMMSS)"),
        ("5442N2630E", "read 2630E as a packed longitude? it takes 5 digits (DDDMM) or 7 (DDDMMSS)"),
        # hemisphere letters: one only, or three
        ("54.5N 22.5", "hemisphere letters N: give two"),
        ("54N 22E 5W", "hemisphere letters N, E, W: give two"),
        # the rest unparseable
        ("54N 22E xyz", "could not read “xyz”"),
        ("54.5° 22.5° 1", "read as 54.5° 22.5°1'? only the last number of a coordinate may have decimals"),
        ("54.4,22.8,1", "3 groups of numbers between commas"),
        ("54.5-22.5", "read as 54.5°22.5'? cannot tell where the latitude ends"),  # joined: one coordinate
        ("54.5 22.5 10.5", "read as 54.5°22.5'10.5\"? cannot tell where the latitude ends"),
        ("54", "read as 54°? a position needs a latitude and a longitude"),
    ],
)
def test_a_wrong_position_is_refused_showing_how_it_was_read(text, message):
    with pytest.raises(ValueError) as refusal:
        parse_position(text)
    assert message in str(refusal.value), str(refusal.value)


@pytest.mark.parametrize(
    ("text", "readings"),
    [
        # DMS and DDM: which coordinate has the seconds?
        ("54 42 30 22 30", ["54°42' 30°22'30\" (DDM, DMS)", "54°42'30\" 22°30' (DMS, DDM)"]),
        # whole minutes, no letters, no comma: DDM twice, or DMS and whole degrees
        ("54 42 26 30", ["54° 42°26'30\"", "54°42' 26°30' (DDM, DDM)", "54°42'26\" 30° (DMS, decimal degrees)"]),
        ("54 24 43", ["54° 24°43'", "54°24' 43°"]),
    ],
)
def test_an_ambiguous_position_is_refused_with_every_reading(text, readings):
    with pytest.raises(ValueError, match="^ambiguous: read as ") as refusal:
        parse_position(text)
    for reading in readings:
        assert reading in str(refusal.value), str(refusal.value)
    assert "mark the hemispheres (N/S, E/W) or put a comma after the latitude" in str(refusal.value)


def test_latitude_and_longitude_in_different_notations_need_a_letter_or_a_comma():
    with pytest.raises(ValueError, match=r"different notations: read as 54\.5° 30°22'10\" \(decimal degrees, DMS\)\?"):
        parse_position("54.5 30 22 10")
    assert parse_position("54.5, 30 22 10").longitude == pytest.approx(30 + 22 / 60 + 10 / 3600)
    assert parse_position("54 42 30N 22 30E").longitude == pytest.approx(22.5)


@pytest.mark.parametrize(
    ("text", "refused"),
    [
        ("٥٤.٤١٢, ٢٢.٨٧١", "ARABIC-INDIC DIGIT FIVE"),
        ("５４.４１２, ２２.８７１", "FULLWIDTH DIGIT FIVE"),
        ("54.412, 22.८७१", "DEVANAGARI DIGIT EIGHT"),
        ("34U FF ２１４２ ３０９７", "FULLWIDTH DIGIT TWO"),
        ("54 24 43N 022 52 1۶E", "EXTENDED ARABIC-INDIC DIGIT SIX"),
    ],
)
def test_digits_other_than_ascii_are_refused_naming_the_character(text, refused):
    """int() and float() read every script's digits, regex \\d matches them: a position typed so was stored
    as a number nobody on another desk could check against the text. Only 0-9 are read."""
    with pytest.raises(ValueError) as refusal:
        parse_position(text)
    said = str(refusal.value)
    assert refused in said and "0-9" in said, f"{text!r} was refused, but not naming {refused}: {said}"


@pytest.mark.parametrize(
    "text",
    [
        "54.412ſ 22.871E",  # LATIN SMALL LETTER LONG S: an "s" to Unicode case folding, so it read as South
        "54 24 43N 022 52 16E\u212a",  # KELVIN SIGN
        "54.412 N 22.871 ℮",
        "54.412\u00b9 22.871",  # a superscript one: no digit to float(), no minutes sign either
    ],
)
def test_letters_and_signs_that_only_look_like_ascii_are_refused(text):
    with pytest.raises(ValueError):
        position = parse_position(text)
        pytest.fail(f"{text!r} was read as {position.latitude}, {position.longitude}")


@pytest.mark.parametrize("space", ["\u00a0", "\u202f", "\u2009", "\u3000", "\t"])
def test_any_space_a_phone_or_a_document_puts_between_the_parts_is_a_space(space):
    for text in (f"54 24 43N{space}022 52 16E", f"34U{space}FF{space}2142{space}3097"):
        position = parse_position(text)
        assert (round(position.latitude, 3), round(position.longitude, 3)) == (54.412, 22.871), text
        assert position.text == text, "the text is kept as typed"


@pytest.mark.parametrize(
    "text",
    [
        "34UFF" + "1" * 20_000 + "!",  # the MGRS pattern backtracked over the digits: seconds of work
        " ".join(["1"] * 3_000),
        "54.1 N 22.3 E " + "x" * 5_000,
    ],
)
def test_a_text_longer_than_any_position_is_refused_before_it_is_read(text):
    with pytest.raises(ValueError, match=r"characters: a position takes at most 120") as refusal:
        parse_position(text)
    assert len(str(refusal.value)) < 400, "the refusal does not echo the text"


@pytest.mark.parametrize("text", ["34U FF 214231 309712", "34UFF214231309712", "34U FF 2142312345 3097123456"])
def test_mgrs_with_more_than_five_digits_each_way_is_refused_saying_so(text):
    with pytest.raises(ValueError, match=r"MGRS takes at most 5 \(1 m\)"):
        parse_position(text)


def test_minus_zero_is_zero():
    position = parse_position("-0 -0")
    assert str(position.latitude) == "0.0" and str(position.longitude) == "0.0", position
    assert position.decimal == "0.00000, 0.00000"


@pytest.mark.parametrize(
    ("text", "separator", "decimal"),
    [
        ("54,5 22", "54.00000, 5.36667", "54.50000, 22.00000"),  # was read as 54°N 5°22'E: 1,100 km west
        ("54 22,5", "54.36667, 5.00000", "54.00000, 22.50000"),
        ("54 24,5 22 52", "54.40000, 5.38111", "54.40833, 22.86667"),
        ("59 ,5 27", "59.00000, 5.45000", "59.50000, 27.00000"),  # a stray space: was read as 59°N 5°27'E
    ],
)
def test_a_comma_that_may_be_a_decimal_comma_is_refused_with_both_readings(text, separator, decimal):
    """A desk that writes 54,5 for 54.5 typed "54,5 22": the comma was read as the separator, and the position
    stored 1,100 km from the incident. Both readings are shown; nothing is stored on a guess."""
    with pytest.raises(ValueError, match="^ambiguous: ") as refusal:
        position = parse_position(text)
        pytest.fail(f"{text!r} was read as {position.decimal}")
    said = str(refusal.value)
    assert separator in said and decimal in said and "write decimals with a point" in said, said


@pytest.mark.parametrize(
    ("text", "reads"), [("54,412 22", "54.41200, 22.00000"), ("-33,9 151,2", "-33.90000, 151.20000")]
)
def test_a_position_readable_only_with_a_decimal_comma_is_refused_saying_how_it_would_read(text, reads):
    with pytest.raises(ValueError, match=f"with a decimal comma it reads {reads}: write decimals with a point"):
        parse_position(text)


@pytest.mark.parametrize(
    ("text", "latitude", "longitude"),
    [
        ("54.412,22.871", 54.412, 22.871),
        ("54,22", 54, 22),
        ("54.5,22", 54.5, 22),
        ("542443N,0225216E", 54.41194, 22.87111),
    ],
)
def test_a_comma_between_latitude_and_longitude_with_no_decimal_reading_is_a_separator(text, latitude, longitude):
    position = parse_position(text)
    assert (round(position.latitude, 5), round(position.longitude, 5)) == (latitude, longitude), text


@pytest.mark.parametrize("text", ["0U FF 2142 3097", "00U FF 2142 3097", "61U FF 2142 3097", "99X FF 2142 3097"])
def test_an_mgrs_zone_outside_1_to_60_is_refused_saying_so(text):
    """The converter answered "String Error", which tells a desk officer nothing."""
    with pytest.raises(ValueError, match="MGRS grid zones are numbered 1 to 60"):
        parse_position(text)


@pytest.mark.parametrize(
    ("text", "refusal"),
    [
        ("32X MH 12345 67890", "there is no grid zone 32X (Svalbard's zones 31X, 33X, 35X and 37X cover it)"),
        ("34XEF12345678", "there is no grid zone 34X"),
        ("35V WF 1234 5678", "grid zone 35V has no 100-km square WF"),  # zone 35's columns are J to R
        ("35vmy 1234 5678", "grid zone 35V has no 100-km square MY"),  # rows run A to V
        ("04Q ZZ 1234 5678", "grid zone 4Q has no 100-km square ZZ"),
        ("A AN 1234 5678", "grid zone A has no 100-km square AN"),
    ],
)
def test_mgrs_naming_a_zone_or_square_that_does_not_exist_is_refused_saying_which(text, refusal):
    """The converter answered "String Error", which tells a desk officer nothing."""
    with pytest.raises(ValueError) as refused:
        parse_position(text)
    assert str(refused.value).startswith(f"{text}: {refusal}"), str(refused.value)
    assert "String Error" not in str(refused.value)


@pytest.mark.parametrize("text", ["59/26/30N 27/45/12E", "59;26;30N 27;45;12E", "59 26,5N 027 45,2E"])
def test_a_separator_inside_a_coordinate_is_refused_naming_what_was_typed(text):
    """A slash between degrees, minutes and seconds was refused as "a comma inside one coordinate": there was none."""
    with pytest.raises(ValueError, match=re.escape("? a separator (, ; or /) inside one coordinate")):
        parse_position(text)


@pytest.mark.parametrize("typed", ["34U FF 12345 67890", "34UFF1234567890", "34u ff 12345  67890"])
def test_a_1_m_mgrs_reference_is_read_back_to_the_metre_it_was_given(typed):
    """Read back with 8 digits, a 10-digit reference lost the metres its writer gave: it seemed misread."""
    assert parse_position(typed).mgrs == "34U FF 12345 67890"


@pytest.mark.parametrize("typed", ["34U FF 1234 6789", "34U FF 123 678", "54.1, 23.3"])
def test_any_other_position_is_read_back_to_10_m(typed):
    assert len(parse_position(typed).mgrs.split()[-1]) == 4


@pytest.mark.parametrize(
    ("typed", "named"),
    [
        ("54.412,\u200b 22.871", "U+200B ZERO WIDTH SPACE at character 8"),
        ("54.412,\u200e 22.871", "U+200E LEFT-TO-RIGHT MARK at character 8"),
        ("\ufeff54.412, 22.871", "U+FEFF ZERO WIDTH NO-BREAK SPACE at character 1"),
        # Default-ignorable without being format characters: a variation selector, a combining grapheme joiner.
        ("54.1 23.3\ufe0f", "U+FE0F VARIATION SELECTOR-16 at character 10"),
        ("54.1\u034f 23.3", "U+034F COMBINING GRAPHEME JOINER at character 5"),
    ],
)
def test_a_character_nobody_sees_is_named_where_it_stands(typed, named):
    """A zero-width space was refused as “could not read “””, and a left-to-right mark was quoted in a reading that
    looked right: the officer could not see what to mend."""
    with pytest.raises(ValueError) as refused:
        parse_position(typed)
    assert named in str(refused.value) and "nobody sees" in str(refused.value), refused.value
