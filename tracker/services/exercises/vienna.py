"""Vienna Document 2011 checks on an exercise notice: pure functions, no database, no Flask.

From the declared figures and dates (and, when given, what our own reports saw of the exercise, and
our briefings on our own exercises) say what the Document asks and where the notice falls short,
each finding citing its paragraph. The thresholds and the paragraphs come from the configuration
(VIENNA_DOCUMENT in config/default.toml): chapter V for notification (42 days' notice, paragraph 38;
what is notifiable, paragraph 40; activities without advance notice, paragraph 41), chapter VI
for observation (paragraph 47), chapter VII for the annual calendar (paragraph 61: by 15 November of
the year before) and chapter VIII for the constraining provisions (paragraphs 70 and 71: more than 40,000
troops or 900 battle tanks only when communicated two years ahead and in the calendar). Paragraph
40.1.1 also asks for a divisional structure or at least two brigades/regiments, which the register does
not record: a declared figure at a threshold counts.

A finding is a "flag" (something is wrong or suspicious: a late notice, a figure just under a
threshold, more seen than declared) or a "note" (what applies: notifiable, subject to observation).
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from ...timeutil import format_dtg
from .vienna_rules import FIGURES, Rules, Threshold

# The register's column of each figure: the troops are the declared size.
COLUMNS = {name: ("declared_size" if name == "troops" else name) for name in FIGURES}
LABELS = {
    "troops": "troops",
    "battle_tanks": "battle tanks",
    "armoured_combat_vehicles": "armoured combat vehicles",
    "artillery_pieces": "artillery pieces (100 mm and above)",
    "airborne_troops": "airborne or amphibious troops",
    "aircraft_sorties": "combat aircraft sorties",
}
FLAG, NOTE = "flag", "note"
VIENNA_DOCUMENT = "vienna_document"  # NotifiedVia.VIENNA_DOCUMENT's value
VOLUNTARY_BRIEFING = "voluntary_briefing"  # NotifiedVia.VOLUNTARY_BRIEFING's value


@dataclass(frozen=True)
class Briefing:
    """A briefing we gave the other side on one of our own exercises."""

    briefed_at: datetime
    briefed_to: str
    via: str


@dataclass(frozen=True)
class Notice:
    """What the checks read of an exercise (see notice_of)."""

    figures: dict[str, int | None]
    starts_at: datetime
    ends_at: datetime
    notified_at: datetime | None
    notified_via: str
    snap: bool = False
    ours: bool = False
    briefings: tuple[Briefing, ...] = field(default=())
    calendar_at: datetime | None = None  # when the annual calendar listing it came (chapter VII)


@dataclass(frozen=True)
class Check:
    """One finding: a stable code, flag or note, a few words for tags, a sentence, the paragraph."""

    code: str
    severity: str
    label: str
    text: str
    paragraph: str

    @property
    def cited(self) -> str:
        return f"Vienna Document 2011, para. {self.paragraph}"

    def as_dict(self) -> dict:
        return {
            "code": self.code,
            "severity": self.severity,
            "label": self.label,
            "text": self.text,
            "paragraph": self.paragraph,
        }


# -- the checks ----------------------------------------------------------------------------------


def notice_of(exercise) -> Notice:
    """The facts of an ExerciseNotice (or anything with its attributes) the checks read."""
    # Briefings are recorded on our own exercises only: others' are not loaded.
    given = exercise.briefings if exercise.ours else ()
    briefings = tuple(Briefing(b.briefed_at, b.briefed_to, getattr(b.via, "value", b.via)) for b in given)
    return Notice(
        figures={name: getattr(exercise, column) for name, column in COLUMNS.items()},
        starts_at=exercise.starts_at,
        ends_at=exercise.ends_at,
        notified_at=exercise.notified_at,
        notified_via=getattr(exercise.notified_via, "value", exercise.notified_via),
        snap=bool(exercise.snap),
        ours=bool(exercise.ours),
        briefings=briefings,
        calendar_at=exercise.calendar_at,
    )


def _n(value: int) -> str:
    return f"{value:,}"


def _reaching(threshold: Threshold, figures: Mapping[str, int | None], names: Iterable[str]) -> str:
    return " and ".join(f"{_n(figures[n] or 0)} {LABELS[n]} (at least {_n(threshold.limits[n])})" for n in names)


def days_ahead(when: datetime, start: datetime) -> int:
    """Calendar days (UTC) from a notification or briefing to the start: the Document's 42 days count days,
    not hours, so a notice on 1 October counts 42 days ahead of a start on 12 November at any hour of each."""
    return (start.date() - when.date()).days


def _before_start(ahead: int) -> str:
    """Calendar days before the start: "40 days before the start" (or "2 days after the start")."""
    whole = abs(ahead)
    return f"{whole} day{'s' if whole != 1 else ''} {'before' if ahead >= 0 else 'after'} the start"


def check(notice: Notice, rules: Rules, observed: Sequence[Mapping] = (), now: datetime | None = None) -> list[Check]:
    """Every finding on the notice: notifiable, on time, observable, near a threshold, observed. now: a
    notification missing before it is due is a note of when it is due, not a flag (None: judged as past)."""
    figures = notice.figures
    notifying = [(t, t.reached(figures)) for t in rules.notify]
    notifiable = any(names for _, names in notifying)
    found: list[Check] = []
    for threshold, names in notifying:
        if names:
            text = f"Notifiable: {_reaching(threshold, figures, names)}."
            found.append(Check("notifiable", NOTE, "notifiable", text, threshold.paragraph))
    if notifiable and (sorties := rules.air.reached(figures)):
        text = (
            f"Air forces' participation to be included in the notification: {_reaching(rules.air, figures, sorties)}."
        )
        found.append(Check("air_participation", NOTE, "air participation notifiable", text, rules.air.paragraph))
    if notice.snap:
        found += _snap_notice(notice, rules, notifiable, now)
    elif notifiable:
        found += _prior_notice(notice, rules, now)
        found += _calendar(notice, rules)
    found += _observation(notice, rules)
    if notifiable:
        found += _constrained(notice, rules)
    found += _near(notice, rules)
    found += _observed(figures, rules, observed)
    return found


def notification_time(notice: Notice) -> datetime | None:
    """When the other side was told: the notice's time, or for our own the first briefing."""
    if notice.notified_at is not None or not notice.ours or not notice.briefings:
        return notice.notified_at
    return min(b.briefed_at for b in notice.briefings)


