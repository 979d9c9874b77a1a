"""The words of a counterpart summary, from releasable fields only, in English or a catalogue's language.

Plain and factual: when, where and what was observed, never who is to blame. The category labels
below describe what happened in neutral terms ("intercept at close range", not "unsafe intercept").
Every sentence and label is a msgid of the message catalogues (tracker/catalogues/*.po), so the same
summary goes out in the other side's language; free text our staff typed (a platform's kind or
callsign) is repeated as typed.
"""

from datetime import UTC

from babel.numbers import format_decimal

from ...geo import to_mgrs
from ...models import Domain, EscalationRisk, Incident
from ...models.enums import UNUSUAL_ACTIVITY, all_categories
from ...text import scalar
from ...timeutil import format_dtg
from ..engine.message_text import PROSIGN
from ..incidents import amendment_record
from . import catalogues, releasability
from .receipts import PAGE_MSGIDS as RECEIPT_PAGE_MSGIDS

CATEGORY_LABELS: dict[str, str] = {
    "unsafe_intercept": "intercept at close range",
    "uncooperative_flight": "flight without transponder, flight plan or radio contact",
    "airspace_violation": "flight across the airspace boundary",
    "simulated_attack": "approach flown on a weapons-delivery profile",
    "aerobatics_over_ship": "aerobatic flight over a ship",
    "object_dropped": "object released near a unit",
    "weapon_fired_or_released": "weapon fired or released near a unit",
    "shoot_down": "aircraft or drone brought down",
    "mid_air_collision_or_strike": "contact in flight between aircraft, drones or objects",
    "mass_drone_incursion": "flight of many drones across the line",
    "unsafe_manoeuvre": "manoeuvre at close quarters",
    "impeding_formation": "manoeuvre in the path of a formation",
    "weapon_aiming": "weapon or launcher pointed towards a unit",
    "searchlight_illumination": "searchlight illumination",
    "collision": "collision",
    "harassment_of_non_military_ship": "close approach to a civilian vessel",
    "detention_or_abduction": "personnel taken into custody",
    "unintended_territory_entry": "entry into territory across the line",
    "stray_fire": "rounds landing across the line",
    "laser": "laser illumination",
    "jamming_c2_interference": "interference with communications",
    "fire_control_lock_on": "fire-control radar illumination",
    "gnss_jamming": "interference with satellite navigation",
    "disinformation": "publication of inaccurate information",
    "infrastructure_disruption": "disruption of infrastructure",
    "cyber_operation": "activity in computer networks",
    UNUSUAL_ACTIVITY: "unusual military activity",
}
ESCALATION_LABELS: dict[EscalationRisk, str] = {
    EscalationRisk.NEAR_ROUTINE: "near routine",
    EscalationRisk.SERIOUS: "serious",
    EscalationRisk.HIGH: "high",
}
DOMAIN_LABELS: dict[Domain, str] = {
    Domain.AIR: "air",
    Domain.MARITIME: "maritime",
    Domain.LAND: "land",
    Domain.CYBER_EM: "cyber and electromagnetic",
    Domain.SPACE: "space",
    Domain.HYBRID: "information and infrastructure",
}

# No reference of ours: the formatted message's REF line carries the one the other side knows.
HEADER = "Summary of event"
WHEN = "On {date} at {time} UTC ({dtg}) the following was observed."
NO_WHEN = "The following was observed."
CATEGORY = "Type of event: {category}."
DOMAIN = "Domain: {domain}."
POSITION = "Position: {decimal} (MGRS {mgrs})."
SECTOR = "Area: {sector}."
BORDER = "Distance to the nearest border line: about {distance} km."
CPA_BOTH = "Closest point of approach: {horizontal} m horizontally and {vertical} ft vertically."
CPA_HORIZONTAL = "Closest point of approach: {horizontal} m horizontally."
CPA_VERTICAL = "Closest point of approach: {vertical} ft vertically."
PLATFORM = "Platform observed: {description}."
PLATFORM_TYPE = "type {type}"
NATIONALITY = "nationality {nationality}"
CALLSIGN = "callsign or hull number {callsign}"
TRANSPONDER = {True: "transponder on", False: "transponder off"}
RADIO = {True: "radio contact established", False: "no radio contact"}
# Our own facts and assessments: in a summary only when a liaison marked them releasable.
REPORTED_BY = "Reported by: {unit}."
NARRATIVE = "Description: {narrative}"
# What an amendment added to the narrative (never overwritten): when, and the words; not who, a name of ours.
ADDED = "Added on {date} at {time} UTC ({dtg}): {text}"
ACTIONS = "Actions taken on our side: {actions}"
SAFETY = "Safety assessment: ICAO risk class {risk}."
ESCALATION = "Escalation risk assessed as {level}."
PRECEDENCE = "Precedence of our report: {precedence}."
CLOSING = (
    "This summary is shared in the interest of safety and to avoid misunderstanding. "
    "We would welcome any information your side can share about this event."
)
SENTENCES = (
    HEADER, WHEN, NO_WHEN, CATEGORY, DOMAIN, POSITION, SECTOR, BORDER, CPA_BOTH, CPA_HORIZONTAL, CPA_VERTICAL,
    PLATFORM, PLATFORM_TYPE, NATIONALITY, CALLSIGN, *TRANSPONDER.values(), *RADIO.values(),
    REPORTED_BY, NARRATIVE, ADDED, ACTIONS, SAFETY, ESCALATION, PRECEDENCE, CLOSING,
)  # fmt: skip


# The distance to the border is told only when measured on real borders: never one measured on a
# made-up region ("fictional") or whose basis was not recorded (filed before border_basis was).
STATED_BASES = ("natural_earth_10m", "region_file")


