"""The text of each kind of message, from the Jinja2 templates in tracker/templates/messages
(rendering.py puts an outbox row's together when it is queued)."""

from datetime import datetime
from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined, Template, select_autoescape

from ...channels import withheld
from ...models import ContactChannel, Incident, NotificationKind, Precedence
from ...models.enums import category_label
from ...models.labels import label
from ...text import scalar
from ...timeutil import duration, format_dtg, isoformat
from ..incidents import amendment_record, marking

PROSIGN = {
    Precedence.FLASH: "FLASH",
    Precedence.IMMEDIATE: "IMMEDIATE",
    Precedence.PRIORITY: "PRIORITY",
    Precedence.ROUTINE: "ROUTINE",
}
_TAIL = {
    NotificationKind.NOTIFIED: "",
    NotificationKind.ESCALATED: " ESCALATED",
    NotificationKind.ACKNOWLEDGED: " ACKNOWLEDGED",
    NotificationKind.RESOLVED: " RESOLVED",
    NotificationKind.EXHAUSTED: " EXHAUSTED",
    NotificationKind.DEAD_LETTER: " DEAD LETTER",
    NotificationKind.EXCHANGE_OVERDUE: " EXCHANGE OVERDUE",
    NotificationKind.WATCHDOG: " WATCHDOG DEADLINE MISSED",
    NotificationKind.RECEIPT_OVERDUE: " RECEIPT OVERDUE",
    NotificationKind.ACTION_OVERDUE: " ACTION OVERDUE",
    NotificationKind.IDLE_REMINDER: " IDLE REMINDER",
    NotificationKind.DECISION_ASKED: " DECISION NEEDED",
    NotificationKind.UPGRADED: " PRECEDENCE RAISED",
}


@cache
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("tracker", "templates/messages"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        # The templates ship with the package: never look whether one changed on disk (two stats a
        # template at every message, 8,000 in a sweep of 2,000 escalations).
        auto_reload=False,
    )
    # Codes in words, spans in words, times to the second (models/labels.py): no raw key, no microseconds.
    # Filters, not globals: the template calls a filter directly, a global through Context.call, which
    # cost a fifth of an escalation message's rendering. No global at all (the messages use none of
    # Jinja's range, dict, lipsum, cycler, joiner, namespace): every render copies the globals.
    env.globals.clear()
    env.filters.update(
        dtg=format_dtg, iso=iso_to_the_second, category_label=category_label, label=label, duration=duration
    )
    return env


def _render(template: str, **context) -> str:
    """A message template filled in. A lone surrogate that a stored JSON value can still hold must not
    fail the message (tracker.text): the whole text is made encodable once, which leaves what the
    template wrote unchanged and costs about a third of checking each value as it is printed (3 against
    9 us for a message of 900 characters)."""
    return scalar(_template(template).render(**context))


@cache
def _template(name: str) -> Template:
    return _environment().get_template(name)