def _prior_notice(notice: Notice, rules: Rules, now: datetime | None) -> list[Check]:
    paragraph, days = rules.notice_paragraph, rules.notice_days
    who = "we have" if notice.ours else "the other side has"
    notified_at = notification_time(notice)
    found: list[Check] = []
    due = notice.starts_at.date() - timedelta(days=days)  # the last day a notification is in time
    if notified_at is None and now is not None and now.date() <= due:
        text = (
            f"Notifiable: notification due on {due.strftime('%d %b %Y').upper()} at the latest "
            f"({days} calendar days before the start, UTC); none on record yet."
        )
        found.append(Check("notice_due", NOTE, "notice due", text, paragraph))
    elif notified_at is None:
        text = f"Notifiable, but no notification is on record: {who} to notify at least {days} days ahead."
        found.append(Check("not_notified", FLAG, "not notified", text, paragraph))
    else:
        ahead = days_ahead(notified_at, notice.starts_at)
        if ahead < days:
            text = f"Notified late: {_before_start(ahead)}; at least {days} days are due."
            found.append(Check("notified_late", FLAG, "notified late", text, paragraph))
        else:
            text = f"Notified {_before_start(ahead)} (at least {days} days due)."
            found.append(Check("notified_in_time", NOTE, "notified in time", text, paragraph))
    vias = {notice.notified_via} if notice.notified_at is not None else set()
    vias |= {b.via for b in notice.briefings}
    if vias and VIENNA_DOCUMENT not in vias:
        how = " and ".join(sorted(v.replace("_", " ") for v in vias))
        text = f"Notifiable, but made known only by {how}, not by a Vienna Document notification."
        found.append(Check("not_notified_under_vd", FLAG, "briefing only", text, paragraph))
    # Without a notice time on record, our first briefing is the notification, judged above. A voluntary
    # briefing given after it is a courtesy the Document sets no time for: never late.
    given = sorted(notice.briefings, key=lambda b: b.briefed_at)[0 if notice.notified_at is not None else 1 :]
    for briefing in (b for b in given if b.via != VOLUNTARY_BRIEFING):
        ahead = days_ahead(briefing.briefed_at, notice.starts_at)
        if ahead < days:
            text = (
                f"Our briefing to {briefing.briefed_to} on {format_dtg(briefing.briefed_at)} came late: "
                f"{_before_start(ahead)}; at least {days} days are due."
            )
            found.append(Check("briefing_late", FLAG, "briefed late", text, paragraph))
    return found