def msgids() -> list[str]:
    """Every msgid a summary may use: each catalogue must translate them all."""
    return [
        *SENTENCES,
        *(CATEGORY_LABELS[c] for c in all_categories()),
        *(DOMAIN_LABELS[d] for d in Domain),
        *(ESCALATION_LABELS[r] for r in EscalationRisk),
        *RECEIPT_PAGE_MSGIDS,  # not a summary's, but read from the same catalogues
    ]


def compose(incident: Incident, language: str) -> tuple[str, list[str]]:
    """The summary in one language and the incident fields it was made from (releasable ones only)."""
    allowed = releasability.effective(incident)
    used: list[str] = []

    def t(msgid: str, **params) -> str:
        return catalogues.translate(language, msgid, **params)

    def uses(name: str, present: bool = True) -> bool:
        if allowed[name] and present:
            used.append(name)
            return True
        return False

    facts = [_when(incident, language) if uses("occurred_at") else t(NO_WHEN)]
    if uses("category"):
        facts.append(t(CATEGORY, category=t(CATEGORY_LABELS.get(incident.category, incident.category))))
    if uses("domain"):
        facts.append(t(DOMAIN, domain=t(DOMAIN_LABELS[incident.domain])))
    if incident.latitude is not None and incident.longitude is not None and uses("position"):
        decimal = _decimal(language, incident.latitude, incident.longitude)
        facts.append(t(POSITION, decimal=decimal, mgrs=to_mgrs(incident.latitude, incident.longitude)))
    if uses("sector", bool(incident.sector)):
        facts.append(t(SECTOR, sector=incident.sector))
    distance = incident.border_distance_km
    if distance is not None and uses("border_distance_km", incident.border_basis in STATED_BASES):
        # As the position: the language's decimal mark ("17,3" in Russian and French).
        facts.append(t(BORDER, distance=format_decimal(distance, "0.0", locale=catalogues.locale_of(language))))
    horizontal, vertical = incident.cpa_horizontal_m, incident.cpa_vertical_ft
    if uses("cpa", horizontal is not None or vertical is not None):
        facts.append(_cpa(t, horizontal, vertical))
    if uses("platforms", bool(incident.platforms)):
        facts += [t(PLATFORM, description=_platform(t, p)) for p in incident.platforms]
    if uses("reporting_unit", bool(incident.reporting_unit)):
        facts.append(t(REPORTED_BY, unit=incident.reporting_unit))
    if uses("precedence"):
        facts.append(t(PRECEDENCE, precedence=PROSIGN[incident.precedence]))
    if incident.safety_risk is not None and uses("safety_risk"):
        facts.append(t(SAFETY, risk=incident.safety_risk.value))
    if uses("escalation_risk"):
        facts.append(t(ESCALATION, level=t(ESCALATION_LABELS[incident.escalation_risk])))
    account = []
    narrative, actions = (incident.narrative or "").strip(), (incident.actions_taken or "").strip()
    added = amendment_record.addenda(incident)
    if uses("narrative", bool(narrative or added)):
        account.append("\n".join([t(NARRATIVE, narrative=narrative), *(_added(language, a) for a in added)]))
    if uses("actions_taken", bool(actions)):
        account.append(t(ACTIONS, actions=actions))
    paragraphs = [t(HEADER), "\n".join(facts), *account, t(CLOSING)]
    # scalar: a platform's text typed before inputs refused lone surrogates (tracker.text) is shown as U+FFFD.
    return scalar("\n\n".join(paragraphs) + "\n"), used


def _decimal(language: str, latitude: float, longitude: float) -> str:
    """Decimal degrees as the language writes numbers; where its decimal mark is a comma, the two are
    kept apart by a semicolon ("54,41200; 22,87100"), never read as four numbers."""
    locale = catalogues.locale_of(language)
    first, second = (format_decimal(value, "0.00000", locale=locale) for value in (latitude, longitude))
    return f"{first}; {second}" if "," in first else f"{first}, {second}"


def _added(language: str, addendum: dict) -> str:
    """One addition to the narrative, under it, with its time as the language writes dates."""
    moment = addendum["at"].astimezone(UTC)
    date = catalogues.long_date(language, moment.date())
    text = addendum["text"].strip()
    return catalogues.translate(language, ADDED, date=date, time=f"{moment:%H:%M}", dtg=format_dtg(moment), text=text)


def _when(incident: Incident, language: str) -> str:
    moment = incident.occurred_at.astimezone(UTC)
    return catalogues.translate(
        language,
        WHEN,
        date=catalogues.long_date(language, moment.date()),
        time=f"{moment:%H:%M}",
        dtg=format_dtg(moment),
    )


def _cpa(t, horizontal: int | None, vertical: int | None) -> str:
    if horizontal is not None and vertical is not None:
        return t(CPA_BOTH, horizontal=horizontal, vertical=vertical)
    if horizontal is not None:
        return t(CPA_HORIZONTAL, horizontal=horizontal)
    return t(CPA_VERTICAL, vertical=vertical)


def _platform(t, platform: dict) -> str:
    """One platform as observed: kind, type, nationality, callsign, transponder and radio."""
    parts = [platform.get("kind")]
    if platform.get("type"):
        parts.append(t(PLATFORM_TYPE, type=platform["type"]))
    if platform.get("nationality"):
        parts.append(t(NATIONALITY, nationality=platform["nationality"]))
    if platform.get("callsign"):
        parts.append(t(CALLSIGN, callsign=platform["callsign"]))
    for flag, words in (("transponder_on", TRANSPONDER), ("radio_contact", RADIO)):
        if platform.get(flag) is not None:
            parts.append(t(words[bool(platform[flag])]))
    return ", ".join(part for part in parts if part) or "-"
