"""Request and response schemas of the exercise register (see services.exercises)."""

from apiflask import Schema, fields
from apiflask.validators import Length, OneOf, Range
from flask import g

from ..db import get_session
from ..http import wiring
from ..http.fields import RECENT, UTC, Bound, Coordinate, Flag, Moment, Name, Number, Query, RecentMoment, Text, Window
from ..models import NotifiedVia
from ..services.exercises import checks, register, vienna
from ..services.exercises.validity import MAX_FIGURE, MAX_RADIUS_KM
from ..timeutil import utcnow

AREA = (
    'a GeoJSON Polygon geometry, positions [longitude, latitude]: {"type": "Polygon", "coordinates": '
    "[[[23.5, 54.2], [24.2, 54.2], [24.2, 54.7], [23.5, 54.7], [23.5, 54.2]]]}; or null and a centre and radius"
)


SNAP = "carried out without advance notice to the troops: notified when they commence it (default false)"
CHECK = {
    "type": "object",
    "properties": {
        "code": {"type": "string"},
        "severity": {"type": "string", "enum": [vienna.FLAG, vienna.NOTE]},
        "label": {"type": "string"},
        "text": {"type": "string"},
        "paragraph": {"type": "string"},
    },
}


def _figure(what: str):
    return fields.Integer(strict=True, allow_none=True, validate=Range(0, MAX_FIGURE), metadata={"description": what})


class ExerciseIn(Schema):
    name = Text(required=True, validate=Length(min=1, max=200), metadata={"examples": ["ZAPAD-26"]})
    states = fields.List(
        Text(validate=Length(min=1, max=60)),
        required=True,
        validate=Length(min=1, max=30),
        metadata={"description": "the states taking part", "examples": [["Eastland", "Southland"]]},
    )
    starts_at = Moment(required=True)
    ends_at = Moment(required=True, metadata={"description": "after starts_at; both ends belong to the exercise"})
    area = fields.Dict(allow_none=True, metadata={"description": AREA})
    centre_latitude = Coordinate(allow_none=True, validate=Range(-90, 90))
    centre_longitude = Coordinate(allow_none=True, validate=Range(-180, 180))
    radius_km = Number(
        allow_none=True,
        validate=Range(0, MAX_RADIUS_KM, min_inclusive=False),
        metadata={"description": "geodesic radius around the centre"},
    )
    declared_size = fields.Integer(
        strict=True, allow_none=True, validate=Range(0, MAX_FIGURE), metadata={"description": "troops"}
    )
    battle_tanks = _figure("battle tanks")
    armoured_combat_vehicles = _figure("armoured combat vehicles")
    artillery_pieces = _figure("artillery pieces, mortars and multiple rocket launchers of 100 mm and above")
    airborne_troops = _figure("troops in an amphibious landing or a parachute assault")
    aircraft_sorties = _figure("sorties by aircraft, excluding helicopters")
    notified_via = fields.Enum(NotifiedVia, by_value=True, required=True)
    notified_at = Moment(
        allow_none=True, metadata={"description": "when the notice or briefing came (ours: when we gave it)"}
    )
    notified_by = Text(allow_none=True, validate=Length(max=80), metadata={"examples": ["Eastland"]})
    notified_to = Text(allow_none=True, validate=Length(max=200), metadata={"examples": ["all participating States"]})
    calendar_at = Moment(
        allow_none=True,
        metadata={
            "description": "when the annual calendar listing the activity came (Vienna Document chapter VII, due "
            "by 15 November of the year before; ours: when we sent it); null: none on record"
        },
    )
    snap = Flag(metadata={"description": SNAP})
    ours = Flag(metadata={"description": "our own exercise, briefed by us to the other side"})
    notes = Text(load_default="", validate=Length(max=4000))


