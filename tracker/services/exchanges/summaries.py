"""Counterpart summaries and what may be released: draft from releasable fields only, edit, approve,
send only once approved. Approval and sending check the text again against the incident's
releasability as it is then, so a field withdrawn after drafting never goes out.

Four eyes (four_eyes.py): a second person approves, never the drafter or the last editor, and the
approval covers the incident's facts as they stood (facts_digest): changed since, send answers 409
and the summary needs approving again.
"""

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, or_, select, update
from sqlalchemy.orm import Session, object_session, selectinload

from ...errors import Conflict, InvalidTransition, NotFound, ValidationError
from ...models import EventKind, Exchange, ExchangeMessage, ExchangeState, Incident, Summary, SummaryStatus, User
from ...sentences import Sentence
from ...text import bidi_problem, same_wording
from ..incidents import amendment_record, timeline
from . import catalogues, counterpart, four_eyes, message_format, outgoing, releasability, summary_text
from .exchanges import ensure_may_act

TEXT_MAX_LENGTH = 8000
_RETRIES = 5


# -- releasability ----------------------------------------------------------------------------


def change_releasability(session: Session, incident: Incident, changes: dict, actor: User, now: datetime) -> Incident:
    """Mark the fields named releasable or not; the others keep their setting.

    A compare-and-set on the incident's version, retried when the escalation engine moved the
    incident meanwhile; the timeline records each changed field before and after.
    """
    ensure_may_act(session, incident, actor, "change what is releasable")
    changes = releasability.check_overrides(changes)
    for _ in range(_RETRIES):
        before = releasability.effective(incident)
        overrides = {**(incident.releasability or {}), **changes}
        claimed = cast(
            CursorResult[Any],  # what an UPDATE returns (Session.execute is typed for SELECT)
            session.execute(
                update(Incident)
                .where(Incident.id == incident.id, Incident.version == incident.version)
                .values(releasability=overrides, version=Incident.version + 1),
                execution_options={"synchronize_session": False},
            ),
        ).rowcount
        session.refresh(incident)
        if claimed:
            break
    else:
        raise Conflict(f"{incident.reference} kept changing; try again", {"version": incident.version})
    after = releasability.effective(incident)
    changed = [name for name in releasability.FIELDS if before[name] != after[name]]
    if changed:
        why = f"releasability changed: {', '.join(changed)}"
        gone = tuple(name for name in changed if before[name] and not after[name])
        withheld = releasability.withhold_unreleasable(session, incident, why, now, withdrawn=gone)
        timeline.record(
            session,
            incident,
            EventKind.RELEASABILITY_CHANGED,
            actor.username,
            now,
            before={name: before[name] for name in changed},
            after={name: after[name] for name in changed},
            **({"withheld": withheld} if withheld else {}),
        )
    return incident


# -- reading ----------------------------------------------------------------------------------


def get_summary(session: Session, summary_id: int) -> Summary:
    summary = session.get(Summary, summary_id)
    if summary is None:
        raise NotFound(f"no summary {summary_id}", {"id": summary_id})
    return summary


def for_incident(session: Session, incident: Incident) -> list[Summary]:
    return list(session.scalars(select(Summary).where(Summary.incident_id == incident.id).order_by(Summary.id)))


def waiting(session: Session, user: User, limit: int = 200) -> list[Summary]:
    """Summaries that wait for approval and that this user may approve (not their own), oldest first, at
    most limit of them (counted and read as counterpart.waiting counts and reads them). One for a closed
    exchange waits for nothing: nothing more goes to the other side on it."""
    approver = four_eyes.Approver(session, user)
    if not approver.may_approve_any():
        return []
    candidates = (
        select(Summary)
        .outerjoin(Exchange, Summary.exchange_id == Exchange.id)
        .where(
            Summary.status.in_((SummaryStatus.DRAFT, SummaryStatus.APPROVED)),
            or_(Summary.exchange_id.is_(None), Exchange.state != ExchangeState.CLOSED),
        )
        .order_by(Summary.updated_at, Summary.id)
        .options(selectinload(Summary.incident), selectinload(Summary.exchange))
    )

    def waits(summary: Summary) -> bool:
        return (
            user.username not in authors(summary)
            and (
                summary.status is SummaryStatus.DRAFT
                or approver.stale(summary.facts_digest, summary.incident)
                or not approver.approval_holds(summary.incident, summary.approved_by, _channel_id(summary))
            )
            and approver.may_approve(summary.incident, _channel_id(summary))
        )

    return four_eyes.first_waiting(session, candidates, waits, limit)


