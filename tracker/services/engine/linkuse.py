"""Use a signed link from a message: look at it (GET) or act on it (POST), for either purpose."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...errors import InvalidTransition
from ...models import LinkUse
from ...models.enums import category_label
from ...sentences import Sentence
from ..incidents import handling, marking
from . import line_checks
from .idle import IdleRules
from .links import LinkRefused, LinkSigner


@dataclass(frozen=True)
class LinkView:
    purpose: str
    channel: str
    reference: str | None = None
    # What it is about, the reporting unit as typed kept apart (the page isolates it).
    summary: Sentence = Sentence("")
    status: str = ""
    acknowledged_by: str | None = None
    # The incident's marking line: the page shows its facts to whoever holds the link, so it says how to
    # handle them, as the message the link came in does ("" for a line check, which names no incident).
    marking: str = ""


def inspect(session: Session, signer: LinkSigner, purpose: str, token: str, now: datetime) -> LinkView:
    """What the link would do, without doing it (mail scanners and previewers fetch GETs)."""
    claims = signer.read(purpose, token, now)
    used = session.scalar(select(LinkUse).where(LinkUse.link_id == claims["link"]))
    if used is not None:
        raise LinkRefused("reused", "This link was used already.", {"used_at": used.used_at, "used_by": used.used_by})
    # The same binding use_link() enforces, so a page never offers a button that can only be refused.
    if purpose == "check":
        check = line_checks.check_of_link(session, claims)
        return LinkView(
            "check", check.channel.name, status=check.outcome.value, summary=Sentence(f"Check #{check.id} of the line")
        )
    incident, channel = handling.link_target(session, claims)
    said = f"{incident.precedence.name} {category_label(incident.category)}, {{unit}}"
    summary = Sentence(said, {"unit": incident.reporting_unit})
    return LinkView(
        "ack",
        channel.name,
        incident.reference,
        summary,
        incident.status.value,
        incident.acknowledged_by_label,
        marking.of(incident),
    )


def use_link(
    session: Session,
    signer: LinkSigner,
    purpose: str,
    token: str,
    now: datetime,
    rules: line_checks.HealthRules,
    idle: IdleRules | None = None,
) -> LinkView:
    """Acknowledge the incident (its acknowledgement timeout from idle), or confirm the check, the link
    was made for (once)."""
    claims = signer.read(purpose, token, now)
    if purpose == "check":
        check = line_checks.confirm_by_link(session, claims, now, rules)
        return LinkView("check", check.channel.name, status=check.outcome.value)
    try:
        incident = handling.acknowledge_by_link(session, claims, now, idle)
    except InvalidTransition as handled:
        state = handled.details
        raise LinkRefused("handled", f"Nothing to do: {handled.message}.", {"status": state.get("status")}) from None
    label = incident.acknowledged_by_label or ""  # the acknowledgement just made set it
    return LinkView(
        "ack",
        label,
        incident.reference,
        status=incident.status.value,
        acknowledged_by=incident.acknowledged_by_label,
        marking=marking.of(incident),
    )


def use_any_link(
    session: Session,
    signer: LinkSigner,
    token: str,
    now: datetime,
    rules: line_checks.HealthRules,
    idle: IdleRules | None = None,
) -> LinkView:
    """For the API: the token may be an acknowledgement or a check link. A receipt link (the other side
    confirming they have our message) is refused here, saying so: it never acknowledges anything."""
    try:
        signer.read("ack", token, now)
    except LinkRefused as refused:
        if refused.reason != "invalid":
            raise
        refuse_receipt(signer, token, now)
        return use_link(session, signer, "check", token, now, rules)
    return use_link(session, signer, "ack", token, now, rules, idle)


def refuse_receipt(signer: LinkSigner, token: str, now: datetime) -> None:
    """Refuse a receipt link given where our own links are taken (the API's /acks, an acknowledge or check
    page), saying what it is; return for any other link."""
    try:
        signer.read("receipt", token, now)
    except LinkRefused:
        return  # not a receipt link (or one gone stale): the check reading says what it is not
    raise LinkRefused(
        "receipt",
        "This is a receipt link: it confirms receipt of a message to the other side, at the page it opens, "
        "and never acknowledges an incident.",
    )
