"""The category catalogue: one table, a category in one or more domains, each with a definition and a label;
nothing a stored incident holds ever stops being valid."""

import pytest

from tests.category_history import OLD_PAIRS
from tracker.models import CATEGORIES, Domain, all_categories, categories_for
from tracker.models.enums import CATALOGUE, UNUSUAL_ACTIVITY, category, category_label
from tracker.services.exchanges import summary_text


@pytest.mark.parametrize(("domain", "name"), OLD_PAIRS)
def test_every_pair_of_the_old_catalogue_stays_valid(domain, name):
    assert name in categories_for(Domain(domain)), f"{name} no longer allowed in {domain}: stored incidents break"


def test_every_category_is_listed_once_in_table_order():
    assert all_categories() == [c.name for c in CATALOGUE]
    assert len(set(all_categories())) == len(all_categories())


@pytest.mark.parametrize(
    ("name", "domains"),
    [
        ("fire_control_lock_on", {Domain.CYBER_EM, Domain.AIR, Domain.MARITIME}),
        ("weapon_fired_or_released", {Domain.AIR, Domain.MARITIME, Domain.LAND}),
        ("shoot_down", {Domain.AIR}),
        ("mid_air_collision_or_strike", {Domain.AIR}),
        ("detention_or_abduction", {Domain.LAND, Domain.MARITIME}),
        ("mass_drone_incursion", {Domain.AIR, Domain.LAND}),
        (UNUSUAL_ACTIVITY, set(Domain)),
    ],
)
def test_a_category_is_allowed_exactly_in_its_domains(name, domains):
    assert {d for d in Domain if name in categories_for(d)} == domains
    assert set(category(name).domains) == domains


def test_a_domain_lists_its_own_categories_first_and_the_one_for_every_domain_last():
    air = categories_for(Domain.AIR)
    assert air[:6] == (
        "unsafe_intercept",
        "uncooperative_flight",
        "airspace_violation",
        "simulated_attack",
        "aerobatics_over_ship",
        "object_dropped",
    ), air
    assert air.index("fire_control_lock_on") > air.index("mass_drone_incursion"), "shared from cyber_em: after"
    assert air[-1] == UNUSUAL_ACTIVITY and UNUSUAL_ACTIVITY not in CATEGORIES[Domain.AIR]
    assert categories_for(Domain.SPACE) == (UNUSUAL_ACTIVITY,)


@pytest.mark.parametrize("entry", CATALOGUE, ids=lambda c: c.name)
def test_each_category_has_a_one_line_definition_a_label_and_a_neutral_counterpart_label(entry):
    assert entry.domains and len(set(entry.domains)) == len(entry.domains)
    assert entry.definition.endswith(".") and "\n" not in entry.definition and len(entry.definition) < 200
    assert category_label(entry.name) == entry.shown and "_" not in entry.shown
    assert entry.name in summary_text.CATEGORY_LABELS, "a counterpart summary needs a neutral label"


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("shoot_down", "shoot-down"),
        ("mid_air_collision_or_strike", "mid-air collision or strike"),
        ("fire_control_lock_on", "fire-control lock-on"),
        ("detention_or_abduction", "detention or abduction of personnel"),
        ("unsafe_intercept", "unsafe intercept"),
        ("retired_category", "retired category"),  # a name no longer in the table still reads
    ],
)
def test_labels_read_as_staff_write_them(name, label):
    assert category_label(name) == label
