"""Change an incident's marking (kept apart from marking.py, which the message texts import, so the
helpers there need nothing of the handling code)."""

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, update
from sqlalchemy.orm import Session

from ...errors import Conflict, ValidationError
from ...models import EventKind, Incident, User
from ..exchanges import releasability
from . import handling, timeline
from .marking import Markings, check, of

_RETRIES = 5


def change(
    session: Session,
    incident: Incident,
    classification: str | None,
    names: list[str] | None,
    actor: User,
    now: datetime,
    markings: Markings,
) -> Incident:
    """Change the classification, the counterparts it is releasable to, or both (None: keep).

    A compare-and-set on the incident's version, retried when the escalation engine moved the
    incident meanwhile; the timeline records the marking before and after. A marking it has already is
    refused (422): nothing would be recorded. Liaison staff of a line the
    incident was routed to, supervisors and admins only.
    """
    handling.ensure_may_handle(session, incident, actor, "change the marking of")
    for _ in range(_RETRIES):
        # What is kept is read again on each try: a release withdrawn (or a classification raised) by
        # someone who committed meanwhile stays as they left it.
        new_classification, new_names = check(
            markings,
            incident.classification if classification is None else classification,
            list(incident.releasable_to or []) if names is None else names,
        )
        if (new_classification, new_names) == (incident.classification, list(incident.releasable_to or [])):
            # Answered 200 and moved the version with nothing recorded, as no amendment may (422 there too).
            raise ValidationError(
                f"{incident.reference} is marked {of(incident)} already: nothing to change",
                {"marking": ["give a classification or counterparts other than the ones it has"]},
            )
        before, classified_before = of(incident), incident.classification
        claimed = cast(
            CursorResult[Any],  # what an UPDATE returns (Session.execute is typed for SELECT)
            session.execute(
                update(Incident)
                .where(Incident.id == incident.id, Incident.version == incident.version)
                .values(classification=new_classification, releasable_to=new_names, version=Incident.version + 1),
                execution_options={"synchronize_session": False},
            ),
        ).rowcount
        session.refresh(incident)
        if claimed:
            break
    else:
        raise Conflict(f"{incident.reference} kept changing; try again", {"version": incident.version})
    after = of(incident)
    if after != before:
        reclassified = classified_before if classified_before != incident.classification else None
        withheld = releasability.withhold_unreleasable(
            session, incident, f"marking changed to {after}", now, reclassified_from=reclassified
        )
        extra = {"withheld": withheld} if withheld else {}
        timeline.record(
            session, incident, EventKind.MARKING_CHANGED, actor.username, now, before=before, after=after, **extra
        )
    return incident
