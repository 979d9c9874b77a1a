"""The Vienna Document 2011 checks on exercise notices (services.exercises.vienna), against a table of
cases with the flags and notes each must give, and the paragraph each cites.

The rules are the committed configuration's (config/default.toml, VIENNA_DOCUMENT): the paragraphs
expected here are the Document's, so a wrong citation in the configuration fails these tests too.
"""

import tomllib
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tracker.services.exercises import vienna, vienna_rules

DEFAULTS = Path(__file__).resolve().parents[2] / "config" / "default.toml"
RULES = vienna_rules.rules_from(tomllib.loads(DEFAULTS.read_text())["VIENNA_DOCUMENT"])
START = datetime(2026, 9, 1, 6, 0, tzinfo=UTC)


def days(n: float) -> datetime:
    """n days before the start (negative: after it)."""
    return START - timedelta(days=n)


def notice(
    troops=None,
    notified=None,
    via="vienna_document",
    hours=5 * 24,
    snap=False,
    ours=False,
    briefings=(),
    **figures,
) -> vienna.Notice:
    return vienna.Notice(
        figures={name: figures.get(name) for name in vienna_rules.FIGURES} | {"troops": troops},
        starts_at=START,
        ends_at=START + timedelta(hours=hours),
        notified_at=None if notified is None else days(notified),
        notified_via=via,
        snap=snap,
        ours=ours,
        briefings=tuple(vienna.Briefing(days(ahead), "Eastland attaché", how) for ahead, how in briefings),
    )


