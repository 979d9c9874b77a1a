"""An approval for the other side covers the facts its text states (four_eyes.facts_digest): every amendable
fact a summary or a message formula can state changes the digest, so an amendment of it makes the approved
text need approving again; what no text states (observed forces, the unit a distance was given in) does not."""

from datetime import UTC, datetime

import pytest

from tracker.models import Domain, EscalationRisk, Incident, Precedence, SafetyRisk
from tracker.services.exchanges.four_eyes import facts_digest


def incident(**changes) -> Incident:
    facts = {
        "occurred_at": datetime(2026, 11, 27, 9, 15, tzinfo=UTC),
        "reporting_unit": "2nd Air Defence Squadron",
        "domain": Domain.AIR,
        "category": "unsafe_intercept",
        "latitude": 54.412,
        "longitude": 22.871,
        "position_text": "54 24 43N 022 52 16E",
        "sector": "North",
        "border_distance_km": 32.3,
        "precedence": Precedence.IMMEDIATE,
        "safety_risk": SafetyRisk.B,
        "escalation_risk": EscalationRisk.SERIOUS,
        "platforms": [{"kind": "fighter aircraft"}],
        "cpa_horizontal_m": 30,
        "cpa_horizontal_unit": "m",
        "cpa_vertical_ft": 100,
        "cpa_vertical_unit": "ft",
        "actions_taken": "",
        "narrative": "Closed to 30 m.",
        "releasability": {},
        "classification": "UNCLASSIFIED",
        "releasable_to": ["Eastland"],
        "observed_forces": None,
    }
    return Incident(**{**facts, **changes})


STATED = {
    "occurred_at": {"occurred_at": datetime(2026, 11, 27, 9, 5, tzinfo=UTC)},
    "position": {"latitude": 54.102, "longitude": 23.311, "position_text": "54 06 07N 023 18 40E"},
    "sector": {"sector": "South"},
    "border_distance_km": {"border_distance_km": 6.4},
    "domain and category": {"domain": Domain.MARITIME, "category": "unsafe_manoeuvre"},
    "precedence": {"precedence": Precedence.FLASH},
    "safety_risk": {"safety_risk": SafetyRisk.A},
    "escalation_risk": {"escalation_risk": EscalationRisk.HIGH},
    "platforms": {"platforms": [{"kind": "fighter aircraft", "type": "Su-27"}]},
    "cpa_horizontal": {"cpa_horizontal_m": 556, "cpa_horizontal_unit": "nm"},
    "cpa_vertical": {"cpa_vertical_ft": 328, "cpa_vertical_unit": "m"},
    "actions_taken": {"actions_taken": "Rocked wings."},
}


@pytest.mark.parametrize("fact", STATED)
def test_an_amended_fact_a_text_states_changes_the_digest(fact):
    assert facts_digest(incident(**STATED[fact])) != facts_digest(incident())


@pytest.mark.parametrize(
    "unstated",
    [{"observed_forces": {"troops": 3000}}, {"cpa_horizontal_unit": "ft"}, {"cpa_vertical_unit": "m"}],
)
def test_what_no_text_states_leaves_an_approval_standing(unstated):
    assert facts_digest(incident(**unstated)) == facts_digest(incident())
