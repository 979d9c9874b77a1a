"""Positions stored with a -0 take it off (incidents' latitude and longitude, exercises' centres and the corners
of their polygons): a JSON body's -0.0 was stored with its sign on PostgreSQL until the readers made it 0
(c97122d), and such rows still showed -0.00000 on the pages and -0.0 in the API. -0 and 0 are one place: no
downgrade gives the sign back.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-06
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

EXERCISES = sa.table("exercises", sa.column("id", sa.Integer), sa.column("area", sa.JSON))
POSITIONS = {"incidents": ("latitude", "longitude"), "exercises": ("centre_latitude", "centre_longitude")}


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":  # SQLite stores a -0.0 in a REAL column as the integer 0: no sign there
        for table, (first, second) in POSITIONS.items():  # one pass each, writing only the rows with a -0
            signed = f"{first}::text = '-0' OR {second}::text = '-0'"
            op.execute(sa.text(f"UPDATE {table} SET {first} = {first} + 0, {second} = {second} + 0 WHERE {signed}"))
    for exercise_id, area in bind.execute(sa.select(EXERCISES.c.id, EXERCISES.c.area)).all():
        if area is not None and (plain := _plain(area)) is not None and json.dumps(plain) != json.dumps(area):
            bind.execute(EXERCISES.update().where(EXERCISES.c.id == exercise_id).values(area=plain))


def _plain(value):
    """The JSON value with every -0.0 in it made 0.0 (-0.0 == 0.0 in Python: compared by its text)."""
    if isinstance(value, float):
        return value + 0.0
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


def downgrade() -> None:
    pass
