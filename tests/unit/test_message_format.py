"""Golden texts of every kind of message to the other side: the formatted header (ACP 126 shape) and
the body in English and the line's language, against fixed inputs (a fixed incident, line, agreement
and moment). The files under tests/golden/messages are the reviewed texts; a change of wording shows
as a diff there. TRACKER_UPDATE_GOLDEN=1 rewrites them (then read the diff before committing).

Also: every msgid a kind uses is translated (not fuzzy) in ru and fr, and in uk and zh for the kinds
they carry; a kind a catalogue lacks is refused with 422 naming the language and the kind."""

import os
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tracker.errors import ValidationError
from tracker.models import (
    Agreement,
    ChannelCheck,
    ContactChannel,
    Domain,
    EscalationRisk,
    Exchange,
    ExchangeMessage,
    ExchangeState,
    Incident,
    MessageDirection,
    OutgoingStatus,
    Precedence,
)
from tracker.services.engine import message_text
from tracker.services.exchanges import catalogues, message_format, message_texts, outgoing

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "messages"
UPDATE = os.environ.get("TRACKER_UPDATE_GOLDEN") == "1"
NOW = datetime(2026, 12, 3, 14, 55, 12, tzinfo=UTC)
SETTINGS = outgoing.Settings(our_station="Northmark National Operations Centre", reference_prefix="NM")
RECEIPT_URL = "https://tracker.example/links/receipt/TOKEN"
# Free text of our liaison, in English and (as they typed it) in the line's language.
OWN = {
    "notice": (
        "The aircraft returned to its base after the approach.",
        {
            "ru": "После сближения самолёт вернулся на свою базу.",
            "fr": "L'aéronef est retourné à sa base après l'approche.",
            "uk": "Після зближення літак повернувся на свою базу.",
            "zh": "该飞机在接近后返回其基地。",
        },
    ),
    "explanation_request": (
        "Please state the purpose of the flight and the unit it belonged to.",
        {
            "ru": "Просим сообщить цель полёта и принадлежность воздушного судна.",
            "fr": "Veuillez indiquer le but du vol et l'unité à laquelle appartenait l'aéronef.",
        },
    ),
    "reply": ("Our aircraft kept to international airspace throughout.", {}),
    "meeting_request": (
        "We propose the meeting at the border crossing point used in 2025.",
        {
            "fr": "Nous proposons la réunion au point de passage utilisé en 2025.",
        },
    ),
}
SUMMARY = {
    "en": "Summary of event\n\nAn intercept at close range was observed.\n",
    "ru": "Сводка о событии NM-2026-0007\n\nНаблюдался перехват на близком расстоянии.\n",
    "fr": "Résumé de l'événement NM-2026-0007\n\nUne interception à courte distance a été observée.\n",
}
KINDS = ["notice", "explanation_request", "reply", "meeting_request", "receipt", "summary"]
# Ukrainian and Chinese carry the notification, receipt and line-check kinds.
PARTIAL = {"uk": ["notice", "receipt", "check"], "zh": ["notice", "receipt", "check"]}


def agreement() -> Agreement:
    return Agreement(
        id=1,
        code="INCSEA-1972",
        title="Agreement on the Prevention of Incidents On and Over the High Seas",
        default_article="Article VI",
        articles={"explanation_request": "Article VII"},
    )


def line(language: str) -> ContactChannel:
    return ContactChannel(
        id=7,
        name="Eastland hotline",
        level=3,
        counterpart="Eastland Ministry of Defence",
        transport="email",
        address="hotline@eastland.example",
        counterpart_line=True,
        language=None if language == "en" else language,
        our_station="",
        their_station="Eastland General Staff duty officer",
        counterpart_state="Eastland",
        agreement=agreement(),
        check_window_seconds=900,
    )


def incident() -> Incident:
    """Every field filled; only time, domain, category, area, position, CPA and platforms are releasable."""
    return Incident(
        id=3,
        reference="INC-2026-00017",
        occurred_at=datetime(2026, 12, 3, 13, 5, tzinfo=UTC),
        reporting_unit="Border Guard Post 7",
        domain=Domain.AIR,
        category="unsafe_intercept",
        latitude=54.1234,
        longitude=23.4567,
        position_text="54.1234, 23.4567",
        sector="NORTH-3",
        precedence=Precedence.IMMEDIATE,
        escalation_risk=EscalationRisk.SERIOUS,
        narrative="Internal narrative that never leaves.",
        classification="UNCLASSIFIED",
        releasable_to=["Eastland"],
        releasability={},
        platforms=[],
    )


