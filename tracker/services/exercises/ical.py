"""The iCalendar feed of notified exercises (RFC 5545, written with the icalendar package).

One VEVENT per exercise: a UID that never changes (exercise-<id>@<host>), start and end in UTC (the
end as RFC 5545 reads DTEND: the first moment after the exercise, see exclusive_end),
the states and the name as the summary, size and notification in the description (then each
Vienna Document flag with its paragraph, also one CATEGORIES entry per kind of flag), the centre
(a circle's, or a polygon's centroid) as GEO and in words as LOCATION. LAST-MODIFIED is the time of
the last recorded change (else of entry) and SEQUENCE the number of changes. A flag from what our own
reports saw (more seen than declared, seen over a threshold) is incident content: its event carries
the marking of those reports.

Calendar clients cannot send a bearer token, so the feed also takes a signed key in its URL
(itsdangerous via LinkSigner, purpose "feed"), issued to a signed-in user on the Exercises page.
"""

import hashlib
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from ...errors import Unauthorized
from ...geo import Position
from ...models import ExerciseBriefing, ExerciseNotice, User
from ...text import scalar, visible
from ...timeutil import format_dtg, parse_moment
from ..engine.links import LinkRefused, LinkSigner
from ..incidents import marking
from .area import centre_of
from .validity import VIA_LABELS
from .vienna import COLUMNS, LABELS, Check, flags

if TYPE_CHECKING:  # icalendar is imported when a feed is written, not by every process that imports this
    from icalendar import Event

FEED = "feed"
# The findings that say what our own reports saw (vienna._observed): incident content, marked as such.
FROM_OUR_REPORTS = ("observed_above_declared", "observed_over_threshold")
PRODID = "-//Incident and de-escalation tracker//Exercise notices//EN"


def calendar(
    exercises: list[ExerciseNotice],
    host: str,
    now: datetime,
    checks: Mapping[int, list[Check]] | None = None,
    marked: Mapping[int, str] | None = None,
) -> bytes:
    """The exercises as an iCalendar document; checks (exercise id -> Vienna Document findings) add
    each flag to the description and to the categories. marked (exercise id -> the marking of what our
    reports saw of it: checks.observed_marking) marks an event whose flags say what our reports saw."""
    from icalendar import Calendar

    document = Calendar()
    document.add("prodid", PRODID)
    document.add("version", "2.0")
    document.add("calscale", "GREGORIAN")
    document.add("method", "PUBLISH")
    document.add("x-wr-calname", "Notified exercises")
    for exercise in exercises:
        found = flags((checks or {}).get(exercise.id, []))
        seen = (marked or {}).get(exercise.id) if any(c.code in FROM_OUR_REPORTS for c in found) else None
        document.add_component(_event(exercise, host, now, found, seen))
    return document.to_ical()


def _event(exercise: ExerciseNotice, host: str, now: datetime, found: list[Check], marked: str | None) -> "Event":
    """One exercise's VEVENT. marked: the marking of our reports' findings it carries, which then opens its
    summary (the one line a calendar's list shows, as an e-mail's subject) and its description opens and
    closes with it (as an e-mail's text); an event with nothing from our reports is the notice alone."""
    from icalendar import Event

    latitude, longitude = centre_of(exercise)
    event = Event()
    event.add("uid", f"exercise-{exercise.id}@{host}")
    event.add("dtstamp", now)
    event.add("dtstart", exercise.starts_at)
    event.add("dtend", exclusive_end(exercise.ends_at))
    summary, text = f"{exercise.name} ({_states(exercise)})", description(exercise, found)
    if marked:
        summary, text = marking.subject(marked, summary), f"{marked}\n\n{text}\n\n{marked}"
    # A calendar shows a name or a note kept with a bidirectional control reordered: it gets its marker.
    event.add("summary", visible(summary))
    event.add("description", visible(text))
    event.add("location", location(exercise, latitude, longitude))
    event.add("geo", (round(latitude, 6), round(longitude, 6)))
    # When last revised and how often (RFC 5545 3.8.7.3, 3.8.7.4): a calendar keeps an event by these, and
    # dates the other side moved must reach it.
    event.add(
        "last-modified", parse_moment(changes[-1]["at"]) if (changes := exercise.changes) else exercise.created_at
    )
    event.add("sequence", len(exercise.changes or []))
    # One category per kind of flag ("Vienna Document: notified late (para. 38)"), so a calendar can filter.
    cited = dict.fromkeys(f"Vienna Document: {c.label} (para. {c.paragraph})" for c in found)
    event.add("categories", ["Exercise notice", *(["Our exercise"] if exercise.ours else []), *cited])
    event.add("transp", "TRANSPARENT")  # someone else's exercise does not make us busy
    return event


