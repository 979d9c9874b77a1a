"""What may reach the other side: per-field defaults, overrides, the guard, and the summary text
drafted from releasable fields only (no database: incidents built in memory)."""

from datetime import UTC, datetime
from urllib.parse import quote

import pytest

from tracker.api.schemas import ReleasabilityIn
from tracker.errors import ValidationError
from tracker.models import Domain, EscalationRisk, Incident, Precedence, SafetyRisk
from tracker.services.exchanges import releasability, summary_text

# Every field holds content that appears nowhere else, so a summary shows which fields it used.
MARKERS = {
    "reporting_unit": ["MARKER-UNIT-7781"],
    "narrative": ["MARKER-NARR-6642"],
    "actions_taken": ["MARKER-ACTS-5117"],
    "sector": ["MARKER-SECTOR-3303"],
    "cpa": ["4321 m", "8765 ft"],
    "platforms": ["MARKER-PKIND-1188", "MARKER-PTYPE-1177", "MARKER-PNAT-1199", "MARKER-PCALL-1166"],
    "position": ["54.61873, 23.10952"],
    "border_distance_km": ["about 17.3 km"],
    "occurred_at": ["14 June 2025 at 09:26 UTC (140926ZJUN25)"],
    "category": ["Type of event: intercept at close range."],
    "domain": ["Domain: air."],
    "safety_risk": ["ICAO risk class C"],
    "escalation_risk": ["near routine"],
    "precedence": ["PRIORITY"],
}


def incident(**releasable) -> Incident:
    return Incident(
        reference="INC-2025-00042",
        occurred_at=datetime(2025, 6, 14, 9, 26, tzinfo=UTC),
        reporting_unit="MARKER-UNIT-7781",
        domain=Domain.AIR,
        category="unsafe_intercept",
        latitude=54.61873,
        longitude=23.10952,
        position_text="MARKER-POSTEXT-2290",
        sector="MARKER-SECTOR-3303",
        border_distance_km=17.34,
        border_basis="region_file",  # a real region's: a fictional one's distance is never told
        cpa_horizontal_m=4321,
        cpa_vertical_ft=8765,
        platforms=[
            {
                "kind": "MARKER-PKIND-1188",
                "type": "MARKER-PTYPE-1177",
                "nationality": "MARKER-PNAT-1199",
                "callsign": "MARKER-PCALL-1166",
                "transponder_on": False,
                "radio_contact": False,
            }
        ],
        actions_taken="MARKER-ACTS-5117",
        precedence=Precedence.PRIORITY,
        safety_risk=SafetyRisk.C,
        escalation_risk=EscalationRisk.NEAR_ROUTINE,
        narrative="MARKER-NARR-6642 closed to 30 m.",
        releasability=releasable,
    )


def test_defaults_release_time_area_and_category_and_withhold_our_own_details():
    released = {name for name, value in releasability.DEFAULTS.items() if value}
    withheld = {name for name, value in releasability.DEFAULTS.items() if not value}
    assert {"occurred_at", "position", "sector", "border_distance_km", "category", "domain"} <= released, released
    assert {"narrative", "reporting_unit", "actions_taken"} <= withheld, withheld
    assert set(MARKERS) == set(releasability.FIELDS), "every field needs a marker in this test"


def test_overrides_change_only_the_fields_they_name():
    effective = releasability.effective(incident(narrative=True, cpa=False))
    assert effective == {**releasability.DEFAULTS, "narrative": True, "cpa": False}, effective


@pytest.mark.parametrize(
    ("overrides", "field", "problem"),
    [
        ({"colour": True}, "colour", "not one of"),
        ({"narrative": "yes"}, "narrative", "must be a boolean"),
        ({"cpa": 1}, "cpa", "must be a boolean"),
    ],
)
def test_overrides_name_known_fields_with_true_or_false(overrides, field, problem):
    with pytest.raises(ValidationError) as refused:
        releasability.check_overrides(overrides)
    assert problem in refused.value.details[field], refused.value.details


def test_the_api_schema_offers_every_field_and_no_other():
    assert sorted(ReleasabilityIn().fields) == sorted(releasability.FIELDS)


