"""Our own briefings to the other side on our own exercises (ours = true): what, to whom, when, how.

The Vienna Document checks read them as our notifications: a briefing given under the 42 days
before a notifiable exercise's start is flagged for us as it would be for them (vienna.py).
"""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ... import text
from ...errors import Conflict, ValidationError
from ...models import ExerciseBriefing, ExerciseNotice, NotifiedVia
from ...sentences import Sentence
from .register import get_exercise
from .validity import FUTURE_SKEW


def list_briefings(session: Session, exercise_id: int) -> list[ExerciseBriefing]:
    """The briefings on an exercise, oldest first."""
    get_exercise(session, exercise_id)
    return list(
        session.scalars(
            select(ExerciseBriefing)
            .where(ExerciseBriefing.exercise_id == exercise_id)
            .order_by(ExerciseBriefing.briefed_at, ExerciseBriefing.id)
        )
    )


def _problems(data: dict, now: datetime) -> dict:
    problems = {}
    briefed_at = data.get("briefed_at")
    if not isinstance(briefed_at, datetime) or briefed_at.tzinfo is None:
        problems["briefed_at"] = "give a time with a zone"
    elif briefed_at > now + FUTURE_SKEW:
        problems["briefed_at"] = "a briefing is recorded once given: this time is still to come"
    briefed_to = data.get("briefed_to")
    if not isinstance(briefed_to, str) or not briefed_to.strip() or len(briefed_to) > 200:
        problems["briefed_to"] = "say to whom, in 1 to 200 characters"
    elif found := text.name_problem(briefed_to):  # one line: "Our briefing to ... on ..." (vienna)
        problems["briefed_to"] = found
    if not isinstance(data.get("via"), NotifiedVia):
        problems["via"] = "one of " + ", ".join(v.value for v in NotifiedVia)
    content = data.get("content") or ""
    if not isinstance(content, str) or len(content) > 4000:
        problems["content"] = "at most 4000 characters"
    elif found := text.problem(content):
        problems["content"] = found
    return problems


def record_briefing(
    session: Session, exercise: ExerciseNotice, data: dict, actor: str, now: datetime
) -> ExerciseBriefing:
    """Record a briefing we gave on one of our own exercises."""
    if not exercise.ours:
        raise Conflict(
            Sentence(
                "exercise “{name}” is not ours: briefings are recorded on our own exercises", {"name": exercise.name}
            ),
            {"exercise_id": exercise.id, "ours": False},
        )
    data = {**data}
    if isinstance(data.get("via"), str) and data["via"] in {v.value for v in NotifiedVia}:
        data["via"] = NotifiedVia(data["via"])
    if problems := _problems(data, now):
        raise ValidationError("the briefing is not valid", problems)
    briefing = ExerciseBriefing(
        exercise=exercise,
        briefed_at=data["briefed_at"],
        briefed_to=data["briefed_to"].strip(),
        via=data["via"],
        content=data.get("content") or "",
        recorded_by=actor,
        recorded_at=now,
    )
    session.add(briefing)
    session.flush()
    return briefing
