"""What text the tracker keeps (tracker.text): in free text, lines and tabs but no other control
character; in a name, one line with no control or bidirectional character."""

import pytest

from tracker.text import bidi_problem, breaks_read, name_problem, problem


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
    assert breaks_read("Word\x0bShift+Enter\x0cpage\x85NEL\r\nkept") == "Word\nShift+Enter\npage\nNEL\r\nkept"


@pytest.mark.parametrize("text", ["a \u202eb", "a \u2066b\u2069", "\u202ax\u202c"], ids=repr)
def test_a_text_to_the_other_side_refuses_embeddings_overrides_and_isolates(text):
    assert "bidirectional" in (bidi_problem(text) or "")


@pytest.mark.parametrize("text", ["Received \u200fتم\u200f", "Plain English.", "Line one.\nLine two."], ids=repr)
def test_a_text_to_the_other_side_keeps_marks_and_lines(text):
    assert bidi_problem(text) is None
