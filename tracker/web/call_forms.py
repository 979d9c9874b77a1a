"""The forms of the call log's pages (web/calls.py): start a call, then fill it in and end it."""

from wtforms import FormField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional, Regexp

from ..services.exchanges import calls
from .base_form import PAST_WHEN, RowList, SubForm, TrackerForm, whole_choice

# A due time said without its date is the first such moment from the call's start (timeutil.ZuluTime.first_from).
WHEN = "UTC: 1800Z, 071800Z, a DTG such as 271405ZNOV26 or ISO 8601"
# "Due in" choices a desk picks on the phone: seconds from now.
DUE_IN = [
    SelectChoice("", "pick a time or type one"),
    SelectChoice("1800", "30 min"),
    SelectChoice("3600", "1 h"),
    SelectChoice("7200", "2 h"),
    SelectChoice("21600", "6 h"),
    SelectChoice("86400", "24 h"),
]
DIRECTIONS = [SelectChoice("we_called", "we called"), SelectChoice("they_called", "they called")]


class StartCallForm(TrackerForm):
    channel_id = SelectField("Line", coerce=whole_choice, choices=[])
    direction = SelectField("Who called", choices=DIRECTIONS)
    exchange_id = HiddenField()
    call_key = HiddenField()  # one-time key: a second tap on "Call started" starts no second call
    started_at = StringField(
        f"Started at (only when logging it later; {PAST_WHEN})",
        validators=[Optional(), Length(max=40)],
        description="Empty: the button stamps the time now.",
    )


class ActionForm(SubForm):
    """One agreed action (a sub-form: the call's form carries the CSRF token)."""

    text = StringField("Agreed action", validators=[Optional(), Length(max=calls.ACTION_MAX_LENGTH)])
    # Rows left blank post nothing: the choices are checked where a row has a text (web/calls.py).
    party = SelectField(
        "Who does it", choices=[SelectChoice("us", "we do"), SelectChoice("them", "they do")], validate_choice=False
    )
    due_in = SelectField("Due in", choices=DUE_IN, validate_choice=False)
    due_at = StringField(f"or due at ({WHEN})", validators=[Optional(), Length(max=40)])


class CallForm(TrackerForm):
    version = HiddenField()
    started_at = StringField(f"Started at (to correct it; {PAST_WHEN})", validators=[Optional(), Length(max=40)])
    ended_at = StringField(
        f"Ended at (only when logging it later; {PAST_WHEN})",
        validators=[Optional(), Length(max=40)],
        description="Empty: “Call ended” stamps the time now.",
    )
    our_speaker = StringField("Our speaker", validators=[Length(max=calls.NAMES["our_speaker"])])
    their_name = StringField("Their speaker: name", validators=[Length(max=calls.NAMES["their_name"])])
    their_rank = StringField("Their rank", validators=[Length(max=calls.NAMES["their_rank"])])
    their_post = StringField("Their post", validators=[Length(max=calls.NAMES["their_post"])])
    interpreter = StringField("Interpreter", validators=[Length(max=calls.NAMES["interpreter"])])
    language = StringField(
        "Language",
        validators=[
            Optional(),
            Length(max=8),
            Regexp(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?\Z", message="a language code such as ru or en-GB"),
        ],
    )
    we_said = TextAreaField("What we said", validators=[Length(max=calls.TEXT_MAX_LENGTH)])
    they_said = TextAreaField("What they said", validators=[Length(max=calls.TEXT_MAX_LENGTH)])
    moves_to = SelectField(
        "The call moved the exchange to",
        choices=[],
        validate_choice=False,
        description="A request of ours made on the call had no second person to approve it: it is recorded as "
        "by call, not approved. A written request still goes through approval.",
    )
    actions = RowList(FormField(ActionForm), min_entries=3, max_entries=calls.MAX_ACTIONS)
