"""Message subjects put the marking first, then the precedence, the reference and the DTG."""

import re
from datetime import UTC, datetime

import pytest

from tracker.models import ContactChannel, Domain, EscalationRisk, Incident, NotificationKind, Precedence
from tracker.services.engine.message_text import check_text, html_part, incident_text, late_subject, subject
from tracker.services.incidents import marking
from tracker.timeutil import duration


def incident(precedence: Precedence, **overrides) -> Incident:
    """An incident built in memory only; subjects never need the database."""
    fields = {
        "reference": "INC-2017-00042",
        "precedence": precedence,
        "occurred_at": datetime(2017, 12, 6, 16, 20, tzinfo=UTC),
        "category": "unsafe_intercept",
    }
    fields.update(overrides)
    return Incident(**fields)


# An incident built in memory has no classification or release yet: its column's default, released to nobody.
MARKED = "UNCLASSIFIED // NOT RELEASABLE - "


@pytest.mark.parametrize(
    ("precedence", "prosign"),
    [
        (Precedence.FLASH, "FLASH"),
        (Precedence.IMMEDIATE, "IMMEDIATE"),
        (Precedence.PRIORITY, "PRIORITY"),
        (Precedence.ROUTINE, "ROUTINE"),
    ],
)
def test_subject_starts_with_the_marking_then_precedence_reference_and_dtg(precedence, prosign):
    text = subject(incident(precedence), NotificationKind.NOTIFIED)
    assert text.startswith(f"{MARKED}{prosign} INC-2017-00042 061620ZDEC17 "), text
    assert text == f"{MARKED}{prosign} INC-2017-00042 061620ZDEC17 unsafe intercept"


@pytest.mark.parametrize(
    ("kind", "tail"),
    [
        (NotificationKind.NOTIFIED, "unsafe intercept"),
        (NotificationKind.ESCALATED, "unsafe intercept ESCALATED"),
        (NotificationKind.EXHAUSTED, "unsafe intercept EXHAUSTED"),
    ],
)
def test_subject_ends_with_the_category_and_the_kind(kind, tail):
    assert subject(incident(Precedence.FLASH), kind) == f"{MARKED}FLASH INC-2017-00042 061620ZDEC17 {tail}"


def test_subject_dtg_is_in_zulu():
    moment = datetime.fromisoformat("2017-12-06T18:20:00+02:00")
    text = subject(incident(Precedence.PRIORITY, occurred_at=moment), NotificationKind.NOTIFIED)
    assert text.removeprefix(MARKED).split()[:3] == ["PRIORITY", "INC-2017-00042", "061620ZDEC17"], text


def test_the_subject_begins_with_the_incidents_own_marking_in_the_marking_lines_words():
    """A mail client's list shows only the subject: the marking line opened and closed the body, and the
    subject carried none, so a RESTRICTED incident looked like any other in the inbox."""
    marked = incident(Precedence.FLASH, classification="RESTRICTED", releasable_to=["Eastland", "Westland"])
    text = subject(marked, NotificationKind.ESCALATED)
    tail = "FLASH INC-2017-00042 061620ZDEC17 unsafe intercept ESCALATED"
    assert text == f"RESTRICTED // REL TO EASTLAND, WESTLAND - {tail}", text
    assert text.startswith(marking.of(marked) + " - "), "the words of the line that opens and closes the body"


def test_a_subject_stays_one_line_and_a_long_one_is_cut_at_its_end_never_at_the_marking():
    """A counterpart name from a configuration with a line break in it, and a category long enough to pass
    the stored column's 255 characters."""
    marked = incident(Precedence.FLASH, classification="RESTRICTED", releasable_to=["East\nland"], category="x" * 300)
    text = subject(marked, NotificationKind.NOTIFIED)
    assert "\n" not in text and "\r" not in text, repr(text)
    assert text.startswith("RESTRICTED // REL TO EAST LAND - FLASH INC-2017-00042 "), text
    assert len(text) == 255, len(text)


# Counterparts named at length, as a deployment releasing to many States may: the line runs past 300 characters.
MANY = [f"Republic of the Long Counterpart Name Number {n}" for n in range(7)]


