"""An incident's marking: its classification and the counterparts it may be released to.

The marking line ("RESTRICTED // REL TO EASTLAND", "UNCLASSIFIED // NOT RELEASABLE") stands at the
top and bottom of every page, print, e-mail and export that carries the incident, in the shape of
the banner line of a classified document (classification, then the release caveat). The lists come
from the deployment's configuration (CLASSIFICATIONS, RELEASABLE_TO), handed in as a Markings.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import String

from ...errors import ValidationError
from ...models import Incident
from ...sentences import Sentence
from ...text import one_line

NOT_RELEASABLE = "NOT RELEASABLE"
REL_TO = "REL TO "
_STORED_DEFAULT = str(Incident.__table__.c.classification.default.arg)
SEPARATOR = " // "
# Between the marking and the rest of a subject: " // " would read the rest as one more caveat, and a
# space alone would run the last counterpart named into it ("REL TO EASTLAND FLASH ...").
SUBJECT_SEPARATOR = " - "
SUBJECT_LENGTH = 255  # the stored subject's column (models.Notification, models.ExchangeMessage)
# What a subject keeps for what follows the marking: the precedence, reference, DTG and a tail such as
# ESCALATED or LATE, which a message list must show as well.
SUBJECT_REST_ROOM = 64
SUBJECT_MARKING_LENGTH = SUBJECT_LENGTH - len(SUBJECT_SEPARATOR) - SUBJECT_REST_ROOM
# The release caveat of a marking too long for a subject: the text opens and closes with the whole line.
REL_TO_SEE_TEXT = "REL TO (SEE TEXT)"
CLASSIFICATION_LENGTH = cast(String, Incident.__table__.c.classification.type).length or 0  # the column's


@dataclass(frozen=True)
class Markings:
    """The deployment's classifications, lowest first (the first is the default), and the
    counterparts an incident may be released to."""

    classifications: tuple[str, ...] = ("UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL")
    releasable_to: tuple[str, ...] = ("Eastland",)

    @property
    def lowest(self) -> str:
        return self.classifications[0]

    def rank(self, classification: str) -> int:
        """How high a classification stands (0: the lowest); an unknown one ranks above every known one,
        so a value left over from an older configuration is never taken for less than it was."""
        try:
            return self.classifications.index(classification)
        except ValueError:
            return len(self.classifications)


def line(classification: str, releasable_to: Sequence[str] | None) -> str:
    """The marking line: "RESTRICTED // REL TO EASTLAND, WESTLAND" or "UNCLASSIFIED // NOT RELEASABLE"."""
    names = [n.upper() for n in releasable_to or []]
    caveat = f"{REL_TO}{', '.join(names)}" if names else NOT_RELEASABLE
    return f"{classification.upper()}{SEPARATOR}{caveat}"


def read(marking_line: str) -> Sentence:
    """A marking line (line(), as every page is given it, also kept in a brief) with its classification and each
    counterpart's name as values, which the pages isolate: a configured name in Arabic or Hebrew would otherwise
    reorder the list and the caveat around it. A line not in line()'s shape is one value."""
    classification, rel_to, listed = marking_line.partition(f"{SEPARATOR}{REL_TO}")
    if not rel_to:
        classification, not_releasable, rest = marking_line.partition(f"{SEPARATOR}{NOT_RELEASABLE}")
        if not not_releasable or rest:
            return Sentence("{line}", {"line": marking_line})
        return Sentence(f"{{classification}}{SEPARATOR}{NOT_RELEASABLE}", {"classification": classification})
    # Configured names hold no ", " as a rule; one that does is shown as two isolates, its words in order.
    names = {f"name{number}": name for number, name in enumerate(listed.split(", "), start=1)}
    caveat = ", ".join(f"{{{key}}}" for key in names)
    return Sentence(f"{{classification}}{SEPARATOR}{REL_TO}{caveat}", {"classification": classification, **names})