class ExerciseOut(Schema):
    id = fields.Integer()
    name = fields.String()
    states = fields.List(fields.String())
    starts_at = UTC()
    ends_at = UTC()
    status = fields.Method("_status", metadata={"description": "upcoming, running or past, now"})
    area = fields.Dict(allow_none=True, metadata={"description": "GeoJSON Polygon geometry, or null"})
    centre_latitude = fields.Float(allow_none=True)
    centre_longitude = fields.Float(allow_none=True)
    radius_km = fields.Float(allow_none=True)
    declared_size = fields.Integer(allow_none=True, metadata={"description": "troops"})
    battle_tanks = fields.Integer(allow_none=True)
    armoured_combat_vehicles = fields.Integer(allow_none=True)
    artillery_pieces = fields.Integer(allow_none=True)
    airborne_troops = fields.Integer(allow_none=True)
    aircraft_sorties = fields.Integer(allow_none=True)
    notified_via = fields.Enum(NotifiedVia, by_value=True)
    notified_at = UTC(allow_none=True)
    notified_by = fields.String(allow_none=True)
    notified_to = fields.String(allow_none=True)
    calendar_at = UTC(allow_none=True)
    snap = fields.Boolean()
    ours = fields.Boolean()
    notes = fields.String()
    created_at = UTC()
    created_by = fields.String()
    changes = fields.Function(
        lambda e: e.changes or [],
        metadata={
            "type": "array",
            "items": {"type": "object"},
            "description": "each change after entry, oldest first: at, by, and fields (name: [before, after])",
        },
    )
    checks = fields.Method(
        "_checks",
        metadata={
            "type": "array",
            "items": CHECK,
            "description": "the Vienna Document 2011 findings, each citing its paragraph: flags (a late "
            "notice, a figure just under a threshold, more seen by our reports than declared) and notes",
        },
    )

    def _status(self, exercise) -> str:
        return register.status_of(exercise, utcnow())

    def _checks(self, exercise) -> list[dict]:
        return checks_of(exercise)


def prime_checks(exercises) -> None:
    """Work out the findings of many exercises at once (one query), for the schema to read."""
    memo = g.setdefault("exercise_checks", {})
    found = checks.check_all(get_session(), list(exercises), wiring.vienna_rules())
    memo.update({exercise_id: [c.as_dict() for c in items] for exercise_id, items in found.items()})


def checks_of(exercise) -> list[dict]:
    """The exercise's findings, worked out once per request."""
    if exercise.id not in g.setdefault("exercise_checks", {}):
        prime_checks([exercise])
    return g.exercise_checks[exercise.id]


class BriefingIn(Schema):
    briefed_at = RecentMoment(required=True, metadata={"description": f"when we gave the briefing: {RECENT}"})
    briefed_to = Name(
        required=True, validate=Length(min=1, max=200), metadata={"examples": ["Eastland defence attaché"]}
    )
    via = fields.Enum(NotifiedVia, by_value=True, required=True)
    content = Text(load_default="", validate=Length(max=4000), metadata={"description": "what we briefed"})


class BriefingOut(Schema):
    id = fields.Integer()
    exercise_id = fields.Integer()
    briefed_at = UTC()
    briefed_to = fields.String()
    via = fields.Enum(NotifiedVia, by_value=True)
    content = fields.String()
    days_before_start = fields.Function(
        lambda b: round((b.exercise.starts_at - b.briefed_at).total_seconds() / 86400, 1),
        metadata={
            "type": "number",
            "description": "how long before the exercise's start it was given, in days "
            "(the checks count calendar days, UTC)",
        },
    )
    recorded_by = fields.String()
    recorded_at = UTC()


class ExerciseQuery(Query, Window):
    spans = True  # since == until: the exercises running at that moment
    when = Text(
        load_default="all",
        validate=OneOf(register.WHEN),
        metadata={"description": "current = running or upcoming"},
    )
    since = Bound(
        metadata={"description": "only exercises still running at or after this time; a date alone: its 00:00Z"}
    )
    until = Bound(
        metadata={"description": "only exercises started before this time (exclusive); a date alone: its 00:00Z"}
    )
    ours = fields.Boolean(metadata={"description": "true: only our own exercises; false: only others'"})


class ExerciseImportIn(Schema):
    csv = Text(
        required=True,
        validate=Length(min=1, max=200_000),
        metadata={
            "description": "the CSV file's text: a header row naming the columns name, states, starts_at, ends_at, "
            "area, centre, radius_km, declared_size, battle_tanks, armoured_combat_vehicles, artillery_pieces, "
            "airborne_troops, aircraft_sorties, notified_via, notified_at, notified_by, notified_to, calendar_at, "
            "snap, ours, notes (see config/exercises.sample.csv; figures may group thousands: 12,700); all rows are "
            "imported, or none"
        },
    )


class FeedQuery(Schema):
    key = Text(
        validate=Length(min=10, max=2000),
        metadata={"description": "a signed feed key (from GET /exercises/feed-link), instead of a bearer token"},
    )


class FeedLinkOut(Schema):
    url = fields.String(metadata={"description": "the feed's address with a signed key, for calendar clients"})
    expires_at = UTC()