@pytest.mark.parametrize("kind", [NotificationKind.NOTIFIED, NotificationKind.WATCHDOG])
def test_a_marking_too_long_for_the_subject_keeps_its_classification_and_points_to_the_text(kind):
    """A marking of about 250 characters or more was cut inside the marking ("REL TO ..., REPUBLIC OF THE LO"),
    a release list silently shortened, and the precedence and reference fell off the message list. The
    classification stands whole, the release says where it is, the rest is kept, and LATE too."""
    marked = incident(
        Precedence.FLASH,
        classification="RESTRICTED",
        releasable_to=MANY,
        reporting_unit="2nd Air Defence Squadron",
        domain=Domain.AIR,
        escalation_risk=EscalationRisk.SERIOUS,
        ladder={"steps": [{"channels": []}], "repeat": 0},
        releasability={},
    )
    assert len(marking.of(marked)) > 300
    text = subject(marked, kind)
    assert text.startswith("RESTRICTED // REL TO (SEE TEXT) - FLASH INC-2017-00042 061620ZDEC17 "), text
    assert len(text) <= 255 and "REPUBLIC" not in text, text
    late = late_subject(text)
    assert late.startswith("RESTRICTED // REL TO (SEE TEXT) - FLASH INC-2017-00042 ") and late.endswith(" LATE"), late
    body = incident_text(marked, NotificationKind.NOTIFIED, 1, 0)
    assert body.splitlines()[0] == marking.of(marked) == body.splitlines()[-1], "the text gives the whole marking"


def test_a_marking_that_fits_stays_whole_even_when_the_rest_is_cut():
    marked = incident(Precedence.FLASH, classification="RESTRICTED", releasable_to=MANY[:3], category="x" * 300)
    text = late_subject(subject(marked, NotificationKind.NOTIFIED))
    assert text.startswith(marking.of(marked) + " - FLASH INC-2017-00042 ") and text.endswith(" LATE"), text
    assert len(text) == 255, len(text)


@pytest.mark.parametrize(
    ("seconds", "said"),
    [
        (30, "30 s"),
        (45, "45 s"),
        (90, "1 min 30 s"),
        (365, "6 min 5 s"),
        (600, "10 min"),
        (7200, "2 h"),
        (9000, "2 h 30 min"),
        (172800, "2 d"),
        (90000, "1 d 1 h"),
        (93600, "1 d 2 h"),
    ],
)
def test_spans_are_said_as_staff_say_them(seconds, said):
    assert duration(seconds) == said


@pytest.mark.parametrize(
    ("kind", "tail"),
    [(NotificationKind.IDLE_REMINDER, "IDLE REMINDER"), (NotificationKind.DECISION_ASKED, "DECISION NEEDED")],
)
def test_a_reminder_and_a_question_say_so_in_the_subject(kind, tail):
    expected = f"{MARKED}FLASH INC-2017-00042 061620ZDEC17 unsafe intercept {tail}"
    assert subject(incident(Precedence.FLASH), kind) == expected


@pytest.mark.parametrize(
    ("payload", "button"),
    [
        ({"acknowledge": {"url": "https://t.test/links/ack/x"}}, ("https://t.test/links/ack/x", "Acknowledge")),
        (
            {"acknowledge": None, "page": "https://t.test/incidents/INC-1"},
            ("https://t.test/incidents/INC-1", "Open the incident"),
        ),
        ({"event": "exchange.message"}, None),  # to the other side: no button of ours
    ],
)
def test_the_html_part_frames_the_stored_text_with_the_button_its_facts_name(payload, button):
    part = html_part("PRIORITY INC-1", "Line one <b>not bold</b>\nLine two", payload)
    assert "Line one &lt;b&gt;not bold&lt;/b&gt;\nLine two" in part, part
    links = re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', part)
    assert links == ([button] if button else []), part


def test_a_lone_surrogate_in_stored_text_reaches_the_message_as_a_replacement_character():
    # Stored before inputs refused it (tracker.text): the message must still be sendable as UTF-8.
    stored = incident(
        Precedence.FLASH,
        narrative="Closed to 30 m\ud800 then broke off",
        reporting_unit="Unit\udfff",
        domain=Domain.AIR,
        escalation_risk=EscalationRisk.SERIOUS,
        ladder={"steps": [{"channels": []}], "repeat": 0},
        releasability={},
        releasable_to=[],
    )
    body = incident_text(stored, NotificationKind.NOTIFIED, 1, 0)
    assert "Closed to 30 m\ufffd then broke off" in body and "Unit\ufffd" in body, body
    body.encode()  # raises UnicodeEncodeError if a surrogate got through
    framed = html_part("FLASH INC-1", "Text \ud800 here", {})
    assert "Text \ufffd here" in framed, framed