def message(kind: str, language: str, serial: int = 12) -> ExchangeMessage:
    channel = line(language)
    exchange = Exchange(
        id=5,
        incident=incident(),
        channel=channel,
        state=ExchangeState.NOTIFIED,
        reply_seconds=172800,
        meeting_seconds=129600,
        language=channel.language,
        reference="NM-2026-0007",
        counterpart_state="Eastland",
    )
    theirs = ExchangeMessage(
        id=40,
        exchange=exchange,
        direction=MessageDirection.IN,
        kind="reply",
        text="Their text.",
        at=datetime(2026, 12, 3, 9, 30, tzinfo=UTC),
        status=OutgoingStatus.RECEIVED,
    )
    if kind == "summary":
        text, second = SUMMARY["en"], SUMMARY.get(language)
    elif kind == "receipt":
        text = message_texts.receipt_text("en", theirs.at)
        second = message_texts.receipt_text(language, theirs.at) if language != "en" else None
    else:
        text, translations = OWN[kind]
        second = translations.get(language)
    return ExchangeMessage(
        id=41,
        exchange=exchange,
        direction=MessageDirection.OUT,
        kind=kind,
        text=text,
        text_second=second,
        status=OutgoingStatus.SENT,
        serial=serial,
        serial_year=2026,
        agreement=channel.agreement,
        article=channel.agreement.article_for(kind),
        answers=theirs if kind in ("reply", "receipt") else None,
    )


def check(language: str) -> ChannelCheck:
    return ChannelCheck(
        id=9,
        channel=line(language),
        requested_by="schedule",
        sent_at=NOW,
        due_by=datetime(2026, 12, 3, 15, 10, tzinfo=UTC),
        serial=13,
        serial_year=2026,
    )


def golden(name: str, text: str) -> None:
    path = GOLDEN / f"{name}.txt"
    if UPDATE:
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no golden text {path.name}: run with TRACKER_UPDATE_GOLDEN=1 and review it"
    assert text == path.read_text(encoding="utf-8"), f"{path.name} differs from the reviewed text"


CASES = [(kind, language) for language in ("en", "ru", "fr") for kind in KINDS] + [
    (kind, language) for language, kinds in PARTIAL.items() for kind in kinds if kind != "check"
]


@pytest.mark.parametrize(("kind", "language"), CASES)
def test_each_kind_reads_as_its_reviewed_text(kind, language):
    # release gives every message a receipt link but our receipt of theirs (outgoing.UNCONFIRMED)
    url = None if kind in outgoing.UNCONFIRMED else RECEIPT_URL
    formatted = message_format.compose(message(kind, language), SETTINGS, NOW, receipt_url=url)
    golden(f"{kind}.{language}", f"Subject: {formatted.subject}\n\n{formatted.text}")


@pytest.mark.parametrize("language", ["en", "ru", "fr", "uk", "zh"])
def test_a_line_check_reads_as_its_reviewed_text(language):
    formatted = message_format.compose_check(check(language), SETTINGS, NOW)
    golden(f"check.{language}", f"Subject: {formatted.subject}\n\n{formatted.text}")
    assert "http" not in formatted.text, "a check over a counterpart line carries no link into our tracker"


def test_the_header_has_every_field_in_order_and_no_internal_reference():
    text = message_format.compose(message("notice", "ru"), SETTINGS, NOW).text
    head, body, tail = text.split("\nBT\n")
    assert head.splitlines() == [
        "P 031455Z DEC 26",
        "FM NORTHMARK NATIONAL OPERATIONS CENTRE",
        "TO EASTLAND GENERAL STAFF DUTY OFFICER",
        "UNCLAS",
        "SERIAL 0012/2026",
        "UNDER INCSEA-1972 ARTICLE VI",
        "SUBJ NOTIFICATION OF INCIDENT",
        "REF NM-2026-0007",
        "RELEASABLE TO EASTLAND",
    ]
    assert tail == ""
    assert body.index("ENGLISH TEXT") < body.index("ТЕКСТ НА РУССКОМ ЯЗЫКЕ"), "ours first"
    assert "INC-2026-00017" not in text and "Border Guard Post 7" not in text and "Internal narrative" not in text