def iso_to_the_second(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC to the second, with its Z: 2026-12-03T08:00:09Z (never microseconds)."""
    return isoformat(moment.replace(microsecond=0)) if moment is not None else None


def subject(incident: Incident, kind: NotificationKind) -> str:
    """The marking first (a message list shows only subjects: how to handle it is seen before it is opened),
    then the precedence, the reference and the DTG, as staff scan a message list."""
    category = category_label(incident.category)
    line = f"{PROSIGN[incident.precedence]} {incident.reference} {format_dtg(incident.occurred_at)} {category}"
    return marking.subject(marking.of(incident), line + _TAIL[kind])


def _position(incident: Incident) -> str:
    if incident.position_text:
        return incident.position_text
    if incident.latitude is not None:
        return f"{incident.latitude:.5f}, {incident.longitude:.5f}"
    return "not given"


def incident_text(
    incident: Incident,
    kind: NotificationKind,
    step: int,
    loop: int,
    *,
    ack_url: str | None = None,
    link_expires: datetime | None = None,
    failed_channel: str | None = None,
    failed_error: str | None = None,
    failed_escalates: bool = False,
    overdue: dict | None = None,
    missed: dict | None = None,
    idle: dict | None = None,
    decision: dict | None = None,
    upgrade: dict | None = None,
    page: dict | None = None,
    called: dict | None = None,
) -> str:
    """Plain-text body for one kind of incident message, its marking line first and last (as on the
    banner of a marked document: whoever reads any end of it sees how to handle it). idle says why an
    acknowledged incident is reminded of or called again (services.engine.idle), decision which step
    waits for a supervisor's confirmation or who confirmed it (services.engine.decisions), upgrade who
    raised the precedence from what (services.engine.notify.tell_upgrade); page, the
    incident page's address a supervisor's message links (services.engine.notify); called, for an exhaustion,
    the lines each step called and passed over (notify.lines_called; without it, the ladder's lines)."""
    body = _render(
        f"{kind.value}.txt",
        i=incident,
        prosign=PROSIGN[incident.precedence],
        position=_position(incident),
        additions=amendment_record.addenda_of_amendments(incident),
        step=step,
        loop=loop,
        deadline=incident.next_escalation_at if kind.calls_for_action else None,
        ack_url=ack_url,
        link_expires=link_expires,
        failed_channel=failed_channel,
        failed_error=failed_error,
        failed_escalates=failed_escalates,
        overdue=overdue or {},
        missed=missed or {},
        idle=idle or {},
        decision=decision or {},
        upgrade=upgrade or {},
        called=called or {},
    )
    body = body.strip(chr(10))
    if page and page.get("url"):
        body += f"\n\nIncident page: {page['url']}"
    line = marking.of(incident)
    return f"{line}\n\n{body}\n\n{line}\n"


def check_text(channel: ContactChannel, check_url: str, due_by: datetime, window_seconds: int) -> str:
    window = duration(window_seconds)
    # The text reaches whoever reads the line (a chat room behind a hook, an SMS gateway's log): a hook's or an
    # Apprise URL's credential is withheld, as on the pages.
    address = withheld(channel.transport or "", channel.address)
    return _render("check.txt", channel=channel, address=address, check_url=check_url, due_by=due_by, window=window)


def check_subject(channel: ContactChannel, due_by: datetime) -> str:
    return f"ROUTINE COMMCHECK {channel.name} reply by {format_dtg(due_by)}"[:255]


# A text cut into its languages: (language, direction "ltr" or "rtl", piece), the pieces in order and whole
# (exchanges.message_format.parts_by_language cuts a message to the other side so).
LanguageParts = list[tuple[str, str, str]]


def html(
    subject_line: str,
    text: str,
    action_url: str | None = None,
    action_label: str = "",
    parts: LanguageParts | None = None,
) -> str:
    """The HTML part: the same text, plus a button for the one-click action. parts: the text cut into its
    languages, each piece then marked with its own lang (and dir="rtl" where written right to left), so a
    reader's screen reader, hyphenation and font choice follow the other side's language in its part."""
    return _render(
        "message.html", subject=subject_line, text=text, action_url=action_url, action_label=action_label, parts=parts
    )


def html_part(subject_line: str, text: str, payload: dict, parts: LanguageParts | None = None) -> str:
    """The HTML part of a stored message: its text in the frame, with the button its stored facts name:
    the acknowledge link of a call to act, else the incident page a supervisor's message links (the
    "page" rendering.render_incident_message keeps only then), else none (a message to the other side,
    whose text comes cut into its languages: parts)."""
    ack_url = (payload.get("acknowledge") or {}).get("url")
    if ack_url is not None or not payload.get("page"):
        return html(subject_line, text, ack_url, "Acknowledge", parts)
    return html(subject_line, text, payload["page"], "Open the incident")


LATE_MARK = " LATE"


def late_subject(subject: str) -> str:
    """The subject of a call to act sent late: LATE at its end, where a message list still shows it, the rest
    cut before it when the subject already fills the stored column (marking.SUBJECT_LENGTH): cutting after
    appending lost LATE from a long subject, which then read as a call to act on time."""
    return subject[: marking.SUBJECT_LENGTH - len(LATE_MARK)].rstrip() + LATE_MARK


def late_notice(queued_at: datetime, step: int, loop: int, incident: Incident, exhausted: bool) -> str:
    """The first line of a call to act sent after its incident left the step it was queued for."""
    queued = f"LATE: queued at {format_dtg(queued_at)} for step {step}{_repeat(loop)}, sent only now."
    if exhausted:
        return (
            f"{queued} Since then every step of the ladder passed unacknowledged (exhausted) and the "
            "supervisors were told. It still needs acknowledging."
        )
    return (
        f"{queued} Since then the incident escalated to step {incident.current_step}{_repeat(incident.loop)}. "
        "It still needs acknowledging."
    )


def _repeat(loop: int) -> str:
    return f" (repeat {loop})" if loop else ""
