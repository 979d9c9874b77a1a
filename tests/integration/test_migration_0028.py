"""Migration 0028 (0028_one_spelling_per_desk) gives the watches of one desk stored in several cases (before desk
names were compared without case) the spelling of the desk's first watch: the desk is listed once, and its open
watch is found as its current watch."""

import pytest
import sqlalchemy as sa
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from tests.databases import filled_row
from tracker import migrate
from tracker.services.watches import log

pytestmark = pytest.mark.both_databases  # lower() and the update in each engine's SQL


def test_one_desk_stored_in_several_cases_takes_its_first_spelling(database_at):
    url = database_at("0027")
    engine = create_engine(url)
    try:
        tables = sa.MetaData()
        users, watches = (sa.Table(name, tables, autoload_with=engine) for name in ("users", "watches"))
        with engine.begin() as connection:
            officer = connection.execute(
                users.insert().returning(users.c.id),
                filled_row(users, {"username": "duty", "role": "duty_officer", "active": True}),
            ).scalar_one()
            stored = [("Duty desk", True), ("duty desk", False), ("Harbour desk", False), ("DUTY DESK", True)]
            for desk, ended in stored:
                row = filled_row(watches, {"desk": desk, "officer_id": officer})
                connection.execute(watches.insert(), [row | {"ends_at": row["starts_at"] if ended else None}])
        migrate.upgrade(url)
        with engine.connect() as connection:
            desks = connection.execute(sa.select(watches.c.desk).order_by(watches.c.id)).scalars().all()
        with Session(engine) as session:
            listed = log.desks(session)
            current = log.current_watch(session, "DUTY desk")
            current_desk, current_id = current.desk, current.id
    finally:
        engine.dispose()
    assert desks == ["Duty desk", "Duty desk", "Harbour desk", "Duty desk"], desks
    assert listed == ["Duty desk", "Harbour desk"], listed
    assert (current_desk, current_id) == ("Duty desk", 2), "the open watch once stored as 'duty desk'"