def problems(summary: Summary) -> dict[str, str]:
    """What would keep the summary from going out now: {field: why}; empty when it may go."""
    allowed = releasability.effective(summary.incident)
    withdrawn = {
        name: "no longer releasable since the summary was drafted; draft it again"
        for name in summary.fields or []
        if not allowed.get(name, False)
    }
    return {
        **withdrawn,
        **_narrative_added_since(summary),
        **releasability.leaks(summary.incident, summary.text, summary.text_second),
        **releasability.format_problems(summary.text, summary.text_second),
        **counterpart.out_of_order(summary.text, summary.text_second),
    }


def _narrative_added_since(summary: Summary) -> dict[str, str]:
    """A summary that states the narrative, drafted before an amendment added to it and not saying the
    addition: it would tell the other side the account as it stood then ("one drone" where two flew)."""
    if "narrative" not in (summary.fields or []) or summary.status is SummaryStatus.SENT:
        return {}
    later = [a for a in amendment_record.addenda(summary.incident) if a["at"] > summary.drafted_at]
    if any(a["text"].strip() not in summary.text for a in later):
        return {"narrative": "added to since the summary was drafted; draft it again, or add it to the text"}
    return {}


def ensure_releasable(summary: Summary) -> None:
    """Refuse (422, naming each field) a summary holding what the incident no longer lets go out, or a
    text that may read in another order than the approver read it."""
    if disordered := counterpart.out_of_order(summary.text, summary.text_second):
        raise ValidationError(counterpart.OUT_OF_ORDER, disordered)
    if added := _narrative_added_since(summary):
        raise ValidationError(
            "the narrative was added to since this summary was drafted: draft it again, or add the words", added
        )
    if broken := releasability.format_problems(summary.text, summary.text_second):
        raise ValidationError(
            "a line of this summary would read as the message format's own (BT ends the text, NNNN the message, a "
            "prosign and DTG begins another): reword it",
            broken,
        )
    found = problems(summary)
    if found:
        raise ValidationError(
            "this summary holds content that is not releasable to the other side; edit it, draft it again, "
            "or mark the field releasable",
            found,
        )


# -- the life of a summary --------------------------------------------------------------------


def draft(
    session: Session,
    incident: Incident,
    exchange: Exchange | None,
    actor: User,
    now: datetime,
    language: str | None = None,
) -> Summary:
    """Draft a summary from the releasable fields, in English and in the exchange line's language."""
    channel_id = exchange.channel_id if exchange else None
    ensure_may_act(session, incident, actor, "draft a summary", channel_id, line_named_by="exchange_id")
    if exchange is not None:
        _ensure_same_incident(exchange, incident)
        _ensure_open(exchange)
        if language and exchange.language and language != exchange.language:
            raise ValidationError(
                f"the exchange's line reads {exchange.language}, not {language}",
                {"language": f"leave it out, or give {exchange.language}"},
            )
        language = language or exchange.language
    # The marking decides first: nothing is drafted for a counterpart the incident is not released to.
    releasability.ensure_releasable_to(incident, releasability.counterpart_of(exchange) if exchange else None)
    second = None
    if language and catalogues.ensure_available(language) != catalogues.SOURCE:
        message_format.ensure_supported(language, "summary")  # 422: a catalogue with no summary text (uk, zh)
        second, _ = summary_text.compose(incident, language)
    text, used = summary_text.compose(incident, catalogues.SOURCE)
    summary = Summary(
        incident=incident,
        exchange=exchange,
        status=SummaryStatus.DRAFT,
        text=text,
        language=language if second else None,
        text_second=second,
        fields=used,
        drafted_at=now,
        drafted_by=actor.username,
        written_by=[actor.username],
        updated_at=now,
    )
    session.add(summary)
    session.flush()
    timeline.record(
        session,
        incident,
        EventKind.SUMMARY_DRAFTED,
        actor.username,
        now,
        summary=summary.id,
        fields=used,
        language=summary.language,
        exchange_id=exchange.id if exchange else None,  # not "exchange": that key marks exchange events
    )
    return summary


