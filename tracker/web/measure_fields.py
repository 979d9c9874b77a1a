"""The fields the filing form and the amend form share: closest point of approach with its unit, actions
taken, and the forces our report saw of an exercise (a mixin: WTForms collects the fields of every class
a form is made of)."""

from wtforms import SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, NumberRange, Optional

from ..services.incidents import measures
from .base_form import NumberField, WholeNumberField

HORIZONTAL_UNITS = [SelectChoice(unit, measures.LABELS[unit]) for unit in measures.HORIZONTAL]
VERTICAL_UNITS = [SelectChoice(unit, measures.LABELS[unit]) for unit in measures.VERTICAL]
CPA_FIELDS = ("cpa_horizontal", "cpa_horizontal_unit", "cpa_vertical", "cpa_vertical_unit")


def _count(label: str) -> WholeNumberField:
    return WholeNumberField(label, validators=[Optional(), NumberRange(0, measures.FORCE_MAX)])


class MeasureFields:
    cpa_horizontal = NumberField(
        "Closest approach, horizontal",
        validators=[Optional(), NumberRange(0, 10_000_000)],
        description="blank: not known; 0.3 NM is kept as 556 m and shown as given",
    )
    cpa_horizontal_unit = SelectField("Horizontal unit", choices=HORIZONTAL_UNITS, default="m")
    cpa_vertical = NumberField(
        "Closest approach, vertical",
        validators=[Optional(), NumberRange(0, 10_000_000)],
        description="blank: not known",
    )
    cpa_vertical_unit = SelectField("Vertical unit", choices=VERTICAL_UNITS, default="ft")
    actions_taken = TextAreaField("Actions taken on scene", validators=[Optional(), Length(max=4000)])
    troops = _count("Troops")
    battle_tanks = _count("Battle tanks")
    armoured_combat_vehicles = _count("Armoured combat vehicles")
    artillery_pieces = _count("Artillery pieces (100 mm and above)")
    airborne_troops = _count("Airborne or amphibious troops")
    aircraft_sorties = _count("Aircraft sorties")


def cpa_given(form) -> dict:
    """The closest point of approach as typed: {"cpa_horizontal": {"value", "unit"} or None, "cpa_vertical": ...}."""
    return {
        name: None if form[name].data is None else {"value": form[name].data, "unit": form[f"{name}_unit"].data}
        for name in ("cpa_horizontal", "cpa_vertical")
    }


def forces_given(form) -> dict | None:
    """The observed forces typed (blanks left out), or None."""
    return {key: form[key].data for key in measures.OBSERVED_FORCES if form[key].data is not None} or None


def measured(incident) -> dict:
    """The form data of an incident's measures, as the amend form shows them."""
    horizontal, vertical = measures.horizontal(incident), measures.vertical(incident)
    forces = incident.observed_forces or {}
    return {
        "cpa_horizontal": horizontal["value"] if horizontal else None,
        "cpa_horizontal_unit": horizontal["unit"] if horizontal else "m",
        "cpa_vertical": vertical["value"] if vertical else None,
        "cpa_vertical_unit": vertical["unit"] if vertical else "ft",
        "actions_taken": incident.actions_taken or "",
        **{key: forces.get(key) for key in measures.OBSERVED_FORCES},
    }
