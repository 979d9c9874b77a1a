"""The schemas of the ladder's configuration: contact lines and their checks, escalation policies, routing
rules, and the record of their changes."""

from apiflask import Schema, fields
from apiflask.validators import Length, OneOf, Range
from marshmallow import ValidationError as MarshmallowError
from marshmallow import validates_schema

from ..channels import withheld
from ..http.access import current_principal
from ..http.fields import RECENT, UTC, Count, Flag, Name, Number, Pattern, Query, RecentMoment, Text, Whole
from ..models import ChannelHealth, CheckOutcome, ContactChannel, Domain, EscalationRisk, Precedence, all_categories
from ..models.permissions import Permission, may
from ..services.engine.line_checks import ANSWERED_VIA
from ..services.incidents import ladder
from .schemas import ID, NAME, AgreementCode, version_count, version_read

# A counterpart line's reply and meeting deadlines (seconds), and its language code.
DEADLINE_MAX = ladder.RECEIPT_MAX_SECONDS
LANGUAGE = r"^[a-z]{2,3}$"


class ChannelIn(Schema):
    name = Name(required=True, validate=NAME)
    version = version_read()
    level = fields.Integer(
        strict=True, required=True, validate=Range(1, 5), metadata={"description": "ladder level L1-L5"}
    )
    counterpart = Text(load_default="", validate=Length(max=120))
    transport = Text(
        required=True, validate=OneOf(["outbox", "email", "webhook", "apprise"]), metadata={"examples": ["email"]}
    )
    address = Text(
        required=True,
        validate=Length(min=1, max=500),
        metadata={
            "description": "e-mail address, webhook URL, Apprise URL (outbox: one e-mail address, or a label of "
            "letters, digits and . _ + -)"
        },
    )
    active = Flag(load_default=True)
    members = fields.List(Text(), metadata={"description": "usernames of liaison staff"})
    secret = Text(
        load_only=True,
        validate=Length(min=16, max=64),
        metadata={
            "description": "webhook signing secret; generated when a webhook channel has none; 422 for a line of "
            "another transport"
        },
    )
    check_interval_seconds = fields.Integer(
        strict=True,
        allow_none=True,
        validate=Range(60, 30 * 86400),
        metadata={"description": "send a communications check this often (422 beside a check_cron: one or the other)"},
    )
    check_cron = Text(
        allow_none=True,
        validate=Length(max=100),
        metadata={"description": "or on this crontab schedule (UTC), e.g. '0 */6 * * *' (null the interval)"},
    )
    check_window_seconds = fields.Integer(
        strict=True, validate=Range(10, 7 * 86400), metadata={"description": "a check not confirmed in time fails"}
    )
    counterpart_line = Flag(
        metadata={"description": "a line to the other side: carries exchanges, never ladder messages"}
    )
    reply_deadline_seconds = fields.Integer(
        strict=True,
        validate=Range(1, DEADLINE_MAX),
        metadata={"description": "an explanation request's reply is due within this (Vienna Document: 172800, 48 h)"},
    )
    meeting_deadline_seconds = fields.Integer(
        strict=True,
        validate=Range(1, DEADLINE_MAX),
        metadata={"description": "a requested meeting is due within this (Vienna Document: 172800, 48 h)"},
    )
    language = Text(
        allow_none=True,
        validate=Pattern(LANGUAGE, error="a language code of 2 or 3 lower-case letters, e.g. ru"),
        metadata={
            "description": "the counterpart's language (ISO 639), e.g. ru; null: English only; 422 for a change "
            "while an exchange on the line is open (each writes in the language it was opened in)"
        },
    )
    our_station = Name(validate=Length(max=120), metadata={"description": "a counterpart line's FM station"})
    their_station = Name(validate=Length(max=120), metadata={"description": "a counterpart line's TO station"})
    counterpart_state = Name(validate=Length(max=80), metadata={"description": "the other State on the line"})
    agreement_id = fields.Integer(
        strict=True, allow_none=True, validate=ID, metadata={"description": "the agreement its messages cite"}
    )
    receipt_seconds = fields.Dict(
        keys=fields.String(validate=OneOf([p.value for p in Precedence])),
        values=fields.Integer(strict=True, validate=Range(60, DEADLINE_MAX)),
        allow_none=True,
        metadata={
            "description": 'a counterpart line\'s receipt deadlines by precedence, e.g. {"Z": 900, "O": 3600}; '
            "a letter left out (or null): the deployment's RECEIPT_SECONDS",
            "examples": [{"Z": 600, "O": 1800}],
        },
    )