def edit(
    session: Session,
    summary: Summary,
    text: str | None,
    text_second: str | None,
    version: int,
    actor: User,
    now: datetime,
) -> Summary:
    """Change the wording; an approved summary goes back to draft and needs approving again."""
    ensure_may_act(session, summary.incident, actor, "edit a summary", _channel_id(summary))
    _expect_version(summary, version)
    if summary.status is SummaryStatus.SENT:
        raise InvalidTransition("this summary was sent; draft a new one", _state(summary))
    if text_second is not None and summary.language is None:
        raise ValidationError(
            "this summary is in English only", {"text_second": "draft it for a line with a second language"}
        )
    new_text = summary.text if text is None else _clean(text, "text")
    new_second = summary.text_second if text_second is None else _clean(text_second, "text_second")
    if same_wording(new_text, summary.text) and same_wording(new_second, summary.text_second):
        # Saving the same words again changes nothing, and makes no one their author.
        raise ValidationError(counterpart.UNCHANGED, {"text": "change the wording, or leave the summary as it is"})
    summary.text, summary.text_second = new_text, new_second
    withdrawn = summary.status is SummaryStatus.APPROVED
    _back_to_draft(summary)
    if actor.username != summary.drafted_by:
        summary.edited_by = actor.username  # an author now too: may not approve it
    summary.written_by = counterpart.wrote(summary.written_by, actor.username)
    summary.updated_at = now
    session.flush()
    timeline.record(
        session,
        summary.incident,
        EventKind.SUMMARY_DRAFTED,
        actor.username,
        now,
        summary=summary.id,
        edited=True,
        approval_withdrawn=withdrawn,
    )
    return summary


def needs_approval(summary: Summary) -> bool:
    """Whether the summary waits for a second person: a draft, or approved on facts that changed since;
    never one for a closed exchange (nothing more goes to the other side on it)."""
    if summary.exchange is not None and not summary.exchange.is_open:
        return False
    if summary.status is SummaryStatus.DRAFT:
        return True
    if summary.status is not SummaryStatus.APPROVED:
        return False
    session = object_session(summary)
    stale = four_eyes.stale(summary.facts_digest, summary.incident)
    return stale or (session is not None and not _approval_holds(session, summary))


def _approval_holds(session: Session, summary: Summary) -> bool:
    """Whether who approved the summary may still approve it (four_eyes.approval_holds)."""
    return four_eyes.approval_holds(session, summary.incident, summary.approved_by, _channel_id(summary))


def authors(summary: Summary) -> set[str | None]:
    """Who wrote the wording as it stands: its drafter and everyone who changed it."""
    return {summary.drafted_by, summary.edited_by, *(summary.written_by or ())} - {None}


def approve(session: Session, summary: Summary, actor: User, now: datetime, version: int | None = None) -> Summary:
    """Approve the wording as it stands, once no field it holds is withheld from the other side: a
    second person only (403 for its drafter or last editor), on the incident's facts as they stand."""
    if summary.status is SummaryStatus.SENT:
        raise InvalidTransition("this summary was sent; draft a new one", _state(summary))
    four_eyes.ensure_may_approve(session, summary.incident, actor, _channel_id(summary), authors(summary))
    if summary.exchange is not None:
        _ensure_open(summary.exchange)
    if version is not None:
        _expect_version(summary, version)
    if not needs_approval(summary):
        raise InvalidTransition(f"this summary is already {summary.status.value}", _state(summary))
    # As a message's approval: the marking decides first, so nobody signs off a text that cannot go.
    exchange = summary.exchange
    releasability.ensure_releasable_to(summary.incident, releasability.counterpart_of(exchange) if exchange else None)
    ensure_releasable(summary)
    summary.status, summary.approved_at, summary.approved_by = SummaryStatus.APPROVED, now, actor.username
    summary.facts_digest = four_eyes.facts_digest(summary.incident)
    summary.updated_at = now
    session.flush()
    timeline.record(
        session,
        summary.incident,
        EventKind.SUMMARY_APPROVED,
        actor.username,
        now,
        summary=summary.id,
        language=summary.language,
        drafted_by=summary.drafted_by,
        edited_by=summary.edited_by,
        approved_by=actor.username,
        approved_at=now,
        facts_digest=summary.facts_digest,
    )
    return summary


def withdraw_stale_approval(session: Session, summary: Summary, actor: User, now: datetime) -> bool:
    """Put an approved summary back to draft when its incident changed since approval; True if it was.
    The routes commit this on its own before answering 409, so the draft stays a draft."""
    ensure_may_act(session, summary.incident, actor, "send a summary", _channel_id(summary))
    if summary.status is not SummaryStatus.APPROVED or not four_eyes.stale(summary.facts_digest, summary.incident):
        return False
    _back_to_draft(summary)
    summary.updated_at = now
    session.flush()
    timeline.record(
        session,
        summary.incident,
        EventKind.SUMMARY_DRAFTED,
        actor.username,
        now,
        summary=summary.id,
        approval_withdrawn=True,
        reason=four_eyes.STALE,
    )
    return True