def _snap_notice(notice: Notice, rules: Rules, notifiable: bool, now: datetime | None) -> list[Check]:
    found = [
        Check(
            "snap",
            NOTE,
            "without advance notice",
            f"Carried out without advance notice to the troops: the {rules.notice_days} days' notice does not apply.",
            rules.snap_paragraph,
        )
    ]
    if not notifiable:
        return found
    paragraph = rules.snap_notice_paragraph
    notified_at = notification_time(notice)
    if notified_at is None and now is not None and now < notice.starts_at:
        text = (
            f"Notifiable: notification is due when the troops commence the activity ({format_dtg(notice.starts_at)})."
        )
        found.append(Check("notice_due", NOTE, "notice due", text, paragraph))
    elif notified_at is None:
        text = "Notifiable and unnotified: notification is due when the troops commence the activity."
        found.append(Check("snap_not_notified", FLAG, "snap not notified", text, paragraph))
    elif notified_at > notice.starts_at:
        text = (
            f"Notified {_duration(notified_at - notice.starts_at)} after the troops commenced; "
            "notification is due when they commence."
        )
        found.append(Check("snap_notified_late", FLAG, "snap notified late", text, paragraph))
    elif notified_at < notice.starts_at:
        text = (
            f"Notified {_duration(notice.starts_at - notified_at)} before the troops commenced; due at the latest "
            "when they commence."
        )
        found.append(Check("snap_notified", NOTE, "snap notified", text, paragraph))
    else:
        text = "Notified when the troops commenced the activity, as due."
        found.append(Check("snap_notified", NOTE, "snap notified", text, paragraph))
    return found


def _duration(apart: timedelta) -> str:
    """A time apart in hours and minutes, never rounded down to nothing: "20 min", "1 h", "26 h 5 min"."""
    minutes = max(1, int(apart / timedelta(minutes=1)))
    hours, minutes = divmod(minutes, 60)
    return " ".join(part for part in (f"{hours} h" if hours else "", f"{minutes} min" if minutes else "") if part)


def _observation(notice: Notice, rules: Rules) -> list[Check]:
    found: list[Check] = []
    for threshold in rules.observe:
        names = threshold.reached(notice.figures)
        if not names:
            continue
        reaching = _reaching(threshold, notice.figures, names)
        hours = (notice.ends_at - notice.starts_at) / timedelta(hours=1)
        if notice.snap and hours <= rules.snap_observe_hours:
            text = (
                f"Without advance notice and {hours:.0f} h long: observers are not required for "
                f"{rules.snap_observe_hours} h or less, although {reaching}."
            )
            found.append(Check("snap_not_observable", NOTE, "too short to observe", text, rules.snap_observe_paragraph))
        elif notice.snap:
            text = f"Subject to observation: {reaching}, lasting more than {rules.snap_observe_hours} h."
            found.append(Check("observable", NOTE, "observable", text, rules.snap_observe_paragraph))
        else:
            found.append(
                Check("observable", NOTE, "observable", f"Subject to observation: {reaching}.", threshold.paragraph)
            )
    return found


def _constrained(notice: Notice, rules: Rules) -> list[Check]:
    """Chapter VIII: an activity over the largest thresholds is carried out only when it was announced in the
    two years before: communicated (para. 70, not recorded) and in the annual calendar (calendar_at)."""
    threshold = rules.constrain
    names = threshold.exceeded(notice.figures)
    if not names:
        return []
    year = notice.starts_at.year
    over = " and ".join(
        f"{_n(notice.figures[n] or 0)} {LABELS[n]} (more than {_n(threshold.limits[n])})" for n in names
    )
    due = rules.calendar_due(year)
    communicated = (
        f"communicated by {_day(due.replace(year=year - 2))} (para. {rules.constrain_communication_paragraph})"
    )
    if notice.calendar_at is not None and notice.calendar_at.date() > due:
        text = (
            f"Constrained: {over}. Carried out only if included in the annual calendar by {_day(due)}; the "
            f"calendar listing it came on {_day(notice.calendar_at)}."
        )
        return [Check("constrained_not_calendared", FLAG, "constrained, not calendared", text, threshold.paragraph)]
    if notice.calendar_at is not None:
        text = (
            f"Constrained: {over}. In the annual calendar by {_day(due)}, as due; carried out only if also "
            f"{communicated}, which the register does not record: check it."
        )
    else:
        text = (
            f"Constrained: {over}. Carried out only if {communicated} and included in the annual calendar by "
            f"{_day(due)}; the register records neither: check both."
        )
    return [Check("constrained", NOTE, "constrained activity", text, threshold.paragraph)]


