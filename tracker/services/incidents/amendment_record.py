"""How an amendment reads: the amendable facts of an incident as an event keeps them (JSON, times in
ISO 8601), the same in words for the pages, and the narrative addenda the amendments added."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session
from sqlalchemy.orm.attributes import set_committed_value

from ...geo import Position
from ...models import EventKind, Incident, TimelineEvent
from ...models.bulk import any_of
from ...timeutil import format_dtg, isoformat
from . import measures, platform_words

# The facts an amendment may change, in the order the pages list them, with their labels.
LABELS = {
    "occurred_at": "Occurred",
    "position": "Position",
    "sector": "Sector",
    "sector_given": "Sector given by hand",
    "border_distance_km": "Distance to the border",
    "border_basis": "Border measured on",
    "domain": "Domain",
    "category": "Category",
    "precedence": "Precedence",
    "safety_risk": "Safety risk",
    "escalation_risk": "Escalation risk",
    "platforms": "Platforms",
    "cpa_horizontal": "Closest approach, horizontal",
    "cpa_vertical": "Closest approach, vertical",
    "actions_taken": "Actions taken",
    "observed_forces": "Observed forces",
    "exercise": "Exercise",
    "no_notice": "No notice on record",
}


def facts(incident: Incident) -> dict:
    """The amendable facts and what follows from them (sector, distance, exercise), as JSON values."""
    position = None
    if incident.latitude is not None and incident.longitude is not None:
        position = {"text": incident.position_text, "latitude": incident.latitude, "longitude": incident.longitude}
    return {
        "occurred_at": isoformat(incident.occurred_at),
        "position": position,
        "sector": incident.sector,
        "sector_given": incident.sector_given,  # None: filed before it was recorded (filing.sector_was_given)
        "border_distance_km": incident.border_distance_km,
        "border_basis": incident.border_basis,
        "domain": _value(incident.domain),
        "category": incident.category,
        "precedence": _value(incident.precedence),
        "safety_risk": _value(incident.safety_risk),
        "escalation_risk": _value(incident.escalation_risk),
        "platforms": list(incident.platforms or []),
        "cpa_horizontal": measures.horizontal(incident),
        "cpa_vertical": measures.vertical(incident),
        "actions_taken": incident.actions_taken or "",
        "observed_forces": incident.observed_forces or None,
        "exercise": incident.exercise.name if incident.exercise is not None else None,
        "no_notice": bool(incident.no_notice),
    }


def changes(before: dict, after: dict) -> tuple[dict, dict]:
    """The facts that differ: (before, after), each holding only those."""
    changed = [name for name in LABELS if before.get(name) != after.get(name)]
    return {name: before.get(name) for name in changed}, {name: after.get(name) for name in changed}


def words(name: str, value) -> str:
    """One fact's value as staff read it on the incident page and the print."""
    if value is None or value == "" or value == []:
        return "–"
    if name == "occurred_at":
        return format_dtg(datetime.fromisoformat(value))
    if name == "position":
        where = Position(value["latitude"], value["longitude"], value.get("text") or "")
        return f"{where.decimal} (MGRS {where.mgrs})" + (f", typed {where.text}" if where.text else "")
    if name == "border_distance_km":
        return f"{value:.1f} km"
    if name in ("cpa_horizontal", "cpa_vertical"):
        return value["text"]
    if name == "observed_forces":
        return measures.forces_text(value)
    if name == "platforms":
        return "; ".join(platform_words.words(p) for p in value)
    if name == "no_notice":
        return "yes" if value else "no"
    if name == "sector_given":
        return "yes: it stays when the position moves" if value else "no: it follows the position"
    return str(value).replace("_", " ")


def lines(details: dict) -> list[tuple[str, str, str]]:
    """An amendment event's changed facts as (label, before, after) in words."""
    before, after = details.get("before") or {}, details.get("after") or {}
    return [(LABELS.get(name, name), words(name, before.get(name)), words(name, after[name])) for name in after]


def addenda(incident: Incident) -> list[dict]:
    """The narrative addenda of the incident's amendments, first first: when, by whom, the text."""
    return _added(incident.events)


def addenda_of_amendments(incident: Incident) -> list[dict]:
    """The same, read from the incident's amendments alone (Incident.amendments), for a message: a page
    holds the whole timeline already, a sweep batch loads only these. Read without flushing: a message is
    rendered before its row is complete (notify._queue), and amendments are flushed when written."""
    session = object_session(incident)
    if session is None:
        return _added(incident.amendments)
    with session.no_autoflush:
        return _added(incident.amendments)


def load_amendments(session: Session, incidents: Sequence[Incident]) -> None:
    """Give a batch's incidents their amendments (Incident.amendments) in one statement, for the messages the
    batch renders. Not selectinload: its IN (...) names each id, a parameter per incident that psycopg parses
    in Python at every execution (what any_of spares the sweep); and not a lazy load, one query per incident."""
    held: dict[int, list[TimelineEvent]] = {incident.id: [] for incident in incidents}
    if held:
        events = session.scalars(
            select(TimelineEvent)
            .where(any_of(session, TimelineEvent.incident_id, list(held)), TimelineEvent.kind == EventKind.AMENDED)
            .order_by(TimelineEvent.id)
        )
        for event in events:
            held[event.incident_id].append(event)
    for incident in incidents:
        set_committed_value(incident, "amendments", held[incident.id])


def _added(events) -> list[dict]:
    return [
        {"at": event.at, "by": event.actor, "text": event.details["addendum"]}
        for event in events
        if event.kind is EventKind.AMENDED and event.details.get("addendum")
    ]


def _value(code) -> str | None:
    return None if code is None else str(getattr(code, "value", code))
