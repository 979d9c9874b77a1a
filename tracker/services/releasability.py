"""What of an incident may reach the other side: per-field defaults, overrides, and the guard.

Every message to a counterpart line passes through guard(): it refuses text that carries the
content of a field not releasable for that incident. Summaries are drafted from releasable
fields only, and an edited summary or a free-text message is checked the same way.
"""

from ..errors import ValidationError
from ..models import Incident

# Field -> releasable by default. Time, area and category go out; our own units, our own
# assessment and the narrative stay in (DOMAIN.md: "releasability: what may be sent").
DEFAULTS: dict[str, bool] = {
    "occurred_at": True,
    "domain": True,
    "category": True,
    "position": True,
    "sector": True,
    "border_distance_km": True,
    "cpa": True,
    "platforms": True,
    "reporting_unit": False,
    "actions_taken": False,
    "narrative": False,
    "safety_risk": False,
    "escalation_risk": False,
    "precedence": False,
}
FIELDS = tuple(DEFAULTS)
# Values shorter than this are codes (a risk class "A"), not content a guard can recognise.
MIN_GUARDED_LENGTH = 4


def effective(incident: Incident) -> dict[str, bool]:
    """Every field's releasability for this incident: its overrides over the defaults."""
    overrides = incident.releasability or {}
    return {name: bool(overrides.get(name, default)) for name, default in DEFAULTS.items()}


def check_overrides(overrides: dict) -> dict[str, bool]:
    """Validate a mapping of field -> bool; raise ValidationError naming unknown fields."""
    unknown = sorted(set(overrides) - set(DEFAULTS))
    if unknown:
        raise ValidationError(
            "unknown releasability fields", {name: f"not one of {', '.join(FIELDS)}" for name in unknown}
        )
    wrong = [name for name, value in overrides.items() if not isinstance(value, bool)]
    if wrong:
        raise ValidationError("releasability values are true or false", {name: "must be a boolean" for name in wrong})
    return dict(overrides)


def field_texts(incident: Incident, name: str) -> list[str]:
    """The pieces of content a field holds, as text a message could repeat."""
    if name == "occurred_at":
        return []  # a time is no secret content; it is released by default and never guarded
    if name == "position":
        values = [incident.position_text]
        if incident.latitude is not None:
            values += [f"{incident.latitude:.4f}", f"{incident.longitude:.4f}"]
        return _clean(values)
    if name == "cpa":
        return _clean([incident.cpa_horizontal_m, incident.cpa_vertical_ft])
    if name == "platforms":
        return _clean(str(v) for p in incident.platforms or [] for v in p.values() if not isinstance(v, bool))
    value = getattr(incident, name)
    return _clean([value.value if hasattr(value, "value") else value])


def _clean(values) -> list[str]:
    out = []
    for value in values:
        if value is None:
            continue
        text = str(value).strip()
        if len(text) >= MIN_GUARDED_LENGTH:
            out.append(text)
    return out


def leaks(incident: Incident, *texts: str | None) -> dict[str, str]:
    """Which non-releasable fields' content appears in the texts: {field: what was found}."""
    haystack = "\n".join(t for t in texts if t).casefold()
    found = {}
    for name, releasable in effective(incident).items():
        if releasable:
            continue
        for piece in field_texts(incident, name):
            if piece.casefold() in haystack:
                found[name] = f"contains content of the non-releasable field {name!r}"
                break
    return found


def guard(incident: Incident, *texts: str | None) -> None:
    """Refuse (422) text bound for the other side that carries a non-releasable field's content."""
    found = leaks(incident, *texts)
    if found:
        raise ValidationError(
            "this text would send content that is not releasable to the other side; remove it or mark "
            "the field releasable",
            found,
        )
