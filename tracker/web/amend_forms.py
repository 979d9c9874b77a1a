"""The amend form: the filing form's fields for the facts an amendment may correct, filled with the facts as
they stand, and what a submitted form asks to change (only the fields the officer changed, so that a time
shown as a DTG or a position shown as typed is never "changed" by being shown)."""

from collections.abc import Iterator

from wtforms import FormField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from ..geo import parse_position, plain_degrees
from ..models import Domain, EscalationRisk, Incident, Precedence, SafetyRisk
from ..services.incidents import measures, platform_words
from ..text import same_wording
from ..timeutil import format_dtg, parse_recent, utcnow
from .base_form import RowList, SubForm, TrackerForm, as_kept
from .forms import YES_NO, IncidentForm, category_in_domain, flag
from .measure_fields import MeasureFields, cpa_given, forces_given, measured

PLATFORM_FLAGS = ("transponder_on", "radio_contact")
MAX_PLATFORMS = 20


class PlatformForm(SubForm):
    """One of the other side's platforms (a sub-form: the amend form carries the CSRF token)."""

    kind = StringField("Platform", validators=[Optional(), Length(max=40)])
    nationality = StringField("Nationality", validators=[Optional(), Length(max=40)])
    type = StringField("Type", validators=[Optional(), Length(max=60)])
    callsign = StringField("Callsign / hull number", validators=[Optional(), Length(max=60)])
    transponder_on = SelectField("Transponder on", choices=YES_NO, default="")
    radio_contact = SelectField("Radio contact", choices=YES_NO, default="")


class AmendForm(MeasureFields, TrackerForm):
    # The same fields as the filing form's, so that both read and check them alike.
    occurred_at = IncidentForm.occurred_at
    domain = IncidentForm.domain
    category = IncidentForm.category
    position = IncidentForm.position
    sector = StringField(
        "Sector",
        validators=[Optional(), Length(max=120)],
        description="blank: from the position, and it follows the position; "
        "one given by hand stays when the position moves",
    )
    precedence = IncidentForm.precedence
    safety_risk = IncidentForm.safety_risk
    escalation_risk = IncidentForm.escalation_risk
    platforms = RowList(FormField(PlatformForm), min_entries=1, max_entries=MAX_PLATFORMS)
    narrative_addendum = TextAreaField(
        "Add to the narrative",
        validators=[Optional()],
        description="kept under the narrative with the time and your name; the narrative itself stays as filed",
    )
    version = HiddenField()  # read by base_form.version_of: a missing or altered one is refused there
    # A one-time key made when the page is drawn, as the filing form's: the form sent twice (a double tap) amends
    # once, and the second answer is the first's, never a 409 telling the officer to send the addition again.
    amend_key = HiddenField()

    def validate_category(self, field) -> None:
        """As on the filing form: a category of another domain is refused in words beside the field."""
        category_in_domain(self, field)


def _flag(value) -> str:
    return "" if value is None else "yes" if value else "no"


def platform_data(platform: dict) -> dict:
    return {
        **{key: platform.get(key) or "" for key in platform_words.NAMES},
        **{key: _flag(platform.get(key)) for key in PLATFORM_FLAGS},
    }


def _position(incident: Incident) -> str:
    """The position as typed, or in decimal degrees when it came without its text (API filing)."""
    if incident.latitude is None or incident.longitude is None:
        return ""
    return incident.position_text or f"{plain_degrees(incident.latitude)}, {plain_degrees(incident.longitude)}"


def initial(incident: Incident) -> dict:
    """The form's data for the incident as it stands (every platform, and one empty row to add one while there is
    room: the 20th of 20, left off for that row, was dropped by an amendment of another platform)."""
    platforms = [platform_data(p) for p in incident.platforms or []]
    return {
        "occurred_at": format_dtg(incident.occurred_at),
        "domain": incident.domain.value,
        "category": incident.category,
        "position": _position(incident),
        "sector": incident.sector or "",
        "precedence": incident.precedence.value,
        "safety_risk": incident.safety_risk.value if incident.safety_risk else "",
        "escalation_risk": incident.escalation_risk.value,
        "platforms": platforms + [platform_data({})] * (len(platforms) < MAX_PLATFORMS),
        **measured(incident),
        "narrative_addendum": "",
        "version": str(incident.version),
    }


def platforms_of(rows: list[dict]) -> list[dict]:
    """The platforms typed: the empty rows left out, the unknown flags too."""
    found = []
    for row in rows:
        platform = {key: row[key].strip() for key in platform_words.NAMES if (row.get(key) or "").strip()}
        flags = {key: known for key in PLATFORM_FLAGS if (known := flag(row.get(key))) is not None}
        if platform or flags:
            found.append({**platform, **flags})
    return found


