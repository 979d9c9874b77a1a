"""Every stored incident stays valid after the category migration (issue 14): a database at revision 0012
holding one incident for each (domain, category) pair of the old catalogue is upgraded to head, and each
incident loads and still fits the catalogue."""

import pytest
import sqlalchemy as sa
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from tests.category_history import OLD_PAIRS
from tracker import migrate
from tracker.models import Domain, Incident, categories_for
from tracker.timeutil import utcnow

pytestmark = pytest.mark.both_databases  # migrations run in each engine's own DDL

# The columns an incident needed at 0012 (NOT NULL, no server default), typed so each engine gets its own JSON.
AT_0012 = sa.table(
    "incidents",
    *(sa.column(name) for name in ("reference", "reporting_unit", "domain", "category", "actions_taken")),
    *(sa.column(name) for name in ("precedence", "escalation_risk", "narrative", "status")),
    *(sa.column(name, sa.Integer) for name in ("version", "current_step", "loop")),
    *(sa.column(name, sa.JSON) for name in ("platforms", "ladder")),
    *(sa.column(name, sa.DateTime) for name in ("occurred_at", "reported_at")),
)


def test_every_incident_of_the_old_catalogue_stays_valid_after_upgrading_to_head(database_at):
    url = database_at("0012")
    now = utcnow().replace(tzinfo=None)
    rows = [
        {
            "reference": f"INC-OLD-{n:03d}",
            "reporting_unit": "Test unit",
            "domain": domain,
            "category": category,
            "actions_taken": "",
            "precedence": "R",
            "escalation_risk": "near_routine",
            "narrative": f"{category} in {domain}",
            "status": "resolved",
            "version": 1,
            "current_step": 0,
            "loop": 0,
            "platforms": [],
            "ladder": {},
            "occurred_at": now,
            "reported_at": now,
        }
        for n, (domain, category) in enumerate(OLD_PAIRS)
    ]
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(AT_0012.insert(), rows)
        migrate.upgrade(url)
        assert migrate.current(url) == migrate.head()
        with Session(engine) as session:
            stored = [(i.reference, i.domain, i.category) for i in session.scalars(select(Incident))]
    finally:
        engine.dispose()

    assert len(stored) == len(OLD_PAIRS), "every incident survives the upgrade"
    invalid = [
        (ref, domain.value, category) for ref, domain, category in stored if category not in categories_for(domain)
    ]
    assert invalid == [], f"incidents no longer valid against the catalogue: {invalid}"
    assert {(domain.value, category) for _, domain, category in stored} == set(OLD_PAIRS)
    assert all(isinstance(domain, Domain) for _, domain, _ in stored)