# (case, notice, observed forces of our reports, expected flags, expected notes): (code, paragraph) each.
CASES = [
    (
        "20,000 troops notified 9 days ahead",
        notice(20_000, notified=9),
        [],
        {("notified_late", "38")},
        {("notifiable", "40.1.1"), ("observable", "47.4")},
    ),
    (
        "9,500 troops notified 40 days ahead (the demo's exercise)",
        notice(9_500, notified=40),
        [],
        {("notified_late", "38")},
        {("notifiable", "40.1.1")},
    ),
    (
        "12,700 troops declared against the 13,000 observation threshold (Zapad-2017)",
        notice(12_700, notified=60),
        [],
        {("near_threshold", "47.4")},
        {("notifiable", "40.1.1"), ("notified_in_time", "38")},
    ),
    (
        "12,800 troops declared (Zapad-2021)",
        notice(12_800, notified=60),
        [],
        {("near_threshold", "47.4")},
        {("notifiable", "40.1.1"), ("notified_in_time", "38")},
    ),
    (
        "250 battle tanks and 2,000 troops: notifiable by the tanks",
        notice(2_000, notified=45, battle_tanks=250),
        [],
        set(),
        {("notifiable", "40.1.1"), ("notified_in_time", "38")},
    ),
    (
        "an unnotified snap exercise of 15,000 troops over four days",
        notice(15_000, snap=True, hours=96),
        [],
        {("snap_not_notified", "41.1")},
        {("notifiable", "40.1.1"), ("snap", "41"), ("observable", "47.7")},
    ),
    (
        "our own exercise notified 50 days ahead, briefed the same day",
        notice(10_000, notified=50, ours=True, briefings=[(50, "vienna_document")]),
        [],
        set(),
        {("notifiable", "40.1.1"), ("notified_in_time", "38")},
    ),
    (
        "our own exercise notified 50 days ahead, then a briefing 30 days ahead: late for us too",
        notice(10_000, notified=50, ours=True, briefings=[(50, "vienna_document"), (30, "bilateral_briefing")]),
        [],
        {("briefing_late", "38")},
        {("notifiable", "40.1.1"), ("notified_in_time", "38")},
    ),
    (
        "our own exercise with no notice but a briefing 44 days ahead: the briefing is the notification",
        notice(9_000, ours=True, briefings=[(44, "vienna_document")]),
        [],
        set(),
        {("notifiable", "40.1.1"), ("notified_in_time", "38")},
    ),
    (
        "our own exercise with no notice and one briefing 30 days ahead: that briefing is the late notification",
        notice(9_000, ours=True, briefings=[(30, "vienna_document")]),
        [],
        {("notified_late", "38")},
        {("notifiable", "40.1.1")},
    ),
    (
        "our own exercise briefed 44 days ahead, then bilaterally 20 days ahead: only the second is late",
        notice(9_000, ours=True, briefings=[(20, "bilateral_briefing"), (44, "vienna_document")]),
        [],
        {("briefing_late", "38")},
        {("notifiable", "40.1.1"), ("notified_in_time", "38")},
    ),
    (
        "our own exercise notified 44 days ahead, then a voluntary briefing 20 days ahead: a courtesy, not late",
        notice(9_000, ours=True, briefings=[(20, "voluntary_briefing"), (44, "vienna_document")]),
        [],
        set(),
        {("notifiable", "40.1.1"), ("notified_in_time", "38")},
    ),
    (
        "our own exercise notified 50 days ahead, then a voluntary briefing 2 days after the start",
        notice(10_000, notified=50, ours=True, briefings=[(-2, "voluntary_briefing")]),
        [],
        set(),
        {("notifiable", "40.1.1"), ("notified_in_time", "38")},
    ),
    (
        "exactly 42 days and exactly 9,000 troops: in time and notifiable",
        notice(9_000, notified=42),
        [],
        set(),
        {("notifiable", "40.1.1"), ("notified_in_time", "38")},
    ),
    (
        "exactly 13,000 troops: observable, not near",
        notice(13_000, notified=42),
        [],
        set(),
        {("notifiable", "40.1.1"), ("notified_in_time", "38"), ("observable", "47.4")},
    ),
    (
        "11,700 troops: exactly 10 % under 13,000",
        notice(11_700, notified=42),
        [],
        {("near_threshold", "47.4")},
        {("notifiable", "40.1.1"), ("notified_in_time", "38")},
    ),
    (
        "11,699 troops: more than 10 % under 13,000",
        notice(11_699, notified=42),
        [],
        set(),
        {("notifiable", "40.1.1"), ("notified_in_time", "38")},
    ),
    (
        "8,600 troops: just under notification, so nothing is due, but the figure is a signal",
        notice(8_600),
        [],
        {("near_threshold", "40.1.1")},
        set(),
    ),
    (
        "notifiable and never notified",
        notice(10_000),
        [],
        {("not_notified", "38")},
        {("notifiable", "40.1.1")},
    ),
    (
        "notified two days after the start",
        notice(10_000, notified=-2),
        [],
        {("notified_late", "38")},
        {("notifiable", "40.1.1")},
    ),
    (
        "notifiable but made known only by a bilateral briefing",
        notice(10_000, notified=45, via="bilateral_briefing"),
        [],
        {("not_notified_under_vd", "38")},
        {("notifiable", "40.1.1"), ("notified_in_time", "38")},
    ),
    (
        "a parachute assault of 3,200 troops: notifiable, near the 3,500 observation threshold",
        notice(3_200, notified=45, airborne_troops=3_200),
        [],
        {("near_threshold", "47.5")},
        {("notifiable", "40.2.1"), ("notified_in_time", "38")},
    ),
    (
        "220 sorties with a notifiable land exercise: the air participation belongs in the notification",
        notice(9_500, notified=45, aircraft_sorties=220),
        [],
        set(),
        {("notifiable", "40.1.1"), ("notified_in_time", "38"), ("air_participation", "40.1.2")},
    ),
    (
        "a snap exercise notified when it began, 48 hours long: too short to observe",
        notice(14_000, notified=0, snap=True, hours=48),
        [],
        set(),
        {("notifiable", "40.1.1"), ("snap", "41"), ("snap_notified", "41.1"), ("snap_not_observable", "47.7")},
    ),
    (
        "a snap exercise notified six hours after it began",
        notice(9_000, notified=-0.25, snap=True, hours=48),
        [],
        {("snap_notified_late", "41.1")},
        {("notifiable", "40.1.1"), ("snap", "41")},
    ),
    (
        "a snap exercise under every threshold needs no notification",
        notice(3_000, snap=True),
        [],
        set(),
        {("snap", "41")},
    ),
    (
        "12,700 declared, our reports saw 14,000: above the declaration and over the observation threshold",
        notice(12_700, notified=60),
        [{"troops": 9_000}, {"troops": 14_000, "battle_tanks": 40}],
        {
            ("near_threshold", "47.4"),
            ("observed_above_declared", "40.1.1"),
            ("observed_over_threshold", "47.4"),
        },
        {("notifiable", "40.1.1"), ("notified_in_time", "38")},
    ),
    (
        "5,000 declared, no tanks declared, our reports saw 260: over the notification threshold",
        notice(5_000),
        [{"battle_tanks": 260}],
        {("observed_above_declared", "40.1.1"), ("observed_over_threshold", "40.1.1")},
        set(),
    ),
    (
        "our reports saw fewer than declared: nothing to say",
        notice(9_500, notified=45),
        [{"troops": 6_000}],
        set(),
        {("notifiable", "40.1.1"), ("notified_in_time", "38")},
    ),
]


