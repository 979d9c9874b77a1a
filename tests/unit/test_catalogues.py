"""The message catalogues: every language translates every sentence and label a summary uses,
with the same placeholders, and nothing a summary no longer uses lingers in them."""

import re
import string
from datetime import date

import pytest

from tracker.errors import ValidationError
from tracker.services.exchanges import catalogues, message_texts, summary_text
from tracker.services.exchanges.receipts import PAGE_MSGIDS as RECEIPT_PAGE_MSGIDS

LANGUAGES = [language for language in catalogues.available() if language != catalogues.SOURCE]
# The languages that carry summaries; Ukrainian and Chinese carry the notification, receipt and
# line-check kinds only (tests/unit/test_message_format.py), and a summary to them is refused.
SUMMARY_LANGUAGES = [language for language in LANGUAGES if not catalogues.missing(language, summary_text.msgids())]
# Words that blame: a summary for the other side describes what was observed, never who is at fault.
BLAME = re.compile(
    r"violat|aggress|provocat|illegal|hostile|unsafe|harass|attack|reckless|threat|dangerous|unprofessional"
)


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_english_and_at_least_russian_and_french_are_available():
    assert catalogues.available()[0] == "en", catalogues.available()
    assert {"ru", "fr"} <= set(SUMMARY_LANGUAGES), catalogues.available()
    assert {"uk", "zh"} <= set(LANGUAGES), catalogues.available()


@pytest.mark.parametrize("language", SUMMARY_LANGUAGES)
def test_every_msgid_a_summary_uses_is_translated_with_the_same_placeholders(language):
    catalogue = catalogues.catalogue(language)
    untranslated, fuzzy, mismatched = [], [], []
    for msgid in summary_text.msgids():
        message = catalogue.get(msgid)
        if message is None or not message.string:
            untranslated.append(msgid)
        elif message.fuzzy:
            fuzzy.append(msgid)
        elif placeholders(message.string) != placeholders(msgid):
            mismatched.append((msgid, message.string))
    assert untranslated == [], f"{language}.po lacks translations of {untranslated}"
    assert fuzzy == [], f"{language}.po has fuzzy (unchecked) entries {fuzzy}"
    assert mismatched == [], f"{language}.po placeholders differ from the English: {mismatched}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalogue_holds_nothing_a_summary_no_longer_uses(language):
    used = {*summary_text.msgids(), *message_texts.all_msgids()}
    stale = sorted({m.id for m in catalogues.catalogue(language) if m.id} - used)
    assert stale == [], f"{language}.po has entries no summary or message uses (remove or reuse them): {stale}"


@pytest.mark.parametrize("language", ["uk", "zh"])
def test_the_receipt_page_reads_in_the_languages_that_carry_receipts(language):
    assert catalogues.missing(language, RECEIPT_PAGE_MSGIDS) == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_message_translations_keep_their_placeholders(language):
    catalogue = catalogues.catalogue(language)
    mismatched = [
        (m, catalogue.get(m).string)
        for m in message_texts.all_msgids()
        if catalogue.get(m) is not None
        and catalogue.get(m).string
        and placeholders(catalogue.get(m).string) != placeholders(m)
    ]
    assert mismatched == [], f"{language}.po placeholders differ from the English: {mismatched}"


@pytest.mark.parametrize("language", SUMMARY_LANGUAGES)
def test_translations_are_in_the_language_not_english_left_in_place(language):
    """Sentences (not one-word labels such as "collision" or "maritime") differ from the English."""
    catalogue = catalogues.catalogue(language)
    same = [m for m in summary_text.SENTENCES if len(m.split()) > 2 and catalogue.get(m).string == m]
    assert same == [], f"{language}.po copies the English sentences {same}"


def test_every_category_domain_and_escalation_risk_has_a_neutral_label():
    labels = {**summary_text.CATEGORY_LABELS, **summary_text.DOMAIN_LABELS, **summary_text.ESCALATION_LABELS}
    accusing = {key: label for key, label in labels.items() if BLAME.search(label)}
    assert accusing == {}, f"labels for the other side must describe, not blame: {accusing}"


def test_sentence_templates_hold_no_blame_words():
    accusing = [sentence for sentence in summary_text.SENTENCES if BLAME.search(sentence.lower())]
    assert accusing == [], f"summary sentences must be factual and non-accusatory: {accusing}"


def test_translate_fills_placeholders_in_each_language():
    assert catalogues.translate("en", summary_text.SECTOR, sector="North") == "Area: North."
    assert catalogues.translate("ru", summary_text.SECTOR, sector="North") == "Район: North."
    assert catalogues.translate("fr", summary_text.SECTOR, sector="North") == "Zone : North."


def test_a_value_with_braces_is_inserted_as_it_is():
    assert catalogues.translate("fr", summary_text.SECTOR, sector="{reference}") == "Zone : {reference}."


def test_a_language_without_a_catalogue_is_refused_with_the_available_list():
    with pytest.raises(ValidationError) as refused:
        catalogues.translate("de", summary_text.SECTOR, sector="North")
    assert refused.value.status == 422
    assert refused.value.details == {"language": f"available: {', '.join(catalogues.available())}"}, (
        refused.value.details
    )


@pytest.mark.parametrize("language", ["../ru", "ru.po", "", "RU"])
def test_a_language_code_never_reaches_the_file_system(language):
    with pytest.raises(ValidationError):
        catalogues.ensure_available(language)


@pytest.mark.parametrize(
    ("language", "written"),
    # CLDR puts a narrow no-break space between the Russian year and its "г.".
    [("en", "27 November 2026"), ("ru", "27 ноября 2026\u202fг."), ("fr", "27 novembre 2026")],
)
def test_dates_are_written_the_way_each_language_writes_them(language, written):
    assert catalogues.long_date(language, date(2026, 11, 27)) == written


@pytest.mark.parametrize(
    ("tag", "written"),
    [
        ("ar", "rtl"),
        ("he", "rtl"),
        ("fa", "rtl"),
        ("ar-EG", "rtl"),  # a region, as BCP 47 (and HTML's lang) writes it
        ("fa_IR", "rtl"),  # as Babel writes it
        ("en", "ltr"),
        ("ru", "ltr"),
        ("uk", "ltr"),
        ("en-GB", "ltr"),
    ],
)
def test_each_language_is_written_in_its_own_direction(tag, written):
    assert catalogues.direction(tag) == written, f"{tag} is written {catalogues.direction(tag)}, not {written}"


@pytest.mark.parametrize("tag", ["xx", "qq-ZZ", "", "ar--", "1a", "ar\x00"])
def test_a_language_cldr_does_not_know_is_left_to_right_as_the_page_was(tag):
    """A line's language is any code of two or three letters, written as its lang as it is (web/forms.py): the
    page that shows it must not fail on it, and left to right is what it had without a dir."""
    assert catalogues.direction(tag) == "ltr"
