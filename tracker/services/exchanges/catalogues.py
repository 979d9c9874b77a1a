"""Message catalogues for text bound for the other side: English source, one .po file per language.

The catalogues are tracker/catalogues/<language>.po, read with Babel's read_po on first use: no
compile step, so a deployment adds a language by adding a file. Dates are written the way the
language writes them (Babel's CLDR data), times stay in UTC.
"""

from datetime import date
from functools import cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from ...errors import ValidationError

SOURCE = "en"
DIRECTORY = Path(__file__).resolve().parents[2] / "catalogues"
# English dates as staff write them ("27 November 2026"), not the US order of Babel's plain "en".
_DATE_LOCALES = {SOURCE: "en_GB"}


def available() -> list[str]:
    """The languages summaries can be written in: English and every catalogue shipped."""
    return [SOURCE, *sorted(path.stem for path in DIRECTORY.glob("*.po"))]


def ensure_available(language: str) -> str:
    """Return the language if a catalogue serves it; refuse (422) naming the available ones."""
    if language not in available():
        raise ValidationError(
            f"no message catalogue for the language {language!r}",
            {"language": f"available: {', '.join(available())}"},
        )
    return language


@cache
def catalogue(language: str) -> Catalog:
    """The parsed catalogue of one language (read once per process)."""
    with (DIRECTORY / f"{ensure_available(language)}.po").open("rb") as po:
        return read_po(po, locale=language)


def translate(language: str, msgid: str, **params) -> str:
    """The msgid in the language (English: as written), with its {placeholders} filled in.

    An entry missing or left untranslated falls back to English, as gettext does; the catalogue
    test keeps that from happening to anything a summary uses.
    """
    text = msgid
    if ensure_available(language) != SOURCE:
        message = catalogue(language).get(msgid)
        # A str: summaries use no plural forms (whose string is a tuple of them).
        if message is not None and isinstance(message.string, str) and message.string and not message.fuzzy:
            text = message.string
    return text.format(**params) if params else text


def missing(language: str, msgids) -> list[str]:
    """The msgids the language's catalogue does not translate (absent, empty or fuzzy); [] for English."""
    if ensure_available(language) == SOURCE:
        return []
    found = catalogue(language)
    return [
        m
        for m in dict.fromkeys(msgids)
        if (entry := found.get(m)) is None or not isinstance(entry.string, str) or not entry.string or entry.fuzzy
    ]


def locale_of(language: str) -> str:
    """The Babel locale that writes the language's dates and numbers."""
    return _DATE_LOCALES.get(language, ensure_available(language))


def long_date(language: str, day: date) -> str:
    """A date written out in the language: 27 November 2026, 27 ноября 2026 г., 27 novembre 2026."""
    return format_date(day, "long", locale=locale_of(language))


def direction(language: str) -> str:
    """How the language is written, as HTML's dir says it: "rtl" (Arabic, Hebrew, Persian...) or "ltr" (CLDR's
    character order, read by Babel). A tag is read as BCP 47 writes it ("ar-EG") or Babel does ("ar_EG"). A tag
    CLDR does not know ("xx", "") is "ltr": a line's language is any code of two or three letters, shown as its
    lang as it is, and a page or mail is no place to refuse it; left to right is what the page had without."""
    try:
        locale = Locale.parse(language.replace("-", "_"))
    except (ValueError, UnknownLocaleError):
        return "ltr"
    return "rtl" if locale.character_order == "right-to-left" else "ltr"
