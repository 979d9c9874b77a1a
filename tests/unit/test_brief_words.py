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
    assert said(EventKind.AMENDED, details) == "Precedence: P → Z; Safety risk: B → A; narrative added to"


def test_an_amendment_that_only_added_to_the_narrative_says_so():
    assert said(EventKind.AMENDED, {"fields": [], "after": {}, "addendum": "More."}) == "narrative added to"


def test_a_change_of_exchange_by_call_says_so_and_whether_a_second_person_approved():
    """The incoming officer read "notified → explanation_requested" for a request said on a call, with no
    hint that no second person had approved it."""
    moved = {"from_state": "notified", "to_state": "explanation_requested", "channel": "Hotline", "call": 4}
    unapproved = said(EventKind.EXCHANGE_CHANGED, {**moved, "by_call": True, "approval": "not_approved"})
    assert unapproved == "notified → explanation_requested on Hotline, by call 4, not approved"
    theirs = said(EventKind.EXCHANGE_CHANGED, {**moved, "by_call": True, "approval": "not_needed"})
    assert theirs == "notified → explanation_requested on Hotline, by call 4"
    assert said(EventKind.EXCHANGE_CHANGED, moved) == "notified → explanation_requested on Hotline"
