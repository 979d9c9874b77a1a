"""Request and response schemas of the exercise register (see services.exercises)."""

from apiflask import Schema, fields
from apiflask.validators import Length, OneOf, Range

from ..http.fields import UTC, Moment, Text
from ..models import NotifiedVia
from ..services.exercises import register
from ..services.exercises.validity import MAX_RADIUS_KM
from ..timeutil import utcnow

AREA = (
    'a GeoJSON Polygon geometry, positions [longitude, latitude]: {"type": "Polygon", "coordinates": '
    "[[[23.5, 54.2], [24.2, 54.2], [24.2, 54.7], [23.5, 54.7], [23.5, 54.2]]]}; or null and a centre and radius"
)


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
    centre_latitude = fields.Float(allow_none=True, validate=Range(-90, 90))
    centre_longitude = fields.Float(allow_none=True, validate=Range(-180, 180))
    radius_km = fields.Float(
        allow_none=True,
        validate=Range(0, MAX_RADIUS_KM, min_inclusive=False),
        metadata={"description": "geodesic radius around the centre"},
    )
    declared_size = fields.Integer(
        strict=True, allow_none=True, validate=Range(0, 10_000_000), metadata={"description": "troops"}
    )
    notified_via = fields.Enum(NotifiedVia, by_value=True, required=True)
    notified_at = Moment(allow_none=True, metadata={"description": "when the notice or briefing came"})
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
    declared_size = fields.Integer(allow_none=True)
    notified_via = fields.Enum(NotifiedVia, by_value=True)
    notified_at = UTC(allow_none=True)
    notes = fields.String()
    created_at = UTC()
    created_by = fields.String()

    def _status(self, exercise) -> str:
        return register.status_of(exercise, utcnow())


class ExerciseQuery(Schema):
    when = Text(
        load_default="all",
        validate=OneOf(register.WHEN),
        metadata={"description": "current = running or upcoming"},
    )
    since = Moment(metadata={"description": "only exercises still running at or after this time"})
    until = Moment(metadata={"description": "only exercises started at or before this time"})


class ExerciseImportIn(Schema):
    csv = Text(
        required=True,
        validate=Length(min=1, max=200_000),
        metadata={
            "description": "the CSV file's text: a header row naming the columns name, states, starts_at, ends_at, "
            "area, centre, radius_km, declared_size, notified_via, notified_at, notes (see "
            "config/exercises.sample.csv); all rows are imported, or none"
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
