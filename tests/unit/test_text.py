"""What text the tracker keeps (tracker.text): in free text, lines and tabs but no other control
character nor a bidirectional control; in a name, one line with neither."""

import pytest
from markupsafe import Markup

from tracker.text import (
    as_references,
    bidi_problem,
    breaks_read,
    name_problem,
    problem,
    same_wording,
    secret_problem,
    shown,
    visible,
    visible_in,
)


@pytest.mark.parametrize(
    "text", ["Line one.\nLine two.", "a\r\nb", "col\tcol", "Сблизился до 30 м", "x\u2028y", "NBSP\u00a0ok"], ids=repr
)
def test_free_text_keeps_lines_tabs_and_every_script(text):
    assert problem(text) is None


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("a\x00b", "must not contain NUL characters"),
        ("a\ud800", "lone surrogate"),
        ("red\x1b[31m", "U+001B"),
        ("page\x0cbreak", "U+000C"),
        ("vertical\x0btab", "U+000B"),
        ("del\x7f", "U+007F"),
        ("next line\x85", "U+0085"),
        ("csi\x9b", "U+009B"),
    ],
    ids=repr,
)
def test_free_text_refuses_nul_surrogates_and_control_characters(text, said):
    found = problem(text)
    assert found is not None and said in found, found


@pytest.mark.parametrize(
    "text", ["Closed to 30 m.\nPassed \u202em 003\u202c astern.", "a \u2066b\u2069", "\u202bx\u202c"], ids=repr
)
def test_free_text_of_many_lines_refuses_bidirectional_controls_as_a_name_does(text):
    """On a page or in a mail an override reorders the rest of its line: the narrative above reads "passed
    300 m astern" where it keeps "m 003"; a reader would quote what it does not say (Trojan Source)."""
    assert problem(text) == name_problem(text.replace("\n", " ")), text
    assert "bidirectional" in (problem(text) or "")


def test_free_text_keeps_right_to_left_marks():
    assert problem("Received: \u200fتم الاستلام\u200f at 0930Z.\nSecond line \u200e.") is None


def test_a_password_is_never_shown_and_keeps_bidirectional_controls_but_not_what_cannot_be_stored():
    assert secret_problem("pass\u202eword") is None
    assert "NUL" in (secret_problem("pass\x00word") or "")


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("Ops\ndesk", "line breaks, tabs"),
        ("Ops\tdesk", "line breaks, tabs"),
        ("Ops\x1b", "line breaks, tabs"),
        ("Ops\u2028desk", "line breaks, tabs"),
        ("Ops \u202ekcehc", "bidirectional"),
        ("Ops\x00", "NUL"),
    ],
    ids=repr,
)
def test_a_name_is_one_line_without_controls(name, said):
    found = name_problem(name)
    assert found is not None and said in found, found


def test_line_breaks_other_programs_write_are_read_as_line_feeds():
    assert breaks_read("Word\x0bShift+Enter\x0cpage\x85NEL\r\nCR LF") == "Word\nShift+Enter\npage\nNEL\nCR LF"
    assert breaks_read("a CR\ralone\u2028line\u2029paragraph") == "a CR\nalone\nline\nparagraph"
    assert breaks_read("\r\n\r\r\n") == "\n\n\n", "a CR LF is one break, a CR alone another"


@pytest.mark.parametrize("text", ["a \u202eb", "a \u2066b\u2069", "\u202ax\u202c"], ids=repr)
def test_a_text_to_the_other_side_refuses_embeddings_overrides_and_isolates(text):
    assert "bidirectional" in (bidi_problem(text) or "")


@pytest.mark.parametrize("text", ["Received \u200fتم\u200f", "Plain English.", "Line one.\nLine two."], ids=repr)
def test_a_text_to_the_other_side_keeps_marks_and_lines(text):
    assert bidi_problem(text) is None


