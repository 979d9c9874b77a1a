"""What an amendment asks, as the incident's columns: each fact read and checked as filing reads and checks
it (filing.check_draft on the incident as amended, filing.locate_report for the place), the problems of the
facts it touches named by field."""

from datetime import datetime, timedelta

from ...errors import ValidationError
from ...geo import Position, parse_position
from ...models import Incident
from ...text import name_problem, problem, same_wording
from ...timeutil import format_dtg
from . import filing, measures, platform_words, routing

AMENDABLE = (
    "occurred_at",
    "position",
    "sector",
    "domain",
    "category",
    "precedence",
    "safety_risk",
    "escalation_risk",
    "platforms",
    "cpa_horizontal",
    "cpa_vertical",
    "actions_taken",
    "observed_forces",
)
ACTIONS_MAX_LENGTH = 4000
# The fact a changed column belongs to.
FACT_OF = {
    "latitude": "position",
    "longitude": "position",
    "position_text": "position",
    "cpa_horizontal_m": "cpa_horizontal",
    "cpa_horizontal_unit": "cpa_horizontal",
    "cpa_vertical_ft": "cpa_vertical",
    "cpa_vertical_unit": "cpa_vertical",
}
# Which amended fact a problem of filing.check_draft is about.
PROBLEM_OF = {"latitude": "position", "longitude": "position"}
# The texts an amendment writes, each with its rule (tracker.text): one line, or a text of many lines.
TEXT_RULES = {"position_text": name_problem, "sector": name_problem, "actions_taken": problem}


def columns(
    incident: Incident, given: dict, addendum: str, limits: filing.FilingLimits, now: datetime, sectors: dict[str, str]
) -> dict:
    """The incident's columns as the facts given would leave them (only those they touch), checked; raise
    ValidationError naming every fact that is wrong. sectors: those a report may name (filing.sector_names)."""
    unknown = sorted(set(given) - set(AMENDABLE))
    if unknown:
        raise ValidationError("these facts cannot be amended", dict.fromkeys(unknown, "not amendable"))
    found: dict = {
        name: given[name]
        for name in ("occurred_at", "domain", "category", "precedence", "safety_risk", "escalation_risk")
        if name in given
    }
    problems: dict = {}
    if "actions_taken" in given:
        found["actions_taken"] = _as_worded(given["actions_taken"], incident.actions_taken)
        if len(found["actions_taken"]) > ACTIONS_MAX_LENGTH:
            problems["actions_taken"] = filing.too_long(found["actions_taken"], ACTIONS_MAX_LENGTH)
    if "platforms" in given:
        found["platforms"] = [dict(p) for p in given["platforms"] or []]
    if len(addendum or "") > limits.narrative_max_length:
        problems["narrative_addendum"] = filing.too_long(addendum or "", limits.narrative_max_length)
    parts = [name for name in ("cpa_horizontal", "cpa_vertical") if name in given]
    if parts:
        try:
            cpa = measures.cpa_columns(given.get("cpa_horizontal"), given.get("cpa_vertical"))
        except ValidationError as error:
            problems.update(error.details)
        else:
            found.update({key: value for key, value in cpa.items() if FACT_OF[key] in parts})
    if "observed_forces" in given:
        try:
            found["observed_forces"] = measures.forces(given["observed_forces"])
        except ValidationError as error:
            problems.update(error.details)
    try:
        found.update(_place(incident, given, limits, sectors))
    except ValidationError as error:
        problems.update(error.details)
    problems.update(_filing_problems(incident, found, given, limits, now))
    problems.update(_text_problems(incident, found))
    occurred, reported = found.get("occurred_at"), incident.reported_at
    if occurred is not None and occurred > reported + timedelta(seconds=limits.max_future_skew_seconds):
        problems.setdefault("occurred_at", f"{format_dtg(occurred)} is after it was reported ({format_dtg(reported)})")
    if problems:
        raise ValidationError("the amendment is not valid", problems)
    return found


def _as_worded(typed: str | None, kept: str | None) -> str:
    """The text an amendment gives, or the one kept when it says the same words (text.same_wording): a client
    sending back what it read writes its line breaks its own way, CR LF as LF or the reverse, which changes
    nothing, so nothing is written for it nor held to the text rule (_text_problems)."""
    text = (typed or "").strip()
    return kept if kept is not None and same_wording(text, kept) else text


