"""The Vienna Document checks of exercises in the register, with what our own reports saw of them.

vienna.py judges one notice; this loads, in one query for any number of exercises, the observed
forces of the incidents linked to each (every status: a resolved report still saw what it saw).
"""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import ExerciseNotice, Incident
from ...timeutil import utcnow
from ..incidents import marking
from ..incidents.marking import Markings
from . import vienna
from .vienna_rules import Rules


def observed(session: Session, exercise_ids: Sequence[int]) -> dict[int, list[dict]]:
    """Exercise id -> the observed forces of each report linked to it (those that give any)."""
    found: dict[int, list[dict]] = {}
    if not exercise_ids:
        return found
    rows = session.execute(
        select(Incident.exercise_id, Incident.observed_forces)
        .where(Incident.exercise_id.in_(list(exercise_ids)), Incident.observed_forces.is_not(None))
        .order_by(Incident.id)
    )
    for exercise_id, forces in rows:
        if isinstance(forces, dict) and forces:
            found.setdefault(exercise_id, []).append(forces)
    return found


def observed_marking(session: Session, exercise_ids: Sequence[int], markings: Markings) -> dict[int, str]:
    """Exercise id -> the marking of what our reports saw of it: the highest of the incidents linked to it
    that give observed forces (those observed() reads), as an export of them would be marked."""
    if not exercise_ids:
        return {}
    rows = session.execute(
        select(Incident.exercise_id, Incident.classification, Incident.releasable_to, Incident.observed_forces)
        .where(Incident.exercise_id.in_(list(exercise_ids)), Incident.observed_forces.is_not(None))
        .order_by(Incident.id)
    )
    marks: dict[int, list] = {}
    for exercise_id, classification, released, forces in rows:
        if isinstance(forces, dict) and forces:
            marks.setdefault(exercise_id, []).append((classification, released))
    return {exercise_id: marking.highest(markings, found) for exercise_id, found in marks.items()}


def check_all(
    session: Session, exercises: Sequence[ExerciseNotice], rules: Rules, now: datetime | None = None
) -> dict[int, list[vienna.Check]]:
    """Exercise id -> its findings, for every exercise given, as they stand at now (default: the clock)."""
    seen = observed(session, [e.id for e in exercises])
    at = utcnow() if now is None else now
    return {e.id: vienna.check(vienna.notice_of(e), rules, seen.get(e.id, ()), at) for e in exercises}
