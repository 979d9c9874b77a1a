"""Export incidents for analysts: CSV for spreadsheets, GeoJSON for maps, with the report's filters.

Both carry the same fields per incident (incident_record). Times are ISO 8601 UTC with a date-time
group beside each; positions are decimal WGS84 degrees with MGRS (10 m) beside them. An incident inside
a notified exercise names it (exercise_id, exercise), the context an analyst reads it in.
"""

import csv
import io
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ...geo import to_mgrs
from ...models import Call, EventKind, Exchange, Incident, TimelineEvent
from ...text import visible, visible_in
from ...timeutil import format_dtg, isoformat
from ..exercises.vienna_rules import FIGURES
from ..incidents import amendment_record, marking
from ..incidents.detail import incident_detail
from ..incidents.marking import Markings
from .reports import ReportFilter, conditions, file_marking, seconds_between

# A spreadsheet runs a cell that starts with one of these as a formula (OWASP "CSV injection"), also
# after leading white space (Excel and LibreOffice skip it: " =1+1" runs), and reads a cell that opens
# with a tab, a line break or a NUL as one to escape (OWASP, ASVS 1.2.10).
FORMULA_STARTS = ("=", "+", "-", "@")
ESCAPED_STARTS = ("\t", "\r", "\n", "\0")
BATCH = 500


def _mgrs(incident: Incident) -> str | None:
    if incident.latitude is None or incident.longitude is None:
        return None
    return to_mgrs(incident.latitude, incident.longitude)


def _seconds(start: datetime, end: datetime | None) -> float | None:
    return None if end is None else float(round(seconds_between(start, end), 3))


def incident_record(incident: Incident) -> dict:
    """Return the incident's exported fields, in column order, as JSON-ready values."""
    record: dict[str, Any] = {"reference": incident.reference, "status": incident.status.value}
    record["marking"] = marking.of(incident)
    record.update(
        precedence=incident.precedence.value,
        precedence_name=incident.precedence.name,
        domain=incident.domain.value,
        category=incident.category,
    )
    for name in ("occurred_at", "reported_at", "acknowledged_at", "resolved_at"):
        moment = getattr(incident, name)
        record[name] = isoformat(moment)
        record[name.replace("_at", "_dtg")] = format_dtg(moment) if moment else None
    # The report's time to acknowledge: to the first acknowledgement (acknowledged_at records the last).
    first_ack = next((e.at for e in incident.events if e.kind is EventKind.ACKNOWLEDGED), incident.acknowledged_at)
    record.update(
        acknowledged_by=incident.acknowledged_by_label,
        seconds_to_acknowledge=_seconds(incident.reported_at, first_ack),
        seconds_to_resolve=_seconds(incident.reported_at, incident.resolved_at),
        latitude=incident.latitude,
        longitude=incident.longitude,
        mgrs=_mgrs(incident),
        position_text=incident.position_text,
        sector=incident.sector,
        border_distance_km=incident.border_distance_km,
        reporting_unit=incident.reporting_unit,
        safety_risk=incident.safety_risk.value if incident.safety_risk else None,
        escalation_risk=incident.escalation_risk.value,
        current_step=incident.current_step,
        cpa_horizontal_m=incident.cpa_horizontal_m,
        cpa_vertical_ft=incident.cpa_vertical_ft,
        narrative=incident.narrative,
        # The narrative is never overwritten: what amendments added to it stands beside it, one line each.
        narrative_addenda="\n".join(
            f"{isoformat(a['at'])} {a['by']}: {a['text']}" for a in amendment_record.addenda(incident)
        )
        or None,
        actions_taken=incident.actions_taken,
        resolution=incident.resolution,
    )
    # The call log in a cell each: how many calls, and the actions agreed on them left undone past due.
    calls: list[Call] = incident.calls  # type: ignore[attr-defined]  # a backref (models/calls.py)
    record["calls"] = len(calls)
    record["actions_overdue"] = sum(a.done_at is None and a.overdue_at is not None for c in calls for a in c.actions)
    # The notified exercise whose area and time hold the incident (README "Exercise notices"), by its id in the
    # register and its name; last, so the columns before keep their places.
    exercise = incident.exercise
    record["exercise_id"] = exercise.id if exercise is not None else None
    record["exercise"] = exercise.name if exercise is not None else None
    # Unusual activity near the border that no exercise notified by then holds: "no notice on record".
    record["no_notice"] = bool(incident.no_notice)
    # What the report saw of an exercise, as the Vienna Document counts it: what the exercise checks compare
    # with the declaration. A count the report did not give is empty.
    seen = incident.observed_forces if isinstance(incident.observed_forces, dict) else {}
    record.update({f"observed_{name}": seen.get(name) for name in FIGURES})
    # The precedence it was filed with (its "filed" event), beside the one now in "precedence", as the report
    # counts both; last, so the columns before keep their places.
    filed = next(((e.details or {}).get("precedence") for e in incident.events if e.kind is EventKind.FILED), None)
    record["precedence_filed"] = filed or incident.precedence.value
    return record


