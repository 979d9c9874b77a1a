"""The filing's request schema: an incident as reported, read as filing takes it (the position from its text, a
closest point of approach in the columns filing takes), and a refusal that tells filing's own problems too."""

from apiflask import fields
from apiflask.validators import Length, Range
from marshmallow import ValidationError as MarshmallowError
from marshmallow import post_load, validates_schema

from ..db import get_session
from ..errors import ValidationError
from ..geo import Position, agrees, parse_position, parse_position_beside
from ..http import wiring
from ..http.fields import Name, RecentMoment, Text
from ..models import SafetyRisk
from ..services.incidents import filing, measures
from ..timeutil import utcnow
from .schemas import NAME, CpaHorizontalIn, CpaVerticalIn, ObservedForcesIn, Platform, ReleasabilityIn, RouteFields

# How far (degrees, either axis; geo.agrees) the reported text may read from the coordinates given with it: the
# rounding of a position given to the minute (about 1 km), no more.
POSITION_AGREES = 0.01


class IncidentIn(RouteFields):
    occurred_at = RecentMoment(required=True)
    reporting_unit = Name(required=True, validate=NAME)
    position_text = Name(
        allow_none=True,
        validate=Length(max=120),
        metadata={
            "description": "the position as reported: decimal degrees, DMS, DDM or MGRS, read as the filing form "
            "reads it (422 when it cannot be read, is ambiguous, or disagrees with latitude and longitude); "
            "it gives latitude and longitude when they are left out"
        },
    )
    safety_risk = fields.Enum(
        SafetyRisk,
        by_value=True,
        allow_none=True,
        metadata={"description": "ICAO airprox class A-E; not on a land incident (422)"},
    )
    narrative = Text(load_default="", metadata={"description": "limited to NARRATIVE_MAX_LENGTH characters"})
    actions_taken = Text(load_default="", validate=Length(max=4000))
    cpa_horizontal_m = fields.Integer(strict=True, allow_none=True, validate=Range(0, 1_000_000))
    cpa_vertical_ft = fields.Integer(strict=True, allow_none=True, validate=Range(0, 100_000))
    cpa_horizontal = fields.Nested(
        CpaHorizontalIn, allow_none=True, metadata={"description": "with its unit; instead of cpa_horizontal_m"}
    )
    cpa_vertical = fields.Nested(
        CpaVerticalIn, allow_none=True, metadata={"description": "with its unit; instead of cpa_vertical_ft"}
    )
    observed_forces = fields.Nested(ObservedForcesIn, allow_none=True)
    platforms = fields.List(fields.Nested(Platform), load_default=list, validate=Length(max=20))
    releasability = fields.Nested(ReleasabilityIn, load_default=dict)
    classification = Text(
        validate=Length(min=1, max=32),
        metadata={"description": "one of CLASSIFICATIONS (default: the first, e.g. UNCLASSIFIED)"},
    )
    releasable_to = fields.List(
        Text(validate=Length(min=1, max=80)),
        validate=Length(max=20),
        metadata={
            "description": "counterparts from RELEASABLE_TO it may be released to; left out: all of them (the "
            "per-field releasability still decides what goes out); empty: not releasable"
        },
    )
    counterpart_state = Name(
        allow_none=True, validate=Length(max=80), metadata={"description": "the other State; omit: the routing rule's"}
    )
    agreement = Text(
        allow_none=True,
        validate=Length(max=40),
        metadata={"description": "code of the agreement it is handled under; omit: the routing rule's"},
    )

    @validates_schema(skip_on_field_errors=False)  # told with the fields' problems
    def _one_way_to_give_a_cpa(self, data, **kwargs):
        for given, stored in (("cpa_horizontal", "cpa_horizontal_m"), ("cpa_vertical", "cpa_vertical_ft")):
            if data.get(given) is not None and data.get(stored) is not None:
                raise MarshmallowError(f"give {given} or {stored}, not both", given)

    @post_load
    def _as_filing_takes(self, data, **kwargs):
        """The position as read from its text, and the closest point of approach as the columns filing takes."""
        return self._cpa_as_columns(self._read_position(data))

    def handle_error(self, error: MarshmallowError, data, *, many: bool, **kwargs) -> None:
        """Tell what filing refuses of the fields read (filing.report_problems: an airprox class on a land incident,
        a category of another domain, a time in the future, the narrative's length, the marking, a sector or an
        agreement nobody names), and the position and CPA as _as_filing_takes reads them, in the same 422 as the
        schema's own problems: they were told only once these were mended, in a second 422. Only on a refusal:
        a valid report is checked once, by filing."""
        told = error.messages if isinstance(error.messages, dict) else {}
        read = dict(error.valid_data) if isinstance(error.valid_data, dict) else {}
        more: dict = {}
        for reader in (self._read_position, self._cpa_as_columns):
            try:
                read = reader(read)
            except MarshmallowError as refused:
                more.update(refused.normalized_messages())
        more.update(filing.report_problems(get_session(), read, wiring.filing_limits(), utcnow()))
        # Each in the schemas' shape, a list of sentences, by the error handler (http.errors._problems).
        new = {field: said for field, said in more.items() if field.split(".")[0] not in told}
        if new:
            raise MarshmallowError({**told, **new}, data=error.data, valid_data=error.valid_data)

    def _cpa_as_columns(self, data: dict) -> dict:
        """A closest point of approach given with its unit as the columns filing takes (measures.cpa_columns);
        cpa_horizontal_m and cpa_vertical_ft given alone keep working: their units are m and ft."""
        try:
            columns = measures.cpa_columns(data.get("cpa_horizontal"), data.get("cpa_vertical"))
        except ValidationError as refused:
            raise MarshmallowError(refused.details) from None
        data.pop("cpa_horizontal", None)
        data.pop("cpa_vertical", None)
        data.update({name: value for name, value in columns.items() if value is not None})
        return data

    def _read_position(self, data: dict) -> dict:
        """Positions are never guessed: the reported text is read, or refused (geo.parse_position)."""
        typed = (data.get("position_text") or "").strip()
        latitude, longitude = data.get("latitude"), data.get("longitude")
        if not typed:
            return data
        if (latitude is None) != (longitude is None):
            read_reported(typed, None, None)  # the text is read all the same; filing refuses the lone coordinate
            return data
        where = read_reported(typed, latitude, longitude)
        data["latitude"], data["longitude"], data["position_text"] = where.latitude, where.longitude, where.text
        return data


def read_reported(typed: str, latitude: float | None, longitude: float | None) -> Position:
    """The position a report gives as text, with the latitude and longitude sent beside it (both or neither):
    the text read (geo.parse_position), the coordinates from it when left out, else held to agree with it.
    Filing and amending read it alike; a problem is raised as a 422 naming position_text."""
    try:
        if latitude is None or longitude is None:
            return parse_position(typed)
        where = parse_position_beside(typed, latitude, longitude, POSITION_AGREES)
    except ValueError as exc:
        raise MarshmallowError(str(exc), "position_text") from None
    if not agrees(where, latitude, longitude, POSITION_AGREES):
        raise MarshmallowError(
            f"reads as {where.decimal}, not the latitude and longitude given: correct one or leave them out",
            "position_text",
        )
    return Position(latitude, longitude, where.text)