@pytest.mark.parametrize(("case", "given", "observed", "flags", "notes"), CASES, ids=[case[0] for case in CASES])
def test_checks_give_the_expected_flags_each_citing_its_paragraph(case, given, observed, flags, notes):
    found = vienna.check(given, RULES, observed)
    got_flags = {(c.code, c.paragraph) for c in found if c.severity == vienna.FLAG}
    got_notes = {(c.code, c.paragraph) for c in found if c.severity == vienna.NOTE}
    detail = "\n".join(f"  {c.severity} {c.code} ({c.paragraph}): {c.text}" for c in found)
    assert got_flags == flags, f"{case}: flags {got_flags}, expected {flags}\n{detail}"
    assert got_notes == notes, f"{case}: notes {got_notes}, expected {notes}\n{detail}"
    assert all(c.text and c.label and c.paragraph for c in found), f"{case}: a finding without words\n{detail}"


@pytest.mark.parametrize(
    ("now", "snap", "finding"),
    [
        (days(43), False, (vienna.NOTE, "notice_due", "38")),  # 43 days before the start: not due yet
        (days(42), False, (vienna.NOTE, "notice_due", "38")),  # the last day to notify in time
        (days(41), False, (vienna.FLAG, "not_notified", "38")),  # past due, and none on record
        (days(1), True, (vienna.NOTE, "notice_due", "41.1")),  # a snap exercise: due when the troops commence
        (days(0), True, (vienna.FLAG, "snap_not_notified", "41.1")),
    ],
)
def test_a_notification_not_yet_due_is_a_note_of_when_it_is_due_not_a_flag(now, snap, finding):
    found = vienna.check(notice(10_000, snap=snap, hours=96), RULES, (), now)
    got = {(c.severity, c.code, c.paragraph) for c in found if c.code.startswith(("not_", "snap_not", "notice_"))}
    assert got == {finding}, [(c.severity, c.code, c.text) for c in found]
    if finding[1] == "notice_due":
        [due] = [c for c in found if c.code == "notice_due"]
        assert ("due on 21 JUL 2026 at the latest" if not snap else "010600ZSEP26") in due.text, due.text


@pytest.mark.parametrize(
    ("notified_at", "code", "words"),
    [
        # Start 1 Sep 06:00 UTC; 21 Jul is 42 calendar days before it, at any hour of either day.
        (datetime(2026, 7, 21, 23, 59, tzinfo=UTC), "notified_in_time", "Notified 42 days before the start"),
        (datetime(2026, 7, 21, 0, 0, tzinfo=UTC), "notified_in_time", "Notified 42 days before the start"),
        (datetime(2026, 7, 22, 0, 1, tzinfo=UTC), "notified_late", "Notified late: 41 days before the start"),
    ],
)
def test_the_42_days_are_calendar_days_not_hours(notified_at, code, words):
    """A notice given on the afternoon of the 42nd day before a morning start is in time (it was judged
    late to the hour, and said "41 days" of a notice the desk dated 42 days ahead)."""
    found = vienna.check(replace(notice(10_000), notified_at=notified_at), RULES)
    [timing] = [c for c in found if c.code.startswith("notified_")]
    assert (timing.code, words in timing.text) == (code, True), (notified_at, timing.code, timing.text)


def test_late_notice_says_how_many_days_and_how_many_are_due():
    (late,) = [c for c in vienna.check(notice(9_500, notified=40), RULES) if c.code == "notified_late"]
    assert "40 days before the start" in late.text and "42" in late.text, late.text
    assert late.cited == "Vienna Document 2011, para. 38", late.cited


def test_near_threshold_says_by_how_much():
    (near,) = [c for c in vienna.check(notice(12_700, notified=60), RULES) if c.code == "near_threshold"]
    assert near.text.startswith("12,700 troops declared: 300 (2.3%) under the observation threshold of 13,000"), (
        near.text
    )


