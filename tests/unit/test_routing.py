"""Which routing rule matches an incident, and the ladder snapshot taken from its policy."""

from types import SimpleNamespace

import pytest

from tracker.models import ContactChannel, Domain, EscalationRisk, PolicyStep, Precedence
from tracker.services.incidents.routing import RouteQuery, matches, snapshot_ladder

NEAR, SERIOUS, HIGH = EscalationRisk.NEAR_ROUTINE, EscalationRisk.SERIOUS, EscalationRisk.HIGH


def rule(**criteria) -> SimpleNamespace:
    """A stand-in for a RoutingRule: every criterion unset unless given."""
    fields = {
        "id": 1,
        "name": "Rule",
        "position": 10,
        "is_default": False,
        "active": True,
        "domain": None,
        "category": None,
        "precedence": None,
        "min_escalation_risk": None,
        "sector": None,
        "within_border_km": None,
        "policy_id": 1,
    }
    fields.update(criteria)
    return SimpleNamespace(**fields)


def query(**attributes) -> RouteQuery:
    fields = {
        "domain": Domain.AIR,
        "category": "unsafe_intercept",
        "precedence": Precedence.IMMEDIATE,
        "escalation_risk": SERIOUS,
        "sector": "North",
    }
    fields.update(attributes)
    return RouteQuery(**fields)


@pytest.mark.parametrize(
    ("criteria", "attributes", "expected"),
    [
        ({}, {}, True),
        ({"domain": Domain.AIR}, {}, True),
        ({"domain": Domain.MARITIME}, {}, False),
        ({"category": "unsafe_intercept"}, {}, True),
        ({"category": "airspace_violation"}, {}, False),
        ({"precedence": Precedence.IMMEDIATE}, {}, True),
        ({"precedence": Precedence.FLASH}, {}, False),
        ({"sector": "North"}, {}, True),
        ({"sector": "South"}, {}, False),
        ({"sector": "North"}, {"sector": None}, False),
        ({"domain": Domain.AIR, "category": "unsafe_intercept", "precedence": Precedence.IMMEDIATE}, {}, True),
        ({"domain": Domain.AIR, "category": "unsafe_intercept", "precedence": Precedence.FLASH}, {}, False),
        ({"domain": Domain.MARITIME, "sector": "North"}, {}, False),
    ],
)
def test_rule_matches_when_every_criterion_it_sets_holds(criteria, attributes, expected):
    assert matches(rule(**criteria), query(**attributes)) is expected


@pytest.mark.parametrize(
    ("minimum", "risk", "expected"),
    [
        (NEAR, NEAR, True),
        (NEAR, SERIOUS, True),
        (NEAR, HIGH, True),
        (SERIOUS, NEAR, False),
        (SERIOUS, SERIOUS, True),
        (SERIOUS, HIGH, True),
        (HIGH, NEAR, False),
        (HIGH, SERIOUS, False),
        (HIGH, HIGH, True),
    ],
)
def test_minimum_escalation_risk_orders_near_routine_serious_high(minimum, risk, expected):
    assert matches(rule(min_escalation_risk=minimum), query(escalation_risk=risk)) is expected


@pytest.mark.parametrize(("ruled", "reported"), [("DRILL", "drill"), ("drill", "DRILL"), ("North", "nORTH")])
def test_sector_is_compared_without_case(ruled, reported):
    assert matches(rule(sector=ruled), query(sector=reported))


@pytest.mark.parametrize(
    "attributes",
    [
        {},
        {"domain": Domain.LAND, "category": "stray_fire"},
        {"precedence": Precedence.ROUTINE, "escalation_risk": NEAR, "sector": None},
        {"precedence": Precedence.FLASH, "escalation_risk": HIGH, "sector": "Elsewhere"},
    ],
)
def test_default_rule_matches_everything(attributes):
    assert matches(rule(is_default=True), query(**attributes))


def channel(ident: int, name: str, level: int, active: bool = True) -> ContactChannel:
    return ContactChannel(id=ident, name=name, level=level, active=active)


def routed_to(*steps: PolicyStep, repeat: int = 0) -> SimpleNamespace:
    """A stand-in rule whose stand-in policy has the given (unsaved) steps."""
    policy = SimpleNamespace(id=7, name="Test ladder", repeat=repeat, steps=list(steps))
    return SimpleNamespace(id=3, name="Default", policy=policy)


@pytest.mark.parametrize(
    ("precedence", "seconds"),
    [(Precedence.FLASH, 600), (Precedence.IMMEDIATE, 1800), (Precedence.PRIORITY, 10800), (Precedence.ROUTINE, 21600)],
)
def test_step_without_deadline_takes_it_from_precedence(precedence, seconds):
    ladder = snapshot_ladder(
        routed_to(
            PolicyStep(ack_seconds=None, channels=[channel(1, "L1", 1)]),
            PolicyStep(ack_seconds=45, channels=[channel(2, "L2", 2)]),
        ),
        precedence,
    )
    assert [s["ack_seconds"] for s in ladder["steps"]] == [seconds, 45]
    assert [s["from_precedence"] for s in ladder["steps"]] == [True, False], "an amended precedence retimes step 1"


def test_snapshot_copies_rule_policy_and_steps_in_order():
    ladder = snapshot_ladder(
        routed_to(
            PolicyStep(ack_seconds=60, channels=[channel(1, "L1", 1)]),
            PolicyStep(
                ack_seconds=120,
                channels=[channel(2, "L2", 2), channel(3, "L3", 3)],
                fallback_channel=channel(4, "L3 backup", 3),
                by_decision=True,
            ),
            repeat=2,
        ),
        Precedence.FLASH,
    )
    assert ladder == {
        "rule_id": 3,
        "rule_name": "Default",
        "policy_id": 7,
        "policy_name": "Test ladder",
        "repeat": 2,
        "steps": [
            {
                "number": 1,
                "ack_seconds": 60,
                "from_precedence": False,
                "channels": [{"id": 1, "name": "L1", "level": 1}],
                "fallback": None,
                "by_decision": False,
            },
            {
                "number": 2,
                "ack_seconds": 120,
                "from_precedence": False,
                "channels": [{"id": 2, "name": "L2", "level": 2}, {"id": 3, "name": "L3", "level": 3}],
                "fallback": {"id": 4, "name": "L3 backup", "level": 3},
                "by_decision": True,
            },
        ],
    }


def test_inactive_channels_are_left_out_of_the_snapshot():
    ladder = snapshot_ladder(
        routed_to(
            PolicyStep(ack_seconds=60, channels=[channel(1, "L1", 1, active=False), channel(2, "L2", 2)]),
            PolicyStep(ack_seconds=60, channels=[channel(3, "L3", 3, active=False)]),
        ),
        Precedence.PRIORITY,
    )
    assert [[c["name"] for c in s["channels"]] for s in ladder["steps"]] == [["L2"], []]
    assert [s["number"] for s in ladder["steps"]] == [1, 2]


@pytest.mark.parametrize(
    ("distance", "expected"), [(None, False), (0.0, True), (25.0, True), (25.01, False), (300.0, False)]
)
def test_within_border_km_matches_incidents_close_enough_to_the_border(distance, expected):
    assert matches(rule(within_border_km=25), query(border_distance_km=distance)) is expected