def shown_address(channel: ContactChannel) -> str:
    """The line's address whole for those who manage lines (they set it), else with its secret withheld."""
    caller = current_principal()
    if caller is not None and may(caller.role, Permission.CHANNELS_MANAGE):
        return channel.address
    return withheld(channel.transport, channel.address)


class ConfigChangeQuery(Query):
    subject = Text(
        validate=OneOf(["line", "policy", "rule", "agreement"]),
        metadata={"description": "line, policy, rule or agreement: changes of that kind only"},
    )
    subject_id = Count(validate=ID, metadata={"description": "with subject (422 without it): that one only"})
    page = Count(load_default=1, validate=ID)
    per_page = Count(
        validate=Range(min=1, max=200),
        metadata={"description": "rows a page; none given: PAGE_SIZE_DEFAULT (50 unless configured)", "default": 50},
    )

    @validates_schema
    def _an_id_names_one_subject(self, data, **kwargs):
        # Lines, policies, rules and agreements number their rows apart: an id alone names several things.
        if data.get("subject_id") is not None and data.get("subject") is None:
            raise MarshmallowError("give subject too: line 3 and rule 3 are different things", "subject_id")


class ConfigChangeOut(Schema):
    id = fields.Integer()
    at = UTC()
    actor = fields.String(metadata={"description": "who made it (system: no signed-in user, e.g. the demo)"})
    action = fields.String(metadata={"description": "created, changed or deleted"})
    subject = fields.String(metadata={"description": "line, policy, rule or agreement"})
    subject_id = fields.Integer(allow_none=True)
    name = fields.String()
    changes = fields.Dict(
        metadata={
            "description": "each fact changed as {before, after}; a created or deleted one's facts whole; secrets "
            "(a webhook's secret, a webhook's or Apprise line's address) only as (withheld)"
        }
    )


class ConfigChangePage(Schema):
    items = fields.List(fields.Nested(ConfigChangeOut))
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()


class ChannelOut(Schema):
    id = fields.Integer()
    version = version_count()
    name = fields.String()
    level = fields.Integer()
    counterpart = fields.String()
    transport = fields.String()
    address = fields.Function(
        shown_address,
        metadata={
            "type": "string",
            "description": "a webhook's or Apprise URL's secret part is withheld from all but admins",
        },
    )
    active = fields.Boolean()
    members = fields.List(fields.String(), attribute="member_names")
    health = fields.Enum(ChannelHealth, by_value=True, metadata={"description": "ok, degraded or down"})
    tested = fields.Function(
        lambda channel: channel.last_check_at is not None,
        metadata={
            "type": "boolean",
            "description": "false: the line was never checked, so its ok health is untested (pages say so)",
        },
    )
    consecutive_failures = fields.Integer()
    check_interval_seconds = fields.Integer(allow_none=True)
    check_cron = fields.String(allow_none=True)
    check_window_seconds = fields.Integer()
    next_check_at = UTC(allow_none=True)
    last_check_at = UTC(allow_none=True)
    last_check_ok_at = UTC(allow_none=True)
    counterpart_line = fields.Boolean()
    reply_deadline_seconds = fields.Integer()
    meeting_deadline_seconds = fields.Integer()
    language = fields.String(allow_none=True)
    our_station = fields.String()
    their_station = fields.String()
    counterpart_state = fields.String()
    agreement_id = fields.Integer(allow_none=True)
    agreement = AgreementCode()
    receipt_seconds = fields.Dict(keys=fields.String(), values=fields.Integer(), allow_none=True)


class ChannelWithSecretOut(ChannelOut):
    secret = fields.String(
        allow_none=True,
        metadata={"description": "the webhook signing secret, in the answer that made or set it only (shown once)"},
    )


class CheckOut(Schema):
    id = fields.Integer()
    requested_by = fields.String()
    sent_at = UTC()
    due_by = UTC()
    outcome = fields.Enum(CheckOutcome, by_value=True)
    decided_at = UTC(allow_none=True)
    detail = fields.String(allow_none=True)
    health_after = fields.Enum(ChannelHealth, by_value=True, allow_none=True)
    health_before = fields.String(
        allow_none=True,
        metadata={"description": "the line's health before, when this check's decision changed it (else null)"},
    )
    failures_in_a_row = fields.Integer(
        allow_none=True, metadata={"description": "the line's run of unconfirmed checks as this decision left it"}
    )
    supervisors_told_at = UTC(
        attribute="alert_sent_at",
        allow_none=True,
        metadata={"description": "when every active supervisor was told of the change (null: not yet, or none)"},
    )
    serial = fields.Integer(allow_none=True, metadata={"description": "on a counterpart line: its serial of the line"})
    serial_year = fields.Integer(allow_none=True)
    answered_by = fields.String(allow_none=True, metadata={"description": "who answered on the line or by voice"})
    answered_via = fields.String(allow_none=True, metadata={"description": "voice or line"})