def on_ladder(steps: list[dict], repeat: int, **overrides) -> Incident:
    """An incident with a running deadline on a ladder of the given steps, for the text of its calls to act."""
    return incident(
        Precedence.IMMEDIATE,
        narrative="Closed to 30 m.",
        reporting_unit="Border Guard Post 7",
        domain=Domain.AIR,
        escalation_risk=EscalationRisk.SERIOUS,
        ladder={"steps": steps, "repeat": repeat},
        releasability={},
        releasable_to=[],
        next_escalation_at=datetime(2017, 12, 6, 16, 50, tzinfo=UTC),
        **overrides,
    )


TWO_STEPS = [{"channels": []}, {"channels": []}]


@pytest.mark.parametrize(
    ("steps", "repeat", "step", "loop", "then"),
    [
        (TWO_STEPS, 0, 1, 0, "or it escalates."),
        (TWO_STEPS, 0, 2, 0, "or nobody is left on the ladder: it is marked exhausted and the supervisors are told."),
        (TWO_STEPS, 1, 2, 0, "or step 2 is called again."),
        (TWO_STEPS, 1, 2, 1, "or nobody is left on the ladder: it is marked exhausted and the supervisors are told."),
        (
            [{"channels": []}, {"channels": [], "by_decision": True}],
            0,
            1,
            0,
            "or the supervisors are asked to confirm step 2.",
        ),
    ],
)
def test_a_call_to_act_says_what_its_deadline_brings_on_the_step_it_is_on(steps, repeat, step, loop, then):
    # The last step of a ladder has nothing above it: "or it escalates" told its line a step that never comes.
    kind = NotificationKind.NOTIFIED if step == 1 else NotificationKind.ESCALATED
    body = incident_text(on_ladder(steps, repeat), kind, step, loop)
    assert f"Acknowledge by 061650ZDEC17 (2017-12-06T16:50:00Z) {then}\n" in body, body


@pytest.mark.parametrize(
    ("escalates", "said"),
    [
        (True, "The step reached nobody: it escalates at once instead of waiting out its timer."),
        (False, "Nothing escalates because of it: another line of the step was reached, or the message asked"),
    ],
)
def test_a_dead_letter_says_whether_the_step_escalates_at_once(escalates, said):
    # It said "the step escalates at once" of every message given up on, also when another line of the step
    # had been reached, or the message was news asking no one to act: the supervisors waited for a step.
    body = incident_text(
        on_ladder(TWO_STEPS, 0),
        NotificationKind.DEAD_LETTER,
        1,
        0,
        failed_channel="L1",
        failed_error="550 no such mailbox",
        failed_escalates=escalates,
    )
    assert said in body and "Last error: 550 no such mailbox" in body, body


def test_a_communications_check_gives_its_deadline_as_a_dtg_and_in_utc():
    line = ContactChannel(name="L1", address="l1@test.example")
    text = check_text(line, "https://tracker.test/checks/x", datetime(2017, 12, 6, 16, 35, 9, tzinfo=UTC), 900)
    assert "within 15 min (by 061635ZDEC17, 2017-12-06T16:35:09Z):" in text, text


@pytest.mark.parametrize(
    ("transport", "address", "secret", "shown"),
    [
        (
            "webhook",
            "https://hooks.test.example/services/T0/B0/HOOKSECRET",
            "HOOKSECRET",
            "https://hooks.test.example/[path withheld]",
        ),
        ("apprise", "tgram://123456:BOTSECRET/987", "BOTSECRET", "tgram://[withheld]"),
    ],
)
def test_a_communications_check_never_states_a_line_address_that_holds_a_credential(transport, address, secret, shown):
    """The check's text reaches whoever reads the line (a chat room behind a hook, an SMS gateway's log): it
    names the line by its address with the credential withheld, as the pages and the change record do."""
    line = ContactChannel(name="Hook desk", transport=transport, address=address)
    text = check_text(line, "https://tracker.test/checks/x", datetime(2017, 12, 6, 16, 35, 9, tzinfo=UTC), 900)
    assert secret not in text and f'"Hook desk" ({shown})' in text, text


def test_a_communications_check_names_an_e_mail_line_by_its_address():
    line = ContactChannel(name="L1", transport="email", address="l1@test.example")
    text = check_text(line, "https://tracker.test/checks/x", datetime(2017, 12, 6, 16, 35, 9, tzinfo=UTC), 900)
    assert 'line "L1" (l1@test.example)' in text, text