def test_a_restricted_incident_says_so_and_a_line_without_station_uses_ours():
    formatted = message("notice", "en")
    formatted.exchange.incident.classification = "RESTRICTED"
    text = message_format.compose(formatted, SETTINGS, NOW).text
    assert text.splitlines()[1:4] == [
        "FM NORTHMARK NATIONAL OPERATIONS CENTRE",
        "TO EASTLAND GENERAL STAFF DUTY OFFICER",
        "RESTRICTED",
    ]


def test_a_field_not_releasable_is_left_out_of_the_formula():
    notice = message("notice", "fr")
    notice.exchange.incident.releasability = {"position": False, "sector": False}
    text = message_format.compose(notice, SETTINGS, NOW).text
    assert "54.1234" not in text and "54,1234" not in text and "NORTH-3" not in text, text
    assert "Time: 3 December 2026 at 13:05 UTC (031305ZDEC26)." in text
    assert "Heure : le 3 décembre 2026 à 13:05 UTC (031305ZDEC26)." in text


def test_numbers_are_written_the_way_each_language_writes_them():
    assert "latitude 54.1234, longitude 23.4567" in message_format.compose(message("notice", "en"), SETTINGS, NOW).text
    assert "широта 54,1234, долгота 23,4567" in message_format.compose(message("notice", "ru"), SETTINGS, NOW).text
    request = message_format.compose(message("meeting_request", "fr"), SETTINGS, NOW).text
    # CLDR keeps a number and its unit together (a no-break space in French)
    assert "within 36 hours" in request and "dans un délai de 36\u00a0heures" in request


@pytest.mark.parametrize(
    ("language", "seconds", "span"),
    [
        ("en", 3600, "within 1 hour,"),
        ("en", 5400, "within 1.5 hours,"),
        ("fr", 3600, "dans un délai de 1\u00a0heure,"),
        # "в течение" asks the genitive, which CLDR's units do not give ("в течение 24 часа"): the Russian says
        # "срок ответа — ...", which takes the number as CLDR writes it.
        ("ru", 3600, "срок ответа — 1 час."),
        ("ru", 7200, "срок ответа — 2 часа."),
        ("ru", 75600, "срок ответа — 21 час."),
        ("ru", 86400, "срок ответа — 24 часа."),
        ("ru", 172800, "срок ответа — 48 часов."),
        # Under an hour in minutes, under a minute in seconds: "within 0 hours" for 17 seconds.
        ("en", 17, "within 17 seconds,"),
        ("en", 1800, "within 30 minutes,"),
        ("ru", 1800, "срок ответа — 30 минут."),
        ("fr", 60, "dans un délai de 1 minute,"),
    ],
)
def test_a_deadline_in_hours_takes_the_plural_form_of_its_number(language, seconds, span):
    """A line's deadline is any number of seconds: "within 1 hours" / "1 heures" read as a mistake."""
    request = message("explanation_request", language)
    request.exchange.reply_seconds = seconds
    assert span in message_format.compose(request, SETTINGS, NOW).text


def test_without_a_translation_the_english_text_is_said_to_be_english():
    text = message_format.compose(message("reply", "ru"), SETTINGS, NOW).text
    assert "Текст нашего офицера (оригинал на английском языке):\nOur aircraft kept" in text, text


@pytest.mark.parametrize(("language", "kind"), [("uk", "explanation_request"), ("zh", "reply"), ("uk", "summary")])
def test_a_kind_the_catalogue_lacks_is_refused_naming_the_language_and_kind(language, kind):
    with pytest.raises(ValidationError) as refused:
        message_format.ensure_supported(language, kind)
    assert refused.value.status == 422
    assert refused.value.details["language"] == f"{language}: no text for a message of the kind {kind}"
    assert refused.value.details["untranslated"], refused.value.details
    assert language in refused.value.message and kind in refused.value.message


def test_compose_refuses_an_unsupported_kind_rather_than_sending_english():
    request = message("explanation_request", "uk")
    with pytest.raises(ValidationError) as refused:
        message_format.compose(request, SETTINGS, NOW)
    assert refused.value.details["language"].endswith("the kind explanation_request"), refused.value.details