class CheckAnswerIn(Schema):
    at = RecentMoment(required=True, metadata={"description": f"when they answered: {RECENT}; not in the future"})
    by = Text(required=True, validate=Length(min=1, max=120), metadata={"examples": ["Capt Ivanova, duty officer"]})
    via = Text(
        required=True,
        validate=OneOf(ANSWERED_VIA),
        metadata={"description": "voice (a call on the line) or line (a reply message on it)"},
    )


class StepIn(Schema):
    channel_ids = fields.List(fields.Integer(strict=True, validate=ID), required=True, validate=Length(min=1, max=20))
    ack_seconds = fields.Integer(
        strict=True,
        allow_none=True,
        validate=Range(1, 7 * 86400),
        metadata={"description": "omit or null: from precedence (Z 600, O 1800, P 10800, R 21600)"},
    )
    fallback_channel_id = fields.Integer(
        strict=True,
        allow_none=True,
        validate=ID,
        metadata={"description": "used instead of any channel of the step that is down"},
    )
    by_decision = Flag(
        load_default=False,
        metadata={"description": "entered only when a supervisor confirms it (not the first step)"},
    )


class PolicyIn(Schema):
    name = Name(required=True, validate=NAME)
    version = version_read()
    description = Text(load_default="", validate=Length(max=2000))
    repeat = fields.Integer(
        strict=True, load_default=0, validate=Range(0, 50), metadata={"description": "times the last step repeats"}
    )
    steps = fields.List(Whole(StepIn), required=True, validate=Length(min=1, max=10))


class StepOut(Schema):
    position = fields.Integer()
    ack_seconds = fields.Integer(allow_none=True)
    channel_ids = fields.List(fields.Integer())
    channels = fields.List(fields.String(), attribute="channel_names")
    fallback_channel_id = fields.Integer(allow_none=True)
    by_decision = fields.Boolean()


class PolicyOut(Schema):
    id = fields.Integer()
    version = version_count()
    name = fields.String()
    description = fields.String()
    repeat = fields.Integer()
    steps = fields.List(fields.Nested(StepOut))


class RuleIn(Schema):
    name = Name(required=True, validate=NAME)
    version = version_read()
    position = fields.Integer(strict=True, validate=Range(0, 1_000_000))
    is_default = Flag(load_default=False)
    active = Flag()
    domain = fields.Enum(Domain, by_value=True, allow_none=True)
    category = Text(allow_none=True, validate=OneOf(all_categories()))
    precedence = fields.Enum(Precedence, by_value=True, allow_none=True)
    min_escalation_risk = fields.Enum(EscalationRisk, by_value=True, allow_none=True)
    sector = Name(allow_none=True, validate=Length(min=1, max=120))
    within_border_km = Number(
        allow_none=True, validate=Range(0, 1000), metadata={"description": "incidents at most this far from the border"}
    )
    policy_id = fields.Integer(strict=True, required=True, validate=ID)
    agreement_id = fields.Integer(
        strict=True,
        allow_none=True,
        validate=ID,
        metadata={"description": "set on the incidents it routes (unless filed with their own)"},
    )
    counterpart_state = Name(
        allow_none=True, validate=Length(max=80), metadata={"description": "the other State, set like agreement_id"}
    )


class RuleOut(Schema):
    id = fields.Integer()
    version = version_count()
    name = fields.String()
    position = fields.Integer()
    is_default = fields.Boolean()
    active = fields.Boolean()
    domain = fields.Enum(Domain, by_value=True, allow_none=True)
    category = fields.String(allow_none=True)
    precedence = fields.Enum(Precedence, by_value=True, allow_none=True)
    min_escalation_risk = fields.Enum(EscalationRisk, by_value=True, allow_none=True)
    sector = fields.String(allow_none=True)
    within_border_km = fields.Float(allow_none=True)
    policy_id = fields.Integer()
    policy = fields.String(attribute="policy_name")
    agreement_id = fields.Integer(allow_none=True)
    agreement = AgreementCode()
    counterpart_state = fields.String(allow_none=True)
