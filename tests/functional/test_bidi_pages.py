"""Text people typed in Arabic or Hebrew stands on the pages as an isolate (web/bidi.py): inline in a <bdi>, a block
of its own (a narrative, a text area, an input) with dir="auto", a text in a named language with its lang and its
dir. Without it, the right-to-left run drew the numbers and references beside it into its own order."""

from tests.exchange_support import acknowledged_incident, add_counterpart_line, api, open_exchange
from tests.functional.test_accessible_pages import Element, parse
from tests.support import file_incident, name_a_sector, sign_in
from tracker.db import session_scope
from tracker.models import ExchangeMessage

SECTOR = "قطاع الشمال"  # Arabic: "the northern sector"
UNIT = "גדוד 12"  # Hebrew: "battalion 12"
CALLSIGN = "נשר 7"
NARRATIVE = "اقتربت المقاتلة إلى 30 م من طائرتنا."
COMMENT = "أكد موقع الرادار 4 وجود مقاتلتين."
RULE = "הגזרה הצפונית"  # Hebrew: "the northern sector"


def standing_alone(page: Element, typed: str) -> tuple[int, list[str]]:
    """How often the typed text is on the page, and where it stands inline without an isolate: the element holding
    it is neither a <bdi> nor one with a dir of its own (a block, a text area)."""
    found, bare = 0, []

    def walk(element: Element) -> None:
        nonlocal found
        for child in element.children:
            if isinstance(child, Element):
                walk(child)
            elif typed in child:
                found += 1
                if element.tag != "bdi" and "dir" not in element.attrs:
                    bare.append(f"<{element.tag} {element.attrs}> {element.text[:160]}")

    walk(page)
    return found, bare


def filed(client, world) -> str:
    """An incident in a sector a routing rule names in Arabic (with no position, so none to disagree with it), its
    unit, narrative, a callsign and a comment typed in Arabic or Hebrew."""
    name_a_sector(client.application, world, SECTOR, RULE)
    platform = {"kind": "fighter aircraft", "nationality": "Eastland", "callsign": CALLSIGN}
    typed = {"sector": SECTOR, "reporting_unit": UNIT, "narrative": NARRATIVE, "platforms": [platform]}
    reference = file_incident(client, world, latitude=..., longitude=..., **typed)["reference"]
    api(client, world, "POST", f"/incidents/{reference}/comments", {"text": COMMENT}, who="duty", status=201)
    return reference


def test_typed_text_is_isolated_wherever_a_page_shows_it(client, world):
    reference = filed(client, world)
    pages = {
        "duty": ["/board", "/board/rows", f"/incidents/{reference}", f"/incidents/{reference}/print"],
        "liaison": ["/queue", "/queue/acknowledge-all"],
    }
    for who, paths in pages.items():
        sign_in(client, who)
        for path in paths:
            answer = client.get(path)
            assert answer.status_code == 200, f"{path}: {answer.status_code}"
            page = parse(answer.text)
            for typed in (
                SECTOR,
                *((UNIT, NARRATIVE, COMMENT, CALLSIGN, RULE) if path.startswith("/incidents") else ()),
            ):
                found, bare = standing_alone(page, typed)
                assert found, f"{path} as {who} does not show {typed!r}"
                assert not bare, f"{path} as {who} shows {typed!r} without an isolate:\n" + "\n".join(bare)


def test_the_board_row_isolates_the_sector_and_each_line_of_its_list(client, world):
    filed(client, world)
    sign_in(client, "duty")
    row = client.get("/board/rows").text
    assert f"<td><bdi>{SECTOR}</bdi><small></small></td>" in row, row
    assert "<small><bdi>L1</bdi></small>" in row, "a list of lines: each name isolated, not the list as one run"


def test_a_field_of_typed_text_is_laid_out_by_what_is_typed_in_it(client, world):
    reference = filed(client, world)
    sign_in(client, "duty")
    page = parse(client.get(f"/incidents/{reference}").text)
    (comment,) = page.find_all("textarea", name="text")
    assert comment.attrs.get("dir") == "auto", comment.attrs
    amend = parse(client.get(f"/incidents/{reference}/amend").text)
    (sector,) = amend.find_all("input", name="sector")
    assert (sector.attrs.get("dir"), sector.attrs.get("value")) == ("auto", SECTOR), sector.attrs
    (callsign,) = amend.find_all("input", name="platforms-0-callsign")
    assert (callsign.attrs.get("dir"), callsign.attrs.get("value")) == ("auto", CALLSIGN), callsign.attrs
    (addendum,) = amend.find_all("textarea", name="narrative_addendum")
    assert addendum.attrs.get("dir") == "auto", addendum.attrs
    for hidden in amend.find_all("input", type="hidden") + amend.find_all("input", type="password"):
        assert "dir" not in hidden.attrs, hidden.attrs
    sign_in(client, "liaison")
    (note,) = parse(client.get("/queue").text).find_all("input", name="note")
    assert note.attrs.get("dir") == "auto", note.attrs


def test_a_text_in_the_other_sides_language_says_its_direction_with_its_lang(app, client, world):
    """A line to a side that reads Arabic: its part of a message is marked lang="ar" and dir="rtl" on the incident
    page and its print, as the HTML mail marks it; a Russian one reads left to right."""
    add_counterpart_line(app, world)
    reference = acknowledged_incident(client, world, releasable_to=["Eastland"])
    exchange = open_exchange(client, world, reference)
    notice_id = next(m["id"] for m in exchange["messages"] if m["direction"] == "out")
    sign_in(client, "supervisor")
    for language, text, direction in (
        ("ru", "Уведомляем о небезопасном перехвате.", "ltr"),
        ("ar", "نبلغكم بحادث اعتراض غير آمن.", "rtl"),
    ):
        with session_scope(app) as session:  # as a line that reads the language would have sent it
            notice = session.get_one(ExchangeMessage, notice_id)
            notice.text_second, notice.language = text, language
        for path in (f"/incidents/{reference}", f"/incidents/{reference}/print"):
            page = parse(client.get(path).text)
            marked = [(e.attrs.get("dir"), e.text) for e in page.find_all(lang=language)]
            assert marked == [(direction, text)], f"{path}: {marked}"