def test_a_stored_bidirectional_control_is_shown_as_a_marker_that_reorders_nothing():
    """A narrative kept before the rule reads "Passed 300 m astern" with its override at work; shown with markers it
    reads in the order it is kept, and every control of the range is named."""
    assert visible("Passed \u202em 003\u202c astern.") == "Passed [U+202E]m 003[U+202C] astern."
    controls = "".join(map(chr, (*range(0x202A, 0x202F), *range(0x2066, 0x206A))))
    assert visible(controls) == "".join(f"[U+{ord(c):04X}]" for c in controls)
    assert visible("Received \u200fتم\u200f.") == "Received \u200fتم\u200f.", "marks and scripts stay"


def test_a_template_prints_stored_controls_as_markers_and_keeps_markup_markup():
    assert shown("a\u2067b\u2069") == "a[U+2067]b[U+2069]"
    printed = shown(Markup("<p>a\u202eb\ud800</p>"))
    assert isinstance(printed, Markup) and printed == Markup("<p>a[U+202E]b\ufffd</p>")
    assert shown("plain") == "plain" and shown(3) == 3


def test_a_form_field_carries_a_stored_control_as_a_character_reference_that_printing_leaves_be():
    field = as_references('<textarea name="n">Passed \u202em 003\u202c</textarea>')
    assert field == '<textarea name="n">Passed &#x202E;m 003&#x202C;</textarea>'
    assert shown(Markup(field)) == field


def test_a_refused_control_is_named_with_where_it_stands():
    said = problem("Closed to 30 m.\nPassed \u202em 003\u202c astern.") or ""
    assert "U+202E RIGHT-TO-LEFT OVERRIDE at character 24, after “…0 m. Passed ”" in said, said
    assert "U+202C POP DIRECTIONAL FORMATTING at character 30, after “…assed [U+202E]m 003”" in said, said
    assert "U+2066 LEFT-TO-RIGHT ISOLATE at character 1, at the start" in (name_problem("\u2066x") or "")


def test_an_exports_data_shows_every_stored_control_as_a_marker_keys_and_numbers_kept():
    record = {"narrative": "a\u202eb", "platforms": [{"callsign\u2066": "R\u2069"}], "cpa": 30.5, "open": True}
    shown_record = {"narrative": "a[U+202E]b", "platforms": [{"callsign[U+2066]": "R[U+2069]"}], "cpa": 30.5}
    assert visible_in(record) == {**shown_record, "open": True}


def test_a_signed_token_is_masked_by_its_shape_wherever_it_stands():
    """A receiver answering "unknown token eyJ..." quoted our acknowledge token bare: kept as the message's failure, it
    was shown to every reader of the incident and in the dead letter, and still acknowledged the incident."""
    from tracker.services.engine.links import LinkSigner
    from tracker.text import masked

    signer = LinkSigner("a-key-of-the-test", 3600)
    for purpose in ("ack", "check", "receipt", "feed"):
        token = signer.issue(purpose, incident=1, channel=2)
        for said in (
            f"HTTP 404 unknown token {token}",
            f"GET /api/v1/exercises.ics/{token} 404",
            f"({token})",
            f"payload=%7B%22acknowledge%22%3A%7B%22token%22%3A%22{token}%22%7D%7D",  # a form-encoded body quoted
            f'{{"token": "\\u0022{token}\\u0022"}}',  # JSON-escaped quotes before it
            f"x_{token}",
        ):
            assert token not in masked(said) and "…" in masked(said), masked(said)
    assert masked("SERIAL 0012/2026 NM-2026-0007 eyJ") == "SERIAL 0012/2026 NM-2026-0007 eyJ"


def test_a_text_stored_with_other_line_breaks_is_the_same_wording_read_again():
    """Stored before breaks_read read them, a CR alone or a line separator sent back unchanged (as line feeds now) is
    no new wording: an amendment counted the narrative as changed, and every approved text went stale."""
    for stored in ("a\rb", "a\u2028b", "a\r\nb", "a\x0bb"):
        assert same_wording(stored, breaks_read(stored)), repr(stored)
    assert not same_wording("a\rb", "a b")
