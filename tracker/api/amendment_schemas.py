"""Schemas of an amendment: what PATCH /incidents/<reference> takes, and what it answers beside the incident."""

import copy
from typing import cast

from apiflask import Schema, fields
from apiflask.validators import Length, OneOf, Range
from flask import request
from marshmallow import ValidationError as MarshmallowError
from marshmallow import post_load

from ..db import get_session
from ..geo import Position
from ..http import wiring
from ..http.access import caller
from ..http.fields import Coordinate, Name, RecentMoment, Text
from ..models import Domain, EscalationRisk, Precedence, SafetyRisk, all_categories
from ..services.incidents import amending, platform_words
from ..timeutil import utcnow
from .filing_schema import read_reported
from .incident_out import IncidentDetailOut
from .schemas import ID, CpaHorizontalIn, CpaVerticalIn, ObservedForcesIn, Platform


def _as_kept(name: str) -> Name:
    """Platform's field of that name, taking a text sent back as it is kept (http.fields.Text's as_kept)."""
    kept = copy.copy(cast(Name, Platform._declared_fields[name]))
    kept.as_kept = True
    return kept


class PlatformAsKept(Platform):
    """A platform as an amendment sends it: all of them come back, those it leaves as they are kept (a control
    kept before they were refused is refused only in a list the amendment changes)."""

    kind, nationality, type, callsign = (_as_kept(name) for name in platform_words.NAMES)


POSITION = ("position_text", "latitude", "longitude", "position")


class AmendmentIn(Schema):
    """The version read, and only the facts to correct: a fact left out stays as it is."""

    version = fields.Integer(
        strict=True,
        required=True,
        validate=ID,
        metadata={"description": "the incident's version as you read it; 409 with the facts now if amended since"},
    )
    occurred_at = RecentMoment()
    position_text = Name(
        allow_none=True,
        validate=Length(max=120),
        metadata={
            "description": "the position as reported, as filing takes it: decimal degrees, DMS, DDM or MGRS (422 "
            "when it cannot be read, is ambiguous, or disagrees with latitude and longitude, which it gives when "
            "they are left out). Null or empty with no latitude and longitude: no position. The distance to the "
            "border follows it, and the sector when it was derived from the position (one given by hand stays "
            "unless sector is given too)",
            "examples": ["54 24 43N 022 52 16E"],
        },
    )
    latitude = Coordinate(
        allow_none=True, validate=Range(-90, 90), metadata={"description": "with longitude (both or neither)"}
    )
    longitude = Coordinate(
        allow_none=True, validate=Range(-180, 180), metadata={"description": "with latitude (both or neither)"}
    )
    position = Name(
        allow_none=True,
        validate=Length(max=120),
        metadata={
            "description": "the position as text alone, as position_text without latitude and longitude (kept for "
            "clients written before position_text; not with them: 422)",
            "deprecated": True,
        },
    )
    sector = Text(
        allow_none=True, validate=Length(max=120), metadata={"description": "null or empty: from the position"}
    )
    domain = fields.Enum(Domain, by_value=True)
    category = Text(validate=OneOf(all_categories()), metadata={"description": "one of the domain's categories"})
    precedence = fields.Enum(
        Precedence,
        by_value=True,
        metadata={"description": "a higher one shortens the running deadline; a lower one takes a supervisor"},
    )
    safety_risk = fields.Enum(SafetyRisk, by_value=True, allow_none=True)
    escalation_risk = fields.Enum(EscalationRisk, by_value=True)
    platforms = fields.List(
        fields.Nested(PlatformAsKept), validate=Length(max=20), metadata={"description": "all of them"}
    )
    cpa_horizontal = fields.Nested(CpaHorizontalIn, allow_none=True, metadata={"description": "null: not known"})
    cpa_vertical = fields.Nested(CpaVerticalIn, allow_none=True, metadata={"description": "null: not known"})
    actions_taken = Text(as_kept=True, validate=Length(max=4000))
    observed_forces = fields.Nested(ObservedForcesIn, allow_none=True, metadata={"description": "null: none"})
    narrative_addendum = Text(
        metadata={"description": "added under the narrative (which is never overwritten), up to NARRATIVE_MAX_LENGTH"}
    )

    @post_load
    def _read_position(self, data, **kwargs):
        """position_text, latitude and longitude read as filing reads them, into the one position the
        amendment gives (amended_columns.Amendment: text, a position read, or None for none)."""
        named = [name for name in ("position_text", "latitude", "longitude") if name in data]
        if not named:
            return data
        if "position" in data:
            raise MarshmallowError("give position_text (with latitude and longitude) or position, not both", "position")
        typed = (data.pop("position_text", None) or "").strip()
        latitude, longitude = data.pop("latitude", None), data.pop("longitude", None)
        if (latitude is None) != (longitude is None):
            raise MarshmallowError(
                "give latitude and longitude together", "latitude" if latitude is None else "longitude"
            )
        if typed:
            data["position"] = read_reported(typed, latitude, longitude)
        else:  # coordinates without a text, or nothing: no position
            data["position"] = None if latitude is None else Position(latitude, longitude, "")
        return data

    def handle_error(self, error: MarshmallowError, data, *, many: bool, **kwargs) -> None:
        """Tell what amending refuses of the facts read (amending.problems: a sector nobody names, an airprox class
        on a land incident, a time after the report, an addition too long, a CPA too large in its unit, ...), and
        the position as _read_position reads it, in the same 422 as the schema's own problems: they were told only
        once these were mended, in a second 422. Only on a refusal: a valid amendment is checked once, by amending.
        A fact the schema refused is left out, and the category and safety risk with a refused domain, which
        amending would hold to the domain as it stands."""
        told = error.messages if isinstance(error.messages, dict) else {}
        refused = {field.split(".")[0] for field in told}
        if "domain" in refused:
            refused |= {"category", "safety_risk"}
        if refused & set(POSITION):  # a position is given by them together
            refused |= set(POSITION)
        valid = error.valid_data if isinstance(error.valid_data, dict) else {}
        read = {name: value for name, value in valid.items() if name not in refused}
        read.pop("version", None)  # amending's checks of the facts read no version
        addendum = read.pop("narrative_addendum", "")
        more: dict = {}
        try:
            read = self._read_position(read)
        except MarshmallowError as unread:
            more.update(unread.normalized_messages())
            for name in POSITION:
                read.pop(name, None)
        amendment = amending.Amendment(0, read, addendum)
        reference = (request.view_args or {}).get("reference", "")
        limits = wiring.filing_limits()
        more.update(amending.problems(get_session(), reference, amendment, caller(), limits, utcnow()))
        # Each in the schemas' shape, a list of sentences, by the error handler (http.errors._problems).
        new = {field: said for field, said in more.items() if field.split(".")[0] not in told}
        if new:
            raise MarshmallowError({**told, **new}, data=error.data, valid_data=error.valid_data)


