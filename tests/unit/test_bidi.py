"""Typed text isolated on the pages (<bdi>), and each language's text marked with its direction (web/bidi.py)."""

import pytest
from jinja2 import Environment
from markupsafe import Markup

from tracker.errors import Conflict
from tracker.sentences import Sentence
from tracker.services.incidents import marking
from tracker.text import shown
from tracker.web.bidi import (
    formatted,
    isolated,
    isolated_list,
    isolated_sentence,
    isolated_text,
    language_attributes,
    said,
    told,
)

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


def test_a_line_of_ours_isolates_each_name_typed_in_it_and_escapes_the_rest():
    line = said("Channel “{name}” <saved> & {also}.", name="קו <b>", also=isolated_list(["A", "ב"]))
    assert line == Markup("Channel “<bdi>קו &lt;b&gt;</bdi>” &lt;saved&gt; &amp; <bdi>A</bdi>, <bdi>ב</bdi>.")
    assert isolated_list([], "nobody <yet>") == Markup("nobody &lt;yet&gt;")


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


def test_a_sentence_is_plain_for_mail_and_the_api_and_isolated_part_by_part_for_a_page():
    said = Sentence("a call on {line}, logged by {by} <not ended>", {"line": "קו חם", "by": "<b>&"})
    assert str(said) == "a call on קו חם, logged by <b>& <not ended>"
    drawn = Markup("a call on <bdi>קו חם</bdi>, logged by <bdi>&lt;b&gt;&amp;</bdi> &lt;not ended&gt;")
    assert isolated_sentence(said) == drawn, "our words and the values escaped, each value isolated"
    assert isolated_sentence(said.as_json()) == drawn, "as a snapshot keeps it"
    assert isolated_sentence(Sentence("{text}", {"text": "x"})) == Markup("<bdi>x</bdi>"), "any placeholder name"
    assert isolated_sentence(None) == Markup(""), "a snapshot taken before: the page writes its plain sentence"


def test_a_translated_sentence_is_escaped_and_only_what_is_markup_stays_so():
    drawn = formatted("Used by {by} at {at} & more", by=isolated("רס״ן"), at="<12:00>")
    assert drawn == Markup("Used by <bdi>רס״ן</bdi> at &lt;12:00&gt; &amp; more")


@pytest.mark.parametrize(
    ("line", "drawn"),
    [
        ("RESTRICTED // REL TO EASTLAND", "<bdi>RESTRICTED</bdi> // REL TO <bdi>EASTLAND</bdi>"),
        ("SECRET // REL TO A, מזרח, 3", "<bdi>SECRET</bdi> // REL TO <bdi>A</bdi>, <bdi>מזרח</bdi>, <bdi>3</bdi>"),
        ("UNCLASSIFIED // NOT RELEASABLE", "<bdi>UNCLASSIFIED</bdi> // NOT RELEASABLE"),
        ("not a marking line", "<bdi>not a marking line</bdi>"),
        ("X // NOT RELEASABLE AT ALL", "<bdi>X // NOT RELEASABLE AT ALL</bdi>"),
    ],
)
def test_a_marking_line_is_read_back_into_its_classification_and_names(line, drawn):
    assert str(marking.read(line)) == line, "the same line, plain"
    assert isolated_sentence(marking.read(line)) == Markup(drawn)


def test_a_refusal_naming_what_was_typed_is_plain_as_a_message_and_isolated_as_told():
    refused = Conflict(Sentence("channel {name} is used <here>", {"name": repr("קו & <b>")}), {"name": "x"})
    assert refused.message == str(refused) == "channel 'קו & <b>' is used <here>"
    assert told(refused) == Markup("channel <bdi>&#39;קו &amp; &lt;b&gt;&#39;</bdi> is used &lt;here&gt;")
    assert told(Conflict("no <name> in it")) == Markup("no &lt;name&gt; in it"), "our words alone, escaped"


def test_a_text_where_no_element_stands_is_isolated_by_references_a_stored_control_shown_as_its_marker():
    assert isolated_text("קו & <b>") == Markup("&#x2068;קו &amp; &lt;b&gt;&#x2069;")
    assert shown(isolated_text(f"N{RLO}1")) == Markup("&#x2068;N[U+202E]1&#x2069;")
    assert isolated_text(None) == isolated_text("") == Markup("")
