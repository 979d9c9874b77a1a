"""Reading the record of the routing configuration's changes (models.config_log), newest first."""

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ...models import Agreement, ConfigChange, ContactChannel, EscalationPolicy

SUBJECTS = ("line", "policy", "rule", "agreement")


def count(session: Session) -> int:
    """How many changes are on record."""
    return session.scalar(select(func.count()).select_from(ConfigChange)) or 0


def changes(
    session: Session, subject: str | None, subject_id: int | None, page: int, per_page: int
) -> tuple[list[ConfigChange], int]:
    """One page of the changes, newest first, of one kind of subject (or one of them) or of all; and how
    many there are in all."""
    where = []
    if subject is not None:
        where.append(ConfigChange.subject == subject)
    if subject_id is not None:
        where.append(ConfigChange.subject_id == subject_id)
    total = session.scalar(select(func.count()).select_from(ConfigChange).where(*where)) or 0
    query = (
        select(ConfigChange)
        .where(*where)
        .order_by(ConfigChange.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    return list(session.scalars(query)), total


def names(session: Session) -> dict[str, dict[int, str]]:
    """The names of the rows a change names by id, by the fact that names them: policies, agreements, lines."""
    policies = dict(session.execute(select(EscalationPolicy.id, EscalationPolicy.name)).tuples().all())
    agreements = dict(session.execute(select(Agreement.id, Agreement.code)).tuples().all())
    lines = dict(session.execute(select(ContactChannel.id, ContactChannel.name)).tuples().all())
    return {"policy_id": policies, "agreement_id": agreements, "fallback_channel_id": lines}