def present(text: str) -> dict[str, list[str]]:
    return {field: [m for m in markers if m in text] for field, markers in MARKERS.items()}


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {name: True for name in releasability.FIELDS},
        {name: False for name in releasability.FIELDS},
        {"narrative": True, "cpa": False, "platforms": False, "occurred_at": False, "escalation_risk": True},
    ],
    ids=["defaults", "all-released", "all-withheld", "mixed"],
)
def test_a_draft_holds_the_releasable_fields_and_nothing_of_the_others(overrides):
    subject = incident(**overrides)
    allowed = releasability.effective(subject)
    text, used = summary_text.compose(subject, "en")
    found = present(text)
    missing = {f: m for f, m in MARKERS.items() if allowed[f] and found[f] != m}
    leaked = {f: found[f] for f in MARKERS if not allowed[f] and found[f]}
    assert missing == {}, f"releasable content missing from the draft: {missing}\n{text}"
    assert leaked == {}, f"withheld content in the draft: {leaked}\n{text}"
    assert sorted(used) == sorted(f for f, ok in allowed.items() if ok), (used, allowed)
    assert releasability.leaks(subject, text) == {}, text


@pytest.mark.parametrize("language", ["ru", "fr"])
def test_the_second_language_holds_the_same_fields_in_its_own_words(language):
    subject = incident(narrative=True)
    english, used = summary_text.compose(subject, "en")
    second, used_second = summary_text.compose(subject, language)
    assert used_second == used
    position = "54,61873;" if language in ("ru", "fr", "uk") else "54.61873,"  # the language's decimal mark
    for marker in ("MARKER-NARR-6642", "MARKER-PCALL-1166", "4321", "8765", position, "140926ZJUN25"):
        assert marker in second, f"{marker} missing from the {language} text:\n{second}"
    assert "MARKER-UNIT-7781" not in second, second
    for english_words in ("Type of event", "Closest point of approach", "Platform observed", "transponder off"):
        assert english_words not in second, f"{english_words!r} left in English in the {language} text:\n{second}"


@pytest.mark.parametrize(
    ("language", "sentence"),
    [("en", "about 17.3 km."), ("ru", "около 17,3 км."), ("fr", "environ 17,3 km.")],
)
def test_the_distance_to_the_border_has_the_languages_decimal_mark(language, sentence):
    """As the position beside it: "17.3" in a Russian or French text reads as another number (or a date)."""
    text, _ = summary_text.compose(incident(), language)
    assert sentence in text, text


def test_draft_reads_as_a_factual_account():
    text, _ = summary_text.compose(incident(), "en")
    assert text.startswith("Summary of event\n\nOn 14 June 2025 at 09:26 UTC (140926ZJUN25)"), text
    assert (
        "Platform observed: MARKER-PKIND-1188, type MARKER-PTYPE-1177, nationality MARKER-PNAT-1199, "
        "callsign or hull number MARKER-PCALL-1166, transponder off, no radio contact." in text
    ), text
    assert "Closest point of approach: 4321 m horizontally and 8765 ft vertically." in text, text


def test_guard_names_each_withheld_field_whose_content_was_typed_in():
    subject = incident()
    with pytest.raises(ValidationError) as refused:
        releasability.guard(subject, "All fine.", "Unit marker-unit-7781 reported; MARKER-ACTS-5117.")
    assert set(refused.value.details) == {"reporting_unit", "actions_taken"}, refused.value.details
    assert refused.value.status == 422


def test_guard_lets_released_content_through():
    subject = incident(narrative=True)
    releasability.guard(subject, "MARKER-NARR-6642 closed to 30 m.")


@pytest.mark.parametrize(
    ("typed", "field"),
    [
        ("As we said: MARKER-NARR-6642.", "narrative"),
        ("the unit MARKER-UNIT-7781", "reporting_unit"),
        ("MARKER-ACTS-5117", "actions_taken"),
        ("callsign marker-pcall-1166", "platforms"),
    ],
)
def test_guard_catches_a_fragment_copied_out_of_a_withheld_field(typed, field):
    subject = incident(platforms=False)
    subject.narrative = "At 0926Z MARKER-NARR-6642 closed to 30 m of our patrol aircraft."
    subject.actions_taken = "MARKER-ACTS-5117 called on guard frequency."
    assert field in releasability.leaks(subject, typed), releasability.leaks(subject, typed)


