"""The filing form read as the filing service reads a report, and the service's problems put beside the fields.

Every problem in the first answer: when the form refuses a report, filing's own checks (filing.report_problems)
are asked of what the form could read, so an airprox class on a land incident, a narrative too long or a time in
the future is told with a mistyped position, not once it is mended. A form the form's checks pass goes to
filing, which checks it once.
"""

from typing import Any

from ..errors import ValidationError
from ..geo import parse_position
from ..models import Domain, EscalationRisk, Precedence, SafetyRisk
from ..services.exchanges import releasability
from ..services.incidents import measures
from ..timeutil import parse_recent
from . import measure_fields
from .forms import IncidentForm, flag

PLATFORM = {
    "kind": "platform_kind",
    "nationality": "platform_nationality",
    "type": "platform_type",
    "callsign": "platform_callsign",
}
# The form's fields each of a report's is read from (others: the field of its name).
READ_FROM = {
    "observed_forces": measures.OBSERVED_FORCES,
    "platforms": (*PLATFORM.values(), "platform_transponder", "platform_radio"),
    "releasability": ("releasable",),
    "sector": ("sector", "sector_followed"),
}
# The form's field each problem filing names is told beside (others: the field of its name).
FIELD_OF = {"latitude": "position", "longitude": "position", "releasability": "releasable"}
FIELD_OF.update({f"observed_forces.{key}": key for key in measures.OBSERVED_FORCES})


def readings(form: IncidentForm, now) -> dict[str, Any]:
    """The time, the position and the closest point of approach as typed, read as a report names them (those
    that could be read); a problem is put beside its field."""
    read: dict[str, Any] = {}
    if (form.occurred_at.data or "").strip():  # nothing typed: the field's own "required" says so, alone
        try:
            read["occurred_at"] = parse_recent(form.occurred_at.data, now)
        except ValueError as exc:
            form.occurred_at.errors.append(str(exc))
    if form.position.data:
        try:
            position = parse_position(form.position.data)
        except ValueError as exc:
            form.position.errors.append(str(exc))
        else:
            read.update(latitude=position.latitude, longitude=position.longitude, position_text=position.text)
    try:
        read.update(measures.cpa_columns(*measure_fields.cpa_given(form).values()))
    except ValidationError as error:
        tell_beside(form, error.details)
    return read


def report(form: IncidentForm, read: dict[str, Any]) -> dict[str, Any]:
    """The form as filing reads a report (IncidentDraft's fields): read (readings) and each field the form's
    checks passed; those they refused are left out (filing holds a report read in part to the rules it can)."""
    given = {
        "reporting_unit": form.reporting_unit.data,
        "domain": _chosen(Domain, form.domain.data),
        "category": form.category.data,
        "precedence": _chosen(Precedence, form.precedence.data),
        "escalation_risk": _chosen(EscalationRisk, form.escalation_risk.data),
        "safety_risk": _chosen(SafetyRisk, form.safety_risk.data) if form.safety_risk.data else None,
        # The sector the page's script filled in from the position is derived: left to the position.
        "sector": None if form.sector_followed.data == "1" else (form.sector.data or None),
        "narrative": form.narrative.data or "",
        "platforms": _platforms(form),
        "classification": form.classification.data,
        "releasable_to": list(form.releasable_to.data or []),
        "actions_taken": (form.actions_taken.data or "").strip(),
        "observed_forces": measure_fields.forces_given(form),
        "releasability": overrides(form),
    }
    if form.errors:
        given = {
            name: value
            for name, value in given.items()
            if not any(form[field].errors for field in READ_FROM.get(name, (name,)))
        }
    return {**given, **read}


def tell_beside(form: IncidentForm, problems: dict) -> None:
    """Put each problem beside its field, unless the form tells one there already (its own words come first)."""
    for name, message in problems.items():
        field = getattr(form, FIELD_OF.get(name, name), form.narrative)
        if not field.errors:
            field.errors.append(str(message))


def overrides(form: IncidentForm) -> dict[str, bool]:
    """The ticked fields as overrides of the defaults; a request that never showed them keeps the defaults."""
    if not form.releasability_shown.data:
        return {}
    ticked = set(form.releasable.data or [])
    return {name: name in ticked for name, default in releasability.DEFAULTS.items() if (name in ticked) != default}


def _platforms(form: IncidentForm) -> list[dict]:
    platform = {key: form[field].data for key, field in PLATFORM.items()}
    platform["transponder_on"] = flag(form.platform_transponder.data)  # not known: left out, as the amend form does
    platform["radio_contact"] = flag(form.platform_radio.data)
    kept = {key: value for key, value in platform.items() if value is not None and value != ""}
    return [kept] if kept else []


def _chosen(enum, value):
    """The member a select's value names; None for one the form refuses beside the field (left out of a report)."""
    try:
        return enum(value)
    except ValueError:
        return None
