"""The forms of the watch pages (web/watches.py): start a watch, log a line, hand over, notes, sign."""

from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..services.watches import handover, log
from .base_form import PAST_WHEN, NameField, TrackerForm


class StartWatchForm(TrackerForm):
    desk = NameField("Desk", validators=[Length(max=log.DESK_MAX_LENGTH)], description=f"Empty: {log.DESK}.")
    # Offered to supervisors and admins only: the others keep the watches they start.
    officer = SelectField("Officer on watch", choices=[], validate_choice=False)


class EntryForm(TrackerForm):
    text = TextAreaField(
        "Log line", validators=[DataRequired("Write what happened."), Length(max=log.ENTRY_MAX_LENGTH)]
    )
    incident = StringField(
        "Incident (reference, if it is about one)",
        validators=[Optional(), Length(max=20)],
        description="e.g. INC-2026-00042",
    )
    at = StringField(
        f"At (only when logging it later; {PAST_WHEN})",
        validators=[Optional(), Length(max=40)],
        description="Empty: the time it is logged.",
    )
    # A one-time key made when the page is drawn, as the filing form's: a log line sent twice (a double tap) is
    # logged once, and a line is never deleted.
    entry_key = HiddenField()


class HandoverForm(TrackerForm):
    incoming = SelectField("Hand over to", choices=[], validate_choice=False)
    notes = TextAreaField(
        "Notes for the incoming officer", validators=[Optional(), Length(max=handover.NOTES_MAX_LENGTH)]
    )


class NotesForm(TrackerForm):
    notes = TextAreaField(
        "Notes for the incoming officer", validators=[Optional(), Length(max=handover.NOTES_MAX_LENGTH)]
    )


class SignForm(TrackerForm):
    digest = HiddenField()  # what the incoming officer read: a brief regenerated since is not signed unseen