def test_guard_catches_a_run_of_words_however_the_lines_are_broken():
    subject = incident()
    subject.narrative = "The fighter closed to thirty metres of our patrol aircraft and then turned away."
    typed = "Summary.\nThe fighter closed to\nthirty metres, as reported."
    assert "narrative" in releasability.leaks(subject, typed)
    assert "narrative" not in releasability.leaks(subject, "The fighter turned away.")


def test_guard_does_not_see_a_time_inside_a_date_time_group_or_content_released_elsewhere():
    subject = incident()
    subject.narrative = "At 0926Z the MARKER-PCALL-1166 closed."
    text, _ = summary_text.compose(subject, "en")
    assert "140926ZJUN25" in text and "MARKER-PCALL-1166" in text, text
    assert releasability.leaks(subject, text) == {}, "the callsign is released as a platform; 0926Z is not a word here"


def test_ordinary_words_that_equal_a_withheld_code_are_not_leaks():
    """A withheld escalation risk of "high" or "serious" must not make every sentence with those words a leak."""
    from types import SimpleNamespace

    from tracker.models import EscalationRisk, Precedence
    from tracker.services.exchanges import releasability

    subject = SimpleNamespace(
        releasability={}, escalation_risk=EscalationRisk.SERIOUS, precedence=Precedence.FLASH, safety_risk=None,
        narrative="", reporting_unit="", actions_taken="", position_text=None, latitude=None, longitude=None,
        cpa_horizontal_m=None, cpa_vertical_ft=None, platforms=[], sector=None, border_distance_km=None,
        domain=None, category="unsafe_intercept", events=[], reference="INC-2026-00001",
    )  # fmt: skip
    assert releasability.leaks(subject, "A serious matter at high altitude.") == {}


@pytest.mark.parametrize("purpose", ["ack", "check", "receipt", "feed"])
def test_a_link_of_ours_or_its_token_pasted_into_a_text_for_the_other_side_is_refused(purpose):
    """An acknowledge link pasted into a notice went out: the other side acknowledged our incident with it and
    stopped its ladder. Any link of ours, by its page or by its token alone, signed under any key, is refused."""
    from tracker.services.engine.links import LinkSigner

    token = LinkSigner("another-key-of-before", 3600).issue(purpose, incident=1, channel=2)
    subject = incident()
    for typed in (f"See https://tracker.example/links/{purpose}/{token} .", f"Token: {token}", f"({token})"):
        assert "link" in releasability.leaks(subject, typed), typed
    assert "link" in releasability.leaks(subject, "Open https://tracker.example/links/ack/altered-token")
    # Pasted as a mail filter wrapped it (Outlook's Safe Links): percent-encoded, once or twice over.
    link = quote(f"https://tracker.example/links/{purpose}/{token}", safe="")
    wrapped = f"https://eur01.safelinks.protection.outlook.com/?url={link}"
    for typed in (wrapped, quote(wrapped, safe=""), f"url%3D%2522{token}%2522"):
        assert "link" in releasability.leaks(subject, typed), typed
    assert "link" not in releasability.leaks(subject, "Our Ref. NM-2026-0004; see www.mod.example/notices.a.b.")


def test_a_platforms_kind_or_nationality_said_in_ordinary_words_is_no_leak_its_type_and_callsign_are():
    """Withheld platforms made "An aircraft of yours" and any mention of Eastland a leak: a kind or a nationality
    is a word of every sentence on the matter, not content of ours."""
    subject = incident(platforms=False)
    subject.platforms = [{"kind": "fighter aircraft", "type": "Su-27", "nationality": "Eastland", "callsign": "RED 41"}]
    assert releasability.leaks(subject, "A fighter aircraft of Eastland came close to ours.") == {}
    assert set(releasability.leaks(subject, "Your Su-27 came close.")) == {"platforms"}
    assert set(releasability.leaks(subject, "Callsign RED 41 came close.")) == {"platforms"}