def _same(typed, shown) -> bool:
    """Whether a value is as the form showed it; a text in the same words (text.same_wording, as the service reads
    an amendment): one stored from a page before its line breaks were read as line feeds holds CR LF."""
    if isinstance(typed, str) and isinstance(shown, str):
        return same_wording(typed.strip(), shown.strip())
    return typed == shown


def changed(form: AmendForm, shown: dict, platforms_sent: bool = True) -> set[str]:
    """The fields the officer changed from what the form showed; the platforms as one (all of them), and only
    when the request carried their rows."""
    names = {n for n in shown if n in form and n != "platforms" and not _same(form[n].data, shown[n])}
    if platforms_sent and platforms_of(form.platforms.data) != platforms_of(shown["platforms"]):
        names.add("platforms")
    return names


def hold_changes_to_the_rule(form: AmendForm, shown: dict, platforms_sent: bool = True) -> None:
    """Hold only the fields the officer changed to the text rule (before the form is validated): one sent back
    as shown is no amendment of it and nothing is written for it, so a text kept before bidirectional controls
    were refused does not stop the amendment of another fact. A changed one is refused, the controls named."""
    for name in set(shown) - changed(form, shown, platforms_sent):
        if name in form:
            as_kept(form[name])


def changes(form: AmendForm, shown: dict, platforms_sent: bool = True) -> dict:
    """What the submitted form asks to change, against what it showed (typed values; a time that cannot be
    read is put beside its field); on a form its own checks refused, only what they passed (refused)."""
    differs = changed(form, shown, platforms_sent) - refused(form)
    asked: dict = {}
    if "occurred_at" in differs:
        try:
            asked["occurred_at"] = parse_recent(form.occurred_at.data or "", utcnow())
        except ValueError as exc:
            form.occurred_at.errors.append(str(exc))
    for name in ("position", "sector", "actions_taken"):
        if name in differs:
            asked[name] = (form[name].data or "").strip()
    if differs & {"domain", "category"}:
        asked.update(domain=Domain(form.domain.data), category=form.category.data)
    for name, kind in (("precedence", Precedence), ("escalation_risk", EscalationRisk)):
        if name in differs:
            asked[name] = kind(form[name].data)
    if "safety_risk" in differs:
        asked["safety_risk"] = SafetyRisk(form.safety_risk.data) if form.safety_risk.data else None
    if "platforms" in differs:
        asked["platforms"] = platforms_of(form.platforms.data)
    cpa = cpa_given(form)
    for name in ("cpa_horizontal", "cpa_vertical"):
        if {name, f"{name}_unit"} & differs:
            asked[name] = cpa[name]
    if differs & set(measures.OBSERVED_FORCES):
        asked["observed_forces"] = forces_given(form)
    return asked


def refused(form: AmendForm) -> set[str]:
    """The fields the form's own checks refused (none on a form they pass), with those read together with them: a
    domain and its category (and the safety risk, which amending holds to the domain), a CPA and its unit."""
    names = set(form.errors)
    if names & {"domain", "category"}:
        names |= {"domain", "category"} | ({"safety_risk"} if "domain" in names else set())
    for name in ("cpa_horizontal", "cpa_vertical"):
        if names & {name, f"{name}_unit"}:
            names |= {name, f"{name}_unit"}
    return names


def read_typed(form: AmendForm, shown: dict) -> None:
    """Put a problem with a changed time or position beside its field, for a form whose own checks failed: every
    problem at once, as on the filing form, not the time's and the position's only once the rest is right."""
    for name, read in (("occurred_at", lambda typed: parse_recent(typed, utcnow())), ("position", parse_position)):
        typed = (form[name].data or "").strip()
        if typed and not _same(typed, shown[name]):
            try:
                read(typed)
            except ValueError as exc:
                form[name].errors.append(str(exc))


def problems(details: dict, within: str = "") -> Iterator[tuple[str, object]]:
    """A service's problems as (name, what it says), a nested one named by its path: "platforms.0.callsign"."""
    for name, said in details.items():
        if isinstance(said, dict):
            yield from problems(said, f"{within}{name}.")
        else:
            yield f"{within}{name}", said


def field_for(form: AmendForm, name: str):
    """The form field a service's problem is about (None: the form as a whole)."""
    name = {"latitude": "position", "longitude": "position"}.get(name, name).removeprefix("observed_forces.")
    if name.startswith("platforms."):
        return _platform_field(form, name.removeprefix("platforms."))
    return form[name] if name in form and name != "platforms" else None


def _platform_field(form: AmendForm, path: str):
    """A platform's field named by its place in the list the form sent, which left its empty rows out (platforms_of),
    and its name ("0.callsign"). The service holds it to the rule too: a field the request did not carry keeps the
    row shown, and the form's own check (Optional) passes over it."""
    row, _, key = path.partition(".")
    sent = [entry.form for entry in form.platforms if platforms_of([entry.data])]
    at = int(row) if row.isascii() and row.isdigit() else len(sent)
    return sent[at][key] if at < len(sent) and key in sent[at] else None
