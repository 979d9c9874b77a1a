"""Handing a watch over: the outgoing side prepares the brief for a named incoming officer, adds notes,
regenerates the brief on request; the incoming officer, and only that person, signs for it.

Signing ends the outgoing watch (ends_at) and starts the incoming officer's watch at the same desk at
the same instant, records the signature on the handover and writes it in the incoming officer's
account log (AccountEvent "handover_signed", beside their sign-ins). The signed handover itself joins
the audit chain with the timeline's events: the next seal covers it (services/review/handover_seals.py)
and the outgoing watch's log, closed by the signature (services/review/sealed_logs.py), so a brief, notes,
officers, times or a line of that log edited, deleted or added in the database afterwards fail `audit verify`.

What the incoming officer read is named by the handover's digest (of the time the brief was prepared,
the notes and the incoming officer): a signature sent with a digest that no longer matches, because the
brief was regenerated or the notes changed meanwhile, is refused (409) rather than signing unseen text.
"""

import hashlib
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ...errors import Conflict, Forbidden, NotFound, ValidationError
from ...models import AccountEvent, Handover, User, Watch
from ...sentences import Sentence
from ...text import problem
from ...timeutil import format_dtg, isoformat
from ..incidents.marking import Markings
from . import brief, log

NOTES_MAX_LENGTH = 8000
SIGNED = "handover_signed"


def get_handover(session: Session, handover_id: int) -> Handover:
    handover = session.get(Handover, handover_id)
    if handover is None:
        raise NotFound(f"no handover {handover_id}", {"id": handover_id})
    return handover


def pending_of(session: Session, watch: Watch) -> Handover | None:
    """The handover of the watch prepared and not yet signed, if any."""
    query = select(Handover).where(Handover.from_watch_id == watch.id, Handover.signed_at.is_(None))
    return session.scalar(query.order_by(Handover.id.desc()))


def handovers_of(session: Session, watch: Watch) -> dict[str, Handover | None]:
    """The handover that started the watch (received) and the one that ends or will end it (given)."""
    received = session.scalar(select(Handover).where(Handover.to_watch_id == watch.id))
    given = session.scalar(select(Handover).where(Handover.from_watch_id == watch.id).order_by(Handover.id.desc()))
    return {"received": received, "given": given}


def waiting_for(session: Session, user: User) -> list[Handover]:
    """Handovers prepared for user to sign."""
    query = select(Handover).where(Handover.incoming_officer_id == user.id, Handover.signed_at.is_(None))
    return list(session.scalars(query.order_by(Handover.prepared_at)))


def since_for(session: Session, watch: Watch) -> datetime:
    """Where "what changed" starts: the desk's last signed handover, or the start of the watch."""
    last = session.scalar(
        select(func.max(Handover.signed_at))
        .join(Watch, Handover.from_watch_id == Watch.id)
        .where(Watch.desk == watch.desk, Handover.signed_at.is_not(None))
    )
    return last or watch.starts_at