def exclusive_end(last: datetime) -> datetime:
    """DTEND for an exercise whose last moment is last: the first whole second after it.

    An exercise holds both its ends ([starts_at, ends_at], register.py), while RFC 5545 (3.6.1, 3.8.2.2)
    leaves DTEND out of the event, and a DATE-TIME has no fraction of a second (the icalendar package
    drops it): the last moment itself, 18:00:00 or 18:00:00.5, must lie before DTEND, so 18:00:01.
    DTSTART needs nothing: written without its fraction it is at or before the start.
    """
    return last.replace(microsecond=0) + timedelta(seconds=1)


def _states(exercise: ExerciseNotice) -> str:
    # scalar: states typed before inputs refused lone surrogates (tracker.text) are shown as U+FFFD.
    return scalar(", ".join(exercise.states))


def description(exercise: ExerciseNotice, found: Sequence[Check] = ()) -> str:
    """The notice in a few lines of plain text, then each Vienna Document flag with its paragraph."""
    size = f"{exercise.declared_size:,} troops declared" if exercise.declared_size is not None else "size not declared"
    others = ", ".join(
        f"{getattr(exercise, column):,} {LABELS[name]}"
        for name, column in COLUMNS.items()
        if name != "troops" and getattr(exercise, column) is not None
    )
    lines = [f"States: {_states(exercise)}", f"Size: {size}" + (f"; {others}" if others else "")]
    lines.append(_notification(exercise))
    if exercise.calendar_at is not None:
        lines.append(f"In the annual calendar of {_when(exercise.calendar_at)}")
    if exercise.snap:
        lines.append("Carried out without advance notice to the troops (snap)")
    if exercise.ours:
        lines.append("Our own exercise")
    if exercise.notes:
        lines.append(exercise.notes)
    if found:
        lines.append("Vienna Document 2011 flags:")
        lines += [f"- {c.text} (para. {c.paragraph})" for c in found]
    return "\n".join(lines)


def _notification(exercise: ExerciseNotice) -> str:
    """How and when the other side was told, never "notified" of a notice not on record: ours without a notice
    time are notified by our first briefing (vienna.notification_time)."""
    via = VIA_LABELS[exercise.notified_via]
    given: list[ExerciseBriefing] = exercise.briefings if exercise.ours else []  # type: ignore[attr-defined]  # a backref
    first = min(given, key=lambda b: b.briefed_at) if given else None
    if exercise.notified_at is None and first is not None:
        how = VIA_LABELS[first.via]
        return f"First briefed by us by {how}, {_when(first.briefed_at)} (to {scalar(first.briefed_to)})"
    if exercise.notified_at is None:
        return f"No notification on record ({via})"
    notified = f"Notified by {via}, {_when(exercise.notified_at)}"
    who = [f"by {scalar(exercise.notified_by)}" if exercise.notified_by else ""]
    who += [f"to {scalar(exercise.notified_to)}" if exercise.notified_to else ""]
    return notified + (f" ({' '.join(filter(None, who))})" if any(who) else "")


def _when(moment: datetime) -> str:
    return f"{format_dtg(moment)} ({moment:%Y-%m-%d %H:%M}Z)"


def location(exercise: ExerciseNotice, latitude: float, longitude: float) -> str:
    """Where, in words: the circle, or the polygon by its centroid."""
    centre = Position(latitude, longitude, "")
    try:
        words = f"{centre.decimal} (MGRS {centre.mgrs})"
    except Exception:  # mgrs raises several types; MGRS has no square near the poles
        words = centre.decimal
    if exercise.area is None:
        return f"within {exercise.radius_km:g} km of {words}"
    return f"polygon area around {words}"


def feed_key(signer: LinkSigner, user: User) -> str:
    """A signed key that lets a calendar client read the feed as user (it cannot send a bearer token).

    It carries a digest of the user's id and password hash, so a new password, like deactivation, ends it.
    """
    return signer.issue(FEED, user=user.id, stamp=_stamp(user))


def _stamp(user: User) -> str:
    # A digest, not a piece of the password hash: the URL carries (readable, if signed) claims, and no
    # piece of a password hash belongs in a calendar's settings.
    # The epoch counts deactivations: a link issued before one does not come back with the account.
    epoch = f":{user.credentials_epoch}" if user.credentials_epoch else ""  # links issued before 0018 stay valid
    return hashlib.sha256(f"{user.id}:{user.password_hash}{epoch}".encode()).hexdigest()[:16]


def feed_reader(session: Session, signer: LinkSigner, key: str, now: datetime) -> User:
    """The active user a genuine, unexpired feed key was issued to; raise Unauthorized otherwise."""
    try:
        claims = signer.read(FEED, key, now)
    except LinkRefused as refused:
        raise Unauthorized(f"the feed link is not valid: {refused.message}", {"reason": refused.reason}) from None
    user_id = claims.get("user")
    user = session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or not user.active or _stamp(user) != claims.get("stamp"):
        raise Unauthorized("the feed link is no longer valid: copy a new one from the Exercises page", {})
    return user
