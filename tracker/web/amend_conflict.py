"""The amend form after a 409 (someone amended the incident since the form was read): the facts as they stand,
except the fields the officer changed, which keep what they typed with what is on record now named beside
each, so that they choose which stands and type nothing again. A field someone else changed meanwhile shows
their value, with what the form sent named beside it: sending the form again never undoes their change
unnoticed."""

from dataclasses import dataclass, field

from wtforms import SelectField

from ..services.incidents import measures, platform_words
from . import amend_forms


@dataclass
class Kept:
    """The form to show again, and the labels of the fields kept as typed (mine) and changed meanwhile (theirs)."""

    form: amend_forms.AmendForm
    mine: list[str] = field(default_factory=list)
    theirs: list[str] = field(default_factory=list)


def fact_of(name: str) -> str:
    """The fact a form field shows: a distance's unit is the distance, a count is the observed forces."""
    return "observed_forces" if name in measures.OBSERVED_FORCES else name.removesuffix("_unit")


def keep(sent: amend_forms.AmendForm, current: dict, others: set[str], platforms_sent: bool, choices) -> Kept:
    """The form to show again: current (amend_forms.initial of the incident as it stands) with the officer's
    changes kept; others: the facts amended since the form was read (amending.facts_amended_since)."""
    # The version read stays behind (the form names the one read now); the addition to the narrative is kept whole.
    differs = amend_forms.changed(sent, current, platforms_sent) - {"version", "narrative_addendum"}
    typed = {name: sent[name].data for name in differs}
    if "platforms" in typed:  # the rows typed, and one empty row to add one while there is room
        rows = [row for row in typed["platforms"] if amend_forms.platforms_of([row])]
        typed["platforms"] = rows + [amend_forms.platform_data({})] * (len(rows) < amend_forms.MAX_PLATFORMS)
    mine = {name for name in differs if fact_of(name) not in others}
    form = amend_forms.AmendForm(formdata=None, data={**current, **{name: typed[name] for name in mine}})
    form.domain.choices = choices
    kept = Kept(form)
    for name in sorted(differs, key=list(current).index):
        target = form[name]
        if name in mine:
            target.on_record = f"On record now: {_said(target, name, current[name])}"
            kept.mine.append(str(target.label.text))
        else:
            target.on_record = f"Changed meanwhile; the form you sent held: {_said(target, name, typed[name])}"
            kept.theirs.append(str(target.label.text))
    return kept


def _said(target, name: str, value) -> str:
    """A field's value as the form shows it, in words: a choice by its label, the platforms one by one."""
    if name == "platforms":
        return "; ".join(platform_words.words(p) for p in amend_forms.platforms_of(value)) or "none"
    if isinstance(target, SelectField):
        value = next((label for option, label, *_ in target.iter_choices() if option == value), value)
    return "–" if value is None or value == "" else str(value)
