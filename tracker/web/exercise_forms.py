"""Forms of the exercise pages. The fields carry text as typed, named like the CSV columns, so one
reader (services.exercise_import.read_fields) checks a form and a file alike."""

from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from ..services.exercises.csv_import import COLUMNS
from ..services.exercises.validity import VIA_LABELS
from .base_form import PAST_WHEN, TrackerForm

TIME_HINT = "UTC as ISO 8601 (2026-12-01T06:00:00Z) or a DTG (010600ZDEC26)"
NUMBER_HINT = "a whole number; 12700 or 12,700"


class ExerciseForm(TrackerForm):
    name = StringField("Name", validators=[Length(max=200)])
    states = StringField("States", validators=[Length(max=2000)], description="separate several with ;")
    starts_at = StringField("Starts", validators=[Length(max=40)], description=TIME_HINT)
    ends_at = StringField(
        "Ends", validators=[Length(max=40)], description=f"the last moment of the exercise; {TIME_HINT}"
    )
    area = TextAreaField(
        "Area: a polygon",
        validators=[Optional(), Length(max=100_000)],
        description="WKT, longitude first: POLYGON ((23.5 54.2, 24.2 54.2, 24.2 54.7, 23.5 54.2)); or GeoJSON",
    )
    centre = StringField(
        "or a centre",
        validators=[Optional(), Length(max=120)],
        description="54.40, 23.00 · 54 24 00N 023 00 00E · 34U FF 2142 3097",
    )
    radius_km = StringField("and a radius (km)", validators=[Optional(), Length(max=20)])
    declared_size = StringField(
        "Declared size (troops)", validators=[Optional(), Length(max=20)], description=NUMBER_HINT
    )
    battle_tanks = StringField("Battle tanks", validators=[Optional(), Length(max=20)])
    armoured_combat_vehicles = StringField("Armoured combat vehicles", validators=[Optional(), Length(max=20)])
    artillery_pieces = StringField(
        "Artillery pieces", validators=[Optional(), Length(max=20)], description="100 mm calibre and above"
    )
    airborne_troops = StringField(
        "Airborne or amphibious troops", validators=[Optional(), Length(max=20)], description="parachute or landing"
    )
    aircraft_sorties = StringField(
        "Combat aircraft sorties", validators=[Optional(), Length(max=20)], description="excluding helicopters"
    )
    snap = BooleanField("Carried out without advance notice (snap): notified when the troops commence it")
    ours = BooleanField("Our own exercise (we brief the other side)")
    notified_via = SelectField(
        "Notified by", choices=[SelectChoice("", "choose…")] + [SelectChoice(v.value, t) for v, t in VIA_LABELS.items()]
    )
    notified_at = StringField("Notified at", validators=[Optional(), Length(max=40)], description=TIME_HINT)
    notified_by = StringField("Notifying State", validators=[Optional(), Length(max=80)], description="e.g. Eastland")
    notified_to = StringField(
        "Notified to", validators=[Optional(), Length(max=200)], description="e.g. all participating States"
    )
    calendar_at = StringField(
        "In the annual calendar of",
        validators=[Optional(), Length(max=40)],
        description="when the annual calendar listing it came (ours: when we sent it); " + TIME_HINT,
    )
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=4000)])

    def cells(self) -> dict[str, str]:
        """The form's text by column name (a ticked box as "yes")."""
        cells = {}
        for name in COLUMNS:
            data = self[name].data
            cells[name] = ("yes" if data else "") if isinstance(data, bool) else (data or "")
        return cells


class BriefingForm(TrackerForm):
    briefed_at = StringField("Briefed at", validators=[Length(max=40)], description=PAST_WHEN)
    briefed_to = StringField("Briefed to", validators=[Length(max=200)], description="e.g. Eastland defence attaché")
    via = SelectField(
        "How", choices=[SelectChoice("", "choose…")] + [SelectChoice(v.value, t) for v, t in VIA_LABELS.items()]
    )
    content = TextAreaField("What we briefed", validators=[Optional(), Length(max=4000)])


class ImportForm(TrackerForm):
    file = FileField("CSV file", validators=[FileRequired("Choose a CSV file.")])
