"""Migration 0027 (0027_plain_zero) takes the sign off positions stored as -0 before the readers made -0.0 a 0:
incidents' latitude and longitude, exercises' centres and the corners of their polygons. PostgreSQL keeps the
sign of a double (SQLite stores a -0.0 there as the integer 0); both keep it in a polygon's JSON text."""

import math

import pytest
import sqlalchemy as sa
from sqlalchemy import create_engine

from tests.databases import filled_row
from tracker import migrate

pytestmark = pytest.mark.both_databases  # PostgreSQL keeps a double's sign, SQLite a JSON text's

SQUARE = [[[-0.0, 54.0], [1.0, 54.0], [1.0, 55.0], [-0.0, 55.0], [-0.0, 54.0]]]


def _signs(values) -> list[bool]:
    return [math.copysign(1.0, value) < 0 for value in values]


def test_positions_stored_as_minus_zero_are_stored_as_zero(database_at, backend):
    url = database_at("0026")
    engine = create_engine(url)
    try:
        tables = sa.MetaData()
        incidents = sa.Table("incidents", tables, autoload_with=engine)
        exercises = sa.Table("exercises", tables, autoload_with=engine)
        incident = {
            "reference": "INC-OLD-00001", "reporting_unit": "Test unit", "domain": "air",
            "category": "unsafe_intercept", "precedence": "R", "escalation_risk": "near_routine",
            "status": "resolved", "narrative": "filed with -0.0", "platforms": [], "ladder": {},
            "latitude": -0.0, "longitude": -0.0,
        }  # fmt: skip
        told = {"notified_via": "vienna_document"}
        exercise = {"name": "ZERO", "states": [], "area": {"type": "Polygon", "coordinates": SQUARE}} | told
        with engine.begin() as connection:
            connection.execute(incidents.insert(), [filled_row(incidents, incident)])
            connection.execute(exercises.insert(), [filled_row(exercises, exercise | {"centre_latitude": -0.0})])
            plain = {"name": "PLAIN", "states": [], "area": None} | told
            connection.execute(exercises.insert(), [filled_row(exercises, plain)])
        with engine.connect() as connection:
            before = connection.execute(sa.select(incidents.c.latitude, incidents.c.longitude)).one()
        if backend == "postgresql":
            assert _signs(before) == [True, True], f"the test's -0 was stored without its sign: {before}"

        migrate.upgrade(url)
        with engine.connect() as connection:
            after = connection.execute(sa.select(incidents.c.latitude, incidents.c.longitude)).one()
            centres = connection.execute(sa.select(exercises.c.name, exercises.c.centre_latitude)).all()
            areas = dict(connection.execute(sa.select(exercises.c.name, exercises.c.area)).all())
    finally:
        engine.dispose()
    assert tuple(after) == (0.0, 0.0) and _signs(after) == [False, False], after
    assert [(name, _signs([c])[0]) for name, c in centres if c is not None] == [("ZERO", False)], centres
    corners = [value for ring in areas["ZERO"]["coordinates"] for point in ring for value in point]
    assert corners == [0.0, 54.0, 1.0, 54.0, 1.0, 55.0, 0.0, 55.0, 0.0, 54.0] and not any(_signs(corners)), areas
    assert areas["PLAIN"] is None