def test_thresholds_come_from_the_configuration():
    stricter = vienna_rules.rules_from(
        {
            **tomllib.loads(DEFAULTS.read_text())["VIENNA_DOCUMENT"],
            "NOTICE": {"days": 30, "paragraph": "38"},
            "NEAR_PERCENT": 0,
        }
    )
    found = {(c.code, c.paragraph) for c in vienna.check(notice(12_700, notified=35), stricter)}
    assert ("notified_in_time", "38") in found and ("near_threshold", "47.4") not in found, found


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"NOTICE": {"days": 42}}, "NOTICE must cite its paragraph"),
        ({"NOTICE": {"days": 0, "paragraph": "38"}}, "NOTICE.days must be a positive whole number"),
        ({"NOTIFY": []}, "NOTIFY must be a list"),
        ({"OBSERVE": [{"paragraph": "47.4", "tanks": 300}]}, "OBSERVE[0] must give one or more of"),
        ({"NEAR_PERCENT": 100}, "NEAR_PERCENT must be a number from 0"),
        ({"SNAP": {"paragraph": "41"}}, "notice_paragraph"),
        ({"LOG_LEVEL": "INFO"}, "is a top-level setting written under its table?"),
        ({"CONSTRAIN": {"paragraph": "71", "troops": 40000}}, "communication_paragraph"),
        ({"CALENDAR": {"paragraph": "61", "month": 11, "day": 31}}, "CALENDAR must give a day of the year"),
        ({"CALENDAR": {"month": 11, "day": 15}}, "CALENDAR must cite its paragraph"),
    ],
)
def test_a_wrong_table_is_refused_saying_what_is_wrong(change, complaint):
    table = {**tomllib.loads(DEFAULTS.read_text())["VIENNA_DOCUMENT"], **change}
    with pytest.raises(ValueError, match=None) as refused:
        vienna_rules.rules_from(table)
    assert complaint in str(refused.value), str(refused.value)


@pytest.mark.parametrize(
    ("late_by", "words"),
    [
        (timedelta(minutes=20), "Notified 20 min after the troops commenced"),
        (timedelta(minutes=59, seconds=50), "Notified 59 min after the troops commenced"),
        (timedelta(hours=1), "Notified 1 h after the troops commenced"),
        (timedelta(hours=26, minutes=5), "Notified 26 h 5 min after the troops commenced"),
    ],
)
def test_a_snap_notice_given_after_the_troops_commenced_says_how_late(late_by, words):
    """Paragraph 41.1: notified when the troops commence. A notice 20 minutes after was flagged late, rightly,
    but said "Notified 0 h after the troops commenced": a flag whose words deny it."""
    found = vienna.check(replace(notice(10_000, snap=True), notified_at=START + late_by), RULES)
    [late] = [c for c in found if c.code == "snap_notified_late"]
    assert late.text.startswith(words) and late.paragraph == "41.1", late.text


@pytest.mark.parametrize(
    ("figures", "constrained"),
    [
        ({"troops": 40_000}, False),  # "more than 40,000": at 40,000 the constraint does not apply
        ({"troops": 40_001}, True),
        ({"troops": 12_000, "battle_tanks": 900}, False),
        ({"troops": 12_000, "battle_tanks": 901}, True),  # the "or": tanks alone make it constrained
    ],
)
def test_an_activity_over_40000_troops_or_900_tanks_must_have_been_announced_two_years_ahead(figures, constrained):
    """Chapter VIII: an activity involving more than 40,000 troops or 900 battle tanks is carried out only if
    communicated by 15 November of the second year before (para. 70) and in the annual calendar by 15 November
    of the year before (para. 71). The checks said nothing of it: 45,000 troops read as merely observable."""
    found = vienna.check(replace(notice(notified=60), figures=notice().figures | figures), RULES)
    got = [c for c in found if c.code == "constrained"]
    assert bool(got) is constrained, [(c.code, c.text) for c in found]
    if constrained:
        [note] = got
        assert (note.severity, note.paragraph) == (vienna.NOTE, "71"), note
        # START is 1 September 2026: communicated by 15 Nov 2024, in the calendar of 15 Nov 2025.
        assert "15 NOV 2024 (para. 70)" in note.text and "15 NOV 2025" in note.text, note.text