def send(
    session: Session,
    summary: Summary,
    exchange: Exchange | None,
    actor: User,
    now: datetime,
    settings: outgoing.Settings | None = None,
) -> ExchangeMessage:
    """Send an approved summary over an open exchange, checked once more against releasability and
    against the facts its approval was given on (409: approve it again)."""
    exchange = exchange or summary.exchange
    if exchange is None:
        raise ValidationError(
            "say over which exchange the summary goes", {"exchange_id": "required: the summary has no exchange"}
        )
    ensure_may_act(session, summary.incident, actor, "send a summary", exchange.channel_id)
    _ensure_same_incident(exchange, summary.incident)
    if summary.status is not SummaryStatus.APPROVED:
        hint = "approve it first" if summary.status is SummaryStatus.DRAFT else "it was sent already"
        raise InvalidTransition(f"only an approved summary goes out: {hint}", _state(summary))
    _ensure_approved_for(session, summary, exchange)
    if four_eyes.stale(summary.facts_digest, summary.incident):
        raise Conflict(four_eyes.STALE, {"status": "draft", "version": summary.version})
    if not four_eyes.approval_holds(session, summary.incident, summary.approved_by, exchange.channel_id):
        gone = four_eyes.APPROVER_GONE.format(approver=summary.approved_by)
        raise Conflict(gone, {"needs_approval": True, "version": summary.version, "approved_by": summary.approved_by})
    _ensure_open(exchange)
    if _second(summary.language) != _second(exchange.language):
        # The other side reads its own language too: an English-only summary is no text for a Russian line.
        raise Conflict(
            f"the summary was drafted in {_second(summary.language) or 'English only'}; "
            f"this line reads {_second(exchange.language) or 'English only'}: draft one for this exchange",
            {"language": summary.language, "exchange_language": exchange.language},
        )
    ensure_releasable(summary)
    summary.status, summary.sent_at, summary.exchange = SummaryStatus.SENT, now, exchange
    message = counterpart.send_approved(
        session,
        exchange,
        "summary",
        summary.text,
        summary.text_second,
        summary.drafted_by,
        summary.approved_by or actor.username,
        summary.approved_at or now,
        actor.username,
        now,
        settings,
    )
    summary.message_id = message.id
    session.flush()
    return message


# -- helpers ----------------------------------------------------------------------------------


def _second(language: str | None) -> str | None:
    """A text's second language (None: English only)."""
    return None if not language or language == catalogues.SOURCE else language


def _channel_id(summary: Summary) -> int | None:
    return summary.exchange.channel_id if summary.exchange else None


def _ensure_approved_for(session: Session, summary: Summary, exchange: Exchange) -> None:
    """Refuse (409) to send a summary approved for one exchange over another line's exchange when its
    approver holds no right to approve texts on that line: an approval covers the line it was given for."""
    own = summary.exchange
    if own is None or own.id == exchange.id:
        return
    approver = session.scalar(select(User).where(User.username == summary.approved_by))
    if approver is not None and four_eyes.may_approve(session, summary.incident, approver, exchange.channel_id):
        return
    raise Conflict(
        Sentence(
            f"{{by}} approved this summary for exchange {own.id} on {{line}} and may not approve texts on"
            f" {{this_line}}: have it approved for this line, or send it over exchange {own.id}",
            {"by": str(summary.approved_by), "line": own.channel.name, "this_line": exchange.channel.name},
        ),
        {"approved_by": summary.approved_by, "approved_for_exchange": own.id, "exchange_id": exchange.id},
    )


def _ensure_open(exchange: Exchange) -> None:
    """Refuse (409) a summary drafted for, approved for or sent over a closed exchange."""
    if not exchange.is_open:
        raise InvalidTransition(
            f"exchange {exchange.id} is closed: nothing more goes to the other side on it; "
            "draft the summary for an open exchange",
            {"exchange_state": exchange.state.value, "exchange_id": exchange.id},
        )


def _ensure_same_incident(exchange: Exchange, incident: Incident) -> None:
    if exchange.incident_id != incident.id:
        raise ValidationError(
            f"exchange {exchange.id} is about another incident",
            {"exchange_id": f"not an exchange of {incident.reference}"},
        )


def _back_to_draft(summary: Summary) -> None:
    summary.status, summary.approved_at, summary.approved_by = SummaryStatus.DRAFT, None, None
    summary.facts_digest = None


def _state(summary: Summary) -> dict:
    return {"status": summary.status.value, "version": summary.version}


def _expect_version(summary: Summary, version: int) -> None:
    if version != summary.version:
        said = four_eyes.stale_read("summary", summary.status.value, summary.approved_by, summary.approved_at)
        raise Conflict(said, _state(summary))


def _clean(text: str, name: str) -> str:
    text = text.strip()
    if not text:
        raise ValidationError("a summary needs its text", {name: "must not be blank"})
    if len(text) > TEXT_MAX_LENGTH:
        raise ValidationError(f"a summary is at most {TEXT_MAX_LENGTH} characters", {name: "too long"})
    if found := bidi_problem(text):
        raise ValidationError(counterpart.OUT_OF_ORDER, {name: found})
    return text + "\n"
