"""What the handover brief says of an amendment: each fact before and after, as the incident page says it
("precedence" alone did not tell the incoming officer that a PRIORITY incident is now FLASH)."""

from tracker.models import EventKind
from tracker.services.watches.brief import said


def test_an_amendment_says_each_fact_before_and_after_and_an_addition():
    details = {
        "fields": ["precedence", "safety_risk"],
        "before": {"precedence": "P", "safety_risk": "B"},
        "after": {"precedence": "Z", "safety_risk": "A"},
        "addendum": "Second pass at 1310Z.",
    }
    assert str(said(EventKind.AMENDED, details)) == "Precedence: P → Z; Safety risk: B → A; narrative added to"


def test_an_amendment_that_only_added_to_the_narrative_says_so():
    assert str(said(EventKind.AMENDED, {"fields": [], "after": {}, "addendum": "More."})) == "narrative added to"


def test_a_change_of_exchange_by_call_says_so_and_whether_a_second_person_approved():
    """The incoming officer read "notified → explanation_requested" for a request said on a call, with no
    hint that no second person had approved it."""
    moved = {"from_state": "notified", "to_state": "explanation_requested", "channel": "Hotline", "call": 4}
    unapproved = str(said(EventKind.EXCHANGE_CHANGED, {**moved, "by_call": True, "approval": "not_approved"}))
    assert unapproved == "notified → explanation_requested on Hotline, by call 4, not approved"
    theirs = str(said(EventKind.EXCHANGE_CHANGED, {**moved, "by_call": True, "approval": "not_needed"}))
    assert theirs == "notified → explanation_requested on Hotline, by call 4"
    assert str(said(EventKind.EXCHANGE_CHANGED, moved)) == "notified → explanation_requested on Hotline"


def test_the_lines_and_facts_an_event_names_are_values_apart_from_our_words():
    """The page isolates each value (web/bidi.py): the whole line in one isolate read "step 2: L1, <Hebrew>" in
    one run, our words and the commas drawn into it."""
    escalated = said(EventKind.ESCALATED, {"step": 2, "channels": ["L1", "קו חם"]})
    assert (escalated.text, dict(escalated.values)) == ("step 2: {line0}, {line1}", {"line0": "L1", "line1": "קו חם"})
    amended = said(
        EventKind.AMENDED, {"fields": ["sector"], "before": {"sector": "North"}, "after": {"sector": "צפון"}}
    )
    assert str(amended) == "Sector: North → צפון" and set(amended.values.values()) == {"North", "צפון"}
    assert said(EventKind.COMMENTED, {"text": "A comment."}) == "A comment.", "a typed text as a whole"