@pytest.mark.parametrize(
    ("calendar_at", "ours", "finding", "words"),
    [
        # START is 1 September 2026: its annual calendar was due by 15 November 2025 (para. 61).
        (datetime(2025, 11, 15, 23, 59, tzinfo=UTC), False, (vienna.NOTE, "in_calendar"), "came on 15 NOV 2025"),
        (datetime(2025, 11, 16, 0, 0, tzinfo=UTC), False, (vienna.FLAG, "calendar_late"), "came on 16 NOV 2025"),
        (datetime(2026, 1, 10, 9, 0, tzinfo=UTC), True, (vienna.FLAG, "calendar_late"), "we sent on 10 JAN 2026"),
        (None, False, None, ""),  # none on record: no finding, the register may not keep calendars
    ],
)
def test_an_annual_calendar_after_15_november_of_the_year_before_is_late(calendar_at, ours, finding, words):
    """Chapter VII, para. 61: the annual calendar of the activities subject to prior notification is exchanged
    not later than 15 November for the following year. The register had no place for it, so a calendar sent
    late went unremarked."""
    found = vienna.check(replace(notice(10_000, notified=60, ours=ours), calendar_at=calendar_at), RULES)
    got = [c for c in found if c.code in ("in_calendar", "calendar_late")]
    assert [(c.severity, c.code) for c in got] == ([finding] if finding else []), [(c.code, c.text) for c in found]
    if finding:
        assert words in got[0].text and "due by 15 NOV 2025" in got[0].text and got[0].paragraph == "61", got[0]


def test_a_snap_or_unnotifiable_activity_is_not_held_to_the_calendar():
    late = datetime(2026, 1, 10, tzinfo=UTC)
    for given in (notice(10_000, snap=True, hours=24), notice(5_000, notified=60)):
        found = vienna.check(replace(given, calendar_at=late), RULES)
        assert not [c for c in found if "calendar" in c.code], [(c.code, c.text) for c in found]


@pytest.mark.parametrize(
    ("calendar_at", "finding"),
    [
        (None, (vienna.NOTE, "constrained")),
        (datetime(2025, 11, 1, tzinfo=UTC), (vienna.NOTE, "constrained")),
        (datetime(2025, 12, 1, tzinfo=UTC), (vienna.FLAG, "constrained_not_calendared")),
    ],
)
def test_a_constrained_activity_not_in_the_calendar_by_15_november_is_flagged(calendar_at, finding):
    """Para. 71: over 40,000 troops only if included in the annual calendar not later than 15 November."""
    found = vienna.check(replace(notice(45_000, notified=60), calendar_at=calendar_at), RULES)
    got = [(c.severity, c.code, c.paragraph) for c in found if c.code.startswith("constrained")]
    assert got == [(*finding, "71")], [(c.code, c.text) for c in found]


@pytest.mark.parametrize(
    ("early_by", "words"),
    [
        (timedelta(0), "Notified when the troops commenced the activity, as due."),
        (timedelta(hours=30), "Notified 30 h before the troops commenced; due at the latest when they commence."),
    ],
)
def test_a_snap_notice_given_before_the_troops_commenced_says_so(early_by, words):
    """Para. 41.1: notified at the latest when the troops commence. A snap notice given a day ahead read "Notified
    when the troops commenced the activity", a time the record contradicts."""
    found = vienna.check(replace(notice(10_000, snap=True), notified_at=START - early_by), RULES)
    [given] = [c for c in found if c.code == "snap_notified"]
    assert (given.severity, given.text) == (vienna.NOTE, words), given


@pytest.mark.parametrize(
    ("declared", "words"),
    [
        (8_999, "8,999 troops declared: 1 (less than 0.1%) under the notification threshold of 9,000"),
        (8_996, "8,996 troops declared: 4 (less than 0.1%) under the notification threshold of 9,000"),
        (8_995, "8,995 troops declared: 5 (0.1%) under the notification threshold of 9,000"),
        (12_999, "12,999 troops declared: 1 (less than 0.1%) under the observation threshold of 13,000"),
    ],
)
def test_a_figure_one_under_a_threshold_is_never_said_to_be_0_percent_under(declared, words):
    (near,) = [c for c in vienna.check(notice(declared, notified=60), RULES) if c.code == "near_threshold"]
    assert near.text.startswith(words), near.text