def of(incident: Incident) -> str:
    """The incident's marking line (one not stored yet has its column's default classification)."""
    return line(incident.classification or _STORED_DEFAULT, incident.releasable_to)


def toward(incident: Incident, addressee: str) -> str:
    """The marking line of a text to one addressee: the incident's classification, released to that addressee
    alone. A text to one side never names the other States the incident is released to."""
    return line(incident.classification or _STORED_DEFAULT, [addressee])


def in_subject(marking_line: str) -> str:
    """The marking as a subject carries it: whole when it leaves the rest its room, else its classification
    with "REL TO (SEE TEXT)" (a release to many counterparts, or to one with a long name). Never cut inside:
    a list of counterparts cut short reads as another release, one name cut in two as no name at all; and
    the classification, what says how to handle the message, always stands whole."""
    if len(marking_line) <= SUBJECT_MARKING_LENGTH:
        return marking_line
    classification = marking_line.partition(f"{SEPARATOR}{REL_TO}")[0]
    return f"{classification}{SEPARATOR}{REL_TO_SEE_TEXT}"


def subject(marking_line: str, rest: str) -> str:
    """An e-mail subject that begins with the marking, as a mail client's list shows only the subject:
    "RESTRICTED // REL TO EASTLAND - FLASH INC-2026-00042 ...". One line (a break in a configured name
    is a space), cut at the stored column's length from its end, so the marking is never what is cut
    (one too long to leave the rest its room is shortened to its classification, in_subject)."""
    text = f"{in_subject(marking_line)}{SUBJECT_SEPARATOR}{rest}"
    # isprintable() in C first: one_line looks at each character, at every message of a sweep.
    return (text if text.isprintable() else one_line(text))[:SUBJECT_LENGTH]


def highest(markings: Markings, marks: Iterable[tuple[str, Sequence[str] | None]]) -> str:
    """The marking of a file holding incidents with these (classification, releasable_to) marks: the
    highest classification, releasable only to the counterparts every one of them is releasable to.
    A file with no incident is the lowest classification and releasable to nobody (nothing was checked)."""
    top, common = markings.lowest, None
    for classification, names in marks:
        if markings.rank(classification) > markings.rank(top):
            top = classification
        held = {n.casefold() for n in names or []}
        common = held if common is None else common & held
    kept = [n for n in markings.releasable_to if n.casefold() in (common or set())]
    return line(top, kept)


def releasable_to(incident: Incident, counterpart: str) -> bool:
    """Whether the incident's marking lets it go to this counterpart (names compared without case)."""
    return counterpart.strip().casefold() in {n.casefold() for n in incident.releasable_to or []}


def check(markings: Markings, classification: Any, names: Any) -> tuple[str, list[str]]:
    """Validate a marking against the deployment's lists; return it in their spelling and order.

    Raise ValidationError (422) naming each field with an unknown value.
    """
    problems: dict[str, str] = {}
    spelled = {c.casefold(): c for c in markings.classifications}
    chosen = spelled.get(classification.strip().casefold()) if isinstance(classification, str) else None
    if chosen is None:
        problems["classification"] = f"{classification!r} is not one of {', '.join(markings.classifications)}"
    allowed = {n.casefold(): n for n in markings.releasable_to}
    if not isinstance(names, list | tuple) or not all(isinstance(n, str) for n in names):
        problems["releasable_to"] = "a list of counterpart names"
        wanted: set[str] = set()
    else:
        wanted = {n.strip().casefold() for n in names}
        unknown = sorted(n for n in names if n.strip().casefold() not in allowed)
        if unknown:
            choices = ", ".join(markings.releasable_to) or "none are configured"
            problems["releasable_to"] = f"{', '.join(map(repr, unknown))}: not among {choices}"
    if problems:
        raise ValidationError("the marking is not valid", problems)
    return cast(str, chosen), [n for n in markings.releasable_to if n.casefold() in wanted]