def _text_problems(incident: Incident, found: dict) -> dict:
    """The text rule on each text the amendment changes. One sent back as it is kept may hold a bidirectional
    control kept before they were refused (the API's schema lets it by, as the amend form does a field left as
    shown): it is no amendment of that fact, and nothing is written for it; a changed one is refused."""
    problems: dict = {
        FACT_OF.get(name, name): said
        for name, rule in TEXT_RULES.items()
        if isinstance(found.get(name), str) and found[name] != getattr(incident, name) and (said := rule(found[name]))
    }
    if "platforms" in found and found["platforms"] != incident.platforms:  # all of them, as they are written
        rows = {str(at): _platform_problems(platform) for at, platform in enumerate(found["platforms"])}
        if wrong := {at: said for at, said in rows.items() if said}:
            problems["platforms"] = wrong
    return problems


def _platform_problems(platform: dict) -> dict:
    return {
        key: said
        for key in platform_words.NAMES
        if isinstance(platform.get(key), str) and (said := name_problem(platform[key]))
    }


def _place(incident: Incident, given: dict, limits: filing.FilingLimits, sectors: dict[str, str]) -> dict:
    """Position, sector and distance to the border as the amendment leaves them, located as filing does: a
    position moved elsewhere takes its sector from the region when the sector was derived from the position,
    and keeps it when it was given by hand (filing.sector_was_given), unless the amendment gives one (empty:
    from the position); a position taken away leaves the sector as it was, and how it came."""
    if "position" not in given and "sector" not in given:
        return {}
    latitude, longitude, text = incident.latitude, incident.longitude, incident.position_text
    sector, by_hand = incident.sector, filing.sector_was_given(incident, limits.region)
    problems: dict = {}  # both told at once: a sector nobody names was told only once the position was mended
    if "position" in given:
        try:
            where = _where(given["position"])
        except ValidationError as error:
            problems.update(error.details)
        else:
            if where is None:
                latitude = longitude = text = None  # no place left to derive a sector from: it stays
            else:
                moved = (where.latitude, where.longitude) != (latitude, longitude)
                latitude, longitude, text = where.latitude, where.longitude, where.text or None
                sector = None if moved and not by_hand else sector  # a derived sector follows to the new place
    if "sector" in given:
        try:
            sector = filing.named_sector(given["sector"], sectors)
        except ValueError as exc:
            problems["sector"] = str(exc)
        by_hand = sector is not None
    if problems:
        raise ValidationError("the place is not valid", problems)
    query = routing.RouteQuery(
        incident.domain, incident.category, incident.precedence, incident.escalation_risk, sector, latitude, longitude
    )
    _, placed = filing.locate_report(query, limits)
    placed["sector_given"] = by_hand and sector is not None
    return {"latitude": latitude, "longitude": longitude, "position_text": text, **placed}


def _where(position: str | Position | None) -> Position | None:
    """The position an amendment gives: as text (read as filing reads it), already read with its coordinates
    (the API's position_text, latitude and longitude; text "" when given as coordinates alone), or None (or
    empty text) for none."""
    if isinstance(position, Position):
        return position
    typed = (position or "").strip()
    if not typed:
        return None
    try:
        return parse_position(typed)
    except ValueError as exc:
        raise ValidationError("the position is not valid", {"position": str(exc)}) from None


def _filing_problems(incident: Incident, amended: dict, given: dict, limits: filing.FilingLimits, now) -> dict:
    """What filing's own checks (filing.check_draft) find wrong with the incident as amended, kept to the
    facts the amendment touches: a marking the deployment no longer lists does not stop a new position."""
    state = {name: getattr(incident, name) for name in _DRAFTED} | amended
    draft = filing.IncidentDraft(
        **{name: state[name] for name in _DRAFTED},
        releasability=dict(incident.releasability or {}),
        classification=incident.classification,
        releasable_to=list(incident.releasable_to or []),
    )
    try:
        filing.check_draft(draft, limits, now)
    except ValidationError as error:
        touched = set(given) | ({"category", "safety_risk"} if "domain" in given else set())
        return {
            PROBLEM_OF.get(key, key): problem
            for key, problem in error.details.items()
            if PROBLEM_OF.get(key, key).split(".")[0] in touched
        }
    return {}


_DRAFTED = (
    "occurred_at",
    "reporting_unit",
    "domain",
    "category",
    "precedence",
    "escalation_risk",
    "latitude",
    "longitude",
    "position_text",
    "sector",
    "safety_risk",
    "narrative",
    "actions_taken",
    "cpa_horizontal_m",
    "cpa_vertical_ft",
    "cpa_horizontal_unit",
    "cpa_vertical_unit",
    "observed_forces",
    "platforms",
)
