"""Words for codes, spans and countdowns (tracker.models.labels, tracker.timeutil): one table and one
function for pages, e-mails and print; app.js counts down in the same words."""

import json
import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

from tracker.models.enums import Domain, EscalationRisk, EventKind
from tracker.models.labels import details_text, event_label, key_label, label, value_text
from tracker.timeutil import countdown, duration, to_the_second

APP_JS = Path(__file__).resolve().parents[2] / "tracker" / "static" / "app.js"
SPANS = [
    (0, "0 s"),
    (30, "30 s"),
    (59, "59 s"),
    (60, "1 min"),
    (365, "6 min 5 s"),
    (600, "10 min"),
    (3600, "1 h"),
    (3661, "1 h 1 min"),
    (7200, "2 h"),
    (86400, "1 d"),
    (93600, "1 d 2 h"),
    (93661, "1 d 2 h"),
]


@pytest.mark.parametrize(("seconds", "words"), SPANS)
def test_spans_read_in_words(seconds, words):
    assert duration(seconds) == words


def test_no_span_and_a_negative_one():
    assert duration(None) == "–" and duration(-75) == "-1 min 15 s" and duration(29.6) == "30 s"


def test_a_countdown_says_in_how_long_or_due_now():
    now = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
    assert countdown(now + timedelta(minutes=6, seconds=5), now) == "in 6 min 5 s"
    assert countdown(now + timedelta(hours=26, minutes=3), now) == "in 1 d 2 h"
    assert countdown(now, now) == countdown(now - timedelta(seconds=3), now) == "due now"


def test_the_pages_countdown_script_says_the_same_words():
    """app.js's duration() against the server's, for every span above (Node runs the script's function)."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed: app.js's countdown words are not run here")
    source = APP_JS.read_text()
    function = re.search(r"  function duration\(seconds\) \{.*?\n  \}\n", source, re.S)
    assert function, "app.js has a duration(seconds) function"
    spans = [seconds for seconds, _ in SPANS]
    script = function[0] + f"console.log(JSON.stringify({json.dumps(spans)}.map(duration)));"
    said = json.loads(subprocess.run([node, "-e", script], capture_output=True, text=True, check=True).stdout)
    assert said == [words for _, words in SPANS]
    assert re.search(r'el\.textContent = "in " \+ duration\(left\)', source), "the countdown reads 'in ...'"


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("airspace_violation", "airspace violation"),
        (Domain.CYBER_EM, "cyber / electromagnetic"),
        (EscalationRisk.NEAR_ROUTINE, "near-routine"),
        (EventKind.DEAD_LETTERED, "dead letter"),
        ("explanation_requested", "explanation requested"),
        ("explanation_request", "request for explanation"),
        ("j_smith", "j_smith"),  # a name, not a code: as it is
        ("L1 duty desk", "L1 duty desk"),
    ],
)
def test_codes_read_as_labels_and_names_stay_as_they_are(code, words):
    assert label(code) == words


def test_an_events_facts_read_as_words_with_times_to_the_second():
    details = {
        "next_escalation_at": "2026-12-03T08:10:00.123456Z",
        "from_step": 1,
        "channels": ["L1", "L2"],
        "runner": "host:42",
        "timeout_seconds": 90,
        "category": "airspace_violation",
        "precedence": "Z",
        "reroute": True,
        "skipped": [],
    }
    assert details_text(details) == (
        "next escalation at: 2026-12-03 08:10:00Z (030810ZDEC26); from step: 1; channels: L1, L2; "
        "scheduler: host:42; timeout: 1 min 30 s; category: airspace violation; precedence: Z FLASH; "
        "re-routed: yes"
    ), "an empty value (skipped: none) is left out"
    assert details_text({}) == "–" and key_label("cancelled_messages") == "messages cancelled"


def test_an_events_row_numbers_empty_values_and_first_round_are_left_out():
    delivered = {"step": 1, "loop": 0, "message": "notified", "notification_id": 7, "response_code": None}
    assert details_text(delivered) == "step: 1; message: notified"
    assert details_text({**delivered, "loop": 2}) == "step: 1; repeat: 2; message: notified"
    assert details_text({"exchange": 3, "message": 12, "state": "no_answer"}) == "state: no answer"


def test_times_to_the_second_from_a_datetime_or_stored_text():
    moment = datetime(2026, 12, 3, 8, 0, 9, 987654, tzinfo=UTC)
    assert to_the_second(moment) == to_the_second("2026-12-03T08:00:09.987654Z") == "2026-12-03 08:00:09Z"
    assert to_the_second("2026-12-03T10:00:09+02:00") == "2026-12-03 08:00:09Z" and to_the_second(None) == "–"


@pytest.mark.parametrize("typed", ["2026-02-30T10:00Z", "2026-13-01T10:00Z", "2026-12-01T25:00Z"])
def test_text_that_only_looks_like_a_time_is_shown_as_typed(typed):
    """A comment "2026-02-30T10:00Z" broke the printed record (fromisoformat raised): shown as typed."""
    assert details_text({"text": typed}) == f"text: {typed}"


def test_a_time_in_the_details_is_shown_to_the_second_with_its_dtg():
    assert details_text({"at": "2026-12-03T08:00:09Z"}) == "at: 2026-12-03 08:00:09Z (030800ZDEC26)"


@pytest.mark.parametrize(
    ("kind", "details", "words"),
    [
        (EventKind.SUMMARY_DRAFTED, {"summary": 1}, "summary drafted"),
        (EventKind.SUMMARY_DRAFTED, {"summary": 1, "edited": True, "approval_withdrawn": True}, "summary reworded"),
        (EventKind.MESSAGE_DRAFTED, {"message": 2, "edited": True, "approval_withdrawn": False}, "message reworded"),
        (EventKind.MESSAGE_DRAFTED, {"message": 2, "approval_withdrawn": True}, "message back to draft"),
        (EventKind.MESSAGE_DRAFTED, None, "message drafted"),
        (EventKind.MESSAGE_APPROVED, {"edited": True}, "message approved"),
    ],
)
def test_a_text_drafted_again_reads_as_what_happened_to_it(kind, details, words):
    assert event_label(SimpleNamespace(kind=kind, details=details)) == words


def test_a_position_a_timeline_event_kept_as_minus_zero_reads_as_zero():
    """Timeline events are never rewritten: one recorded a -0 position before migration 0027, and read "-0.0"."""
    assert value_text("latitude", -0.0) == "0.0" and value_text("longitude", 0.0) == "0.0"
    assert details_text({"latitude": -0.0, "longitude": 22.5}) == details_text({"latitude": 0.0, "longitude": 22.5})
