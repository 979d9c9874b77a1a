"""Closest point of approach in the unit given and observed forces (services/incidents/measures.py), and the
ladder snapshot retimed for a new precedence (services/incidents/routing.py)."""

from types import SimpleNamespace

import pytest

from tracker.errors import ValidationError
from tracker.models import Precedence
from tracker.services.incidents import measures
from tracker.services.incidents.routing import from_precedence, retime_ladder


def reported(**columns) -> SimpleNamespace:
    base = dict.fromkeys(("cpa_horizontal_m", "cpa_horizontal_unit", "cpa_vertical_ft", "cpa_vertical_unit"))
    return SimpleNamespace(**{**base, **columns})


@pytest.mark.parametrize(
    ("value", "unit", "metres", "text"),
    [
        (0.3, "nm", 556, "0.3 NM (556 m)"),
        (0.25, "nm", 463, "0.25 NM (463 m)"),
        (0.307, "nm", 569, "0.307 NM (569 m)"),
        (500, "ft", 152, "500 ft (152 m)"),  # 152.4 m kept as 152: still read back as typed
        (100, "ft", 30, "100 ft (30 m)"),
        (30, "ft", 9, "30 ft (9 m)"),
        (30, "m", 30, "30 m"),
        (2.5, "m", 3, "3 m"),  # whole metres, halves up
        (0, "nm", 0, "0 NM (0 m)"),
    ],
)
def test_a_horizontal_cpa_is_kept_in_metres_and_shown_as_given(value, unit, metres, text):
    columns = measures.cpa_columns({"value": value, "unit": unit}, None)
    assert (columns["cpa_horizontal_m"], columns["cpa_horizontal_unit"]) == (metres, unit)
    assert (columns["cpa_vertical_ft"], columns["cpa_vertical_unit"]) == (None, None)
    assert measures.horizontal(reported(**columns))["text"] == text


@pytest.mark.parametrize(
    ("value", "unit", "feet", "text"),
    [(100, "m", 328, "100 m (328 ft)"), (37, "m", 121, "37 m (121 ft)"), (150, "ft", 150, "150 ft")],
)
def test_a_vertical_cpa_is_kept_in_feet_and_shown_as_given(value, unit, feet, text):
    columns = measures.cpa_columns(None, {"value": value, "unit": unit})
    assert (columns["cpa_vertical_ft"], columns["cpa_vertical_unit"]) == (feet, unit)
    assert measures.vertical(reported(**columns))["text"] == text


def test_a_cpa_stored_before_units_reads_in_metres_and_feet():
    old = reported(cpa_horizontal_m=30, cpa_vertical_ft=200)
    assert measures.cpa_text(old) == "30 m horizontally, 200 ft vertically"
    assert measures.units(30, None, 200, None) == {"cpa_horizontal_unit": "m", "cpa_vertical_unit": "ft"}
    assert measures.units(None, "nm", None, "m") == {"cpa_horizontal_unit": None, "cpa_vertical_unit": None}


@pytest.mark.parametrize(
    ("horizontal", "vertical", "named"),
    [
        ({"value": 1, "unit": "km"}, None, "cpa_horizontal"),
        ({"value": -1, "unit": "m"}, None, "cpa_horizontal"),
        ({"value": float("nan"), "unit": "m"}, None, "cpa_horizontal"),
        ({"value": 540, "unit": "nm"}, None, "cpa_horizontal"),  # 1,000,080 m: over the column's 1,000 km
        (None, {"value": 31000, "unit": "m"}, "cpa_vertical"),  # over 100,000 ft
        (None, {"value": True, "unit": "ft"}, "cpa_vertical"),
    ],
)
def test_a_cpa_out_of_range_or_in_an_unknown_unit_is_refused_by_name(horizontal, vertical, named):
    with pytest.raises(ValidationError) as refused:
        measures.cpa_columns(horizontal, vertical)
    assert list(refused.value.details) == [named]


def test_observed_forces_keep_whole_counts_under_known_keys():
    assert measures.forces({"troops": 3000, "battle_tanks": 0, "aircraft_sorties": None}) == {
        "troops": 3000,
        "battle_tanks": 0,
    }
    assert measures.forces({}) is None and measures.forces(None) is None
    assert measures.forces_text({"battle_tanks": 40, "troops": 3000}) == "3000 troops, 40 battle tanks"
    with pytest.raises(ValidationError) as refused:
        measures.forces({"troops": -1, "ships": 2, "artillery_pieces": 1.5, "airborne_troops": True})
    assert set(refused.value.details) == {
        "observed_forces.troops",
        "observed_forces.ships",
        "observed_forces.artillery_pieces",
        "observed_forces.airborne_troops",
    }


def step(seconds: int, **flag) -> dict:
    return {"number": 1, "ack_seconds": seconds, "channels": [], "fallback": None, **flag}


def test_retiming_changes_only_the_steps_that_take_their_time_from_the_precedence():
    ladder = {"rule_id": 1, "repeat": 0, "steps": [step(21600, from_precedence=True), step(900, from_precedence=False)]}
    retimed = retime_ladder(ladder, Precedence.ROUTINE, Precedence.FLASH)
    assert [s["ack_seconds"] for s in retimed["steps"]] == [600, 900]
    assert ladder["steps"][0]["ack_seconds"] == 21600, "the snapshot given is left as it was (a new dict)"


def test_a_snapshot_taken_before_the_flag_is_read_by_its_seconds():
    old = {"steps": [step(1800), step(600)]}  # filed IMMEDIATE: 1800 is the precedence's, 600 a step's own
    assert [from_precedence(s, Precedence.IMMEDIATE) for s in old["steps"]] == [True, False]
    retimed = retime_ladder(old, Precedence.IMMEDIATE, Precedence.FLASH)
    assert [(s["ack_seconds"], s["from_precedence"]) for s in retimed["steps"]] == [(600, True), (600, False)]
    # Read again later, the flags decide: the step of its own stays 600 whatever the precedence.
    again = retime_ladder(retimed, Precedence.FLASH, Precedence.PRIORITY)
    assert [s["ack_seconds"] for s in again["steps"]] == [10800, 600]
