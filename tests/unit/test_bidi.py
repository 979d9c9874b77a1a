"""Typed text isolated on the pages (<bdi>), and each language's text marked with its direction (web/bidi.py)."""

import pytest
from jinja2 import Environment
from markupsafe import Markup

from tracker.text import shown
from tracker.web.bidi import isolated, language_attributes

RLO, PDF = "\u202e", "\u202c"


@pytest.mark.parametrize(
    ("value", "drawn"),
    [
        ("Sector North", "<bdi>Sector North</bdi>"),
        ("قطاع الشمال", "<bdi>قطاع الشمال</bdi>"),
        ("<script>&", "<bdi>&lt;script&gt;&amp;</bdi>"),  # escaped as any printed value
        (Markup("<em>kept</em>"), "<bdi><em>kept</em></bdi>"),  # markup already safe is not escaped twice
        (0, "<bdi>0</bdi>"),
        (None, ""),
        ("", ""),
    ],
)
def test_a_typed_text_is_drawn_as_an_isolate(value, drawn):
    assert isolated(value) == Markup(drawn)


def test_an_isolated_list_and_a_dash_for_nothing_read_as_the_templates_write_them():
    env = Environment(autoescape=True, finalize=shown)
    env.filters["bdi"] = isolated
    listed = env.from_string("{{ names|map('bdi')|join(', ') or 'no usable channel' }} · {{ sector|bdi or '–' }}")
    assert listed.render(names=["L1", "קו חם", "L3"], sector=None) == (
        "<bdi>L1</bdi>, <bdi>קו חם</bdi>, <bdi>L3</bdi> · –"
    )
    assert listed.render(names=[], sector="<North>") == "no usable channel · <bdi>&lt;North&gt;</bdi>"


def test_a_stored_bidirectional_control_is_still_shown_as_its_marker_inside_the_isolate():
    env = Environment(autoescape=True, finalize=shown)
    env.filters["bdi"] = isolated
    drawn = env.from_string("{{ callsign|bdi }}").render(callsign=f"RED {RLO}17{PDF}")
    assert drawn == "<bdi>RED [U+202E]17[U+202C]</bdi>", drawn


@pytest.mark.parametrize(
    ("language", "attributes"),
    [
        ("ar", {"lang": "ar", "dir": "rtl"}),
        ("he", {"lang": "he", "dir": "rtl"}),
        ("fa", {"lang": "fa", "dir": "rtl"}),
        ("ru", {"lang": "ru", "dir": "ltr"}),
        ("xx", {"lang": "xx", "dir": "ltr"}),
        (None, {}),
    ],
)
def test_an_element_in_a_language_says_its_direction_with_its_lang(language, attributes):
    assert language_attributes(language) == attributes
