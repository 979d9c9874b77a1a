"""A name typed at sign-in is read as people read it (services.accounts.names.folded): look-alikes of one name
are one name, for the count of failed sign-ins and for the names of new accounts, whatever the text holds."""

import pytest

from tracker.services.accounts.names import folded, looks


@pytest.mark.parametrize(
    "typed",
    [
        "duty",
        "DUTY",
        "Duty",
        "  duty\u3000",  # spaces around it, an ideographic one among them
        "\uff44\uff55\uff54\uff59",  # full-width letters (NFKC)
        "du\u200bty",  # zero-width space
        "du\u200dty\u2060",  # zero-width joiner, word joiner
        "d\u00aduty",  # soft hyphen
        "\ufeffduty",  # byte order mark
        "du\u034fty",  # combining grapheme joiner: default-ignorable, though no format character
        "dut\ufe0fy",  # variation selector
        "du\U000e0020ty",  # tag space
        "du\x07ty",  # a control character
        "du\ud800ty",  # a lone surrogate: no character at all
        "\udcffduty",  # an undecodable byte as Python keeps it (surrogateescape)
    ],
)
def test_look_alikes_of_a_name_read_as_that_name(typed):
    assert folded(typed) == "duty"


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("\ufb01le", "file"),  # a ligature
        ("stra\u00dfe", "STRASSE"),  # full case folding
        ("e\u200b\u0301", "\u00e9"),  # an accent after an invisible character composes as without it
        ("\u01f0", "J\u030c"),  # folding that undoes NFKC is composed again
        ("\u2168", "ix"),  # a Roman numeral
    ],
)
def test_compatibility_and_case_forms_are_one_name(one, other):
    assert folded(one) == folded(other)


@pytest.mark.parametrize(("one", "other"), [("duty", "duty2"), ("du ty", "duty"), ("\u00e9", "e"), ("Д", "D")])
def test_names_that_read_otherwise_stay_apart(one, other):
    """Only what cannot be seen goes: a space inside, an accent or another script's letter is another name."""
    assert folded(one) != folded(other)


def test_any_text_folds_to_text_that_can_be_encoded():
    every = "".join(chr(point) for point in range(0, 0x110000, 7))
    assert isinstance(folded(every).encode(), bytes)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("alice", "\u0430lice"),  # Cyrillic а
        ("ivan", "\u0456van"),  # Ukrainian і
        ("hans", "\u041dans"),  # Cyrillic capital Н
        ("john", "j\u03bfhn"),  # Greek ο
        ("bill", "bi11"),  # the digit one
        ("admin", "adrnin"),  # r and n for m
    ],
)
def test_names_that_look_alike_across_scripts_look_the_same(one, other):
    """Read alike (folded) they were not: an account "аlice" with a Cyrillic а was made beside "alice", and a
    timeline or a four-eyes list showed the two as one person."""
    assert folded(one) != folded(other)
    assert looks(one) == looks(other), (looks(one), looks(other))


@pytest.mark.parametrize(("one", "other"), [("mila", "mia"), ("ivan", "\u0438\u0432\u0430\u043d"), ("duty", "duty2")])
def test_names_that_differ_to_the_eye_look_different(one, other):
    assert looks(one) != looks(other)