# The CSV header: incident_record's keys, in its order (a test holds the two together).
CSV_HEADER = (
    "reference", "status", "marking", "precedence", "precedence_name", "domain", "category",
    "occurred_at", "occurred_dtg", "reported_at", "reported_dtg", "acknowledged_at", "acknowledged_dtg",
    "resolved_at", "resolved_dtg", "acknowledged_by", "seconds_to_acknowledge", "seconds_to_resolve",
    "latitude", "longitude", "mgrs", "position_text", "sector", "border_distance_km", "reporting_unit",
    "safety_risk", "escalation_risk", "current_step", "cpa_horizontal_m", "cpa_vertical_ft",
    "narrative", "narrative_addenda", "actions_taken", "resolution", "calls", "actions_overdue",
    "exercise_id", "exercise", "no_notice",
    *(f"observed_{name}" for name in FIGURES), "precedence_filed",
)  # fmt: skip


def incidents(session: Session, flt: ReportFilter) -> Iterator[Incident]:
    """The filter's incidents, oldest report first, read in batches (with their amendments and
    acknowledgements and filing only: the narrative's addenda, the first acknowledgement and the precedence as
    filed, not the whole timeline; and the exercise each is linked to)."""
    query = select(Incident).where(*conditions(flt)).order_by(Incident.reported_at, Incident.id)
    calls = selectinload(Incident.calls).selectinload(Call.actions)  # type: ignore[attr-defined]  # a backref
    kinds = (EventKind.FILED, EventKind.AMENDED, EventKind.ACKNOWLEDGED)
    events = selectinload(Incident.events.and_(TimelineEvent.kind.in_(kinds)))
    exercise = selectinload(Incident.exercise)
    yield from session.scalars(query.options(calls, events, exercise).execution_options(yield_per=BATCH))


def csv_cell(value) -> str | int | float:
    """A value as a CSV cell: text that a spreadsheet would run as a formula gets a leading quote.

    Numbers are written as numbers (a negative longitude is data, not a formula); only text is escaped:
    text whose first character other than white space opens a formula, or that opens with a control.
    A bidirectional control kept before inputs refused it is written as its marker ("[U+202E]",
    tracker.text.visible): a spreadsheet would show the cell reordered, as a page did.
    """
    if value is None:
        return ""
    if isinstance(value, bool):  # as the API writes it, not Python's True
        return "true" if value else "false"
    if isinstance(value, str):
        value = visible(value)
    if isinstance(value, str) and (value.startswith(ESCAPED_STARTS) or value.lstrip().startswith(FORMULA_STARTS)):
        return "'" + value
    return value


def _line(values) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(values)  # QUOTE_MINIMAL, CRLF line ends (RFC 4180)
    return buffer.getvalue()


def marking_row(file_mark: str) -> str:
    """A CSV file's first line: its marking, in a cell of its own ("MARKING: RESTRICTED // REL TO EASTLAND")."""
    return _line([f"MARKING: {file_mark}"])


def incidents_csv(session: Session, flt: ReportFilter, markings: Markings) -> Iterator[str]:
    """Yield a CSV export line by line: the file's marking on a line of its own, a header row, then one
    row per incident (each with its own marking)."""
    yield marking_row(file_marking(session, flt, markings))
    yield _line(CSV_HEADER)
    for incident in incidents(session, flt):
        record = incident_record(incident)
        yield _line(csv_cell(record[name]) for name in CSV_HEADER)


def incidents_geojson(session: Session, flt: ReportFilter, markings: Markings) -> dict:
    """Return a GeoJSON FeatureCollection (RFC 7946) of the filter's incidents as Point features.

    Incidents with no position are left out, not given a null geometry (which many map tools drop
    or refuse); how many were left out is in the foreign member "skipped", so none go missing unseen.
    The foreign member "marking" is the file's (the highest), each feature's property "marking" its own.
    """
    features, skipped = [], 0
    for incident in incidents(session, flt):
        if incident.latitude is None or incident.longitude is None:
            skipped += 1
            continue
        features.append(
            {
                "type": "Feature",
                "id": incident.reference,
                "geometry": {
                    "type": "Point",
                    "coordinates": [round(incident.longitude, 6), round(incident.latitude, 6)],
                },
                # A map tool shows the texts as they are: a stored bidirectional control as its marker.
                "properties": visible_in(incident_record(incident)),
            }
        )
    return {
        "type": "FeatureCollection",
        "marking": file_marking(session, flt, markings),
        "features": features,
        "skipped": skipped,
    }


def printable(session: Session, reference: str) -> tuple[Incident, list[Exchange]]:
    """One incident for the printed record, with its exchanges and their messages (404 if unknown)."""
    incident = incident_detail(session, reference)
    exchanges = session.scalars(
        select(Exchange)
        .where(Exchange.incident_id == incident.id)
        .options(selectinload(Exchange.messages))
        .order_by(Exchange.opened_at, Exchange.id)
    )
    return incident, list(exchanges)
