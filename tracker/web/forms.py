"""Forms (Flask-WTF: every form carries a CSRF token)."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from ..models import EscalationRisk, Precedence, SafetyRisk, all_categories
from ..services.messages import PROSIGN


class SignInForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("Password", validators=[DataRequired()])


class PasswordForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[DataRequired()])
    password = PasswordField("New password (8 characters or more)", validators=[DataRequired(), Length(min=8)])


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token."""


class CommentForm(FlaskForm):
    text = TextAreaField("Comment", validators=[DataRequired(), Length(max=4000)])


class ResolveForm(FlaskForm):
    resolution = TextAreaField("Resolution", validators=[DataRequired(), Length(max=4000)])


class IncidentForm(FlaskForm):
    occurred_at = StringField(
        "Occurred at (UTC: ISO 8601 or DTG such as 061620ZDEC17)", validators=[DataRequired(), Length(max=40)]
    )
    reporting_unit = StringField("Reporting unit", validators=[DataRequired(), Length(max=120)])
    domain = SelectField("Domain", choices=[])
    category = SelectField("Category", choices=[SelectChoice(c, c.replace("_", " ")) for c in all_categories()])
    position = StringField(
        "Position (decimal degrees, DMS or MGRS)",
        validators=[Optional(), Length(max=120)],
        description="54.412, 22.871 · 54 24 43N 022 52 16E · 34U FF 2142 3097",
    )
    sector = StringField("Sector", validators=[Optional(), Length(max=120)])
    precedence = SelectField(
        "Precedence", choices=[SelectChoice(p.value, f"{p.value} {PROSIGN[p]}") for p in Precedence]
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
    platform_transponder = BooleanField("Transponder on")
    platform_radio = BooleanField("Radio contact")
    narrative = TextAreaField("Narrative", validators=[Optional()])
