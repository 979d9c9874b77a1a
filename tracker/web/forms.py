"""Forms (Flask-WTF: every form carries a CSRF token; base_form: every text field refuses what
the database cannot keep)."""

from wtforms import (
    BooleanField,
    EmailField,
    FormField,
    HiddenField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from ..models import CATEGORIES, Domain, EscalationRisk, Precedence, Role, SafetyRisk, all_categories, categories_for
from ..models.enums import UNUSUAL_ACTIVITY, category_label
from ..models.labels import label
from ..services.engine.message_text import PROSIGN
from .base_form import (
    PAST_WHEN,
    NumberField,
    RowList,
    SubForm,
    TrackerForm,
    VersionField,
    WholeNumberField,
    whole_choice,
)
from .marking import CheckboxesField
from .measure_fields import MeasureFields


class SignInForm(TrackerForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("Password", validators=[DataRequired()])


class PasswordForm(TrackerForm):
    # InputRequired: a password of spaces is typed, and judged by its length (DataRequired said "This field is
    # required." of eight spaces typed).
    current_password = PasswordField("Current password", validators=[InputRequired()])
    password = PasswordField("New password (8 characters or more)", validators=[InputRequired(), Length(min=8)])


class ActionForm(TrackerForm):
    """A button that changes something: only the CSRF token."""


class CommentForm(TrackerForm):
    text = TextAreaField("Comment", validators=[DataRequired(), Length(max=4000)])
    # A one-time key made when the page is drawn, as the filing form's: a second submission of the same
    # form (a double click, a page sent again) adds nothing.
    comment_key = HiddenField()


class ResolveForm(TrackerForm):
    resolution = TextAreaField("Resolution", validators=[DataRequired(), Length(max=4000)])


class OpenExchangeForm(TrackerForm):
    channel_id = SelectField("Counterpart line", coerce=whole_choice, choices=[], validators=[DataRequired()])
    text = TextAreaField(
        "Notice to the other side (optional)",
        validators=[Optional(), Length(max=8000)],
        description="drafted: sent once a second person approved it; only what may be released to the other side",
    )


class ExchangeActionForm(TrackerForm):
    """One text and a button per next state (the button's value is the state)."""

    state = HiddenField(validators=[DataRequired()])
    version = HiddenField()
    text = TextAreaField(
        "Text sent, or what the other side said",
        validators=[Optional(), Length(max=8000)],
        description="needed for a request; for an answer, what they said; a note for closing",
    )
    # Said with "Record receipt confirmed" only (exchanges.transition): how their receipt reached us.
    via = SelectField(
        "How they confirmed receipt",
        choices=[
            SelectChoice("", "not said"),
            SelectChoice("call", "on a call"),
            SelectChoice("message", "by a message"),
            SelectChoice("voice", "by voice on the line"),
        ],
        validators=[Optional()],
        description="for “Record receipt confirmed”; with their words above and nothing chosen: by a message",
    )


def as_kind(value):
    """A message kind as typed ("Meeting notes") as the word it is (meeting_notes): a WTForms filter."""
    return "_".join(value.lower().split()) if isinstance(value, str) else value


class ExchangeMessageForm(TrackerForm):
    direction = SelectField("Direction", choices=[SelectChoice("in", "from them"), SelectChoice("out", "to them")])
    kind = StringField(
        "Kind",
        default="message",
        validators=[DataRequired(), Length(max=32)],
        filters=[as_kind],
        description="reply, refusal, meeting notes... as offered; message moves nothing",
    )
    text = TextAreaField("Message", validators=[DataRequired(), Length(max=8000)])
    received_at = StringField(
        f"Received at (from them; {PAST_WHEN}; empty: now)",
        validators=[Optional(), Length(max=40)],
        description="When their message reached us, if not just now.",
    )


# A fact of the other side's platform: yes, no, or not known (not known is stored as nothing, never as no).
YES_NO = [SelectChoice("", "not known"), SelectChoice("yes", "yes"), SelectChoice("no", "no")]


def flag(value: str | None) -> bool | None:
    """A YES_NO answer as stored: True, False, or None when not known."""
    return {"yes": True, "no": False}.get(value or "")


class IncidentForm(MeasureFields, TrackerForm):
    occurred_at = StringField(
        "Occurred at (UTC: 2310Z, 052310Z, a DTG such as 052310ZDEC26, or ISO 8601)",
        validators=[DataRequired(), Length(max=40)],
    )
    reporting_unit = StringField("Reporting unit", validators=[DataRequired(), Length(max=120)])
    domain = SelectField("Domain", choices=[])
    # No default either: the first category of the list is not a guess anyone made.
    category = SelectField(
        "Category",
        choices=[SelectChoice("", "Choose…")] + [SelectChoice(c, category_label(c)) for c in all_categories()],
        validators=[DataRequired(message="Choose the category.")],
    )
    # The notations are a placeholder (web/file.html): the line under the field reads back what was typed.
    position = StringField("Position (decimal degrees, DMS, DDM or MGRS)", validators=[Optional(), Length(max=120)])
    # One of the region's sectors (the view offers them), or the one the position lies in (the empty
    # choice, which the page sets to the position's sector as it is typed).
    sector = SelectField("Sector", choices=[], validate_choice=False)
    # "1" while the page's script keeps the sector on the position's own (app.js followSector): the sector is then
    # derived, and follows the position when it is amended; chosen otherwise, it was given by hand, and stays.
    sector_followed = HiddenField()
    # No default: a hurried officer must choose, not file FLASH by leaving the field alone.
    precedence = SelectField(
        "Precedence",
        choices=[SelectChoice("", "choose…")] + [SelectChoice(p.value, f"{p.value} {PROSIGN[p]}") for p in Precedence],
        validators=[DataRequired(message="Choose the precedence.")],
    )
    safety_risk = SelectField(
        "Safety risk (ICAO)",
        choices=[SelectChoice("", "not assessed")] + [SelectChoice(r.value, r.value) for r in SafetyRisk],
    )
    escalation_risk = SelectField(
        "Escalation risk",
        choices=[SelectChoice(r.value, r.value.replace("_", " ")) for r in EscalationRisk],
        default="serious",
    )
    platform_kind = StringField("Other side's platform", validators=[Optional(), Length(max=40)])
    platform_nationality = StringField("Nationality", validators=[Optional(), Length(max=40)])
    platform_type = StringField("Type", validators=[Optional(), Length(max=60)])
    platform_callsign = StringField("Callsign / hull number", validators=[Optional(), Length(max=60)])
    # Not ticked is not "off": what the officer does not know stays unknown.
    platform_transponder = SelectField("Transponder on", choices=YES_NO, default="")
    platform_radio = SelectField("Radio contact", choices=YES_NO, default="")
    narrative = TextAreaField("Narrative", validators=[Optional()])
    # The marking; the view offers the deployment's lists (web.marking.offer_choices).
    classification = SelectField("Classification", choices=[])
    releasable_to = CheckboxesField("Releasable to", choices=[], description="none ticked: not releasable")
    # What of it may go to the other side (services/exchanges/releasability.py); the view offers the fields
    # ticked as their defaults. The marker tells a form that showed them (none ticked: nothing releasable)
    # from a request without them (the defaults).
    releasable = CheckboxesField("Fields the other side may be told", choices=[])
    releasability_shown = HiddenField()
    # A one-time key made when the form is rendered: a second submission of the same form (a double
    # click, a page sent again) files nothing new and goes to the incident the first one filed.
    filing_key = HiddenField()

    def validate_category(self, field) -> None:
        """Refuse a category of another domain in words beside the field (the filing service says it in codes,
        for the API): a page without its script, or a domain changed after the category, sends one."""
        category_in_domain(self, field)

    def validate_sector(self, field) -> None:
        """Refuse a sector the region does not have: a typo would silently change the routing."""
        if field.data and field.data not in {choice.value for choice in field.choices}:
            raise ValidationError("Not a sector of the region: choose one from the list, or the position's.")


def category_in_domain(form, field) -> None:
    """The category chosen belongs to the domain chosen (a WTForms inline check of the filing and amend forms)."""
    domain = next((d for d in Domain if d.value == form.domain.data), None)
    # An unknown domain or category is refused as no choice of the list; none, by DataRequired.
    if domain is not None and (problem := category_outside(domain, field.data)):
        raise ValidationError(problem)


def category_outside(domain: Domain, category: object) -> str | None:
    """A page's words for a known category chosen outside the domain's, with the domain's in words; else None."""
    if category not in all_categories() or category in categories_for(domain):
        return None
    offered = ", ".join(category_label(c) for c in categories_for(domain))
    return f"{category_label(str(category))} is not a category of the {label(domain)} domain: choose one of {offered}."


# -- admin pages --------------------------------------------------------------------------


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def optional_id(value) -> int | None:
    """A select's value as an id; the empty choice means none."""
    return whole_choice(value) if value not in (None, "", "None") else None


def optional(enum):
    """Coerce a select's value to a member of enum; the empty choice means any (None)."""
    return lambda value: enum(value) if value not in (None, "", "None") else None


def _choices(members) -> list[SelectChoice]:
    return [SelectChoice(m.value, m.value.replace("_", " ")) for m in members]


def _any(label: str, members) -> list[SelectChoice]:
    return [SelectChoice("", label)] + _choices(members)


def category_choices(blank: str | None = None) -> list[SelectChoice]:
    """Categories grouped by domain; the one allowed in every domain has a group of its own."""
    first = [SelectChoice("", blank)] if blank else []
    return (
        first
        + [
            SelectChoice(c, category_label(c), optgroup=domain.value)
            for domain in CATEGORIES
            for c in CATEGORIES[domain]
        ]
        + [SelectChoice(UNUSUAL_ACTIVITY, category_label(UNUSUAL_ACTIVITY), optgroup="any domain")]
    )


class ReceiptSecondsField(StringField):
    """A counterpart line's receipt deadlines by precedence, typed as "Z=900 O=3600" (blank: the
    deployment's); the data is the mapping ladder.save_channel takes, or None."""

    def _value(self) -> str:
        if self.process_errors and self.raw_data:  # refused: the text as typed, to be corrected, not lost
            return self.raw_data[0]
        return " ".join(f"{k}={v}" for k, v in (self.data or {}).items()) if isinstance(self.data, dict) else ""

    def process_formdata(self, valuelist) -> None:
        text = (valuelist[0] if valuelist else "").replace(",", " ").strip()
        self.data = None
        if not text:
            return
        pairs = [part.partition("=") for part in text.split()]
        if any(not sep or k.strip().upper() not in {p.value for p in Precedence} for k, sep, _ in pairs):
            raise ValueError("write letter=seconds pairs, e.g. Z=900 O=3600 (letters Z, O, P, R)")
        try:
            self.data = {k.strip().upper(): int(v) for k, _, v in pairs}
        except ValueError:
            raise ValueError("the seconds are whole numbers, e.g. Z=900") from None


class ChannelForm(TrackerForm):
    version = VersionField()
    name = StringField("Name", validators=[DataRequired(), Length(max=120)], filters=[_strip])
    level = SelectField("Level", coerce=whole_choice, choices=[SelectChoice(str(n), f"L{n}") for n in range(1, 6)])
    counterpart = StringField(
        "Counterpart", validators=[Optional(), Length(max=120)], description="who answers on the other side"
    )
    transport = SelectField("Transport", choices=[])  # the deployment's transports, set by the view
    address = StringField(
        "Address",
        validators=[DataRequired(), Length(max=500)],
        description="e-mail address, webhook URL or Apprise URL (outbox: an e-mail address, or a label: north-desk)",
        filters=[_strip],
    )
    active = BooleanField("Active (escalations use it)", default=True)
    members = SelectMultipleField(
        "Members (liaison staff)", choices=[], description="Ctrl-click, or Shift with the arrow keys, to choose several"
    )
    check_interval_seconds = WholeNumberField(
        "Check every (seconds)", validators=[Optional(), NumberRange(60, 30 * 86400)], description="blank: no interval"
    )
    check_cron = StringField(
        "Or check on a cron schedule (UTC)",
        validators=[Optional(), Length(max=100)],
        description="minute hour day month weekday, e.g. 0 */6 * * *; leave the interval blank",
        filters=[_strip],
    )
    check_window_seconds = WholeNumberField(
        "Check window (seconds)",
        validators=[InputRequired(), NumberRange(10, 7 * 86400)],
        default=900,
        description="a check not confirmed in time fails",
    )
    counterpart_line = BooleanField("Line to the other side (carries exchanges, never ladder messages)")
    reply_deadline_seconds = WholeNumberField(
        "Reply due within (seconds)",
        validators=[Optional(), NumberRange(1, 90 * 86400)],
        default=172800,
        description="after we request an explanation; Vienna Document: 172800 (48 h)",
    )
    meeting_deadline_seconds = WholeNumberField(
        "Meeting due within (seconds)",
        validators=[Optional(), NumberRange(1, 90 * 86400)],
        default=172800,
        description="after we request a meeting; Vienna Document: 172800 (48 h)",
    )
    language = StringField(
        "Counterpart's language",
        validators=[Optional(), Regexp(r"^[a-z]{2,3}\Z", message="2 or 3 lower-case letters, e.g. ru")],
        description="ISO 639 code, e.g. ru or fr; blank: English only",
        filters=[_strip, lambda v: v or None],
    )
    our_station = StringField(
        "Our station (FM)", validators=[Optional(), Length(max=120)], filters=[_strip, lambda v: v or ""]
    )
    their_station = StringField(
        "Their station (TO)", validators=[Optional(), Length(max=120)], filters=[_strip, lambda v: v or ""]
    )
    counterpart_state = StringField(
        "Counterpart state", validators=[Optional(), Length(max=80)], filters=[_strip, lambda v: v or ""]
    )
    agreement_id = SelectField("Agreement", coerce=optional_id, choices=[])  # the agreements, set by the view
    receipt_seconds = ReceiptSecondsField(
        "Receipt due within (seconds, by precedence)",
        validators=[Optional(), Length(max=80)],
        description="e.g. Z=900 O=3600 P=21600 R=86400; blank or a letter left out: the deployment's",
    )


class StepForm(SubForm):
    """One row of a policy's ladder (a sub-form: the policy form carries the CSRF token)."""

    channel_ids = SelectMultipleField("Channels", coerce=whole_choice, choices=[])
    ack_seconds = WholeNumberField("Acknowledge within (seconds)", validators=[Optional(), NumberRange(1, 7 * 86400)])
    fallback_channel_id = SelectField("Fallback channel (when one is down)", coerce=optional_id, choices=[])
    by_decision = BooleanField(
        "By decision: a supervisor confirms it",
        description="political levels: when the step before runs out, supervisors are asked instead (not step 1)",
    )


class PolicyForm(TrackerForm):
    version = VersionField()
    name = StringField("Name", validators=[DataRequired(), Length(max=120)], filters=[_strip])
    description = TextAreaField("Description", validators=[Optional(), Length(max=2000)])
    repeat = WholeNumberField(
        "Repeat the last step (times)", validators=[InputRequired(), NumberRange(0, 50)], default=0
    )
    steps = RowList(FormField(StepForm), min_entries=5, max_entries=10)


class RuleForm(TrackerForm):
    version = VersionField()
    name = StringField("Name", validators=[DataRequired(), Length(max=120)], filters=[_strip])
    domain = SelectField("Domain", coerce=optional(Domain), choices=_any("any domain", Domain))
    category = SelectField("Category", coerce=lambda v: v or None, choices=category_choices("any category"))
    precedence = SelectField("Precedence", coerce=optional(Precedence), choices=_any("any precedence", Precedence))
    min_escalation_risk = SelectField(
        "Escalation risk at least", coerce=optional(EscalationRisk), choices=_any("any risk", EscalationRisk)
    )
    sector = StringField(
        "Sector",
        validators=[Optional(), Length(max=120)],
        description="blank: any; case does not matter",
        filters=[_strip, lambda v: v or None],
    )
    within_border_km = NumberField(
        "Within km of the border",
        validators=[Optional(), NumberRange(0, 1000)],
        description="blank: any distance; needs the incident's position (the preview takes one too)",
    )
    policy_id = SelectField("Policy", coerce=optional_id, choices=[], validators=[DataRequired("Choose a policy.")])
    active = BooleanField("Active", default=True)
    agreement_id = SelectField(
        "Agreement it sets", coerce=optional_id, choices=[], description="on the incidents it routes (blank: none)"
    )
    counterpart_state = StringField(
        "Counterpart state it sets",
        validators=[Optional(), Length(max=80)],
        description="blank: none",
        filters=[_strip, lambda v: v or None],
    )


class RoutePreviewForm(TrackerForm):
    """Which route would an incident take? A GET form that stores nothing, so it needs no CSRF token."""

    class Meta:
        csrf = False

    domain = SelectField("Domain", coerce=Domain, choices=_choices(Domain))
    category = SelectField("Category", choices=category_choices())
    precedence = SelectField(
        "Precedence", coerce=Precedence, choices=[SelectChoice(p.value, f"{p.value} {PROSIGN[p]}") for p in Precedence]
    )
    escalation_risk = SelectField(
        "Escalation risk", coerce=EscalationRisk, choices=_choices(EscalationRisk), default="serious"
    )
    sector = StringField("Sector", validators=[Optional(), Length(max=120)], filters=[_strip, lambda v: v or None])
    position = StringField(
        "Position",
        validators=[Optional(), Length(max=200)],
        filters=[_strip],
        description="optional, as filing takes it: gives the sector (unless named) and the distance to the border",
    )


class UserForm(TrackerForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=64)], filters=[_strip])
    full_name = StringField("Full name", validators=[Optional(), Length(max=120)], filters=[_strip])
    email = EmailField("E-mail", validators=[Optional(), Length(max=254)], filters=[_strip, lambda v: v or None])
    role = SelectField("Role", choices=_choices(Role))
    password = PasswordField("Password (8 characters or more)", validators=[DataRequired()])


class NewPasswordForm(TrackerForm):
    password = PasswordField("New password (8 characters or more)", validators=[DataRequired()])


class TokenForm(TrackerForm):
    # A one-time key made when the form is rendered: the page answering it shows the new token, and reloading
    # that page (the browser sends the form again) must not issue a second one.
    issue_key = HiddenField()
    name = StringField(
        "What the token is for",
        validators=[DataRequired(), Length(max=64)],
        filters=[_strip],
        description="e.g. the desk or the script that uses it",
    )