class RouteRefOut(Schema):
    rule_id = fields.Integer(allow_none=True)
    rule = fields.String(allow_none=True)
    policy_id = fields.Integer(allow_none=True)
    policy = fields.String(allow_none=True)


class PreviewStepOut(Schema):
    ack_seconds = fields.Integer()
    channels = fields.List(fields.String())


class RouteChoiceOut(RouteRefOut):
    steps = fields.List(fields.Nested(PreviewStepOut))


class ReroutePreviewOut(Schema):
    """Which rule and policy routing would choose for the amended facts, beside the running ones."""

    running = fields.Nested(RouteRefOut)
    now = fields.Nested(RouteChoiceOut, allow_none=True, metadata={"description": "null: routing is not configured"})
    differs = fields.Boolean(allow_none=True)
    moved = fields.Boolean(metadata={"description": "always false: an amendment never moves a running ladder"})
    note = fields.String()


class ApprovalAgainOut(Schema):
    """A text for the other side approved on the facts as they were: it needs approving again."""

    kind = fields.String(metadata={"enum": ["summary", "message"]})
    id = fields.Integer()
    exchange_id = fields.Integer(allow_none=True)
    approved_by = fields.String(allow_none=True)


class DeadlineChangeOut(Schema):
    of = fields.String(metadata={"description": "escalation (open) or acknowledgement timeout (acknowledged)"})
    before = fields.String(metadata={"description": "ISO 8601 UTC"})
    after = fields.String(metadata={"description": "never later than before"})
    step = fields.Integer()
    window_seconds = fields.Integer(metadata={"description": "the new precedence's window"})


class AmendmentOut(Schema):
    event_id = fields.Integer(metadata={"description": "the amended event on the timeline"})
    fields_changed = fields.List(fields.String(), data_key="fields")
    before = fields.Dict(metadata={"description": "each changed fact before"})
    after = fields.Dict(metadata={"description": "each changed fact after"})
    addendum = fields.String(allow_none=True)
    deadline = fields.Nested(DeadlineChangeOut, allow_none=True, metadata={"description": "after a new precedence"})
    reroute = fields.Nested(
        ReroutePreviewOut, allow_none=True, metadata={"description": "when a fact routing looks at changed"}
    )
    reapproval = fields.List(fields.Nested(ApprovalAgainOut), metadata={"description": "texts to approve again"})
    told = fields.List(
        fields.String(),
        metadata={"description": "the lines called on the current step, told of a raised precedence and its deadline"},
    )


class AmendedOut(IncidentDetailOut):
    amendment = fields.Nested(AmendmentOut)
