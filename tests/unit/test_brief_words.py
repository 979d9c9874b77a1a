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
