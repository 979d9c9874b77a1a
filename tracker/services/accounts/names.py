"""Names as people read them: two names that look alike are one name, for counting failed sign-ins and for
refusing an account named like another.

"duty", "DUTY", "ｄｕｔｙ" (full width) and "duty" with a zero-width space inside are one name to whoever reads
them, and were four to the failure count: a guesser spread over such look-alikes of a real name stayed under its
limit. `folded` reads a name as Unicode's NFKC_Casefold does (UAX #31, section 5): compatibility forms
(NFKC), one case (casefold), and no invisible characters (default-ignorable code points, format and control
characters, and lone surrogates, which are no characters at all). PRECIS (RFC 8264/8265, the precis-i18n
package) refuses such names rather than reading them as the name they imitate, which is what a count needs;
Python's unicodedata has no Default_Ignorable_Code_Point, and the regex package's \\p{DI} would be a new
dependency for one table of ranges.
"""

import unicodedata
from functools import lru_cache

from ...text import unseen


def _seen(text: str) -> str:
    return "".join(character for character in text if not unseen(character))


def visible(text: str) -> str:
    """The text without what cannot be seen (format, control and default-ignorable characters): a name kept so is
    the name its reader sees."""
    return _seen(text)


def folded(name: str) -> str:
    """name as it reads: NFKC, case-folded, without what cannot be seen, without spaces around it. Any str is
    taken, valid Unicode or not (a lone surrogate is dropped)."""
    # Invisible characters go first too: one between a letter and its accent kept them from composing.
    text = unicodedata.normalize("NFKC", _seen(name))
    # Case folding may undo NFKC ("ǰ" folds to j and a combining caron), hence once more.
    return _seen(unicodedata.normalize("NFKC", text.casefold())).strip()


# Marks of direction the confusables table writes around a right-to-left glyph: no part of the glyph.
_DIRECTION_MARKS = str.maketrans("", "", "\u200e\u200f")


@lru_cache(maxsize=1)
def _prototypes() -> dict[str, str]:
    """Each character Unicode's confusables (UTS #39, from the confusable-homoglyphs package) names as looking like
    another, to that other: Cyrillic а to a, the digit 1 to l, m to rn. Read once, when a name is first compared
    so (an account made or checked), not by every process that imports this."""
    from confusable_homoglyphs.confusables import confusables_data

    table = {}
    for character, glyphs in confusables_data.items():
        if len(character) == 1 and len(glyphs) == 1:  # a character and its one prototype
            table[character] = glyphs[0]["c"].translate(_DIRECTION_MARKS)
    for character, target in list(table.items()):  # two that name each other (0 and O): one of them for both
        if table.get(target) == character:
            table[character] = table[target] = min(character, target)
    return {character: target for character, target in table.items() if character != target}


def looks(name: str) -> str:
    """name as it looks, to tell two names apart that read alike in two scripts ("аlice" with a Cyrillic а, and
    "alice"): each character as the one it is confused with (UTS #39's skeleton, on the NFKC form, before the case is
    folded, so a capital of one script meets its look-alike of another), then read as `folded` reads."""
    table = _prototypes()
    text = unicodedata.normalize("NFKC", _seen(name))
    for _ in range(3):  # a prototype may itself look like another: to where it settles
        mapped = "".join(table.get(character, character) for character in text)
        if mapped == text:
            break
        text = mapped
    return folded(text)