def _day(when: date) -> str:
    return when.strftime("%d %b %Y").upper()


def _calendar(notice: Notice, rules: Rules) -> list[Check]:
    """Chapter VII: the annual calendar listing a notifiable activity is due by 15 November of the year before.
    None on record is no finding: the register may not record calendars."""
    if notice.calendar_at is None:
        return []
    year, came = notice.starts_at.year, notice.calendar_at
    due = rules.calendar_due(year)
    verb = "we sent" if notice.ours else "came"
    if came.date() > due:
        text = (
            f"Annual calendar late: the calendar listing it {verb} on {_day(came)}; the calendar for {year} "
            f"was due by {_day(due)}."
        )
        return [Check("calendar_late", FLAG, "annual calendar late", text, rules.calendar_paragraph)]
    text = f"In the annual calendar for {year}, which {verb} on {_day(came)} (due by {_day(due)})."
    return [Check("in_calendar", NOTE, "in the annual calendar", text, rules.calendar_paragraph)]


def _near(notice: Notice, rules: Rules) -> list[Check]:
    """A declared figure just under a threshold the activity does not reach otherwise: itself a signal."""
    found: list[Check] = []
    share = rules.near_percent / 100
    for kind, thresholds in (("notification", rules.notify), ("observation", rules.observe)):
        for threshold in thresholds:
            if threshold.reached(notice.figures):
                continue
            for name, limit in threshold.limits.items():
                value = notice.figures.get(name)
                if value is not None and limit * (1 - share) <= value < limit:
                    under = limit - value
                    text = (
                        f"{_n(value)} {LABELS[name]} declared: {_n(under)} ({_share(under, limit)}) under the {kind} "
                        f"threshold of {_n(limit)}."
                    )
                    found.append(
                        # Named by its figure: troops and armoured vehicles both just under one threshold read as
                        # the same flag twice on the register and the board.
                        Check(
                            "near_threshold",
                            FLAG,
                            f"{LABELS[name]} just under the {kind} threshold",
                            text,
                            threshold.paragraph,
                        )
                    )
    return found


def _share(under: int, limit: int) -> str:
    """How far under the limit, in percent to a tenth; never "0.0%" for a figure that is under it (8,999 of 9,000)."""
    share = under / limit
    return f"{share:.1%}" if share >= 0.0005 else "less than 0.1%"


def most_observed(observed: Iterable[Mapping]) -> dict[str, int]:
    """The largest figure any of our reports saw, per figure."""
    most: dict[str, int] = {}
    for seen in observed:
        for name in FIGURES:
            value = (seen or {}).get(name)
            if isinstance(value, int) and not isinstance(value, bool):
                most[name] = max(most.get(name, 0), value)
    return most


def _observed(figures: Mapping[str, int | None], rules: Rules, observed: Sequence[Mapping]) -> list[Check]:
    seen = most_observed(observed)
    if not seen:
        return []
    found: list[Check] = []
    paragraph_of = {name: t.paragraph for t in (*rules.notify, rules.air) for name in t.limits}
    for name, value in seen.items():
        declared = figures.get(name)
        if value > (declared or 0):
            against = f"{_n(declared)} declared" if declared is not None else "none declared"
            text = f"Our reports saw {_n(value)} {LABELS[name]}; {against}."
            paragraph = paragraph_of.get(name, rules.notify[0].paragraph)
            found.append(Check("observed_above_declared", FLAG, "more seen than declared", text, paragraph))
    for kind, thresholds in (("notification", rules.notify), ("observation", rules.observe)):
        for threshold in thresholds:
            if threshold.reached(figures):
                continue
            for name in threshold.reached(seen):
                text = (
                    f"Our reports saw {_n(seen[name])} {LABELS[name]}: at or above the {kind} threshold of "
                    f"{_n(threshold.limits[name])} the declaration stays under."
                )
                found.append(
                    Check("observed_over_threshold", FLAG, f"seen over the {kind} threshold", text, threshold.paragraph)
                )
    return found


def flags(checks: Iterable[Check]) -> list[Check]:
    """The findings that are flags, not notes."""
    return [c for c in checks if c.severity == FLAG]
