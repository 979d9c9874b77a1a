"""Text in either direction on the pages: what people typed kept apart from the words, numbers and references
around it, and each language's text marked with its direction.

Unicode's bidirectional algorithm orders a line by its characters: an Arabic or Hebrew name beside our English
labels, times and references draws them into its own right-to-left run ("INC-2026-00012 <Arabic sector> 14:05Z"
shows the time on the wrong side; a list "A, <Hebrew>, 3" reads in another order). An isolate (HTML's <bdi>, or
dir="auto" on a block of its own) lays the typed text out by itself and leaves its neighbours where they are.
Isolating moves nothing else: a bidirectional control kept before they were refused is still shown as its
marker (tracker.text.shown, the templates' finalize, sees the isolated run as every other value).
"""

from collections.abc import Mapping

from flask import Flask
from markupsafe import Markup, escape

from ..errors import TrackerError
from ..models.labels import detail_lines
from ..sentences import Sentence
from ..services.exchanges.catalogues import direction


def isolated(value) -> Markup:
    """The text as a run laid out by itself (<bdi>, its direction its own first strong letter's), or nothing for
    None or an empty text, so that `x|bdi or '–'` still reads the dash."""
    if value is None or value == "":
        return Markup("")
    return Markup("<bdi>{}</bdi>").format(value)


def isolated_text(value) -> Markup:
    """The text isolated where no element may stand, a page's <title> (read as text, so a <bdi> would be shown):
    between U+2068 FIRST STRONG ISOLATE and U+2069 POP DIRECTIONAL ISOLATE, which lay it out as <bdi> does. They
    are written as character references, which the browser reads as the characters and the templates' finalize
    (text.shown, which shows a stored control as its marker) leaves be; nothing for None or an empty text."""
    if value is None or value == "":
        return Markup("")
    return Markup("&#x2068;{}&#x2069;").format(value)


def formatted(text: str, /, **values) -> Markup:
    """A sentence of ours (a catalogue's translation, say) with its {placeholders} filled in: its words escaped as
    any printed text, each value escaped unless it is markup already (an isolated(...) run)."""
    return Markup(escape(text)).format(**values)


def said(text: str, /, **typed) -> Markup:
    """A line of ours (a flash, say) naming what people typed: our words escaped, each value isolated; a value
    that is markup already (isolated_list's names, a marking shown) goes in as it is."""
    return formatted(
        text, **{name: value if isinstance(value, Markup) else isolated(value) for name, value in typed.items()}
    )


def isolated_list(names, empty: str = "") -> Markup:
    """Names as a list, "A, B", each isolated (a Hebrew name would draw the comma and the next name into its
    run); empty when there are none."""
    return Markup(", ").join(map(isolated, names)) or Markup(escape(empty))


def isolated_sentence(sentence: Sentence | Mapping | None) -> Markup:
    """A Sentence (or one as a snapshot keeps it, Sentence.as_json) with each of its values isolated: the words
    around a name typed in Arabic or Hebrew stay where they are. Nothing for None or undefined, so that
    `c.parts|sentence or c.what` reads a snapshot taken before its sentences were kept apart."""
    if not sentence:  # None, or no parts in the snapshot (Jinja's undefined)
        return Markup("")
    if not isinstance(sentence, Sentence):
        sentence = Sentence.from_json(sentence)
    return said(sentence.text, **sentence.values)


def told(error: TrackerError) -> Markup:
    """A service's refusal as a page says it (a flash, a line beside a field): our words escaped, each name it
    quotes isolated (TrackerError.sentence); the plain message when it names nothing typed."""
    return isolated_sentence(error.sentence) if error.sentence is not None else Markup(escape(error.message))


def isolated_details(details: dict | None) -> Markup:
    """A timeline event's facts on one line as models.labels.details_text says them, each value isolated: a
    comment or a line's name typed in Arabic would otherwise draw the "; " and the next fact into its run."""
    facts = [Markup("{}: {}").format(what, isolated(value)) for what, value in detail_lines(details)]
    return Markup("; ").join(facts) or Markup("–")


def language_attributes(language: str | None) -> dict[str, str]:
    """The lang and dir of an element holding text in the language: every page that names a language says its
    direction too (`<section{{ language_attributes(code)|xmlattr }}>`, or a field's keywords). None for none named."""
    return {"lang": language, "dir": direction(language)} if language else {}


def init_app(app: Flask) -> None:
    app.add_template_filter(isolated, "bdi")
    app.add_template_filter(isolated_text, "bdi_text")
    app.add_template_filter(isolated_details, "details_text")
    app.add_template_filter(isolated_sentence, "sentence")
    app.add_template_global(language_attributes, "language_attributes")
