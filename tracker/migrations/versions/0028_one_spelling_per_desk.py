"""One spelling per desk: watches kept before desk names were compared without case (5975c2d) may name one desk in
two cases ("Duty desk", "duty desk"). The tracker resolves a typed name to the spelling of the desk's first watch,
so a watch stored under another spelling was a desk of its own in the lists and the brief, and an open one there
was not found as the desk's current watch. Each such watch takes its desk's first spelling (lower() as the tracker
compares, in the database's own rules). Nothing is given back on a downgrade: the names were one desk.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

WATCHES = sa.table("watches", sa.column("id", sa.Integer), sa.column("desk", sa.String))


def upgrade() -> None:
    bind = op.get_bind()
    spellings = bind.execute(
        sa.select(sa.func.lower(WATCHES.c.desk), WATCHES.c.desk, sa.func.min(WATCHES.c.id))
        .group_by(sa.func.lower(WATCHES.c.desk), WATCHES.c.desk)
        .order_by(sa.func.min(WATCHES.c.id))
    ).all()
    first: dict[str, str] = {}
    for folded, desk, _ in spellings:  # the earliest watch's spelling first
        kept = first.setdefault(folded, desk)
        if desk != kept:
            bind.execute(WATCHES.update().where(WATCHES.c.desk == desk).values(desk=kept))


def downgrade() -> None:
    pass