@pytest.mark.parametrize("language", ["ru", "fr", "uk", "zh"])
def test_every_msgid_of_each_kind_a_language_carries_is_translated_and_not_fuzzy(language):
    kinds = PARTIAL.get(language, list(message_texts.KIND_MSGIDS))
    catalogue = catalogues.catalogue(language)
    for kind in kinds:
        for msgid in message_texts.msgids_of(kind):
            entry = catalogue.get(msgid)
            assert entry is not None and entry.string, f"{language}.po lacks {msgid!r} (kind {kind})"
            assert not entry.fuzzy, f"{language}.po has {msgid!r} fuzzy"
    assert [m.id for m in catalogue if m.id and m.fuzzy] == [], f"{language}.po has fuzzy entries"


@pytest.mark.parametrize(
    ("language", "article", "written"),
    [
        ("ru", "Article VI(1)", "статья VI(1)"),
        ("ru", "Annex 2, para. 3", "приложение 2, пункт 3"),
        ("fr", "art. 5, paragraph 2", "article 5, paragraphe 2"),
        ("uk", "ARTICLE VII", "стаття VII"),
        ("zh", "Article VI", "第VI条"),
        ("ru", "Protocol I, Article 2", "Protocol I, статья 2"),  # a word we do not know stays as typed
        ("en", "Annex 2, para. 3", "Annex 2, para. 3"),
        # A plural stays as typed: "Articles" read as "Article" and "s III and IV" ("статья s III and IV").
        ("ru", "Articles III and IV", "Articles III and IV"),
        ("zh", "Annexes 1 and 2, § 3", "Annexes 1 and 2, 第3款"),
        ("fr", "paragraphs 3-4", "paragraphs 3-4"),
    ],
)
def test_the_article_cited_is_written_in_the_parts_language(language, article, written):
    """The part in the other side's language said "в соответствии с NM-EL-DMA, Article VI(1)": the one
    English word left in a Russian sentence."""
    assert message_texts.cited(message_texts.Writer(language), article) == written


def test_the_html_part_marks_the_text_in_their_language_with_its_own_lang_and_the_plain_text_is_unchanged():
    """The HTML part of a message to the other side was lang="en" as a whole, the Russian part too: a screen
    reader read it with English rules, and a browser hyphenated and chose fonts as for English."""
    text = message_format.compose(message("notice", "ru"), SETTINGS, NOW, receipt_url=RECEIPT_URL).text
    parts = message_format.parts_by_language(text, "ru")
    assert "".join(piece for _, _, piece in parts) == text, "the pieces are the whole text, in order"
    assert [(language, direction) for language, direction, _ in parts] == [("en", "ltr"), ("ru", "ltr"), ("en", "ltr")]
    english, russian, closing = (piece for _, _, piece in parts)
    assert "ENGLISH TEXT" in english and "ТЕКСТ НА РУССКОМ ЯЗЫКЕ" not in english
    assert russian.startswith("ТЕКСТ НА РУССКОМ ЯЗЫКЕ\n") and "Уведомляем вас" in russian, russian
    assert closing == "BT\n"
    html = message_text.html("subject", text, parts=parts)
    assert '<html lang="en">' in html, "the header and the English part are English"
    assert re.search(r'<div lang="ru">ТЕКСТ НА РУССКОМ ЯЗЫКЕ\n', html), html
    assert message_format.parts_by_language(text, None) == [("en", "ltr", text)], "an English-only line"


def test_a_language_written_right_to_left_is_marked_so():
    assert (catalogues.direction("ar"), catalogues.direction("he"), catalogues.direction("ru")) == ("rtl", "rtl", "ltr")
    html = message_text.html(
        "s", "A\n\nب\nBT\n", parts=[("en", "ltr", "A\n\n"), ("ar", "rtl", "ب\n"), ("en", "ltr", "BT\n")]
    )
    assert '<div lang="ar" dir="rtl">ب\n</div>' in html, html


def test_the_precedence_prosign_is_the_incidents_only_where_its_precedence_is_releasable():
    """Precedence is withheld by default, yet every text began with ours ("O 031455Z"), and followed a raise to Z."""
    withheld = message("notice", "en")
    released = message("notice", "en")
    released.exchange.incident.releasability = {"precedence": True}
    for raised in (Precedence.IMMEDIATE, Precedence.FLASH):
        withheld.exchange.incident.precedence = released.exchange.incident.precedence = raised
        assert message_format.compose(withheld, SETTINGS, NOW).text.startswith("P 031455Z DEC 26\n")
        first = message_format.compose(released, SETTINGS, NOW).text.splitlines()[0]
        assert first == f"{raised.value} 031455Z DEC 26", first