def digest(handover: Handover) -> str:
    """What the incoming officer reads, in 16 hex digits: the brief's time, the notes, who signs."""
    seen = f"{isoformat(handover.prepared_at)}\n{handover.incoming_officer_id}\n{handover.notes}"
    return hashlib.sha256(seen.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def _notes(notes: str | None) -> str:
    notes = (notes or "").strip()
    if len(notes) > NOTES_MAX_LENGTH:
        raise ValidationError("the notes are too long", {"notes": f"at most {NOTES_MAX_LENGTH} characters"})
    if found := problem(notes):
        raise ValidationError("the notes cannot be kept", {"notes": found})
    return notes


def _incoming(session: Session, watch: Watch, username: str) -> User:
    user = log.find_keeper(session, (username or "").strip(), "incoming")
    if user.id == watch.officer_id:
        raise ValidationError("a watch is handed to someone else", {"incoming": "the officer of the watch itself"})
    return user


def _snapshot(session: Session, handover: Handover, watch: Watch, now: datetime, markings: Markings | None) -> None:
    handover.prepared_at = now
    handover.since = since_for(session, watch)
    entries = log.entries_of(session, watch)
    handover.brief = brief.build(session, watch.desk, handover.since, now, entries, markings=markings)


def _ensure_not_signed(handover: Handover) -> None:
    if handover.signed_at is not None:
        raise Conflict(
            f"the handover was signed at {format_dtg(handover.signed_at)}: it is on record as it was",
            {"signed_at": handover.signed_at, "incoming": handover.incoming_officer.username},
        )


def prepare(
    session: Session,
    watch: Watch,
    actor: User,
    incoming: str,
    now: datetime,
    notes: str = "",
    markings: Markings | None = None,
) -> Handover:
    """Prepare the handover of the watch to incoming: the brief as of now, and the notes; refuse (409)
    when the watch has ended or a handover of it waits for its signature (regenerate that one)."""
    log.ensure_may_act_for(actor, watch, "hand over")
    session.refresh(watch, with_for_update=True)
    if watch.ends_at is not None:
        raise Conflict(f"the watch ended at {format_dtg(watch.ends_at)}", {"ends_at": watch.ends_at})
    waiting = pending_of(session, watch)
    if waiting is not None:
        raise Conflict(
            Sentence(
                f"handover {waiting.id} of this watch waits for {{officer}}'s signature: "
                "regenerate its brief, or change who takes over there",
                {"officer": waiting.incoming_officer.username},
            ),
            {"handover": waiting.id},
        )
    handover = Handover(
        from_watch=watch,
        outgoing_officer_id=watch.officer_id,
        incoming_officer=_incoming(session, watch, incoming),
        notes=_notes(notes),
    )
    _snapshot(session, handover, watch, now, markings)
    session.add(handover)
    session.flush()
    return handover


def regenerate(
    session: Session,
    handover: Handover,
    actor: User,
    now: datetime,
    incoming: str | None = None,
    markings: Markings | None = None,
) -> Handover:
    """Take the brief again as of now (the outgoing side or the incoming officer), and change who
    takes over if incoming is given (the outgoing side only); refuse (409) once signed."""
    watch = handover.from_watch
    outgoing_side = log.may_act_for(actor, watch)
    if not outgoing_side and actor.id != handover.incoming_officer_id:
        raise Forbidden(
            f"{actor.username} may not regenerate this brief",
            {"needs": "the officer of the watch, the incoming officer, a supervisor or an admin"},
        )
    session.refresh(handover, with_for_update=True)
    _ensure_not_signed(handover)
    if incoming is not None and incoming != handover.incoming_officer.username:
        if not outgoing_side:
            raise Forbidden(f"{actor.username} may not choose who takes over", {"needs": "the outgoing side"})
        handover.incoming_officer = _incoming(session, watch, incoming)
    _snapshot(session, handover, watch, now, markings)
    session.flush()
    return handover


def set_notes(session: Session, handover: Handover, actor: User, notes: str) -> Handover:
    """Write the outgoing officer's notes (replacing those written before); refuse (409) once signed."""
    log.ensure_may_act_for(actor, handover.from_watch, "write the handover notes")
    session.refresh(handover, with_for_update=True)
    _ensure_not_signed(handover)
    handover.notes = _notes(notes)
    session.flush()
    return handover


def sign(
    session: Session, handover: Handover, actor: User, now: datetime, seen: str | None = None, address: str = ""
) -> Handover:
    """Sign for the watch as its incoming officer: the outgoing watch ends now and the incoming one
    starts now at the same desk. seen: the digest read (409 if the brief or notes changed since)."""
    if actor.id != handover.incoming_officer_id:
        raise Forbidden(
            f"only {handover.incoming_officer.username}, the incoming officer, signs for this watch",
            {"incoming": handover.incoming_officer.username},
        )
    log.lock_desk(session, handover.from_watch.desk)
    session.refresh(handover, with_for_update=True)
    _ensure_not_signed(handover)
    if seen is not None and seen != digest(handover):
        raise Conflict(
            "the brief or the notes changed since you read them: read the handover again before signing",
            {"digest": digest(handover), "prepared_at": handover.prepared_at},
        )
    outgoing = handover.from_watch
    session.refresh(outgoing, with_for_update=True)
    if outgoing.ends_at is not None:
        raise Conflict(f"the watch ended at {format_dtg(outgoing.ends_at)}", {"ends_at": outgoing.ends_at})
    log.ensure_off_watch_elsewhere(session, actor, outgoing.desk)
    incoming = Watch(desk=outgoing.desk, officer=actor, starts_at=now, created_at=now)
    outgoing.ends_at = now
    handover.signed_at, handover.to_watch = now, incoming
    session.add(incoming)
    session.flush()
    session.add(_account_record(handover, actor, now, address))
    session.flush()
    return handover


def _account_record(handover: Handover, actor: User, now: datetime, address: str) -> AccountEvent:
    details = {
        "handover": handover.id,
        "desk": handover.from_watch.desk,
        "from": handover.outgoing_officer.username,
        "from_watch": handover.from_watch_id,
        "to_watch": handover.to_watch_id,
        "digest": digest(handover),
    }
    return AccountEvent(user_id=actor.id, kind=SIGNED, address=address[:64], at=now, details=details)
